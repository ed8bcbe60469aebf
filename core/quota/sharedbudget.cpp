#include "core/quota/sharedbudget.h"

#include <QCryptographicHash>
#include <QFile>
#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QSysInfo>

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <deque>

Q_LOGGING_CATEGORY(lcSharedBudget, "sluice.budget", QtInfoMsg)

using namespace std::chrono;

namespace {

constexpr std::array<QuotaDimension, kQuotaDimensions> kDimensions{QuotaDimension::Rpm, QuotaDimension::Tpm,
                                                                   QuotaDimension::Rpd};
// A reservation older than this is given back even while its lease is in
// use, well before it could leave the cluster's minute window unspent.
constexpr Nanos kLeaseMaxAge = seconds(30);
constexpr Nanos kMinuteWindow = milliseconds(60500); // as sharedbudget.lua's MINUTE

bool limited(const QuotaLimits &l)
{
    return l.rpm > 0 || l.tpm > 0 || l.rpd > 0;
}

QByteArray loadScript()
{
    QFile f(QStringLiteral(":/quota/sharedbudget.lua"));
    if (!f.open(QIODevice::ReadOnly))
        qFatal("sharedbudget.lua is missing from the resources");
    return f.readAll();
}

QByteArray defaultReplicaId()
{
    return QSysInfo::machineHostName().toUtf8() + ':' + QByteArray::number(qint64(::getpid())) + ':'
         + QByteArray::number(QRandomGenerator::global()->generate(), 16);
}

int burstCalls(long long rpm)
{
    // ModelBudget's bucket: a sixth of a minute's calls at once.
    return int(std::max<long long>(1, rpm / 6));
}

} // namespace

struct SharedBudget::Lease {
    QString model;
    QuotaLimits limits;
    int calls = 0;            // reserved in Redis, not spent
    long long tokens = 0;
    QByteArray bucket;        // the minute bucket of the newest reservation
    SteadyTime reservedAt{};  // of the oldest reservation still held
    int wantCalls = 0;        // demand beyond the lease
    long long wantTokens = 0;
    bool asked = false;
    SteadyTime retryAt{};     // Redis said no reservation fits before
    QuotaDimension binding = QuotaDimension::Rpm;
    SteadyTime lastActive{};
    // Spent beyond reservations (or with no limit to reserve against): recorded unconditionally.
    long long chargeCalls = 0;
    long long chargeTokens = 0;
    std::array<long long, kQuotaDimensions> clusterUsed{};
    std::array<long long, kQuotaDimensions> learnedAt{};
    // What this replica spent, by time: per quarter second within the minute
    // window, per minute beyond it (for RPD), and how much of it while not
    // shared. When Redis answers again, the part spent on our own is
    // recorded there, each in the window bucket of its time; when the Redis
    // that answers is a new one (restarted, its windows empty), all of it.
    struct Part {
        SteadyTime at;
        long long calls = 0;
        long long tokens = 0;
        long long offCalls = 0;
        long long offTokens = 0;
    };
    std::deque<Part> recent;
    std::deque<Part> older;

    std::pair<long long, long long> offTotals() const
    {
        std::pair<long long, long long> t{0, 0};
        for (const auto *parts : {&older, &recent}) {
            for (const Part &p : *parts) {
                t.first += p.offCalls;
                t.second += p.offTokens;
            }
        }
        return t;
    }

    // `c` calls and `t` tokens spent now; `off`: while not shared. The last
    // two: spending already noted whose recording in Redis failed.
    void note(SteadyTime now, long long c, long long t, bool off, long long offC = 0, long long offT = 0)
    {
        while (!recent.empty() && now - recent.front().at > kMinuteWindow + seconds(1)) {
            const Part &p = recent.front();
            if (older.empty() || p.at - older.back().at >= minutes(1))
                older.push_back({p.at});
            older.back().calls += p.calls;
            older.back().offCalls += p.offCalls;
            recent.pop_front();
        }
        while (!older.empty() && now - older.front().at > hours(24))
            older.pop_front();
        if (recent.empty() || now - recent.back().at >= milliseconds(250))
            recent.push_back({now});
        Part &p = recent.back();
        p.calls += c;
        p.tokens += t;
        p.offCalls += (off ? c : 0) + offC;
        p.offTokens += (off ? t : 0) + offT;
    }
};

