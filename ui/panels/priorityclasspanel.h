#pragma once

#include "core/metrics/metricssnapshot.h"

#include <QFrame>
#include <QList>
#include <QStringList>

class FigureTable;
class QLabel;
class QVBoxLayout;

// The console's priority classes panel (X-Sluice-Priority): per class a row
// with the requests queued now, latency p50/p95 and queue wait p50/p95 over
// the last 60 s, and completed/failed/rejected since start (failures in red,
// rejections in amber); beside it the chart of each class's queue depth over
// time (placed by the owner: MetricsCharts::chartView(kClassChart)). Every
// text comes from PriorityClassView; this class only puts them into widgets.
//
// Thread: UI thread.
class PriorityClassPanel : public QFrame
{
    Q_OBJECT
public:
    explicit PriorityClassPanel(QWidget *parent = nullptr);

    // What the panel shows, in a line, for its owner to place with its name (as QuotaPanel::subtitle).
    static QString subtitle();

    // Places `chart` beside the table and shows it; the panel takes it as a child.
    void setChart(QWidget *chart);

    // What is shown (tests, scripting): per row class, queued, latency p50,
    // p95, wait p50, p95, completed, failed, rejected.
    QList<QStringList> rows() const;
    QString highlightAt(int row, int column) const; // the cell's colour, empty when plain
    QString noteText() const;                       // empty (hidden) when classes are reported
    FigureTable *table() const { return m_table; }

public slots:
    void showSnapshot(const MetricsSnapshot &snapshot);

private:
    FigureTable *m_table = nullptr;
    QLabel *m_note = nullptr;
    QVBoxLayout *m_chartSlot = nullptr;
};
