#include "ui/panels/priorityclasspanel.h"

#include "ui/panels/figuretable.h"
#include "ui/panels/panelparts.h"
#include "ui/priorityclassview.h"
#include "ui/quotaview.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

using QuotaView::Level;

PriorityClassPanel::PriorityClassPanel(QWidget *parent)
    : QFrame(parent)
{
    QVBoxLayout *outer = PanelParts::frame(this, QStringLiteral("priorityClassPanel"));

    auto *columns = new QHBoxLayout;
    columns->setSpacing(14);
    outer->addLayout(columns, 1);

    auto *left = new QVBoxLayout;
    left->setSpacing(4);
    m_table = new FigureTable({tr("class"), tr("queued\nnow"), tr("latency\np50"), tr("latency\np95"),
                               tr("queue wait\np50"), tr("queue wait\np95"), tr("completed"), tr("failed"),
                               tr("rejected")},
                              this);
    m_table->setFitToContents(true);
    m_table->setObjectName(QStringLiteral("priorityClassTable"));
    m_table->setToolTip(tr("Latency: admission to answer of successful requests; wait: admission to dispatch "
                           "(both over the last 60 s). Failed: errors, expired and cancelled; rejected: refused "
                           "at admission (queue, tenant limits, budget); since start."));
    m_table->setMinimumHeight(m_table->heightForRows(3));
    m_table->setMaximumHeight(m_table->heightForRows(4));
    left->addWidget(m_table);
    m_note = PanelParts::muted(QString(), this);
    m_note->setObjectName(QStringLiteral("priorityClassNote"));
    m_note->setWordWrap(true);
    left->addWidget(m_note);
    left->addStretch(1);
    columns->addLayout(left);

    m_chartSlot = new QVBoxLayout;
    m_chartSlot->setSpacing(0);
    m_chartSlot->addWidget(PanelParts::muted(tr("queued per class"), this));
    columns->addLayout(m_chartSlot, 1);

    showSnapshot(MetricsSnapshot());
}

QString PriorityClassPanel::subtitle()
{
    return tr("X-Sluice-Priority · latency and queue wait: last 60 s · counts: since start");
}

void PriorityClassPanel::setChart(QWidget *chart)
{
    m_chartSlot->addWidget(chart, 1);
    chart->show();
}

void PriorityClassPanel::showSnapshot(const MetricsSnapshot &s)
{
    const QList<PriorityClassView::Row> rows = PriorityClassView::rows(s.classes);
    QList<QList<FigureTable::Cell>> cells;
    const QString red = QuotaView::levelColor(Level::Refusing);
    const QString amber = QuotaView::levelColor(Level::Elevated);
    for (const PriorityClassView::Row &r : rows) {
        const auto cell = [&](const QString &text, const QString &color = {}) {
            return FigureTable::Cell{text, color, r.toolTip};
        };
        cells.append({cell(r.name), cell(r.queued), cell(r.latencyP50), cell(r.latencyP95), cell(r.waitP50),
                      cell(r.waitP95), cell(r.completed), cell(r.failed, r.failedHighlighted ? red : QString()),
                      cell(r.rejected, r.rejectedHighlighted ? amber : QString())});
    }
    m_table->setRows(cells);
    const QString note = PriorityClassView::note(s.classes);
    m_note->setText(note);
    m_note->setVisible(!note.isEmpty());
}

QList<QStringList> PriorityClassPanel::rows() const
{
    return m_table->texts();
}

QString PriorityClassPanel::highlightAt(int row, int column) const
{
    return m_table->colorAt(row, column);
}

QString PriorityClassPanel::noteText() const
{
    return m_note->isHidden() ? QString() : m_note->text();
}
