#include "ui/memorybudgetview.h"

#include <QCoreApplication>

#include <array>
#include <cmath>

namespace MemoryBudgetView {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("MemoryBudgetView", text);
}

} // namespace

QString formatBytes(double bytes)
{
    if (!std::isfinite(bytes) || bytes < 0)
        return QStringLiteral("—");
    static const std::array<const char *, 5> units{"B", "KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    size_t unit = 0;
    // Round first, so 9 999.6 KiB moves on to MiB instead of reading "10.0k KiB".
    const auto rounded = [&unit](double x) { return unit == 0 || x >= 10 ? std::round(x) : std::round(x * 10) / 10; };
    while (unit + 1 < units.size() && rounded(v) >= 10000) {
        v /= 1024;
        ++unit;
    }
    return QuotaView::formatCount(rounded(v)) + QLatin1Char(' ') + QLatin1String(units[unit]);
}

QString Gauge::text() const
{
    if (!limited)
        return tr("%1 held, no budget").arg(used);
    return QStringLiteral("%1 %2 · %3").arg(used, limit, percent);
}

Gauge gauge(qint64 usedBytes, qint64 limitBytes, quint64 refusals)
{
    using QuotaView::Level;
    Gauge g;
    g.used = formatBytes(double(std::max<qint64>(usedBytes, 0)));
    g.refusals = refusals;
    g.refusalsText = tr("%1 refused").arg(QuotaView::formatCount(double(refusals)));
    if (limitBytes <= 0) {
        g.limit = tr("no budget");
        return g;
    }
    g.limited = true;
    g.limit = tr("of %1").arg(formatBytes(double(limitBytes)));
    g.ratio = double(std::max<qint64>(usedBytes, 0)) / double(limitBytes);
    // A sliver of a large budget is not "0.00 %".
    g.percent = g.ratio > 0 && g.ratio < 0.0001 ? QStringLiteral("< 0.01 %") : QuotaView::formatPercent(g.ratio);
    g.level = g.ratio >= 1     ? Level::Refusing
              : g.ratio >= 0.8 ? Level::High
              : g.ratio >= 0.5 ? Level::Elevated
                               : Level::Low;
    return g;
}

Gauge gauge(const MetricsSnapshot &s)
{
    return gauge(s.memoryUsedBytes, s.memoryLimitBytes, s.memoryRefusals);
}

} // namespace MemoryBudgetView
