// bench_budgetstore: what the shared upstream budget (--budget-store,
// SharedBudget) costs a dispatch. Prints two tables; not a test.
//
// Usage: bench_budgetstore [--redis redis://HOST:PORT/DB] [--n N]
//   Without --redis it starts a redis-server of its own on a free port of
//   127.0.0.1 (no persistence) and kills it at the end. N: samples per row
//   (default 5000).
//
// (a) Round trips to Redis, measured on this thread over RedisConnection
//     (hiredis, synchronous, as SharedBudget's thread talks to Redis): PING
//     as the floor, then sharedbudget.lua's operations by EVALSHA under keys
//     of their own: a reservation of one call (rpm 6,000,000: never denied),
//     one into a minute window that holds 240 quarter-second buckets (a busy
//     cluster's minute), one refused by a full window (the refusal computes
//     when the call would fit), a charge and a release.
// (b) What a dispatch waits for: UpstreamBudget::room() says 0 calls
//     because the replica's lease is empty, and the time until SharedBudget's
//     roomChanged callback says a lease landed (the engine is woken by it).
//     Three rows: back-to-back dispatches of one model (each charge() asks
//     one call ahead; a dispatch right after it finds that call still on its
//     way, so it waits the rest of a round trip),
//     the same with two replicas on one model, and a model's first dispatch
//     (nothing asked yet, SharedBudget's thread idle: the whole wake-up,
//     round trip and callback; 1000 models, so its loop walks up to 1000
//     leases per wake-up).

#include "core/quota/redisconnection.h"
#include "core/quota/sharedbudget.h"
#include "core/quota/upstreambudget.h"
#include "tests/support/redisserver.h"

#include <QCoreApplication>
#include <QFile>
#include <QLoggingCategory>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

using namespace std::chrono;

namespace {

const QString kModel = QStringLiteral("gemini-2.0-flash");

struct Figures {
    double p50 = 0, p99 = 0, max = 0, mean = 0; // microseconds
    size_t count = 0;
};

Figures figures(std::vector<double> us)
{
    Figures f;
    f.count = us.size();
    if (us.empty())
        return f;
    std::sort(us.begin(), us.end());
    const auto at = [&](double q) { return us[std::min(us.size() - 1, size_t(q * double(us.size())))]; };
    f.p50 = at(0.50);
    f.p99 = at(0.99);
    f.max = us.back();
    double sum = 0;
    for (double v : us)
        sum += v;
    f.mean = sum / double(us.size());
    return f;
}

void printRow(const char *name, const Figures &f, const QString &note = {})
{
    std::printf("  %-44s %6zu %8.1f %8.1f %8.1f %9.1f  %s\n", name, f.count, f.p50, f.p99, f.max, f.mean, qPrintable(note));
}

double usSince(steady_clock::time_point t0)
{
    return duration<double, std::micro>(steady_clock::now() - t0).count();
}

// (a): one operation of the script, `n` times; `args` gets the keys of `prefix`.
struct ScriptBench {
    RedisConnection &redis;
    QByteArray sha;
    int n;

