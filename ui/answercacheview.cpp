#include "ui/answercacheview.h"

#include "ui/memorybudgetview.h"
#include "ui/quotaview.h"

#include <QCoreApplication>

#include <algorithm>

namespace AnswerCacheView {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("AnswerCacheView", text);
}

const QString kDash = QStringLiteral("—");

QString percent(std::optional<double> ratio)
{
    return ratio ? QuotaView::formatPercent(*ratio) : kDash;
}

} // namespace

std::optional<double> hitRatio(const WindowStats &w)
{
    if (w.cacheHits + w.cacheMisses == 0)
        return std::nullopt;
    return w.cacheHitRatio;
}

Figures figures(const MetricsSnapshot &s)
{
    Figures f;
    f.hitRatio60s = hitRatio(s.last60s);
    f.hitRatioTotal = hitRatio(s.total);
    f.hitRatio60sText = percent(f.hitRatio60s);
    f.hitRatioTotalText = percent(f.hitRatioTotal);
    f.hits = s.last60s.cacheHits;
    f.misses = s.last60s.cacheMisses;
    f.bypassed = s.last60s.cacheBypassed;
    f.lookupsText = tr("hits %1 · misses %2 · bypassed %3")
                        .arg(QuotaView::formatCount(double(f.hits)), QuotaView::formatCount(double(f.misses)),
                             QuotaView::formatCount(double(f.bypassed)));
    if (!s.cacheEnabled) {
        f.headline = tr("off");
        f.headlineNote = tr("answers are not cached");
        f.used = f.max = f.entriesText = kDash;
        f.text = tr("off");
        return f;
    }
    f.enabled = true;
    f.headline = f.hitRatio60sText;
    f.headlineNote = f.hitRatio60s ? tr("hits / (hits + misses)") : tr("no lookups in the last 60 s");
    const qint64 used = std::max<qint64>(s.cacheUsedBytes, 0);
    f.used = MemoryBudgetView::formatBytes(double(used));
    f.entriesText = (s.cacheEntries == 1 ? tr("%1 entry") : tr("%1 entries"))
                        .arg(QuotaView::formatCount(double(std::max<qint64>(s.cacheEntries, 0))));
    if (s.cacheMaxBytes > 0) {
        f.max = tr("of %1").arg(MemoryBudgetView::formatBytes(double(s.cacheMaxBytes)));
        f.text = QStringLiteral("%1 %2 · %3").arg(f.used, f.max, f.entriesText);
    } else {
        f.max = kDash;
        f.text = QStringLiteral("%1 · %2").arg(f.used, f.entriesText);
    }
    return f;
}

} // namespace AnswerCacheView
