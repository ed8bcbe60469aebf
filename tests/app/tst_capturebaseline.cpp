// `sluice --capture-baseline` end to end: real Locust loads the embedded
// gateway, whose upstream is a GeminiSimulator with a small, computable
// capacity. A short stepped run (default set) writes a PerformanceBaseline
// that loads back with the plan, the configuration and a healthy state the
// drift detector accepts; the knee search (default set, --max-seconds 40,
// Locust as a master and a worker) stops within its budget and writes the
// knee at that capacity with its steps; the long stepped run (soak) finds
// the knee too.
#include "core/drift/latencydriftsignal.h"
#include "core/drift/performancebaseline.h"
#include "tests/support/soak.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

namespace {
const QString kSluice = QStringLiteral(SLUICE_BINARY_DIR "/app/sluice");

// Capacity: K = 4 concurrent generations of 250 ms each = 16 req/s.
// fanout + batches of 1, so every agent request is one upstream call.
constexpr int K = 4;
constexpr double serviceSeconds = 0.25;
constexpr double capacity = K / serviceSeconds;
} // namespace

class TestCaptureBaseline : public QObject
{
    Q_OBJECT

private:
    // Runs `sluice --capture-baseline` with `steps` steps of `stepSeconds` s,
    // +2 users per step, against the capacity above; loads the baseline it
    // wrote into *b and its log into *log.
    void capture(int steps, int stepSeconds, PerformanceBaseline *b, QString *log)
    {
        capture({QStringLiteral("--steps"), QString::number(steps), QStringLiteral("--step-seconds"),
                 QString::number(stepSeconds), QStringLiteral("--users-per-step"), QStringLiteral("2")},
                b, log);
        if (!QTest::currentTestFailed())
            QVERIFY2(log->contains(QStringLiteral("step %1 done").arg(steps)), qPrintable(*log));
    }

    // Runs `sluice --capture-baseline` with `args`; *elapsedMs is its wall time.
    void capture(const QStringList &args, PerformanceBaseline *b, QString *log, qint64 *elapsedMs = nullptr)
    {
        QTemporaryDir dir;
        const QString config = dir.filePath(QStringLiteral("sluice.json"));
        QFile f(config);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QJsonDocument(QJsonObject{
                                  {QStringLiteral("simulator"), QJsonObject{{QStringLiteral("maxConcurrent"), K},
                                                                            {QStringLiteral("baseLatencyMs"), serviceSeconds * 1000},
                                                                            {QStringLiteral("tokensPerSecond"), 0},
                                                                            {QStringLiteral("jitterSigma"), 0}}},
                                  {QStringLiteral("engine"), QJsonObject{{QStringLiteral("packing"), QStringLiteral("fanout")},
                                                                         {QStringLiteral("maxBatchSize"), 1},
                                                                         {QStringLiteral("maxWaitMs"), 0},
                                                                         // as many in flight as the upstream serves, so excess load queues in Sluice (visible as queue depth)
                                                                         {QStringLiteral("maxInflightBatches"), K}}}})
                    .toJson());
        f.close();
        const QString out = dir.filePath(QStringLiteral("baseline.json"));

        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("SLUICE_MIX_LONG"), QStringLiteral("0"));
        env.insert(QStringLiteral("SLUICE_MIX_STREAM"), QStringLiteral("0"));
        env.insert(QStringLiteral("SLUICE_MIX_EMBED"), QStringLiteral("0"));
        env.remove(QStringLiteral("GEMINI_API_KEY"));
        p.setProcessEnvironment(env);
        QElapsedTimer clock;
        clock.start();
        p.start(kSluice, QStringList{QStringLiteral("--capture-baseline"), out, QStringLiteral("--config"), config} + args);
        QVERIFY(p.waitForFinished(120000));
        if (elapsedMs)
            *elapsedMs = clock.elapsed();
        *log = QString::fromUtf8(p.readAllStandardError());
        QVERIFY2(p.exitCode() == 0, qPrintable(*log));

        QString error;
        QVERIFY2(PerformanceBaseline::load(out, b, &error), qPrintable(error));
    }

