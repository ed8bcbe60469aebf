#pragma once

#include "core/engine/batchpolicy.h"
#include "core/engine/drainrateestimator.h"
#include "core/engine/engineconfig.h"
#include "core/engine/inferencebackend.h"
#include "core/engine/inferencerequest.h"
#include "core/metrics/inferencemetricscollector.h"
#include "core/engine/packplanner.h"
#include "core/engine/tenantledger.h"
#include "core/quota/upstreambudget.h"
#include "core/util/clock.h"

#include <QFuture>
#include <QHash>
#include <QObject>
#include <QThread>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <queue>
#include <unordered_map>
#include <vector>

// Admits Gemini requests, groups those with equal batch keys into batches
// (BatchPolicy), and dispatches them to an InferenceBackend through a bounded
// pool of in-flight batches (DESIGN.md §5, §6), within the upstream budget:
// a dispatch goes only when the model's budget (UpstreamBudget: RPM, TPM,
// RPD, configured or learned) has room, takes the members and the number of
// calls PackPlanner decides for the packing mode and that room, and charges
// those calls before handing the batch over. A request whose deadline
// falls before the budget's next room is answered 429 with Retry-After at
// once (at admission, or as soon as that is known), not 504 later.
//
// Every operation the gateway sends upstream on a client's behalf comes
// through here, countTokens included: admitted (maxQueue, draining),
// queued, held to the budget (one call each for RPM and RPD, no TPM) and
// to maxInflightBatches, expired and cancelled like the rest; being its
// own upstream call, a countTokens never waits for company and goes one per
// batch (BatchPolicy's `alone` queues).
//
// Deadlines: a request's InferenceRequest::timeout can only shorten
// EngineConfig::requestTimeoutMs (anything larger, however large, is
// clamped to it; a negative one is taken as 0).
//
// Every submitted request completes exactly once through its callback:
// rejected at admission (queue full / draining, with a computed retry-after),
// expired in the queue (DEADLINE_EXCEEDED, never sent upstream), cancelled
// while queued, or answered by the backend.
//
// Accounting invariant, true in every counters() snapshot:
//   admitted = completed + failed + expired + cancelled + queued + inflight
//
// Thread: the engine runs its own thread ("sluice-engine") between start()
// and stop(); the object itself may live on any thread. submit(), cancel(),
// setConfig(), drain(), config(), counters(), gauges() are thread-safe.
// drained() is emitted from the engine thread or the upstream thread that
// finished the last batch, configChanged() from the caller of setConfig():
// receivers on other threads get them queued.

struct EngineCounters {
    quint64 submitted = 0;        // submit() calls
    quint64 admitted = 0;
    quint64 rejected = 0;         // refused at admission (not admitted)
    quint64 completed = 0;        // answered OK by the upstream
    quint64 failed = 0;           // answered with an error by the upstream
    quint64 expired = 0;          // deadline passed while queued
    quint64 cancelled = 0;        // client went away while queued
    quint64 queued = 0;
    quint64 inflight = 0;         // requests in batches with the upstream
    quint64 inflightBatches = 0;
    quint64 batchesDispatched = 0;
    quint64 upstreamCalls = 0;    // planned and charged at dispatch (retries and repacks not included)

    bool invariantHolds() const
    {
        return admitted == completed + failed + expired + cancelled + queued + inflight;
    }
};

class BatchInferenceEngine : public QObject
{
    Q_OBJECT
public:
    // `backend` and `clock` must outlive the engine; `metrics` may be null.
    // `budget` is the upstream budget shared with the backend (which charges
    // retries and repacks to it); null: the engine keeps one of its own,
    // which only holds it to the configured limits (nothing to probe). The
    // engine sets its configured limits (rpmLimit, tpmLimit, rpdLimit,
    // quotaProbeRpm) from the config, now and on every setConfig().
    BatchInferenceEngine(InferenceBackend *backend, const EngineConfig &config,
                         Clock &clock = Clock::steady(),
                         InferenceMetricsCollector *metrics = nullptr, UpstreamBudget *budget = nullptr,
                         QObject *parent = nullptr);
    ~BatchInferenceEngine() override; // stop()s

