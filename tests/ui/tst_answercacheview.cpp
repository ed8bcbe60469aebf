// AnswerCacheView: what the console's answer cache tile shows, the
// dashboard's rules (resources/dashboard/test/cache.test.ts asks the same
// questions of cache.ts).

#include "ui/answercacheview.h"

#include <QTest>

namespace {

const QString nnbsp(QChar(0x202f));
constexpr qint64 kMiB = 1024 * 1024;

struct Lookups {
    quint64 hits = 0;
    quint64 misses = 0;
    quint64 bypassed = 0;
};

void setLookups(WindowStats &w, Lookups l)
{
    w.cacheHits = l.hits;
    w.cacheMisses = l.misses;
    w.cacheBypassed = l.bypassed;
    // As the collector computes it: 0 without a lookup.
    w.cacheHitRatio = l.hits + l.misses > 0 ? double(l.hits) / double(l.hits + l.misses) : 0;
}

// A snapshot with the given answer cache, and lookups in last60s and since start.
MetricsSnapshot snapshot(bool enabled, qint64 usedBytes, qint64 maxBytes, qint64 entries,
                         Lookups last60s = {30, 10, 8}, Lookups total = {300, 300, 80})
{
    MetricsSnapshot s;
    s.cacheEnabled = enabled;
    s.cacheUsedBytes = usedBytes;
    s.cacheMaxBytes = maxBytes;
    s.cacheEntries = entries;
    s.last60s.seconds = 60;
    setLookups(s.last60s, last60s);
    setLookups(s.total, total);
    return s;
}

} // namespace

class TestAnswerCacheView : public QObject
{
    Q_OBJECT

private slots:
    void hitRatio_data()
    {
        QTest::addColumn<quint64>("hits");
        QTest::addColumn<quint64>("misses");
        QTest::addColumn<quint64>("bypassed");
        QTest::addColumn<bool>("told");
        QTest::addColumn<double>("ratio");
        QTest::newRow("3 of 4") << quint64(30) << quint64(10) << quint64(8) << true << 0.75;
        QTest::newRow("all misses") << quint64(0) << quint64(4) << quint64(0) << true << 0.0;
        QTest::newRow("all hits") << quint64(4) << quint64(0) << quint64(0) << true << 1.0;
        // No lookup: the snapshot's 0 would read as "never hits"; bypassed ones do not count.
        QTest::newRow("only bypassed") << quint64(0) << quint64(0) << quint64(8) << false << 0.0;
        QTest::newRow("nothing") << quint64(0) << quint64(0) << quint64(0) << false << 0.0;
    }

    void hitRatio()
    {
        QFETCH(quint64, hits);
        QFETCH(quint64, misses);
        QFETCH(quint64, bypassed);
        QFETCH(bool, told);
        QFETCH(double, ratio);
        WindowStats w;
        setLookups(w, {hits, misses, bypassed});
        const std::optional<double> r = AnswerCacheView::hitRatio(w);
        QCOMPARE(r.has_value(), told);
        if (told)
            QCOMPARE(*r, ratio);
    }

