#include "core/metrics/inferencemetricscollector.h"

#include <QDateTime>

#include <algorithm>

using namespace std::chrono;

namespace {

constexpr std::array<RejectReason, 6> kReasons{RejectReason::None,        RejectReason::QueueFull,
                                               RejectReason::Draining,    RejectReason::CircuitOpen,
                                               RejectReason::QuotaExhausted, RejectReason::TenantLimit};

enum Counter : int {
    kOk,
    kFailed,
    kExpired,
    kCancelled,
    kPromptTokens,
    kOutputTokens,
    kBatches,
    kBatchMembers,
    kUpstreamErrors,
    kCallFirst,                               // one per UpstreamCallKind
    kUpstream429 = kCallFirst + kUpstreamCallKinds,
    kPackAnswered,
    kPackRepacked,
    kPackFailed,
    kCoalesced,
    kCacheHit,
    kCacheMiss,
    kCacheBypass,
    kAttemptFirst,                                // one per UpstreamAttemptOutcome
    kRejectFirst = kAttemptFirst + kUpstreamAttemptOutcomes, // one per RejectReason
    kCounterCount = kRejectFirst + int(kReasons.size()),
};


struct CounterSet {
    std::array<std::atomic<quint64>, kCounterCount> c{};
    std::array<std::atomic<quint64>, kBatchSizeBuckets> batchSizes{};

    void add(int i, quint64 n) { c[size_t(i)].fetch_add(n, std::memory_order_relaxed); }
    quint64 get(int i) const { return c[size_t(i)].load(std::memory_order_relaxed); }
    void clear()
    {
        for (auto &x : c)
            x.store(0, std::memory_order_relaxed);
        for (auto &x : batchSizes)
            x.store(0, std::memory_order_relaxed);
    }
};

LatencySummary summarize(const LatencyHistogram &h)
{
    LatencySummary s;
    s.count = h.count();
    if (s.count == 0)
        return s;
    const auto ms = [](uint64_t ns) { return double(ns) / 1e6; };
    s.meanMs = h.meanNs() / 1e6;
    s.p50Ms = ms(h.quantileNs(0.50));
    s.p95Ms = ms(h.quantileNs(0.95));
    s.p99Ms = ms(h.quantileNs(0.99));
    s.p999Ms = ms(h.quantileNs(0.999));
    s.maxMs = ms(h.maxNs());
    return s;
}

} // namespace

struct InferenceMetricsCollector::Slot {
    std::atomic<qint64> second{-1};
    std::mutex resetMutex;
    AtomicLatencyHistogram latency;
    AtomicLatencyHistogram queueWait;
    AtomicLatencyHistogram upstream;
    AtomicLatencyHistogram firstToken;
    CounterSet counters;
};

// Per-class latency and queue wait in 10-second periods: a full histogram
// (16 KiB) per class and second would cost 6 MiB and a 360-histogram merge
// per snapshot; by period, 0.8 MiB and at most 36.
struct InferenceMetricsCollector::ClassPeriod {
    std::atomic<qint64> period{-1};
    std::mutex resetMutex;
    std::array<AtomicLatencyHistogram, kPriorityClasses> latency;
    std::array<AtomicLatencyHistogram, kPriorityClasses> queueWait;
};

struct InferenceMetricsCollector::Totals {
    AtomicLatencyHistogram latency;
    AtomicLatencyHistogram queueWait;
    AtomicLatencyHistogram upstream;
    AtomicLatencyHistogram firstToken;
    CounterSet counters;
    // Per class: completed, failed, rejected; latency of the completed.
    std::array<std::array<std::atomic<quint64>, 3>, kPriorityClasses> classCounts{};
    std::array<AtomicLatencyHistogram, kPriorityClasses> classLatency;
};

