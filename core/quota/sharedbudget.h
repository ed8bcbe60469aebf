#pragma once

#include "core/quota/modelbudget.h"
#include "core/quota/quotalimits.h"
#include "core/quota/redisconnection.h"
#include "core/util/clock.h"

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QString>

#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

// One Gemini project's quota spent by several Sluice replicas: the shared
// half of UpstreamBudget, kept in Redis (`--budget-store redis://…`).
//
// Every replica keeps its own ModelBudget (pacing, probing, learning from
// 429s) and, while Redis answers, also holds a *lease* per model: upstream
// calls (and, under a TPM limit, input tokens) reserved in Redis and not
// yet spent. A dispatch may use only what the lease holds; this class's
// thread tops leases up in the background, so the engine and the upstream
// workers never wait on Redis. A reservation is one atomic Lua script call
// (sharedbudget.lua) that checks the cluster's sliding RPM/TPM/RPD windows
// and a GCRA pacer (a minute's calls spread over the minute, as the local
// bucket does), timed by Redis's clock; replicas held back take the calls
// that free up in turn (the order they began to wait). A lease holds at most
// `maxLeaseCalls` calls and goes back to Redis when unspent for `leaseIdle`.
// Tokens are reserved as estimated and settled from usageMetadata: an
// underestimate is charged on top (an overestimate is kept, as ModelBudget
// keeps it). A 429 that teaches a replica a limit is published and adopted
// by every replica (each adopts a lesson once).
//
// Each replica registers in Redis every `beatEvery`; the count of replicas
// seen within `replicaTtl` is the N of the fallback: when Redis is
// unreachable (refused, reset, or silent for `timeout`) each replica spends
// 1/N of every limit on its own (N = `replicas` when configured, else the
// most replicas Redis showed within the last minute), logs it once, shows it in /health and metrics,
// retries every `retryEvery` and, when Redis answers again, records there
// what it spent meanwhile and goes back to shared reservations.
//
// Thread: its own std::thread ("SharedBudget") talks to Redis; every public
// method is thread-safe. The callbacks run on that thread, never under this
// class's lock.
class SharedBudget
{
public:
    struct Settings {
        RedisUrl url;
        int replicas = 0;                              // N while Redis is unreachable; 0 = the last count seen
        QByteArray keyPrefix = QByteArrayLiteral("sluice:budget:");
        QByteArray replicaId;                          // default: host, pid and a random part
        Nanos timeout = std::chrono::milliseconds(250); // to connect, and per command
        Nanos retryEvery = std::chrono::seconds(1);
        Nanos beatEvery = std::chrono::seconds(1);
        Nanos replicaTtl = std::chrono::seconds(5);
        int maxLeaseCalls = 4;
        Nanos leaseIdle = std::chrono::seconds(2);
        Nanos flushEvery = std::chrono::milliseconds(100); // unreserved spending is recorded this often
    };

    enum class State { Connecting, Shared, Fallback };

    struct Callbacks {
        std::function<void(int shareOf)> shareChanged; // 1 = shared; N = on our own with 1/N
        std::function<void(const QString &model, QuotaDimension d, long long limit, Nanos blocked)> learned;
        std::function<void()> roomChanged; // a lease grew, or the state changed: planning may go on
    };

    struct Status {
        State state = State::Connecting;
        QString url;          // without its password
        QString replicaId;
        int replicas = 0;     // seen within replicaTtl at the last beat (0: never seen)
        int shareOf = 1;      // 1 shared; N on our own
        QString lastError;
        double stateSeconds = 0; // since the state last changed
        quint64 reservations = 0; // granted
        quint64 denials = 0;      // "not yet" answers (the cluster's budget was spent)
        quint64 errors = 0;       // Redis failures
        quint64 fallbacks = 0;    // times Redis became unreachable
        quint64 reserveCount = 0; // round trips timed, and their total
        double reserveSecondsSum = 0;
        double reserveSecondsMax = 0;
    };

    SharedBudget(Settings settings, Callbacks callbacks);
    ~SharedBudget(); // stops the thread; unspent leases are released when Redis answers within `timeout`

    void start();
    void stop();

    // True while reservations go through Redis (state Shared): only then do
    // the methods below clamp; otherwise the budget is on its own.
    bool shared() const { return m_shared.load(std::memory_order_acquire); }