    void start();
    // Stops the engine thread. Requests still queued complete with UNAVAILABLE;
    // batches in flight still complete through the backend. Prefer drain() first.
    // Requests still queued are answered UNAVAILABLE with `reason` (a default
    // one when empty).
    void stop(const QString &reason = {});

    struct Ticket {
        quint64 id = 0;          // for cancel(); 0 when not admitted
        bool admitted = false;
    };
    // Thread-safe. `done` runs exactly once (see CompletionCallback).
    Ticket submit(InferenceRequest request, CompletionCallback done);
    // The same, resolved through a future (InferenceResult is copyable, so no
    // QPromise of a move-only type is involved).
    QFuture<InferenceResult> submit(InferenceRequest request);

    // Removes the request if it is still queued and completes it with CANCELLED.
    // Returns false when it has already been dispatched or finished.
    bool cancel(quint64 requestId);

    // Validates and swaps in a new config atomically; queued and in-flight
    // requests are kept. Returns the validation error (nothing changes) or null.
    ConfigError setConfig(const EngineConfig &config);
    EngineConfig config() const;

    // Stop admitting (new work gets UNAVAILABLE/draining), dispatch everything
    // queued without waiting for batches to fill, emit drained() once nothing
    // is queued or in flight.
    void drain();
    bool isDraining() const;
    // The upstream budget has room it did not have (a shared budget's lease
    // arrived, its state changed): plan again now. Thread-safe.
    void budgetChanged();

    EngineCounters counters() const;
    // Also per class queued. Cheap: every HTTP answer's X-Queue-* headers read it.
    EngineGauges gauges() const;
    // The `n` most active tenants (TenantLedger::top): for snapshots, not per request.
    QList<TenantState> topTenants(int n) const;

    // Tenants' shares, limits and defaults and the class weights; takes
    // effect for requests admitted from now on.
    void setTenants(const TenantsConfig &config);
    // What a flex call Sluice chose took upstream (EWMA, seconds); nullopt
    // until one answered. The gateway's tier routing reads it.
    std::optional<double> observedFlexSeconds() const;

    // Retry-after a client refused now should be told: the time for the
    // current queue to drain at the measured completion rate.
    std::chrono::milliseconds retryAfterHint() const;

    // The clock time at which the engine thread last evaluated the batch
    // policy. Lets a test know the engine has acted on a clock advance
    // (lastEvaluation() >= clock.now()) without sleeping: the engine waits
    // through Clock::waitUntil, which a ManualClock ends at every advance.
    SteadyTime lastEvaluation() const;

signals:
    void configChanged(const EngineConfig &config);
    void drained();

private:
    struct Pending;
    struct KeyQueue;
    using Deadline = std::pair<SteadyTime, quint64>;

