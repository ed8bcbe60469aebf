#pragma once

#include "core/engine/scheduling.h"
#include "core/metrics/latencyhistogram.h"
#include "core/metrics/pricetable.h"
#include "core/metrics/metricssnapshot.h"
#include "core/quota/upstreambudget.h"
#include "core/util/clock.h"
#include "core/util/status.h"

#include <QObject>
#include <QTimer>

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

// Measures the gateway: latency histograms (end to end, queue wait,
// upstream), outcome and rejection counters, every upstream HTTP attempt
// (by kind, outcome and model), tokens and batch sizes, over
// sliding 1 s / 10 s / 60 s windows and since start, and publishes
// MetricsSnapshot values on a timer.
//
// Recording: the record*() methods are thread-safe and take no global lock;
// they add into the current one-second slot with relaxed atomics. A slot is
// reset (under a per-slot mutex, once per second) when time moves into it.
//
// Gauges (queue depth, in flight, backpressure) are read at snapshot time
// from the source set with setGaugeSource(), typically the engine.
//
// Thread: lives on the thread that created it (its timer runs there);
// record*(), snapshot() and cumulative*() are thread-safe.

// Why an HTTP call went upstream (sluice_upstream_calls_total{kind}).
enum class UpstreamCallKind {
    Single,     // one member's own call (fanout, countTokens, a lone packable, an embed split)
    Pack,       // the first call of a pack
    Repack,     // members missing from a pack answer, asked again together (or alone when one is left)
    Retry,      // a second or later attempt of any call
    EmbedMerge, // embedContent requests merged into one batchEmbedContents
};
QString upstreamCallKindName(UpstreamCallKind kind); // "single", "pack", "repack", "retry", "embed_merge"
constexpr int kUpstreamCallKinds = 5;

// How one upstream HTTP attempt ended, by what came back on the wire
// (sluice_upstream_attempts_total{outcome}): the upstream's own count of
// the calls it answered with each status is the figure to compare with.
enum class UpstreamAttemptOutcome {
    Ok,              // "ok": a 2xx answer (an error event inside a 200 stream is still a 2xx)
    RateLimited,     // "429"
    ClientError,     // "4xx": any other 4xx
    ServerError,     // "5xx"
    Timeout,         // "timeout": no answer before the call's deadline; Sluice cut the attempt
    ConnectionError, // "connection_error": no answer; refused, reset or closed by the upstream
    Cancelled,       // "cancelled": abandoned in flight because the client shut down
    Other,           // "other": an answer with a 1xx or 3xx status
};
QString upstreamAttemptOutcomeName(UpstreamAttemptOutcome outcome);
// The outcome of an attempt that got an answer with this HTTP status.
UpstreamAttemptOutcome upstreamAttemptOutcomeFor(int httpStatus);
constexpr int kUpstreamAttemptOutcomes = 8;

enum class PackMemberOutcome { Answered, Repacked, Failed };

// What the answer cache said for one Gemini model call
// (sluice_cache_requests_total{result}, the X-Sluice-Cache header).
enum class CacheLookup { Hit, Miss, Bypass };
QString cacheLookupName(CacheLookup result); // "hit", "miss", "bypass"

struct EngineGauges {
    int queueDepth = 0;
    int queueCapacity = 0;
    int inflightBatches = 0;
    int maxInflightBatches = 0;
    double backpressure = 0;
    bool draining = false;
    // The HTTP front's memory budget (MemoryBudget); filled by whoever
    // composes the gauge source (GatewayRuntime), 0 without one.
    qint64 memoryUsedBytes = 0;
    qint64 memoryLimitBytes = 0;
    quint64 memoryRefusals = 0;
    // The answer cache (AnswerCache), 0 when it is off.
    qint64 cacheUsedBytes = 0;
    qint64 cacheMaxBytes = 0;
    qint64 cacheEntries = 0;
    // Per priority class, queued now; the most active tenants (the engine).
    std::array<int, kPriorityClasses> classQueued{};
    QList<TenantState> tenants;
    // Batch Mode (BatchModeCollector), filled by whoever composes the source.
    BatchModeState batchMode;
};

class InferenceMetricsCollector : public QObject
{
    Q_OBJECT
public:
    enum class Outcome { Ok, Failed, Expired, Cancelled };
    enum class Histogram { Latency, QueueWait, Upstream, FirstToken };

    explicit InferenceMetricsCollector(Clock &clock = Clock::steady(), QObject *parent = nullptr);
    ~InferenceMetricsCollector() override;

    void setGaugeSource(std::function<EngineGauges()> source);

