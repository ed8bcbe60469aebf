// RateWindow: a pure sliding window over time passed in by the test.

#include "core/quota/ratewindow.h"

#include <QTest>

using namespace std::chrono_literals;

namespace {
const SteadyTime t0 = SteadyTime{} + 1h;

// One recorded spend: `amount` at t0 + `atMs`.
struct Spend {
    int atMs;
    qint64 amount;
};
} // namespace

Q_DECLARE_METATYPE(QList<Spend>)

class TestRateWindow : public QObject
{
    Q_OBJECT
private slots:
    void availableAt_data()
    {
        QTest::addColumn<QList<Spend>>("spends");
        QTest::addColumn<int>("nowMs");
        QTest::addColumn<qint64>("amount");
        QTest::addColumn<qint64>("limit");
        QTest::addColumn<qint64>("used");
        QTest::addColumn<int>("availableAtMs"); // relative to t0

        using S = QList<Spend>;
        QTest::newRow("no limit: now, whatever was spent") << S{{0, 1000}} << 10 << qint64(5) << qint64(0) << qint64(1000) << 10;
        QTest::newRow("empty window fits") << S{} << 0 << qint64(1) << qint64(60) << qint64(0) << 0;
        QTest::newRow("room left fits") << S{{0, 59}} << 10 << qint64(1) << qint64(60) << qint64(59) << 10;
        QTest::newRow("exactly full waits for the oldest to leave")
            << S{{0, 30}, {20000, 30}} << 30000 << qint64(1) << qint64(60) << qint64(60) << 60000;
        QTest::newRow("needs two entries to leave")
            << S{{0, 30}, {20000, 20}, {40000, 10}} << 50000 << qint64(35) << qint64(60) << qint64(60) << 80000;
        QTest::newRow("entries older than the window are gone")
            << S{{0, 60}, {30000, 10}} << 60000 << qint64(50) << qint64(60) << qint64(10) << 60000;
        QTest::newRow("an entry leaves exactly one window later")
            << S{{0, 60}} << 59999 << qint64(1) << qint64(60) << qint64(60) << 60000;
        QTest::newRow("larger than the limit fits in an empty window") << S{} << 5 << qint64(500) << qint64(60) << qint64(0) << 5;
        QTest::newRow("larger than the limit waits until the window is empty")
            << S{{0, 10}, {1000, 10}} << 2000 << qint64(500) << qint64(60) << qint64(20) << 61000;
        QTest::newRow("same tick merges, still counted")
            << S{{0, 1}, {0, 1}, {0, 1}} << 1 << qint64(1) << qint64(3) << qint64(3) << 60000;
        // Recorded at the end of its 10 ms tick: 5 ms becomes 10 ms, so it
        // leaves at 60.010 s, never before 60.005 s (late, never early).
        QTest::newRow("rounded up to the tick's end") << S{{5, 1}} << 1000 << qint64(1) << qint64(1) << qint64(1) << 60010;
        QTest::newRow("zero and negative amounts are not recorded")
            << S{{0, 0}, {0, -5}} << 1 << qint64(1) << qint64(1) << qint64(0) << 1;
    }

    void availableAt()
    {
        QFETCH(QList<Spend>, spends);
        QFETCH(int, nowMs);
        QFETCH(qint64, amount);
        QFETCH(qint64, limit);
        QFETCH(qint64, used);
        QFETCH(int, availableAtMs);

        RateWindow w(60s, 10ms);
        for (const Spend &s : spends)
            w.record(t0 + std::chrono::milliseconds(s.atMs), s.amount);
        const SteadyTime now = t0 + std::chrono::milliseconds(nowMs);
        QCOMPARE(w.used(now), used);
        const SteadyTime at = w.availableAt(now, amount, limit);
        QCOMPARE(std::chrono::duration_cast<std::chrono::milliseconds>(at - t0).count(), qint64(availableAtMs));
        // At that time it really fits (or the window is empty).
        if (limit > 0)
            QVERIFY(w.used(at) + amount <= limit || w.used(at) == 0);
    }

    void memoryStaysBoundedUnderSteadyUse()
    {
        // One record every millisecond for ten minutes, never asked: at most
        // one entry per 10 ms tick of the last minute is kept.
        RateWindow w(60s, 10ms);
        SteadyTime t = t0;
        for (int i = 0; i < 600000; ++i) {
            w.record(t, 1);
            t += 1ms;
        }
        QVERIFY2(w.entryCount() <= 6001, qPrintable(QString::number(w.entryCount())));
        // (t - 60 s, t]: the records of 540.001 s .. 599.999 s.
        QCOMPARE(w.used(t), qint64(59999));
    }

    void clearEmpties()
    {
        RateWindow w;
        w.record(t0, 10);
        w.clear();
        QCOMPARE(w.used(t0), qint64(0));
        QCOMPARE(w.availableAt(t0, 1, 1), t0);
    }
};

QTEST_GUILESS_MAIN(TestRateWindow)
#include "tst_ratewindow.moc"
