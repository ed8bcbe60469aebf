// DrainRateEstimator: requests per second over the last complete seconds.

#include "core/engine/drainrateestimator.h"

#include <QTest>

#include <optional>

using namespace std::chrono_literals;

namespace {
const SteadyTime t0 = SteadyTime{} + 1h;
struct Rec {
    int atMs;
    int count;
};
} // namespace

Q_DECLARE_METATYPE(QList<Rec>)

class TestDrainRateEstimator : public QObject
{
    Q_OBJECT
private slots:
    void perSecond_data()
    {
        QTest::addColumn<QList<Rec>>("records");
        QTest::addColumn<int>("nowMs");
        QTest::addColumn<double>("rate"); // -1: nullopt

        using R = QList<Rec>;
        QTest::newRow("nothing recorded") << R{} << 5000 << -1.0;
        QTest::newRow("first second not complete yet") << R{{100, 50}} << 900 << -1.0;
        QTest::newRow("one complete second") << R{{100, 50}} << 1000 << 50.0;
        QTest::newRow("current second is left out") << R{{100, 50}, {1500, 999}} << 1600 << 50.0;
        QTest::newRow("mean over the complete seconds") << R{{100, 10}, {1100, 30}} << 2000 << 20.0;
        QTest::newRow("idle seconds lower the mean") << R{{100, 40}} << 4000 << 10.0;
        QTest::newRow("ten seconds at most") << R{{100, 100}, {10100, 50}} << 11000 << 5.0;
        QTest::newRow("older than ten seconds is forgotten") << R{{100, 100}} << 11500 << -1.0;
        QTest::newRow("a slot reused by a later second is not counted twice")
            << R{{500, 7}, {11500, 3}} << 12000 << 0.3;
    }

    void perSecond()
    {
        QFETCH(QList<Rec>, records);
        QFETCH(int, nowMs);
        QFETCH(double, rate);
        DrainRateEstimator d(t0);
        for (const Rec &r : records)
            d.record(t0 + std::chrono::milliseconds(r.atMs), quint64(r.count));
        const std::optional<double> got = d.perSecond(t0 + std::chrono::milliseconds(nowMs));
        if (rate < 0) {
            QVERIFY(!got);
        } else {
            QVERIFY(got);
            QCOMPARE(*got, rate);
        }
    }
};

QTEST_GUILESS_MAIN(TestDrainRateEstimator)
#include "tst_drainrateestimator.moc"