struct SharedBudget::Work {
    enum class Kind { Reserve, Charge, Release, Learn };
    Work(Kind k, QString m, long long c = 0, long long t = 0, QuotaLimits l = {}, QByteArray b = {})
        : kind(k), model(std::move(m)), calls(c), tokens(t), limits(l), bucket(std::move(b))
    {
    }
    Kind kind;
    QString model;
    long long calls = 0;
    long long tokens = 0;
    QList<QByteArray> parts; // Charge: (ms ago, calls, tokens) triples; empty: (0, calls, tokens)
    QuotaLimits limits;
    QByteArray bucket;
    QuotaDimension d = QuotaDimension::Rpm;
    long long limit = 0;
    Nanos blocked{};
};

SharedBudget::SharedBudget(Settings settings, Callbacks callbacks)
    : m_settings([&] {
          if (settings.replicaId.isEmpty())
              settings.replicaId = defaultReplicaId();
          return settings;
      }()),
      m_callbacks(std::move(callbacks)), m_script(loadScript())
{
    m_status.url = m_settings.url.display();
    m_status.replicaId = QString::fromUtf8(m_settings.replicaId);
    m_status.shareOf = std::max(1, m_settings.replicas);
    m_stateSince = steady_clock::now();
}

SharedBudget::~SharedBudget()
{
    stop();
    for (auto &l : m_leaseStorage)
        l.reset();
}

void SharedBudget::start()
{
    if (m_thread.joinable())
        return;
    if (m_callbacks.shareChanged)
        m_callbacks.shareChanged(m_status.shareOf);
    m_thread = std::thread([this] {
        pthread_setname_np(pthread_self(), "SharedBudget");
        run();
    });
}

void SharedBudget::stop()
{
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable())
        m_thread.join();
}

SharedBudget::Lease &SharedBudget::leaseFor(const QString &model)
{
    const auto it = m_leases.constFind(model);
    if (it != m_leases.cend())
        return **it;
    m_leaseStorage.push_back(std::make_unique<Lease>());
    Lease *l = m_leaseStorage.back().get();
    l->model = model;
    m_leases.insert(model, l);
    return *l;
}

void SharedBudget::askLocked(Lease &l, const QuotaLimits &limits, int calls, long long tokens, SteadyTime now)
{
    l.limits = limits;
    l.wantCalls = std::clamp(calls, 1, std::max(1, m_settings.maxLeaseCalls));
    l.wantTokens = std::max(l.wantTokens, tokens);
    l.lastActive = now;
    if (!l.asked) {
        l.asked = true;
        m_work = true;
        m_cv.notify_one();
    }
}

SteadyTime SharedBudget::nextExpectedLocked(const Lease &l, SteadyTime now) const
{
    // Refused until retryAt, or asked just now: a round trip away, and the
    // roomChanged callback wakes the planner as soon as it lands.
    return l.retryAt > now ? l.retryAt : now + milliseconds(1);
}

void SharedBudget::clampRoom(const QString &model, const QuotaLimits &limits, int wantCalls, ModelBudget::Room &room,
                             SteadyTime now)
{
    if (!shared() || !limited(limits))
        return;
    std::lock_guard lock(m_mutex);
    Lease &l = leaseFor(model);
    l.limits = limits;
    // The cluster's pace is shared: this replica's part of it is what packs
    // are sized for (a replica that planned for the whole would send small
    // packs more often than the shared budget lets its calls go).
    if (m_status.replicas > 1)
        room.callsPerSecond /= m_status.replicas;
    const int before = room.calls;
    room.calls = std::min(room.calls, l.calls);
    if (limits.tpm > 0)
        room.tokens = std::min(room.tokens, l.tokens);
    if (wantCalls > l.calls || (room.calls == 0 && before > 0))
        askLocked(l, limits, std::max(1, wantCalls), 0, now);
    if (room.calls <= 0 && before > 0) {
        room.calls = 0;
        room.tokens = 0;
        room.nextCallAt = std::max(room.nextCallAt, nextExpectedLocked(l, now));
        room.binding = l.binding;
    }
}

