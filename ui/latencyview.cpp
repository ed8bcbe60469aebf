#include "ui/latencyview.h"

#include "ui/quotaview.h"

#include <QCoreApplication>

#include <cmath>

namespace LatencyView {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("LatencyView", text);
}

const QString kDash = QStringLiteral("—");

} // namespace

QString formatMs(double ms)
{
    if (!std::isfinite(ms) || ms <= 0)
        return QStringLiteral("–");
    if (ms < 10)
        return QStringLiteral("%1 ms").arg(ms, 0, 'f', 1);
    if (ms < 10000)
        return QStringLiteral("%1 ms").arg(ms, 0, 'f', 0);
    return QStringLiteral("%1 s").arg(ms / 1000, 0, 'f', 1);
}

QString FirstToken::text() const
{
    if (!measured)
        return tr("no stream");
    return tr("p50 %1 · p95 %2 · p99 %3 · %4").arg(p50, p95, p99, countText);
}

FirstToken firstToken(const WindowStats &w)
{
    const LatencySummary &ft = w.firstToken;
    FirstToken f;
    f.count = ft.count;
    f.countText = (ft.count == 1 ? tr("%1 stream") : tr("%1 streams")).arg(QuotaView::formatCount(double(ft.count)));
    if (ft.count == 0) {
        f.p50 = f.p95 = f.p99 = kDash;
        return f;
    }
    f.measured = true;
    f.p50 = formatMs(ft.p50Ms);
    f.p95 = formatMs(ft.p95Ms);
    f.p99 = formatMs(ft.p99Ms);
    return f;
}

std::optional<double> firstTokenP95(const WindowStats &w)
{
    if (w.firstToken.count == 0)
        return std::nullopt;
    return w.firstToken.p95Ms;
}

} // namespace LatencyView