InferenceMetricsCollector::InferenceMetricsCollector(Clock &clock, QObject *parent)
    : QObject(parent)
    , m_clock(clock)
    , m_start(clock.now())
    , m_startWallMs(QDateTime::currentMSecsSinceEpoch())
    , m_slots(std::make_unique<std::array<Slot, kSlots>>())
    , m_totals(std::make_unique<Totals>())
    , m_classPeriods(std::make_unique<std::array<ClassPeriod, kClassPeriods>>())
{
    qRegisterMetaType<MetricsSnapshot>();
    connect(&m_timer, &QTimer::timeout, this, [this] { emit snapshotReady(snapshot()); });
    m_timer.setTimerType(Qt::PreciseTimer);
    m_timer.start(250);
}

InferenceMetricsCollector::~InferenceMetricsCollector() = default;

void InferenceMetricsCollector::setGaugeSource(std::function<EngineGauges()> source)
{
    std::lock_guard lock(m_gaugeMutex);
    m_gaugeSource = std::move(source);
}

void InferenceMetricsCollector::setPublishInterval(milliseconds interval)
{
    if (interval.count() <= 0)
        m_timer.stop();
    else
        m_timer.start(int(interval.count()));
}

qint64 InferenceMetricsCollector::secondOf(SteadyTime t) const
{
    return duration_cast<seconds>(t - m_start).count();
}

InferenceMetricsCollector::Slot &InferenceMetricsCollector::currentSlot(qint64 second)
{
    Slot &s = (*m_slots)[size_t(second % kSlots)];
    if (s.second.load(std::memory_order_acquire) != second) {
        std::lock_guard lock(s.resetMutex);
        if (s.second.load(std::memory_order_relaxed) != second) {
            s.latency.clear();
            s.queueWait.clear();
            s.upstream.clear();
            s.firstToken.clear();
            s.counters.clear();
            s.second.store(second, std::memory_order_release);
        }
    }
    return s;
}

void InferenceMetricsCollector::recordCompletion(Outcome outcome, Nanos total, Nanos queueWait, int promptTokens,
                                                 int outputTokens, PriorityClass cls)
{
    const qint64 second = secondOf(m_clock.now());
    Slot &s = currentSlot(second);
    const int idx = outcome == Outcome::Ok       ? kOk
                    : outcome == Outcome::Failed  ? kFailed
                    : outcome == Outcome::Expired ? kExpired
                                                  : kCancelled;
    for (CounterSet *c : {&s.counters, &m_totals->counters}) {
        c->add(idx, 1);
        if (promptTokens > 0)
            c->add(kPromptTokens, quint64(promptTokens));
        if (outputTokens > 0)
            c->add(kOutputTokens, quint64(outputTokens));
    }
    const size_t c = size_t(cls);
    if (outcome == Outcome::Ok) {
        s.latency.record(total);
        m_totals->latency.record(total);
        m_totals->classLatency[c].record(total);
    }
    s.queueWait.record(queueWait);
    m_totals->queueWait.record(queueWait);
    ClassPeriod &cp = currentClassPeriod(second / kClassPeriodSeconds);
    if (outcome == Outcome::Ok)
        cp.latency[c].record(total);
    cp.queueWait[c].record(queueWait);
    m_totals->classCounts[c][outcome == Outcome::Ok ? 0 : 1].fetch_add(1, std::memory_order_relaxed);
}

void InferenceMetricsCollector::recordRejection(RejectReason reason, PriorityClass cls)
{
    Slot &s = currentSlot(secondOf(m_clock.now()));
    const int idx = kRejectFirst + int(std::find(kReasons.begin(), kReasons.end(), reason) - kReasons.begin());
    s.counters.add(idx, 1);
    m_totals->counters.add(idx, 1);
    m_totals->classCounts[size_t(cls)][2].fetch_add(1, std::memory_order_relaxed);
}

InferenceMetricsCollector::TierTotals &InferenceMetricsCollector::tierTotalsLocked(const QString &model,
                                                                                  ServiceTier tier)
{
    auto it = m_tiers.find({model, tier});
    if (it != m_tiers.end())
        return it->second;
    // Bounded like the other per-model series: past it, new models count as "other".
    const bool full = m_tiers.size() >= 4 * kMaxFirstTokenSeries;
    return m_tiers.try_emplace({full ? QStringLiteral("other") : model, tier}).first->second;
}