bool SharedBudget::covers(const QString &model, const QuotaLimits &limits, int calls, long long tokens,
                          ModelBudget::Grant &grant, SteadyTime now)
{
    if (!shared() || !limited(limits))
        return true;
    std::lock_guard lock(m_mutex);
    Lease &l = leaseFor(model);
    l.limits = limits;
    if (l.calls >= calls && (limits.tpm <= 0 || l.tokens >= tokens))
        return true;
    askLocked(l, limits, calls, tokens, now);
    grant.granted = false;
    grant.at = std::max(grant.at, nextExpectedLocked(l, now));
    grant.binding = l.binding;
    grant.limit = limits[l.binding];
    return false;
}

void SharedBudget::spend(const QString &model, const QuotaLimits &limits, int calls, long long tokens, SteadyTime now)
{
    std::lock_guard lock(m_mutex);
    Lease &l = leaseFor(model);
    l.lastActive = now;
    l.note(now, calls, tokens, !shared());
    if (!shared())
        return;
    const int fromLease = std::min(calls, l.calls);
    l.calls -= fromLease;
    l.chargeCalls += calls - fromLease;
    if (limits.tpm > 0) {
        const long long tokensFromLease = std::min(tokens, l.tokens);
        l.tokens -= tokensFromLease;
        l.chargeTokens += tokens - tokensFromLease;
    } else {
        l.chargeTokens += tokens; // counted, nothing reserved
    }
    // Keep one call ahead, so the next dispatch does not wait a round trip.
    if (limited(limits) && l.calls == 0)
        askLocked(l, limits, 1, 0, now);
    if (l.chargeCalls > 0 || l.chargeTokens > 0)
        m_work = true; // recorded at the next flush, not woken for
}

void SharedBudget::addTokens(const QString &model, long long tokens, SteadyTime now)
{
    if (tokens <= 0)
        return;
    std::lock_guard lock(m_mutex);
    Lease &l = leaseFor(model);
    l.note(now, 0, tokens, !shared());
    if (shared())
        l.chargeTokens += tokens;
}

void SharedBudget::publishLearned(const QString &model, QuotaDimension d, long long limit, Nanos blocked)
{
    if (!shared())
        return;
    {
        std::lock_guard lock(m_mutex);
        m_learnedOut.push_back({model, d, limit, blocked});
        m_work = true;
    }
    m_cv.notify_one();
}

long long SharedBudget::clusterUsed(const QString &model, QuotaDimension d) const
{
    std::lock_guard lock(m_mutex);
    const auto it = m_leases.constFind(model);
    return it == m_leases.cend() ? 0 : (*it)->clusterUsed[size_t(d)];
}

SharedBudget::Status SharedBudget::status() const
{
    std::lock_guard lock(m_mutex);
    Status s = m_status;
    s.stateSeconds = duration<double>(steady_clock::now() - m_stateSince).count();
    return s;
}

void SharedBudget::setState(State state, const QString &error)
{
    // Under m_mutex.
    const State was = m_status.state;
    if (!error.isEmpty())
        m_status.lastError = error;
    if (state == was)
        return;
    const double seconds = duration<double>(steady_clock::now() - m_stateSince).count();
    m_status.state = state;
    m_stateSince = steady_clock::now();
    if (state == State::Fallback) {
        ++m_status.fallbacks;
        m_status.shareOf = m_settings.replicas > 0 ? m_settings.replicas : std::max(1, m_peakReplicas);
        // Reservations held are Redis's to forget: nothing of them is spent.
        // Spending not recorded yet waits for Redis's return with the rest.
        const SteadyTime now = steady_clock::now();
        for (auto &l : m_leaseStorage) {
            if (l->chargeCalls > 0 || l->chargeTokens > 0)
                l->note(now, 0, 0, true, l->chargeCalls, l->chargeTokens);
            l->chargeCalls = l->chargeTokens = 0;
            l->calls = 0;
            l->tokens = 0;
            l->asked = false;
            l->retryAt = {};
        }
        if (m_settings.replicas <= 0 && m_peakReplicas <= 0)
            qCWarning(lcSharedBudget).noquote()
                << QStringLiteral("budget store %1 unreachable (%2) and no replica count known: this replica spends the "
                                  "whole quota on its own until Redis answers; set budget.replicas "
                                  "(--budget-replicas) to the number of replicas to spend 1/N each")
                       .arg(m_status.url, error);
        else
            qCWarning(lcSharedBudget).noquote()
                << QStringLiteral("budget store %1 unreachable (%2): each replica spends 1/%3 of every limit on its own "
                                  "until Redis answers (retrying every %4 ms)")
                       .arg(m_status.url, error)
                       .arg(m_status.shareOf)
                       .arg(duration_cast<milliseconds>(m_settings.retryEvery).count());
    } else if (state == State::Shared) {
        m_status.shareOf = 1;
        if (was == State::Fallback)
            qCInfo(lcSharedBudget).noquote()
                << QStringLiteral("budget store %1 answers again after %2 s: the quota is shared again")
                       .arg(m_status.url)
                       .arg(seconds, 0, 'f', 1);
        else
            qCInfo(lcSharedBudget).noquote()
                << QStringLiteral("budget store %1: the quota is shared with every replica registered there "
                                  "(%2 so far; this one is %3)")
                       .arg(m_status.url)
                       .arg(m_status.replicas)
                       .arg(m_status.replicaId);
    }
    m_shared.store(state == State::Shared, std::memory_order_release);
}

