#include "ui/panels/tiercostpanel.h"

#include "ui/panels/figuretable.h"
#include "ui/panels/panelparts.h"
#include "ui/quotaview.h"
#include "ui/tiercostview.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QRegularExpression>
#include <QVBoxLayout>

using QuotaView::Level;

TierCostPanel::TierCostPanel(QWidget *parent)
    : QFrame(parent)
{
    QVBoxLayout *outer = PanelParts::frame(this, QStringLiteral("tierCostPanel"));

    auto *columns = new QHBoxLayout;
    columns->setSpacing(18);
    outer->addLayout(columns, 1);

    m_table = new FigureTable({tr("tier"), tr("requests"), tr("shed (flex)"), tr("prompt tokens"),
                               tr("output tokens"), tr("cost")},
                              this);
    m_table->setFitToContents(true);
    m_table->setObjectName(QStringLiteral("tierTable"));
    m_table->setToolTip(tr("Requests answered OK through each upstream service tier since start. Shed: flex "
                           "answers the upstream shed (503), then sent on as standard."));
    m_table->setMinimumHeight(m_table->heightForRows(4));
    m_table->setMaximumHeight(m_table->heightForRows(5));
    auto *left = new QVBoxLayout;
    left->addWidget(m_table);
    left->addStretch(1);
    columns->addLayout(left);

    auto *right = new QVBoxLayout;
    right->setSpacing(2);
    m_cost = new QLabel(this);
    m_cost->setObjectName(QStringLiteral("costUsd"));
    QFont big = m_cost->font();
    big.setPointSizeF(big.pointSizeF() * 1.9);
    big.setBold(true);
    m_cost->setFont(big);
    m_cost->setToolTip(tr("What the answers cost since start, in USD, at the configured prices"));
    right->addWidget(m_cost);
    right->addWidget(PanelParts::muted(tr("cost since start"), this));
    m_standard = new QLabel(this);
    m_standard->setObjectName(QStringLiteral("costStandardUsd"));
    m_standard->setToolTip(tr("What the same answers would have cost all on the standard tier"));
    right->addWidget(m_standard);
    m_saving = new QLabel(this);
    m_saving->setObjectName(QStringLiteral("costSaving"));
    m_saving->setToolTip(tr("All standard − actual, and its share of the all-standard cost"));
    right->addWidget(m_saving);
    right->addSpacing(8);
    m_batchMode = new QLabel(this);
    m_batchMode->setObjectName(QStringLiteral("batchMode"));
    m_batchMode->setWordWrap(true);
    m_batchMode->setTextFormat(Qt::RichText);
    right->addWidget(m_batchMode);
    right->addStretch(1);
    columns->addLayout(right, 1);

    showSnapshot(MetricsSnapshot());
}

QString TierCostPanel::subtitle()
{
    return tr("since start, at the configured price of each (model, tier)");
}

void TierCostPanel::showSnapshot(const MetricsSnapshot &s)
{
    const QString amber = QuotaView::levelColor(Level::Elevated);
    QList<QList<FigureTable::Cell>> cells;
    for (const TierCostView::Row &r : TierCostView::rows(s.tiers)) {
        const auto cell = [&](const QString &text, const QString &color = {}) {
            return FigureTable::Cell{text, color, r.toolTip};
        };
        cells.append({cell(r.name), cell(r.requests), cell(r.shed, r.shedHighlighted ? amber : QString()),
                      cell(r.promptTokens), cell(r.outputTokens), cell(r.costUsd)});
    }
    m_table->setRows(cells);

    const TierCostView::Cost c = TierCostView::cost(s);
    m_cost->setText(c.actual);
    m_standard->setText(tr("all standard %1").arg(c.standard));
    m_saving->setText(tr("saving %1 (%2)").arg(c.saving, c.savingPercent));
    const QString color = !c.anything || c.savingUsd == 0 ? QString()
                          : c.savingUsd > 0              ? QuotaView::levelColor(Level::Low)
                                                         : QuotaView::levelColor(Level::Refusing);
    m_saving->setProperty("color", color);
    const QString style = color.isEmpty() ? QString() : QStringLiteral("color: %1; font-weight: 600;").arg(color);
    if (m_saving->styleSheet() != style)
        m_saving->setStyleSheet(style);

    const TierCostView::BatchMode b = TierCostView::batchMode(s);
    const QString line = b.enabled ? tr("<b>Batch Mode</b>: %1").arg(b.text.toHtmlEscaped())
                                   : tr("<b>Batch Mode</b>: <span style=\"color: palette(mid)\">%1</span>")
                                         .arg(b.text.toHtmlEscaped());
    if (m_batchMode->text() != line)
        m_batchMode->setText(line);
    m_batchMode->setToolTip(b.toolTip);
}

QList<QStringList> TierCostPanel::rows() const
{
    return m_table->texts();
}

QString TierCostPanel::highlightAt(int row, int column) const
{
    return m_table->colorAt(row, column);
}

QString TierCostPanel::costText() const
{
    return m_cost->text();
}

QString TierCostPanel::standardText() const
{
    return m_standard->text();
}

QString TierCostPanel::savingText() const
{
    return m_saving->text();
}

QString TierCostPanel::savingColor() const
{
    return m_saving->property("color").toString();
}

QString TierCostPanel::batchModeText() const
{
    return QString(m_batchMode->text()).remove(QRegularExpression(QStringLiteral("<[^>]*>")));
}
