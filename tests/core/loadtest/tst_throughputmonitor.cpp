#include "core/loadtest/throughputmonitor.h"

#include <QTest>

#include <random>

Q_DECLARE_METATYPE(QList<BaselineStep>)

namespace {

// A closed-loop system with capacity `cap` req/s and service time `svc` s:
// below saturation throughput = users / svc, above it = cap and latency grows
// as users / cap.
QList<BaselineStep> curve(const QList<int> &users, double cap, double svc, double noise, unsigned seed)
{
    std::mt19937 rng(seed);
    std::normal_distribution<double> n(0.0, noise);
    QList<BaselineStep> out;
    for (int u : users) {
        BaselineStep s;
        s.users = u;
        const double ideal = double(u) / svc;
        s.offeredRps = ideal;
        s.achievedRps = std::min(ideal, cap) * (1.0 + n(rng));
        const double latency = std::max(svc, double(u) / cap);
        s.p50Ms = latency * 1000 * 0.9;
        s.p95Ms = latency * 1000 * (1.2 + n(rng));
        s.p99Ms = latency * 1000 * 1.5;
        s.queueDepthMean = std::max(0.0, double(u) - cap * svc);
        out << s;
    }
    return out;
}

} // namespace

class TestThroughputMonitor : public QObject
{
    Q_OBJECT
private slots:
    void findInflection_data()
    {
        QTest::addColumn<QList<BaselineStep>>("steps");
        QTest::addColumn<bool>("found");
        QTest::addColumn<int>("kneeUsers");
        QTest::addColumn<double>("kneeRps");

        const QList<int> users{8, 16, 24, 32, 40, 48, 56, 64};
        // capacity 64 req/s at 0.5 s service: saturates at 32 users.
        QTest::newRow("saturating") << curve(users, 64, 0.5, 0.0, 1) << true << 32 << 64.0;
        QTest::newRow("saturating, noisy") << curve(users, 64, 0.5, 0.03, 2) << true << 32 << 64.0;
        QTest::newRow("linear (never saturates)") << curve(users, 1e9, 0.5, 0.0, 3) << false << 0 << 0.0;
        QTest::newRow("linear, noisy") << curve(users, 1e9, 0.5, 0.01, 4) << false << 0 << 0.0;
        QTest::newRow("too few steps") << curve({8, 16}, 20, 0.5, 0, 5) << false << 0 << 0.0;
        // Flat from the start: throughput does not vary.
        QTest::newRow("flat") << curve(users, 1, 0.5, 0.0, 6) << false << 0 << 0.0;
    }
    void findInflection()
    {
        QFETCH(QList<BaselineStep>, steps);
        QFETCH(bool, found);
        QFETCH(int, kneeUsers);
        QFETCH(double, kneeRps);
        const KneeResult r = ThroughputMonitor::findInflection(steps);
        QCOMPARE(r.found, found);
        QVERIFY(!r.reason.isEmpty());
        if (found) {
            QCOMPARE(r.inflection.users, kneeUsers);
            QVERIFY2(qAbs(r.inflection.throughputRps - kneeRps) <= kneeRps * 0.15,
                     qPrintable(QString::number(r.inflection.throughputRps)));
            QCOMPARE(r.inflection.queueDepth, steps[r.index].queueDepthMean);
            QVERIFY(r.inflection.method.contains(QStringLiteral("kneedle")));
        }
    }

    void flatLatencyIsNoKnee()
    {
        // Throughput flattens (e.g. the load generator itself is the limit)
        // but latency does not rise: not a gateway saturation.
        QList<BaselineStep> steps = curve({8, 16, 24, 32, 40, 48}, 40, 0.5, 0, 1);
        for (BaselineStep &s : steps)
            s.p95Ms = 600;
        const KneeResult r = ThroughputMonitor::findInflection(steps);
        QVERIFY(!r.found);
        QVERIFY(r.reason.contains(QStringLiteral("p95 rose only")));
    }

    void accumulatesServerSide()
    {
        ThroughputMonitor m;
        m.stepStarted(10);
        for (int depth : {2, 4, 9}) {
            MetricsSnapshot s;
            s.queueDepth = depth;
            s.last1s.promptTokensPerSecond = 100;
            s.last1s.outputTokensPerSecond = 50;
            m.observe(s);
        }
        BaselineStep client;
        client.achievedRps = 20;
        const BaselineStep s = m.stepFinished(client);
        QCOMPARE(s.users, 10);
        QCOMPARE(s.queueDepthMean, 5.0);
        QCOMPARE(s.queueDepthMax, 9.0);
        QCOMPARE(s.tokensPerSecond, 150.0);
        QCOMPARE(m.curve().size(), 1);
    }
};

QTEST_GUILESS_MAIN(TestThroughputMonitor)
#include "tst_throughputmonitor.moc"
