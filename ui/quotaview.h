#pragma once

#include "core/engine/engineconfig.h"
#include "core/metrics/metricssnapshot.h"

#include <QList>
#include <QMap>
#include <QString>

#include <optional>

// What the console's quota panel shows, derived from a MetricsSnapshot: pure
// functions, so the rules are table-tested without a widget. They are the
// dashboard's (resources/dashboard/src/quota.ts and format.ts), so the
// console and the browser say the same thing about the same snapshot:
//  - a dimension with limit 0 reads "no limit" plainly (its use, no meter);
//  - a limited one reads "used of limit" with a percentage, and its level
//    follows the backpressure meter's: 50 % elevated, 80 % high, 100 %
//    refusing (a learned limit can fall below what the window already spent,
//    so the ratio may pass 1); a dimension a 429 blocks is refusing whatever
//    its use, and says "blocked for N s" (rounded up, never "0 s");
//  - the source is the UpstreamBudget's: none, config, learned, probe (any
//    other is shown as it comes);
//  - answers per upstream call is "—" in a window without upstream calls (the
//    snapshot says 0 there, which would read as "calls buy nothing"); calls
//    that all failed are a real 0;
//  - coalesced requests (answered by another identical request's upstream
//    call) read per second over a window, beside their count since start;
//  - calls by kind list the known kinds (UpstreamCallKind, in its order)
//    with zeros included, then any other kind by count;
//  - failed attempts count every HTTP attempt that did not end "ok",
//    retried or not (what the upstream counts as failed calls), so they can
//    exceed the requests that failed; by outcome they list only the
//    outcomes that occurred.
//
// Thread: pure functions, any thread.
namespace QuotaView {

enum class Dimension { Rpm, Tpm, Rpd };
inline constexpr Dimension kDimensions[] = {Dimension::Rpm, Dimension::Tpm, Dimension::Rpd};

struct DimensionInfo {
    QString name;    // "RPM"
    QString unit;    // "calls/min"
    QString meaning; // "upstream calls in the last minute"
};
DimensionInfo dimensionInfo(Dimension d);
const QuotaDimensionState &dimensionOf(const ModelQuotaState &model, Dimension d);

enum class Level { None, Low, Elevated, High, Refusing };
QString levelName(Level level);  // "none", "low", "elevated", "high", "refusing"
QString levelColor(Level level); // "#rrggbb", the console's status colours

struct Gauge {
    bool limited = false;  // false: limit 0, no meter
    QString used;          // "220", "250k"
    QString limit;         // "of 1.00M", or "no limit"
    double ratio = 0;      // used / limit for the meter; 0 without a limit
    QString percent;       // "25.0 %", "< 0.01 %"; empty without a limit
    Level level = Level::None;
    QString source;        // "none", "config", "learned", "probe", or as reported
    QString sourceTitle;   // what the source means, for a tooltip
    QString blocked;       // "blocked for 4 s"; empty when not blocked

    QString text() const;  // "250k of 1.00M · 25.0 %", "220 used, no limit"
};
Gauge gauge(const QuotaDimensionState &d);
QString sourceTitle(const QString &source);

// The window's ok answers per upstream call, or nothing without a call.
std::optional<double> answersPerCall(const WindowStats &w);

// Requests per second of a window (the console shows last10s) that another
// identical request's upstream call answered (in-flight coalescing: answers
// that cost no upstream call of their own): coalesced / seconds, a window of
// 0 seconds read as 10.
double coalescedPerSecond(const WindowStats &w);

struct CallKindRow {
    QString key;   // "embed_merge"
    QString label; // "embed merge"
    quint64 calls = 0;

    bool operator==(const CallKindRow &) const = default;
};
QList<CallKindRow> callKindRows(const QMap<QString, quint64> &byKind);

// Failed upstream attempts by how they ended (a window's
// upstreamAttemptsByOutcome without "ok"; UpstreamAttemptOutcome): the known
// outcomes that occurred, in its order, then any other by count; empty when
// none failed. "429 3 · 5xx 1 · connection error 2".
QString failedAttemptOutcomes(const QMap<QString, quint64> &byOutcome);

// "packing auto, up to 64 per pack; an unknown RPM is probed from 60 calls/min".
QString packingNote(const EngineConfig &config);

// Number formats shared with the dashboard; a missing or non-finite value is "—".
QString formatCount(double v);                   // "987", "9 876" (narrow spaces), "12.3k", "4.56M"
QString formatPercent(double ratio);             // 0.1234 → "12.3 %", 1 → "100 %", 0.05 → "5.00 %"
QString formatFactor(std::optional<double> v);   // 1 → "1.00", 12.34 → "12.3", 480 → "480"
QString formatCountdown(qint64 ms);              // 3200 → "4 s", 61000 → "1 min 1 s"
QString formatRate(double v, const QString &unit); // (0.5, "req") → "0.5 req/s", (12345, "req") → "12.3k req/s"

} // namespace QuotaView
