#include "core/engine/batchinferenceengine.h"

#include "core/engine/batchkey.h"

#include <QFutureInterface>
#include <QJsonDocument>
#include <QLoggingCategory>

#include <algorithm>
#include <cmath>

Q_LOGGING_CATEGORY(lcEngine, "sluice.engine")

using namespace std::chrono;
using Outcome = InferenceMetricsCollector::Outcome;

struct BatchInferenceEngine::Pending {
    quint64 id = 0;
    InferenceRequest request;
    CompletionCallback done;   // moved out when completed; empty = tombstone
    SteadyTime enqueued;
    SteadyTime deadline;
    KeyQueue *queue = nullptr;
};

struct BatchInferenceEngine::KeyQueue {
    QByteArray key;
    std::deque<std::unique_ptr<Pending>> items; // FIFO; may hold tombstones
    int live = 0;                                // non-tombstone items
    SteadyTime lastArrival;
    double meanInterArrivalSec = 0;              // EWMA, adaptive mode

    void popTombstones()
    {
        while (!items.empty() && !items.front()->done)
            items.pop_front();
    }
};

namespace {

// Guards the completion path against an engine destroyed while a backend
// still holds a batch: members are then answered directly, without accounting.

int estimateTokens(const InferenceRequest &r)
{
    const QJsonObject gen = r.body.value(QStringLiteral("generationConfig")).toObject();
    const int maxOut = gen.value(QStringLiteral("maxOutputTokens")).toInt(256);
    const qsizetype chars = QJsonDocument(r.body).toJson(QJsonDocument::Compact).size();
    const bool generates = r.operation == Operation::GenerateContent
                           || r.operation == Operation::StreamGenerateContent;
    return int(chars / 4) + (generates ? maxOut : 0);
}

} // namespace

BatchInferenceEngine::BatchInferenceEngine(InferenceBackend *backend, const EngineConfig &config,
                                           Clock &clock, InferenceMetricsCollector *metrics,
                                           QObject *parent)
    : QObject(parent)
    , m_backend(backend)
    , m_clock(clock)
    , m_metrics(metrics)
    , m_config(std::make_shared<const EngineConfig>(config))
    , m_rateOrigin(clock.now())
    , m_guard(std::make_shared<LifeGuard>(this))
{
    qRegisterMetaType<EngineConfig>();
    if (m_clock.isManual())
        m_clockListener = m_clock.addListener([this] { wake(); });
}

BatchInferenceEngine::~BatchInferenceEngine()
{
    stop();
    m_guard->detach();
    if (m_clockListener >= 0)
        m_clock.removeListener(m_clockListener);
}

void BatchInferenceEngine::start()
{
    if (m_thread)
        return;
    {
        std::lock_guard lock(m_mutex);
        m_stopping = false;
    }
    m_thread = QThread::create([this] { run(); });
    m_thread->setObjectName(QStringLiteral("sluice-engine"));
    m_thread->start();
}

void BatchInferenceEngine::stop()
{
    if (!m_thread)
        return;
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_cv.notify_all();
    m_thread->wait();
    delete m_thread;
    m_thread = nullptr;

    // Whatever is still queued will never be dispatched: answer it now.
    std::vector<std::unique_ptr<Pending>> left;
    {
        std::lock_guard lock(m_mutex);
        for (auto *q : m_queueOrder) {
            for (auto &p : q->items)
                if (p->done)
                    left.push_back(std::move(p));
            q->items.clear();
            q->live = 0;
        }
        m_index.clear();
        m_deadlines = {};
        m_counters.queued -= left.size();
        m_counters.failed += left.size();
    }
    completeOutsideLock(left, Status::error(StatusCode::Unavailable, QStringLiteral("the engine was stopped before this request was dispatched")),
                        Outcome::Failed, m_clock.now());

    // Batches still with the backend: wait for them so no callback outlives
    // the engine's accounting (bounded, the backend enforces deadlines).
    std::unique_lock lock(m_mutex);
    m_cv.wait_for(lock, seconds(30), [this] { return m_counters.inflightBatches == 0; });
    if (m_counters.inflightBatches != 0)
        qCWarning(lcEngine) << m_counters.inflightBatches
                            << "batches still with the upstream at shutdown; they will be answered without accounting";
}

