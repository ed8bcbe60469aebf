#pragma once

#include "core/drift/performancebaseline.h"
#include "core/metrics/metricssnapshot.h"

#include <QList>
#include <QString>

#include <optional>

// Turns a stepped load test into a throughput curve and finds its inflection
// point: the queue depth at which latency starts to degrade while throughput
// stops growing (DESIGN.md §2, §9).
//
// Curve: one BaselineStep per load step, from the load generator's numbers
// (users, offered and achieved req/s, client-side percentiles, error rate)
// and the gateway's own MetricsSnapshots observed during the step (mean and
// max queue depth, tokens/s).
//
// Knee rule (findInflection, documented in the result's `method`):
//  1. Kneedle on achieved throughput against users: normalise both to
//     [0, 1]; the knee is the step with the largest difference
//     (throughput_n - users_n), i.e. the farthest above the straight line.
//     That difference must be at least 0.05, otherwise throughput is still
//     growing in proportion to load and there is no knee.
//  2. Latency must have degraded beyond it: the largest client p95 from the
//     knee on is at least `latencyRise` (default 1.5) times the p95 of the
//     first step; otherwise there is no knee (the system is not saturated).
//  3. The load generator was not the limit: neither the knee's step nor the
//     one after it (where throughput flattened) was load-generator-bound
//     (BaselineStep::generator); otherwise there is no knee, and the reason
//     says to add Locust workers.
//  4. The knee is reported with its users, the gateway's mean queue depth,
//     the achieved throughput and p95 of that step.
//
// Thread: plain object; use from one thread.

struct KneeResult {
    bool found = false;
    int index = -1;        // step index of the knee
    QString reason;        // why none was found, or the rule that found it
    BaselineInflection inflection;
};

class ThroughputMonitor
{
public:
    static KneeResult findInflection(const QList<BaselineStep> &steps, double latencyRise = 1.5);

    // Accumulation of the server-side part of a step.
    void stepStarted(int users);
    void observe(const MetricsSnapshot &snapshot);
    // Closes the step with the load generator's figures (users, offeredRps,
    // achievedRps, percentiles, errorRate) and fills in the server side.
    BaselineStep stepFinished(BaselineStep clientSide);

    const QList<BaselineStep> &curve() const { return m_curve; }
    void reset();

private:
    QList<BaselineStep> m_curve;
    int m_users = 0;
    double m_depthSum = 0;
    double m_depthMax = 0;
    double m_tokensSum = 0;
    int m_samples = 0;
};
