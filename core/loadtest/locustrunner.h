#pragma once

#include "core/drift/performancebaseline.h"

#include <QElapsedTimer>
#include <QFile>
#include <QMap>
#include <QObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTimer>
#include <QUrl>

#include <memory>

// Runs Locust (Debian's /usr/bin/locust, 2.12.1) as a child process against a
// gateway and follows it live (DESIGN.md §2): a stepped load
// (loadtest/locustfile.py's StepLoadShape, configured through the
// environment), the `_stats_history.csv` tailed once a second into progress
// events, and one client-side BaselineStep per completed step.
//
// Errors are reported, never swallowed: Locust missing or not executable,
// the locustfile missing, Locust exiting non-zero (its stderr tail is in the
// message), or no history written.
//
// Thread: lives on the thread that created it (QProcess and timers); use it
// from that thread only.

struct LoadTestPlan {
    QUrl target;                 // the gateway's base URL
    int startUsers = 0;          // 0 = usersPerStep
    int usersPerStep = 10;
    int steps = 5;
    int stepSeconds = 10;
    int spawnRate = 0;           // users started per second; 0 = a whole step at once
    QString model = QStringLiteral("gemini-2.0-flash");
    QMap<QString, QString> mix;  // extra SLUICE_* variables for the locustfile (e.g. SLUICE_MIX_EMBED=0)
    QString locustPath = QStringLiteral("/usr/bin/locust");
    QString locustfile;          // empty: the repository's loadtest/locustfile.py (SLUICE_LOCUSTFILE overrides)
    int stopGraceMs = 5000;      // SIGTERM, then SIGKILL after this long

    int usersAt(int step) const { return (startUsers > 0 ? startUsers : usersPerStep) + step * usersPerStep; }
    QJsonObject toJson() const;  // the baseline's loadProfile
};

struct LoadTestProgress {
    int step = 0;        // 0-based step the latest row belongs to
    int steps = 0;
    int users = 0;
    double elapsedSeconds = 0;
    double requestsPerSecond = 0;
    double failuresPerSecond = 0;
    double p50Ms = 0;
    double p95Ms = 0;
    double p99Ms = 0;
    quint64 requests = 0;
    quint64 failures = 0;

    QJsonObject toJson() const;
};

Q_DECLARE_METATYPE(LoadTestProgress)

class LocustRunner : public QObject
{
    Q_OBJECT
public:
    explicit LocustRunner(QObject *parent = nullptr);
    ~LocustRunner() override; // kills a still-running Locust

    // Starts Locust; returns false with *error naming what is missing.
    bool start(const LoadTestPlan &plan, QString *error);
    // SIGTERM, then SIGKILL after plan.stopGraceMs; finished() follows.
    void stop();
    bool isRunning() const;

    const LoadTestPlan &plan() const { return m_plan; }
    QList<BaselineStep> steps() const { return m_steps; } // completed steps so far
    QString historyPath() const;                          // the CSV being tailed
    static QString defaultLocustfile();

signals:
    void progressed(const LoadTestProgress &progress);
    void stepCompleted(int index, const BaselineStep &clientSide);
    void finished(bool ok, const QString &error);

private:
    struct Row {
        qint64 timestamp = 0;
        int users = 0;
        double rps = 0;
        double failuresPerSecond = 0;
        double p50 = 0, p95 = 0, p99 = 0;
        quint64 requests = 0;
        quint64 failures = 0;
    };
    void poll();
    void onFinished(int exitCode, QProcess::ExitStatus status);
    void closeStep(int step, const Row &last);
    static bool parseRow(const QByteArray &line, const QList<QByteArray> &header, Row *row);

    LoadTestPlan m_plan;
    std::unique_ptr<QProcess> m_process;
    std::unique_ptr<QTemporaryDir> m_dir;
    QTimer m_poll;
    QTimer m_kill;
    QElapsedTimer m_clock;
    QFile m_history;
    QByteArray m_pending;
    QList<QByteArray> m_header;
    QByteArray m_stderrTail;
    qint64 m_firstTimestamp = -1;
    int m_currentStep = -1;
    Row m_stepStart;
    Row m_lastRow;
    QList<BaselineStep> m_steps;
    bool m_stopping = false;
};
