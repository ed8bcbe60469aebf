// PriorityClassView and PriorityClassPanel: what the console's priority
// classes tab shows of a snapshot's `classes` (the rules table-tested, then
// the panel and its queue-depth chart fed snapshots).

#include "ui/charts/metricscharts.h"
#include "ui/panels/priorityclasspanel.h"
#include "ui/priorityclassview.h"
#include "ui/quotaview.h"

#include <QLabel>
#include <QChartView>
#include <QLineSeries>
#include <QTest>
#include <QValueAxis>

#include <algorithm>

namespace {

const QString kDash = QStringLiteral("—");
const QString nnbsp(QChar(0x202f));

LatencySummary summary(quint64 count, double p50, double p95)
{
    LatencySummary s;
    s.count = count;
    s.p50Ms = p50;
    s.p95Ms = p95;
    return s;
}

PriorityClassState cls(const QString &name, int queued, quint64 completed, quint64 failed, quint64 rejected,
                       LatencySummary latency, LatencySummary wait)
{
    PriorityClassState c;
    c.name = name;
    c.queued = queued;
    c.completed = completed;
    c.failed = failed;
    c.rejected = rejected;
    c.latency = latency;
    c.queueWait = wait;
    return c;
}

// As the engine sends them: the three classes, in priority order.
QList<PriorityClassState> threeClasses()
{
    return {cls(QStringLiteral("interactive"), 2, 1234, 0, 0, summary(40, 120, 340), summary(40, 1.5, 4.2)),
            cls(QStringLiteral("standard"), 17, 800, 3, 0, summary(25, 450, 1800), summary(25, 30, 220)),
            cls(QStringLiteral("background"), 120, 12, 0, 9, summary(0, 0, 0), summary(3, 0, 12500))};
}

const QStringList kInteractive = {QStringLiteral("interactive"), QStringLiteral("2"), QStringLiteral("120 ms"),
                                  QStringLiteral("340 ms"), QStringLiteral("1.5 ms"), QStringLiteral("4.2 ms"),
                                  QStringLiteral("1") + nnbsp + QStringLiteral("234"), QStringLiteral("0"),
                                  QStringLiteral("0")};
const QStringList kStandard = {QStringLiteral("standard"), QStringLiteral("17"), QStringLiteral("450 ms"),
                               QStringLiteral("1800 ms"), QStringLiteral("30 ms"), QStringLiteral("220 ms"),
                               QStringLiteral("800"), QStringLiteral("3"), QStringLiteral("0")};
// No answer in 60 s: latency "—"; a measured 0 ms wait reads "0 ms".
const QStringList kBackground = {QStringLiteral("background"), QStringLiteral("120"), kDash, kDash,
                                 QStringLiteral("0 ms"), QStringLiteral("12.5 s"), QStringLiteral("12"),
                                 QStringLiteral("0"), QStringLiteral("9")};

QStringList texts(const PriorityClassView::Row &r)
{
    return {r.name, r.queued, r.latencyP50, r.latencyP95, r.waitP50, r.waitP95, r.completed, r.failed, r.rejected};
}

} // namespace

class TestPriorityClassView : public QObject
{
    Q_OBJECT

private slots:
    void formatPercentile_data()
    {
        QTest::addColumn<quint64>("count");
        QTest::addColumn<double>("ms");
        QTest::addColumn<QString>("shown");
        QTest::newRow("nothing measured") << quint64(0) << 0.0 << kDash;
        QTest::newRow("count 0 hides a stale figure") << quint64(0) << 300.0 << kDash;
        QTest::newRow("measured 0") << quint64(4) << 0.0 << QStringLiteral("0 ms");
        QTest::newRow("small") << quint64(4) << 4.2 << QStringLiteral("4.2 ms");
        QTest::newRow("ms") << quint64(4) << 420.0 << QStringLiteral("420 ms");
        QTest::newRow("seconds") << quint64(4) << 12500.0 << QStringLiteral("12.5 s");
        QTest::newRow("not finite") << quint64(4) << qQNaN() << kDash;
    }
    void formatPercentile()
    {
        QFETCH(quint64, count);
        QFETCH(double, ms);
        QFETCH(QString, shown);
        QCOMPARE(PriorityClassView::formatPercentile(summary(count, ms, ms), ms), shown);
    }

    void rowsInPriorityOrder()
    {
        // Out of order, with a class the console does not know: known ones
        // first in priority order, the other after them.
        QList<PriorityClassState> classes = threeClasses();
        std::reverse(classes.begin(), classes.end());
        classes.append(cls(QStringLiteral("realtime"), 1, 5, 0, 0, summary(5, 10, 20), summary(5, 1, 2)));
        const QList<PriorityClassView::Row> rows = PriorityClassView::rows(classes);
        QCOMPARE(rows.size(), 4);
        QCOMPARE(texts(rows[0]), kInteractive);
        QCOMPARE(texts(rows[1]), kStandard);
        QCOMPARE(texts(rows[2]), kBackground);
        QCOMPARE(rows[3].name, QStringLiteral("realtime"));
        QVERIFY(rows[0].reported);
        QVERIFY(!rows[0].failedHighlighted && !rows[0].rejectedHighlighted);
        QVERIFY(rows[1].failedHighlighted && !rows[1].rejectedHighlighted);
        QVERIFY(!rows[2].failedHighlighted && rows[2].rejectedHighlighted);
        QVERIFY2(rows[1].toolTip.contains(QStringLiteral("latency p50 450 ms · p95 1800 ms (25 answers)")),
                 qPrintable(rows[1].toolTip));
        QVERIFY(PriorityClassView::note(classes).isEmpty());
    }