void InferenceMetricsCollector::recordTierAnswer(const QString &model, ServiceTier tier, qint64 promptTokens,
                                                 qint64 outputTokens, int answers)
{
    promptTokens = std::max<qint64>(0, promptTokens);
    outputTokens = std::max<qint64>(0, outputTokens);
    std::lock_guard lock(m_callMutex);
    TierTotals &t = tierTotalsLocked(model, tier);
    t.requests += quint64(std::max(0, answers));
    t.promptTokens += quint64(promptTokens);
    t.outputTokens += quint64(outputTokens);
    t.costUsd += m_prices.cost(model, tier, promptTokens, outputTokens);
    t.standardCostUsd += m_prices.cost(model, ServiceTier::Standard, promptTokens, outputTokens);
}

void InferenceMetricsCollector::recordFlexShed(const QString &model, int requests)
{
    std::lock_guard lock(m_callMutex);
    tierTotalsLocked(model, ServiceTier::Flex).shed += quint64(std::max(0, requests));
}

void InferenceMetricsCollector::setPrices(const PriceTable &prices)
{
    std::lock_guard lock(m_callMutex);
    m_prices = prices;
}

PriceTable InferenceMetricsCollector::prices() const
{
    std::lock_guard lock(m_callMutex);
    return m_prices;
}

std::map<std::pair<QString, ServiceTier>, InferenceMetricsCollector::TierTotals> InferenceMetricsCollector::tierTotals() const
{
    std::lock_guard lock(m_callMutex);
    return m_tiers;
}

std::array<InferenceMetricsCollector::ClassTotals, kPriorityClasses> InferenceMetricsCollector::classTotals() const
{
    std::array<ClassTotals, kPriorityClasses> out;
    for (int c = 0; c < kPriorityClasses; ++c) {
        const auto &n = m_totals->classCounts[size_t(c)];
        out[size_t(c)] = {n[0].load(std::memory_order_relaxed), n[1].load(std::memory_order_relaxed),
                          n[2].load(std::memory_order_relaxed)};
    }
    return out;
}

LatencyHistogram InferenceMetricsCollector::classCumulativeHistogram(PriorityClass cls) const
{
    LatencyHistogram h;
    m_totals->classLatency[size_t(cls)].addTo(h);
    return h;
}

InferenceMetricsCollector::ClassPeriod &InferenceMetricsCollector::currentClassPeriod(qint64 period)
{
    ClassPeriod &p = (*m_classPeriods)[size_t(period % kClassPeriods)];
    if (p.period.load(std::memory_order_acquire) != period) {
        std::lock_guard lock(p.resetMutex);
        if (p.period.load(std::memory_order_relaxed) != period) {
            for (auto &h : p.latency)
                h.clear();
            for (auto &h : p.queueWait)
                h.clear();
            p.period.store(period, std::memory_order_release);
        }
    }
    return p;
}

LatencyHistogram InferenceMetricsCollector::classWindowHistogram(PriorityClass cls, bool queueWait) const
{
    const qint64 now = secondOf(m_clock.now()) / kClassPeriodSeconds;
    LatencyHistogram h;
    for (qint64 period = std::max<qint64>(0, now - kClassWindowPeriods + 1); period <= now; ++period) {
        const ClassPeriod &p = (*m_classPeriods)[size_t(period % kClassPeriods)];
        if (p.period.load(std::memory_order_acquire) != period)
            continue;
        (queueWait ? p.queueWait : p.latency)[size_t(cls)].addTo(h);
    }
    return h;
}

void InferenceMetricsCollector::recordFirstToken(const QString &route, const QString &model, Nanos sinceArrival)
{
    if (route == QLatin1String("streamGenerateContent")) {
        Slot &s = currentSlot(secondOf(m_clock.now()));
        s.firstToken.record(sinceArrival);
        m_totals->firstToken.record(sinceArrival);
    }
    std::lock_guard lock(m_callMutex);
    auto it = m_firstToken.find({route, model});
    if (it == m_firstToken.end()) {
        if (m_firstToken.size() >= kMaxFirstTokenSeries)
            return; // label cardinality stays bounded whatever model names arrive
        it = m_firstToken.emplace(std::pair{route, model}, LatencyHistogram{}).first;
    }
    it->second.record(sinceArrival);
}