BatchInferenceEngine::Ticket BatchInferenceEngine::submit(InferenceRequest request, CompletionCallback done)
{
    if (request.batchKey.isEmpty())
        request.batchKey = BatchKey::compute(request.model, request.operation, request.body);

    const SteadyTime now = m_clock.now();
    Ticket ticket;
    Status refusal;
    bool notify = false;
    {
        std::lock_guard lock(m_mutex);
        ++m_counters.submitted;
        const EngineConfig &cfg = *m_config;
        if (m_draining || m_stopping) {
            refusal = Status::rejected(RejectReason::Draining,
                                       QStringLiteral("Sluice is draining for shutdown and admits no new work; retry against another instance or after the restart"),
                                       retryAfterLocked(now));
        } else if (m_counters.queued >= quint64(cfg.maxQueue)) {
            refusal = Status::rejected(RejectReason::QueueFull,
                                       QStringLiteral("Sluice's queue is full (%1 of %2 requests waiting); retry after the indicated delay")
                                           .arg(m_counters.queued).arg(cfg.maxQueue),
                                       retryAfterLocked(now));
        }
        if (refusal.ok()) {
            if (cfg.tpmLimit > 0 && request.estimatedTokens <= 0)
                request.estimatedTokens = estimateTokens(request);

            auto p = std::make_unique<Pending>();
            p->id = m_nextId++;
            p->enqueued = now;
            p->deadline = now + (request.timeout ? *request.timeout : milliseconds(cfg.requestTimeoutMs));
            p->done = std::move(done);

            auto &slot = m_queues[request.batchKey];
            if (!slot) {
                slot = std::make_unique<KeyQueue>();
                slot->key = request.batchKey;
                slot->lastArrival = now;
                m_queueOrder.push_back(slot.get());
            }
            KeyQueue *q = slot.get();
            if (cfg.adaptive) {
                const double dt = duration<double>(now - q->lastArrival).count();
                q->meanInterArrivalSec = q->meanInterArrivalSec == 0 ? dt : 0.9 * q->meanInterArrivalSec + 0.1 * dt;
            }
            q->lastArrival = now;
            p->queue = q;
            p->request = std::move(request);
            ticket.id = p->id;
            ticket.admitted = true;

            m_deadlines.emplace(p->deadline, p->id);
            m_index.emplace(p->id, p.get());
            q->items.push_back(std::move(p));
            ++q->live;
            ++m_counters.admitted;
            ++m_counters.queued;

            // Wake the engine only when its plan may change: a queue became
            // non-empty (a wait timer is needed) or a batch is full.
            notify = !m_wakePending
                && ((q->live == 1 && !m_lingering) || q->live >= cfg.maxBatchSize || cfg.adaptive);
            if (notify)
                m_wakePending = true;
        } else {
            ++m_counters.rejected;
        }
    }
    if (notify)
        m_cv.notify_one();
    if (!refusal.ok()) {
        if (m_metrics)
            m_metrics->recordRejection(refusal.reason);
        done(InferenceResult::fromStatus(std::move(refusal)));
    }
    return ticket;
}

QFuture<InferenceResult> BatchInferenceEngine::submit(InferenceRequest request)
{
    QFutureInterface<InferenceResult> fi;
    fi.reportStarted();
    QFuture<InferenceResult> future = fi.future();
    submit(std::move(request), [fi](InferenceResult r) mutable {
        fi.reportResult(r);
        fi.reportFinished();
    });
    return future;
}

bool BatchInferenceEngine::cancel(quint64 requestId)
{
    std::vector<std::unique_ptr<Pending>> done;
    {
        std::lock_guard lock(m_mutex);
        auto it = m_index.find(requestId);
        if (it == m_index.end())
            return false;
        done.push_back(removeQueuedLocked(it));
        ++m_counters.cancelled;
        m_wakePending = true;
    }
    m_cv.notify_one();
    completeOutsideLock(done, Status::error(StatusCode::Cancelled, QStringLiteral("the client went away before the request was dispatched")),
                        Outcome::Cancelled, m_clock.now());
    return true;
}

ConfigError BatchInferenceEngine::setConfig(const EngineConfig &config)
{
    ConfigError err = config.validate();
    if (!err.isNull())
        return err;
    {
        std::lock_guard lock(m_mutex);
        m_config = std::make_shared<const EngineConfig>(config);
        m_wakePending = true;
    }
    m_cv.notify_one();
    emit configChanged(config);
    return {};
}

EngineConfig BatchInferenceEngine::config() const
{
    std::lock_guard lock(m_mutex);
    return *m_config;
}

void BatchInferenceEngine::drain()
{
    {
        std::lock_guard lock(m_mutex);
        m_draining = true;
        m_wakePending = true;
    }
    m_cv.notify_one();
}

