// LocustRunner with real Locust (/usr/bin/locust) against the real
// GeminiSimulator on loopback: progress, per-step curve, complete CSV history,
// clean stop, and clear errors; distributed (a master and a worker) with the
// generator's CPU per step, a driven load following setUsers(), and no
// Locust process left behind when one of them dies.
#include "core/loadtest/locustrunner.h"
#include "server/simulator/geminisimulator.h"

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTest>

#include <csignal>

namespace {

bool processExists(qint64 pid)
{
    return QDir(QStringLiteral("/proc/%1").arg(pid)).exists();
}

int aggregatedRows(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    int n = 0;
    while (!f.atEnd())
        if (f.readLine().contains(",Aggregated,"))
            ++n;
    return n;
}

SimulatorConfig fastSimulator()
{
    SimulatorConfig c;
    c.baseLatencyMs = 20;
    c.tokensPerSecond = 0;
    c.jitterSigma = 0;
    c.embedLatencyMs = 5;
    return c;
}

// A driven run (users set by setUsers) of 2 users on a master and one worker.
LoadTestPlan drivenOnAWorker(const GeminiSimulator &sim)
{
    LoadTestPlan plan;
    plan.target = sim.baseUrl();
    plan.driven = true;
    plan.startUsers = 2;
    plan.workers = 1;
    return plan;
}

} // namespace

class TestLocustRunner : public QObject
{
    Q_OBJECT
private slots:
    void missingLocustIsAClearError()
    {
        LocustRunner runner;
        LoadTestPlan plan;
        plan.target = QUrl(QStringLiteral("http://127.0.0.1:9"));
        plan.locustPath = QStringLiteral("/nonexistent/locust");
        QString error;
        QVERIFY(!runner.start(plan, &error));
        QVERIFY2(error.contains(QStringLiteral("python3-locust")), qPrintable(error));
        QVERIFY(error.contains(QStringLiteral("/nonexistent/locust")));
    }

    void badPlanIsRefused()
    {
        LocustRunner runner;
        LoadTestPlan plan;
        plan.target = QUrl(QStringLiteral("http://127.0.0.1:9"));
        plan.steps = 0;
        QString error;
        QVERIFY(!runner.start(plan, &error));
        QVERIFY(error.contains(QStringLiteral("steps")));
        plan.steps = 1;
        plan.locustfile = QStringLiteral("/nonexistent/locustfile.py");
        QVERIFY(!runner.start(plan, &error));
        QVERIFY(error.contains(QStringLiteral("/nonexistent/locustfile.py")));
    }

    void locustErrorShowsItsStderr()
    {
        // A locustfile that raises: Locust exits non-zero and the message carries its stderr.
        QTemporaryDir dir;
        const QString broken = dir.filePath(QStringLiteral("broken.py"));
        QFile f(broken);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("raise RuntimeError('deliberately broken locustfile')\n");
        f.close();
        LocustRunner runner;
        QSignalSpy finished(&runner, &LocustRunner::finished);
        LoadTestPlan plan;
        plan.target = QUrl(QStringLiteral("http://127.0.0.1:9"));
        plan.locustfile = broken;
        QString error;
        QVERIFY2(runner.start(plan, &error), qPrintable(error));
        QVERIFY(finished.wait(30000));
        QCOMPARE(finished.at(0).at(0).toBool(), false);
        QVERIFY2(finished.at(0).at(1).toString().contains(QStringLiteral("deliberately broken")),
                 qPrintable(finished.at(0).at(1).toString()));
    }

    void steppedRunBuildsTheCurve()
    {
        GeminiSimulator sim(fastSimulator());
        QVERIFY(sim.start());
        LocustRunner runner;
        QSignalSpy progressed(&runner, &LocustRunner::progressed);
        QSignalSpy stepped(&runner, &LocustRunner::stepCompleted);
        QSignalSpy finished(&runner, &LocustRunner::finished);
        LoadTestPlan plan;
        plan.target = sim.baseUrl();
        plan.steps = 3;
        plan.stepSeconds = 3;
        plan.usersPerStep = 2;
        QString error;
        QVERIFY2(runner.start(plan, &error), qPrintable(error));
        QVERIFY(finished.wait(60000));
        QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(finished.at(0).at(1).toString()));