std::map<std::pair<QString, QString>, LatencyHistogram> InferenceMetricsCollector::firstTokenHistograms() const
{
    std::lock_guard lock(m_callMutex);
    return m_firstToken;
}

void InferenceMetricsCollector::recordCoalesced(int requests)
{
    if (requests <= 0)
        return;
    Slot &s = currentSlot(secondOf(m_clock.now()));
    s.counters.add(kCoalesced, quint64(requests));
    m_totals->counters.add(kCoalesced, quint64(requests));
}

void InferenceMetricsCollector::recordCacheLookup(CacheLookup result)
{
    const int idx = result == CacheLookup::Hit ? kCacheHit : result == CacheLookup::Miss ? kCacheMiss : kCacheBypass;
    Slot &s = currentSlot(secondOf(m_clock.now()));
    s.counters.add(idx, 1);
    m_totals->counters.add(idx, 1);
}

QString cacheLookupName(CacheLookup result)
{
    switch (result) {
    case CacheLookup::Hit: return QStringLiteral("hit");
    case CacheLookup::Miss: return QStringLiteral("miss");
    case CacheLookup::Bypass: return QStringLiteral("bypass");
    }
    return QStringLiteral("bypass");
}

QString upstreamCallKindName(UpstreamCallKind kind)
{
    switch (kind) {
    case UpstreamCallKind::Single: return QStringLiteral("single");
    case UpstreamCallKind::Pack: return QStringLiteral("pack");
    case UpstreamCallKind::Repack: return QStringLiteral("repack");
    case UpstreamCallKind::Retry: return QStringLiteral("retry");
    case UpstreamCallKind::EmbedMerge: return QStringLiteral("embed_merge");
    }
    return QStringLiteral("single");
}

QString upstreamAttemptOutcomeName(UpstreamAttemptOutcome outcome)
{
    switch (outcome) {
    case UpstreamAttemptOutcome::Ok: return QStringLiteral("ok");
    case UpstreamAttemptOutcome::RateLimited: return QStringLiteral("429");
    case UpstreamAttemptOutcome::ClientError: return QStringLiteral("4xx");
    case UpstreamAttemptOutcome::ServerError: return QStringLiteral("5xx");
    case UpstreamAttemptOutcome::Timeout: return QStringLiteral("timeout");
    case UpstreamAttemptOutcome::ConnectionError: return QStringLiteral("connection_error");
    case UpstreamAttemptOutcome::Cancelled: return QStringLiteral("cancelled");
    case UpstreamAttemptOutcome::Other: return QStringLiteral("other");
    }
    return QStringLiteral("other");
}

UpstreamAttemptOutcome upstreamAttemptOutcomeFor(int httpStatus)
{
    if (httpStatus >= 200 && httpStatus < 300)
        return UpstreamAttemptOutcome::Ok;
    if (httpStatus == 429)
        return UpstreamAttemptOutcome::RateLimited;
    if (httpStatus >= 400 && httpStatus < 500)
        return UpstreamAttemptOutcome::ClientError;
    if (httpStatus >= 500 && httpStatus < 600)
        return UpstreamAttemptOutcome::ServerError;
    return UpstreamAttemptOutcome::Other;
}

void InferenceMetricsCollector::recordUpstreamAttempt(const QString &model, UpstreamCallKind kind,
                                                      UpstreamAttemptOutcome outcome, int httpStatus)
{
    Slot &s = currentSlot(secondOf(m_clock.now()));
    for (CounterSet *c : {&s.counters, &m_totals->counters}) {
        c->add(kCallFirst + int(kind), 1);
        c->add(kAttemptFirst + int(outcome), 1);
        if (httpStatus == 429)
            c->add(kUpstream429, 1);
    }
    std::lock_guard lock(m_callMutex);
    ++m_callCounts[{kind, httpStatus}];
    ++m_attemptCounts[{model, outcome}];
}

std::map<std::pair<QString, UpstreamAttemptOutcome>, quint64> InferenceMetricsCollector::upstreamAttemptCounts() const
{
    std::lock_guard lock(m_callMutex);
    return m_attemptCounts;
}