bool BatchInferenceEngine::isDraining() const
{
    std::lock_guard lock(m_mutex);
    return m_draining;
}

EngineCounters BatchInferenceEngine::counters() const
{
    std::lock_guard lock(m_mutex);
    return m_counters;
}

EngineGauges BatchInferenceEngine::gauges() const
{
    std::lock_guard lock(m_mutex);
    EngineGauges g;
    g.queueDepth = int(m_counters.queued);
    g.queueCapacity = m_config->maxQueue;
    g.inflightBatches = int(m_counters.inflightBatches);
    g.maxInflightBatches = m_config->maxInflightBatches;
    g.backpressure = std::clamp(double(m_counters.queued) / double(m_config->maxQueue), 0.0, 1.0);
    g.draining = m_draining;
    return g;
}

SteadyTime BatchInferenceEngine::lastEvaluation() const
{
    std::lock_guard lock(m_mutex);
    return m_lastEvaluation;
}

std::chrono::milliseconds BatchInferenceEngine::retryAfterHint() const
{
    std::lock_guard lock(m_mutex);
    return retryAfterLocked(m_clock.now());
}

double BatchInferenceEngine::drainRateLocked(SteadyTime now) const
{
    // Requests that left the queue (dispatched) per second over the last
    // complete seconds of a 10 s ring.
    const qint64 sec = duration_cast<seconds>(now - m_rateOrigin).count();
    quint64 n = 0;
    qint64 spanSeconds = 0;
    for (const auto &[s, count] : m_rateBuckets) {
        if (s < sec && s >= sec - qint64(m_rateBuckets.size())) {
            n += count;
        }
    }
    spanSeconds = std::min<qint64>(sec, qint64(m_rateBuckets.size()) - 1);
    if (spanSeconds <= 0 || n == 0) {
        // Nothing measured yet: a lower-bound estimate from the config,
        // assuming one-second upstream calls on every in-flight slot.
        return double(m_config->maxInflightBatches) * double(m_config->maxBatchSize);
    }
    return double(n) / double(spanSeconds);
}

std::chrono::milliseconds BatchInferenceEngine::retryAfterLocked(SteadyTime now) const
{
    const double rate = drainRateLocked(now);
    const double depth = double(m_counters.queued + m_counters.inflight) + 1.0;
    const double secs = std::clamp(depth / rate, 0.1, 600.0);
    return milliseconds(qint64(std::ceil(secs * 1000.0)));
}

void BatchInferenceEngine::wake()
{
    {
        std::lock_guard lock(m_mutex);
        m_wakePending = true;
    }
    m_cv.notify_one();
}

std::unique_ptr<BatchInferenceEngine::Pending>
BatchInferenceEngine::removeQueuedLocked(std::unordered_map<quint64, Pending *>::iterator it)
{
    Pending *p = it->second;
    m_index.erase(it);
    // The entry stays in its FIFO as a tombstone (popped lazily); the parts
    // needed to answer the request move out.
    auto moved = std::make_unique<Pending>();
    moved->id = p->id;
    moved->enqueued = p->enqueued;
    moved->done = std::move(p->done);
    p->done = nullptr;
    p->request = {};
    --p->queue->live;
    --m_counters.queued;
    return moved;
}

void BatchInferenceEngine::expireLocked(SteadyTime now, std::vector<std::unique_ptr<Pending>> &expired)
{
    while (!m_deadlines.empty() && m_deadlines.top().first <= now) {
        const quint64 id = m_deadlines.top().second;
        m_deadlines.pop();
        auto it = m_index.find(id);
        if (it == m_index.end())
            continue; // already dispatched, cancelled or expired
        expired.push_back(removeQueuedLocked(it));
        ++m_counters.expired;
    }
    // The heap keeps entries of dispatched requests until their deadline;
    // rebuild it when those dominate so memory stays proportional to the queue.
    if (m_deadlines.size() > 2 * m_index.size() + 4096) {
        std::vector<Deadline> live;
        live.reserve(m_index.size());
        for (const auto &[id, p] : m_index)
            live.emplace_back(p->deadline, id);
        m_deadlines = decltype(m_deadlines)(std::greater<>(), std::move(live));
    }
}

void BatchInferenceEngine::pruneQuotaLocked(SteadyTime now)
{
    while (!m_quotaLog.empty() && std::get<0>(m_quotaLog.front()) <= now - minutes(1)) {
        m_quotaCalls -= std::get<1>(m_quotaLog.front());
        m_quotaTokens -= std::get<2>(m_quotaLog.front());
        m_quotaLog.pop_front();
    }
}

