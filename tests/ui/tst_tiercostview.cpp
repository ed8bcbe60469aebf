// TierCostView and TierCostPanel: what the console's tiers & cost tab shows
// of a snapshot's `tiers`, cost and Batch Mode fields (the rules
// table-tested, then the panel fed snapshots).

#include "ui/panels/tiercostpanel.h"
#include "ui/quotaview.h"
#include "ui/tiercostview.h"

#include <QTest>

#include <algorithm>

namespace {

const QString kDash = QStringLiteral("—");
const QString nnbsp(QChar(0x202f));

TierState tier(const QString &name, quint64 requests, quint64 shed, quint64 prompt, quint64 output, double cost)
{
    TierState t;
    t.name = name;
    t.requests = requests;
    t.shed = shed;
    t.promptTokens = prompt;
    t.outputTokens = output;
    t.costUsd = cost;
    return t;
}

// As the engine sends them: the four tiers, standard, flex, priority, batch.
MetricsSnapshot populated()
{
    MetricsSnapshot s;
    s.tiers = {tier(QStringLiteral("standard"), 1200, 0, 480000, 96000, 0.0864),
               tier(QStringLiteral("flex"), 3400, 25, 1360000, 272000, 0.1224),
               tier(QStringLiteral("priority"), 0, 0, 0, 0, 0),
               tier(QStringLiteral("batch"), 500, 0, 200000, 40000, 0.018)};
    s.costUsd = 0.2268;
    s.costStandardUsd = 0.4104;
    s.batchMode.enabled = true;
    s.batchMode.gathering = 12;
    s.batchMode.jobsRunning = 2;
    s.batchMode.waiting = 40;
    s.batchMode.jobsSubmitted = 5;
    s.batchMode.requestsSubmitted = 1500;
    return s;
}

const QList<QStringList> kRows = {
    {QStringLiteral("standard"), QStringLiteral("1") + nnbsp + QStringLiteral("200"), kDash, QStringLiteral("480k"),
     QStringLiteral("96.0k"), QStringLiteral("$0.0864")},
    {QStringLiteral("flex"), QStringLiteral("3") + nnbsp + QStringLiteral("400"), QStringLiteral("25"),
     QStringLiteral("1.36M"), QStringLiteral("272k"), QStringLiteral("$0.1224")},
    {QStringLiteral("priority"), QStringLiteral("0"), kDash, QStringLiteral("0"), QStringLiteral("0"),
     QStringLiteral("$0.00")},
    {QStringLiteral("batch"), QStringLiteral("500"), kDash, QStringLiteral("200k"), QStringLiteral("40.0k"),
     QStringLiteral("$0.0180")},
};

QStringList texts(const TierCostView::Row &r)
{
    return {r.name, r.requests, r.shed, r.promptTokens, r.outputTokens, r.costUsd};
}

} // namespace

class TestTierCostView : public QObject
{
    Q_OBJECT

private slots:
    void formatUsd_data()
    {
        QTest::addColumn<double>("usd");
        QTest::addColumn<QString>("shown");
        QTest::newRow("zero") << 0.0 << QStringLiteral("$0.00");
        QTest::newRow("under a hundredth of a cent") << 0.000012 << QStringLiteral("< $0.0001");
        QTest::newRow("fractions of a cent") << 0.0537 << QStringLiteral("$0.0537");
        QTest::newRow("under a dollar") << 0.5 << QStringLiteral("$0.5000");
        QTest::newRow("dollars") << 12.346 << QStringLiteral("$12.35");
        QTest::newRow("thousands") << 1234.5 << QStringLiteral("$1") + nnbsp + QStringLiteral("234.50");
        QTest::newRow("millions") << 1234567.0 << QStringLiteral("$1") + nnbsp + QStringLiteral("234") + nnbsp
                                                     + QStringLiteral("567.00");
        QTest::newRow("negative") << -0.1 << QStringLiteral("-$0.1000");
        QTest::newRow("negative, tiny") << -0.00001 << QStringLiteral("< $0.0001");
        QTest::newRow("not finite") << qInf() << kDash;
    }
    void formatUsd()
    {
        QFETCH(double, usd);
        QFETCH(QString, shown);
        QCOMPARE(TierCostView::formatUsd(usd), shown);
    }

    void rowsAndCost()
    {
        const MetricsSnapshot s = populated();
        const QList<TierCostView::Row> rows = TierCostView::rows(s.tiers);
        QCOMPARE(rows.size(), 4);
        for (int i = 0; i < 4; ++i)
            QCOMPARE(texts(rows[i]), kRows[i]);
        QVERIFY(rows[1].shedHighlighted);
        QVERIFY(rows[1].toolTip.contains(QStringLiteral("shed (503) on flex")));

        const TierCostView::Cost c = TierCostView::cost(s);
        QVERIFY(c.anything);
        QCOMPARE(c.actual, QStringLiteral("$0.2268"));
        QCOMPARE(c.standard, QStringLiteral("$0.4104"));
        QCOMPARE(c.saving, QStringLiteral("$0.1836"));
        QCOMPARE(c.savingPercent, QStringLiteral("44.7 %"));
        QCOMPARE(c.text(), QStringLiteral("cost $0.2268 · all standard $0.4104 · saving $0.1836 (44.7 %)"));

        const TierCostView::BatchMode b = TierCostView::batchMode(s);
        QVERIFY(b.enabled);
        QCOMPARE(b.text, QStringLiteral("gathering 12 · jobs running 2 · clients waiting 40 · submitted 5 jobs, "
                                        "1") + nnbsp + QStringLiteral("500 requests"));
    }

