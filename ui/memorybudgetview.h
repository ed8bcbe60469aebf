#pragma once

#include "core/metrics/metricssnapshot.h"
#include "ui/quotaview.h"

#include <QString>

// What the console shows of the process-wide memory budget (MemoryBudget,
// issue 17: what admitted work holds — request bodies with their parsing,
// answers not yet sent — against `server.memoryBudgetBytes`), derived from a
// MetricsSnapshot: pure functions, table-tested without a widget. They are
// the dashboard's (resources/dashboard/src/memory.ts), so both say the same
// thing about the same snapshot:
//  - a limit of 0 is "no budget": the bytes held are still shown (the
//    budget charges and counts without a limit), no meter, level none;
//  - a limit reads "used of limit" in binary units with a percentage, and
//    the level follows the backpressure meter's: 50 % elevated, 80 % high,
//    100 % refusing (a request that does not fit is refused before that, so
//    the meter seldom reaches 100 %);
//  - refusals are counted since start (each one a 503 to its client);
//    more than 0 is drawn in the refusing colour.
//
// Thread: pure functions, any thread.
namespace MemoryBudgetView {

struct Gauge {
    bool limited = false;     // false: limit 0, no budget and no meter
    QString used;             // "312 MiB"
    QString limit;            // "of 1 024 MiB", or "no budget"
    double ratio = 0;         // used / limit for the meter; 0 without a limit
    QString percent;          // "30.5 %", "< 0.01 %"; empty without a limit
    QuotaView::Level level = QuotaView::Level::None;
    quint64 refusals = 0;
    QString refusalsText;     // "3 refused" (since start)

    QString text() const;     // "312 MiB of 1 024 MiB · 30.5 %", "312 MiB held, no budget"
};
Gauge gauge(qint64 usedBytes, qint64 limitBytes, quint64 refusals);
Gauge gauge(const MetricsSnapshot &snapshot);

// Binary units, each used until its number reaches 10 000 (where
// QuotaView::formatCount would turn to "10.0k"), so the default 1 GiB budget
// reads "1 024 MiB", in the unit its use usually has: "0 B", "9 999 B",
// "40 KiB", "312 MiB", "1 024 MiB", "12 GiB"; whole numbers grouped with
// narrow spaces (one decimal below 10: "9.8 KiB"). Negative or non-finite
// values are "—".
QString formatBytes(double bytes);

} // namespace MemoryBudgetView