SteadyTime BatchInferenceEngine::quotaAvailableAtLocked(SteadyTime now, int calls, int tokens)
{
    const EngineConfig &cfg = *m_config;
    if (cfg.rpmLimit <= 0 && cfg.tpmLimit <= 0)
        return now;
    pruneQuotaLocked(now);
    // Walk the 60 s log from the oldest entry until enough has aged out.
    long long usedCalls = m_quotaCalls;
    long long usedTokens = m_quotaTokens;
    const auto fits = [&] {
        const bool callsOk = cfg.rpmLimit <= 0 || usedCalls + calls <= cfg.rpmLimit;
        // A batch larger than the whole token budget may go once the window is empty.
        const bool tokensOk = cfg.tpmLimit <= 0 || usedTokens + tokens <= cfg.tpmLimit || usedTokens == 0;
        return callsOk && tokensOk;
    };
    if (fits())
        return now;
    for (const auto &[t, c, tok] : m_quotaLog) {
        usedCalls -= c;
        usedTokens -= tok;
        if (fits())
            return t + minutes(1);
    }
    return now;
}

std::shared_ptr<Batch> BatchInferenceEngine::takeBatchLocked(KeyQueue &q, int count, SteadyTime now,
                                                             std::vector<std::unique_ptr<Pending>> &members)
{
    auto batch = std::make_shared<Batch>();
    batch->id = m_nextBatchId++;
    batch->key = q.key;
    batch->packing = m_config->packing;
    batch->retry = m_config->retry;
    batch->dispatchedAt = now;
    batch->members.reserve(size_t(count));
    members.reserve(size_t(count));
    while (int(members.size()) < count && !q.items.empty()) {
        std::unique_ptr<Pending> p = std::move(q.items.front());
        q.items.pop_front();
        if (!p->done)
            continue;
        m_index.erase(p->id);
        --q.live;
        if (batch->members.empty()) {
            batch->model = p->request.model;
            batch->operation = p->request.operation;
        }
        batch->members.push_back({p->id, std::move(p->request), p->deadline});
        members.push_back(std::move(p));
    }
    q.popTombstones();
    return batch;
}

void BatchInferenceEngine::completeOutsideLock(std::vector<std::unique_ptr<Pending>> &pending,
                                               const Status &status, Outcome outcome, SteadyTime now)
{
    for (auto &p : pending) {
        InferenceResult r = InferenceResult::fromStatus(status);
        r.queueWait = now - p->enqueued;
        r.totalTime = r.queueWait;
        if (m_metrics)
            m_metrics->recordCompletion(outcome, r.totalTime, r.queueWait, 0, 0);
        p->done(std::move(r));
    }
    pending.clear();
}

void BatchInferenceEngine::maybeSignalDrainedLocked(bool &signal)
{
    if (m_draining && !m_drainedSignalled && m_counters.queued == 0 && m_counters.inflight == 0) {
        m_drainedSignalled = true;
        signal = true;
    }
}

