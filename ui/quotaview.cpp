#include "ui/quotaview.h"

#include "core/metrics/inferencemetricscollector.h"

#include <QCoreApplication>

#include <algorithm>
#include <cmath>

namespace QuotaView {

namespace {

const QString kDash = QStringLiteral("—");

QString tr(const char *text)
{
    return QCoreApplication::translate("QuotaView", text);
}

// Thousands separated by a narrow no-break space, as the dashboard's
// toLocaleString('en-US') with its commas replaced: "9 876".
QString grouped(const QString &number)
{
    const qsizetype start = number.startsWith(QLatin1Char('-')) ? 1 : 0;
    qsizetype end = number.indexOf(QLatin1Char('.'));
    if (end < 0)
        end = number.size();
    QString s = number;
    for (qsizetype i = end - 3; i > start; i -= 3)
        s.insert(i, QChar(0x202f));
    return s;
}

// A fixed-point number without the trailing zeros (JavaScript's Number(x.toFixed(n))).
QString trimmed(double v, int decimals)
{
    QString s = QString::number(v, 'f', decimals);
    if (s.contains(QLatin1Char('.'))) {
        while (s.endsWith(QLatin1Char('0')))
            s.chop(1);
        if (s.endsWith(QLatin1Char('.')))
            s.chop(1);
    }
    return s == QLatin1String("-0") ? QStringLiteral("0") : s;
}

} // namespace

DimensionInfo dimensionInfo(Dimension d)
{
    switch (d) {
    case Dimension::Rpm: return {tr("RPM"), tr("calls/min"), tr("upstream calls in the last minute")};
    case Dimension::Tpm: return {tr("TPM"), tr("tokens/min"), tr("input tokens sent upstream in the last minute")};
    case Dimension::Rpd: return {tr("RPD"), tr("calls/day"), tr("upstream calls in the last 24 h")};
    }
    return {};
}

const QuotaDimensionState &dimensionOf(const ModelQuotaState &model, Dimension d)
{
    switch (d) {
    case Dimension::Rpm: return model.rpm;
    case Dimension::Tpm: return model.tpm;
    case Dimension::Rpd: return model.rpd;
    }
    return model.rpm;
}

QString levelName(Level level)
{
    switch (level) {
    case Level::None: return QStringLiteral("none");
    case Level::Low: return QStringLiteral("low");
    case Level::Elevated: return QStringLiteral("elevated");
    case Level::High: return QStringLiteral("high");
    case Level::Refusing: return QStringLiteral("refusing");
    }
    return QStringLiteral("none");
}

QString levelColor(Level level)
{
    // The status bar's green, amber and red (MainWindow), with an orange between.
    switch (level) {
    case Level::None: return QStringLiteral("#757575");
    case Level::Low: return QStringLiteral("#2e7d32");
    case Level::Elevated: return QStringLiteral("#b26a00");
    case Level::High: return QStringLiteral("#e65100");
    case Level::Refusing: return QStringLiteral("#b3261e");
    }
    return QStringLiteral("#757575");
}

QString sourceTitle(const QString &source)
{
    if (source == QLatin1String("none"))
        return tr("no limit known or configured");
    if (source == QLatin1String("config"))
        return tr("configured (rpmLimit, tpmLimit, rpdLimit)");
    if (source == QLatin1String("learned"))
        return tr("learned from an upstream 429");
    if (source == QLatin1String("probe"))
        return tr("assumed while the quota is unknown, raised until the first 429 teaches the real one");
    return source;
}

QString Gauge::text() const
{
    if (!limited)
        return tr("%1 used, no limit").arg(used);
    return QStringLiteral("%1 %2 · %3").arg(used, limit, percent);
}

Gauge gauge(const QuotaDimensionState &d)
{
    Gauge g;
    g.blocked = d.blockedForMs > 0 ? tr("blocked for %1").arg(formatCountdown(d.blockedForMs)) : QString();
    g.source = d.source.isEmpty() ? QStringLiteral("none") : d.source;
    g.sourceTitle = sourceTitle(g.source);
    g.used = formatCount(double(d.used));
    if (d.limit <= 0) {
        g.limit = tr("no limit");
        g.level = g.blocked.isEmpty() ? Level::None : Level::Refusing;
        return g;
    }
    g.limited = true;
    g.limit = tr("of %1").arg(formatCount(double(d.limit)));
    g.ratio = d.usedRatio;
    // A sliver of a large limit is not "0.00 %".
    g.percent = g.ratio > 0 && g.ratio < 0.0001 ? QStringLiteral("< 0.01 %") : formatPercent(g.ratio);
    g.level = !g.blocked.isEmpty() || g.ratio >= 1 ? Level::Refusing
              : g.ratio >= 0.8                     ? Level::High
              : g.ratio >= 0.5                     ? Level::Elevated
                                                   : Level::Low;
    return g;
}

std::optional<double> answersPerCall(const WindowStats &w)
{
    if (w.upstreamCalls == 0)
        return std::nullopt;
    return w.answersPerUpstreamCall;
}

double coalescedPerSecond(const WindowStats &w)
{
    return double(w.coalesced) / (w.seconds > 0 ? w.seconds : 10);
}

QList<CallKindRow> callKindRows(const QMap<QString, quint64> &byKind)
{
    const auto label = [](const QString &key) { return QString(key).replace(QLatin1Char('_'), QLatin1Char(' ')); };
    QStringList known;
    for (int k = 0; k < kUpstreamCallKinds; ++k)
        known << upstreamCallKindName(UpstreamCallKind(k));
    QList<CallKindRow> rows;
    for (const QString &k : std::as_const(known))
        rows.append({k, label(k), byKind.value(k)});
    QList<CallKindRow> other;
    for (auto it = byKind.begin(); it != byKind.end(); ++it)
        if (!known.contains(it.key()))
            other.append({it.key(), label(it.key()), it.value()});
    std::stable_sort(other.begin(), other.end(), [](const CallKindRow &a, const CallKindRow &b) {
        return a.calls != b.calls ? a.calls > b.calls : a.key < b.key;
    });
    return rows + other;
}

QString failedAttemptOutcomes(const QMap<QString, quint64> &byOutcome)
{
    const QString ok = upstreamAttemptOutcomeName(UpstreamAttemptOutcome::Ok);
    QStringList known;
    for (int k = 0; k < kUpstreamAttemptOutcomes; ++k)
        known << upstreamAttemptOutcomeName(UpstreamAttemptOutcome(k));
    QList<CallKindRow> rows;
    for (const QString &k : std::as_const(known))
        if (k != ok && byOutcome.value(k) > 0)
            rows.append({k, k, byOutcome.value(k)});
    QList<CallKindRow> other;
    for (auto it = byOutcome.begin(); it != byOutcome.end(); ++it)
        if (!known.contains(it.key()) && it.value() > 0)
            other.append({it.key(), it.key(), it.value()});
    std::stable_sort(other.begin(), other.end(), [](const CallKindRow &a, const CallKindRow &b) {
        return a.calls != b.calls ? a.calls > b.calls : a.key < b.key;
    });
    rows += other;
    QStringList parts;
    for (const CallKindRow &r : std::as_const(rows))
        parts << QStringLiteral("%1 %2").arg(QString(r.key).replace(QLatin1Char('_'), QLatin1Char(' ')),
                                             formatCount(double(r.calls)));
    return parts.join(QStringLiteral(" · "));
}

QString packingNote(const EngineConfig &c)
{
    const QString probe = c.quotaProbeRpm == 0
                              ? tr("an unknown RPM is not limited")
                              : tr("an unknown RPM is probed from %1 calls/min").arg(formatCount(c.quotaProbeRpm));
    return tr("packing %1, up to %2 per pack; %3")
        .arg(packingModeName(c.packing), formatCount(c.maxPackSize), probe);
}

QString formatCount(double v)
{
    if (!std::isfinite(v))
        return kDash;
    const double a = std::abs(v);
    if (a < 10000) {
        const int decimals = v == std::floor(v) ? 0 : a < 10 ? 2 : a < 100 ? 1 : 0;
        return grouped(trimmed(v, decimals));
    }
    if (a < 1e6)
        return QString::number(v / 1e3, 'f', a < 1e5 ? 1 : 0) + QLatin1Char('k');
    if (a < 1e9)
        return QString::number(v / 1e6, 'f', a < 1e7 ? 2 : 1) + QLatin1Char('M');
    return QString::number(v / 1e9, 'f', 2) + QLatin1Char('G');
}

QString formatPercent(double ratio)
{
    if (!std::isfinite(ratio))
        return kDash;
    const double p = ratio * 100;
    const double a = std::abs(p);
    return QString::number(p, 'f', a >= 100 || p == 0 ? 0 : a < 10 ? 2 : 1) + QStringLiteral(" %");
}

QString formatFactor(std::optional<double> v)
{
    if (!v || !std::isfinite(*v))
        return kDash;
    const double a = std::abs(*v);
    if (a < 10)
        return QString::number(*v, 'f', 2);
    if (a < 100)
        return QString::number(*v, 'f', 1);
    return formatCount(std::round(*v));
}

QString formatRate(double v, const QString &unit)
{
    if (!std::isfinite(v))
        return kDash;
    return QStringLiteral("%1 %2/s").arg(formatCount(v), unit);
}

QString formatCountdown(qint64 ms)
{
    if (ms <= 0)
        return tr("0 s");
    const qint64 s = (ms + 999) / 1000;
    return s < 60 ? tr("%1 s").arg(s) : tr("%1 min %2 s").arg(s / 60).arg(s % 60);
}

} // namespace QuotaView