void SharedBudget::noteReplicas(int count, SteadyTime now)
{
    m_status.replicas = count;
    if (count >= m_peakReplicas || now - m_peakAt > minutes(1)) {
        m_peakReplicas = count;
        m_peakAt = now;
    }
}

bool SharedBudget::connectAndLoad(QString *error, QByteArray *runId)
{
    if (!m_redis.connect(m_settings.url, m_settings.timeout, error))
        return false;
    // Which Redis this is: a restarted one has a new run_id (and empty windows).
    const std::optional<RedisReply> info = m_redis.command({QByteArrayLiteral("INFO"), QByteArrayLiteral("server")}, error);
    if (!info)
        return false;
    for (const QByteArray &line : info->text.split('\n')) {
        if (line.startsWith("run_id:"))
            *runId = line.mid(7).trimmed();
    }
    const std::optional<RedisReply> r = m_redis.command({QByteArrayLiteral("SCRIPT"), QByteArrayLiteral("LOAD"), m_script}, error);
    if (!r)
        return false;
    if (r->isError() || r->text.isEmpty()) {
        *error = QStringLiteral("%1 refused the budget script: %2").arg(m_status.url, QString::fromUtf8(r->text));
        m_redis.close();
        return false;
    }
    m_sha = r->text;
    return true;
}

std::optional<RedisReply> SharedBudget::evalKeys(const QList<QByteArray> &keys, const QList<QByteArray> &args,
                                                 QString *error)
{
    QList<QByteArray> cmd{QByteArrayLiteral("EVALSHA"), m_sha, QByteArray::number(keys.size())};
    cmd.append(keys);
    cmd.append(args);
    std::optional<RedisReply> r = m_redis.command(cmd, error);
    if (r && r->isError() && r->text.startsWith("NOSCRIPT")) {
        // Redis lost its scripts (SCRIPT FLUSH, a restart behind a proxy): load it again once.
        QString loadError;
        const std::optional<RedisReply> load
            = m_redis.command({QByteArrayLiteral("SCRIPT"), QByteArrayLiteral("LOAD"), m_script}, &loadError);
        if (!load) {
            *error = loadError;
            return std::nullopt;
        }
        m_sha = load->text;
        cmd[1] = m_sha;
        r = m_redis.command(cmd, error);
    }
    if (r && r->isError()) {
        *error = QStringLiteral("%1: %2").arg(m_status.url, QString::fromUtf8(r->text));
        m_redis.close(); // an error here is a broken script or store: start over as if unreachable
        return std::nullopt;
    }
    return r;
}

std::optional<RedisReply> SharedBudget::eval(const QString &model, const QList<QByteArray> &args, QString *error)
{
    const QByteArray base = m_settings.keyPrefix + '{' + model.toUtf8() + "}:";
    return evalKeys({base + "rpm:b", base + "rpm:a", base + "tpm:b", base + "tpm:a", base + "rpd:b", base + "rpd:a",
                     base + "pace", base + "learned", base + "waiting", base + "seen"},
                    args, error);
}

