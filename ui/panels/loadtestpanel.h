#pragma once

#include <QJsonObject>
#include <QWidget>

class QChart;
class QChartView;
class QLabel;
class QLineSeries;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QScatterSeries;
class QSpinBox;
class QValueAxis;

// The load test (DESIGN.md §2 LocustRunner, ThroughputMonitor, KneeSearch):
// users per step, step duration, steps and Start for fixed steps; "Find knee"
// with its time budget for the knee search (the same search as `sluice
// --capture-baseline FILE`); Locust workers for both; Stop; live progress,
// one line per measured step of a search (users, req/s, p95, errors, the
// load generator's CPU, the decision), the throughput curve (achieved req/s
// and p95 against users, sorted by users) with the knee marked and
// load-generator-bound steps crossed out, and "Save baseline…" once a run
// has produced one. It only shows LoadTestController::status() and asks for
// start/search/stop/save; the MainWindow does the wiring.
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
    QSpinBox *workers() const { return m_workers; }        // Locust workers; 0 = one Locust process
    QSpinBox *searchSeconds() const { return m_searchSeconds; } // the knee search's budget
    QPushButton *startButton() const { return m_start; }
    QPushButton *findKneeButton() const { return m_findKnee; }
    QPushButton *stopButton() const { return m_stop; }
    QPushButton *saveButton() const { return m_save; }
    QProgressBar *progress() const { return m_progress; }
    QChartView *curveView() const { return m_curveView; }
    QLabel *resultLabel() const { return m_result; }
    QPlainTextEdit *stepLog() const { return m_log; }      // a search's lines, one per step
    int curvePoints() const; // points on the achieved-throughput line
    QList<QPointF> curve() const; // (users, achieved req/s), as drawn
    int generatorBoundPoints() const;

public slots:
    // Disables the panel with `reason` as the tooltip (e.g. no gateway running).
    void setAvailable(bool available, const QString &reason = QString());
    // A LoadTestController::status() object (also the stream's `loadtest` event).
    void setStatus(const QJsonObject &status);
    void showError(const QString &message);
    // Enables "Save baseline…" (a baseline exists to save).
    void setSaveAvailable(bool available);

signals:
    void startRequested(int usersPerStep, int stepSeconds, int steps);
    void findKneeRequested(int maxSeconds);
    void stopRequested();
    void saveRequested();

private:
    QSpinBox *m_users = nullptr;
    QSpinBox *m_stepSeconds = nullptr;
    QSpinBox *m_steps = nullptr;
    QSpinBox *m_workers = nullptr;
    QSpinBox *m_searchSeconds = nullptr;
    QPushButton *m_start = nullptr;
    QPushButton *m_findKnee = nullptr;
    QPushButton *m_stop = nullptr;
    QPushButton *m_save = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_result = nullptr;
    QPlainTextEdit *m_log = nullptr;
    QScatterSeries *m_bound = nullptr;
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