void InferenceMetricsCollector::recordPackMembers(PackMemberOutcome outcome, int members)
{
    if (members <= 0)
        return;
    Slot &s = currentSlot(secondOf(m_clock.now()));
    const int idx = outcome == PackMemberOutcome::Answered   ? kPackAnswered
                    : outcome == PackMemberOutcome::Repacked ? kPackRepacked
                                                             : kPackFailed;
    s.counters.add(idx, quint64(members));
    m_totals->counters.add(idx, quint64(members));
}

std::map<std::pair<UpstreamCallKind, int>, quint64> InferenceMetricsCollector::upstreamCallCounts() const
{
    std::lock_guard lock(m_callMutex);
    return m_callCounts;
}

void InferenceMetricsCollector::setBudget(UpstreamBudget *budget)
{
    std::lock_guard lock(m_gaugeMutex);
    m_budget = budget;
}

void InferenceMetricsCollector::recordBatch(int size, Nanos upstreamTime, int upstreamErrors)
{
    Slot &s = currentSlot(secondOf(m_clock.now()));
    const size_t bucket = size_t(batchSizeBucket(size));
    for (CounterSet *c : {&s.counters, &m_totals->counters}) {
        c->add(kBatches, 1);
        c->add(kBatchMembers, quint64(std::max(size, 0)));
        c->add(kUpstreamErrors, quint64(std::max(upstreamErrors, 0)));
        c->batchSizes[bucket].fetch_add(1, std::memory_order_relaxed);
    }
    s.upstream.record(upstreamTime);
    m_totals->upstream.record(upstreamTime);
}

namespace {
template <typename Source>
WindowStats statsFrom(int seconds, double spanSeconds, const LatencyHistogram &lat, const LatencyHistogram &qw,
                      const LatencyHistogram &up, const LatencyHistogram &ftt, Source &&counter,
                      const std::array<quint64, kBatchSizeBuckets> &sizes)
{
    WindowStats w;
    w.seconds = seconds;
    w.ok = counter(kOk);
    w.failed = counter(kFailed);
    w.expired = counter(kExpired);
    w.cancelled = counter(kCancelled);
    w.requests = w.ok + w.failed + w.expired + w.cancelled;
    w.latency = summarize(lat);
    w.queueWait = summarize(qw);
    w.upstream = summarize(up);
    w.firstToken = summarize(ftt);
    w.coalesced = counter(kCoalesced);
    w.cacheHits = counter(kCacheHit);
    w.cacheMisses = counter(kCacheMiss);
    w.cacheBypassed = counter(kCacheBypass);
    w.cacheHitRatio = w.cacheHits + w.cacheMisses ? double(w.cacheHits) / double(w.cacheHits + w.cacheMisses) : 0.0;
    w.promptTokens = counter(kPromptTokens);
    w.outputTokens = counter(kOutputTokens);
    w.batches = counter(kBatches);
    w.meanBatchSize = w.batches ? double(counter(kBatchMembers)) / double(w.batches) : 0.0;
    w.batchSizeBuckets = sizes;
    for (int k = 0; k < kUpstreamCallKinds; ++k) {
        const quint64 n = counter(kCallFirst + k);
        w.upstreamCalls += n;
        if (n)
            w.upstreamCallsByKind.insert(upstreamCallKindName(UpstreamCallKind(k)), n);
    }
    for (int k = 0; k < kUpstreamAttemptOutcomes; ++k) {
        const quint64 n = counter(kAttemptFirst + k);
        if (n)
            w.upstreamAttemptsByOutcome.insert(upstreamAttemptOutcomeName(UpstreamAttemptOutcome(k)), n);
        if (UpstreamAttemptOutcome(k) != UpstreamAttemptOutcome::Ok)
            w.upstreamAttemptsFailed += n;
    }
    w.upstream429 = counter(kUpstream429);
    w.upstreamErrors = counter(kUpstreamErrors);
    w.packAnswered = counter(kPackAnswered);
    w.packRepacked = counter(kPackRepacked);
    w.packFailed = counter(kPackFailed);
    w.answersPerUpstreamCall = w.upstreamCalls ? double(w.ok) / double(w.upstreamCalls) : 0.0;
    for (size_t i = 1; i < kReasons.size(); ++i) {
        const quint64 n = counter(kRejectFirst + int(i));
        w.rejected += n;
        if (n)
            w.rejections.insert(rejectReasonName(kReasons[i]), n);
    }
    if (spanSeconds > 0) {
        w.requestsPerSecond = double(w.requests) / spanSeconds;
        w.promptTokensPerSecond = double(w.promptTokens) / spanSeconds;
        w.outputTokensPerSecond = double(w.outputTokens) / spanSeconds;
    }
    return w;
}
} // namespace

