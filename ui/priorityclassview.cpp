#include "ui/priorityclassview.h"

#include "ui/latencyview.h"
#include "ui/quotaview.h"

#include <QCoreApplication>

#include <algorithm>
#include <cmath>

namespace PriorityClassView {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("PriorityClassView", text);
}

const QString kDash = QStringLiteral("—");

QString count(quint64 v)
{
    return QuotaView::formatCount(double(v));
}

Row rowOf(const PriorityClassState &c)
{
    Row r;
    r.name = c.name;
    r.reported = true;
    r.queuedNow = c.queued;
    r.queued = QuotaView::formatCount(double(c.queued));
    r.latencyP50 = formatPercentile(c.latency, c.latency.p50Ms);
    r.latencyP95 = formatPercentile(c.latency, c.latency.p95Ms);
    r.waitP50 = formatPercentile(c.queueWait, c.queueWait.p50Ms);
    r.waitP95 = formatPercentile(c.queueWait, c.queueWait.p95Ms);
    r.completed = count(c.completed);
    r.failed = count(c.failed);
    r.rejected = count(c.rejected);
    r.failedHighlighted = c.failed > 0;
    r.rejectedHighlighted = c.rejected > 0;
    r.toolTip = tr("%1: %2 queued now\n"
                   "last 60 s: latency p50 %3 · p95 %4 (%5 answers); queue wait p50 %6 · p95 %7 (%8 dispatched)\n"
                   "since start: %9 completed · %10 failed · %11 rejected")
                    .arg(c.name, r.queued, r.latencyP50, r.latencyP95, count(c.latency.count), r.waitP50,
                         r.waitP95, count(c.queueWait.count), r.completed)
                    .arg(r.failed, r.rejected);
    return r;
}

Row missingRow(const QString &name)
{
    Row r;
    r.name = name;
    r.queued = r.latencyP50 = r.latencyP95 = r.waitP50 = r.waitP95 = r.completed = r.failed = r.rejected = kDash;
    r.toolTip = tr("%1: not reported by the gateway").arg(name);
    return r;
}

} // namespace

QList<QString> knownClasses()
{
    return {QStringLiteral("interactive"), QStringLiteral("standard"), QStringLiteral("background")};
}

QString formatPercentile(const LatencySummary &s, double ms)
{
    if (s.count == 0 || !std::isfinite(ms))
        return kDash;
    if (ms <= 0)
        return QStringLiteral("0 ms");
    return LatencyView::formatMs(ms);
}

QList<Row> rows(const QList<PriorityClassState> &classes)
{
    QList<Row> out;
    const QList<QString> known = knownClasses();
    for (const QString &name : known) {
        const auto it = std::find_if(classes.begin(), classes.end(),
                                     [&](const PriorityClassState &c) { return c.name == name; });
        out.append(it == classes.end() ? missingRow(name) : rowOf(*it));
    }
    for (const PriorityClassState &c : classes)
        if (!known.contains(c.name))
            out.append(rowOf(c));
    return out;
}

std::optional<int> queued(const QList<PriorityClassState> &classes, const QString &name)
{
    for (const PriorityClassState &c : classes)
        if (c.name == name)
            return c.queued;
    return std::nullopt;
}

QString note(const QList<PriorityClassState> &classes)
{
    if (classes.isEmpty())
        return tr("The gateway reports no priority classes yet.");
    return {};
}

} // namespace PriorityClassView