    QList<QByteArray> keys(const QByteArray &prefix) const
    {
        const QByteArray base = prefix + '{' + kModel.toUtf8() + "}:";
        return {base + "rpm:b", base + "rpm:a", base + "tpm:b", base + "tpm:a", base + "rpd:b", base + "rpd:a",
                base + "pace", base + "learned"};
    }
    std::optional<RedisReply> eval(const QByteArray &prefix, const QList<QByteArray> &args)
    {
        QString error;
        QList<QByteArray> cmd{QByteArrayLiteral("EVALSHA"), sha, QByteArrayLiteral("8")};
        cmd += keys(prefix);
        cmd += args;
        std::optional<RedisReply> r = redis.command(cmd, &error);
        if (!r || r->isError()) {
            std::fprintf(stderr, "EVALSHA failed: %s\n", r ? r->text.constData() : qPrintable(error));
            std::exit(1);
        }
        return r;
    }
    // Returns the latencies and counts the granted reservations in `granted`.
    std::vector<double> run(const QByteArray &prefix, const QList<QByteArray> &args, int *granted = nullptr)
    {
        std::vector<double> us;
        us.reserve(size_t(n));
        for (int i = 0; i < n; ++i) {
            const auto t0 = steady_clock::now();
            const std::optional<RedisReply> r = eval(prefix, args);
            us.push_back(usSince(t0));
            if (granted && !r->elements.isEmpty() && r->elements.at(0).toInteger() == 1)
                ++*granted;
        }
        return us;
    }
};

// (b): one replica's budget with its SharedBudget, and the roomChanged count to wait on.
struct Replica {
    UpstreamBudget budget;
    std::unique_ptr<SharedBudget> shared;
    std::mutex mutex;
    std::condition_variable cv;
    quint64 changes = 0;

    Replica(const RedisUrl &url, const QByteArray &prefix)
        : budget(Clock::steady(), [] {
              ModelBudget::Settings s;
              s.configured.rpm = 6000000;
              s.probeStartRpm = 0;
              return s;
          }())
    {
        SharedBudget::Settings ss;
        ss.url = url;
        ss.keyPrefix = prefix;
        shared = std::make_unique<SharedBudget>(ss, budget.sharedCallbacks([this] {
            {
                std::lock_guard lock(mutex);
                ++changes;
            }
            cv.notify_all();
        }));
        budget.setShared(shared.get());
        shared->start();
    }
    ~Replica()
    {
        budget.setShared(nullptr);
        shared.reset();
    }
    bool waitShared()
    {
        for (int i = 0; i < 500 && !shared->shared(); ++i)
            std::this_thread::sleep_for(10ms);
        return shared->shared();
    }