void BatchInferenceEngine::run()
{
    const std::shared_ptr<LifeGuard> guard = m_guard;

    std::vector<KeyQueueView> views;
    std::vector<std::unique_ptr<Pending>> expired;
    SteadyTime lastP95Read{};
    SteadyTime lastDispatch{};
    Nanos liveP95{0};

    std::unique_lock lock(m_mutex);
    while (!m_stopping) {
        m_wakePending = false;
        const SteadyTime now = m_clock.now();
        const EngineConfig cfg = *m_config;

        expireLocked(now, expired);
        if (!expired.empty()) {
            lock.unlock();
            completeOutsideLock(expired, Status::error(StatusCode::DeadlineExceeded,
                                                       QStringLiteral("the request's deadline passed while it waited in Sluice's queue; it was never sent upstream")),
                                Outcome::Expired, now);
            lock.lock();
            continue;
        }

        if (cfg.adaptive && m_metrics && now - lastP95Read > milliseconds(250)) {
            lock.unlock();
            liveP95 = Nanos(m_metrics->windowHistogram(InferenceMetricsCollector::Histogram::Latency, 10).quantileNs(0.95));
            lock.lock();
            lastP95Read = now;
            continue;
        }

        views.clear();
        for (KeyQueue *q : m_queueOrder) {
            q->popTombstones();
            KeyQueueView v;
            v.size = q->live;
            if (q->live > 0)
                v.oldestEnqueued = q->items.front()->enqueued;
            v.arrivalsPerSecond = q->meanInterArrivalSec > 0 ? 1.0 / q->meanInterArrivalSec : 0;
            views.push_back(v);
        }

        PolicyInput in;
        in.now = now;
        in.config = &cfg;
        in.inflightBatches = int(m_counters.inflightBatches);
        in.draining = m_draining;
        in.quotaAvailableAt = quotaAvailableAtLocked(now, 1, 0);
        in.liveP95 = liveP95;
        in.queues = views;
        const PolicyDecision d = BatchPolicy::decide(in);
        m_lastEvaluation = now;

        bool signalDrained = false;
        maybeSignalDrainedLocked(signalDrained);
        if (signalDrained) {
            lock.unlock();
            emit drained();
            lock.lock();
            continue;
        }

        if (d.kind == PolicyDecision::Kind::Dispatch) {
            KeyQueue &q = *m_queueOrder[size_t(d.queueIndex)];
            // Exact quota cost of this batch before taking it (only when a quota is set).
            const bool quota = cfg.rpmLimit > 0 || cfg.tpmLimit > 0;
            int calls = 0;
            int tokens = 0;
            int packable = 0;
            int n = 0;
            for (const auto &p : q.items) {
                if (!quota || n >= d.count)
                    break;
                if (!p->done)
                    continue;
                ++n;
                tokens += p->request.estimatedTokens;
                packable += p->request.packable ? 1 : 0;
            }
            SteadyTime at = now;
            if (quota) {
                Batch probe;
                probe.operation = q.items.front()->request.operation;
                probe.packing = cfg.packing;
                probe.members.resize(size_t(n));
                for (int i = 0; i < n; ++i) {
                    probe.members[size_t(i)].request.operation = probe.operation;
                    probe.members[size_t(i)].request.packable = i < packable;
                    probe.members[size_t(i)].request.packableChecked = true;
                }
                calls = m_backend->upstreamCallsFor(probe);
                at = quotaAvailableAtLocked(now, calls, tokens);
            }
            if (at > now) {
                // Quota exhausted: hold the batch; admission keeps pushing back once the queue fills.
                if (m_clock.isManual())
                    m_cv.wait(lock, [this] { return m_wakePending || m_stopping; });
                else
                    m_cv.wait_until(lock, steady_clock::now() + (at - now), [this] { return m_wakePending || m_stopping; });
                continue;
            }

            std::vector<std::unique_ptr<Pending>> members;
            std::shared_ptr<Batch> batch = takeBatchLocked(q, d.count, now, members);
            const int size = int(members.size());
            if (size == 0)
                continue;
            if (!quota)
                calls = m_backend->upstreamCallsFor(*batch);
            m_quotaLog.emplace_back(now, calls, tokens);
            m_quotaCalls += calls;
            m_quotaTokens += tokens;
            m_counters.queued -= quint64(size);
            m_counters.inflight += quint64(size);
            ++m_counters.inflightBatches;
            ++m_counters.batchesDispatched;
            m_counters.upstreamCalls += quint64(calls);
            lastDispatch = now;
            const qint64 sec = duration_cast<seconds>(now - m_rateOrigin).count();
            auto &bucket = m_rateBuckets[size_t(sec % qint64(m_rateBuckets.size()))];
            if (bucket.first != sec)
                bucket = {sec, 0};
            bucket.second += quint64(size);
            lock.unlock();

            auto shared = std::make_shared<std::vector<std::unique_ptr<Pending>>>(std::move(members));
            auto once = std::make_shared<std::atomic_bool>(false);
            std::shared_ptr<const Batch> constBatch = batch;
            m_backend->execute(constBatch, [guard, constBatch, shared, once](std::vector<InferenceResult> results) {
                if (once->exchange(true)) {
                    qCWarning(lcEngine) << "backend completed batch" << constBatch->id << "twice; ignored";
                    return;
                }
                if (BatchInferenceEngine *engine = guard->enter()) {
                    engine->onBatchDone(constBatch, std::move(*shared), std::move(results));
                    guard->leave();
                    return;
                }
                for (size_t i = 0; i < shared->size(); ++i)
                    (*shared)[i]->done(i < results.size() ? std::move(results[i])
                                                          : InferenceResult::fromStatus(Status::error(StatusCode::Unavailable, QStringLiteral("engine stopped"))));
            });
            lock.lock();
            continue;
        }

        // Sleep until the policy's wait, the earliest queued deadline, or a wake-up.
        Nanos wait = Nanos::max();
        if (d.kind == PolicyDecision::Kind::Wait)
            wait = d.wait;
        if (!m_deadlines.empty())
            wait = std::min<Nanos>(wait, std::max<Nanos>(m_deadlines.top().first - now, Nanos(0)));
        if (m_wakePending)
            continue;
        if (wait == Nanos::max() && !m_clock.isManual() && cfg.maxWaitMs > 0 && now - lastDispatch < seconds(1)) {
            // Busy a moment ago and nothing queued now: linger for maxWaitMs
            // instead of sleeping until woken. Under load the next request
            // arrives within that time, and its submit() spares a futex wake
            // and two context switches (one per batch); nothing waits longer
            // than maxWaitMs, since the linger ends no later than the first
            // newcomer's own maxWaitMs. One second after the last dispatch the
            // engine sleeps for good (no idle wake-ups).
            m_lingering = true;
            m_cv.wait_until(lock, steady_clock::now() + milliseconds(cfg.maxWaitMs),
                            [this] { return m_wakePending || m_stopping; });
            m_lingering = false;
        } else if (wait == Nanos::max() || m_clock.isManual()) {
            m_cv.wait(lock, [this] { return m_wakePending || m_stopping; });
        } else if (wait > Nanos(0)) {
            m_cv.wait_until(lock, steady_clock::now() + wait, [this] { return m_wakePending || m_stopping; });
        }
    }
}

