#include "core/metrics/latencyhistogram.h"

#include <QTest>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using namespace std::chrono;

class TestLatencyHistogram : public QObject
{
    Q_OBJECT
private slots:
    void bucketsAreContiguousAndNarrow()
    {
        for (int i = 0; i + 1 < LatencyHistogram::kBucketCount; ++i) {
            QCOMPARE(LatencyHistogram::bucketUpperBound(i), LatencyHistogram::bucketLowerBound(i + 1));
            const uint64_t lo = LatencyHistogram::bucketLowerBound(i);
            const uint64_t width = LatencyHistogram::bucketUpperBound(i) - lo;
            if (lo >= 64)
                QVERIFY2(double(width) / double(lo) <= 1.0 / 64 + 1e-12, qPrintable(QString::number(i)));
        }
        // Every value maps into the bucket whose bounds contain it.
        std::mt19937_64 rng(7);
        for (int n = 0; n < 200000; ++n) {
            const uint64_t v = rng() % LatencyHistogram::kMaxTrackable;
            const int idx = LatencyHistogram::bucketIndex(v);
            QVERIFY(LatencyHistogram::bucketLowerBound(idx) <= v);
            QVERIFY(v < LatencyHistogram::bucketUpperBound(idx));
        }
        QCOMPARE(LatencyHistogram::bucketIndex(LatencyHistogram::kMaxTrackable), LatencyHistogram::kBucketCount - 1);
        // 100 s fits below the clamp.
        QVERIFY(uint64_t(duration_cast<nanoseconds>(100s).count()) < LatencyHistogram::kMaxTrackable);
    }

    void quantilesMatchExactSort_data()
    {
        QTest::addColumn<QString>("distribution");
        QTest::addColumn<int>("samples");
        QTest::newRow("uniform 1us-100s") << "uniform" << 100000;
        QTest::newRow("lognormal around 450ms") << "lognormal" << 100000;
        QTest::newRow("exponential 5ms") << "exponential" << 100000;
        QTest::newRow("bimodal 2ms/800ms") << "bimodal" << 100000;
        QTest::newRow("pareto heavy tail") << "pareto" << 100000;
        QTest::newRow("small sample") << "lognormal" << 37;
        QTest::newRow("micro 1-50us") << "micro" << 50000;
    }

    void quantilesMatchExactSort()
    {
        QFETCH(QString, distribution);
        QFETCH(int, samples);
        std::mt19937_64 rng(42);
        std::vector<uint64_t> values;
        values.reserve(size_t(samples));
        const auto clampNs = [](double ns) {
            return uint64_t(std::clamp(ns, 1000.0, 100e9));
        };
        for (int i = 0; i < samples; ++i) {
            double ns = 0;
            if (distribution == QLatin1String("uniform")) {
                // uniform in log space over the whole supported range
                ns = std::pow(10.0, std::uniform_real_distribution<double>(3.0, 11.0)(rng));
            } else if (distribution == QLatin1String("lognormal")) {
                ns = std::lognormal_distribution<double>(std::log(450e6), 0.4)(rng);
            } else if (distribution == QLatin1String("exponential")) {
                ns = std::exponential_distribution<double>(1.0 / 5e6)(rng);
            } else if (distribution == QLatin1String("bimodal")) {
                ns = (rng() % 10 < 8) ? std::normal_distribution<double>(2e6, 2e5)(rng)
                                      : std::normal_distribution<double>(800e6, 5e7)(rng);
            } else if (distribution == QLatin1String("pareto")) {
                const double u = std::uniform_real_distribution<double>(1e-9, 1.0)(rng);
                ns = 1e6 / std::pow(u, 1.0 / 1.2);
            } else {
                ns = std::uniform_real_distribution<double>(1000.0, 50000.0)(rng);
            }
            values.push_back(clampNs(ns));
        }

        LatencyHistogram h;
        for (uint64_t v : values)
            h.record(nanoseconds(v));
        std::sort(values.begin(), values.end());
        QCOMPARE(h.count(), uint64_t(samples));
        QCOMPARE(h.minNs(), values.front());
        QCOMPARE(h.maxNs(), values.back());

        for (double q : {0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999, 1.0}) {
            const size_t rank = std::max<size_t>(1, size_t(std::ceil(q * double(values.size()))));
            const double exact = double(values[rank - 1]);
            const double got = double(h.quantileNs(q));
            const double rel = std::abs(got - exact) / exact;
            QVERIFY2(rel <= 0.01, qPrintable(QStringLiteral("%1 q=%2 exact=%3 got=%4 rel=%5")
                                                 .arg(distribution).arg(q).arg(exact).arg(got).arg(rel)));
        }
    }

    void mergeEqualsRecordingTogether()
    {
        LatencyHistogram a, b, all;
        std::mt19937_64 rng(3);
        for (int i = 0; i < 5000; ++i) {
            const auto v = nanoseconds(rng() % 10'000'000'000ULL);
            (i % 2 ? a : b).record(v);
            all.record(v);
        }
        a.merge(b);
        QCOMPARE(a.count(), all.count());
        QCOMPARE(a.sumNs(), all.sumNs());
        for (int i = 0; i < LatencyHistogram::kBucketCount; ++i)
            QCOMPARE(a.bucketCount(i), all.bucketCount(i));
        QCOMPARE(a.quantileNs(0.99), all.quantileNs(0.99));
    }

    void countBelow()
    {
        LatencyHistogram h;
        for (int ms = 1; ms <= 100; ++ms)
            h.record(milliseconds(ms));
        QCOMPARE(h.countBelow(0), 0.0);
        QVERIFY(std::abs(h.countBelow(uint64_t(50.5e6)) - 50.0) <= 1.0);
        QCOMPARE(h.countBelow(uint64_t(200e6)), 100.0);
    }

    void atomicRecordingFromThreads()
    {
        AtomicLatencyHistogram ah;
        constexpr int kThreads = 8;
        constexpr int kPer = 50000;
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t)
            threads.emplace_back([&ah, t] {
                for (int i = 0; i < kPer; ++i)
                    ah.record(microseconds(1 + (i + t) % 1000));
            });
        for (auto &th : threads)
            th.join();
        LatencyHistogram h;
        ah.addTo(h);
        QCOMPARE(h.count(), uint64_t(kThreads) * kPer);
        QCOMPARE(h.minNs(), uint64_t(1000));
        QCOMPARE(h.maxNs(), uint64_t(1000000));
    }

    void emptyAndClamped()
    {
        LatencyHistogram h;
        QCOMPARE(h.quantileNs(0.5), uint64_t(0));
        h.record(nanoseconds(-5));
        h.record(hours(10));
        QCOMPARE(h.count(), uint64_t(2));
        QCOMPARE(h.maxNs(), LatencyHistogram::kMaxTrackable);
        QCOMPARE(h.minNs(), uint64_t(0));
    }
};

QTEST_GUILESS_MAIN(TestLatencyHistogram)
#include "tst_latencyhistogram.moc"
