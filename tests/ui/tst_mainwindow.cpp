// MainWindow (the console) against a real gateway core: BatchInferenceEngine +
// InferenceMetricsCollector + GeminiClient, with the real GeminiSimulator on
// loopback as the upstream. Runs offscreen (QT_QPA_PLATFORM=offscreen).

#include "core/drift/driftmonitor.h"
#include "core/engine/batchinferenceengine.h"
#include "core/gemini/geminiclient.h"
#include "core/loadtest/loadtestcontroller.h"
#include "core/metrics/inferencemetricscollector.h"
#include "core/util/memorybudget.h"
#include "server/simulator/geminisimulator.h"
#include "tests/support/soak.h"
#include "tests/support/userturn.h"
#include "ui/charts/metricscharts.h"
#include "ui/consolesettings.h"
#include "ui/mainwindow.h"
#include "ui/quotaview.h"
#include "ui/panels/enginecontrolpanel.h"
#include "ui/panels/loadtestpanel.h"
#include "ui/panels/priorityclasspanel.h"
#include "ui/panels/quotapanel.h"
#include "ui/panels/tenantpanel.h"
#include "ui/panels/tiercostpanel.h"
#include "ui/panels/upstreamsettingsdialog.h"

#include <QAction>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QDesktopServices>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QProgressBar>
#include <QProgressDialog>
#include <QPushButton>
#include <QRadioButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QValueAxis>

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <thread>

using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

InferenceRequest request(int i)
{
    InferenceRequest r;
    r.model = QStringLiteral("gemini-2.0-flash");
    r.operation = Operation::GenerateContent;
    r.body = userText(QStringLiteral("Question %1: why is the sky blue?").arg(i % 97));
    return r;
}

// The embedded gateway core as app/ builds it (GatewayRuntime), over a real
// simulator: one UpstreamBudget shared by the engine, the client and the
// collector, whose snapshots then carry it (the quota panel's gauges), and
// the MemoryBudget the collector's gauge source reads (the memory tile; the
// HTTP front that charges it is not part of this stack). The embedded
// simulator's quota is known, so nothing is probed.
struct Gateway {
    GeminiSimulator sim;
    UpstreamBudget budget;
    MemoryBudget memory;
    std::unique_ptr<GeminiClient> client;
    InferenceMetricsCollector metrics;
    std::unique_ptr<BatchInferenceEngine> engine;

    static ModelBudget::Settings embeddedBudget()
    {
        ModelBudget::Settings s;
        s.quotaKnown = true;
        return s;
    }

    explicit Gateway(const SimulatorConfig &sc, const EngineConfig &ec = {}, qint64 memoryLimitBytes = 0)
        : sim(sc)
        , budget(Clock::steady(), embeddedBudget())
        , memory(memoryLimitBytes)
    {
        if (!sim.start())
            qFatal("simulator: %s", qPrintable(sim.errorString()));
        metrics.setBudget(&budget);
        GeminiClientConfig cc;
        cc.baseUrl = sim.baseUrl();
        cc.concurrency = 64;
        cc.budget = &budget;
        cc.metrics = &metrics;
        client = std::make_unique<GeminiClient>(cc);
        engine = std::make_unique<BatchInferenceEngine>(client.get(), ec, Clock::steady(), &metrics, &budget);
        metrics.setGaugeSource([e = engine.get(), m = &memory] {
            EngineGauges g = e->gauges();
            g.memoryUsedBytes = m->used();
            g.memoryLimitBytes = m->limit();
            g.memoryRefusals = m->refusals();
            return g;
        });
        engine->start();
    }
    ~Gateway()
    {
        metrics.setPublishInterval(0ms);
        metrics.setGaugeSource({});
        engine->stop();
        metrics.setBudget(nullptr);
        engine.reset();
        client.reset();
        sim.stop();
    }
};

SimulatorConfig fastSim()
{
    SimulatorConfig c;
    c.baseLatencyMs = 0;
    c.tokensPerSecond = 0;
    c.jitterSigma = 0;
    c.maxConcurrent = 256;
    c.responseWords = 12;
    return c;
}

// A closed-loop load generator on its own thread: keeps `target` requests
// outstanding through the engine's submit path. With a MemoryBudget it
// charges each request what the HTTP front would (HttpLimits: its body × 8 +
// 16 KiB) until its answer, so the memory tile shows load.
class LoadThread
{
public:
    static constexpr qint64 kChargePerRequest = 100 * 8 + 16 * 1024;

    LoadThread(BatchInferenceEngine *engine, int target, MemoryBudget *memory = nullptr)
        : m_engine(engine), m_memory(memory), m_target(target)
    {
        m_thread = std::thread([this] { run(); });
    }
    ~LoadThread() { stop(); }
    void setTarget(int t) { m_target.store(t); }
    void stop()
    {
        m_stop.store(true);
        if (m_thread.joinable())
            m_thread.join();
        while (m_outstanding.load() > 0)
            std::this_thread::sleep_for(5ms);
    }
    quint64 completed() const { return m_completed.load(); }

private:
    void run()
    {
        int i = 0;
        while (!m_stop.load()) {
            if (m_outstanding.load() >= m_target.load()) {
                std::this_thread::sleep_for(1ms);
                continue;
            }
            if (m_memory && !m_memory->tryCharge(kChargePerRequest)) { // the front's 503
                std::this_thread::sleep_for(1ms);
                continue;
            }
            m_outstanding.fetch_add(1);
            const auto t = m_engine->submit(request(i++), [this](InferenceResult) {
                if (m_memory)
                    m_memory->release(kChargePerRequest);
                m_completed.fetch_add(1);
                m_outstanding.fetch_sub(1);
            });
            Q_UNUSED(t);
        }
    }
    BatchInferenceEngine *m_engine;
    MemoryBudget *m_memory;
    std::atomic<int> m_target;
    std::atomic<int> m_outstanding{0};
    std::atomic<quint64> m_completed{0};
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

// Lateness of a 20 ms QTimer on the UI thread: the event loop's latency.
class LoopLatencyProbe : public QObject
{
public:
    LoopLatencyProbe()
    {
        m_timer.setTimerType(Qt::PreciseTimer);
        m_timer.setInterval(20);
        QObject::connect(&m_timer, &QTimer::timeout, this, [this] {
            const qint64 now = m_clock.nsecsElapsed();
            if (m_last > 0)
                m_lateMs.push_back(std::max(0.0, double(now - m_last) / 1e6 - 20.0));
            m_last = now;
        });
        m_clock.start();
        m_timer.start();
    }
    double percentile(double q) const
    {
        if (m_lateMs.empty())
            return 0;
        std::vector<double> v = m_lateMs;
        std::sort(v.begin(), v.end());
        return v[std::min(v.size() - 1, size_t(q * double(v.size())))];
    }
    size_t samples() const { return m_lateMs.size(); }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_last = 0;
    std::vector<double> m_lateMs;
};

ConsoleInfo info()
{
    ConsoleInfo i;
    i.listeningUrl = QUrl(QStringLiteral("http://127.0.0.1:8080"));
    i.dashboardUrl = QUrl(QStringLiteral("http://127.0.0.1:8080/"));
    i.upstreamKind = QStringLiteral("simulator");
    i.model = QStringLiteral("gemini-2.0-flash");
    return i;
}

MetricsSnapshot snapshotAt(double t, double p99, int queue, int capacity)
{
    MetricsSnapshot s;
    s.uptimeSeconds = t;
    s.queueDepth = queue;
    s.queueCapacity = capacity;
    s.backpressure = double(queue) / capacity;
    s.last10s.latency.p50Ms = p99 / 4;
    s.last10s.latency.p95Ms = p99 / 2;
    s.last10s.latency.p99Ms = p99;
    s.last1s.requestsPerSecond = 100 + t;
    s.last1s.promptTokensPerSecond = 1000;
    s.last1s.outputTokensPerSecond = 500;
    s.last10s.meanBatchSize = 8;
    return s;
}

// snapshotAt() with the issue 15 fields filled: three classes, four tiers
// with cost, Batch Mode on, and `tenants` tenants.
MetricsSnapshot withClassesTiersTenants(MetricsSnapshot s, int tenants)
{
    const auto cls = [](const char *name, int queued, quint64 completed, quint64 failed, quint64 rejected, double p50,
                        double p95, double wait50, double wait95) {
        PriorityClassState c;
        c.name = QString::fromLatin1(name);
        c.queued = queued;
        c.completed = completed;
        c.failed = failed;
        c.rejected = rejected;
        c.latency.count = c.queueWait.count = 50;
        c.latency.p50Ms = p50;
        c.latency.p95Ms = p95;
        c.queueWait.p50Ms = wait50;
        c.queueWait.p95Ms = wait95;
        return c;
    };
    s.classes = {cls("interactive", 2, 1234, 0, 0, 120, 340, 1.5, 4.2), cls("standard", 17, 8800, 3, 0, 450, 1800, 30, 220),
                 cls("background", 120, 412, 0, 9, 900, 4200, 800, 3900)};
    const auto tier = [](const char *name, quint64 requests, quint64 shed, quint64 prompt, quint64 output, double cost) {
        TierState t;
        t.name = QString::fromLatin1(name);
        t.requests = requests;
        t.shed = shed;
        t.promptTokens = prompt;
        t.outputTokens = output;
        t.costUsd = cost;
        return t;
    };
    s.tiers = {tier("standard", 1200, 0, 480000, 96000, 0.0864), tier("flex", 3400, 25, 1360000, 272000, 0.1224),
               tier("priority", 0, 0, 0, 0, 0), tier("batch", 500, 0, 200000, 40000, 0.018)};
    s.costUsd = 0.2268;
    s.costStandardUsd = 0.4104;
    s.batchMode.enabled = true;
    s.batchMode.gathering = 12;
    s.batchMode.jobsRunning = 2;
    s.batchMode.waiting = 40;
    s.batchMode.jobsSubmitted = 5;
    s.batchMode.requestsSubmitted = 1500;
    for (int i = 0; i < tenants; ++i) {
        TenantState t;
        t.id = i % 3 == 1 ? QStringLiteral("team-%1").arg(i) : QStringLiteral("key-%1").arg(0x3f9a1c0d5e7b2a48ULL + quint64(i) * 7919, 16, 16, QLatin1Char('0'));
        t.weight = i % 4 == 0 ? 2 : 1;
        t.queued = std::max(0, 40 - 3 * i);
        t.inflight = std::max(0, 8 - i);
        t.completed = quint64(12000 / (i + 1));
        t.rejected = i % 5 == 2 ? 17 : 0;
        s.tenants.append(t);
    }
    return s;
}

QSpinBox *spin(MainWindow &w, const char *field)
{
    return qobject_cast<QSpinBox *>(w.controls()->editor(QString::fromLatin1(field)));
}

// Submits `n` requests and waits for their answers; returns how many were ok.
int answerAll(BatchInferenceEngine *engine, int n)
{
    std::atomic<int> done{0}, ok{0};
    for (int i = 0; i < n; ++i)
        if (!engine->submit(request(i), [&](InferenceResult r) {
                if (r.status.ok())
                    ok.fetch_add(1);
                done.fetch_add(1);
            }).admitted)
            done.fetch_add(1);
    QElapsedTimer t;
    t.start();
    while (done.load() < n && t.elapsed() < 30000)
        QTest::qWait(10);
    return done.load() == n ? ok.load() : -1;
}

// A count as the quota panel shows it ("1 234" with a narrow space).
quint64 shownCount(const QString &text)
{
    return QString(text).remove(QChar(0x202f)).toULongLong();
}

const QString kFlash = QStringLiteral("gemini-2.0-flash");

} // namespace