void BatchInferenceEngine::onBatchDone(std::shared_ptr<const Batch> batch,
                                       std::vector<std::unique_ptr<Pending>> members,
                                       std::vector<InferenceResult> results)
{
    const SteadyTime now = m_clock.now();
    const int size = int(members.size());
    if (int(results.size()) != size) {
        qCWarning(lcEngine) << "backend returned" << results.size() << "results for a batch of" << size;
        results.resize(size_t(size), InferenceResult::fromStatus(Status::error(StatusCode::Internal, QStringLiteral("the upstream returned no result for this member"))));
    }
    int ok = 0;
    int errors = 0;
    for (int i = 0; i < size; ++i) {
        InferenceResult &r = results[size_t(i)];
        const Pending &p = *members[size_t(i)];
        r.queueWait = batch->dispatchedAt - p.enqueued;
        r.upstreamTime = now - batch->dispatchedAt;
        r.totalTime = now - p.enqueued;
        r.batchSize = size;
        (r.status.ok() ? ok : errors) += 1;
    }
    bool signalDrained = false;
    bool wake = false;
    {
        std::lock_guard lock(m_mutex);
        // The engine thread only needs to hear of a completion when it may be
        // holding work back for it (the in-flight limit was reached), or when
        // someone waits for the last batch (drain, stop).
        const bool wasAtLimit = m_counters.inflightBatches >= quint64(m_config->maxInflightBatches);
        m_counters.inflight -= quint64(size);
        --m_counters.inflightBatches;
        m_counters.completed += quint64(ok);
        m_counters.failed += quint64(errors);
        maybeSignalDrainedLocked(signalDrained);
        wake = wasAtLimit || m_counters.inflightBatches == 0 || m_draining || m_stopping;
        if (wake)
            m_wakePending = true;
    }
    if (wake)
        m_cv.notify_all();
    if (m_metrics) {
        m_metrics->recordBatch(size, now - batch->dispatchedAt, m_backend->upstreamCallsFor(*batch), errors > 0 ? 1 : 0);
        for (int i = 0; i < size; ++i) {
            const InferenceResult &r = results[size_t(i)];
            m_metrics->recordCompletion(r.status.ok() ? Outcome::Ok : Outcome::Failed, r.totalTime, r.queueWait,
                                        r.promptTokens, r.outputTokens);
        }
    }
    for (int i = 0; i < size; ++i)
        members[size_t(i)]->done(std::move(results[size_t(i)]));
    if (signalDrained)
        emit drained();
}

BatchInferenceEngine *BatchInferenceEngine::LifeGuard::enter()
{
    std::lock_guard lock(m_mutex);
    if (m_engine)
        ++m_active;
    return m_engine;
}

void BatchInferenceEngine::LifeGuard::leave()
{
    std::lock_guard lock(m_mutex);
    if (--m_active == 0)
        m_idle.notify_all();
}

void BatchInferenceEngine::LifeGuard::detach()
{
    std::unique_lock lock(m_mutex);
    m_engine = nullptr;
    m_idle.wait(lock, [this] { return m_active == 0; });
}
