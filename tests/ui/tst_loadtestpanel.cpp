// The console's load-test panel and its knee search: a search status drawn
// (progress, one line per step, the curve sorted by users, generator-bound
// steps marked, the knee and its notes), and "Find knee" in the MainWindow
// running the real search (real Locust, one process) against a
// GeminiSimulator whose capacity is known, then saving the baseline.
// Runs offscreen (QT_QPA_PLATFORM=offscreen).

#include "core/drift/driftmonitor.h"
#include "core/engine/batchinferenceengine.h"
#include "core/gemini/geminiclient.h"
#include "core/loadtest/loadtestcontroller.h"
#include "core/metrics/inferencemetricscollector.h"
#include "server/simulator/geminisimulator.h"
#include "ui/mainwindow.h"
#include "ui/panels/loadtestpanel.h"

#include <QAction>
#include <QJsonArray>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>

using namespace std::chrono_literals;

namespace {

// The gateway core the console drives (as in tst_mainwindow), over a real simulator.
struct Gateway {
    GeminiSimulator sim;
    UpstreamBudget budget;
    std::unique_ptr<GeminiClient> client;
    InferenceMetricsCollector metrics;
    std::unique_ptr<BatchInferenceEngine> engine;

    static ModelBudget::Settings known()
    {
        ModelBudget::Settings s;
        s.quotaKnown = true;
        return s;
    }

    explicit Gateway(const SimulatorConfig &sc) : sim(sc), budget(Clock::steady(), known())
    {
        if (!sim.start())
            qFatal("simulator: %s", qPrintable(sim.errorString()));
        metrics.setBudget(&budget);
        GeminiClientConfig cc;
        cc.baseUrl = sim.baseUrl();
        cc.budget = &budget;
        cc.metrics = &metrics;
        client = std::make_unique<GeminiClient>(cc);
        engine = std::make_unique<BatchInferenceEngine>(client.get(), EngineConfig{}, Clock::steady(), &metrics, &budget);
        metrics.setGaugeSource([e = engine.get()] { return e->gauges(); });
        engine->start();
    }
    ~Gateway()
    {
        metrics.setGaugeSource({});
        engine->stop();
        metrics.setBudget(nullptr);
        engine.reset();
        client.reset();
        sim.stop();
    }
};

QJsonObject step(int users, double rps, double p95, bool bound = false)
{
    QJsonObject s{{QStringLiteral("users"), users}, {QStringLiteral("achievedRps"), rps}, {QStringLiteral("p95Ms"), p95}};
    if (bound)
        s.insert(QStringLiteral("generator"), QJsonObject{{QStringLiteral("bound"), true}, {QStringLiteral("busiestCores"), 0.97}});
    return s;
}

} // namespace

class TestLoadTestPanel : public QObject
{
    Q_OBJECT
private slots:
    void showsASearch()
    {
        LoadTestPanel panel;
        panel.setAvailable(true);
        QVERIFY(!panel.stepLog()->isVisibleTo(&panel));
        QVERIFY(panel.workers()->value() >= 0);
        QCOMPARE(panel.searchSeconds()->value(), 180);
        QSignalSpy find(&panel, &LoadTestPanel::findKneeRequested);
        panel.searchSeconds()->setValue(60);
        panel.findKneeButton()->click();
        QCOMPARE(find.size(), 1);
        QCOMPARE(find.at(0).at(0).toInt(), 60);

        // Running, measured out of order (the bisection went back down).
        QJsonObject running{{QStringLiteral("state"), QStringLiteral("running")},
                            {QStringLiteral("step"), 3},
                            {QStringLiteral("steps"), 4},
                            {QStringLiteral("curve"), QJsonArray{step(4, 4, 1400), step(8, 8, 1400), step(16, 15, 1500, true)}},
                            {QStringLiteral("search"), QJsonObject{{QStringLiteral("phase"), QStringLiteral("bisect")},
                                                                   {QStringLiteral("stepState"), QStringLiteral("warmup")},
                                                                   {QStringLiteral("stepUsers"), 12},
                                                                   {QStringLiteral("elapsedSeconds"), 45.0},
                                                                   {QStringLiteral("maxSeconds"), 180.0},
                                                                   {QStringLiteral("lines"), QJsonArray{QStringLiteral("step 1 (ramp): 4 users"),
                                                                                                        QStringLiteral("step 2 (ramp): 8 users"),
                                                                                                        QStringLiteral("step 3 (ramp): 16 users")}}}}};
        panel.setStatus(running);
        QVERIFY(panel.stepLog()->isVisibleTo(&panel));
        QCOMPARE(panel.stepLog()->toPlainText().split(QLatin1Char('\n')).size(), 3);
        QCOMPARE(panel.progress()->value(), 25);
        QVERIFY2(panel.progress()->text().contains(QStringLiteral("knee search · step 4 (bisect, warmup) · 12 users · 45 of 180 s")),
                 qPrintable(panel.progress()->text()));
        QVERIFY(!panel.findKneeButton()->isEnabled());
        QVERIFY(!panel.workers()->isEnabled());
        QVERIFY(panel.stopButton()->isEnabled());
        QCOMPARE(panel.generatorBoundPoints(), 1);

        // Finished: the fourth step came in between; the curve is drawn by users.
        QJsonObject finished = running;
        finished.insert(QStringLiteral("state"), QStringLiteral("finished"));
        finished.insert(QStringLiteral("curve"), QJsonArray{step(4, 4, 1400), step(8, 8, 1400), step(16, 15, 1500, true), step(12, 11.5, 1450)});
        finished.insert(QStringLiteral("inflection"), QJsonObject{{QStringLiteral("users"), 12},
                                                                  {QStringLiteral("throughputRps"), 11.5},
                                                                  {QStringLiteral("queueDepth"), 0.5},
                                                                  {QStringLiteral("p95Ms"), 1450}});
        QJsonObject search = running.value(QStringLiteral("search")).toObject();
        search.insert(QStringLiteral("result"),
                      QJsonObject{{QStringLiteral("found"), true},
                                  {QStringLiteral("notes"), QJsonArray{QStringLiteral("the load generator is the bottleneck at 16 users: "
                                                                                      "add workers (--locust-workers) or a bigger machine")}}});
        finished.insert(QStringLiteral("search"), search);
        panel.setStatus(finished);
        QCOMPARE(panel.curve(), (QList<QPointF>{{4, 4}, {8, 8}, {12, 11.5}, {16, 15}}));
        QVERIFY(panel.resultLabel()->text().contains(QStringLiteral("<b>Knee</b> at 12 users")));
        QVERIFY(panel.resultLabel()->text().contains(QStringLiteral("the load generator is the bottleneck at 16 users")));
        QVERIFY(panel.findKneeButton()->isEnabled());
        QVERIFY(!panel.saveButton()->isEnabled());
        panel.setSaveAvailable(true);
        QVERIFY(panel.saveButton()->isEnabled());
    }