    void figures_data()
    {
        QTest::addColumn<MetricsSnapshot>("snapshot");
        QTest::addColumn<bool>("enabled");
        QTest::addColumn<QString>("headline");
        QTest::addColumn<QString>("headlineNote");
        QTest::addColumn<QString>("hitRatioTotal");
        QTest::addColumn<QString>("lookups");
        QTest::addColumn<QString>("used");
        QTest::addColumn<QString>("max");
        QTest::addColumn<QString>("entries");
        QTest::addColumn<QString>("text");

        const QString entries1234 = QStringLiteral("1") + nnbsp + QStringLiteral("234 entries");
        QTest::newRow("on") << snapshot(true, 12 * kMiB, 64 * kMiB, 1234) << true << "75.0 %" << "hits / (hits + misses)"
                            << "50.0 %" << "hits 30 · misses 10 · bypassed 8" << "12 MiB" << "of 64 MiB" << entries1234
                            << QStringLiteral("12 MiB of 64 MiB · ") + entries1234;
        QTest::newRow("one entry, bytes") << snapshot(true, 4096, 256 * kMiB, 1) << true << "75.0 %"
                                          << "hits / (hits + misses)" << "50.0 %" << "hits 30 · misses 10 · bypassed 8"
                                          << QStringLiteral("4") + nnbsp + QStringLiteral("096 B") << "of 256 MiB"
                                          << "1 entry"
                                          << QStringLiteral("4") + nnbsp + QStringLiteral("096 B of 256 MiB · 1 entry");
        // A window without lookups: "—" for it, the ratio since start still tells.
        QTest::newRow("no lookups in 60 s") << snapshot(true, 12 * kMiB, 64 * kMiB, 1234, {0, 0, 3}) << true << "—"
                                            << "no lookups in the last 60 s" << "50.0 %" << "hits 0 · misses 0 · bypassed 3"
                                            << "12 MiB" << "of 64 MiB" << entries1234
                                            << QStringLiteral("12 MiB of 64 MiB · ") + entries1234;
        // Just started: no lookup at all yet.
        QTest::newRow("empty, no lookups") << snapshot(true, 0, 64 * kMiB, 0, {}, {}) << true << "—"
                                           << "no lookups in the last 60 s" << "—" << "hits 0 · misses 0 · bypassed 0"
                                           << "0 B" << "of 64 MiB" << "0 entries" << "0 B of 64 MiB · 0 entries";
        QTest::newRow("no size limit") << snapshot(true, 2048, 0, 2) << true << "75.0 %" << "hits / (hits + misses)"
                                       << "50.0 %" << "hits 30 · misses 10 · bypassed 8"
                                       << QStringLiteral("2") + nnbsp + QStringLiteral("048 B") << "—" << "2 entries"
                                       << QStringLiteral("2") + nnbsp + QStringLiteral("048 B · 2 entries");
        QTest::newRow("large counts") << snapshot(true, 1024 * kMiB, 1024 * kMiB, 123456, {12345, 4567, 89}) << true
                                      << "73.0 %" << "hits / (hits + misses)" << "50.0 %"
                                      << QStringLiteral("hits 12.3k · misses 4") + nnbsp + QStringLiteral("567 · bypassed 89")
                                      << QStringLiteral("1") + nnbsp + QStringLiteral("024 MiB")
                                      << QStringLiteral("of 1") + nnbsp + QStringLiteral("024 MiB") << "123k entries"
                                      << QStringLiteral("1") + nnbsp + QStringLiteral("024 MiB of 1") + nnbsp
                                             + QStringLiteral("024 MiB · 123k entries");
        // a negative use (an eviction counted twice) is not shown as such
        QTest::newRow("negative use") << snapshot(true, -10, 64 * kMiB, 0) << true << "75.0 %" << "hits / (hits + misses)"
                                      << "50.0 %" << "hits 30 · misses 10 · bypassed 8" << "0 B" << "of 64 MiB"
                                      << "0 entries" << "0 B of 64 MiB · 0 entries";
        // Off: "off", no size; its lookups are all bypassed.
        QTest::newRow("off") << snapshot(false, 0, 0, 0, {0, 0, 40}, {0, 0, 900}) << false << "off"
                             << "answers are not cached" << "—" << "hits 0 · misses 0 · bypassed 40" << "—" << "—"
                             << "—" << "off";
        // Off is off, whatever the gauges say.
        QTest::newRow("off, stale gauges") << snapshot(false, 12 * kMiB, 64 * kMiB, 1234) << false << "off"
                                           << "answers are not cached" << "50.0 %" << "hits 30 · misses 10 · bypassed 8"
                                           << "—" << "—" << "—" << "off";
    }

    void figures()
    {
        QFETCH(MetricsSnapshot, snapshot);
        const AnswerCacheView::Figures f = AnswerCacheView::figures(snapshot);
        QTEST(f.enabled, "enabled");
        QTEST(f.headline, "headline");
        QTEST(f.headlineNote, "headlineNote");
        QTEST(f.hitRatioTotalText, "hitRatioTotal");
        QTEST(f.lookupsText, "lookups");
        QTEST(f.used, "used");
        QTEST(f.max, "max");
        QTEST(f.entriesText, "entries");
        QTEST(f.text, "text");
        QCOMPARE(f.hits, snapshot.last60s.cacheHits);
        QCOMPARE(f.misses, snapshot.last60s.cacheMisses);
        QCOMPARE(f.bypassed, snapshot.last60s.cacheBypassed);
        QCOMPARE(f.hitRatio60s.has_value(), snapshot.last60s.cacheHits + snapshot.last60s.cacheMisses > 0);
        // The figure is the 60 s ratio whenever the cache is on.
        if (f.enabled)
            QCOMPARE(f.headline, f.hitRatio60sText);
    }
};

QTEST_GUILESS_MAIN(TestAnswerCacheView)
#include "tst_answercacheview.moc"