    void emptyListReadsDashesNotZeros()
    {
        const QList<PriorityClassView::Row> rows = PriorityClassView::rows({});
        QCOMPARE(rows.size(), 3);
        const QStringList names{QStringLiteral("interactive"), QStringLiteral("standard"), QStringLiteral("background")};
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(rows[i].name, names[i]);
            QVERIFY(!rows[i].reported);
            QCOMPARE(texts(rows[i]).mid(1), QStringList(8, kDash));
            QVERIFY(!rows[i].failedHighlighted && !rows[i].rejectedHighlighted);
        }
        QCOMPARE(PriorityClassView::note({}), QStringLiteral("The gateway reports no priority classes yet."));
        // One class missing from a partial list: only it reads "—".
        QList<PriorityClassState> two = threeClasses().mid(0, 2);
        const QList<PriorityClassView::Row> partial = PriorityClassView::rows(two);
        QCOMPARE(texts(partial[1]), kStandard);
        QCOMPARE(partial[2].queued, kDash);
        QCOMPARE(PriorityClassView::queued(two, QStringLiteral("standard")).value_or(-1), 17);
        QVERIFY(!PriorityClassView::queued(two, QStringLiteral("background")));
    }

    void panelShowsTheRows()
    {
        PriorityClassPanel panel;
        // Before any snapshot: the placeholders.
        QCOMPARE(panel.rows().size(), 3);
        QCOMPARE(panel.rows()[0], (QStringList{QStringLiteral("interactive")} + QStringList(8, kDash)));
        QCOMPARE(panel.noteText(), QStringLiteral("The gateway reports no priority classes yet."));

        MetricsSnapshot s;
        s.classes = threeClasses();
        panel.showSnapshot(s);
        QCOMPARE(panel.rows(), (QList<QStringList>{kInteractive, kStandard, kBackground}));
        QVERIFY(panel.noteText().isEmpty());
        QCOMPARE(panel.highlightAt(1, 7), QuotaView::levelColor(QuotaView::Level::Refusing)); // standard: 3 failed
        QCOMPARE(panel.highlightAt(2, 8), QuotaView::levelColor(QuotaView::Level::Elevated)); // background: 9 rejected
        QVERIFY(panel.highlightAt(0, 7).isEmpty());
        QVERIFY(panel.highlightAt(0, 8).isEmpty());

        // The failures stop: the highlight goes with them.
        s.classes[1].failed = 0;
        panel.showSnapshot(s);
        QCOMPARE(panel.rows()[1][7], QStringLiteral("0"));
        QVERIFY(panel.highlightAt(1, 7).isEmpty());

        // Back to an empty list (an engine without classes): placeholders again.
        panel.showSnapshot(MetricsSnapshot());
        QCOMPARE(panel.rows()[2], (QStringList{QStringLiteral("background")} + QStringList(8, kDash)));
        QVERIFY(!panel.noteText().isEmpty());
    }

    void chartOfQueuedPerClass()
    {
        MetricsCharts charts;
        PriorityClassPanel panel;
        panel.setChart(charts.chartView(MetricsCharts::kClassChart));
        QCOMPARE(charts.chartView(MetricsCharts::kClassChart)->parentWidget(), &panel);
        QLineSeries *interactive = charts.series(MetricsCharts::Series::QueuedInteractive);
        QLineSeries *background = charts.series(MetricsCharts::Series::QueuedBackground);
        QVERIFY(charts.chartView(MetricsCharts::kClassChart)->chart()->series().contains(background));

        // No classes in the snapshot: no point (not a made-up 0).
        MetricsSnapshot s;
        s.uptimeSeconds = 1;
        charts.addSnapshot(s);
        QCOMPARE(interactive->count(), 0);
        s.uptimeSeconds = 1.25;
        s.classes = threeClasses();
        charts.addSnapshot(s);
        QCOMPARE(interactive->count(), 1);
        QCOMPARE(interactive->at(0), QPointF(0, 2));
        QCOMPARE(background->at(0), QPointF(0, 120));
        QCOMPARE(charts.series(MetricsCharts::Series::QueuedStandard)->at(0), QPointF(0, 17));
        auto *y = qobject_cast<QValueAxis *>(charts.chartView(MetricsCharts::kClassChart)->chart()->axes(Qt::Vertical).first());
        QVERIFY(y->max() >= 120);
    }
};

QTEST_MAIN(TestPriorityClassView)
#include "tst_priorityclassview.moc"
