// TimeSeriesRing: the bounded chart history.

#include "ui/charts/timeseriesring.h"

#include <QTest>

class TestTimeSeriesRing : public QObject
{
    Q_OBJECT

private slots:
    void keepsNewestWithinCapacity()
    {
        TimeSeriesRing r(4);
        for (int i = 0; i < 10; ++i)
            r.push(i, i * 10);
        QCOMPARE(r.size(), 4);
        QCOMPARE(r.at(0), QPointF(6, 60));
        QCOMPARE(r.at(3), QPointF(9, 90));
        r.clear();
        QCOMPARE(r.size(), 0);
        QVERIFY(r.window(0, 0, 10).isEmpty());
    }

    void windowShiftsAndFilters()
    {
        TimeSeriesRing r(100);
        for (int i = 0; i < 50; ++i)
            r.push(i, i);
        double maxY = -1;
        const QList<QPointF> w = r.window(40, 49, 0, &maxY);
        QCOMPARE(w.size(), 10);
        QCOMPARE(w.first(), QPointF(-9, 40));
        QCOMPARE(w.last(), QPointF(0, 49));
        QCOMPARE(maxY, 49.0);
    }

    void thinningKeepsPeaksAndNewest()
    {
        TimeSeriesRing r(1000);
        for (int i = 0; i < 1000; ++i)
            r.push(i, i == 333 ? 1e6 : 1.0);
        double maxY = 0;
        const QList<QPointF> w = r.window(0, 999, 100, &maxY);
        QVERIFY(w.size() <= 100);
        QCOMPARE(maxY, 1e6);
        QVERIFY(std::any_of(w.begin(), w.end(), [](const QPointF &p) { return p.y() == 1e6; }));
        QCOMPARE(w.last().x(), 0.0);
    }
};

QTEST_GUILESS_MAIN(TestTimeSeriesRing)
#include "tst_timeseriesring.moc"