// The Redis thread's state between rounds.
struct SharedBudget::Loop {
    SteadyTime nextConnect;
    SteadyTime nextBeat;
    SteadyTime nextFlush;
    QString error;
    struct Adopt {
        QString model;
        QuotaDimension d;
        long long limit;
        Nanos blocked;
    };
    std::vector<Adopt> adopt; // lessons to hand to the callbacks
};

struct SharedBudget::Result {
    size_t index; // into the round's work
    RedisReply reply;
    double seconds;
};

void SharedBudget::run()
{
    std::unique_lock lock(m_mutex);
    Loop loop;
    loop.nextConnect = loop.nextBeat = loop.nextFlush = steady_clock::now();
    std::vector<Work> work;
    std::vector<Result> results;
    while (!m_stop) {
        if (!m_redis.isConnected()) {
            reconnectLocked(lock, loop);
            continue;
        }
        const SteadyTime now = steady_clock::now();
        SteadyTime wake = std::min(loop.nextBeat, now + m_settings.retryEvery);
        const bool beat = now >= loop.nextBeat;
        work.clear();
        collectDueLocked(now, loop, work, &wake);
        if (work.empty() && !beat) {
            m_work = false;
            m_cv.wait_until(lock, wake, [&] { return m_stop || m_work; });
            continue;
        }
        results.clear();
        long long replicas = -1;
        size_t sent = 0;
        lock.unlock();
        const bool ok = exchange(work, beat, &replicas, results, &sent, &loop.error);
        lock.lock();
        if (!ok) {
            // Charges not recorded yet wait for Redis's return like any spending on our own.
            for (size_t i = sent; i < work.size(); ++i) {
                if (work[i].kind == Work::Kind::Charge)
                    leaseFor(work[i].model).note(steady_clock::now(), 0, 0, true, work[i].calls, work[i].tokens);
            }
            failLocked(lock, loop, loop.error);
            continue;
        }
        if (beat) {
            noteReplicas(int(replicas), steady_clock::now());
            loop.nextBeat = steady_clock::now() + m_settings.beatEvery;
        }
        const bool room = applyLocked(work, results, loop);
        if (room || !loop.adopt.empty())
            notifyLocked(lock, loop, room, std::nullopt);
    }
    releaseAllLocked(lock);
}

void SharedBudget::notifyLocked(std::unique_lock<std::mutex> &lock, Loop &loop, bool room, std::optional<int> share)
{
    std::vector<Loop::Adopt> adopt;
    adopt.swap(loop.adopt);
    lock.unlock();
    if (share && m_callbacks.shareChanged)
        m_callbacks.shareChanged(*share);
    for (const Loop::Adopt &a : adopt) {
        if (m_callbacks.learned)
            m_callbacks.learned(a.model, a.d, a.limit, a.blocked);
    }
    if (room && m_callbacks.roomChanged)
        m_callbacks.roomChanged();
    lock.lock();
}

void SharedBudget::failLocked(std::unique_lock<std::mutex> &lock, Loop &loop, const QString &why)
{
    ++m_status.errors;
    m_redis.close();
    const bool wasShared = m_status.state != State::Fallback;
    setState(State::Fallback, why);
    loop.nextConnect = steady_clock::now() + m_settings.retryEvery;
    if (wasShared)
        notifyLocked(lock, loop, true, m_status.shareOf);
}

QByteArray SharedBudget::beatKey() const
{
    return m_settings.keyPrefix + "replicas";
}

QList<QByteArray> SharedBudget::beatArgs() const
{
    return {QByteArrayLiteral("beat"), m_settings.replicaId,
            QByteArray::number(duration_cast<milliseconds>(m_settings.replicaTtl).count())};
}

