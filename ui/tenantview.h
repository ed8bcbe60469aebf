#pragma once

#include "core/metrics/metricssnapshot.h"

#include <QList>
#include <QString>

// What the console shows of the tenants (an API key's digest, or
// X-Sluice-Tenant; the snapshot's `tenants`: the most active, at most 20),
// derived from a MetricsSnapshot: pure functions, table-tested without a
// widget.
//  - One row per tenant, in the snapshot's order (most active first); ids
//    are shown as given (keys are already hashed: "key-" + 16 hex digits).
//  - Weight is its share of the upstream within a class (weighted fair
//    queuing): "1", "2.5", "0.25"; queued and in flight are now; completed
//    and rejected count since start, rejected highlighted when not 0.
//  - The summary over the table: "12 tenants shown, most active first"
//    (with "(the gateway sends at most 20)" at 20), "1 tenant", "no tenant
//    yet" — the dashboard's words (resources/dashboard/src/tenants.ts).
//
// Thread: pure functions, any thread.
namespace TenantView {

inline constexpr int kMaxTenantsShown = 20; // the snapshot's limit

QString formatWeight(double weight); // 1 → "1", 2.5 → "2.5", 0.125 → "0.125"; not finite → "—"

struct Row {
    QString id;
    QString weight;
    QString queued;
    QString inflight;
    QString completed;
    QString rejected;
    bool rejectedHighlighted = false;
};
QList<Row> rows(const QList<TenantState> &tenants);

// The line beside the table's title, as above.
QString summary(const QList<TenantState> &tenants);

} // namespace TenantView
