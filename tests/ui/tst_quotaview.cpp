// QuotaView: what the console's quota panel shows, the dashboard's rules
// (resources/dashboard/test/quota.test.ts asks the same questions of quota.ts).

#include "ui/quotaview.h"

#include <QTest>

#include <cmath>

using QuotaView::Level;

Q_DECLARE_METATYPE(QuotaView::Level)

namespace {

QuotaDimensionState dim(qint64 limit, qint64 used, const QString &source = QStringLiteral("config"), qint64 blockedForMs = 0)
{
    QuotaDimensionState d;
    d.limit = limit;
    d.source = source;
    d.used = used;
    d.usedRatio = limit > 0 ? double(used) / double(limit) : 0;
    d.blockedForMs = blockedForMs;
    return d;
}

const QString nnbsp(QChar(0x202f));

} // namespace

class TestQuotaView : public QObject
{
    Q_OBJECT

private slots:
    void gauge_data()
    {
        QTest::addColumn<qint64>("limit");
        QTest::addColumn<qint64>("used");
        QTest::addColumn<QString>("source");
        QTest::addColumn<qint64>("blockedForMs");
        QTest::addColumn<bool>("limited");
        QTest::addColumn<QString>("text");
        QTest::addColumn<Level>("level");
        QTest::addColumn<QString>("shownSource");
        QTest::addColumn<QString>("blocked");

        // limit 0: "no limit" plainly, with the use and no meter
        QTest::newRow("no limit") << qint64(0) << qint64(220) << "none" << qint64(0) << false
                                  << "220 used, no limit" << Level::None << "none" << "";
        QTest::newRow("no limit, nothing used, source unset") << qint64(0) << qint64(0) << "" << qint64(0) << false
                                                              << "0 used, no limit" << Level::None << "none" << "";
        // the levels: below 50 % low, 50 % elevated, 80 % high, 100 % refusing
        QTest::newRow("25 % of 1M") << qint64(1000000) << qint64(250000) << "config" << qint64(0) << true
                                    << "250k of 1.00M · 25.0 %" << Level::Low << "config" << "";
        QTest::newRow("49 %") << qint64(100) << qint64(49) << "config" << qint64(0) << true
                              << "49 of 100 · 49.0 %" << Level::Low << "config" << "";
        QTest::newRow("50 % elevated") << qint64(100) << qint64(50) << "probe" << qint64(0) << true
                                       << "50 of 100 · 50.0 %" << Level::Elevated << "probe" << "";
        QTest::newRow("79 %") << qint64(100) << qint64(79) << "config" << qint64(0) << true
                              << "79 of 100 · 79.0 %" << Level::Elevated << "config" << "";
        QTest::newRow("80 % high") << qint64(100) << qint64(80) << "learned" << qint64(0) << true
                                   << "80 of 100 · 80.0 %" << Level::High << "learned" << "";
        QTest::newRow("100 % refusing") << qint64(100) << qint64(100) << "config" << qint64(0) << true
                                        << "100 of 100 · 100 %" << Level::Refusing << "config" << "";
        // a learned limit can fall below what the window already spent
        QTest::newRow("over a learned limit") << qint64(10) << qint64(14) << "learned" << qint64(0) << true
                                              << "14 of 10 · 140 %" << Level::Refusing << "learned" << "";
        QTest::newRow("a sliver") << qint64(1000000) << qint64(44) << "config" << qint64(0) << true
                                  << "44 of 1.00M · < 0.01 %" << Level::Low << "config" << "";
        QTest::newRow("unused") << qint64(1000000) << qint64(0) << "config" << qint64(0) << true
                                << "0 of 1.00M · 0 %" << Level::Low << "config" << "";
        QTest::newRow("small percentage") << qint64(2000) << qint64(100) << "config" << qint64(0) << true
                                          << QStringLiteral("100 of 2") + nnbsp + QStringLiteral("000 · 5.00 %") << Level::Low << "config" << "";
        // a 429 blocks the dimension: refusing whatever its use, rounded up
        QTest::newRow("blocked") << qint64(15) << qint64(3) << "learned" << qint64(2500) << true
                                 << "3 of 15 · 20.0 %" << Level::Refusing << "learned" << "blocked for 3 s";
        QTest::newRow("blocked without a limit") << qint64(0) << qint64(3) << "none" << qint64(61000) << false
                                                 << "3 used, no limit" << Level::Refusing << "none"
                                                 << "blocked for 1 min 1 s";
        QTest::newRow("blocked 1 ms") << qint64(15) << qint64(3) << "learned" << qint64(1) << true
                                      << "3 of 15 · 20.0 %" << Level::Refusing << "learned" << "blocked for 1 s";
        // an unknown source is kept as it came
        QTest::newRow("unknown source") << qint64(5) << qint64(1) << "header" << qint64(0) << true
                                        << "1 of 5 · 20.0 %" << Level::Low << "header" << "";
    }

