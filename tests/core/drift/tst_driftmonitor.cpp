// DriftMonitor on a live engine: GeminiSimulator → GeminiClient →
// BatchInferenceEngine → InferenceMetricsCollector, real time, 1 s windows.
//  - steady load: every window judged ok, no transition away from ok (a few
//    windows in the default set; 60 windows, a minute, in the soak);
//  - then the simulator's service time raised by 50% at run time: drift
//    within a bounded number of windows.
#include "core/drift/driftmonitor.h"
#include "core/engine/batchinferenceengine.h"
#include "core/gemini/geminiclient.h"
#include "core/metrics/inferencemetricscollector.h"
#include "server/simulator/geminisimulator.h"
#include "tests/support/soak.h"

#include <QJsonArray>
#include <QSignalSpy>
#include <QTest>

#include <atomic>

using namespace std::chrono_literals;

namespace {

// Keeps `outstanding` requests in flight through the engine, from the test's thread.
class SteadyLoad
{
public:
    SteadyLoad(BatchInferenceEngine *engine, int outstanding) : m_engine(engine)
    {
        for (int i = 0; i < outstanding; ++i)
            submit();
    }
    ~SteadyLoad() { m_stop = true; }
    void stop() { m_stop = true; }
    int inFlight() const { return m_inFlight.load(); }

private:
    void submit()
    {
        if (m_stop)
            return;
        InferenceRequest r;
        r.model = QStringLiteral("gemini-2.0-flash");
        r.body = QJsonObject{{QStringLiteral("contents"),
                              QJsonArray{QJsonObject{{QStringLiteral("parts"),
                                                      QJsonArray{QJsonObject{{QStringLiteral("text"), QStringLiteral("steady %1").arg(++m_n)}}}}}}}};
        ++m_inFlight;
        m_engine->submit(std::move(r), [this](InferenceResult) {
            --m_inFlight;
            // Resubmit from the main thread: callbacks run on upstream threads.
            QMetaObject::invokeMethod(qApp, [this] { submit(); }, Qt::QueuedConnection);
        });
    }
    BatchInferenceEngine *m_engine;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_inFlight{0};
    int m_n = 0;
};

} // namespace

class TestDriftMonitor : public QObject
{
    Q_OBJECT
private slots:
    // Default set (~12 s): a few steady windows, then the slower service drifts.
    void slowerServiceDrifts() { steadyThenSlower(3); }

    // Soak (~67 s, ctest -L soak): a minute of steady load never leaves ok,
    // then the slower service drifts.
    void steadyMinuteStaysOkThenDrifts()
    {
        SLUICE_SOAK_ONLY();
        steadyThenSlower(60);
    }

private:
    void steadyThenSlower(int steadyWindows)
    {
        SimulatorConfig sc;
        sc.baseLatencyMs = 200;
        sc.tokensPerSecond = 0;
        sc.jitterSigma = 0.1;
        sc.maxConcurrent = 256;
        GeminiSimulator sim(sc);
        QVERIFY(sim.start());
        GeminiClientConfig cc;
        cc.baseUrl = sim.baseUrl();
        GeminiClient client(cc);
        InferenceMetricsCollector metrics;
        // fanout: every request is its own upstream call, so a 1 s window holds
        // ~300 independent latencies (members of a packed call finish together,
        // which makes short windows statistically thin).
        EngineConfig ec;
        ec.packing = PackingMode::Fanout;
        ec.maxBatchSize = 8;
        ec.maxWaitMs = 2;
        BatchInferenceEngine engine(&client, ec, Clock::steady(), &metrics);
        engine.start();
        SteadyLoad load(&engine, 64);

        // Healthy reference: 3 s of the same steady load.
        QTest::qWait(4000); // real time must pass for the metrics windows; nothing to poll for
        const LatencyHistogram healthy = metrics.windowHistogram(InferenceMetricsCollector::Histogram::Latency, 3);
        QVERIFY2(healthy.count() > 100, qPrintable(QString::number(healthy.count())));
        PerformanceBaseline b;
        b.healthy.p50Ms = double(healthy.quantileNs(0.50)) / 1e6;
        b.healthy.p95Ms = double(healthy.quantileNs(0.95)) / 1e6;
        b.healthy.p99Ms = double(healthy.quantileNs(0.99)) / 1e6;
        b.healthy.histogram = LatencyDriftSignal::histogramFrom(healthy);

        DriftMonitor drift(&metrics);
        drift.setInterval(1000ms);
        QSignalSpy evaluated(&drift, &DriftMonitor::evaluated);
        drift.setBaseline(b);

        // Steady windows: ok throughout, no transition.
        QList<DriftState> states;
        const int steadyTimeoutMs = steadyWindows * 1000 + 30000;
        QTRY_VERIFY_WITH_TIMEOUT(evaluated.size() >= steadyWindows, steadyTimeoutMs);
        double maxScore = 0;
        for (const auto &args : evaluated) {
            const DriftReading r = args.at(0).value<DriftReading>();
            QVERIFY(r.judged);
            maxScore = std::max(maxScore, r.score);
            QVERIFY2(r.state == DriftState::Ok,
                     qPrintable(QStringLiteral("window %1: state %2, score %3, p95 ratio %4, distance %5")
                                    .arg(states.size()).arg(driftStateName(r.state)).arg(r.score).arg(r.ratioP95).arg(r.distance)));
            states << r.state;
        }
        qInfo("steady: %d windows ok, highest score %.2f", int(states.size()), maxScore);

        // Service time +50% at run time: drift within 4 windows.
        sc.baseLatencyMs = 300;
        sim.setConfig(sc);
        evaluated.clear();
        QTRY_VERIFY_WITH_TIMEOUT(!evaluated.isEmpty()
                                     && evaluated.last().at(0).value<DriftReading>().state == DriftState::Drift,
                                 15000);
        QVERIFY2(evaluated.size() <= 4, qPrintable(QStringLiteral("drift took %1 windows").arg(evaluated.size())));
        const DriftReading r = drift.reading();
        QVERIFY(r.score >= 1.0);
        QVERIFY(r.ratioP50 > 1.3);
        qInfo("slower: drift after %d windows, score %.2f, p50 ratio %.2f, KS %.2f", int(evaluated.size()), r.score,
              r.ratioP50, r.distance);
        QCOMPARE(drift.toJson().value(QStringLiteral("state")).toString(), QStringLiteral("drift"));

        load.stop();
        engine.drain();
        QTRY_COMPARE_WITH_TIMEOUT(load.inFlight(), 0, 10000);
        engine.stop();
    }
};

QTEST_GUILESS_MAIN(TestDriftMonitor)
#include "tst_driftmonitor.moc"