private slots:
    // Default set (2 steps of 3 s): the written baseline carries the plan, the
    // configuration in force and a healthy state the drift detector accepts.
    void captureWritesALoadableBaseline()
    {
        PerformanceBaseline b;
        QString log;
        capture(2, 3, &b, &log);
        if (QTest::currentTestFailed())
            return;

        QCOMPARE(b.steps.size(), 2);
        QCOMPARE(b.loadProfile.value(QStringLiteral("tool")).toString(), QStringLiteral("locust"));
        QCOMPARE(b.loadProfile.value(QStringLiteral("steps")).toInt(), 2);
        QCOMPARE(b.loadProfile.value(QStringLiteral("stepSeconds")).toInt(), 3);
        QCOMPARE(b.loadProfile.value(QStringLiteral("usersPerStep")).toInt(), 2);
        QCOMPARE(b.config.value(QStringLiteral("packing")).toString(), QStringLiteral("fanout"));
        QCOMPARE(b.config.value(QStringLiteral("maxInflightBatches")).toInt(), K);
        QVERIFY2(b.steps.first().achievedRps > 0, qPrintable(log));
        // The healthy state is the gateway's own measurement: no faster than
        // the simulator's service time, and usable by the drift detector.
        QVERIFY2(b.healthy.p50Ms > serviceSeconds * 1000 * 0.9, qPrintable(QString::number(b.healthy.p50Ms)));
        QCOMPARE(b.healthy.histogram.counts.size(), b.healthy.histogram.boundsMs.size() + 1);
        LatencyDriftSignal drift;
        drift.setBaseline(b);
        QVERIFY(drift.hasBaseline());
    }

    // The knee search (no step options) within --max-seconds 40: one line per
    // step, the knee at the simulator's capacity (4 users each waiting 250 ms
    // make it), the search and the generator recorded in the baseline.
    void searchFindsTheKneeWithinItsBudget()
    {
        PerformanceBaseline b;
        QString log;
        qint64 elapsedMs = 0;
        capture({QStringLiteral("--max-seconds"), QStringLiteral("40"), QStringLiteral("--locust-workers"), QStringLiteral("1")},
                &b, &log, &elapsedMs);
        if (QTest::currentTestFailed())
            return;
        // The budget holds for the whole run; the process adds its own start and the file.
        QVERIFY2(elapsedMs < 45000, qPrintable(QStringLiteral("%1 ms\n%2").arg(elapsedMs).arg(log)));
        QVERIFY2(log.contains(QStringLiteral("capture: knee search from 4 users within 40 s")), qPrintable(log));
        QVERIFY2(log.contains(QStringLiteral("step 1 (ramp): 4 users")), qPrintable(log));
        QVERIFY2(log.contains(QStringLiteral("step 2 (ramp): 8 users")), qPrintable(log));
        QVERIFY2(log.contains(QStringLiteral("generator ")), qPrintable(log));
        QVERIFY2(log.contains(QStringLiteral("knee: ")), qPrintable(log));

        QCOMPARE(b.loadProfile.value(QStringLiteral("mode")).toString(), QStringLiteral("knee-search"));
        QCOMPARE(b.loadProfile.value(QStringLiteral("workers")).toInt(), 1);
        QCOMPARE(b.search.value(QStringLiteral("found")).toBool(), true);
        QCOMPARE(b.search.value(QStringLiteral("generatorBound")).toBool(), false);
        QVERIFY(b.search.value(QStringLiteral("elapsedSeconds")).toDouble() <= 40);
        QVERIFY2(b.inflection.has_value(), qPrintable(log));
        QVERIFY2(qAbs(b.inflection->throughputRps - capacity) <= capacity * 0.15,
                 qPrintable(QStringLiteral("knee at %1 req/s, capacity %2 req/s\n%3").arg(b.inflection->throughputRps).arg(capacity).arg(log)));
        QVERIFY(b.steps.size() >= 2);
        for (int i = 0; i < b.steps.size(); ++i) {
            const BaselineStep &s = b.steps.at(i);
            QVERIFY(s.search.has_value());
            QVERIFY(!s.search->verdict.isEmpty());
            QVERIFY(s.search->measureSeconds >= 3);
            QVERIFY(s.generator.has_value());
            QCOMPARE(s.generator->processes, 2); // master + worker
            QVERIFY(!s.generator->bound);
            if (i > 0)
                QVERIFY(s.users >= b.steps.at(i - 1).users); // sorted by users
        }
        QCOMPARE(b.steps.first().users, 4);
        QVERIFY(b.healthy.p50Ms > 0);
        LatencyDriftSignal drift;
        drift.setBaseline(b);
        QVERIFY(drift.hasBaseline());
    }

    void searchOptionsAreChecked()
    {
        QProcess p;
        p.start(kSluice, {QStringLiteral("--capture-baseline"), QStringLiteral("/tmp/unused.json"), QStringLiteral("--steps"),
                          QStringLiteral("3"), QStringLiteral("--max-seconds"), QStringLiteral("60")});
        QVERIFY(p.waitForFinished(10000));
        QCOMPARE(p.exitCode(), 2);
        QVERIFY(QString::fromUtf8(p.readAllStandardError()).contains(QStringLiteral("--max-seconds belongs to the knee search")));
        p.start(kSluice, {QStringLiteral("--capture-baseline"), QStringLiteral("/tmp/unused.json"), QStringLiteral("--max-seconds"),
                          QStringLiteral("5")});
        QVERIFY(p.waitForFinished(10000));
        QCOMPARE(p.exitCode(), 2);
        QVERIFY(QString::fromUtf8(p.readAllStandardError()).contains(QStringLiteral("must leave room for one step")));
        p.start(kSluice, {QStringLiteral("--capture-baseline"), QStringLiteral("/tmp/unused.json"), QStringLiteral("--locust-workers"),
                          QStringLiteral("-1")});
        QVERIFY(p.waitForFinished(10000));
        QCOMPARE(p.exitCode(), 2);
        QVERIFY(QString::fromUtf8(p.readAllStandardError()).contains(QStringLiteral("--locust-workers: must be an integer from 0")));
    }

    // Soak (6 steps of 5 s; ctest -L soak): the curve rises, then flattens at
    // the simulator's capacity, where the knee is reported.
    void kneeMatchesTheSimulatorsCapacity()
    {
        SLUICE_SOAK_ONLY();
        PerformanceBaseline b;
        QString log;
        capture(6, 5, &b, &log);
        if (QTest::currentTestFailed())
            return;

        QCOMPARE(b.steps.size(), 6);
        QCOMPARE(b.loadProfile.value(QStringLiteral("tool")).toString(), QStringLiteral("locust"));
        QCOMPARE(b.config.value(QStringLiteral("packing")).toString(), QStringLiteral("fanout"));
        // The curve rises, then flattens at the capacity.
        QVERIFY2(b.steps.first().achievedRps < capacity * 0.75, qPrintable(QString::number(b.steps.first().achievedRps)));
        QVERIFY2(b.inflection.has_value(), qPrintable(log));
        const double kneeRps = b.inflection->throughputRps;
        QVERIFY2(qAbs(kneeRps - capacity) <= capacity * 0.15,
                 qPrintable(QStringLiteral("knee at %1 req/s, capacity %2 req/s\n%3").arg(kneeRps).arg(capacity).arg(log)));
        // Past the knee the gateway queues: latency and queue depth rise.
        QVERIFY(b.steps.last().p95Ms > b.steps.first().p95Ms * 1.5);
        QVERIFY(b.steps.last().queueDepthMean > b.steps.first().queueDepthMean);
        // The healthy state is usable by the drift detector.
        QVERIFY(b.healthy.p50Ms > serviceSeconds * 1000 * 0.9);
        QCOMPARE(b.healthy.histogram.counts.size(), b.healthy.histogram.boundsMs.size() + 1);
        LatencyDriftSignal drift;
        drift.setBaseline(b);
        QVERIFY(drift.hasBaseline());
    }
};

QTEST_GUILESS_MAIN(TestCaptureBaseline)
#include "tst_capturebaseline.moc"