        const QList<BaselineStep> steps = runner.steps();
        QCOMPARE(steps.size(), 3);
        QCOMPARE(stepped.size(), 3);
        for (int i = 0; i < steps.size(); ++i) {
            QVERIFY2(steps[i].achievedRps > 5, qPrintable(QString::number(steps[i].achievedRps)));
            QVERIFY(steps[i].p50Ms > 0);
            QVERIFY(steps[i].errorRate < 0.05);
            if (i > 0)
                QVERIFY(steps[i].users >= steps[i - 1].users);
        }
        QVERIFY(steps.last().users == 6);
        QVERIFY(progressed.size() >= 5);
        // Complete history: a row per second for the whole run (stock Locust
        // 2.12.1 keeps only what it flushed every 10 s), the final row included.
        QVERIFY2(aggregatedRows(runner.historyPath()) >= 8, qPrintable(QString::number(aggregatedRows(runner.historyPath()))));
        QVERIFY(sim.stats().requests > 0);
    }

    void stopKeepsTheHistory()
    {
        GeminiSimulator sim(fastSimulator());
        QVERIFY(sim.start());
        LocustRunner runner;
        QSignalSpy progressed(&runner, &LocustRunner::progressed);
        QSignalSpy finished(&runner, &LocustRunner::finished);
        LoadTestPlan plan;
        plan.target = sim.baseUrl();
        plan.steps = 1;
        plan.stepSeconds = 60;
        plan.usersPerStep = 2;
        QString error;
        QVERIFY2(runner.start(plan, &error), qPrintable(error));
        QTRY_VERIFY_WITH_TIMEOUT(progressed.size() >= 4, 30000);
        runner.stop();
        QVERIFY(finished.wait(30000));
        QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(finished.at(0).at(1).toString()));
        // A SIGTERM'd stock Locust keeps one row; this one keeps every second.
        QVERIFY2(aggregatedRows(runner.historyPath()) >= 4, qPrintable(QString::number(aggregatedRows(runner.historyPath()))));
        QCOMPARE(runner.steps().size(), 1);
        QVERIFY(!runner.isRunning());
    }

    void distributedRunWithOneWorker()
    {
        // A master and one worker: the same stepped curve, and per step the
        // CPU of both Locust processes.
        GeminiSimulator sim(fastSimulator());
        QVERIFY(sim.start());
        LocustRunner runner;
        QSignalSpy finished(&runner, &LocustRunner::finished);
        LoadTestPlan plan;
        plan.target = sim.baseUrl();
        plan.steps = 2;
        plan.stepSeconds = 3;
        plan.usersPerStep = 2;
        plan.workers = 1;
        QString error;
        QVERIFY2(runner.start(plan, &error), qPrintable(error));
        const QList<qint64> pids = runner.processIds();
        QCOMPARE(pids.size(), 2);
        QVERIFY(finished.wait(60000));
        QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(finished.at(0).at(1).toString()));
        const QList<BaselineStep> steps = runner.steps();
        QCOMPARE(steps.size(), 2);
        QCOMPARE(steps.last().users, 4);
        for (const BaselineStep &s : steps) {
            QVERIFY2(s.achievedRps > 5, qPrintable(QString::number(s.achievedRps)));
            QVERIFY(s.generator.has_value());
            QCOMPARE(s.generator->processes, 2);
            QCOMPARE(s.generator->workers, 1);
            QVERIFY(s.generator->cpuCores > 0);
            QVERIFY(!s.generator->bound);
        }
        // Every Locust process has ended.
        QVERIFY(runner.processIds().isEmpty());
        for (qint64 pid : pids)
            QVERIFY2(!processExists(pid), qPrintable(QString::number(pid)));
    }

    void drivenLoadFollowsSetUsers()
    {
        // The driven shape on a master with one worker: the users change while
        // Locust runs, and the per-second samples measure each level.
        GeminiSimulator sim(fastSimulator());
        QVERIFY(sim.start());
        LocustRunner runner;
        QSignalSpy finished(&runner, &LocustRunner::finished);
        LoadTestPlan plan = drivenOnAWorker(sim);
        QString error;
        QVERIFY(!runner.setUsers(3, &error)); // not running yet
        QVERIFY2(runner.start(plan, &error), qPrintable(error));
        const auto users = [&] { return runner.samples().isEmpty() ? -1 : runner.samples().latest().users; };
        QTRY_COMPARE_WITH_TIMEOUT(users(), 2, 20000);
        const double twoFrom = runner.samples().latest().time + 1;
        QTRY_VERIFY_WITH_TIMEOUT(runner.samples().settledUntil() >= std::ceil(twoFrom) + 3, 10000);
        const WindowFigures two = runner.samples().window(twoFrom, runner.samples().settledUntil());
        QVERIFY2(runner.setUsers(6, &error), qPrintable(error));
        QTRY_COMPARE_WITH_TIMEOUT(users(), 6, 10000);
        QCOMPARE(runner.samples().latest().targetUsers, 6);
        const double sixFrom = runner.samples().latest().time + 1;
        QTRY_VERIFY_WITH_TIMEOUT(runner.samples().settledUntil() >= std::ceil(sixFrom) + 3, 10000);
        const WindowFigures six = runner.samples().window(sixFrom, runner.samples().settledUntil());
        // 20 ms answers: each user makes about 40 req/s; three times the users, about three times the throughput.
        QVERIFY2(two.achievedRps > 20, qPrintable(QString::number(two.achievedRps)));
        QVERIFY2(six.achievedRps > 2 * two.achievedRps, qPrintable(QStringLiteral("%1 vs %2").arg(six.achievedRps).arg(two.achievedRps)));
        QVERIFY(six.p95Ms >= 20);
        QVERIFY(six.generator.has_value());
        QCOMPARE(six.generator->workers, 1);
        runner.stop();
        QVERIFY(finished.wait(15000));
        QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(finished.at(0).at(1).toString()));
        QVERIFY(runner.processIds().isEmpty());
    }

    void workerDeathFailsTheRunAndEndsTheMaster()
    {
        GeminiSimulator sim(fastSimulator());
        QVERIFY(sim.start());
        LocustRunner runner;
        QSignalSpy finished(&runner, &LocustRunner::finished);
        LoadTestPlan plan = drivenOnAWorker(sim);
        QString error;
        QVERIFY2(runner.start(plan, &error), qPrintable(error));
        const QList<qint64> pids = runner.processIds();
        QTRY_VERIFY_WITH_TIMEOUT(!runner.samples().isEmpty() && runner.samples().latest().users == 2, 20000);
        ::kill(pid_t(pids.at(1)), SIGKILL);
        QVERIFY(finished.wait(15000));
        QCOMPARE(finished.at(0).at(0).toBool(), false);
        QVERIFY2(finished.at(0).at(1).toString().contains(QStringLiteral("Locust worker 1")),
                 qPrintable(finished.at(0).at(1).toString()));
        for (qint64 pid : pids)
            QVERIFY2(!processExists(pid), qPrintable(QString::number(pid)));
    }

    void masterDeathTakesItsWorkers()
    {
        GeminiSimulator sim(fastSimulator());
        QVERIFY(sim.start());
        LocustRunner runner;
        QSignalSpy finished(&runner, &LocustRunner::finished);
        LoadTestPlan plan = drivenOnAWorker(sim);
        plan.stopGraceMs = 2000;
        QString error;
        QVERIFY2(runner.start(plan, &error), qPrintable(error));
        const QList<qint64> pids = runner.processIds();
        QTRY_VERIFY_WITH_TIMEOUT(!runner.samples().isEmpty() && runner.samples().latest().users == 2, 20000);
        ::kill(pid_t(pids.at(0)), SIGKILL);
        QVERIFY(finished.wait(15000));
        QCOMPARE(finished.at(0).at(0).toBool(), false);
        QVERIFY2(finished.at(0).at(1).toString().contains(QStringLiteral("the Locust master crashed")),
                 qPrintable(finished.at(0).at(1).toString()));
        for (qint64 pid : pids)
            QVERIFY2(!processExists(pid), qPrintable(QString::number(pid)));
    }
};

QTEST_GUILESS_MAIN(TestLocustRunner)
#include "tst_locustrunner.moc"