void SharedBudget::reconnectLocked(std::unique_lock<std::mutex> &lock, Loop &loop)
{
    if (steady_clock::now() < loop.nextConnect) {
        m_cv.wait_until(lock, loop.nextConnect, [&] { return m_stop; });
        return;
    }
    bool ok = false;
    long long replicas = 0;
    QByteArray runId;
    lock.unlock();
    ok = connectAndLoad(&loop.error, &runId);
    if (ok) {
        const auto beat = evalKeys({beatKey()}, beatArgs(), &loop.error);
        ok = beat && !beat->elements.isEmpty();
        if (ok)
            replicas = beat->elements.at(0).toInteger();
    }
    lock.lock();
    if (!ok) {
        failLocked(lock, loop, loop.error);
        return;
    }
    noteReplicas(int(replicas), steady_clock::now());
    loop.nextBeat = steady_clock::now() + m_settings.beatEvery;

    // What was spent on our own goes into the cluster's windows, each part
    // at its time, before any reservation: the minute after Redis's return
    // must not spend it twice.
    const bool fresh = runId != m_runId;
    if (fresh && !m_runId.isEmpty())
        qCWarning(lcSharedBudget).noquote()
            << QStringLiteral("budget store %1 is a new Redis (restarted: its windows are empty): recording there what "
                              "this replica spent in the last day")
                   .arg(m_status.url);
    const SteadyTime now = steady_clock::now();
    std::vector<Work> work;
    // Spending noted on our own while this is sent is recorded afterwards:
    // what each lease had noted when it was sent, to tell the two apart.
    QHash<const Lease *, std::pair<long long, long long>> offSent;
    for (auto &l : m_leaseStorage) {
        offSent.insert(l.get(), l->offTotals());
        Work w(Work::Kind::Charge, l->model, 0, 0, l->limits);
        for (const auto *parts : {&l->older, &l->recent}) {
            for (const Lease::Part &p : *parts) {
                const long long calls = fresh ? p.calls : p.offCalls;
                const long long tokens = fresh ? p.tokens : p.offTokens;
                if (calls > 0 || tokens > 0)
                    w.parts << QByteArray::number(std::max<long long>(0, duration_cast<milliseconds>(now - p.at).count()))
                            << QByteArray::number(calls) << QByteArray::number(tokens);
            }
        }
        if (!w.parts.isEmpty())
            work.push_back(std::move(w));
    }
    lock.unlock();
    for (const Work &w : work) {
        ok = ok && eval(w.model, argsFor(w), &loop.error).has_value();
    }
    lock.lock();
    if (!ok) {
        failLocked(lock, loop, loop.error);
        return;
    }
    m_runId = runId;
    for (auto &l : m_leaseStorage) {
        const auto [calls, tokens] = l->offTotals();
        const auto [sentCalls, sentTokens] = offSent.value(l.get());
        l->chargeCalls += std::max(0LL, calls - sentCalls);
        l->chargeTokens += std::max(0LL, tokens - sentTokens);
        for (auto *parts : {&l->older, &l->recent}) {
            for (Lease::Part &p : *parts)
                p.offCalls = p.offTokens = 0;
        }
    }
    setState(State::Shared, QString());
    notifyLocked(lock, loop, true, 1);
}

void SharedBudget::collectDueLocked(SteadyTime now, Loop &loop, std::vector<Work> &work, SteadyTime *wake)
{
    const bool flush = now >= loop.nextFlush;
    for (auto &lp : m_leaseStorage) {
        Lease &l = *lp;
        if (flush && (l.chargeCalls > 0 || l.chargeTokens > 0)) {
            work.emplace_back(Work::Kind::Charge, l.model, l.chargeCalls, l.chargeTokens, l.limits);
            l.chargeCalls = l.chargeTokens = 0;
        } else if (l.chargeCalls > 0 || l.chargeTokens > 0) {
            *wake = std::min(*wake, loop.nextFlush);
        }
        const bool idle = now - l.lastActive >= m_settings.leaseIdle;
        const bool old = now - l.reservedAt >= kLeaseMaxAge;
        if ((l.calls > 0 || l.tokens > 0) && !l.asked && (idle || old)) {
            work.emplace_back(Work::Kind::Release, l.model, l.calls, l.tokens, l.limits, l.bucket);
            l.calls = 0;
            l.tokens = 0;
        } else if (l.calls > 0) {
            *wake = std::min(*wake, std::min(l.lastActive + m_settings.leaseIdle, l.reservedAt + kLeaseMaxAge));
        }
        if (!l.asked)
            continue;
        if (l.retryAt > now) {
            *wake = std::min(*wake, l.retryAt);
            continue;
        }
        const int calls = std::max(1, l.wantCalls - l.calls);
        long long tokens = 0;
        if (l.limits.tpm > 0) {
            // Tokens are held as the pacer holds calls: up to this replica's
            // part of a sixth of a minute's, so packs can be planned full;
            // a pack that needs more asks for it (wantTokens). What is not
            // spent goes back with the lease.
            const long long share = std::max<long long>(1, l.limits.tpm / (6LL * std::max(1, m_status.replicas)));
            tokens = std::clamp<long long>(std::max(l.wantTokens, share) - l.tokens, 0, l.limits.tpm);
        }
        work.emplace_back(Work::Kind::Reserve, l.model, calls, tokens, l.limits);
    }
    for (const Learned &x : m_learnedOut) {
        Work w(Work::Kind::Learn, x.model);
        w.d = x.d;
        w.limit = x.limit;
        w.blocked = x.blocked;
        work.push_back(std::move(w));
    }
    m_learnedOut.clear();
    if (flush)
        loop.nextFlush = now + m_settings.flushEvery;
}