    // An admitted request finished. `total` and `queueWait` are its end-to-end
    // and queue times; latency percentiles are taken over Ok requests only.
    void recordCompletion(Outcome outcome, Nanos total, Nanos queueWait, int promptTokens, int outputTokens,
                          PriorityClass cls = PriorityClass::Standard);
    void recordRejection(RejectReason reason, PriorityClass cls = PriorityClass::Standard);
    // An answer the upstream gave on `tier` with these usageMetadata counts:
    // its cost at the price table's (model, tier) price, and what it would
    // have cost on the standard tier (sluice_cost_usd_total{model,tier}).
    // `answers` answers at once (a batch's) with these tokens in all: one lock per batch.
    void recordTierAnswer(const QString &model, ServiceTier tier, qint64 promptTokens, qint64 outputTokens,
                          int answers = 1);
    // Flex calls Sluice chose that the upstream shed (or left unanswered
    // too long) and that went again on the standard tier.
    void recordFlexShed(const QString &model, int requests);
    void setPrices(const PriceTable &prices);
    PriceTable prices() const;
    struct TierTotals {
        quint64 requests = 0;
        quint64 shed = 0;
        quint64 promptTokens = 0;
        quint64 outputTokens = 0;
        double costUsd = 0;
        double standardCostUsd = 0; // the same answers at the standard tier's price
    };
    // Since start, by (model, tier).
    std::map<std::pair<QString, ServiceTier>, TierTotals> tierTotals() const;
    // Since start, per class: completed, failed (expired and cancelled too), rejected.
    struct ClassTotals {
        quint64 completed = 0;
        quint64 failed = 0;
        quint64 rejected = 0;
    };
    std::array<ClassTotals, kPriorityClasses> classTotals() const;
    // One class's admission to answer (ok requests) or queue wait over the
    // last 50-60 s (whole 10-second periods: this one and the 5 before).
    LatencyHistogram classWindowHistogram(PriorityClass cls, bool queueWait) const;
    // Since start, admission to answer of a class's successful requests.
    LatencyHistogram classCumulativeHistogram(PriorityClass cls) const;
    void recordBatch(int size, Nanos upstreamTime, int upstreamErrors);
    // One HTTP attempt sent upstream — a first try, a retry, a pack, a
    // repack, a passthrough — for `model` (the bare id; empty for the models
    // list/get calls, which name no quota), why it was sent, how it ended,
    // and its answer's HTTP status (0: no answer). Called once per attempt
    // that went on the wire, by whoever saw it end. Thread-safe (the window
    // counters are lock-free; the per-model totals take a short lock).
    void recordUpstreamAttempt(const QString &model, UpstreamCallKind kind, UpstreamAttemptOutcome outcome,
                               int httpStatus);
    void recordPackMembers(PackMemberOutcome outcome, int members);
    // The first byte of an answer's content left for the client, `sinceArrival`
    // after its request arrived: a stream's first event, or a whole answer
    // (sluice_time_to_first_token_seconds{route,model}). The window
    // percentiles (WindowStats::firstToken, Histogram::FirstToken) take
    // streamGenerateContent only: there the figure differs from the latency.
    void recordFirstToken(const QString &route, const QString &model, Nanos sinceArrival);
    // Since start, by (route, model); at most kMaxFirstTokenSeries series.
    std::map<std::pair<QString, QString>, LatencyHistogram> firstTokenHistograms() const;
    static constexpr size_t kMaxFirstTokenSeries = 64;
    // Requests answered by another one's upstream call (in-flight coalescing).
    void recordCoalesced(int requests);
    void recordCacheLookup(CacheLookup result);
    // Since start, by (kind, HTTP status): sluice_upstream_calls_total.
    std::map<std::pair<UpstreamCallKind, int>, quint64> upstreamCallCounts() const;
    // Since start, by (model, outcome): sluice_upstream_attempts_total and
    // MetricsSnapshot::upstreamAttempts.
    std::map<std::pair<QString, UpstreamAttemptOutcome>, quint64> upstreamAttemptCounts() const;

    // The upstream budget whose state snapshots carry (MetricsSnapshot::quota); may be null.
    void setBudget(UpstreamBudget *budget);

    MetricsSnapshot snapshot() const;
    // Since start; for Prometheus histograms and the performance baseline.
    LatencyHistogram cumulativeHistogram(Histogram which) const;
    // Merged histogram of the last `seconds` (1..60) seconds.
    LatencyHistogram windowHistogram(Histogram which, int seconds) const;

    // Publishing period of snapshotReady (default 250 ms, i.e. 4 Hz); 0 stops it.
    void setPublishInterval(std::chrono::milliseconds interval);

signals:
    void snapshotReady(const MetricsSnapshot &snapshot);

private:
    struct Slot;
    struct Totals;
    struct ClassPeriod;
    static constexpr int kClassPeriodSeconds = 10;
    static constexpr int kClassWindowPeriods = 6;
    static constexpr int kClassPeriods = kClassWindowPeriods + 2;
    ClassPeriod &currentClassPeriod(qint64 period);
    TierTotals &tierTotalsLocked(const QString &model, ServiceTier tier); // under m_callMutex
    Slot &currentSlot(qint64 second);
    qint64 secondOf(SteadyTime t) const;
    WindowStats window(int seconds, qint64 nowSecond) const;
    WindowStats totals() const;

    Clock &m_clock;
    SteadyTime m_start;
    qint64 m_startWallMs = 0;
    static constexpr int kSlots = 64;
    std::unique_ptr<std::array<Slot, kSlots>> m_slots;
    std::unique_ptr<Totals> m_totals;
    std::unique_ptr<std::array<ClassPeriod, kClassPeriods>> m_classPeriods;
    mutable std::mutex m_gaugeMutex;
    std::function<EngineGauges()> m_gaugeSource;
    UpstreamBudget *m_budget = nullptr;
    mutable std::mutex m_callMutex;
    std::map<std::pair<UpstreamCallKind, int>, quint64> m_callCounts;
    std::map<std::pair<QString, UpstreamAttemptOutcome>, quint64> m_attemptCounts;
    std::map<std::pair<QString, QString>, LatencyHistogram> m_firstToken; // under m_callMutex
    std::map<std::pair<QString, ServiceTier>, TierTotals> m_tiers;         // under m_callMutex
    PriceTable m_prices;                                                    // under m_callMutex
    QTimer m_timer;
};
