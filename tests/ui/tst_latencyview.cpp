// LatencyView: the console's latency format and what its time-to-first-token
// tile shows, the dashboard's rules (resources/dashboard/test/firsttoken.test.ts
// asks the same questions of firsttoken.ts).

#include "ui/latencyview.h"

#include <QTest>

#include <cmath>
#include <limits>

Q_DECLARE_METATYPE(WindowStats)

namespace {

const QString nnbsp(QChar(0x202f));

WindowStats window(quint64 count, double p50, double p95, double p99)
{
    WindowStats w;
    w.seconds = 10;
    w.firstToken.count = count;
    w.firstToken.p50Ms = p50;
    w.firstToken.p95Ms = p95;
    w.firstToken.p99Ms = p99;
    w.firstToken.meanMs = p50;
    w.firstToken.maxMs = p99;
    return w;
}

} // namespace

class TestLatencyView : public QObject
{
    Q_OBJECT

private slots:
    void formatMs_data()
    {
        QTest::addColumn<double>("ms");
        QTest::addColumn<QString>("shown");
        // nothing measured: the tiles' dash, not "0 ms"
        QTest::newRow("0") << 0.0 << "–";
        QTest::newRow("negative") << -5.0 << "–";
        QTest::newRow("NaN") << std::nan("") << "–";
        QTest::newRow("infinite") << std::numeric_limits<double>::infinity() << "–";
        QTest::newRow("sub-ms") << 0.42 << "0.4 ms";
        QTest::newRow("4.26 ms") << 4.26 << "4.3 ms";
        QTest::newRow("10 ms") << 10.0 << "10 ms";
        QTest::newRow("420.4 ms") << 420.4 << "420 ms";
        QTest::newRow("3 540 ms") << 3540.0 << "3540 ms";
        QTest::newRow("9 999 ms") << 9999.0 << "9999 ms";
        QTest::newRow("10 s") << 10000.0 << "10.0 s";
        QTest::newRow("12.5 s") << 12500.0 << "12.5 s";
    }

    void formatMs()
    {
        QFETCH(double, ms);
        QTEST(LatencyView::formatMs(ms), "shown");
    }

    void firstToken_data()
    {
        QTest::addColumn<WindowStats>("window");
        QTest::addColumn<bool>("measured");
        QTest::addColumn<QString>("p50");
        QTest::addColumn<QString>("p95");
        QTest::addColumn<QString>("p99");
        QTest::addColumn<QString>("countText");
        QTest::addColumn<QString>("text");

        QTest::newRow("streams") << window(100, 120, 300, 450) << true << "120 ms" << "300 ms" << "450 ms" << "100 streams"
                                 << "p50 120 ms · p95 300 ms · p99 450 ms · 100 streams";
        QTest::newRow("one stream, slow") << window(1, 850, 1250, 12500) << true << "850 ms" << "1250 ms" << "12.5 s"
                                          << "1 stream" << "p50 850 ms · p95 1250 ms · p99 12.5 s · 1 stream";
        QTest::newRow("many streams") << window(12345, 80, 95, 99) << true << "80 ms" << "95 ms" << "99 ms"
                                      << "12.3k streams" << "p50 80 ms · p95 95 ms · p99 99 ms · 12.3k streams";
        QTest::newRow("thousands grouped") << window(1234, 80, 95, 99) << true << "80 ms" << "95 ms" << "99 ms"
                                           << QStringLiteral("1") + nnbsp + QStringLiteral("234 streams")
                                           << QStringLiteral("p50 80 ms · p95 95 ms · p99 99 ms · 1") + nnbsp
                                                  + QStringLiteral("234 streams");
        // What the gateway sends for a window without a stream: every field
        // 0. A dash, not a made-up 0 ms.
        QTest::newRow("no stream") << window(0, 0, 0, 0) << false << "—" << "—" << "—" << "0 streams" << "no stream";
        // count decides, whatever the percentiles say
        QTest::newRow("no stream, stale percentiles") << window(0, 120, 300, 450) << false << "—" << "—" << "—"
                                                      << "0 streams" << "no stream";
    }

    void firstToken()
    {
        QFETCH(WindowStats, window);
        const LatencyView::FirstToken f = LatencyView::firstToken(window);
        QTEST(f.measured, "measured");
        QTEST(f.p50, "p50");
        QTEST(f.p95, "p95");
        QTEST(f.p99, "p99");
        QTEST(f.countText, "countText");
        QTEST(f.text(), "text");
        QCOMPARE(f.count, window.firstToken.count);
    }

    // The latency chart's dashed line: the p95, or a gap without a stream.
    void firstTokenP95()
    {
        QCOMPARE(LatencyView::firstTokenP95(window(100, 120, 300, 450)).value_or(-1), 300.0);
        QCOMPARE(LatencyView::firstTokenP95(window(1, 850, 1250, 12500)).value_or(-1), 1250.0);
        QVERIFY(!LatencyView::firstTokenP95(window(0, 0, 0, 0)));
        QVERIFY(!LatencyView::firstTokenP95(window(0, 120, 300, 450)));
    }
};

QTEST_GUILESS_MAIN(TestLatencyView)
#include "tst_latencyview.moc"