class UrlCatcher : public QObject
{
    Q_OBJECT
public:
    QList<QUrl> urls;
public slots:
    void open(const QUrl &url) { urls.append(url); }
};

class TestMainWindow : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        qunsetenv("GEMINI_API_KEY");
        QFile::remove(ConsoleSettings::filePath());
    }

    void controlsApplyThroughValidatedPath()
    {
        Gateway gw(fastSim());
        MainWindow w({gw.engine.get(), &gw.metrics}, info());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QSignalSpy applied(w.controls(), &EngineControlPanel::configApplied);

        // Controls start from the engine's config.
        QCOMPARE(spin(w, "maxBatchSize")->value(), gw.engine->config().maxBatchSize);
        QCOMPARE(spin(w, "maxQueue")->value(), gw.engine->config().maxQueue);

        spin(w, "maxBatchSize")->setValue(32);
        QCOMPARE(gw.engine->config().maxBatchSize, 32);

        // Typed like a user: the value applies on Enter, not per keystroke.
        QSpinBox *wait = spin(w, "maxWaitMs");
        wait->setFocus();
        wait->selectAll();
        QTest::keyClicks(wait, QStringLiteral("25"));
        QCOMPARE(gw.engine->config().maxWaitMs, EngineConfig().maxWaitMs);
        QTest::keyClick(wait, Qt::Key_Return);
        QCOMPARE(gw.engine->config().maxWaitMs, 25);

        spin(w, "maxQueue")->setValue(500);
        spin(w, "maxInflightBatches")->setValue(8);
        spin(w, "requestTimeoutMs")->setValue(30000);
        spin(w, "rpmLimit")->setValue(600);
        spin(w, "tpmLimit")->setValue(100000);
        // The quota knobs (EngineConfig's ranges; 0 = not configured / probing off).
        spin(w, "rpdLimit")->setValue(5000);
        spin(w, "quotaProbeRpm")->setValue(0);
        spin(w, "maxPackSize")->setValue(32);
        QCOMPARE(spin(w, "rpdLimit")->specialValueText(), QStringLiteral("not configured"));
        QVERIFY(spin(w, "maxPackSize")->toolTip().startsWith(
            QStringLiteral("maxPackSize: default %1, range 2..1000").arg(EngineConfig().maxPackSize)));
        auto *packing = qobject_cast<QComboBox *>(w.controls()->editor(QStringLiteral("packing")));
        QCOMPARE(packing->currentData().toString(), QStringLiteral("auto")); // the default
        QCOMPARE(packing->count(), 3);
        QVERIFY(spin(w, "maxPackSize")->isEnabled());
        packing->setCurrentIndex(packing->findData(QStringLiteral("fanout")));
        emit packing->activated(packing->currentIndex());
        QVERIFY(!spin(w, "maxPackSize")->isEnabled()); // fanout never packs
        auto *adaptive = qobject_cast<QCheckBox *>(w.controls()->editor(QStringLiteral("adaptive")));
        QVERIFY(!spin(w, "targetP95Ms")->isEnabled());
        adaptive->setChecked(true);
        QVERIFY(spin(w, "targetP95Ms")->isEnabled());
        spin(w, "targetP95Ms")->setValue(750);

        const EngineConfig c = gw.engine->config();
        QCOMPARE(c.maxQueue, 500);
        QCOMPARE(c.maxInflightBatches, 8);
        QCOMPARE(c.requestTimeoutMs, 30000);
        QCOMPARE(c.rpmLimit, 600);
        QCOMPARE(c.tpmLimit, 100000);
        QCOMPARE(c.packing, PackingMode::Fanout);
        QCOMPARE(c.rpdLimit, 5000);
        QCOMPARE(c.quotaProbeRpm, 0);
        QCOMPARE(c.maxPackSize, 32);
        QVERIFY(c.adaptive);
        QCOMPARE(c.targetP95Ms, 750);
        QCOMPARE(applied.count(), 13);
        // The quota panel says which packing and probing are in force.
        QCOMPARE(w.quotaPanel()->packingText(),
                 QStringLiteral("packing fanout, up to 32 per pack; an unknown RPM is not limited"));
        // The queue gauge (and so /metrics, X-Queue-Capacity) follows the new limit.
        QCOMPARE(gw.engine->gauges().queueCapacity, 500);
    }

    void invalidValueRefusedWithReason()
    {
        Gateway gw(fastSim());
        MainWindow w({gw.engine.get(), &gw.metrics}, info());
        w.show();
        const EngineConfig before = gw.engine->config();
        QSignalSpy refused(w.controls(), &EngineControlPanel::configRefused);
        QSignalSpy changed(gw.engine.get(), &BatchInferenceEngine::configChanged);

        spin(w, "maxQueue")->setValue(0);
        QCOMPARE(gw.engine->config(), before);
        QCOMPARE(refused.count(), 1);
        QCOMPARE(refused.at(0).at(0).value<ConfigError>().field, QStringLiteral("maxQueue"));
        const QString reason = w.controls()->errorText(QStringLiteral("maxQueue"));
        QVERIFY2(reason.startsWith(QStringLiteral("maxQueue: must be an integer from 1 to")), qPrintable(reason));
        QVERIFY(w.findChild<QLabel *>(QStringLiteral("maxQueueError"))->isVisible());

        spin(w, "maxBatchSize")->setValue(5000);
        QCOMPARE(gw.engine->config(), before);
        QCOMPARE(w.controls()->errorText(QStringLiteral("maxBatchSize")),
                 QStringLiteral("maxBatchSize: must be an integer from 1 to 1000"));
        spin(w, "maxInflightBatches")->setValue(0);
        QVERIFY(w.controls()->errorText(QStringLiteral("maxInflightBatches")).startsWith(QStringLiteral("maxInflightBatches:")));
        spin(w, "maxPackSize")->setValue(1);
        QCOMPARE(w.controls()->errorText(QStringLiteral("maxPackSize")),
                 QStringLiteral("maxPackSize: must be an integer from 2 to 1000"));
        QCOMPARE(gw.engine->config(), before);
        QCOMPARE(changed.count(), 0);

        // A valid value applies and clears the reasons.
        spin(w, "maxBatchSize")->setValue(64);
        QCOMPARE(gw.engine->config().maxBatchSize, 64);
        QVERIFY(w.controls()->errorText(QStringLiteral("maxBatchSize")).isEmpty());
    }

    void changeElsewhereShowsWithoutEcho()
    {
        Gateway gw(fastSim());
        MainWindow w({gw.engine.get(), &gw.metrics}, info());
        w.show();
        QSignalSpy applied(w.controls(), &EngineControlPanel::configApplied);
        QSignalSpy changed(gw.engine.get(), &BatchInferenceEngine::configChanged);

        // As PATCH /api/v1/config does, from another thread.
        EngineConfig c = gw.engine->config();
        c.maxBatchSize = 77;
        c.maxQueue = 999;
        c.packing = PackingMode::Fanout;
        c.adaptive = true;
        c.rpmLimit = 1200;
        std::thread([&] { QVERIFY(gw.engine->setConfig(c).isNull()); }).join();

        QTRY_COMPARE(spin(w, "maxBatchSize")->value(), 77);
        QCOMPARE(spin(w, "maxQueue")->value(), 999);
        QCOMPARE(spin(w, "rpmLimit")->value(), 1200);
        QCOMPARE(qobject_cast<QComboBox *>(w.controls()->editor(QStringLiteral("packing")))->currentData().toString(),
                 QStringLiteral("fanout"));
        QVERIFY(qobject_cast<QCheckBox *>(w.controls()->editor(QStringLiteral("adaptive")))->isChecked());
        QTest::qWait(50);
        QCOMPARE(applied.count(), 0); // nothing was applied back
        QCOMPARE(changed.count(), 1); // only the external change
        QCOMPARE(gw.engine->config(), c);
    }

    void chartsFromSnapshotsDirectly()
    {
        Gateway gw(fastSim());
        MainWindow w({gw.engine.get(), nullptr}, info());
        w.show();
        MetricsCharts *charts = w.charts();
        for (int i = 1; i <= 20; ++i)
            w.showSnapshot(snapshotAt(i * 0.25, 10.0 * i, i, 100));
        QLineSeries *p99 = charts->series(MetricsCharts::Series::LatencyP99);
        QCOMPARE(p99->count(), 20);
        QCOMPARE(p99->at(19), QPointF(0, 200)); // newest at x = 0 ("seconds before now")
        QCOMPARE(p99->at(0).x(), -4.75);
        QCOMPARE(charts->series(MetricsCharts::Series::QueueCapacity)->at(19).y(), 100.0);
        QCOMPARE(charts->series(MetricsCharts::Series::Backpressure)->at(19).y(), 20.0);
        QCOMPARE(charts->series(MetricsCharts::Series::TokensPerSecond)->at(19).y(), 1500.0);
        QCOMPARE(charts->series(MetricsCharts::Series::MaxBatchSize)->at(19).y(),
                 double(gw.engine->config().maxBatchSize));
        auto *y = qobject_cast<QValueAxis *>(charts->chartView(0)->chart()->axes(Qt::Vertical).first());
        QVERIFY(y->max() >= 200);

        // Pause: recorded, not drawn; resume draws the backlog.
        QSignalSpy paused(charts, &MetricsCharts::pausedChanged);
        w.pauseAction()->trigger();
        QVERIFY(charts->isPaused());
        const quint64 redraws = charts->redraws();
        w.showSnapshot(snapshotAt(5.25, 300, 0, 100));
        QCOMPARE(charts->redraws(), redraws);
        QCOMPARE(p99->count(), 20);
        QCOMPARE(charts->history(MetricsCharts::Series::LatencyP99).size(), 21);
        w.pauseAction()->trigger();
        QVERIFY(!charts->isPaused());
        QCOMPARE(p99->count(), 21);
        QCOMPARE(paused.count(), 2);

        // Bounded: a long run keeps at most kHistoryCapacity samples and draws
        // at most kMaxPointsPerSeries (+1) points per series.
        for (int i = 0; i < 7000; ++i)
            charts->addSnapshot(snapshotAt(6 + i * 0.1, 50, 10, 100));
        QCOMPARE(charts->history(MetricsCharts::Series::LatencyP50).size(), MetricsCharts::kHistoryCapacity);
        QVERIFY(p99->count() <= MetricsCharts::kMaxPointsPerSeries + 1);

        // Window length selects the history shown.
        charts->setWindowSeconds(30);
        QVERIFY(p99->count() >= 300 && p99->count() <= 302);
        QVERIFY(p99->at(0).x() >= -30);
        auto *x = qobject_cast<QValueAxis *>(charts->chartView(2)->chart()->axes(Qt::Horizontal).first());
        QCOMPARE(x->min(), -30.0);

        // Zoom (what a rubber band does): all charts follow, live scrolling pauses.
        qobject_cast<QValueAxis *>(charts->chartView(0)->chart()->axes(Qt::Horizontal).first())->setRange(-20, -10);
        QVERIFY(charts->isZoomed());
        QVERIFY(charts->isPaused());
        QCOMPARE(x->min(), -20.0);
        QCOMPARE(x->max(), -10.0);
        auto *quotaX = qobject_cast<QValueAxis *>(
            charts->chartView(MetricsCharts::kQuotaChart)->chart()->axes(Qt::Horizontal).first());
        QCOMPARE(quotaX->min(), -20.0); // the quota panel's chart follows too
        charts->resetZoom();
        QVERIFY(!charts->isZoomed());
        QVERIFY(!charts->isPaused());
        QCOMPARE(x->min(), -30.0);

        // Answers per upstream call: no point while the window has no call
        // (the snapshot's 0 would read as "calls buy nothing"); 429s per second.
        QCOMPARE(charts->history(MetricsCharts::Series::AnswersPerCall).size(), 0);
        QCOMPARE(charts->history(MetricsCharts::Series::Upstream429PerSecond).size(), MetricsCharts::kHistoryCapacity);
        MetricsSnapshot packed = snapshotAt(710, 50, 10, 100);
        packed.last10s.seconds = 10;
        packed.last10s.upstreamCalls = 20;
        packed.last10s.answersPerUpstreamCall = 4.5;
        packed.last10s.upstream429 = 5;
        charts->addSnapshot(packed);
        QLineSeries *apc = charts->series(MetricsCharts::Series::AnswersPerCall);
        QCOMPARE(apc->count(), 1);
        QCOMPARE(apc->at(0), QPointF(0, 4.5));
        QLineSeries *u429 = charts->series(MetricsCharts::Series::Upstream429PerSecond);
        QCOMPARE(u429->at(u429->count() - 1), QPointF(0, 0.5));

        // The p95 time to first token, dashed on the latency chart: no point
        // while the window has no stream (its 0 ms would read as instant).
        QLineSeries *ttft = charts->series(MetricsCharts::Series::FirstTokenP95);
        QVERIFY(charts->chartView(0)->chart()->series().contains(ttft));
        QCOMPARE(ttft->pen().style(), Qt::DashLine);
        QCOMPARE(charts->history(MetricsCharts::Series::FirstTokenP95).size(), 0);
        QCOMPARE(ttft->count(), 0);
        MetricsSnapshot streams = snapshotAt(710.25, 50, 10, 100);
        streams.last10s.firstToken.count = 40;
        streams.last10s.firstToken.p50Ms = 300;
        streams.last10s.firstToken.p95Ms = 900;
        streams.last10s.firstToken.p99Ms = 1800;
        charts->addSnapshot(streams);
        charts->addSnapshot(snapshotAt(710.5, 50, 10, 100)); // no stream in the window: a gap
        QCOMPARE(charts->history(MetricsCharts::Series::FirstTokenP95).size(), 1);
        QCOMPARE(ttft->count(), 1);
        QCOMPARE(ttft->at(0), QPointF(-0.25, 900));
        // The y range covers it even above the end-to-end percentiles.
        streams.uptimeSeconds = 710.75;
        streams.last10s.firstToken.p95Ms = 4000;
        charts->addSnapshot(streams);
        QCOMPARE(ttft->at(ttft->count() - 1), QPointF(0, 4000));
        QVERIFY(y->max() >= 4000);
    }

    void chartsFromCollectorTimer()
    {
        Gateway gw(fastSim());
        MainWindow w({gw.engine.get(), &gw.metrics}, info());
        w.show();
        gw.metrics.setPublishInterval(100ms);
        LoadThread load(gw.engine.get(), 16);
        QTRY_VERIFY_WITH_TIMEOUT(w.charts()->snapshotsReceived() >= 25, 10000);
        load.stop();
        QLineSeries *rps = w.charts()->series(MetricsCharts::Series::RequestsPerSecond);
        QVERIFY(rps->count() >= 25);
        double top = 0;
        for (const QPointF &p : rps->points())
            top = std::max(top, p.y());
        QVERIFY2(top > 0, "requests/s never rose above 0 under load");
        QCOMPARE(w.charts()->series(MetricsCharts::Series::QueueCapacity)->points().constLast().y(),
                 double(gw.engine->config().maxQueue));
    }

    void statusBarAndActions()
    {
        Gateway gw(fastSim());
        MainWindow w({gw.engine.get(), &gw.metrics}, info());
        w.show();
        QVERIFY(w.driftText().contains(QStringLiteral("no baseline")));
        QCOMPARE(w.upstreamText(), QStringLiteral("Upstream: GeminiSimulator (gemini-2.0-flash)"));
        QVERIFY(w.backpressureText().contains(QStringLiteral("ok")));
        QVERIFY(w.uptimeText().startsWith(QStringLiteral("Uptime 0:00:0")));
        const auto labels = w.findChildren<QLabel *>();
        const bool hasLink = std::any_of(labels.begin(), labels.end(), [](QLabel *l) {
            return l->text().contains(QStringLiteral("<a href=\"http://127.0.0.1:8080/\">"));
        });
        QVERIFY(hasLink);

        MetricsSnapshot full = snapshotAt(1, 10, 100, 100);
        full.last1s.rejections.insert(QStringLiteral("queue_full"), 3);
        w.showSnapshot(full);
        QVERIFY2(w.backpressureText().contains(QStringLiteral("refusing")), qPrintable(w.backpressureText()));

        ConsoleInfo gemini = info();
        gemini.upstreamKind = QStringLiteral("gemini");
        gemini.model = QStringLiteral("gemini-2.5-flash");
        w.setConsoleInfo(gemini);
        QCOMPARE(w.upstreamText(), QStringLiteral("Upstream: Gemini API (gemini-2.5-flash)"));
        w.setDriftState(QStringLiteral("warn"), 0.42);
        QVERIFY(w.driftText().contains(QStringLiteral("warn")));

        UrlCatcher catcher;
        QDesktopServices::setUrlHandler(QStringLiteral("http"), &catcher, "open");
        w.openDashboardAction()->trigger();
        QDesktopServices::unsetUrlHandler(QStringLiteral("http"));
        QCOMPARE(catcher.urls, QList<QUrl>{QUrl(QStringLiteral("http://127.0.0.1:8080/"))});

        QCOMPARE(w.pauseAction()->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_P));
        QCOMPARE(w.openDashboardAction()->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_D));
        QCOMPARE(w.exportBaselineAction()->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_E));
        QCOMPARE(w.quitAction()->shortcut(), QKeySequence(QKeySequence::Quit));
        w.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&w));
        QTest::keyClick(&w, Qt::Key_P, Qt::ControlModifier);
        QVERIFY(w.charts()->isPaused());

        // Without a LoadTestController and a baseline there is nothing to run or export, and it says why.
        QVERIFY(!w.exportBaselineAction()->isEnabled());
        QCOMPARE(w.exportBaselineAction()->toolTip(), QStringLiteral("Run a load test or import a baseline first"));
        QVERIFY(!w.loadTestPanel()->startButton()->isEnabled());
        QCOMPARE(w.loadTestPanel()->toolTip(), QStringLiteral("the load test needs the embedded gateway"));
        QVERIFY(!w.loadTestPanel()->usersPerStep()->isEnabled());
        QString error;
        QVERIFY(!w.exportBaselineTo(QStringLiteral("/tmp/never-written.json"), &error));
        QVERIFY(error.contains(QStringLiteral("no baseline yet")));
        w.setBaselineExportAvailable(true);
        QVERIFY(w.exportBaselineAction()->isEnabled());
    }

    // The memory budget tile and the failed-attempts figure, fed snapshots
    // directly: what a user reads, and that the tile sits inside the window
    // (the screenshot's 1400 px) rather than clipped off its edge.
    void memoryBudgetAndFailedAttemptsFromSnapshots()
    {
        Gateway gw(fastSim());
        MainWindow w({gw.engine.get(), nullptr}, info());
        w.resize(1400, 900);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        const QString gib = QStringLiteral("1") + QChar(0x202f) + QStringLiteral("024 MiB");

        // Before any snapshot: nothing held, no budget known, no meter.
        MainWindow::ShownMemoryBudget m = w.memoryBudget();
        QCOMPARE(m.used, QStringLiteral("0 B"));
        QCOMPARE(m.caption, QStringLiteral("memory held, no budget"));
        QVERIFY(m.refusals.isEmpty());
        QVERIFY(!m.meter);

        MetricsSnapshot s = snapshotAt(1, 10, 5, 100);
        s.memoryUsedBytes = qint64(312) * 1024 * 1024;
        s.memoryLimitBytes = qint64(1024) * 1024 * 1024;
        s.memoryRefusals = 3;
        s.last60s.seconds = 60;
        s.last60s.upstreamCalls = 57;
        s.last60s.upstream429 = 3;
        s.last60s.upstreamAttemptsFailed = 7;
        s.last60s.upstreamAttemptsByOutcome = {{QStringLiteral("ok"), 50},
                                               {QStringLiteral("429"), 3},
                                               {QStringLiteral("5xx"), 2},
                                               {QStringLiteral("timeout"), 2}};
        w.showSnapshot(s);
        m = w.memoryBudget();
        QCOMPARE(m.used, QStringLiteral("312 MiB"));
        QCOMPARE(m.caption, QStringLiteral("memory budget %1").arg(gib));
        QCOMPARE(m.refusals, QStringLiteral("3 refused"));
        QVERIFY(m.refusalsHighlighted); // in the refusing colour
        QVERIFY(m.meter);
        QCOMPARE(m.meterPermille, 304); // 312 / 1024
        QCOMPARE(m.level, QStringLiteral("low"));
        QVERIFY2(m.toolTip.contains(QStringLiteral("312 MiB of %1 · 30.5 %").arg(gib)), qPrintable(m.toolTip));
        QVERIFY2(m.toolTip.contains(QStringLiteral("3 refused since start")), qPrintable(m.toolTip));
        QVERIFY2(m.toolTip.contains(QStringLiteral("503")), qPrintable(m.toolTip));
        // On screen: the figure, its meter, caption and refusals lie inside the window.
        for (QWidget *part : {static_cast<QWidget *>(w.findChild<QLabel *>(QStringLiteral("memoryBudgetUsed"))),
                              static_cast<QWidget *>(w.findChild<QProgressBar *>(QStringLiteral("memoryBudgetMeter"))),
                              static_cast<QWidget *>(w.findChild<QLabel *>(QStringLiteral("memoryBudgetCaption"))),
                              static_cast<QWidget *>(w.findChild<QLabel *>(QStringLiteral("memoryBudgetRefusals")))}) {
            QVERIFY(part->isVisible());
            const QRect r(part->mapTo(&w, QPoint(0, 0)), part->size());
            QVERIFY2(w.rect().contains(r), qPrintable(QStringLiteral("%1 at %2,%3 %4x%5")
                                                          .arg(part->objectName())
                                                          .arg(r.x()).arg(r.y()).arg(r.width()).arg(r.height())));
            QVERIFY(part->width() >= part->sizeHint().width() || qobject_cast<QProgressBar *>(part));
        }

        // The upstream's failed attempts under its calls by kind: every
        // attempt not ok, retries included, with their outcomes.
        QuotaPanel *q = w.quotaPanel();
        QCOMPARE(q->upstream429Text(), QStringLiteral("3"));
        QCOMPARE(q->failedAttemptsText(), QStringLiteral("failed attempts, retries incl. 7 (429 3 · 5xx 2 · timeout 2)"));
        auto *failed = q->findChild<QLabel *>(QStringLiteral("quotaFailedAttempts"));
        QVERIFY(failed->isVisible());
        QVERIFY(failed->text().contains(QuotaView::levelColor(QuotaView::Level::Refusing))); // 7 in red
        QVERIFY2(failed->toolTip().contains(QStringLiteral("retries included")), qPrintable(failed->toolTip()));
        QVERIFY2(failed->toolTip().contains(QStringLiteral("By outcome: 429 3 · 5xx 2 · timeout 2")), qPrintable(failed->toolTip()));
        // At the default size the headline figures take two rows.
        QCOMPARE(w.summaryRows(), 2);

        // Fuller: the meter's level follows the backpressure meter's thresholds.
        s.memoryUsedBytes = qint64(900) * 1024 * 1024;
        s.last60s.upstreamAttemptsFailed = 0;
        s.last60s.upstreamAttemptsByOutcome = {{QStringLiteral("ok"), 57}};
        w.showSnapshot(s);
        m = w.memoryBudget();
        QCOMPARE(m.used, QStringLiteral("900 MiB"));
        QCOMPARE(m.level, QStringLiteral("high"));
        QCOMPARE(m.meterPermille, 878);
        QCOMPARE(q->failedAttemptsText(), QStringLiteral("failed attempts, retries incl. 0"));
        QVERIFY(!failed->text().contains(QuotaView::levelColor(QuotaView::Level::Refusing)));
        QVERIFY(failed->toolTip().contains(QStringLiteral("None failed.")));

        // Limit 0 (--memory-budget-bytes 0): no budget, the use still shown, no meter.
        s.memoryLimitBytes = 0;
        s.memoryRefusals = 0;
        w.showSnapshot(s);
        m = w.memoryBudget();
        QCOMPARE(m.used, QStringLiteral("900 MiB"));
        QCOMPARE(m.caption, QStringLiteral("memory held, no budget"));
        QVERIFY(m.refusals.isEmpty());
        QVERIFY(!m.meter);
        QVERIFY(!w.findChild<QProgressBar *>(QStringLiteral("memoryBudgetMeter"))->isVisible());
        QVERIFY(m.toolTip.contains(QStringLiteral("No memory budget is set")));
    }

    // The time to first token, the answer cache and the coalesced requests,
    // fed snapshots directly: what a user reads in each state (streams or
    // none; the cache on, without lookups, or off), and that the figures
    // lie inside the window at its default size.
    void firstTokenAnswerCacheAndCoalescedFromSnapshots()
    {
        Gateway gw(fastSim());
        MainWindow w({gw.engine.get(), nullptr}, info());
        w.resize(1400, 900);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QuotaPanel *q = w.quotaPanel();
        const QString nn(QChar(0x202f));

        // Before any snapshot: no stream measured, the cache off, nothing coalesced.
        MainWindow::ShownFirstToken ft = w.firstToken();
        QCOMPARE(ft.p95, QStringLiteral("—"));
        QVERIFY(ft.others.isEmpty());
        QCOMPARE(ft.caption, QStringLiteral("first token p95 (10 s) · no stream"));
        MainWindow::ShownAnswerCache cache = w.answerCache();
        QCOMPARE(cache.hitRatio, QStringLiteral("off"));
        QCOMPARE(cache.caption, QStringLiteral("answer cache"));
        QVERIFY(cache.size.isEmpty());
        QVERIFY(cache.lookups.isEmpty());
        QCOMPARE(q->coalescedText(), QStringLiteral("coalesced 0 req/s (10 s) · 0 since start"));

        MetricsSnapshot s = snapshotAt(1, 3540, 300, 1500);
        s.last10s.seconds = 10;
        s.last10s.firstToken.count = 40;
        s.last10s.firstToken.p50Ms = 320;
        s.last10s.firstToken.p95Ms = 760;
        s.last10s.firstToken.p99Ms = 1080;
        s.last10s.coalesced = 12;
        s.total.coalesced = 1480;
        s.cacheEnabled = true;
        s.cacheUsedBytes = 12 * 1024 * 1024;
        s.cacheMaxBytes = 64 * 1024 * 1024;
        s.cacheEntries = 1234;
        s.last60s.seconds = 60;
        s.last60s.cacheHits = 6200;
        s.last60s.cacheMisses = 3700;
        s.last60s.cacheBypassed = 410;
        s.last60s.cacheHitRatio = 6200.0 / 9900;
        s.total.cacheHits = 7000;
        s.total.cacheMisses = 5020;
        s.total.cacheHitRatio = 7000.0 / 12020;
        s.memoryLimitBytes = qint64(1024) * 1024 * 1024; // the default budget's caption, the widest
        w.showSnapshot(s);

        ft = w.firstToken();
        QCOMPARE(ft.p95, QStringLiteral("760 ms"));
        QCOMPARE(ft.others, QStringLiteral("p50 320 ms\np99 1080 ms"));
        QCOMPARE(ft.caption, QStringLiteral("first token p95 (10 s) · 40 streams"));
        QVERIFY2(ft.toolTip.contains(QStringLiteral("streamGenerateContent")), qPrintable(ft.toolTip));
        QVERIFY2(ft.toolTip.contains(QStringLiteral("p50 320 ms · p95 760 ms · p99 1080 ms · 40 streams")), qPrintable(ft.toolTip));
        cache = w.answerCache();
        QCOMPARE(cache.hitRatio, QStringLiteral("62.6 %"));
        QCOMPARE(cache.caption, QStringLiteral("cache hit ratio (60 s) · 58.2 % since start"));
        QCOMPARE(cache.size, QStringLiteral("holds 12 MiB of 64 MiB · 1") + nn + QStringLiteral("234 entries"));
        QCOMPARE(cache.lookups, QStringLiteral("hits 6") + nn + QStringLiteral("200 · misses 3") + nn
                                    + QStringLiteral("700 · bypassed 410"));
        QVERIFY2(cache.toolTip.contains(QStringLiteral("Cache-Control")), qPrintable(cache.toolTip));
        // Beside the upstream calls: per second over 10 s, and since start.
        QCOMPARE(q->coalescedText(), QStringLiteral("coalesced 1.2 req/s (10 s) · 1") + nn + QStringLiteral("480 since start"));
        QVERIFY(q->findChild<QLabel *>(QStringLiteral("quotaCoalesced"))->toolTip().contains(QStringLiteral("identical request")));

        // On screen, every part lies inside the window, none cut short, and
        // the figures take two rows: requests and latencies, then memory and the cache.
        for (const char *name : {"firstTokenP95", "firstTokenOthers", "firstTokenCaption", "cacheHitRatio", "cacheSize",
                                 "cacheCaption", "cacheLookups", "memoryBudgetCaption", "quotaCoalesced"}) {
            auto *part = w.findChild<QLabel *>(QString::fromLatin1(name));
            QVERIFY2(part && part->isVisible(), name);
            // Once the layouts have taken the new texts.
            QTRY_VERIFY2(part->width() >= part->sizeHint().width(),
                         qPrintable(QStringLiteral("%1: %2 < %3").arg(QString::fromLatin1(name)).arg(part->width()).arg(part->sizeHint().width())));
            const QRect r(part->mapTo(&w, QPoint(0, 0)), part->size());
            QVERIFY2(w.rect().contains(r), qPrintable(QStringLiteral("%1 at %2,%3 %4x%5")
                                                          .arg(QString::fromLatin1(name))
                                                          .arg(r.x()).arg(r.y()).arg(r.width()).arg(r.height())));
        }
        QCOMPARE(w.summaryRows(), 2);
        const QWidget *firstToken = w.findChild<QWidget *>(QStringLiteral("firstToken"));
        const QWidget *answerCache = w.findChild<QWidget *>(QStringLiteral("answerCache"));
        QVERIFY(firstToken->y() < answerCache->y());
        QCOMPARE(answerCache->y(), w.findChild<QWidget *>(QStringLiteral("memoryBudget"))->y());

        // No stream in the window: a dash, not 0 ms. No lookup in 60 s: a
        // dash for the window, the ratio since start still told.
        s.last10s.firstToken = LatencySummary();
        s.last60s.cacheHits = s.last60s.cacheMisses = 0;
        s.last60s.cacheBypassed = 3;
        s.last60s.cacheHitRatio = 0;
        w.showSnapshot(s);
        ft = w.firstToken();
        QCOMPARE(ft.p95, QStringLiteral("—"));
        QVERIFY(ft.others.isEmpty());
        QCOMPARE(ft.caption, QStringLiteral("first token p95 (10 s) · no stream"));
        QVERIFY2(ft.toolTip.contains(QStringLiteral("no stream")), qPrintable(ft.toolTip));
        cache = w.answerCache();
        QCOMPARE(cache.hitRatio, QStringLiteral("—"));
        QCOMPARE(cache.caption, QStringLiteral("cache hit ratio (60 s) · 58.2 % since start"));
        QCOMPARE(cache.lookups, QStringLiteral("hits 0 · misses 0 · bypassed 3"));
        QVERIFY2(cache.toolTip.contains(QStringLiteral("no lookups in the last 60 s")), qPrintable(cache.toolTip));

        // The cache off (a size limit of 0): "off", no size, no lookups line.
        s.cacheEnabled = false;
        s.cacheUsedBytes = s.cacheMaxBytes = s.cacheEntries = 0;
        s.last60s.cacheBypassed = 90;
        s.last10s.coalesced = 0;
        w.showSnapshot(s);
        cache = w.answerCache();
        QCOMPARE(cache.hitRatio, QStringLiteral("off"));
        QCOMPARE(cache.caption, QStringLiteral("answer cache"));
        QVERIFY(cache.size.isEmpty());
        QVERIFY(cache.lookups.isEmpty());
        QVERIFY(!w.findChild<QLabel *>(QStringLiteral("cacheLookups"))->isVisible());
        QVERIFY2(cache.toolTip.contains(QStringLiteral("The answer cache is off")), qPrintable(cache.toolTip));
        QCOMPARE(q->coalescedText(), QStringLiteral("coalesced 0 req/s (10 s) · 1") + nn + QStringLiteral("480 since start"));
    }

    // The same tile over the real collector: the budget the gauge source
    // reads (as GatewayRuntime composes it) reaches the window in its snapshots.
    // The tabs under the charts: the upstream quota panel first, then the
    // priority classes (with their chart), tiers & cost, tenants; fed
    // snapshots directly, each shows its figures, and an engine that does
    // not report them yet leaves placeholders. SLUICE_UI_SHOTS=DIR saves
    // a grab of the window with each tab open (to look at the layout).
    void detailTabsFromSnapshots()
    {
        Gateway gw(fastSim());
        MainWindow w({gw.engine.get(), nullptr}, info());
        w.resize(1400, 900);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QTabWidget *tabs = w.detailTabs();
        QStringList names;
        for (int i = 0; i < tabs->count(); ++i)
            names << tabs->tabText(i);
        QCOMPARE(names, (QStringList{QStringLiteral("Upstream quota"), QStringLiteral("Priority classes"),
                                     QStringLiteral("Tiers && cost"), QStringLiteral("Tenants")}));
        QCOMPARE(tabs->widget(0), w.quotaPanel());
        QCOMPARE(tabs->widget(1), w.priorityClassPanel());
        QCOMPARE(tabs->widget(2), w.tierCostPanel());
        QCOMPARE(tabs->widget(3), w.tenantPanel());
        QVERIFY(w.quotaPanel()->isVisible()); // the quota panel stays the first thing seen
        QCOMPARE(w.charts()->chartView(MetricsCharts::kClassChart)->parentWidget(), w.priorityClassPanel());

        // Before the engine reports classes, tiers and tenants: placeholders.
        w.showSnapshot(snapshotAt(1, 100, 5, 100));
        QCOMPARE(w.priorityClassPanel()->rows().size(), 3);
        QCOMPARE(w.priorityClassPanel()->rows()[0][1], QStringLiteral("—"));
        QVERIFY(!w.priorityClassPanel()->noteText().isEmpty());
        QCOMPARE(w.tierCostPanel()->costText(), QStringLiteral("$0.00"));
        QCOMPARE(w.tierCostPanel()->batchModeText(), QStringLiteral("Batch Mode: off"));
        QVERIFY(w.tenantPanel()->rows().isEmpty());

        for (int i = 2; i <= 12; ++i)
            w.showSnapshot(withClassesTiersTenants(snapshotAt(i * 0.25 + 1, 100, 5, 100), 12));
        QCOMPARE(w.priorityClassPanel()->rows()[1],
                 (QStringList{QStringLiteral("standard"), QStringLiteral("17"), QStringLiteral("450 ms"),
                              QStringLiteral("1800 ms"), QStringLiteral("30 ms"), QStringLiteral("220 ms"),
                              QStringLiteral("8") + QChar(0x202f) + QStringLiteral("800"), QStringLiteral("3"),
                              QStringLiteral("0")}));
        QVERIFY(w.priorityClassPanel()->noteText().isEmpty());
        QCOMPARE(w.charts()->series(MetricsCharts::Series::QueuedBackground)->count(), 11);
        QCOMPARE(w.tierCostPanel()->rows()[1][2], QStringLiteral("25")); // flex shed
        QCOMPARE(w.tierCostPanel()->costText(), QStringLiteral("$0.2268"));
        QCOMPARE(w.tierCostPanel()->savingText(), QStringLiteral("saving $0.1836 (44.7 %)"));
        QVERIFY(w.tierCostPanel()->batchModeText().startsWith(QStringLiteral("Batch Mode: gathering 12 · jobs running 2")));
        QCOMPARE(w.tenantPanel()->rows().size(), 12);
        QCOMPARE(w.tenantPanel()->summaryText(), QStringLiteral("12 tenants shown, most active first"));

        // Each tab, opened at the default size: its parts lie inside the
        // window, and the tables show their rows without cutting the header.
        const QString shots = qEnvironmentVariable("SLUICE_UI_SHOTS");
        for (int i = 0; i < tabs->count(); ++i) {
            tabs->setCurrentIndex(i);
            QWidget *panel = tabs->widget(i);
            QTRY_VERIFY(panel->isVisible());
            const QRect r(panel->mapTo(&w, QPoint(0, 0)), panel->size());
            QVERIFY2(w.rect().contains(r), qPrintable(tabs->tabText(i)));
            if (auto *table = panel->findChild<QTableWidget *>()) {
                QVERIFY(table->isVisible());
                // The class and tier tables show every row.
                if (i == 1 || i == 2)
                    QVERIFY2(table->viewport()->height() >= table->rowCount() * table->rowHeight(0),
                             qPrintable(tabs->tabText(i)));
            }
            if (!shots.isEmpty())
                QVERIFY(w.grab().save(QStringLiteral("%1/console-tab%2.png").arg(shots).arg(i)));
        }
        QVERIFY(!w.charts()->chartView(MetricsCharts::kClassChart)->isVisible()); // the tenants tab is open
        tabs->setCurrentIndex(1);
        QTRY_VERIFY(w.charts()->chartView(MetricsCharts::kClassChart)->isVisible());
        // Beside the tabs, what the open one shows, whole.
        auto *note = w.findChild<QLabel *>(QStringLiteral("detailTabNote"));
        QCOMPARE(note->text(), PriorityClassPanel::subtitle());
        QVERIFY(note->width() >= note->fontMetrics().horizontalAdvance(TierCostPanel::subtitle()));
        tabs->setCurrentIndex(0);
        QCOMPARE(note->text(), QuotaPanel::subtitle());
        // The console still fits a 1280x800 screen.
        QVERIFY2(w.minimumSizeHint().width() <= 1280 && w.minimumSizeHint().height() <= 780,
                 qPrintable(QStringLiteral("%1x%2").arg(w.minimumSizeHint().width()).arg(w.minimumSizeHint().height())));
    }

    void memoryBudgetFromTheCollector()
    {
        Gateway gw(fastSim(), {}, qint64(64) * 1024 * 1024);
        MainWindow w({gw.engine.get(), &gw.metrics}, info());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        gw.metrics.setPublishInterval(100ms);
        QTRY_COMPARE(w.memoryBudget().caption, QStringLiteral("memory budget 64 MiB"));
        QCOMPARE(w.memoryBudget().refusals, QStringLiteral("0 refused"));
        QVERIFY(!w.memoryBudget().refusalsHighlighted);
        QCOMPARE(w.memoryBudget().used, QStringLiteral("0 B"));
        QVERIFY(w.memoryBudget().meter);

        QVERIFY(gw.memory.tryCharge(qint64(40) * 1024 * 1024));
        QVERIFY(!gw.memory.tryCharge(qint64(30) * 1024 * 1024)); // would pass the budget: refused
        QTRY_COMPARE(w.memoryBudget().used, QStringLiteral("40 MiB"));
        QTRY_COMPARE(w.memoryBudget().refusals, QStringLiteral("1 refused"));
        QCOMPARE(w.memoryBudget().level, QStringLiteral("elevated")); // 62.5 %
        QCOMPARE(w.memoryBudget().meterPermille, 625);
        gw.memory.release(qint64(40) * 1024 * 1024);
        QTRY_COMPARE(w.memoryBudget().used, QStringLiteral("0 B"));
    }

    void loadTestPanelRunsLocustAndExportsTheBaseline()
    {
        // Real Locust (2 steps x 3 s) against the simulator's Gemini routes;
        // the panel shows progress and the curve, File → Export writes the
        // baseline, and a loaded baseline drives the drift label.
        Gateway gw(fastSim());
        LoadTestController loadTests(&gw.metrics);
        DriftMonitor drift(&gw.metrics);
        ConsoleInfo i = info();
        i.listeningUrl = gw.sim.baseUrl();
        MainWindow w({gw.engine.get(), &gw.metrics, &loadTests, &drift}, i);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        LoadTestPanel *panel = w.loadTestPanel();
        QVERIFY(panel->startButton()->isEnabled());
        QVERIFY(!panel->stopButton()->isEnabled());
        QVERIFY(!w.exportBaselineAction()->isEnabled());
        QCOMPARE(w.driftText(), QStringLiteral("Drift: no baseline"));

        panel->usersPerStep()->setValue(2);
        panel->stepSeconds()->setValue(3);
        panel->steps()->setValue(2);
        QSignalSpy finished(&loadTests, &LoadTestController::finished);
        panel->startButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(panel->stopButton()->isEnabled(), 10000);
        QVERIFY(!panel->startButton()->isEnabled());
        QTRY_VERIFY_WITH_TIMEOUT(panel->progress()->text().contains(QStringLiteral("step")), 10000);
        QVERIFY(finished.wait(60000));
        QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(finished.at(0).at(1).toString()));
        QCOMPARE(panel->curvePoints(), 2);
        QVERIFY(panel->startButton()->isEnabled());
        QVERIFY(!panel->resultLabel()->text().isEmpty());
        QVERIFY(w.exportBaselineAction()->isEnabled());

        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("baseline.json"));
        QString error;
        QVERIFY2(w.exportBaselineTo(path, &error), qPrintable(error));
        PerformanceBaseline b;
        QVERIFY2(PerformanceBaseline::load(path, &b, &error), qPrintable(error));
        QCOMPARE(b.steps.size(), 2);
        QCOMPARE(b.loadProfile.value(QStringLiteral("stepSeconds")).toInt(), 3);

        QVERIFY(drift.loadBaseline(path, &error));
        QTRY_VERIFY(w.driftText().contains(QStringLiteral("unknown")));
        QVERIFY(!drift.loadBaseline(dir.filePath(QStringLiteral("missing.json")), &error));
        QVERIFY(error.contains(QStringLiteral("missing.json")));
    }

    void settingsPersist()
    {
        Gateway gw(fastSim());
        {
            MainWindow w({gw.engine.get(), &gw.metrics}, info());
            w.show();
            QVERIFY(QTest::qWaitForWindowExposed(&w));
            w.resize(1234, 777);
            w.charts()->setWindowSeconds(300);
            QVERIFY(w.close()); // idle: closes at once
        }
        struct stat st {};
        QCOMPARE(::stat(QFile::encodeName(ConsoleSettings::filePath()).constData(), &st), 0);
        QCOMPARE(st.st_mode & 0777, 0600u);
        QVERIFY(ConsoleSettings::filePath().contains(QStringLiteral(".qttest")));

        MainWindow w2({gw.engine.get(), &gw.metrics}, info());
        w2.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w2));
        QCOMPARE(w2.size(), QSize(1234, 777));
        QCOMPARE(w2.charts()->windowSeconds(), 300);
        // A window that narrow wraps the headline figures rather than growing.
        QCOMPARE(w2.summaryRows(), 2);
    }

    void upstreamDialogKeepsKeySecret()
    {
        const QByteArray secret = "AIzaSy-test-secret-0123456789";
        static QStringList logged;
        logged.clear();
        const QtMessageHandler previous = qInstallMessageHandler([](QtMsgType, const QMessageLogContext &, const QString &m) {
            logged.append(m);
        });
        {
            ConsoleSettings settings;
            settings.setStoredApiKey({});
            UpstreamSettingsDialog dialog(&settings);
            QCOMPARE(dialog.apiKeyEdit()->echoMode(), QLineEdit::Password);
            const auto labels = dialog.findChildren<QLabel *>();
            QVERIFY(std::any_of(labels.begin(), labels.end(),
                                [](QLabel *l) { return l->text().contains(QStringLiteral("next start")); }));

            // Gemini without any key is refused.
            dialog.geminiButton()->setChecked(true);
            QString error;
            QVERIFY(!dialog.save(&error));
            QVERIFY(error.contains(QStringLiteral("API key")));

            QSignalSpy saved(&dialog, &UpstreamSettingsDialog::upstreamSaved);
            dialog.modelEdit()->setText(QStringLiteral("gemini-2.5-flash"));
            QTest::keyClicks(dialog.apiKeyEdit(), QString::fromLatin1(secret));
            QVERIFY(dialog.apiKeyEdit()->displayText() != QString::fromLatin1(secret));
            dialog.accept();
            QCOMPARE(saved.count(), 1);
            QCOMPARE(saved.at(0).at(0).value<UpstreamChoice>().kind, UpstreamChoice::Kind::Gemini);
            QVERIFY(dialog.apiKeyEdit()->text().isEmpty()); // not kept in the UI
        }
        qInstallMessageHandler(previous);
        for (const QString &m : std::as_const(logged))
            QVERIFY2(!m.contains(QString::fromLatin1(secret)), "the API key reached the log");

        ConsoleSettings reread;
        QCOMPARE(reread.effectiveApiKey(), secret);
        QCOMPARE(reread.upstream().kind, UpstreamChoice::Kind::Gemini);
        QCOMPARE(reread.upstream().model, QStringLiteral("gemini-2.5-flash"));
        struct stat st {};
        QCOMPARE(::stat(QFile::encodeName(ConsoleSettings::filePath()).constData(), &st), 0);
        QCOMPARE(st.st_mode & 0777, 0600u);

        // A reopened dialog never shows the stored key.
        {
            UpstreamSettingsDialog again(&reread);
            QVERIFY(again.apiKeyEdit()->text().isEmpty());
            QVERIFY(again.geminiButton()->isChecked());
        }

        // GEMINI_API_KEY wins over the file, and the field is disabled.
        qputenv("GEMINI_API_KEY", "env-key");
        QCOMPARE(reread.effectiveApiKey(), QByteArray("env-key"));
        {
            UpstreamSettingsDialog envDialog(&reread);
            QVERIFY(!envDialog.apiKeyEdit()->isEnabled());
        }
        qunsetenv("GEMINI_API_KEY");
        reread.setStoredApiKey({});
        reread.setUpstream({});
        QVERIFY(!reread.hasStoredApiKey());
    }

    void closeWhenIdleIsImmediate()
    {
        Gateway gw(fastSim());
        MainWindow w({gw.engine.get(), &gw.metrics}, info());
        w.show();
        QSignalSpy closing(&w, &MainWindow::closeRequested);
        QVERIFY(w.close());
        QCOMPARE(closing.count(), 1);
        QVERIFY(gw.engine->isDraining());
    }

    void closeDrainsWorkInFlight()
    {
        // Time-scaled simulator: ~225 ms per generation, 8 at once, so 240
        // requests in batches of 8 take a while to finish.
        SimulatorConfig sc;
        sc.baseLatencyMs = 450;
        sc.tokensPerSecond = 0;
        sc.jitterSigma = 0.1;
        sc.maxConcurrent = 8;
        sc.responseWords = 12;
        sc.timeScale = 0.5;
        EngineConfig ec;
        ec.maxBatchSize = 8;
        ec.maxInflightBatches = 4;
        ec.packing = PackingMode::Fanout;
        Gateway gw(sc, ec);
        MainWindow w({gw.engine.get(), &gw.metrics}, info());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));

        const int n = 240;
        std::atomic<int> done{0}, ok{0};
        for (int i = 0; i < n; ++i)
            QVERIFY(gw.engine->submit(request(i), [&](InferenceResult r) {
                if (r.status.ok())
                    ok.fetch_add(1);
                done.fetch_add(1);
            }).admitted);
        QTRY_VERIFY(gw.engine->counters().inflight > 0);

        QSignalSpy closing(&w, &MainWindow::closeRequested);
        QElapsedTimer t;
        t.start();
        QVERIFY(!w.close()); // deferred: work is queued / in flight
        QCOMPARE(closing.count(), 1);
        QVERIFY(w.isVisible());
        QVERIFY(w.isDraining());
        QVERIFY(w.drainDialog() && w.drainDialog()->isVisible());
        QVERIFY2(w.drainDialog()->labelText().contains(QStringLiteral("in flight")), qPrintable(w.drainDialog()->labelText()));
        // New work is refused while draining.
        QVERIFY(!gw.engine->submit(request(0), [](InferenceResult) {}).admitted);

        QTRY_VERIFY_WITH_TIMEOUT(!w.isVisible(), 30000);
        qInfo("drain on close: %d requests finished in %lld ms before the window closed", n, t.elapsed());
        const EngineCounters c = gw.engine->counters();
        QCOMPARE(c.admitted, quint64(n));
        QCOMPARE(c.completed, quint64(n));
        QCOMPARE(c.queued, 0u);
        QCOMPARE(c.inflight, 0u);
        QCOMPARE(ok.load(), n);
        QVERIFY(c.invariantHolds());
    }

    // The quota panel over the real stack: after requests it shows what the
    // upstream calls bought, and the budget's gauge follows the RPM knob.
    void quotaPanelShowsEfficiencyAndBudget()
    {
        EngineConfig ec;
        ec.packing = PackingMode::Pack;
        ec.maxBatchSize = 8;
        ec.maxWaitMs = 1000; // every batch fills: 32 requests, 8 per pack
        Gateway gw(fastSim(), ec);
        MainWindow w({gw.engine.get(), &gw.metrics}, info());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QuotaPanel *q = w.quotaPanel();
        QVERIFY(q->isVisible());
        QVERIFY(w.charts()->chartView(MetricsCharts::kQuotaChart)->isVisible()); // placed in the panel
        gw.metrics.setPublishInterval(100ms);
        QTRY_VERIFY(w.charts()->snapshotsReceived() > 0);
        // Nothing sent yet: no factor to tell, and no model in the budget.
        QCOMPARE(q->answersPerCallText(), QStringLiteral("—"));
        QCOMPARE(q->upstreamCallsText(), QStringLiteral("0"));
        QVERIFY(q->models().isEmpty());

        QCOMPARE(answerAll(gw.engine.get(), 32), 32);
        QTRY_COMPARE(q->answersText(), QStringLiteral("32"));
        const MetricsSnapshot snap = gw.metrics.snapshot();
        const quint64 calls = shownCount(q->upstreamCallsText());
        QCOMPARE(calls, snap.last60s.upstreamCalls);
        QVERIFY2(calls >= 4 && calls < 32, qPrintable(q->upstreamCallsText())); // packs, not one call each
        QCOMPARE(q->answersPerCallText(), QString::number(32.0 / double(calls), 'f', 2));
        QCOMPARE(shownCount(q->callsOfKindText(QStringLiteral("pack"))), snap.last60s.upstreamCallsByKind.value(QStringLiteral("pack")));
        QVERIFY(shownCount(q->callsOfKindText(QStringLiteral("pack"))) >= 4);
        QCOMPARE(q->callsOfKindText(QStringLiteral("single")), QStringLiteral("0"));
        QCOMPARE(q->upstream429Text(), QStringLiteral("0"));
        QVERIFY2(q->packMembersText().startsWith(QStringLiteral("answered 32 · ")), qPrintable(q->packMembersText()));
        // Its chart: the 10 s window's factor, above 1 while packs answer.
        const TimeSeriesRing &apc = w.charts()->history(MetricsCharts::Series::AnswersPerCall);
        QVERIFY(apc.size() > 0);
        QVERIFY(apc.at(apc.size() - 1).y() > 1);

        // The budget per model: the embedded simulator's quota is known and nothing is configured.
        QCOMPARE(q->models(), QStringList{kFlash});
        std::optional<QuotaPanel::ShownGauge> rpm = q->gauge(kFlash, QuotaView::Dimension::Rpm);
        QVERIFY(rpm);
        QCOMPARE(rpm->text, QStringLiteral("%1 used, no limit").arg(calls));
        QVERIFY(rpm->source.isEmpty()); // source "none": no chip
        QVERIFY(rpm->blocked.isEmpty());
        QVERIFY(!rpm->meter);
        QVERIFY(q->gauge(kFlash, QuotaView::Dimension::Tpm)->text.endsWith(QStringLiteral("used, no limit")));
        QVERIFY(!q->gauge(QStringLiteral("gemini-2.5-pro"), QuotaView::Dimension::Rpm));

        // The RPM limit set in the panel becomes the budget's, from config.
        spin(w, "rpmLimit")->setValue(600);
        QCOMPARE(gw.engine->config().rpmLimit, 600);
        QTRY_COMPARE(q->gauge(kFlash, QuotaView::Dimension::Rpm)->source, QStringLiteral("config"));
        rpm = q->gauge(kFlash, QuotaView::Dimension::Rpm);
        QVERIFY2(rpm->text.startsWith(QStringLiteral("%1 of 600 · ").arg(calls)), qPrintable(rpm->text));
        QVERIFY(rpm->meter);
        QCOMPARE(rpm->level, QStringLiteral("low"));
        QCOMPARE(rpm->meterPermille, int(double(calls) / 600 * 1000));
        // The other dimensions stay unconfigured.
        QVERIFY(q->gauge(kFlash, QuotaView::Dimension::Rpd)->source.isEmpty());
    }

    // An upstream with a small RPM quota: its 429s are counted, the budget
    // learns the limit from them and is blocked for the RetryInfo delay.
    void quotaPanelShowsLearnedLimitAndBlock()
    {
        SimulatorConfig sc = fastSim();
        sc.rpmLimit = 4;
        sc.timeScale = 0.1; // the simulator's minute is 6 s
        EngineConfig ec;
        ec.packing = PackingMode::Fanout;
        ec.maxBatchSize = 8;
        ec.requestTimeoutMs = 3000;
        Gateway gw(sc, ec);
        MainWindow w({gw.engine.get(), &gw.metrics}, info());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QuotaPanel *q = w.quotaPanel();
        gw.metrics.setPublishInterval(100ms);

        std::atomic<int> done{0};
        for (int i = 0; i < 8; ++i)
            QVERIFY(gw.engine->submit(request(i), [&](InferenceResult) { done.fetch_add(1); }).admitted);
        QTRY_VERIFY_WITH_TIMEOUT(q->gauge(kFlash, QuotaView::Dimension::Rpm)
                                     && !q->gauge(kFlash, QuotaView::Dimension::Rpm)->blocked.isEmpty(),
                                 10000);
        const QuotaPanel::ShownGauge rpm = *q->gauge(kFlash, QuotaView::Dimension::Rpm);
        QVERIFY2(rpm.blocked.startsWith(QStringLiteral("blocked for ")) && rpm.blocked.endsWith(QStringLiteral(" s")),
                 qPrintable(rpm.blocked));
        QCOMPARE(rpm.source, QStringLiteral("learned"));
        QVERIFY2(rpm.text.contains(QStringLiteral(" of 4 · ")), qPrintable(rpm.text));
        QCOMPARE(rpm.level, QStringLiteral("refusing"));
        // The budget learns at once; the 60 s window counts complete seconds only.
        QTRY_VERIFY(shownCount(q->upstream429Text()) >= 1);
        QVERIFY(q->findChild<QLabel *>(QStringLiteral("quotaUpstream429"))->styleSheet().contains(QStringLiteral("color")));
        // Each 429 is a failed attempt too, and says so by outcome.
        static const QRegularExpression failedLine(QStringLiteral("^failed attempts, retries incl\\. ([^ (]+) \\(429 ([^ )]+)"));
        QTRY_VERIFY2(failedLine.match(q->failedAttemptsText()).hasMatch(), qPrintable(q->failedAttemptsText()));
        const QRegularExpressionMatch fm = failedLine.match(q->failedAttemptsText());
        QVERIFY(shownCount(fm.captured(1)) >= shownCount(fm.captured(2)));
        QVERIFY(shownCount(fm.captured(2)) >= 1);
        QTRY_COMPARE_WITH_TIMEOUT(done.load(), 8, 30000);
    }

    // Soak (27 s of stepped load; ctest -L soak): the UI event loop stays
    // responsive, and the console screenshot is taken with full charts.
    void responsiveUnderLoadAndScreenshot()
    {
        SLUICE_SOAK_ONLY();
        SimulatorConfig sc;
        sc.baseLatencyMs = 120;
        sc.tokensPerSecond = 400;
        sc.jitterSigma = 0.35;
        sc.maxConcurrent = 64;
        sc.responseWords = 24;
        sc.timeScale = 0.5;
        EngineConfig ec;
        ec.maxBatchSize = 16;
        ec.maxWaitMs = 10;
        ec.maxQueue = 1500;
        ec.maxInflightBatches = 16;
        // A configured RPM the higher steps exceed, so auto packing starts and
        // the quota panel shows a pack factor, pack calls and a meter.
        ec.rpmLimit = 12000;
        // A memory budget the load thread charges as the HTTP front would
        // (about 17 KiB per request outstanding), so the tile has a meter.
        Gateway gw(sc, ec, qint64(64) * 1024 * 1024);
        MainWindow w({gw.engine.get(), &gw.metrics}, info());
        w.resize(1400, 900);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.charts()->setWindowSeconds(30);
        w.setConsoleInfo(info());

        LoopLatencyProbe probe;
        LoadThread load(gw.engine.get(), 50, &gw.memory);
        // A stepped load so the charts show the queue building up.
        const int steps[] = {50, 150, 400, 900, 1200, 600};
        for (int target : steps) {
            load.setTarget(target);
            QTest::qWait(4500);
        }
        const double p50 = probe.percentile(0.5), p99 = probe.percentile(0.99), max = probe.percentile(1.0);
        const EngineCounters c = gw.engine->counters();
        qInfo("UI event-loop latency under load (%zu samples of a 20 ms timer): p50 %.1f ms, p99 %.1f ms, max %.1f ms; "
              "engine completed %llu requests, %llu batches, %llu snapshots drawn",
              probe.samples(), p50, p99, max, static_cast<unsigned long long>(c.completed),
              static_cast<unsigned long long>(c.batchesDispatched),
              static_cast<unsigned long long>(w.charts()->redraws()));
        QVERIFY2(p99 < 200, qPrintable(QStringLiteral("UI p99 latency %1 ms").arg(p99)));
        QVERIFY(c.completed > 1000);
        QVERIFY(w.charts()->snapshotsReceived() >= 60); // 4 Hz for 27 s
        // The memory tile in the screenshot: the load's use against the budget.
        const MainWindow::ShownMemoryBudget memory = w.memoryBudget();
        QVERIFY2(memory.meter && memory.caption == QStringLiteral("memory budget 64 MiB"), qPrintable(memory.caption));
        QVERIFY2(memory.used != QStringLiteral("0 B"), qPrintable(memory.used));
        QVERIFY(w.findChild<QProgressBar *>(QStringLiteral("memoryBudgetMeter"))->isVisible());
        QCOMPARE(w.summaryRows(), 2);

        const QString dir = QStringLiteral(SLUICE_SOURCE_DIR "/tests/artifacts");
        QVERIFY(QDir().mkpath(dir));
        const QPixmap shot = w.grab();
        QVERIFY(!shot.isNull());
        QVERIFY(shot.save(dir + QStringLiteral("/console.png")));
        qInfo("screenshot: %s/console.png (%dx%d)", qPrintable(dir), shot.width(), shot.height());
        load.stop();
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
