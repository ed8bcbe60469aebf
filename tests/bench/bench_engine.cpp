// bench_engine: throughput and added scheduling delay of BatchInferenceEngine
// with an instant backend, plus engine memory per queued request.
//
// Run on demand:  ./build/release/tests/bench/bench_engine [seconds] [producers]
// Targets (issue 2, 2-core machine): >= 300,000 requests/s; p99 added delay
// <= maxWaitMs + 0.5 ms; <= 1 KiB of engine memory per queued request.

#include "core/engine/batchinferenceengine.h"
#include "core/metrics/latencyhistogram.h"

#include <QCoreApplication>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

using namespace std::chrono;

namespace {

class InstantBackend final : public InferenceBackend
{
public:
    void execute(std::shared_ptr<const Batch> batch, BatchCompletion done) override
    {
        std::vector<InferenceResult> out(batch->members.size());
        done(std::move(out));
    }
};

class HoldBackend final : public InferenceBackend
{
public:
    void execute(std::shared_ptr<const Batch>, BatchCompletion done) override
    {
        std::lock_guard lock(m_mutex);
        m_held.push_back(std::move(done));
    }
    void releaseAll()
    {
        std::vector<BatchCompletion> held;
        {
            std::lock_guard lock(m_mutex);
            held.swap(m_held);
        }
        for (auto &d : held)
            d({InferenceResult{}});
    }

private:
    std::mutex m_mutex;
    std::vector<BatchCompletion> m_held;
};

long rssKiB()
{
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stol(line.substr(6));
    return 0;
}

struct ThroughputResult {
    double requestsPerSecond;
    LatencyHistogram delay;
    double meanBatch;
};

ThroughputResult throughput(int producers, double seconds, const EngineConfig &cfg)
{
    InstantBackend backend;
    BatchInferenceEngine engine(&backend, cfg);
    engine.start();

    constexpr int kWindow = 256; // outstanding requests per producer (closed loop)
    std::atomic<bool> stop{false};
    std::atomic<quint64> completed{0};
    std::vector<LatencyHistogram> delays{size_t(producers)};
    std::vector<std::mutex> delayMutex{size_t(producers)};
    std::vector<std::thread> threads;
    const QByteArray key = "gemini-2.0-flash:generateContent";

    const auto t0 = steady_clock::now();
    for (int p = 0; p < producers; ++p) {
        threads.emplace_back([&, p] {
            std::atomic<int> outstanding{0};
            InferenceRequest r;
            r.model = QStringLiteral("gemini-2.0-flash");
            r.batchKey = key;
            while (!stop.load(std::memory_order_relaxed)) {
                if (outstanding.load(std::memory_order_acquire) >= kWindow) {
                    std::this_thread::yield();
                    continue;
                }
                outstanding.fetch_add(1, std::memory_order_relaxed);
                const auto submitted = steady_clock::now();
                engine.submit(r, [&, p, submitted](InferenceResult) {
                    const auto d = steady_clock::now() - submitted;
                    {
                        std::lock_guard lock(delayMutex[size_t(p)]);
                        delays[size_t(p)].record(d);
                    }
                    completed.fetch_add(1, std::memory_order_relaxed);
                    outstanding.fetch_sub(1, std::memory_order_release);
                });
            }
            while (outstanding.load() > 0)
                std::this_thread::yield();
        });
    }
    std::this_thread::sleep_for(duration<double>(seconds));
    const quint64 done = completed.load();
    const auto elapsed = duration<double>(steady_clock::now() - t0).count();
    stop = true;
    for (auto &t : threads)
        t.join();

    ThroughputResult res;
    res.requestsPerSecond = double(done) / elapsed;
    for (auto &h : delays)
        res.delay.merge(h);
    const EngineCounters c = engine.counters();
    res.meanBatch = c.batchesDispatched ? double(c.completed) / double(c.batchesDispatched) : 0;
    if (!c.invariantHolds())
        std::fprintf(stderr, "ACCOUNTING INVARIANT BROKEN\n");
    return res;
}

// Open loop: producers submit at a fixed total rate (bursts every 200 µs),
// so the measured delay is the engine's (batch fill + scheduling), not
// queueing behind a saturated closed loop.
ThroughputResult paced(int producers, double seconds, double rate, const EngineConfig &cfg)
{
    InstantBackend backend;
    BatchInferenceEngine engine(&backend, cfg);
    engine.start();
    std::atomic<quint64> completed{0};
    std::vector<LatencyHistogram> delays{size_t(producers)};
    std::vector<std::mutex> delayMutex{size_t(producers)};
    std::vector<std::thread> threads;
    const auto tick = microseconds(200);
    const double perTick = rate / producers * duration<double>(tick).count();
    const auto t0 = steady_clock::now();
    const auto end = t0 + duration_cast<steady_clock::duration>(duration<double>(seconds));
    for (int p = 0; p < producers; ++p) {
        threads.emplace_back([&, p] {
            InferenceRequest r;
            r.model = QStringLiteral("gemini-2.0-flash");
            r.batchKey = "gemini-2.0-flash:generateContent";
            double owed = 0;
            for (auto next = t0; next < end; next += tick) {
                std::this_thread::sleep_until(next);
                owed += perTick;
                for (; owed >= 1.0; owed -= 1.0) {
                    const auto submitted = steady_clock::now();
                    engine.submit(r, [&, p, submitted](InferenceResult) {
                        const auto d = steady_clock::now() - submitted;
                        std::lock_guard lock(delayMutex[size_t(p)]);
                        delays[size_t(p)].record(d);
                        completed.fetch_add(1, std::memory_order_relaxed);
                    });
                }
            }
        });
    }
    for (auto &t : threads)
        t.join();
    engine.drain();
    while (engine.counters().queued + engine.counters().inflight > 0)
        std::this_thread::yield();
    ThroughputResult res;
    res.requestsPerSecond = double(completed.load()) / seconds;
    for (auto &h : delays)
        res.delay.merge(h);
    const EngineCounters c = engine.counters();
    res.meanBatch = c.batchesDispatched ? double(c.completed) / double(c.batchesDispatched) : 0;
    return res;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const double seconds = argc > 1 ? std::atof(argv[1]) : 5.0;
    const int producers = argc > 2 ? std::atoi(argv[2]) : 8;

    std::printf("bench_engine: %d producers, instant backend, %.1f s per run, %u hardware threads\n\n", producers,
                seconds, std::thread::hardware_concurrency());
    std::printf("saturated throughput (closed loop, 256 outstanding per producer; delay includes queueing):\n");
    std::printf("%-10s %-8s %14s %10s %10s %10s %10s %10s\n", "maxBatch", "maxWait", "requests/s", "meanBatch",
                "p50 ms", "p99 ms", "p99.9 ms", "target p99");
    for (int maxBatch : {16, 64}) {
        for (int maxWait : {1, 5}) {
            EngineConfig cfg;
            cfg.maxBatchSize = maxBatch;
            cfg.maxWaitMs = maxWait;
            cfg.maxQueue = 1000000;
            cfg.maxInflightBatches = 64;
            const ThroughputResult r = throughput(producers, seconds, cfg);
            std::printf("%-10d %-8d %14.0f %10.1f %10.3f %10.3f %10.3f %10.1f\n", maxBatch, maxWait,
                        r.requestsPerSecond, r.meanBatch, double(r.delay.quantileNs(0.5)) / 1e6,
                        double(r.delay.quantileNs(0.99)) / 1e6, double(r.delay.quantileNs(0.999)) / 1e6,
                        maxWait + 0.5);
            std::fflush(stdout);
        }
    }

    std::printf("\nadded delay at a fixed offered rate (open loop, %d producers):\n", producers);
    std::printf("%-10s %-8s %14s %10s %10s %10s %10s %10s\n", "maxBatch", "maxWait", "offered/s", "meanBatch",
                "p50 ms", "p99 ms", "p99.9 ms", "target p99");
    for (double rate : {100000.0, 300000.0}) {
        for (int maxWait : {1, 5}) {
            EngineConfig cfg;
            cfg.maxBatchSize = 16;
            cfg.maxWaitMs = maxWait;
            cfg.maxQueue = 1000000;
            cfg.maxInflightBatches = 64;
            const ThroughputResult r = paced(producers, seconds, rate, cfg);
            std::printf("%-10d %-8d %14.0f %10.1f %10.3f %10.3f %10.3f %10.1f\n", 16, maxWait, rate, r.meanBatch,
                        double(r.delay.quantileNs(0.5)) / 1e6, double(r.delay.quantileNs(0.99)) / 1e6,
                        double(r.delay.quantileNs(0.999)) / 1e6, maxWait + 0.5);
            std::fflush(stdout);
        }
    }

    // Memory per queued request: hold the only in-flight slot, queue N
    // requests with empty bodies and a shared key, and compare RSS.
    constexpr int kQueued = 200000;
    HoldBackend hold;
    EngineConfig cfg;
    cfg.maxBatchSize = 1;
    cfg.maxWaitMs = 0;
    cfg.maxQueue = kQueued + 10;
    cfg.maxInflightBatches = 1;
    {
        BatchInferenceEngine engine(&hold, cfg);
        engine.start();
        InferenceRequest r;
        r.model = QStringLiteral("gemini-2.0-flash");
        r.batchKey = "gemini-2.0-flash:generateContent";
        engine.submit(r, [](InferenceResult) {}); // takes the only slot
        while (engine.counters().inflightBatches == 0)
            std::this_thread::yield();
        const long before = rssKiB();
        for (int i = 0; i < kQueued; ++i)
            engine.submit(r, [](InferenceResult) {});
        const long after = rssKiB();
        std::printf("\nmemory: %d queued requests, RSS +%ld KiB = %.0f bytes per queued request (target <= 1024)\n",
                    kQueued, after - before, double(after - before) * 1024.0 / kQueued);
        engine.drain();
        for (int i = 0; i < kQueued + 1; ++i) {
            hold.releaseAll();
            if (engine.counters().inflight + engine.counters().queued == 0)
                break;
            std::this_thread::yield();
        }
    }
    return 0;
}
