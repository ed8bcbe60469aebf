#pragma once

#include <QWidget>

class QChartView;
class QProgressBar;
class QPushButton;
class QSpinBox;

// The stepped load test (DESIGN.md §2 LocustRunner, ThroughputMonitor):
// users per step, step duration, steps, start/stop, progress and the
// throughput-curve chart. Placed now but disabled ("arrives with the
// load-test feature"): it is wired when LocustRunner exists.
//
// Thread: UI thread.
class LoadTestPanel : public QWidget
{
    Q_OBJECT
public:
    explicit LoadTestPanel(QWidget *parent = nullptr);

    static QString unavailableReason(); // the tooltip of every disabled part

    QSpinBox *usersPerStep() const { return m_users; }
    QSpinBox *stepSeconds() const { return m_stepSeconds; }
    QSpinBox *steps() const { return m_steps; }
    QPushButton *startButton() const { return m_start; }
    QPushButton *stopButton() const { return m_stop; }
    QProgressBar *progress() const { return m_progress; }
    QChartView *curveView() const { return m_curve; }

public slots:
    void setAvailable(bool available);

signals:
    void startRequested(int usersPerStep, int stepSeconds, int steps);
    void stopRequested();

private:
    QSpinBox *m_users = nullptr;
    QSpinBox *m_stepSeconds = nullptr;
    QSpinBox *m_steps = nullptr;
    QPushButton *m_start = nullptr;
    QPushButton *m_stop = nullptr;
    QProgressBar *m_progress = nullptr;
    QChartView *m_curve = nullptr;
};