    void gauge()
    {
        QFETCH(qint64, limit);
        QFETCH(qint64, used);
        QFETCH(QString, source);
        QFETCH(qint64, blockedForMs);
        const QuotaView::Gauge g = QuotaView::gauge(dim(limit, used, source, blockedForMs));
        QTEST(g.limited, "limited");
        QTEST(g.text(), "text");
        QTEST(g.level, "level");
        QTEST(g.source, "shownSource");
        QTEST(g.blocked, "blocked");
        QCOMPARE(g.percent.isEmpty(), !g.limited);
        QCOMPARE(g.ratio, limit > 0 ? double(used) / double(limit) : 0.0);
    }

    void sourceTitles()
    {
        QCOMPARE(QuotaView::sourceTitle(QStringLiteral("config")), QStringLiteral("configured (rpmLimit, tpmLimit, rpdLimit)"));
        QVERIFY(QuotaView::sourceTitle(QStringLiteral("probe")).contains(QStringLiteral("first 429")));
        QVERIFY(QuotaView::sourceTitle(QStringLiteral("learned")).contains(QStringLiteral("429")));
        QCOMPARE(QuotaView::sourceTitle(QStringLiteral("header")), QStringLiteral("header"));
    }

    void answersPerCall_data()
    {
        QTest::addColumn<quint64>("ok");
        QTest::addColumn<quint64>("calls");
        QTest::addColumn<double>("reported");
        QTest::addColumn<QString>("shown");

        QTest::newRow("packs") << quint64(90) << quint64(20) << 4.5 << "4.50";
        QTest::newRow("fanout") << quint64(20) << quint64(20) << 1.0 << "1.00";
        QTest::newRow("large pack factor") << quint64(1234) << quint64(100) << 12.34 << "12.3";
        QTest::newRow("huge pack factor") << quint64(4800) << quint64(10) << 480.0 << "480";
        // the snapshot says 0 for a window without calls: not "calls buy nothing"
        QTest::newRow("no upstream call") << quint64(0) << quint64(0) << 0.0 << "—";
        // calls that bought nothing (every one failed) are a real 0
        QTest::newRow("every call failed") << quint64(0) << quint64(8) << 0.0 << "0.00";
    }

    void answersPerCall()
    {
        QFETCH(quint64, ok);
        QFETCH(quint64, calls);
        QFETCH(double, reported);
        WindowStats w;
        w.seconds = 60;
        w.ok = ok;
        w.upstreamCalls = calls;
        w.answersPerUpstreamCall = reported;
        const std::optional<double> apc = QuotaView::answersPerCall(w);
        QCOMPARE(apc.has_value(), calls > 0);
        QTEST(QuotaView::formatFactor(apc), "shown");
    }

