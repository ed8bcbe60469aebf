#include "core/engine/batchpolicy.h"

#include <QTest>

#include <vector>

using namespace std::chrono_literals;
using Kind = PolicyDecision::Kind;

Q_DECLARE_METATYPE(PolicyDecision::Kind)

namespace {
const SteadyTime t0 = SteadyTime{} + 1h;

struct Q {
    int size;
    int ageMs;
    double rate = 0;
};
} // namespace

class TestBatchPolicy : public QObject
{
    Q_OBJECT
private slots:
    void decide_data()
    {
        QTest::addColumn<int>("maxBatch");
        QTest::addColumn<int>("maxWaitMs");
        QTest::addColumn<int>("maxInflight");
        QTest::addColumn<int>("inflight");
        QTest::addColumn<bool>("draining");
        QTest::addColumn<bool>("adaptive");
        QTest::addColumn<QList<int>>("quotaInMs"); // per queue (missing: 0)
        QTest::addColumn<QList<int>>("sizes");
        QTest::addColumn<QList<int>>("agesMs");
        QTest::addColumn<QList<double>>("rates");
        QTest::addColumn<PolicyDecision::Kind>("kind");
        QTest::addColumn<int>("queueIndex");
        QTest::addColumn<int>("count");
        QTest::addColumn<int>("waitMs");

        using L = QList<int>;
        using D = QList<double>;
        QTest::newRow("empty") << 8 << 10 << 4 << 0 << false << false << L{0} << L{} << L{} << D{} << Kind::Idle << -1 << 0 << 0;
        QTest::newRow("all queues empty") << 8 << 10 << 4 << 0 << false << false << L{0} << L{0, 0} << L{0, 0} << D{0, 0}
                                          << Kind::Idle << -1 << 0 << 0;
        QTest::newRow("full batch dispatches at once") << 8 << 10 << 4 << 0 << false << false << L{0} << L{8} << L{0} << D{0}
                                                       << Kind::Dispatch << 0 << 8 << 0;
        QTest::newRow("over-full takes maxBatch") << 8 << 10 << 4 << 0 << false << false << L{0} << L{20} << L{0} << D{0}
                                                  << Kind::Dispatch << 0 << 8 << 0;
        QTest::newRow("partial waits remaining time") << 8 << 10 << 4 << 0 << false << false << L{0} << L{3} << L{4} << D{0}
                                                      << Kind::Wait << -1 << 0 << 6;
        QTest::newRow("partial at max wait dispatches") << 8 << 10 << 4 << 0 << false << false << L{0} << L{3} << L{10} << D{0}
                                                        << Kind::Dispatch << 0 << 3 << 0;
        QTest::newRow("zero wait dispatches singles") << 8 << 0 << 4 << 0 << false << false << L{0} << L{1} << L{0} << D{0}
                                                      << Kind::Dispatch << 0 << 1 << 0;
        QTest::newRow("oldest ready key first") << 8 << 10 << 4 << 0 << false << false << L{0} << L{8, 2, 3} << L{1, 30, 12}
                                                << D{0, 0, 0} << Kind::Dispatch << 1 << 2 << 0;
        QTest::newRow("earliest wait among keys") << 8 << 10 << 4 << 0 << false << false << L{0} << L{1, 2} << L{2, 7}
                                                  << D{0, 0} << Kind::Wait << -1 << 0 << 3;
        QTest::newRow("no slot") << 8 << 10 << 4 << 4 << false << false << L{0} << L{8} << L{50} << D{0}
                                 << Kind::WaitForSlot << -1 << 0 << 0;
        QTest::newRow("quota wait") << 8 << 10 << 4 << 0 << false << false << L{250} << L{8} << L{50} << D{0}
                                    << Kind::Wait << -1 << 0 << 250;
        QTest::newRow("a queue without budget is passed over")
            << 8 << 10 << 4 << 0 << false << false << L{250, 0} << L{8, 3} << L{50, 20} << D{0, 0}
            << Kind::Dispatch << 1 << 3 << 0;
        QTest::newRow("waits for the later of maxWait and budget")
            << 8 << 10 << 4 << 0 << false << false << L{30, 0} << L{3, 0} << L{2, 0} << D{0, 0}
            << Kind::Wait << -1 << 0 << 30;
        QTest::newRow("budget back before maxWait: maxWait decides")
            << 8 << 10 << 4 << 0 << false << false << L{3} << L{3} << L{2} << D{0} << Kind::Wait << -1 << 0 << 8;
        QTest::newRow("budget wait among keys, the soonest")
            << 8 << 10 << 4 << 0 << false << false << L{400, 120} << L{8, 8} << L{50, 0} << D{0, 0}
            << Kind::Wait << -1 << 0 << 120;
        QTest::newRow("draining dispatches partial") << 8 << 10 << 4 << 0 << true << false << L{0} << L{2} << L{0} << D{0}
                                                     << Kind::Dispatch << 0 << 2 << 0;
        QTest::newRow("adaptive: slow arrivals go now") << 8 << 10 << 4 << 0 << false << true << L{0} << L{2} << L{1} << D{20}
                                                        << Kind::Dispatch << 0 << 2 << 0;
        QTest::newRow("adaptive: fast arrivals wait") << 8 << 10 << 4 << 0 << false << true << L{0} << L{2} << L{1} << D{5000}
                                                      << Kind::Wait << -1 << 0 << 9;
    }

