#pragma once

#include "core/drift/performancebaseline.h"
#include "core/loadtest/loadsamplelog.h"

#include <QElapsedTimer>
#include <QFile>
#include <QMap>
#include <QObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTimer>
#include <QUrl>

#include <memory>
#include <vector>

// Runs Locust (Debian's /usr/bin/locust, 2.12.1) as child processes against a
// gateway and follows it live (DESIGN.md §2): a stepped load
// (loadtest/locustfile.py's StepLoadShape, configured through the
// environment) or a driven one (DrivenShape: setUsers() changes the users of
// the running test; the knee search), the `_stats_history.csv` tailed twice
// a second into progress events, one client-side BaselineStep per completed
// step of a stepped load, and the per-second samples plus the CPU of every
// Locust process in samples() (LoadSampleLog).
//
// Distributed: with plan.workers = K > 0 it runs `locust --master
// --expect-workers K` bound to 127.0.0.1 on a free port and K local `locust
// --worker` processes (one Locust process is one core: about 1.5k req/s
// against a stub here). The runner starts, watches and stops them all: a
// master that exits takes its workers with it (SIGTERM, then SIGKILL), a
// worker that dies while the test runs fails the run and stops the rest,
// stop() ends every one by its PID, and each child gets SIGTERM should the
// thread that started it die (PR_SET_PDEATHSIG). finished() comes once every
// process has ended. K = 0 is one process, as before.
//
// Errors are reported, never swallowed: Locust missing or not executable,
// the locustfile missing, a Locust process exiting non-zero or a worker
// exiting early (its stderr tail is in the message), or no history written.
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
    int workers = 0;             // local Locust workers under a master; 0 = one Locust process
    bool driven = false;         // users come from setUsers() (startUsers first), not from the step plan
    int expectWorkersSeconds = 30; // how long the master waits for its workers before giving up

    int usersAt(int step) const { return (startUsers > 0 ? startUsers : usersPerStep) + step * usersPerStep; }
    // CPU cores - 1, at least 0: the default of `--locust-workers` and the
    // console's. One Locust process saturates one core; one core is left to
    // the master, the gateway and the rest.
    static int defaultWorkers();
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
    // A stepped load: SIGTERM, then SIGKILL after plan.stopGraceMs. A driven
    // one: asks the shape to stop first, which lets Locust write its last
    // rows; SIGTERM if it has not ended 2 s later. finished() follows.
    void stop();
    bool isRunning() const;
    // Driven load only: the users wanted from now on (0 or more); false with
    // *error when the runner is not driven or the shape file cannot be written.
    bool setUsers(int users, QString *error);
    // Every Locust process still running (the master or single one first).
    QList<qint64> processIds() const;
    // What Locust did second by second, and its CPU (cleared at start()).
    const LoadSampleLog &samples() const { return m_samples; }

    const LoadTestPlan &plan() const { return m_plan; }
    QList<BaselineStep> steps() const { return m_steps; } // completed steps so far
    QString historyPath() const;                          // the CSV being tailed
    QString samplesPath() const;                          // the per-second samples being tailed
    static QString defaultLocustfile();

signals:
    void progressed(const LoadTestProgress &progress);
    void stepCompleted(int index, const BaselineStep &clientSide);
    // New lines were added to samples().
    void sampled();
    void finished(bool ok, const QString &error);

private:
    struct Child {
        std::unique_ptr<QProcess> process;
        LocustProcessRole role = LocustProcessRole::Single;
        int index = 0;            // worker number, from 1
        qint64 pid = 0;
        QByteArray stderrTail;
        bool ended = false;
    };
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
    void pollSamples();
    void sampleCpu();
    bool startChild(LocustProcessRole role, int index, const QStringList &args, const QProcessEnvironment &env);
    void onChildFinished(Child *child, int exitCode, QProcess::ExitStatus status);
    void fail(const QString &error);
    void terminateAll();
    void finish();
    bool writeShape(const QByteArray &text, QString *error);
    bool setUsersFile(int users, QString *error);
    QString describe(const Child &child) const;
    void closeStep(int step, const Row &last);
    static bool parseRow(const QByteArray &line, const QList<QByteArray> &header, Row *row);

    LoadTestPlan m_plan;
    std::vector<std::unique_ptr<Child>> m_children; // [0] the master or single process, then the workers
    std::unique_ptr<QTemporaryDir> m_dir;
    QTimer m_poll;
    QTimer m_term;   // SIGTERM to whatever still runs
    QTimer m_kill;   // SIGKILL to whatever still runs
    QElapsedTimer m_clock;
    QFile m_history;
    QByteArray m_pending;
    QFile m_samplesFile;
    QByteArray m_samplesPending;
    LoadSampleLog m_samples;
    QList<QByteArray> m_header;
    QString m_failure;       // the first error; finished(false, it) once all have ended
    bool m_finished = true;
    qint64 m_firstTimestamp = -1;
    int m_currentStep = -1;
    Row m_stepStart;
    Row m_lastRow;
    QList<BaselineStep> m_steps;
    bool m_stopping = false;
};
