#pragma once

#include "core/engine/engineconfig.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <optional>

// The versioned JSON snapshot of healthy state (DESIGN.md §9), schema
// "sluice.performance-baseline/v1". Written by --capture-baseline, the
// console's File → Export baseline and GET /api/v1/baseline; read back as the
// LatencyDriftSignal's reference.
//
// Round trip: fromJson(toJson(b)) == b, and a document read from a file keeps
// every field it had, including fields this version does not know (they are
// carried in the raw objects and written back untouched).
//
// Thread: plain value type.

// The load generator during a step (LocustRunner reads /proc for its
// processes): what it cost, and whether it, not the gateway, was the limit.
// Absent in baselines written before it was measured.
struct BaselineGenerator {
    int processes = 0;        // Locust processes: master + workers, or the single one
    int workers = 0;          // Locust worker processes; 0 = one process without a master
    double cpuCores = 0;      // all of them together, in cores
    double busiestCores = 0;  // the busiest process (single-threaded: 1.0 = one core, saturated)
    double machineBusy = 0;   // the whole machine's CPU, 0..1 of machineCores
    int machineCores = 0;
    bool bound = false;       // load-generator-bound: the step measured Locust, not the gateway
    QJsonObject extra;

    bool operator==(const BaselineGenerator &) const = default;
};

// How the knee search (KneeSearch) used a step. Absent for stepped runs.
struct BaselineStepSearch {
    int order = 0;            // 0-based position in the search (steps[] is sorted by users)
    QString phase;            // "ramp" or "bisect"
    double warmupSeconds = 0; // run before measuring (discarded)
    double measureSeconds = 0;
    QString verdict;          // KneeSearch::verdictName: grows, plateau, p95, errors, generator, below, saturated
    QString decision;         // what the search concluded and did next, as printed
    QJsonObject extra;

    bool operator==(const BaselineStepSearch &) const = default;
};

struct BaselineStep {
    int users = 0;
    double offeredRps = 0;    // what the load generator tried to send
    double achievedRps = 0;   // successful answers per second
    double p50Ms = 0;
    double p95Ms = 0;
    double p99Ms = 0;
    double queueDepthMean = 0;
    double queueDepthMax = 0;
    double errorRate = 0;     // failures / requests, 0..1
    double tokensPerSecond = 0;
    std::optional<BaselineGenerator> generator;  // "generator", when measured
    std::optional<BaselineStepSearch> search;    // "search", when a knee search ran the step
    QJsonObject extra;        // fields not known to this version

    bool operator==(const BaselineStep &) const = default;
    QJsonObject toJson() const; // the known fields plus `extra`
};

struct BaselineInflection {
    int users = 0;
    double queueDepth = 0;
    double throughputRps = 0;
    double p95Ms = 0;
    QString method;           // e.g. "kneedle(throughput vs users) + p95 rise >= 1.5x"
    QJsonObject extra;

    bool operator==(const BaselineInflection &) const = default;
};

struct BaselineHistogram {
    QList<double> boundsMs;   // ascending upper bounds of the buckets; the last bucket is open (+Inf)
    QList<double> counts;     // boundsMs.size() + 1 counts; both empty = not measured

    bool operator==(const BaselineHistogram &) const = default;
};

struct BaselineHealthy {
    double p50Ms = 0;
    double p95Ms = 0;
    double p99Ms = 0;
    BaselineHistogram histogram;
    double tokensPerSecond = 0;
    QJsonObject extra;

    bool operator==(const BaselineHealthy &) const = default;
};

struct DriftThresholds {
    double warnRatio = 1.25;    // live / healthy percentile ratio that starts a warning
    double driftRatio = 1.5;    // ... that means drift
    double warnDistance = 0.2;  // Kolmogorov-Smirnov distance that starts a warning
    double driftDistance = 0.35;
    int enterWindows = 2;       // consecutive windows over a threshold to enter a state
    int exitWindows = 3;        // consecutive windows under it to leave
    int minSamples = 30;        // requests a window needs to be judged at all
    QJsonObject extra;

    bool operator==(const DriftThresholds &) const = default;
};

struct PerformanceBaseline {
    static constexpr const char *kSchema = "sluice.performance-baseline/v1";

    QString schema = QString::fromLatin1(kSchema);
    QDateTime createdAt;
    QString sluiceVersion;
    QJsonObject environment;  // cpus, upstreamKind, model, ... (kept as written)
    QJsonObject config;       // EngineConfig JSON in force
    QJsonObject loadProfile;  // tool, version, steps, stepSeconds, usersPerStep, requestMix, ...
    QList<BaselineStep> steps;
    std::optional<BaselineInflection> inflection;
    BaselineHealthy healthy;
    DriftThresholds drift;
    QJsonObject search;       // the knee search's summary (KneeSearchResult::toJson); empty = a stepped run, not written
    QJsonObject extra;        // top-level fields not known to this version

    bool operator==(const PerformanceBaseline &) const = default;

    QJsonObject toJson() const;
    QByteArray toJsonBytes() const; // indented, for files

    // Parses and validates; on failure returns false and *error names the
    // offending field ("steps[2].p95Ms: must be a non-negative number") or
    // says what the document is instead ("not a Sluice baseline: schema is ...").
    static bool fromJson(const QJsonObject &json, PerformanceBaseline *out, QString *error);
    static bool fromBytes(const QByteArray &bytes, PerformanceBaseline *out, QString *error);
    static bool load(const QString &path, PerformanceBaseline *out, QString *error);
    bool save(const QString &path, QString *error) const; // atomic (QSaveFile)
};
