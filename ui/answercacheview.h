#pragma once

#include "core/metrics/metricssnapshot.h"

#include <QString>

#include <optional>

// What the console shows of the answer cache (the snapshot's cacheEnabled,
// cacheUsedBytes, cacheMaxBytes, cacheEntries, and each window's lookups),
// derived from a MetricsSnapshot: pure functions, table-tested without a
// widget. They are the dashboard's (resources/dashboard/src/cache.ts), so
// both say the same thing about the same snapshot:
//  - the hit ratio is hits / (hits + misses), over last60s and since start
//    (total); a window without a lookup reads "—" (the snapshot says 0
//    there, which would read as "never hits"); lookups the cache bypassed
//    (streams, Cache-Control) are not in it;
//  - a cache that is off reads "off" (nothing is looked up or counted), with
//    no size;
//  - the size is "used of max" in MemoryBudgetView's binary units with the
//    entries, "12 MiB of 64 MiB · 1 234 entries" (the dashboard's meter of
//    it is not drawn: the console's tile has no room for one).
//
// Thread: pure functions, any thread.
namespace AnswerCacheView {

// hits / (hits + misses) of a window, or nothing without a lookup.
std::optional<double> hitRatio(const WindowStats &window);

struct Figures {
    bool enabled = false;
    QString headline;        // last60s hit ratio: "42.0 %", "—"; or "off"
    QString headlineNote;    // "hits / (hits + misses)", "no lookups in the last 60 s", "answers are not cached"
    std::optional<double> hitRatio60s;
    std::optional<double> hitRatioTotal;
    QString hitRatio60sText; // "42.0 %", "—"
    QString hitRatioTotalText;
    quint64 hits = 0;        // lookups in the last 60 s
    quint64 misses = 0;
    quint64 bypassed = 0;
    QString lookupsText;     // "hits 30 · misses 10 · bypassed 8"
    QString used;            // "12 MiB", "—" when off
    QString max;             // "of 64 MiB", "—" when off or without a size limit
    QString entriesText;     // "1 234 entries", "1 entry", "—" when off
    QString text;            // "12 MiB of 64 MiB · 1 234 entries", "2 048 B · 2 entries", "off"
};
Figures figures(const MetricsSnapshot &snapshot);

} // namespace AnswerCacheView