QList<QByteArray> SharedBudget::argsFor(const Work &w) const
{
    switch (w.kind) {
    case Work::Kind::Reserve:
        return {QByteArrayLiteral("reserve"), QByteArray::number(w.calls), QByteArray::number(w.tokens),
                QByteArray::number(w.limits.rpm), QByteArray::number(w.limits.tpm), QByteArray::number(w.limits.rpd),
                QByteArray::number(burstCalls(w.limits.rpm)), m_settings.replicaId};
    case Work::Kind::Charge: {
        QList<QByteArray> args{QByteArrayLiteral("charge"), QByteArray::number(w.limits.rpm)};
        if (w.parts.isEmpty())
            args << QByteArrayLiteral("0") << QByteArray::number(w.calls) << QByteArray::number(w.tokens);
        return args + w.parts;
    }
    case Work::Kind::Release:
        return {QByteArrayLiteral("release"), QByteArray::number(w.calls), QByteArray::number(w.tokens),
                w.bucket.isEmpty() ? QByteArrayLiteral("0") : w.bucket, QByteArray::number(w.limits.rpm)};
    case Work::Kind::Learn:
        return {QByteArrayLiteral("learn"), quotaDimensionName(w.d).toLatin1(), QByteArray::number(w.limit),
                QByteArray::number(duration_cast<milliseconds>(w.blocked).count()), m_settings.replicaId};
    }
    return {};
}

bool SharedBudget::exchange(std::vector<Work> &work, bool beat, long long *replicas, std::vector<Result> &results,
                            size_t *sent, QString *error)
{
    if (beat) {
        const auto r = evalKeys({beatKey()}, beatArgs(), error);
        if (!r || r->elements.isEmpty())
            return false;
        *replicas = r->elements.at(0).toInteger();
    }
    for (size_t i = 0; i < work.size(); ++i, *sent = i) {
        Work &w = work[i];
        const auto t0 = steady_clock::now();
        std::optional<RedisReply> r = eval(w.model, argsFor(w), error);
        // A denied multi-call reservation: one call may still fit now.
        if (r && w.kind == Work::Kind::Reserve && w.calls > 1 && r->elements.size() > 1
            && r->elements.at(0).toInteger() == 0) {
            w.tokens = w.limits.tpm > 0 ? std::max<long long>(1, w.tokens / w.calls) : 0;
            w.calls = 1;
            r = eval(w.model, argsFor(w), error);
        }
        if (!r)
            return false;
        results.push_back({i, std::move(*r), duration<double>(steady_clock::now() - t0).count()});
    }
    return true;
}

bool SharedBudget::applyLocked(const std::vector<Work> &work, const std::vector<Result> &results, Loop &loop)
{
    const SteadyTime now = steady_clock::now();
    bool room = false;
    for (const Result &res : results) {
        const Work &w = work[res.index];
        const QList<RedisReply> &e = res.reply.elements;
        if (w.kind != Work::Kind::Reserve || e.size() < 8)
            continue;
        Lease &l = leaseFor(w.model);
        ++m_status.reserveCount;
        m_status.reserveSecondsSum += res.seconds;
        m_status.reserveSecondsMax = std::max(m_status.reserveSecondsMax, res.seconds);
        for (QuotaDimension d : kDimensions)
            l.clusterUsed[size_t(d)] = e.at(3 + int(d)).toInteger();
        // Either way the planner learns something: a lease, or when to expect
        // one (and may refuse what cannot wait that long).
        room = true;
        if (e.at(0).toInteger() == 1) {
            ++m_status.reservations;
            if (l.calls == 0)
                l.reservedAt = now;
            l.calls += int(w.calls);
            l.tokens += w.tokens;
            l.bucket = e.at(6).text;
            l.retryAt = {};
            if (l.calls >= l.wantCalls && (l.limits.tpm <= 0 || l.tokens >= l.wantTokens)) {
                l.asked = false;
                l.wantTokens = 0;
            }
        } else {
            ++m_status.denials;
            l.retryAt = now + milliseconds(std::max<long long>(1, e.at(1).toInteger()));
            l.binding = QuotaDimension(std::clamp<long long>(e.at(2).toInteger(), 0, kQuotaDimensions - 1));
        }
        adoptLocked(l, e, loop);
    }
    return room;
}