    void findKneeInTheConsole()
    {
        // The simulator serves 4 requests at once, 100 ms each: 40 req/s,
        // reached by about 4 users (each waits 100 ms per request); 8 users
        // only queue. The search (40 s, one Locust process) finds the knee at
        // that capacity and its baseline can be saved from the panel.
        SimulatorConfig sc;
        sc.baseLatencyMs = 100;
        sc.tokensPerSecond = 0;
        sc.jitterSigma = 0;
        sc.embedLatencyMs = 100;
        sc.maxConcurrent = 4;
        Gateway gw(sc);
        LoadTestController loadTests(&gw.metrics);
        DriftMonitor drift(&gw.metrics);
        ConsoleInfo info;
        info.listeningUrl = gw.sim.baseUrl();
        info.model = QStringLiteral("gemini-2.0-flash");
        MainWindow w({gw.engine.get(), &gw.metrics, &loadTests, &drift}, info);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        LoadTestPanel *panel = w.loadTestPanel();
        QVERIFY(panel->findKneeButton()->isEnabled());
        QVERIFY(!panel->saveButton()->isEnabled());
        panel->workers()->setValue(0);
        panel->searchSeconds()->setValue(40);
        QSignalSpy finished(&loadTests, &LoadTestController::finished);
        QElapsedTimer clock;
        clock.start();
        panel->findKneeButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(panel->stopButton()->isEnabled(), 10000);
        QVERIFY(loadTests.isSearching());
        QTRY_VERIFY_WITH_TIMEOUT(panel->progress()->text().contains(QStringLiteral("knee search")), 10000);
        // Progress per step while it runs.
        QTRY_VERIFY_WITH_TIMEOUT(panel->stepLog()->toPlainText().contains(QStringLiteral("step 1 (ramp): 4 users")), 30000);
        QVERIFY(finished.wait(40000));
        QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(finished.at(0).at(1).toString()));
        QVERIFY2(clock.elapsed() < 45000, qPrintable(QString::number(clock.elapsed())));
        QVERIFY(panel->stepLog()->toPlainText().contains(QStringLiteral("step 2 (ramp): 8 users")));
        QVERIFY2(panel->resultLabel()->text().contains(QStringLiteral("<b>Knee</b> at")), qPrintable(panel->resultLabel()->text()));
        QVERIFY(panel->curvePoints() >= 2);
        QVERIFY(panel->saveButton()->isEnabled());

        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("baseline.json"));
        QString error;
        QVERIFY2(w.exportBaselineTo(path, &error), qPrintable(error));
        PerformanceBaseline b;
        QVERIFY2(PerformanceBaseline::load(path, &b, &error), qPrintable(error));
        QVERIFY(b.inflection.has_value());
        // At the capacity: 4 users saturate it, 8 only queue.
        QVERIFY2(b.inflection->users >= 4 && b.inflection->users <= 8, qPrintable(QString::number(b.inflection->users)));
        QVERIFY2(qAbs(b.inflection->throughputRps - 40) <= 6, qPrintable(QString::number(b.inflection->throughputRps)));
        QCOMPARE(b.loadProfile.value(QStringLiteral("mode")).toString(), QStringLiteral("knee-search"));
        QCOMPARE(b.search.value(QStringLiteral("found")).toBool(), true);
        QVERIFY(b.steps.size() >= 2);
        QVERIFY(b.steps.first().search.has_value());
        QVERIFY(b.steps.first().generator.has_value());
    }
};

QTEST_MAIN(TestLoadTestPanel)
#include "tst_loadtestpanel.moc"
