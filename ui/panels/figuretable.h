#pragma once

#include <QList>
#include <QString>
#include <QStringList>
#include <QTableWidget>

// A read-only table of figures for the console's panels (priority classes,
// tiers, tenants): a header row (a header may hold two lines: "latency\np50"),
// the first column a name (left-aligned), the others figures
// (right-aligned); no selection, no editing, compact rows. The columns share
// the table's width, or (setFitToContents) each takes the width of its
// header and figures and the table no more than their sum. setRows() replaces the content and only touches cells whose text,
// tooltip or colour changed, so a 4 Hz snapshot does not repaint the table.
//
// Thread: UI thread.
class FigureTable : public QTableWidget
{
    Q_OBJECT
public:
    struct Cell {
        QString text;
        QString color;   // "#rrggbb" to highlight (QuotaView::levelColor), empty for the palette's
        QString toolTip;
    };

    FigureTable(const QStringList &headers, QWidget *parent = nullptr);

    void setRows(const QList<QList<Cell>> &rows);
    void setFitToContents(bool fit);

    // What is shown (tests, scripting).
    QList<QStringList> texts() const;
    QString colorAt(int row, int column) const; // the highlight, empty when none
    // The height that shows `rows` rows without a scroll bar.
    int heightForRows(int rows) const;
};
