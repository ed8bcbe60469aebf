#include "ui/panels/figuretable.h"

#include <QHeaderView>

FigureTable::FigureTable(const QStringList &headers, QWidget *parent)
    : QTableWidget(0, int(headers.size()), parent)
{
    setHorizontalHeaderLabels(headers);
    for (int c = 0; c < headers.size(); ++c)
        horizontalHeaderItem(c)->setTextAlignment(c == 0 ? Qt::Alignment(Qt::AlignLeft | Qt::AlignVCenter)
                                                         : Qt::Alignment(Qt::AlignRight | Qt::AlignVCenter));
    setEditTriggers(QAbstractItemView::NoEditTriggers);
    setSelectionMode(QAbstractItemView::NoSelection);
    setFocusPolicy(Qt::NoFocus);
    setAlternatingRowColors(true);
    setShowGrid(false);
    setWordWrap(false);
    setCornerButtonEnabled(false);
    verticalHeader()->hide();
    verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    horizontalHeader()->setHighlightSections(false);
    horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    horizontalHeader()->setMinimumSectionSize(fontMetrics().horizontalAdvance(QStringLiteral("000000")));
    setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
}

void FigureTable::setFitToContents(bool fit)
{
    horizontalHeader()->setSectionResizeMode(fit ? QHeaderView::ResizeToContents : QHeaderView::Stretch);
    horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    setSizeAdjustPolicy(fit ? QAbstractScrollArea::AdjustToContents : QAbstractScrollArea::AdjustIgnored);
    setSizePolicy(fit ? QSizePolicy::Maximum : QSizePolicy::Expanding, sizePolicy().verticalPolicy());
}

void FigureTable::setRows(const QList<QList<Cell>> &rows)
{
    if (rowCount() != rows.size())
        setRowCount(int(rows.size()));
    for (int r = 0; r < rows.size(); ++r) {
        for (int c = 0; c < columnCount(); ++c) {
            const Cell cell = c < rows[r].size() ? rows[r][c] : Cell{};
            QTableWidgetItem *it = item(r, c);
            if (!it) {
                it = new QTableWidgetItem;
                it->setTextAlignment(c == 0 ? Qt::Alignment(Qt::AlignLeft | Qt::AlignVCenter)
                                            : Qt::Alignment(Qt::AlignRight | Qt::AlignVCenter));
                setItem(r, c, it);
            }
            if (it->text() != cell.text)
                it->setText(cell.text);
            if (it->toolTip() != cell.toolTip)
                it->setToolTip(cell.toolTip);
            if (it->data(Qt::UserRole).toString() != cell.color) {
                it->setData(Qt::UserRole, cell.color);
                if (cell.color.isEmpty()) {
                    it->setData(Qt::ForegroundRole, QVariant());
                    it->setData(Qt::FontRole, QVariant());
                } else {
                    it->setForeground(QColor(cell.color));
                    QFont f = font();
                    f.setBold(true);
                    it->setFont(f);
                }
            }
        }
    }
}

QList<QStringList> FigureTable::texts() const
{
    QList<QStringList> out;
    for (int r = 0; r < rowCount(); ++r) {
        QStringList row;
        for (int c = 0; c < columnCount(); ++c)
            row << (item(r, c) ? item(r, c)->text() : QString());
        out << row;
    }
    return out;
}

QString FigureTable::colorAt(int row, int column) const
{
    const QTableWidgetItem *it = item(row, column);
    return it ? it->data(Qt::UserRole).toString() : QString();
}

int FigureTable::heightForRows(int rows) const
{
    return horizontalHeader()->sizeHint().height() + rows * verticalHeader()->defaultSectionSize() + 2 * frameWidth();
}
