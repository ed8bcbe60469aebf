#pragma once

#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QMetaType>
#include <QString>

#include <array>

// An immutable picture of the gateway's measurements at one instant
// (DESIGN.md §2, §7). The console charts it, the WebSocket stream sends its
// JSON, /api/v1/stats returns it.
//
// Thread: plain value type; build once, then share by copy.

struct LatencySummary {
    quint64 count = 0;
    double meanMs = 0;
    double p50Ms = 0;
    double p95Ms = 0;
    double p99Ms = 0;
    double p999Ms = 0;
    double maxMs = 0;

    QJsonObject toJson() const;
};

// Batch sizes are counted in power-of-two buckets: [1], [2,3], [4,7], ... [512,1023], [1024+].
constexpr int kBatchSizeBuckets = 11;

struct WindowStats {
    int seconds = 0; // window length; 0 = since start (cumulative)
    quint64 requests = 0;  // admitted requests that finished in the window, any outcome
    quint64 ok = 0;
    quint64 failed = 0;
    quint64 expired = 0;
    quint64 cancelled = 0;
    double requestsPerSecond = 0;
    LatencySummary latency;   // end to end, admission to answer (successful requests)
    LatencySummary queueWait; // admission to dispatch
    LatencySummary upstream;  // per batch, dispatch to the upstream's answer
    // streamGenerateContent: arrival to the first event written to the client.
    LatencySummary firstToken;
    quint64 coalesced = 0;     // answered by another request's upstream call (single flight)
    // The answer cache's say on Gemini model calls: served from it, looked
    // up and not found, not consulted (off, streaming, Cache-Control).
    quint64 cacheHits = 0;
    quint64 cacheMisses = 0;
    quint64 cacheBypassed = 0;
    double cacheHitRatio = 0;  // hits / (hits + misses)
    quint64 promptTokens = 0;
    quint64 outputTokens = 0;
    double promptTokensPerSecond = 0;
    double outputTokensPerSecond = 0;
    quint64 batches = 0;
    double meanBatchSize = 0;
    std::array<quint64, kBatchSizeBuckets> batchSizeBuckets{};
    // HTTP calls sent upstream (every attempt: firsts, retries, repacks),
    // by kind: "single", "pack", "repack", "retry", "embed_merge".
    quint64 upstreamCalls = 0;
    QMap<QString, quint64> upstreamCallsByKind;
    quint64 upstream429 = 0;       // of those, answered 429 by the upstream
    // The same attempts by how they ended: "ok", "429", "4xx", "5xx",
    // "timeout", "connection_error", "cancelled", "other"
    // (UpstreamAttemptOutcome); upstreamAttemptsFailed: all but "ok",
    // retried or not — what the upstream counts as failed calls.
    QMap<QString, quint64> upstreamAttemptsByOutcome;
    quint64 upstreamAttemptsFailed = 0;
    quint64 upstreamErrors = 0;    // batches with at least one failed member (after retries)
    // Members of pack calls: answered from a pack answer, asked again
    // (missing from it), or failed after the last repack.
    quint64 packAnswered = 0;
    quint64 packRepacked = 0;
    quint64 packFailed = 0;
    double answersPerUpstreamCall = 0; // ok / upstreamCalls: what a unit of quota buys
    QMap<QString, quint64> rejections; // by reason ("queue_full", "draining", ...)
    quint64 rejected = 0;

    QJsonObject toJson() const;
};

// One model's upstream budget at snapshot time (UpstreamBudget).
struct QuotaDimensionState {
    qint64 limit = 0;          // 0 = none
    QString source;            // "none", "config", "learned", "probe"
    qint64 used = 0;           // in the current window
    double usedRatio = 0;      // used / limit (0 without a limit)
    qint64 blockedForMs = 0;   // by a 429's RetryInfo
};
struct ModelQuotaState {
    QString model;
    QuotaDimensionState rpm, tpm, rpd;
};

// Upstream HTTP attempts for one model that ended one way, since start.
struct UpstreamAttemptCount {
    QString model;    // bare id; empty for the models list/get calls
    QString outcome;  // as in WindowStats::upstreamAttemptsByOutcome
    quint64 attempts = 0;
};