WindowStats InferenceMetricsCollector::window(int seconds, qint64 nowSecond) const
{
    // The last `seconds` complete seconds (the current, partial second is
    // left out so rates are not diluted); early on, as many as exist.
    LatencyHistogram lat, qw, up, ftt;
    std::array<quint64, kCounterCount> counts{};
    std::array<quint64, kBatchSizeBuckets> sizes{};
    const qint64 first = std::max<qint64>(0, nowSecond - seconds);
    int covered = 0;
    for (qint64 sec = first; sec < nowSecond; ++sec) {
        ++covered;
        const Slot &s = (*m_slots)[size_t(sec % kSlots)];
        if (s.second.load(std::memory_order_acquire) != sec)
            continue;
        s.latency.addTo(lat);
        s.queueWait.addTo(qw);
        s.upstream.addTo(up);
        s.firstToken.addTo(ftt);
        for (int i = 0; i < kCounterCount; ++i)
            counts[size_t(i)] += s.counters.get(i);
        for (int i = 0; i < kBatchSizeBuckets; ++i)
            sizes[size_t(i)] += s.counters.batchSizes[size_t(i)].load(std::memory_order_relaxed);
    }
    return statsFrom(seconds, covered, lat, qw, up, ftt, [&](int i) { return counts[size_t(i)]; }, sizes);
}

WindowStats InferenceMetricsCollector::totals() const
{
    LatencyHistogram lat, qw, up, ftt;
    m_totals->latency.addTo(lat);
    m_totals->queueWait.addTo(qw);
    m_totals->upstream.addTo(up);
    m_totals->firstToken.addTo(ftt);
    std::array<quint64, kBatchSizeBuckets> sizes{};
    for (int i = 0; i < kBatchSizeBuckets; ++i)
        sizes[size_t(i)] = m_totals->counters.batchSizes[size_t(i)].load(std::memory_order_relaxed);
    const double span = duration<double>(m_clock.now() - m_start).count();
    return statsFrom(0, span, lat, qw, up, ftt, [&](int i) { return m_totals->counters.get(i); }, sizes);
}

LatencyHistogram InferenceMetricsCollector::windowHistogram(Histogram which, int seconds) const
{
    seconds = std::clamp(seconds, 1, kSlots - 4);
    const qint64 nowSecond = secondOf(m_clock.now());
    LatencyHistogram h;
    for (qint64 sec = std::max<qint64>(0, nowSecond - seconds); sec < nowSecond; ++sec) {
        const Slot &s = (*m_slots)[size_t(sec % kSlots)];
        if (s.second.load(std::memory_order_acquire) != sec)
            continue;
        const AtomicLatencyHistogram &src = which == Histogram::Latency     ? s.latency
                                            : which == Histogram::QueueWait ? s.queueWait
                                            : which == Histogram::FirstToken ? s.firstToken
                                                                            : s.upstream;
        src.addTo(h);
    }
    return h;
}

LatencyHistogram InferenceMetricsCollector::cumulativeHistogram(Histogram which) const
{
    LatencyHistogram h;
    const AtomicLatencyHistogram &src = which == Histogram::Latency     ? m_totals->latency
                                        : which == Histogram::QueueWait ? m_totals->queueWait
                                        : which == Histogram::FirstToken ? m_totals->firstToken
                                                                        : m_totals->upstream;
    src.addTo(h);
    return h;
}

