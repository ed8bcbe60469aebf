#pragma once

#include "core/metrics/metricssnapshot.h"

#include <QList>
#include <QString>

// What the console shows of the upstream service tiers, their cost and Batch
// Mode (the snapshot's `tiers`, `costUsd`, `costStandardUsd` and batchMode
// fields), derived from a MetricsSnapshot: pure functions, table-tested
// without a widget. The dashboard says the same (resources/dashboard/src/cost.ts).
//  - One row per tier: the four known tiers always, in the snapshot's order
//    (standard, flex, priority, batch), then any other tier it names. A known
//    tier the snapshot does not carry reads "—" in every cell.
//  - Requests are those answered OK through the tier since start; shed is
//    flex's alone (answers the upstream shed with 503 and Sluice sent on as
//    standard), "—" on the other tiers unless they report some; tokens are
//    prompt and output as usageMetadata counted them; cost is in USD at the
//    configured price of (model, tier).
//  - The total: what the answers cost, what they would have cost all on the
//    standard tier, and the saving = standard − actual, in USD and as a share
//    of the standard cost ("—" when nothing cost: no share of 0). A negative
//    saving (the priority tier costs more) is shown as such, not hidden.
//  - USD, as the dashboard's formatUsd (resources/dashboard/src/format.ts):
//    "$0.00" for 0, four decimals under a dollar ("$0.0537"), two from a
//    dollar with grouped thousands ("$1 234.50"), "-" before a negative
//    amount, and "< $0.0001" for any amount nearer 0 than that.
//  - Batch Mode: "off" when not enabled; else gathering (requests for the
//    next job), jobs running upstream, clients waiting for an answer from
//    one, and the jobs and requests submitted since start.
//
// Thread: pure functions, any thread.
namespace TierCostView {

QList<QString> knownTiers(); // "standard", "flex", "priority", "batch"

QString formatUsd(double usd);

struct Row {
    QString name;
    bool reported = false;
    QString requests;      // "1 234", "—"
    QString shed;          // flex: "12"; others "—" unless non-zero
    bool shedHighlighted = false;
    QString promptTokens;  // "12.3k"
    QString outputTokens;
    QString costUsd;       // "$0.0537"
    QString toolTip;
};
QList<Row> rows(const QList<TierState> &tiers);

struct Cost {
    bool anything = false;  // something cost (standard cost > 0)
    QString actual;         // "$1.23"
    QString standard;       // "$2.00"
    double savingUsd = 0;   // standard − actual
    double savingRatio = 0; // saving / standard; 0 when nothing cost
    QString saving;         // "$0.77", "-$0.10"
    QString savingPercent;  // "38.5 %", "—" when nothing cost
    QString text() const;   // "cost $1.23 · all standard $2.00 · saving $0.77 (38.5 %)"
};
Cost cost(const MetricsSnapshot &snapshot);

struct BatchMode {
    bool enabled = false;
    QString text;           // "gathering 12 · jobs running 2 · clients waiting 40 · submitted 5 jobs, 500 requests", "off"
    QString toolTip;
};
BatchMode batchMode(const MetricsSnapshot &snapshot);

} // namespace TierCostView
