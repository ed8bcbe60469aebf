#include "core/engine/batchinferenceengine.h"

#include "core/engine/batchkey.h"

#include <QFutureInterface>
#include <QJsonDocument>
#include <QLoggingCategory>

#include <algorithm>
#include <cmath>

Q_LOGGING_CATEGORY(lcEngine, "sluice.engine", QtInfoMsg)

using namespace std::chrono;
using Outcome = InferenceMetricsCollector::Outcome;

struct BatchInferenceEngine::Pending {
    quint64 id = 0;
    InferenceRequest request;
    CompletionCallback done;   // moved out when completed; empty = tombstone
    SteadyTime enqueued;
    SteadyTime deadline;
    KeyQueue *queue = nullptr;
    // Kept apart from `request`, which moves to the backend at dispatch.
    QString tenant;
    TenantLedger::Entry *ledger = nullptr; // the tenant's account (valid while this is queued or in flight)
    PriorityClass cls = PriorityClass::Standard;
    ServiceTier tier = ServiceTier::Standard;
    double tag = 0;            // weighted fair queuing start tag within its queue
};

struct BatchInferenceEngine::KeyQueue {
    QByteArray key;
    QString model;                               // all members share the key, hence model and operation
    Operation operation = Operation::GenerateContent;
    // In start-tag order (weighted fair queuing between tenants; FIFO for
    // one tenant); may hold tombstones.
    std::deque<std::unique_ptr<Pending>> items;
    int live = 0;                                // non-tombstone items
    PriorityClass cls = PriorityClass::Standard; // part of the key
    double virtualTime = 0;                      // start tag of the last member dispatched
    QHash<QString, double> finish;               // per tenant: finish tag of its last member
    SteadyTime lastArrival;
    double meanInterArrivalSec = 0;              // EWMA, adaptive mode
    SteadyTime heldUntil;                        // PackPlanner holds a small pack until then...
    int heldLive = 0;                            // ...unless the queue has grown past this

    void popTombstones()
    {
        while (!items.empty() && !items.front()->done)
            items.pop_front();
    }
};

namespace {

// Guards the completion path against an engine destroyed while a backend
// still holds a batch: members are then answered directly, without accounting.

// Input tokens, as Gemini's TPM quota counts them: about 4 bytes a token of
// what the agent sent (its JSON is a little longer than its text: an
// overestimate, on the safe side).
int estimateInputTokens(const InferenceRequest &r)
{
    const qsizetype bytes = r.bodyBytes > 0 ? r.bodyBytes : QJsonDocument(r.body).toJson(QJsonDocument::Compact).size();
    return int(std::max<qsizetype>(1, (bytes + 3) / 4));
}

// The systemInstruction's part of the estimate (its compact JSON / 4), at
// most the whole estimate.
int estimateSharedTokens(const InferenceRequest &r)
{
    QJsonValue sys = r.body.value(QLatin1StringView("systemInstruction"));
    if (sys.isUndefined())
        sys = r.body.value(QLatin1StringView("system_instruction"));
    if (!sys.isObject())
        return 0;
    const qsizetype bytes = QJsonDocument(sys.toObject()).toJson(QJsonDocument::Compact).size();
    return int(std::min<qsizetype>(r.estimatedTokens, bytes / 4));
}

// An engine given no shared budget has no upstream 429s to learn from nor to
// avoid: it holds itself to the configured limits only.
ModelBudget::Settings ownBudgetSettings()
{
    ModelBudget::Settings s;
    s.quotaKnown = true;
    return s;
}

int maxOutputTokensOf(const InferenceRequest &r)
{
    const QJsonValue gen = r.body.value(QLatin1StringView("generationConfig"));
    if (!gen.isObject())
        return 0;
    return std::max(0, gen.toObject().value(QLatin1StringView("maxOutputTokens")).toInt(0));
}

} // namespace