    // Requests another identical request's upstream call answered, per
    // second of the window (the dashboard's coalescedPerSecond).
    void coalescedPerSecond_data()
    {
        QTest::addColumn<int>("seconds");
        QTest::addColumn<quint64>("coalesced");
        QTest::addColumn<double>("perSecond");
        QTest::addColumn<QString>("shown");
        QTest::newRow("5 in 10 s") << 10 << quint64(5) << 0.5 << "0.5 req/s";
        QTest::newRow("none") << 10 << quint64(0) << 0.0 << "0 req/s";
        QTest::newRow("12 in 10 s") << 10 << quint64(12) << 1.2 << "1.2 req/s";
        QTest::newRow("a third") << 30 << quint64(10) << 1.0 / 3 << "0.33 req/s";
        QTest::newRow("many") << 10 << quint64(123456) << 12345.6 << "12.3k req/s";
        // a window of 0 seconds is read as the 10 s it stands for
        QTest::newRow("no window length") << 0 << quint64(30) << 3.0 << "3 req/s";
    }

    void coalescedPerSecond()
    {
        QFETCH(int, seconds);
        QFETCH(quint64, coalesced);
        QFETCH(double, perSecond);
        WindowStats w;
        w.seconds = seconds;
        w.coalesced = coalesced;
        QCOMPARE(QuotaView::coalescedPerSecond(w), perSecond);
        QTEST(QuotaView::formatRate(QuotaView::coalescedPerSecond(w), QStringLiteral("req")), "shown");
    }

    void callKindRows()
    {
        const QMap<QString, quint64> byKind{{QStringLiteral("retry"), 2}, {QStringLiteral("pack"), 10},
                                            {QStringLiteral("future_kind"), 1}, {QStringLiteral("other"), 3},
                                            {QStringLiteral("b_tied"), 1}};
        const QList<QuotaView::CallKindRow> expected{
            {QStringLiteral("single"), QStringLiteral("single"), 0},
            {QStringLiteral("pack"), QStringLiteral("pack"), 10},
            {QStringLiteral("repack"), QStringLiteral("repack"), 0},
            {QStringLiteral("retry"), QStringLiteral("retry"), 2},
            {QStringLiteral("embed_merge"), QStringLiteral("embed merge"), 0},
            {QStringLiteral("other"), QStringLiteral("other"), 3},
            {QStringLiteral("b_tied"), QStringLiteral("b tied"), 1},
            {QStringLiteral("future_kind"), QStringLiteral("future kind"), 1},
        };
        QCOMPARE(QuotaView::callKindRows(byKind), expected);
        // No calls at all: the known kinds, all zero.
        const QList<QuotaView::CallKindRow> none = QuotaView::callKindRows({});
        QCOMPARE(none.size(), 5);
        QVERIFY(std::all_of(none.begin(), none.end(), [](const QuotaView::CallKindRow &r) { return r.calls == 0; }));
    }

    void failedAttemptOutcomes()
    {
        // "ok" is not a failure; the known outcomes in UpstreamAttemptOutcome's
        // order, only those that occurred, then others by count.
        const QMap<QString, quint64> byOutcome{{QStringLiteral("ok"), 40},         {QStringLiteral("timeout"), 2},
                                               {QStringLiteral("429"), 3},         {QStringLiteral("5xx"), 1},
                                               {QStringLiteral("4xx"), 0},         {QStringLiteral("connection_error"), 2},
                                               {QStringLiteral("future_thing"), 1}, {QStringLiteral("a_tie"), 1},
                                               {QStringLiteral("bigger"), 5}};
        QCOMPARE(QuotaView::failedAttemptOutcomes(byOutcome),
                 QStringLiteral("429 3 · 5xx 1 · timeout 2 · connection error 2 · bigger 5 · a tie 1 · future thing 1"));
        QCOMPARE(QuotaView::failedAttemptOutcomes({{QStringLiteral("ok"), 12}}), QString());
        QCOMPARE(QuotaView::failedAttemptOutcomes({}), QString());
    }

