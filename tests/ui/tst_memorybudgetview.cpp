// MemoryBudgetView: what the console's memory budget tile shows, the
// dashboard's rules (resources/dashboard/test/memory.test.ts asks the same
// questions of memory.ts).

#include "ui/memorybudgetview.h"

#include <QTest>

#include <cmath>

using QuotaView::Level;

Q_DECLARE_METATYPE(QuotaView::Level)

namespace {

const QString nnbsp(QChar(0x202f));
constexpr qint64 kMiB = 1024 * 1024;
constexpr qint64 kGiB = 1024 * kMiB;

} // namespace

class TestMemoryBudgetView : public QObject
{
    Q_OBJECT

private slots:
    void formatBytes_data()
    {
        QTest::addColumn<double>("bytes");
        QTest::addColumn<QString>("shown");
        QTest::newRow("0") << 0.0 << "0 B";
        QTest::newRow("512 B") << 512.0 << "512 B";
        QTest::newRow("9 999 B") << 9999.0 << QStringLiteral("9") + nnbsp + QStringLiteral("999 B");
        // the first value past 9 999 B reads in KiB, with its decimal below 10
        QTest::newRow("10 000 B") << 10000.0 << "9.8 KiB";
        QTest::newRow("40 KiB") << 40960.0 << "40 KiB";
        QTest::newRow("5 MiB in KiB") << double(5 * kMiB) << QStringLiteral("5") + nnbsp + QStringLiteral("120 KiB");
        QTest::newRow("312 MiB") << double(312 * kMiB) << "312 MiB";
        QTest::newRow("312.4 MiB rounds") << double(312 * kMiB + 400 * 1024) << "312 MiB";
        // the default budget (1 GiB) reads in MiB, the unit its use usually has
        QTest::newRow("1 GiB") << double(kGiB) << QStringLiteral("1") + nnbsp + QStringLiteral("024 MiB");
        QTest::newRow("9 999 MiB") << double(9999 * kMiB) << QStringLiteral("9") + nnbsp + QStringLiteral("999 MiB");
        // rounding decides the unit: 9 999.6 MiB is not "10.0k MiB"
        QTest::newRow("9 999.6 MiB") << double(9999 * kMiB + kMiB * 6 / 10) << "9.8 GiB";
        QTest::newRow("64 GiB") << double(64 * kGiB) << "64 GiB";
        QTest::newRow("10^15 (the largest budget)") << 1e15 << "909 TiB";
        QTest::newRow("negative") << -1.0 << "—";
        QTest::newRow("NaN") << std::nan("") << "—";
    }

    void formatBytes()
    {
        QFETCH(double, bytes);
        QTEST(MemoryBudgetView::formatBytes(bytes), "shown");
    }

    void gauge_data()
    {
        QTest::addColumn<qint64>("used");
        QTest::addColumn<qint64>("limit");
        QTest::addColumn<quint64>("refusals");
        QTest::addColumn<bool>("limited");
        QTest::addColumn<QString>("text");
        QTest::addColumn<Level>("level");
        QTest::addColumn<QString>("refusalsText");

        const QString gib = QStringLiteral("1") + nnbsp + QStringLiteral("024 MiB");
        // limit 0: "no budget", the bytes held still shown, no meter
        QTest::newRow("no budget") << 312 * kMiB << qint64(0) << quint64(0) << false
                                   << "312 MiB held, no budget" << Level::None << "0 refused";
        QTest::newRow("no budget, idle") << qint64(0) << qint64(0) << quint64(0) << false
                                         << "0 B held, no budget" << Level::None << "0 refused";
        // the levels: below 50 % low, 50 % elevated, 80 % high, 100 % refusing
        QTest::newRow("312 MiB of 1 GiB") << 312 * kMiB << kGiB << quint64(0) << true
                                          << QStringLiteral("312 MiB of ") + gib + QStringLiteral(" · 30.5 %") << Level::Low << "0 refused";
        QTest::newRow("idle under a budget") << qint64(0) << kGiB << quint64(0) << true
                                             << QStringLiteral("0 B of ") + gib + QStringLiteral(" · 0 %") << Level::Low << "0 refused";
        QTest::newRow("a sliver") << qint64(4096) << kGiB << quint64(0) << true
                                  << QStringLiteral("4") + nnbsp + QStringLiteral("096 B of ") + gib + QStringLiteral(" · < 0.01 %")
                                  << Level::Low << "0 refused";
        QTest::newRow("50 % elevated") << 32 * kMiB << 64 * kMiB << quint64(0) << true
                                       << "32 MiB of 64 MiB · 50.0 %" << Level::Elevated << "0 refused";
        QTest::newRow("80 % high") << qint64(80 * 1024) << qint64(100 * 1024) << quint64(2) << true
                                   << "80 KiB of 100 KiB · 80.0 %" << Level::High << "2 refused";
        QTest::newRow("full") << 64 * kMiB << 64 * kMiB << quint64(12345) << true
                              << "64 MiB of 64 MiB · 100 %" << Level::Refusing << "12.3k refused";
        // answers are charged without asking, so the use may pass the limit
        QTest::newRow("over") << 80 * kMiB << 64 * kMiB << quint64(3) << true
                              << "80 MiB of 64 MiB · 125 %" << Level::Refusing << "3 refused";
        // a negative use (a release counted twice) is not shown as such
        QTest::newRow("negative use") << qint64(-10) << kGiB << quint64(0) << true
                                      << QStringLiteral("0 B of ") + gib + QStringLiteral(" · 0 %") << Level::Low << "0 refused";
    }

    void gauge()
    {
        QFETCH(qint64, used);
        QFETCH(qint64, limit);
        QFETCH(quint64, refusals);
        MetricsSnapshot s;
        s.memoryUsedBytes = used;
        s.memoryLimitBytes = limit;
        s.memoryRefusals = refusals;
        const MemoryBudgetView::Gauge g = MemoryBudgetView::gauge(s);
        QTEST(g.limited, "limited");
        QTEST(g.text(), "text");
        QTEST(g.level, "level");
        QTEST(g.refusalsText, "refusalsText");
        QCOMPARE(g.refusals, refusals);
        QCOMPARE(g.percent.isEmpty(), !g.limited);
        QCOMPARE(g.limit.startsWith(QStringLiteral("of ")), g.limited);
        QCOMPARE(g.ratio, limit > 0 ? double(std::max<qint64>(used, 0)) / double(limit) : 0.0);
    }
};

QTEST_GUILESS_MAIN(TestMemoryBudgetView)
#include "tst_memorybudgetview.moc"