    void decide()
    {
        QFETCH(int, maxBatch);
        QFETCH(int, maxWaitMs);
        QFETCH(int, maxInflight);
        QFETCH(int, inflight);
        QFETCH(bool, draining);
        QFETCH(bool, adaptive);
        QFETCH(QList<int>, quotaInMs);
        QFETCH(QList<int>, sizes);
        QFETCH(QList<int>, agesMs);
        QFETCH(QList<double>, rates);
        QFETCH(PolicyDecision::Kind, kind);
        QFETCH(int, queueIndex);
        QFETCH(int, count);
        QFETCH(int, waitMs);

        EngineConfig cfg;
        cfg.maxBatchSize = maxBatch;
        cfg.maxWaitMs = maxWaitMs;
        cfg.maxInflightBatches = maxInflight;
        cfg.adaptive = adaptive;

        std::vector<KeyQueueView> views;
        for (int i = 0; i < sizes.size(); ++i)
            views.push_back({sizes[i], t0 - std::chrono::milliseconds(agesMs[i]), rates[i],
                             t0 + std::chrono::milliseconds(quotaInMs.value(i, 0))});

        PolicyInput in;
        in.now = t0;
        in.config = &cfg;
        in.inflightBatches = inflight;
        in.draining = draining;
        in.queues = views;

        const PolicyDecision d = BatchPolicy::decide(in);
        QCOMPARE(d.kind, kind);
        if (kind == Kind::Dispatch) {
            QCOMPARE(d.queueIndex, queueIndex);
            QCOMPARE(d.count, count);
        }
        if (kind == Kind::Wait)
            QCOMPARE(std::chrono::duration_cast<std::chrono::milliseconds>(d.wait).count(), qint64(waitMs));
    }

    // Queues whose members never share a call (countTokens): ready at once,
    // one member per batch, yet held by the in-flight limit and the budget.
    void aloneQueues_data()
    {
        QTest::addColumn<int>("inflight");
        QTest::addColumn<QList<int>>("quotaInMs");
        QTest::addColumn<QList<int>>("sizes");
        QTest::addColumn<QList<int>>("agesMs");
        QTest::addColumn<QList<bool>>("alone");
        QTest::addColumn<PolicyDecision::Kind>("kind");
        QTest::addColumn<int>("queueIndex");
        QTest::addColumn<int>("count");
        QTest::addColumn<int>("waitMs");

        using L = QList<int>;
        using B = QList<bool>;
        QTest::newRow("one member goes at once") << 0 << L{0} << L{1} << L{0} << B{true} << Kind::Dispatch << 0 << 1 << 0;
        QTest::newRow("many go one per batch") << 0 << L{0} << L{20} << L{0} << B{true} << Kind::Dispatch << 0 << 1 << 0;
        QTest::newRow("no slot: waits like any batch") << 4 << L{0} << L{20} << L{50} << B{true} << Kind::WaitForSlot << -1 << 0 << 0;
        QTest::newRow("no budget: waits for it") << 0 << L{250} << L{3} << L{0} << B{true} << Kind::Wait << -1 << 0 << 250;
        QTest::newRow("goes before a batch still filling") << 0 << L{0, 0} << L{3, 1} << L{2, 0} << B{false, true}
                                                           << Kind::Dispatch << 1 << 1 << 0;
        QTest::newRow("an older ready batch goes first") << 0 << L{0, 0} << L{8, 5} << L{5, 1} << B{false, true}
                                                         << Kind::Dispatch << 0 << 8 << 0;
    }

    void aloneQueues()
    {
        QFETCH(int, inflight);
        QFETCH(QList<int>, quotaInMs);
        QFETCH(QList<int>, sizes);
        QFETCH(QList<int>, agesMs);
        QFETCH(QList<bool>, alone);
        QFETCH(PolicyDecision::Kind, kind);
        QFETCH(int, queueIndex);
        QFETCH(int, count);
        QFETCH(int, waitMs);

        EngineConfig cfg;
        cfg.maxBatchSize = 8;
        cfg.maxWaitMs = 10;
        cfg.maxInflightBatches = 4;
        std::vector<KeyQueueView> views;
        for (int i = 0; i < sizes.size(); ++i) {
            KeyQueueView v{sizes[i], t0 - std::chrono::milliseconds(agesMs[i]), 0,
                           t0 + std::chrono::milliseconds(quotaInMs.value(i, 0))};
            v.alone = alone[i];
            views.push_back(v);
        }
        PolicyInput in;
        in.now = t0;
        in.config = &cfg;
        in.inflightBatches = inflight;
        in.queues = views;

        const PolicyDecision d = BatchPolicy::decide(in);
        QCOMPARE(d.kind, kind);
        if (kind == Kind::Dispatch) {
            QCOMPARE(d.queueIndex, queueIndex);
            QCOMPARE(d.count, count);
        }
        if (kind == Kind::Wait)
            QCOMPARE(std::chrono::duration_cast<std::chrono::milliseconds>(d.wait).count(), qint64(waitMs));
    }

    void adaptiveOverTargetStopsWaiting()
    {
        EngineConfig cfg;
        cfg.maxBatchSize = 8;
        cfg.maxWaitMs = 50;
        cfg.adaptive = true;
        cfg.targetP95Ms = 100;
        const std::vector<KeyQueueView> views{{2, t0 - 1ms, 1e6, t0}};
        PolicyInput in;
        in.now = t0;
        in.config = &cfg;
        in.queues = views;
        in.liveP95 = 50ms;
        QCOMPARE(BatchPolicy::decide(in).kind, Kind::Wait);
        in.liveP95 = 150ms;
        QCOMPARE(BatchPolicy::decide(in).kind, Kind::Dispatch);
    }
};

QTEST_GUILESS_MAIN(TestBatchPolicy)
#include "tst_batchpolicy.moc"