    struct Result {
        std::vector<double> waits; // µs from room() == 0 to roomChanged
        int atOnce = 0;            // dispatches that found calls in the lease
        int timeouts = 0;
    };
    // `n` dispatches of one call each, cycling through `models` model names.
    // `settle`: after each, wait until the call it asks ahead has landed, so
    // the next dispatch's ask finds SharedBudget's thread idle.
    Result dispatch(int n, int models, bool settle = false)
    {
        Result res;
        res.waits.reserve(size_t(n));
        for (int i = 0; i < n; ++i) {
            const QString model = models == 1 ? kModel : QStringLiteral("model-%1").arg(i % models);
            quint64 seen;
            {
                std::lock_guard lock(mutex);
                seen = changes;
            }
            ModelBudget::Room room = budget.room(model, 1);
            if (room.calls > 0) {
                ++res.atOnce;
            } else {
                const auto t0 = steady_clock::now();
                while (room.calls <= 0) {
                    std::unique_lock lock(mutex);
                    if (!cv.wait_for(lock, 2s, [&] { return changes != seen; })) {
                        ++res.timeouts;
                        break;
                    }
                    seen = changes;
                    lock.unlock();
                    room = budget.room(model, 1);
                }
                res.waits.push_back(usSince(t0));
            }
            if (room.calls <= 0)
                continue;
            {
                std::lock_guard lock(mutex);
                seen = changes;
            }
            budget.charge(model, 1, 0);
            if (settle) {
                std::unique_lock lock(mutex);
                cv.wait_for(lock, 2s, [&] { return changes != seen; });
            }
        }
        return res;
    }
};

QString reserveNote(const SharedBudget::Status &s)
{
    return QStringLiteral("SharedBudget's own timing: %1 reservations, mean %2 µs, max %3 µs")
        .arg(s.reserveCount)
        .arg(s.reserveCount ? 1e6 * s.reserveSecondsSum / double(s.reserveCount) : 0.0, 0, 'f', 1)
        .arg(1e6 * s.reserveSecondsMax, 0, 'f', 1);
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QLoggingCategory::setFilterRules(QStringLiteral("sluice.budget.info=false")); // the figures only
    const QStringList args = app.arguments();
    int n = 5000;
    QString redisText;
    for (qsizetype i = 1; i < args.size(); ++i) {
        if (args[i] == u"--redis" && i + 1 < args.size()) {
            redisText = args[++i];
        } else if (args[i] == u"--n" && i + 1 < args.size()) {
            n = std::max(100, args[++i].toInt());
        } else {
            std::fprintf(stderr, "usage: bench_budgetstore [--redis redis://HOST:PORT/DB] [--n N]\n");
            return 2;
        }
    }

    RedisServer own; // unless --redis names one
    RedisUrl url;
    if (!redisText.isEmpty()) {
        QString error;
        const std::optional<RedisUrl> parsed = RedisUrl::parse(redisText, &error);
        if (!parsed) {
            std::fprintf(stderr, "%s\n", qPrintable(error));
            return 2;
        }
        url = *parsed;
    } else {
        QString why;
        if (!own.start(0, &why)) {
            std::fprintf(stderr, "%s; or pass --redis URL\n", qPrintable(why));
            return 1;
        }
        url = own.url();
    }

    RedisConnection redis;
    QString error;
    if (!redis.connect(url, 2s, &error)) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    QFile script(QStringLiteral(":/quota/sharedbudget.lua"));
    if (!script.open(QIODevice::ReadOnly)) {
        std::fprintf(stderr, "sharedbudget.lua is not among the resources\n");
        return 1;
    }
    const std::optional<RedisReply> load = redis.command({QByteArrayLiteral("SCRIPT"), QByteArrayLiteral("LOAD"), script.readAll()}, &error);
    if (!load || load->isError()) {
        std::fprintf(stderr, "SCRIPT LOAD failed: %s\n", load ? load->text.constData() : qPrintable(error));
        return 1;
    }
    QByteArray version;
    if (const auto info = redis.command({QByteArrayLiteral("INFO"), QByteArrayLiteral("server")}, &error)) {
        for (const QByteArray &line : info->text.split('\n'))
            if (line.startsWith("redis_version:"))
                version = line.mid(14).trimmed();
    }
    // Keys of this run only (a shared --redis keeps others' keys apart).
    const QByteArray run = "bench:budgetstore:" + QByteArray::number(QCoreApplication::applicationPid()) + ':';

    std::printf("bench_budgetstore: Redis %s at %s, %d samples per row, %u cores\n", version.constData(),
                qPrintable(url.display()), n, std::thread::hardware_concurrency());
    std::printf("\n(a) one round trip, this thread -> Redis (hiredis, synchronous), microseconds\n");
    std::printf("  %-44s %6s %8s %8s %8s %9s\n", "operation", "n", "p50", "p99", "max", "mean");

    {
        std::vector<double> us;
        for (int i = 0; i < n; ++i) {
            const auto t0 = steady_clock::now();
            if (!redis.command({QByteArrayLiteral("PING")}, &error)) {
                std::fprintf(stderr, "PING: %s\n", qPrintable(error));
                return 1;
            }
            us.push_back(usSince(t0));
        }
        printRow("PING (the floor)", figures(us));
    }
    ScriptBench sb{redis, load->text, n};
    const QList<QByteArray> reserveOne{"reserve", "1", "0", "6000000", "0", "0", "1000000"};
    {
        int granted = 0;
        const Figures f = figures(sb.run(run + "a:", reserveOne, &granted));
        printRow("reserve 1 call (empty window)", f, QStringLiteral("%1 granted").arg(granted));
    }
    // A busy cluster's minute: 240 quarter-second buckets of 10 calls each.
    const auto fillMinute = [&](const QByteArray &prefix) {
        QList<QByteArray> charge{"charge", "0"};
        for (int i = 240; i >= 1; --i)
            charge << QByteArray::number(i * 250) << "10" << "0";
        sb.eval(prefix, charge);
    };
    {
        fillMinute(run + "b:");
        int granted = 0;
        const Figures f = figures(sb.run(run + "b:", reserveOne, &granted));
        printRow("reserve 1 call (240 buckets in the minute)", f, QStringLiteral("%1 granted").arg(granted));
    }
    {
        fillMinute(run + "c:");
        int granted = 0;
        const QList<QByteArray> overLimit{"reserve", "1", "0", "2400", "0", "0", "400"};
        const Figures f = figures(sb.run(run + "c:", overLimit, &granted));
        printRow("reserve 1 call, refused (minute full)", f, QStringLiteral("%1 granted").arg(granted));
    }
    printRow("charge 1 call", figures(sb.run(run + "d:", {"charge", "6000000", "0", "1", "0"})));
    {
        // Each release gives back the call of a reservation just made.
        std::vector<double> us;
        for (int i = 0; i < n; ++i) {
            const std::optional<RedisReply> r = sb.eval(run + "e:", reserveOne);
            const QByteArray bucket = r->elements.value(6).text;
            const auto t0 = steady_clock::now();
            sb.eval(run + "e:", {"release", "1", "0", bucket, "6000000"});
            us.push_back(usSince(t0));
        }
        printRow("release 1 call", figures(us));
    }

    std::printf("\n(b) a dispatch that finds its lease empty: room() == 0 until roomChanged, microseconds\n");
    std::printf("  %-44s %6s %8s %8s %8s %9s\n", "case", "waits", "p50", "p99", "max", "mean");
    {
        Replica r(url, run + "f:");
        if (!r.waitShared()) {
            std::fprintf(stderr, "SharedBudget did not reach Redis: %s\n", qPrintable(r.shared->status().lastError));
            return 1;
        }
        const Replica::Result res = r.dispatch(n, 1);
        printRow("back-to-back, 1 replica", figures(res.waits),
                 QStringLiteral("%1 of %2 found the lease filled; %3 timeouts").arg(res.atOnce).arg(n).arg(res.timeouts));
        std::printf("  %-44s %s\n", "", qPrintable(reserveNote(r.shared->status())));
    }
    {
        Replica r1(url, run + "g:");
        Replica r2(url, run + "g:");
        if (!r1.waitShared() || !r2.waitShared())
            return 1;
        Replica::Result res1, res2;
        std::thread other([&] { res2 = r2.dispatch(n, 1); });
        res1 = r1.dispatch(n, 1);
        other.join();
        std::vector<double> both = res1.waits;
        both.insert(both.end(), res2.waits.begin(), res2.waits.end());
        printRow("back-to-back, 2 replicas on one model", figures(both),
                 QStringLiteral("%1 of %2 found the lease filled; %3 timeouts")
                     .arg(res1.atOnce + res2.atOnce)
                     .arg(2 * n)
                     .arg(res1.timeouts + res2.timeouts));
    }
    {
        // Each model's first dispatch: nothing reserved or asked before it.
        const int models = std::min(n, 1000);
        Replica r(url, run + "h:");
        if (!r.waitShared())
            return 1;
        const Replica::Result res = r.dispatch(models, models, true);
        printRow("first dispatch of a model (cold)", figures(res.waits),
                 QStringLiteral("%1 models; %2 timeouts").arg(models).arg(res.timeouts));
        std::printf("  %-44s %s\n", "", qPrintable(reserveNote(r.shared->status())));
    }

    // Leave a shared --redis as found.
    for (const char *p : {"a:", "b:", "c:", "d:", "e:", "f:", "g:", "h:"}) {
        const auto keys = redis.command({QByteArrayLiteral("KEYS"), run + p + '*'}, &error);
        if (keys && !keys->elements.isEmpty()) {
            QList<QByteArray> del{QByteArrayLiteral("DEL")};
            for (const RedisReply &k : keys->elements)
                del << k.text;
            redis.command(del, &error);
        }
    }
    return 0;
}