MetricsSnapshot InferenceMetricsCollector::snapshot() const
{
    MetricsSnapshot snap;
    const SteadyTime now = m_clock.now();
    snap.uptimeSeconds = duration<double>(now - m_start).count();
    snap.timestampMs = m_startWallMs + qint64(snap.uptimeSeconds * 1000.0);
    UpstreamBudget *budget = nullptr;
    {
        std::lock_guard lock(m_gaugeMutex);
        budget = m_budget;
        if (m_gaugeSource) {
            const EngineGauges g = m_gaugeSource();
            snap.queueDepth = g.queueDepth;
            snap.queueCapacity = g.queueCapacity;
            snap.inflightBatches = g.inflightBatches;
            snap.maxInflightBatches = g.maxInflightBatches;
            snap.backpressure = g.backpressure;
            snap.draining = g.draining;
            snap.memoryUsedBytes = g.memoryUsedBytes;
            snap.memoryLimitBytes = g.memoryLimitBytes;
            snap.memoryRefusals = g.memoryRefusals;
            snap.cacheEnabled = g.cacheMaxBytes > 0;
            snap.cacheUsedBytes = g.cacheUsedBytes;
            snap.cacheMaxBytes = g.cacheMaxBytes;
            snap.cacheEntries = g.cacheEntries;
            snap.tenants = g.tenants;
            snap.batchMode = g.batchMode;
            for (int c = 0; c < kPriorityClasses; ++c) {
                PriorityClassState st;
                st.queued = g.classQueued[size_t(c)];
                snap.classes.append(st);
            }
        }
    }
    if (snap.classes.isEmpty())
        snap.classes.resize(kPriorityClasses);
    const auto classCounts = classTotals();
    for (int c = 0; c < kPriorityClasses; ++c) {
        PriorityClassState &st = snap.classes[c];
        st.name = priorityClassName(PriorityClass(c));
        st.completed = classCounts[size_t(c)].completed;
        st.failed = classCounts[size_t(c)].failed;
        st.rejected = classCounts[size_t(c)].rejected;
        st.latency = summarize(classWindowHistogram(PriorityClass(c), false));
        st.queueWait = summarize(classWindowHistogram(PriorityClass(c), true));
    }
    snap.tiers.resize(kServiceTiers);
    for (int t = 0; t < kServiceTiers; ++t)
        snap.tiers[t].name = serviceTierName(ServiceTier(t));
    for (const auto &[key, totals] : tierTotals()) {
        TierState &st = snap.tiers[int(key.second)];
        st.requests += totals.requests;
        st.shed += totals.shed;
        st.promptTokens += totals.promptTokens;
        st.outputTokens += totals.outputTokens;
        st.costUsd += totals.costUsd;
        snap.costUsd += totals.costUsd;
        snap.costStandardUsd += totals.standardCostUsd;
    }
    const qint64 sec = secondOf(now);
    snap.last1s = window(1, sec);
    snap.last10s = window(10, sec);
    snap.last60s = window(60, sec);
    snap.total = totals();
    for (const auto &[key, count] : upstreamAttemptCounts())
        snap.upstreamAttempts.append({key.first, upstreamAttemptOutcomeName(key.second), count});
    if (budget) {
        const SteadyTime budgetNow = budget->now();
        for (const UpstreamBudget::ModelState &m : budget->snapshot()) {
            ModelQuotaState q;
            q.model = m.model;
            QuotaDimensionState *dims[] = {&q.rpm, &q.tpm, &q.rpd};
            for (int d = 0; d < kQuotaDimensions; ++d) {
                const ModelBudget::DimensionState &src = m.dimensions[size_t(d)];
                QuotaDimensionState &dst = *dims[d];
                dst.limit = src.limit;
                dst.source = quotaSourceName(src.source);
                dst.used = src.used;
                dst.usedRatio = src.limit > 0 ? double(src.used) / double(src.limit) : 0.0;
                dst.blockedForMs = std::max<qint64>(0, duration_cast<milliseconds>(src.blockedUntil - budgetNow).count());
            }
            snap.quota.append(q);
        }
    }
    return snap;
}