    // Clamps `room` to the lease of `model` and asks for more when it holds
    // fewer than `wantCalls` calls. `limits`: the model's limits in force
    // (nothing to reserve when all are 0).
    void clampRoom(const QString &model, const QuotaLimits &limits, int wantCalls, ModelBudget::Room &room,
                   SteadyTime now);
    // Whether the lease covers `calls` and `tokens`; when not, `grant` says
    // when more is expected and more is asked for.
    bool covers(const QString &model, const QuotaLimits &limits, int calls, long long tokens, ModelBudget::Grant &grant,
                SteadyTime now);
    // Spends from the lease what was planned with clampRoom()/covers()
    // (anything beyond it is recorded in Redis unconditionally); while not
    // shared, remembers it for Redis's return.
    void spend(const QString &model, const QuotaLimits &limits, int calls, long long tokens, SteadyTime now);
    // Input tokens a call's usage showed beyond its estimate.
    void addTokens(const QString &model, long long tokens, SteadyTime now);
    // A 429 taught this replica `limit` for `d` (blocked for `blocked`).
    void publishLearned(const QString &model, QuotaDimension d, long long limit, Nanos blocked);
    // The cluster's spending in `d`'s window at the last reservation (0 unknown).
    long long clusterUsed(const QString &model, QuotaDimension d) const;

    Status status() const;

private:
    struct Lease;
    struct Work;
    struct Loop;
    struct Result;

    // The Redis thread: each round connects (recording what was spent on
    // our own), or sends what is due (beat, charges, releases, lessons,
    // reservations) and applies the answers; the callbacks run unlocked.
    void run();
    void reconnectLocked(std::unique_lock<std::mutex> &lock, Loop &loop);
    void collectDueLocked(SteadyTime now, Loop &loop, std::vector<Work> &work, SteadyTime *wake);
    bool exchange(std::vector<Work> &work, bool beat, long long *replicas, std::vector<Result> &results, size_t *sent,
                  QString *error); // without the lock
    bool applyLocked(const std::vector<Work> &work, const std::vector<Result> &results, Loop &loop);
    void adoptLocked(Lease &lease, const QList<RedisReply> &reply, Loop &loop);
    void notifyLocked(std::unique_lock<std::mutex> &lock, Loop &loop, bool room, std::optional<int> share);
    void failLocked(std::unique_lock<std::mutex> &lock, Loop &loop, const QString &why);
    void releaseAllLocked(std::unique_lock<std::mutex> &lock);
    QList<QByteArray> argsFor(const Work &work) const;
    QByteArray beatKey() const;
    QList<QByteArray> beatArgs() const;
    Lease &leaseFor(const QString &model); // under m_mutex
    void askLocked(Lease &lease, const QuotaLimits &limits, int calls, long long tokens, SteadyTime now);
    SteadyTime nextExpectedLocked(const Lease &lease, SteadyTime now) const;
    bool connectAndLoad(QString *error, QByteArray *runId);
    std::optional<RedisReply> eval(const QString &model, const QList<QByteArray> &args, QString *error);
    std::optional<RedisReply> evalKeys(const QList<QByteArray> &keys, const QList<QByteArray> &args, QString *error);
    void setState(State state, const QString &error);
    void noteReplicas(int count, SteadyTime now); // under m_mutex

    const Settings m_settings;
    const Callbacks m_callbacks;
    const QByteArray m_script;

    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stop = false;
    bool m_work = false; // something to tell Redis
    QHash<QString, Lease *> m_leases;
    std::vector<std::unique_ptr<Lease>> m_leaseStorage;
    struct Learned { QString model; QuotaDimension d; long long limit; Nanos blocked; };
    std::vector<Learned> m_learnedOut;
    Status m_status;
    SteadyTime m_stateSince;
    // The most replicas seen within a minute: the N of the fallback (a
    // restarted Redis counts replicas from one again as they come back).
    int m_peakReplicas = 0;
    SteadyTime m_peakAt{};
    std::atomic<bool> m_shared{false};
    std::thread m_thread;

    // The Redis thread's own.
    RedisConnection m_redis;
    QByteArray m_sha;
    QByteArray m_runId; // of the Redis last connected to
};

QString sharedBudgetStateName(SharedBudget::State state); // "connecting", "shared", "fallback"
// {"state", "url", "replicaId", "replicas", "shareOf", "stateSeconds",
//  "lastError", "reservations", "denials", "errors", "fallbacks",
//  "reserveMeanMs", "reserveMaxMs"}: /health's and /api/v1/stats' budgetStore.
QJsonObject sharedBudgetStatusJson(const SharedBudget::Status &status);
