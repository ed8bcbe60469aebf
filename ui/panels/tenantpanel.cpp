#include "ui/panels/tenantpanel.h"

#include "ui/panels/figuretable.h"
#include "ui/panels/panelparts.h"
#include "ui/quotaview.h"
#include "ui/tenantview.h"

#include <QLabel>
#include <QVBoxLayout>

TenantPanel::TenantPanel(QWidget *parent)
    : QFrame(parent)
{
    QVBoxLayout *outer = PanelParts::frame(this, QStringLiteral("tenantPanel"));
    m_summary = PanelParts::muted(QString(), this);
    m_summary->setObjectName(QStringLiteral("tenantSummary"));
    outer->addWidget(m_summary);

    m_table = new FigureTable({tr("tenant"), tr("weight"), tr("queued"), tr("in flight"), tr("completed"),
                               tr("rejected")},
                              this);
    m_table->setObjectName(QStringLiteral("tenantTable"));
    m_table->setToolTip(tr("Tenants: an API key's digest (\"key-\" + 16 hex digits of its SHA-256) or the "
                           "X-Sluice-Tenant name. Weight: its share of the upstream within a class (weighted fair "
                           "queuing). Queued and in flight now; completed and rejected since start."));
    m_table->setMinimumHeight(m_table->heightForRows(3));
    outer->addWidget(m_table, 1);

    showSnapshot(MetricsSnapshot());
}

QString TenantPanel::subtitle()
{
    return tr("API key digest or X-Sluice-Tenant · counts since start");
}

void TenantPanel::showSnapshot(const MetricsSnapshot &s)
{
    const QString amber = QuotaView::levelColor(QuotaView::Level::Elevated);
    QList<QList<FigureTable::Cell>> cells;
    for (const TenantView::Row &r : TenantView::rows(s.tenants)) {
        const QString tip = r.id;
        cells.append({{r.id, {}, tip}, {r.weight, {}, tip}, {r.queued, {}, tip}, {r.inflight, {}, tip},
                      {r.completed, {}, tip}, {r.rejected, r.rejectedHighlighted ? amber : QString(), tip}});
    }
    m_table->setRows(cells);
    m_summary->setText(TenantView::summary(s.tenants));
}

QList<QStringList> TenantPanel::rows() const
{
    return m_table->texts();
}

QString TenantPanel::highlightAt(int row, int column) const
{
    return m_table->colorAt(row, column);
}

QString TenantPanel::summaryText() const
{
    return m_summary->text();
}
