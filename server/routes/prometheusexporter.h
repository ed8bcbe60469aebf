#pragma once

#include "core/metrics/inferencemetricscollector.h"
#include "core/metrics/latencyhistogram.h"
#include "core/metrics/metricssnapshot.h"
#include "core/quota/sharedbudget.h"

#include <QByteArray>

#include <optional>

#include <map>
#include <utility>

// GET /metrics: Prometheus text exposition format 0.0.4 with the names of
// DESIGN.md §7, each with HELP and TYPE lines. Latency histograms are built
// from the collector's cumulative LatencyHistogram (since start) with
// countBelow() at fixed `le` bounds in seconds, so they are monotonic and
// consistent with _count and _sum. Validated by `promtool check metrics` in
// tst_gatewayserver. Label values a client can choose (model names) are
// escaped.
//
// Thread: pure function, thread-safe.
class PrometheusExporter
{
public:
    struct Inputs {
        // sluice_requests_total by (route, HTTP code), answered by the gateway.
        std::map<std::pair<QByteArray, int>, quint64> requests;
        // snapshot.total: tokens, rejections, batches, upstream calls;
        // snapshot.upstreamAttempts: sluice_upstream_attempts_total{model,outcome}.
        MetricsSnapshot snapshot;
        LatencyHistogram latency;  // cumulative end to end
        LatencyHistogram queueWait;
        LatencyHistogram upstream;
        // Since start, by (route, model): sluice_time_to_first_token_seconds.
        std::map<std::pair<QString, QString>, LatencyHistogram> firstToken;
        // Since start, by (kind, HTTP status) (InferenceMetricsCollector::upstreamCallCounts).
        std::map<std::pair<UpstreamCallKind, int>, quint64> upstreamCalls;
        EngineGauges gauges;
        // Since start, by (model, tier): sluice_cost_usd_total and friends.
        std::map<std::pair<QString, ServiceTier>, InferenceMetricsCollector::TierTotals> tiers;
        // Since start, per priority class: sluice_class_request_duration_seconds{class}.
        std::array<LatencyHistogram, kPriorityClasses> classLatency;
        double driftScore = 0;
        int driftState = -1;            // 0 ok, 1 warn, 2 drift, -1 unknown (no baseline or not judged yet)
        int streamClients = 0;          // connected /api/v1/stream clients
        quint64 streamDroppedFrames = 0; // snapshot frames dropped for slow stream clients
        // With --budget-store: sluice_budget_store_*.
        std::optional<SharedBudget::Status> budgetStore;
    };

    static QByteArray render(const Inputs &in);
    static const char *contentType() { return "text/plain; version=0.0.4; charset=utf-8"; }
};
