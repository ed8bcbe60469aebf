#pragma once

#include "core/metrics/metricssnapshot.h"

#include <QString>

#include <optional>

// What the console shows of latencies, derived from a window: pure
// functions, table-tested without a widget.
//  - formatMs is the console's one latency format (the p99 tile, the time
//    to first token): "4.2 ms", "420 ms", "3540 ms", "12.5 s"; 0, negative
//    or non-finite (nothing measured) is "–".
//  - The time to first token (a window's firstToken: streamGenerateContent
//    answers, from arrival at the gateway to the first SSE event written to
//    the client) follows the dashboard's rules (resources/dashboard/src/
//    firsttoken.ts): a window without a stream has count 0 and 0 ms
//    percentiles, shown as "—" (not a made-up 0 ms) and as a gap in the
//    latency chart. Its percentiles are in the console's format above, so
//    they read like the p99 tile beside them.
//
// Thread: pure functions, any thread.
namespace LatencyView {

QString formatMs(double ms);

struct FirstToken {
    bool measured = false; // false: no stream in the window
    QString p50;           // "120 ms", or "—"
    QString p95;
    QString p99;
    quint64 count = 0;     // streams measured in the window
    QString countText;     // "12 streams", "1 stream", "0 streams"

    QString text() const;  // "p50 120 ms · p95 300 ms · p99 450 ms · 12 streams", "no stream"
};
FirstToken firstToken(const WindowStats &window);

// The p95 for the latency chart, or nothing (a gap) without a stream.
std::optional<double> firstTokenP95(const WindowStats &window);

} // namespace LatencyView