    void packingNote()
    {
        EngineConfig c;
        QCOMPARE(QuotaView::packingNote(c),
                 QStringLiteral("packing auto, up to 64 per pack; an unknown RPM is probed from 60 calls/min"));
        c.packing = PackingMode::Pack;
        c.maxPackSize = 1000;
        c.quotaProbeRpm = 0;
        QCOMPARE(QuotaView::packingNote(c),
                 QStringLiteral("packing pack, up to 1") + nnbsp + QStringLiteral("000 per pack; an unknown RPM is not limited"));
    }

    void formatCount_data()
    {
        QTest::addColumn<double>("value");
        QTest::addColumn<QString>("shown");
        QTest::newRow("0") << 0.0 << "0";
        QTest::newRow("987") << 987.0 << "987";
        QTest::newRow("1000") << 1000.0 << QStringLiteral("1") + nnbsp + QStringLiteral("000");
        QTest::newRow("9876") << 9876.0 << QStringLiteral("9") + nnbsp + QStringLiteral("876");
        QTest::newRow("fraction < 10") << 2.345 << "2.35";
        QTest::newRow("fraction < 100") << 12.34 << "12.3";
        QTest::newRow("trailing zeros") << 2.5 << "2.5";
        QTest::newRow("12.3k") << 12345.0 << "12.3k";
        QTest::newRow("250k") << 250000.0 << "250k";
        QTest::newRow("1.00M") << 1e6 << "1.00M";
        QTest::newRow("4.56M") << 4.56e6 << "4.56M";
        QTest::newRow("12.3M") << 12.3e6 << "12.3M";
        QTest::newRow("2.15G") << 2.147483647e9 << "2.15G";
        QTest::newRow("NaN") << std::nan("") << "—";
    }

    void formatCount()
    {
        QFETCH(double, value);
        QTEST(QuotaView::formatCount(value), "shown");
    }

    void formatPercentAndCountdown()
    {
        QCOMPARE(QuotaView::formatPercent(0.1234), QStringLiteral("12.3 %"));
        QCOMPARE(QuotaView::formatPercent(1), QStringLiteral("100 %"));
        QCOMPARE(QuotaView::formatPercent(0), QStringLiteral("0 %"));
        QCOMPARE(QuotaView::formatPercent(0.05), QStringLiteral("5.00 %"));
        QCOMPARE(QuotaView::formatCountdown(3200), QStringLiteral("4 s"));
        QCOMPARE(QuotaView::formatCountdown(0), QStringLiteral("0 s"));
        QCOMPARE(QuotaView::formatCountdown(60000), QStringLiteral("1 min 0 s"));
        QCOMPARE(QuotaView::formatRate(std::nan(""), QStringLiteral("req")), QStringLiteral("—"));
    }

    void levelsHaveDistinctColours()
    {
        QStringList colours;
        for (Level l : {Level::None, Level::Low, Level::Elevated, Level::High, Level::Refusing})
            colours << QuotaView::levelColor(l);
        colours.removeDuplicates();
        QCOMPARE(colours.size(), 5);
        QCOMPARE(QuotaView::levelName(Level::Refusing), QStringLiteral("refusing"));
    }

    void dimensions()
    {
        ModelQuotaState m;
        m.rpm.limit = 1;
        m.tpm.limit = 2;
        m.rpd.limit = 3;
        QCOMPARE(QuotaView::dimensionOf(m, QuotaView::Dimension::Tpm).limit, qint64(2));
        QCOMPARE(QuotaView::dimensionOf(m, QuotaView::Dimension::Rpd).limit, qint64(3));
        QCOMPARE(QuotaView::dimensionInfo(QuotaView::Dimension::Rpm).name, QStringLiteral("RPM"));
        QCOMPARE(QuotaView::dimensionInfo(QuotaView::Dimension::Tpm).unit, QStringLiteral("tokens/min"));
    }
};

QTEST_GUILESS_MAIN(TestQuotaView)
#include "tst_quotaview.moc"
