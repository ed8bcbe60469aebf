#include "core/drift/latencydriftsignal.h"

#include <QTest>

#include <random>

using namespace std::chrono;

namespace {

LatencyHistogram lognormal(double medianMs, double sigma, int n, unsigned seed)
{
    std::mt19937 rng(seed);
    std::lognormal_distribution<double> dist(std::log(medianMs * 1e6), sigma);
    LatencyHistogram h;
    for (int i = 0; i < n; ++i)
        h.record(nanoseconds(int64_t(dist(rng))));
    return h;
}

PerformanceBaseline baselineFrom(const LatencyHistogram &h)
{
    PerformanceBaseline b;
    b.healthy.p50Ms = double(h.quantileNs(0.5)) / 1e6;
    b.healthy.p95Ms = double(h.quantileNs(0.95)) / 1e6;
    b.healthy.p99Ms = double(h.quantileNs(0.99)) / 1e6;
    b.healthy.histogram = LatencyDriftSignal::histogramFrom(h);
    return b;
}

} // namespace

class TestLatencyDriftSignal : public QObject
{
    Q_OBJECT
private slots:
    void noBaselineIsUnknown()
    {
        LatencyDriftSignal s;
        const DriftReading r = s.evaluate(lognormal(450, 0.2, 500, 1));
        QCOMPARE(r.state, DriftState::Unknown);
        QVERIFY(!r.judged);
    }

    void sameDistributionStaysOk()
    {
        LatencyDriftSignal s;
        s.setBaseline(baselineFrom(lognormal(450, 0.2, 20000, 1)));
        for (unsigned w = 0; w < 60; ++w) {
            const DriftReading r = s.evaluate(lognormal(450, 0.2, 400, 100 + w));
            QVERIFY(r.judged);
            QCOMPARE(r.state, DriftState::Ok);
            QVERIFY2(r.score < 0.8, qPrintable(QString::number(r.score)));
        }
    }

    void fiftyPercentSlowerDriftsWithinBoundedWindows()
    {
        LatencyDriftSignal s;
        s.setBaseline(baselineFrom(lognormal(450, 0.2, 20000, 1)));
        QCOMPARE(s.evaluate(lognormal(450, 0.2, 400, 2)).state, DriftState::Ok);
        int windows = 0;
        DriftReading r;
        do {
            r = s.evaluate(lognormal(675, 0.2, 400, 10 + windows));
            ++windows;
        } while (r.state != DriftState::Drift && windows < 10);
        QCOMPARE(r.state, DriftState::Drift);
        QVERIFY2(windows <= 2, qPrintable(QString::number(windows))); // enterWindows = 2
        QVERIFY(r.score >= 1.0);
        QVERIFY(r.ratioP50 > 1.4 && r.ratioP50 < 1.6);
        QVERIFY(r.distance > 0.35);
    }

    void hysteresisNeedsConsecutiveWindows()
    {
        LatencyDriftSignal s;
        s.setBaseline(baselineFrom(lognormal(450, 0.2, 20000, 1)));
        QCOMPARE(s.evaluate(lognormal(450, 0.2, 400, 2)).state, DriftState::Ok);
        // A single slow window then normal ones: no transition at all.
        DriftReading r = s.evaluate(lognormal(700, 0.2, 400, 3));
        QCOMPARE(r.level, DriftState::Drift);
        QCOMPARE(r.state, DriftState::Ok);
        QCOMPARE(s.evaluate(lognormal(450, 0.2, 400, 4)).state, DriftState::Ok);
        // Two slow windows: drift; then it takes three normal windows to recover.
        s.evaluate(lognormal(700, 0.2, 400, 5));
        r = s.evaluate(lognormal(700, 0.2, 400, 6));
        QCOMPARE(r.state, DriftState::Drift);
        QVERIFY(r.changed);
        QCOMPARE(s.evaluate(lognormal(450, 0.2, 400, 7)).state, DriftState::Drift);
        QCOMPARE(s.evaluate(lognormal(450, 0.2, 400, 8)).state, DriftState::Drift);
        r = s.evaluate(lognormal(450, 0.2, 400, 9));
        QCOMPARE(r.state, DriftState::Ok);
        QVERIFY(r.changed);
    }

    void tooFewSamplesKeepState()
    {
        LatencyDriftSignal s;
        s.setBaseline(baselineFrom(lognormal(450, 0.2, 20000, 1)));
        QCOMPARE(s.evaluate(lognormal(450, 0.2, 400, 2)).state, DriftState::Ok);
        const DriftReading r = s.evaluate(lognormal(5000, 0.2, 5, 3));
        QVERIFY(!r.judged);
        QCOMPARE(r.state, DriftState::Ok);
    }

    void distanceIsOneSidedKolmogorovSmirnov()
    {
        const LatencyHistogram a = lognormal(100, 0.3, 20000, 1);
        QVERIFY(LatencyDriftSignal::distance(LatencyDriftSignal::histogramFrom(a), a) < 0.01);
        // Entirely separated distributions: distance 1.
        LatencyHistogram fast, slow;
        for (int i = 0; i < 1000; ++i) {
            fast.record(milliseconds(2));
            slow.record(milliseconds(2000));
        }
        QVERIFY(LatencyDriftSignal::distance(LatencyDriftSignal::histogramFrom(fast), slow) > 0.99);
        // One-sided: a faster live window is no degradation.
        QCOMPARE(LatencyDriftSignal::distance(LatencyDriftSignal::histogramFrom(slow), fast), 0.0);
    }
};

QTEST_GUILESS_MAIN(TestLatencyDriftSignal)
#include "tst_latencydriftsignal.moc"
