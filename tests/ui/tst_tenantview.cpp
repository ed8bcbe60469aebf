// TenantView and TenantPanel: what the console's tenants tab shows of a
// snapshot's `tenants` (the rules table-tested, then the panel fed snapshots).

#include "ui/panels/tenantpanel.h"
#include "ui/quotaview.h"
#include "ui/tenantview.h"

#include <QTest>

namespace {

const QString nnbsp(QChar(0x202f));

TenantState tenant(const QString &id, double weight, int queued, int inflight, quint64 completed, quint64 rejected)
{
    TenantState t;
    t.id = id;
    t.weight = weight;
    t.queued = queued;
    t.inflight = inflight;
    t.completed = completed;
    t.rejected = rejected;
    return t;
}

// Most active first, as the snapshot lists them.
QList<TenantState> tenants()
{
    return {tenant(QStringLiteral("key-3f9a1c0d5e7b2a48"), 1, 40, 8, 12345, 0),
            tenant(QStringLiteral("team-search"), 2.5, 3, 2, 980, 17),
            tenant(QStringLiteral("key-00ff00ff00ff00ff"), 0.25, 0, 0, 4, 0)};
}

const QList<QStringList> kRows = {
    {QStringLiteral("key-3f9a1c0d5e7b2a48"), QStringLiteral("1"), QStringLiteral("40"), QStringLiteral("8"),
     QStringLiteral("12.3k"), QStringLiteral("0")},
    {QStringLiteral("team-search"), QStringLiteral("2.5"), QStringLiteral("3"), QStringLiteral("2"),
     QStringLiteral("980"), QStringLiteral("17")},
    {QStringLiteral("key-00ff00ff00ff00ff"), QStringLiteral("0.25"), QStringLiteral("0"), QStringLiteral("0"),
     QStringLiteral("4"), QStringLiteral("0")},
};

} // namespace

class TestTenantView : public QObject
{
    Q_OBJECT

private slots:
    void formatWeight_data()
    {
        QTest::addColumn<double>("weight");
        QTest::addColumn<QString>("shown");
        QTest::newRow("default") << 1.0 << QStringLiteral("1");
        QTest::newRow("half again") << 2.5 << QStringLiteral("2.5");
        QTest::newRow("small") << 0.125 << QStringLiteral("0.125");
        QTest::newRow("large") << 100.0 << QStringLiteral("100");
        QTest::newRow("not finite") << qQNaN() << QStringLiteral("—");
    }
    void formatWeight()
    {
        QFETCH(double, weight);
        QFETCH(QString, shown);
        QCOMPARE(TenantView::formatWeight(weight), shown);
    }

    void rowsInTheSnapshotsOrder()
    {
        const QList<TenantView::Row> rows = TenantView::rows(tenants());
        QCOMPARE(rows.size(), 3);
        for (int i = 0; i < 3; ++i)
            QCOMPARE((QStringList{rows[i].id, rows[i].weight, rows[i].queued, rows[i].inflight, rows[i].completed,
                                  rows[i].rejected}),
                     kRows[i]);
        QVERIFY(!rows[0].rejectedHighlighted);
        QVERIFY(rows[1].rejectedHighlighted);
        QCOMPARE(TenantView::summary(tenants()), QStringLiteral("3 tenants shown, most active first"));
        QCOMPARE(TenantView::summary(tenants().mid(0, 1)), QStringLiteral("1 tenant"));
    }

    void noTenant()
    {
        QVERIFY(TenantView::rows({}).isEmpty());
        QCOMPARE(TenantView::summary({}), QStringLiteral("no tenant yet"));
    }

    void panelShowsTheTable()
    {
        TenantPanel panel;
        QVERIFY(panel.rows().isEmpty());
        QCOMPARE(panel.summaryText(), QStringLiteral("no tenant yet"));

        MetricsSnapshot s;
        s.tenants = tenants();
        panel.showSnapshot(s);
        QCOMPARE(panel.rows(), kRows);
        QCOMPARE(panel.highlightAt(1, 5), QuotaView::levelColor(QuotaView::Level::Elevated));
        QVERIFY(panel.highlightAt(0, 5).isEmpty());
        QCOMPARE(panel.summaryText(), QStringLiteral("3 tenants shown, most active first"));

        // The full 20: every one a row, in order; then fewer again.
        s.tenants.clear();
        for (int i = 0; i < 20; ++i)
            s.tenants.append(tenant(QStringLiteral("t%1").arg(i), 1, 20 - i, 0, 1000 + i, 0));
        panel.showSnapshot(s);
        QCOMPARE(panel.rows().size(), 20);
        QCOMPARE(panel.summaryText(), QStringLiteral("20 tenants shown, most active first (the gateway sends at most 20)"));
        QCOMPARE(panel.rows()[19][0], QStringLiteral("t19"));
        QCOMPARE(panel.rows()[0][4], QStringLiteral("1") + nnbsp + QStringLiteral("000"));
        s.tenants = tenants().mid(1, 1);
        panel.showSnapshot(s);
        QCOMPARE(panel.rows(), (QList<QStringList>{kRows[1]}));
        QCOMPARE(panel.highlightAt(0, 5), QuotaView::levelColor(QuotaView::Level::Elevated));
        panel.showSnapshot(MetricsSnapshot());
        QVERIFY(panel.rows().isEmpty());
    }
};

QTEST_MAIN(TestTenantView)
#include "tst_tenantview.moc"
