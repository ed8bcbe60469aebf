#include "ui/tenantview.h"

#include "ui/quotaview.h"

#include <QCoreApplication>

#include <algorithm>
#include <cmath>

namespace TenantView {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("TenantView", text);
}

QString count(double v)
{
    return QuotaView::formatCount(std::max(v, 0.0));
}

} // namespace

QString formatWeight(double w)
{
    if (!std::isfinite(w))
        return QStringLiteral("—");
    return QString::number(w, 'g', 4);
}

QList<Row> rows(const QList<TenantState> &tenants)
{
    QList<Row> out;
    out.reserve(tenants.size());
    for (const TenantState &t : tenants) {
        Row r;
        r.id = t.id;
        r.weight = formatWeight(t.weight);
        r.queued = count(t.queued);
        r.inflight = count(t.inflight);
        r.completed = count(double(t.completed));
        r.rejected = count(double(t.rejected));
        r.rejectedHighlighted = t.rejected > 0;
        out.append(r);
    }
    return out;
}

QString summary(const QList<TenantState> &tenants)
{
    if (tenants.isEmpty())
        return tr("no tenant yet");
    if (tenants.size() == 1)
        return tr("1 tenant");
    QString text = tr("%1 tenants shown, most active first").arg(tenants.size());
    if (tenants.size() >= kMaxTenantsShown)
        text += tr(" (the gateway sends at most %1)").arg(kMaxTenantsShown);
    return text;
}

} // namespace TenantView
