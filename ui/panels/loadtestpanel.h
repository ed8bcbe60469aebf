#pragma once

#include <QJsonObject>
#include <QWidget>

class QChart;
class QChartView;
class QLabel;
class QLineSeries;
class QProgressBar;
class QPushButton;
class QScatterSeries;
class QSpinBox;
class QValueAxis;

// The stepped load test (DESIGN.md §2 LocustRunner, ThroughputMonitor): users
// per step, step duration, steps, start/stop, live progress, and the
// throughput curve (achieved req/s and p95 against users) with the
// inflection point marked. It only shows LoadTestController::status() and
// asks for start/stop; the MainWindow does the wiring.
//
// Thread: UI thread.
class LoadTestPanel : public QWidget
{
    Q_OBJECT
public:
    explicit LoadTestPanel(QWidget *parent = nullptr);

    QSpinBox *usersPerStep() const { return m_users; }
    QSpinBox *stepSeconds() const { return m_stepSeconds; }
    QSpinBox *steps() const { return m_steps; }
    QPushButton *startButton() const { return m_start; }
    QPushButton *stopButton() const { return m_stop; }
    QProgressBar *progress() const { return m_progress; }
    QChartView *curveView() const { return m_curveView; }
    QLabel *resultLabel() const { return m_result; }
    int curvePoints() const; // points on the achieved-throughput line

public slots:
    // Disables the panel with `reason` as the tooltip (e.g. no gateway running).
    void setAvailable(bool available, const QString &reason = QString());
    // A LoadTestController::status() object (also the stream's `loadtest` event).
    void setStatus(const QJsonObject &status);
    void showError(const QString &message);

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
    QLabel *m_result = nullptr;
    QChart *m_chart = nullptr;
    QChartView *m_curveView = nullptr;
    QLineSeries *m_achieved = nullptr;
    QLineSeries *m_p95 = nullptr;
    QScatterSeries *m_knee = nullptr;
    QValueAxis *m_axisUsers = nullptr;
    QValueAxis *m_axisRps = nullptr;
    QValueAxis *m_axisMs = nullptr;
    bool m_available = false;
    bool m_running = false;
};