void SharedBudget::adoptLocked(Lease &l, const QList<RedisReply> &reply, Loop &loop)
{
    // A reservation's reply ends with the model's lessons as field/value
    // pairs: "<d>:limit", "<d>:until", "<d>:at", "<d>:by". Each is adopted
    // once, and not by the replica that published it.
    const long long redisNow = reply.at(7).toInteger();
    QHash<QByteArray, QByteArray> learned;
    for (qsizetype i = 8; i + 1 < reply.size(); i += 2)
        learned.insert(reply.at(i).text, reply.at(i + 1).text);
    for (QuotaDimension d : kDimensions) {
        const QByteArray name = quotaDimensionName(d).toLatin1();
        const long long at = learned.value(name + ":at").toLongLong();
        if (at <= l.learnedAt[size_t(d)])
            continue;
        l.learnedAt[size_t(d)] = at;
        if (learned.value(name + ":by") == m_settings.replicaId)
            continue;
        const long long limit = learned.value(name + ":limit").toLongLong();
        const long long until = learned.value(name + ":until").toLongLong();
        if (limit > 0)
            loop.adopt.push_back({l.model, d, limit, milliseconds(std::max<long long>(0, until - redisNow))});
    }
}

void SharedBudget::releaseAllLocked(std::unique_lock<std::mutex> &lock)
{
    // Leases still held go back and spending not recorded yet is, if Redis answers at once.
    if (!m_redis.isConnected())
        return;
    std::vector<Work> work;
    for (auto &l : m_leaseStorage) {
        if (l->calls > 0 || l->tokens > 0)
            work.emplace_back(Work::Kind::Release, l->model, l->calls, l->tokens, l->limits, l->bucket);
        if (l->chargeCalls > 0 || l->chargeTokens > 0)
            work.emplace_back(Work::Kind::Charge, l->model, l->chargeCalls, l->chargeTokens, l->limits);
    }
    lock.unlock();
    QString error;
    for (const Work &w : work) {
        if (!eval(w.model, argsFor(w), &error))
            break;
    }
    m_redis.close();
    lock.lock();
}

QString sharedBudgetStateName(SharedBudget::State state)
{
    switch (state) {
    case SharedBudget::State::Connecting: return QStringLiteral("connecting");
    case SharedBudget::State::Shared: return QStringLiteral("shared");
    case SharedBudget::State::Fallback: return QStringLiteral("fallback");
    }
    return QStringLiteral("connecting");
}

QJsonObject sharedBudgetStatusJson(const SharedBudget::Status &s)
{
    return QJsonObject{
        {QStringLiteral("state"), sharedBudgetStateName(s.state)},
        {QStringLiteral("url"), s.url},
        {QStringLiteral("replicaId"), s.replicaId},
        {QStringLiteral("replicas"), s.replicas},
        {QStringLiteral("shareOf"), s.shareOf},
        {QStringLiteral("stateSeconds"), s.stateSeconds},
        {QStringLiteral("lastError"), s.lastError},
        {QStringLiteral("reservations"), qint64(s.reservations)},
        {QStringLiteral("denials"), qint64(s.denials)},
        {QStringLiteral("errors"), qint64(s.errors)},
        {QStringLiteral("fallbacks"), qint64(s.fallbacks)},
        {QStringLiteral("reserveMeanMs"), s.reserveCount ? 1000.0 * s.reserveSecondsSum / double(s.reserveCount) : 0.0},
        {QStringLiteral("reserveMaxMs"), 1000.0 * s.reserveSecondsMax},
    };
}