// One priority class (X-Sluice-Priority) at snapshot time.
struct PriorityClassState {
    QString name;              // "interactive", "standard", "background"
    int queued = 0;            // waiting in Sluice's queue now
    quint64 completed = 0;     // answered OK, since start
    quint64 failed = 0;        // answered with an error, expired or cancelled, since start
    quint64 rejected = 0;      // refused at admission (queue, tenant limits, budget), since start
    LatencySummary latency;    // last 50-60 s (whole 10 s periods), successful requests, admission to answer
    LatencySummary queueWait;  // the same window, admission to dispatch

    QJsonObject toJson() const;
};

// One upstream service tier at snapshot time: what the answers it gave cost.
struct TierState {
    QString name;              // "standard", "flex", "priority", "batch" (Batch Mode)
    quint64 requests = 0;      // answered OK through this tier, since start
    quint64 shed = 0;          // flex only: shed by the upstream (503), then sent on as standard
    quint64 promptTokens = 0;  // of those answers, as usageMetadata counted them
    quint64 outputTokens = 0;
    double costUsd = 0;        // at the configured price of (model, tier)

    QJsonObject toJson() const;
};

// One tenant (an API key's digest, or X-Sluice-Tenant) at snapshot time.
struct TenantState {
    QString id;                // "key-" + 16 hex digits of the key's SHA-256, or the X-Sluice-Tenant name
    double weight = 1;         // its share of the upstream within a class (weighted fair queuing)
    int queued = 0;
    int inflight = 0;          // with the upstream now
    quint64 completed = 0;     // answered OK, since start
    quint64 rejected = 0;      // refused at admission, since start (its own limits included)

    QJsonObject toJson() const;
};

// Batch Mode (BatchModeCollector) at snapshot time: requests gathered for
// the next job, upstream jobs not finished, clients still waiting for an
// answer from one (open connection or operation), totals since start.
struct BatchModeState {
    bool enabled = false;
    int gathering = 0;
    int jobsRunning = 0;
    int waiting = 0;
    quint64 jobsSubmitted = 0;
    quint64 requestsSubmitted = 0;

    QJsonObject toJson() const;
};

struct MetricsSnapshot {
    qint64 timestampMs = 0;   // wall clock, ms since the epoch
    double uptimeSeconds = 0;
    int queueDepth = 0;
    int queueCapacity = 0;
    int inflightBatches = 0;
    int maxInflightBatches = 0;
    double backpressure = 0;  // 0..1, how close admission is to refusing
    bool draining = false;
    // JSON "memoryBudget": {"usedBytes", "limitBytes", "refusals"}
    qint64 memoryUsedBytes = 0;
    qint64 memoryLimitBytes = 0;  // 0: no budget
    quint64 memoryRefusals = 0;
    // JSON "answerCache": {"enabled", "usedBytes", "maxBytes", "entries"}
    bool cacheEnabled = false;
    qint64 cacheUsedBytes = 0;
    qint64 cacheMaxBytes = 0;
    qint64 cacheEntries = 0;
    WindowStats last1s;
    WindowStats last10s;
    WindowStats last60s;
    WindowStats total;
    QList<ModelQuotaState> quota; // every model the budget knows, by name
    // Every upstream attempt since start by (model, outcome), in that order;
    // JSON "upstreamAttempts": [{"model", "outcome", "attempts"}].
    QList<UpstreamAttemptCount> upstreamAttempts;
    // The three priority classes, always, in priority order (interactive first).
    QList<PriorityClassState> classes;
    // The four tiers, always, in the order standard, flex, priority, batch.
    QList<TierState> tiers;
    // JSON "cost": {"usd", "standardUsd", "savingUsd", "savingRatio"}: what
    // the answers cost since start, what they would have cost all on the
    // standard tier, the difference and its share of the latter (0 when nothing cost).
    double costUsd = 0;
    double costStandardUsd = 0;
    // The most active tenants (queued + in flight, then answered), at most 20.
    QList<TenantState> tenants;
    // JSON "batchMode": {"enabled", "gathering", "jobsRunning", "waiting",
    // "jobsSubmitted", "requestsSubmitted"}.
    BatchModeState batchMode;

    QJsonObject toJson() const;
};

int batchSizeBucket(int size);            // index into batchSizeBuckets
QString batchSizeBucketLabel(int bucket); // "1", "2-3", ..., "1024+"

Q_DECLARE_METATYPE(MetricsSnapshot)