BatchInferenceEngine::BatchInferenceEngine(InferenceBackend *backend, const EngineConfig &config,
                                           Clock &clock, InferenceMetricsCollector *metrics,
                                           UpstreamBudget *budget, QObject *parent)
    : QObject(parent)
    , m_backend(backend)
    , m_clock(clock)
    , m_metrics(metrics)
    , m_config(std::make_shared<const EngineConfig>(config))
    , m_ownBudget(budget ? nullptr : std::make_unique<UpstreamBudget>(clock, ownBudgetSettings()))
    , m_budget(budget ? budget : m_ownBudget.get())
    , m_drainRate(clock.now())
    , m_guard(std::make_shared<LifeGuard>(this))
{
    qRegisterMetaType<EngineConfig>();
    applyBudgetConfig(config);
}

BatchInferenceEngine::~BatchInferenceEngine()
{
    stop();
    m_guard->detach();
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

void BatchInferenceEngine::stop(const QString &reason)
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
            for (auto &p : q->items) {
                if (p->done) {
                    TenantLedger::finished(p->ledger, true, false, Nanos(0));
                    left.push_back(std::move(p));
                }
            }
            q->items.clear();
            q->live = 0;
        }
        m_classQueued = {};
        m_index.clear();
        m_deadlines = {};
        m_counters.queued -= left.size();
        m_counters.failed += left.size();
    }
    completeOutsideLock(left, Status::error(StatusCode::Unavailable,
                                            reason.isEmpty() ? QStringLiteral("the engine was stopped before this request was dispatched")
                                                             : reason),
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
    // Classes never share a queue (nor a call), nor do calls that may fall
    // back from flex with those that may not.
    request.batchKey += '|';
    request.batchKey += char('0' + int(request.priority));
    if (request.flexFallback)
        request.batchKey += 'f';
    // What the request will cost upstream, worked out before the lock: the
    // producers share it with the engine thread.
    if (request.operation == Operation::CountTokens) {
        // A call of its own for RPM and RPD, but no input tokens for TPM:
        // Gemini's TPM counts what generation reads, and countTokens generates nothing.
        request.estimatedTokens = 1;
        request.sharedTokens = 0;
    } else if (request.estimatedTokens <= 0) {
        request.estimatedTokens = estimateInputTokens(request);
        request.sharedTokens = estimateSharedTokens(request);
    }
    if (request.maxOutputTokens <= 0)
        request.maxOutputTokens = maxOutputTokensOf(request);

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
        } else if (m_counters.queued >= quint64(cfg.maxQueue)
                   && !(m_counters.queued < quint64(cfg.maxQueue + cfg.maxQueue / 8)
                        && m_tenants.queued(request.tenant) < cfg.maxQueue / 8)) {
            // Full; but a tenant holding less than an eighth of maxQueue may
            // still use the eighth kept beyond it: one tenant's flood cannot
            // shut the others out.
            refusal = Status::rejected(RejectReason::QueueFull,
                                       QStringLiteral("Sluice's queue is full (%1 of %2 requests waiting); retry after the indicated delay")
                                           .arg(m_counters.queued).arg(cfg.maxQueue),
                                       retryAfterLocked(now));
        }
        // A client's deadline only ever shortens requestTimeoutMs, and is
        // clamped before it is added: a huge one must not wrap the clock.
        const milliseconds limit = request.deadlineDeclared
            ? duration_cast<milliseconds>(InferenceRequest::kMaxDeclaredDeadline)
            : milliseconds(cfg.requestTimeoutMs);
        const SteadyTime deadline = now + (request.timeout ? std::clamp(*request.timeout, milliseconds(0), limit) : limit);
        TenantLedger::Entry *ledger = nullptr;
        if (refusal.ok())
            ledger = m_tenants.admit(request.tenant, request.estimatedTokens, cfg.maxQueue, now, &refusal);
        else
            m_tenants.refused(request.tenant);
        if (refusal.ok() && m_budget->mayHoldBack()) {
            // The budget cannot give this model a call before the deadline
            // (a day's quota spent, a 429's RetryInfo): say so now.
            const ModelBudget::Grant g = m_budget->availableAt(request.model, 1, 1);
            if (!g.granted && g.at > deadline) {
                refusal = budgetRefusal(request.model, g, now);
                TenantLedger::finished(ledger, true, false, Nanos(0));
                m_tenants.refused(request.tenant);
            }
        }
        if (refusal.ok()) {
            auto p = std::make_unique<Pending>();
            p->id = m_nextId++;
            p->enqueued = now;
            p->deadline = deadline;
            p->done = std::move(done);
            p->tenant = request.tenant;
            p->ledger = ledger;
            p->cls = request.priority;
            p->tier = request.tier;

            KeyQueue *q = queueForLocked(request, now);
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
            enqueueLocked(*q, std::move(p));
            ++m_classQueued[size_t(q->cls)];
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
            m_metrics->recordRejection(refusal.reason, request.priority);
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
        applyBudgetConfig(config);
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

void BatchInferenceEngine::budgetChanged()
{
    {
        std::lock_guard lock(m_mutex);
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
    g.classQueued = m_classQueued;
    return g;
}

QList<TenantState> BatchInferenceEngine::topTenants(int n) const
{
    std::lock_guard lock(m_mutex);
    return m_tenants.top(n);
}

void BatchInferenceEngine::setTenants(const TenantsConfig &config)
{
    std::lock_guard lock(m_mutex);
    m_tenants.setConfig(config);
    m_wakePending = true;
}

std::optional<double> BatchInferenceEngine::observedFlexSeconds() const
{
    std::lock_guard lock(m_mutex);
    return m_flexSeconds > 0 ? std::optional<double>(m_flexSeconds) : std::nullopt;
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
    // Nothing measured yet: a lower-bound estimate from the config, assuming
    // one-second upstream calls on every in-flight slot.
    return m_drainRate.perSecond(now).value_or(double(m_config->maxInflightBatches)
                                               * double(m_config->maxBatchSize));
}

std::chrono::milliseconds BatchInferenceEngine::retryAfterLocked(SteadyTime now) const
{
    const double rate = drainRateLocked(now);
    const double depth = double(m_counters.queued + m_counters.inflight) + 1.0;
    const double secs = std::clamp(depth / rate, 0.1, 600.0);
    return milliseconds(qint64(std::ceil(secs * 1000.0)));
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
    moved->tenant = p->tenant;
    moved->cls = p->cls;
    p->done = nullptr;
    p->request = {};
    --p->queue->live;
    --m_counters.queued;
    --m_classQueued[size_t(p->cls)];
    TenantLedger::finished(p->ledger, true, false, Nanos(0));
    p->ledger = nullptr;
    return moved;
}

BatchInferenceEngine::KeyQueue *BatchInferenceEngine::queueForLocked(const InferenceRequest &request, SteadyTime now)
{
    auto &slot = m_queues[request.batchKey];
    if (!slot) {
        slot = std::make_unique<KeyQueue>();
        slot->key = request.batchKey;
        slot->model = request.model;
        slot->operation = request.operation;
        slot->cls = request.priority;
        slot->lastArrival = now;
        m_queueOrder.push_back(slot.get());
    }
    return slot.get();
}

void BatchInferenceEngine::enqueueLocked(KeyQueue &q, std::unique_ptr<Pending> p)
{
    // Start-time fair queuing: a member starts when its tenant's previous
    // one finishes or at the queue's virtual time, whichever is later, and
    // takes 1/weight of virtual time; members leave in start order. A
    // tenant alone (the usual case) gets consecutive tags: FIFO, appended.
    const double weight = p->ledger ? p->ledger->weight : 1.0;
    auto f = q.finish.find(p->tenant);
    const double start = std::max(q.virtualTime, f == q.finish.end() ? 0.0 : *f);
    p->tag = start;
    if (f == q.finish.end()) {
        if (q.finish.size() > 256) { // forget tenants the virtual time has passed
            for (auto it = q.finish.begin(); it != q.finish.end();)
                it = *it <= q.virtualTime ? q.finish.erase(it) : std::next(it);
        }
        q.finish.insert(p->tenant, start + 1.0 / weight);
    } else {
        *f = start + 1.0 / weight;
    }
    if (q.items.empty() || q.items.back()->tag <= start) {
        q.items.push_back(std::move(p));
    } else {
        auto at = std::upper_bound(q.items.begin(), q.items.end(), start,
                                   [](double tag, const std::unique_ptr<Pending> &e) { return tag < e->tag; });
        q.items.insert(at, std::move(p));
    }
    ++q.live;
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

void BatchInferenceEngine::applyBudgetConfig(const EngineConfig &config)
{
    ModelBudget::Settings settings = m_budget->settings();
    settings.configured = {config.rpmLimit, config.tpmLimit, config.rpdLimit};
    settings.probeStartRpm = config.quotaProbeRpm;
    if (!(settings == m_budget->settings()))
        m_budget->setSettings(settings);
}

Status BatchInferenceEngine::budgetRefusal(const QString &model, const ModelBudget::Grant &g, SteadyTime now)
{
    const QString limit = g.limit > 0 ? QStringLiteral(" (limit %1, %2)").arg(g.limit).arg(quotaSourceName(g.source))
                                      : QString();
    return Status::rejected(RejectReason::QuotaExhausted,
                            QStringLiteral("the upstream budget of %1 has no room for this request before its deadline: "
                                           "%2 quota%3; retry after the indicated delay")
                                .arg(model, quotaDimensionName(g.binding).toUpper(), limit),
                            std::max(milliseconds(1), duration_cast<milliseconds>(g.at - now)));
}

void BatchInferenceEngine::refuseBeyondBudgetLocked(KeyQueue &q, SteadyTime quotaAt, SteadyTime now,
                                                   std::vector<std::unique_ptr<Pending>> &refused)
{
    for (const auto &p : q.items) {
        if (p->done && p->deadline < quotaAt) {
            auto it = m_index.find(p->id);
            if (it != m_index.end()) {
                refused.push_back(removeQueuedLocked(it));
                ++m_counters.expired; // its deadline cannot be met: counted as expired, answered 429
            }
        }
    }
    (void)now;
}

std::shared_ptr<Batch> BatchInferenceEngine::takeBatchLocked(KeyQueue &q, int count, SteadyTime now,
                                                             std::vector<std::unique_ptr<Pending>> &members)
{
    auto batch = std::make_shared<Batch>();
    batch->id = m_nextBatchId++;
    batch->key = q.key;
    batch->packing = m_config->packing;
    batch->retry = m_config->retry;
    // A flex call Sluice chose is not retried on flex: it falls back to standard.
    if (q.key.endsWith('f'))
        batch->retry.maxAttempts = 1;
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
        --m_classQueued[size_t(p->cls)];
        TenantLedger::dispatched(p->ledger);
        q.virtualTime = std::max(q.virtualTime, p->tag);
        if (batch->members.empty()) {
            batch->model = p->request.model;
            batch->operation = p->request.operation;
        }
        SteadyTime callDeadline = p->deadline;
        if (p->request.flexFallback) {
            // Keep back what a standard call takes, so a flex call that is
            // slow to answer still leaves time to fall back (at least half
            // of what is left goes to flex).
            const auto reserve = duration_cast<SteadyTime::duration>(
                duration<double>(std::max(10.0, 3.0 * m_standardSeconds)));
            callDeadline = std::max(p->deadline - reserve, now + (p->deadline - now) / 2);
        }
        batch->members.push_back({p->id, std::move(p->request), callDeadline});
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
            m_metrics->recordCompletion(outcome, r.totalTime, r.queueWait, 0, 0, p->cls);
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
    std::vector<KeyQueueView> views;
    std::vector<std::unique_ptr<Pending>> expired;
    std::vector<std::unique_ptr<Pending>> refused;
    Status refusal;
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
        const bool mayHoldBack = m_budget->mayHoldBack();
        for (KeyQueue *q : m_queueOrder) {
            q->popTombstones();
            KeyQueueView v;
            v.size = q->live;
            v.quotaAvailableAt = now;
            if (q->live > 0)
                v.oldestEnqueued = q->items.front()->enqueued;
            if (q->live > 0 && mayHoldBack) {
                const ModelBudget::Grant g = m_budget->availableAt(q->model, 1, 1);
                if (!g.granted) {
                    v.quotaAvailableAt = g.at;
                    refuseBeyondBudgetLocked(*q, g.at, now, refused);
                    if (!refused.empty())
                        refusal = budgetRefusal(q->model, g, now);
                }
            }
            if (q->heldUntil > now && q->live <= q->heldLive)
                v.quotaAvailableAt = std::max(v.quotaAvailableAt, q->heldUntil);
            v.arrivalsPerSecond = q->meanInterArrivalSec > 0 ? 1.0 / q->meanInterArrivalSec : 0;
            // Each countTokens and each stream is its own upstream call: nothing to wait for.
            v.alone = q->operation == Operation::CountTokens || q->operation == Operation::StreamGenerateContent;
            v.weight = m_tenants.config().classWeights[size_t(q->cls)];
            v.background = q->cls == PriorityClass::Background;
            views.push_back(v);
        }
        if (!refused.empty()) {
            lock.unlock();
            if (m_metrics) {
                for (size_t i = 0; i < refused.size(); ++i)
                    m_metrics->recordRejection(RejectReason::QuotaExhausted);
            }
            completeOutsideLock(refused, refusal, Outcome::Expired, now);
            lock.lock();
            continue;
        }

        PolicyInput in;
        in.now = now;
        in.config = &cfg;
        in.inflightBatches = int(m_counters.inflightBatches);
        in.backgroundInflightBatches = m_classInflightBatches[size_t(PriorityClass::Background)];
        in.draining = m_draining;
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
            if (dispatchLocked(lock, *m_queueOrder[size_t(d.queueIndex)], d.count, now, cfg))
                lastDispatch = now;
            continue;
        }

        if (m_wakePending)
            continue;
        // Sleep until the policy's wait, the earliest queued deadline, or a wake-up.
        SteadyTime until = SteadyTime::max();
        if (d.kind == PolicyDecision::Kind::Wait)
            until = now + d.wait;
        if (!m_deadlines.empty())
            until = std::min(until, m_deadlines.top().first);
        if (until == SteadyTime::max() && cfg.maxWaitMs > 0 && now - lastDispatch < seconds(1)) {
            // Busy a moment ago and nothing queued now: linger for maxWaitMs
            // instead of sleeping until woken. Under load the next request
            // arrives within that time, and its submit() spares a futex wake
            // and two context switches (one per batch); nothing waits longer
            // than maxWaitMs, since the linger ends no later than the first
            // newcomer's own maxWaitMs. One second after the last dispatch the
            // engine sleeps for good (no idle wake-ups).
            m_lingering = true;
            m_clock.waitUntil(m_cv, lock, now + milliseconds(cfg.maxWaitMs), m_woken);
            m_lingering = false;
        } else {
            m_clock.waitUntil(m_cv, lock, until, m_woken);
        }
    }
}

bool BatchInferenceEngine::dispatchLocked(std::unique_lock<std::mutex> &lock, KeyQueue &q, int count,
                                          SteadyTime now, const EngineConfig &cfg)
{
    const bool generates = q.operation == Operation::GenerateContent
                        || q.operation == Operation::StreamGenerateContent;
    // A budget that holds nothing back has unlimited room (its default Room).
    const ModelBudget::Room room = m_budget->mayHoldBack()
        ? m_budget->room(q.model, generates && cfg.packing != PackingMode::Pack ? q.live : 1)
        : ModelBudget::Room{};
    PackPlan plan;
    if (room.calls > 0 && generates) {
        // The candidates: the batch, or under quota pressure as much of the
        // queue as the room's calls could carry in full packs.
        const int horizon = cfg.packing == PackingMode::Auto && room.calls < q.live
            ? int(std::max<long long>(count, std::min<long long>(q.live, (long long)room.calls * cfg.maxPackSize)))
            : count;
        m_candidates.clear();
        for (const auto &p : q.items) {
            if (int(m_candidates.size()) >= horizon)
                break;
            if (!p->done)
                continue;
            const InferenceRequest &r = p->request;
            // A pack's answer holds each member's natural answer (their own
            // maxOutputTokens are applied as the answer is split): sized by
            // what answers have been taking.
            m_candidates.push_back({m_backend->isPackable(r), r.estimatedTokens, int(m_outputEstimate), r.sharedTokens});
        }
        PackPlanInput in;
        in.mode = cfg.packing;
        in.queue = m_candidates;
        in.queued = q.live;
        in.count = count;
        in.callsRoom = room.calls;
        in.tokensRoom = room.tokens;
        in.maxPackSize = cfg.maxPackSize;
        in.packOutputLimit = m_backend->outputTokenLimit(q.model) * 4 / 5; // a fifth kept back for what estimates miss
        in.memberOverheadTokens = m_backend->packMemberOverheadTokens();
        in.callsPerSecond = room.callsPerSecond;
        in.rateAssumed = room.probing;
        in.inflight = m_inflightByModel.value(q.model);
        for (const auto &p : q.items) {
            if (p->done) {
                in.oldestWaitSeconds = duration<double>(now - p->enqueued).count();
                break;
            }
        }
        in.secondsPerMember = m_secondsPerMember;
        plan = PackPlanner::plan(in);
        if (plan.holdSeconds > 0) {
            // Small packs held for company (PackPlanner): the policy leaves
            // this queue until then, or until members arrive.
            q.heldUntil = now + duration_cast<SteadyTime::duration>(duration<double>(plan.holdSeconds));
            q.heldLive = q.live;
            return false;
        }
    } else if (room.calls > 0) {
        // Embeddings and countTokens: the backend's own count of calls.
        m_planned.clear();
        long long tokens = 0;
        for (const auto &p : q.items) {
            if (int(m_planned.size()) >= count)
                break;
            if (!p->done)
                continue;
            m_planned.push_back(&p->request);
            tokens += p->request.estimatedTokens;
        }
        const int calls = m_planned.empty() ? 0 : m_backend->upstreamCallsFor(q.operation, cfg.packing, m_planned);
        if (calls <= room.calls && tokens <= room.tokens)
            plan = {int(m_planned.size()), calls, 0, 0, tokens};
    }
    if (plan.take == 0) {
        // No room for the oldest member's call or tokens yet: wait for the
        // budget (members it cannot serve before their deadline get 429 first).
        long long tokens = 1;
        for (const auto &p : q.items) {
            if (p->done) {
                tokens = std::max(1, p->request.estimatedTokens);
                break;
            }
        }
        const ModelBudget::Grant g = m_budget->availableAt(q.model, 1, tokens);
        std::vector<std::unique_ptr<Pending>> refused;
        if (!g.granted)
            refuseBeyondBudgetLocked(q, g.at, now, refused);
        if (!refused.empty()) {
            const Status refusal = budgetRefusal(q.model, g, now);
            lock.unlock();
            if (m_metrics) {
                for (size_t i = 0; i < refused.size(); ++i)
                    m_metrics->recordRejection(RejectReason::QuotaExhausted);
            }
            completeOutsideLock(refused, refusal, Outcome::Expired, now);
            lock.lock();
            return false;
        }
        m_clock.waitUntil(m_cv, lock, g.granted ? now + milliseconds(1) : g.at, m_woken);
        return false;
    }
    const int calls = plan.calls;
    const long long tokens = plan.tokens;
    count = plan.take;
    qCDebug(lcEngine).nospace() << "dispatch " << q.model << ": " << plan.take << " of " << q.live << " queued in "
                                << calls << " calls (" << plan.packCalls << " packs); room " << room.calls
                                << " calls at " << room.callsPerSecond << "/s" << (room.probing ? " (probing)" : "");

    std::vector<std::unique_ptr<Pending>> members;
    std::shared_ptr<Batch> batch = takeBatchLocked(q, count, now, members);
    const int size = int(members.size());
    batch->upstreamCalls = calls;
    batch->packCalls = generates ? plan.packCalls : -1;
    batch->prepaidCalls = calls;
    batch->prepaidTokens = tokens;
    m_budget->charge(q.model, calls, tokens);
    m_drainRate.record(now, quint64(size));
    m_inflightByModel[q.model] += size;
    m_counters.queued -= quint64(size);
    m_counters.inflight += quint64(size);
    ++m_counters.inflightBatches;
    ++m_classInflightBatches[size_t(q.cls)];
    ++m_counters.batchesDispatched;
    m_counters.upstreamCalls += quint64(calls);
    lock.unlock();

    auto shared = std::make_shared<std::vector<std::unique_ptr<Pending>>>(std::move(members));
    auto once = std::make_shared<std::atomic_bool>(false);
    std::shared_ptr<const Batch> constBatch = batch;
    m_backend->execute(constBatch, [guard = m_guard, constBatch, shared, once](std::vector<InferenceResult> results) {
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
    return true;
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
    // Flex calls Sluice chose that the upstream shed (503) or did not answer
    // in their share of the deadline go again, on the standard tier.
    std::vector<bool> fallback(size_t(size), false);
    int fallbacks = 0;
    for (int i = 0; i < size; ++i) {
        const InferenceResult &r = results[size_t(i)];
        const BatchMember &m = batch->members[size_t(i)];
        const bool shed = r.status.code == StatusCode::Unavailable || r.status.code == StatusCode::DeadlineExceeded;
        if (m.request.flexFallback && shed && r.streamedBytes == 0 && now < members[size_t(i)]->deadline
            && !m_stopping) {
            fallback[size_t(i)] = true;
            ++fallbacks;
        }
    }
    int ok = 0;
    int errors = 0;
    double outputSum = 0;
    int outputs = 0;
    for (int i = 0; i < size; ++i) {
        if (fallback[size_t(i)])
            continue;
        InferenceResult &r = results[size_t(i)];
        if (r.status.ok() && r.outputTokens > 0) {
            outputSum += r.outputTokens;
            ++outputs;
        }
        const Pending &p = *members[size_t(i)];
        r.queueWait = batch->dispatchedAt - p.enqueued;
        r.upstreamTime = now - batch->dispatchedAt;
        r.totalTime = now - p.enqueued;
        r.batchSize = size;
        r.tier = p.tier;
        (r.status.ok() ? ok : errors) += 1;
    }
    const PriorityClass cls = size > 0 ? members.front()->cls : PriorityClass::Standard;
    const ServiceTier tier = size > 0 ? members.front()->tier : ServiceTier::Standard;
    bool signalDrained = false;
    bool wake = false;
    {
        std::lock_guard lock(m_mutex);
        // The engine thread only needs to hear of a completion when it may be
        // holding work back for it (the in-flight limit was reached), or when
        // someone waits for the last batch (drain, stop).
        const bool wasAtLimit = m_counters.inflightBatches >= quint64(m_config->maxInflightBatches)
            || (cls == PriorityClass::Background
                && m_classInflightBatches[size_t(cls)] >= BatchPolicy::backgroundSlots(m_config->maxInflightBatches));
        m_counters.inflight -= quint64(size - fallbacks);
        // Kept at 0 when a model has nothing in flight: a fleet names few
        // models, and erasing would allocate the entry again per batch.
        if (auto it = m_inflightByModel.find(batch->model); it != m_inflightByModel.end())
            *it = std::max(0, *it - size);
        --m_counters.inflightBatches;
        --m_classInflightBatches[size_t(cls)];
        m_counters.completed += quint64(ok);
        m_counters.failed += quint64(errors);
        if (outputs > 0) // what an answer takes, for sizing packs of members without maxOutputTokens
            m_outputEstimate = 0.8 * m_outputEstimate + 0.2 * (outputSum / outputs);
        // What a pack's answer takes per member: the latency model of the
        // auto packing decision (members per pack call in this batch).
        if (batch->packCalls > 0 && size >= 2 * batch->packCalls && errors == 0) {
            const double perPack = double(size) / double(batch->packCalls);
            const double perMember = duration<double>(now - batch->dispatchedAt).count() / perPack;
            m_secondsPerMember = 0.8 * m_secondsPerMember + 0.2 * perMember;
        }
        if (ok > 0 && errors == 0 && fallbacks == 0) {
            const double took = duration<double>(now - batch->dispatchedAt).count();
            if (tier == ServiceTier::Standard)
                m_standardSeconds = 0.9 * m_standardSeconds + 0.1 * took;
            else if (tier == ServiceTier::Flex)
                m_flexSeconds = m_flexSeconds == 0 ? took : 0.9 * m_flexSeconds + 0.1 * took;
        }
        for (int i = 0; i < size; ++i) {
            Pending &p = *members[size_t(i)];
            if (fallback[size_t(i)])
                requeueOnStandardLocked(std::move(members[size_t(i)]), batch->members[size_t(i)].request, now);
            else
                TenantLedger::finished(p.ledger, false, results[size_t(i)].status.ok(), now - p.enqueued);
        }
        maybeSignalDrainedLocked(signalDrained);
        wake = wasAtLimit || fallbacks > 0 || m_counters.inflightBatches == 0 || m_draining || m_stopping;
        if (wake)
            m_wakePending = true;
    }
    if (wake)
        m_cv.notify_all();
    if (m_metrics) {
        m_metrics->recordBatch(size, now - batch->dispatchedAt, errors > 0 ? 1 : 0);
        if (fallbacks > 0)
            m_metrics->recordFlexShed(batch->model, fallbacks);
        qint64 prompt = 0;
        qint64 output = 0;
        for (int i = 0; i < size; ++i) {
            if (fallback[size_t(i)])
                continue;
            const InferenceResult &r = results[size_t(i)];
            m_metrics->recordCompletion(r.status.ok() ? Outcome::Ok : Outcome::Failed, r.totalTime, r.queueWait,
                                        r.promptTokens, r.outputTokens, cls);
            if (r.status.ok()) {
                prompt += r.promptTokens;
                output += r.outputTokens;
            }
        }
        if (ok > 0)
            m_metrics->recordTierAnswer(batch->model, tier, prompt, output, ok);
    }
    for (int i = 0; i < size; ++i) {
        if (!fallback[size_t(i)])
            members[size_t(i)]->done(std::move(results[size_t(i)]));
    }
    if (signalDrained)
        emit drained();
}

void BatchInferenceEngine::requeueOnStandardLocked(std::unique_ptr<Pending> p, const InferenceRequest &sent,
                                                   SteadyTime now)
{
    InferenceRequest r = sent;
    r.body.remove(QLatin1StringView("serviceTier"));
    r.body.remove(QLatin1StringView("service_tier"));
    r.tier = ServiceTier::Standard;
    r.flexFallback = false;
    r.batchKey = BatchKey::compute(r.model, r.operation, r.body) + '|' + char('0' + int(r.priority));
    p->request = std::move(r);
    p->tier = ServiceTier::Standard;
    KeyQueue *q = queueForLocked(p->request, now);
    p->queue = q;
    m_counters.inflight -= 1;
    m_counters.queued += 1;
    ++m_classQueued[size_t(q->cls)];
    TenantLedger::requeued(p->ledger);
    m_index.emplace(p->id, p.get());
    m_deadlines.emplace(p->deadline, p->id);
    qCDebug(lcEngine) << "request" << p->id << "of" << q->model << "falls back from flex to the standard tier";
    enqueueLocked(*q, std::move(p));
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