    void run();
    // Takes `count` members of `q` and hands them to the backend (the lock is
    // released meanwhile); false, after waiting at most until the quota
    // frees, when the upstream quota does not allow them yet.
    bool dispatchLocked(std::unique_lock<std::mutex> &lock, KeyQueue &q, int count, SteadyTime now,
                        const EngineConfig &cfg);
    KeyQueue *queueForLocked(const InferenceRequest &request, SteadyTime now);
    void enqueueLocked(KeyQueue &q, std::unique_ptr<Pending> p);
    void requeueOnStandardLocked(std::unique_ptr<Pending> p, const InferenceRequest &sent, SteadyTime now);
    void expireLocked(SteadyTime now, std::vector<std::unique_ptr<Pending>> &expired);
    std::unique_ptr<Pending> removeQueuedLocked(std::unordered_map<quint64, Pending *>::iterator it);
    std::shared_ptr<Batch> takeBatchLocked(KeyQueue &q, int count, SteadyTime now,
                                           std::vector<std::unique_ptr<Pending>> &members);
    void onBatchDone(std::shared_ptr<const Batch> batch, std::vector<std::unique_ptr<Pending>> members,
                     std::vector<InferenceResult> results);
    void applyBudgetConfig(const EngineConfig &config);
    static Status budgetRefusal(const QString &model, const ModelBudget::Grant &grant, SteadyTime now);
    // Answers 429 (with the budget's time as Retry-After) the members of `q`
    // whose deadline comes before `quotaAt`.
    void refuseBeyondBudgetLocked(KeyQueue &q, SteadyTime quotaAt, SteadyTime now,
                                  std::vector<std::unique_ptr<Pending>> &refused);
    std::chrono::milliseconds retryAfterLocked(SteadyTime now) const;
    double drainRateLocked(SteadyTime now) const;
    void completeOutsideLock(std::vector<std::unique_ptr<Pending>> &pending, const Status &status,
                             InferenceMetricsCollector::Outcome outcome, SteadyTime now);
    void maybeSignalDrainedLocked(bool &signal);

    InferenceBackend *m_backend;
    Clock &m_clock;
    InferenceMetricsCollector *m_metrics;

    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    const std::function<bool()> m_woken = [this] { return m_wakePending || m_stopping; };
    std::vector<const InferenceRequest *> m_planned; // dispatchLocked()'s scratch, engine thread only
    bool m_wakePending = false;
    // The engine thread is in a short timed wait right after dispatching, with
    // nothing queued: it looks at the queues again within maxWaitMs anyway,
    // so a submit() that makes a queue non-empty need not wake it.
    bool m_lingering = false;
    bool m_stopping = false;
    bool m_draining = false;
    bool m_drainedSignalled = false;
    std::shared_ptr<const EngineConfig> m_config;
    std::unordered_map<QByteArray, std::unique_ptr<KeyQueue>> m_queues;
    std::vector<KeyQueue *> m_queueOrder;    // stable iteration order for the policy
    std::unordered_map<quint64, Pending *> m_index; // queued requests by id
    std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> m_deadlines;
    quint64 m_nextId = 1;
    quint64 m_nextBatchId = 1;
    EngineCounters m_counters;
    SteadyTime m_lastEvaluation{};
    std::array<int, kPriorityClasses> m_classQueued{};
    std::array<int, kPriorityClasses> m_classInflightBatches{};
    TenantLedger m_tenants;
    // Flex calls Sluice chose (flexFallback): what a standard call of the
    // model takes (EWMA, seconds), kept back from the deadline for the
    // fallback, and what a flex one took.
    double m_standardSeconds = 5;
    double m_flexSeconds = 0;

    std::unique_ptr<UpstreamBudget> m_ownBudget; // when none was given
    UpstreamBudget *m_budget;
    std::vector<PackCandidate> m_candidates;     // dispatchLocked()'s scratch, engine thread only
    double m_outputEstimate = 256;               // output tokens per answer, EWMA (pack sizing)
    QHash<QString, int> m_inflightByModel;       // members with the upstream, per model (pack factor)
    double m_secondsPerMember = 0.3;             // a pack answer's time per member, EWMA (pack factor)
    // Requests dispatched per second, for the Retry-After of a full queue.
    DrainRateEstimator m_drainRate;

    QThread *m_thread = nullptr;

    // Lets a backend finish a batch after the engine is gone without touching
    // freed memory: completions enter() the guard; the destructor detach()es
    // it and waits for completions already inside.
    class LifeGuard
    {
    public:
        explicit LifeGuard(BatchInferenceEngine *e) : m_engine(e) {}
        BatchInferenceEngine *enter();
        void leave();
        void detach();

    private:
        std::mutex m_mutex;
        std::condition_variable m_idle;
        BatchInferenceEngine *m_engine;
        int m_active = 0;
    };
    std::shared_ptr<LifeGuard> m_guard;
};
