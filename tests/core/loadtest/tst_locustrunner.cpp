// LocustRunner with real Locust (/usr/bin/locust) against the real
// GeminiSimulator on loopback: progress, per-step curve, complete CSV history,
// clean stop, and clear errors.
#include "core/loadtest/locustrunner.h"
#include "server/simulator/geminisimulator.h"

#include <QFile>
#include <QSignalSpy>
#include <QTest>

namespace {

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
};

QTEST_GUILESS_MAIN(TestLocustRunner)
#include "tst_locustrunner.moc"
