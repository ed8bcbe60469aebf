#pragma once

#include "core/drift/performancebaseline.h"
#include "core/metrics/latencyhistogram.h"

#include <QJsonObject>
#include <QString>

#include <mutex>
#include <optional>

// Compares live latency windows with a PerformanceBaseline's `healthy` state
// (DESIGN.md §10) and keeps a state ok / warn / drift with hysteresis.
//
// Per window:
//  - ratios live/healthy of p50, p95, p99;
//  - the one-sided Kolmogorov-Smirnov distance D+ = max(F_healthy - F_live),
//    evaluated at the healthy histogram's bucket bounds: how far the live
//    window is shifted towards slower latencies (a faster window scores 0);
//  - score = max((max ratio - 1) / (driftRatio - 1), distance / driftDistance):
//    1.0 is the drift threshold, 0 means identical to the baseline;
//  - level: drift when a ratio >= driftRatio or distance >= driftDistance,
//    warn at the warn thresholds, else ok.
// Hysteresis: the state moves up only after `enterWindows` consecutive
// windows above it and down only after `exitWindows` windows below it. A
// window with fewer than `minSamples` requests is not judged (state kept).
//
// Thread: evaluate() and the getters are thread-safe (one short lock).

enum class DriftState { Unknown, Ok, Warn, Drift };
QString driftStateName(DriftState s); // "unknown", "ok", "warn", "drift"

struct DriftReading {
    DriftState state = DriftState::Unknown; // after hysteresis
    DriftState level = DriftState::Unknown; // this window alone
    double score = 0;
    double ratioP50 = 0;
    double ratioP95 = 0;
    double ratioP99 = 0;
    double distance = 0;
    quint64 samples = 0;
    bool judged = false;  // false when the window had too few samples or no baseline is set
    bool changed = false; // state differs from the previous reading's

    QJsonObject toJson() const;
};

class LatencyDriftSignal
{
public:
    void setBaseline(const PerformanceBaseline &baseline); // resets the state
    void clearBaseline();
    bool hasBaseline() const;
    std::optional<PerformanceBaseline> baseline() const;

    DriftReading evaluate(const LatencyHistogram &window);
    DriftReading last() const;

    // One-sided KS distance D+ (live slower than healthy), 0..1.
    static double distance(const BaselineHistogram &healthy, const LatencyHistogram &live);
    // A baseline histogram from a live one, with log-spaced bounds from 1 ms to 100 s.
    static BaselineHistogram histogramFrom(const LatencyHistogram &h);

private:
    mutable std::mutex m_mutex;
    std::optional<PerformanceBaseline> m_baseline;
    DriftReading m_last;
    int m_upCount = 0;
    int m_downCount = 0;
};