    void tiersInContractOrderThenOthers()
    {
        // Out of order and with a tier the console does not know.
        MetricsSnapshot s = populated();
        std::reverse(s.tiers.begin(), s.tiers.end());
        s.tiers.append(tier(QStringLiteral("scale"), 7, 0, 10, 10, 0.01));
        const QList<TierCostView::Row> rows = TierCostView::rows(s.tiers);
        QCOMPARE(rows.size(), 5);
        QCOMPARE(texts(rows[0]), kRows[0]);
        QCOMPARE(texts(rows[3]), kRows[3]);
        QCOMPARE(rows[4].name, QStringLiteral("scale"));
        QCOMPARE(rows[4].shed, kDash);
    }

    void emptySnapshotReadsPlaceholders()
    {
        const MetricsSnapshot s;
        const QList<TierCostView::Row> rows = TierCostView::rows(s.tiers);
        QCOMPARE(rows.size(), 4);
        QCOMPARE(rows[1].name, QStringLiteral("flex"));
        for (const TierCostView::Row &r : rows) {
            QVERIFY(!r.reported);
            QCOMPARE(texts(r).mid(1), QStringList(5, kDash));
        }
        const TierCostView::Cost c = TierCostView::cost(s);
        QVERIFY(!c.anything);
        QCOMPARE(c.text(), QStringLiteral("cost $0.00 · all standard $0.00 · saving $0.00 (—)"));
        QCOMPARE(TierCostView::batchMode(s).text, QStringLiteral("off"));
        // Enabled, nothing submitted yet; then one job of one request.
        MetricsSnapshot on;
        on.batchMode.enabled = true;
        QCOMPARE(TierCostView::batchMode(on).text,
                 QStringLiteral("gathering 0 · jobs running 0 · clients waiting 0 · submitted 0 jobs, 0 requests"));
        on.batchMode.jobsSubmitted = on.batchMode.requestsSubmitted = 1;
        QVERIFY(TierCostView::batchMode(on).text.endsWith(QStringLiteral("submitted 1 job, 1 request")));
    }

    void prioritySpendShowsANegativeSaving()
    {
        MetricsSnapshot s;
        s.costUsd = 1.5;
        s.costStandardUsd = 1.2;
        const TierCostView::Cost c = TierCostView::cost(s);
        QCOMPARE(c.saving, QStringLiteral("-$0.3000"));
        QCOMPARE(c.savingPercent, QStringLiteral("-25.0 %"));
    }

    void panelShowsTiersCostAndBatchMode()
    {
        TierCostPanel panel;
        // Before any snapshot: placeholders, Batch Mode off.
        QCOMPARE(panel.rows().size(), 4);
        QCOMPARE(panel.rows()[0], (QStringList{QStringLiteral("standard")} + QStringList(5, kDash)));
        QCOMPARE(panel.costText(), QStringLiteral("$0.00"));
        QCOMPARE(panel.savingText(), QStringLiteral("saving $0.00 (—)"));
        QVERIFY(panel.savingColor().isEmpty());
        QCOMPARE(panel.batchModeText(), QStringLiteral("Batch Mode: off"));

        MetricsSnapshot s = populated();
        panel.showSnapshot(s);
        QCOMPARE(panel.rows(), kRows);
        QCOMPARE(panel.highlightAt(1, 2), QuotaView::levelColor(QuotaView::Level::Elevated)); // 25 shed
        QVERIFY(panel.highlightAt(0, 2).isEmpty());
        QCOMPARE(panel.costText(), QStringLiteral("$0.2268"));
        QCOMPARE(panel.standardText(), QStringLiteral("all standard $0.4104"));
        QCOMPARE(panel.savingText(), QStringLiteral("saving $0.1836 (44.7 %)"));
        QCOMPARE(panel.savingColor(), QuotaView::levelColor(QuotaView::Level::Low));
        QCOMPARE(panel.batchModeText(), QStringLiteral("Batch Mode: gathering 12 · jobs running 2 · clients waiting 40 · "
                                                       "submitted 5 jobs, 1") + nnbsp + QStringLiteral("500 requests"));

        // Batch Mode switched off; the priority tier costs more than standard.
        s.batchMode.enabled = false;
        s.costUsd = 0.5;
        panel.showSnapshot(s);
        QCOMPARE(panel.batchModeText(), QStringLiteral("Batch Mode: off"));
        QCOMPARE(panel.savingColor(), QuotaView::levelColor(QuotaView::Level::Refusing));
    }
};

QTEST_MAIN(TestTierCostView)
#include "tst_tiercostview.moc"
