// bench_geminiclient: upstream calls/s and CPU per call from GeminiClient to
// an in-process GeminiSimulator at zero latency (HTTP/1.1 over loopback), per
// transport (qnam: QNetworkAccessManager; native: Http1ConnectionPool), for
// 1 worker and for the worker count the transport's sizing gives. Prints
// figures; not a test.
//
// Usage: bench_geminiclient [seconds per run, default 3] [in-flight calls, default 64]
//                           [qnam|native|both, default both]
//
// CPU is read per thread from /proc/self/task: "client" is every thread but
// the simulator's ("sluice-simulato…"), so it includes the workers, Qt's
// per-manager HTTP threads and the driver; "process" is getrusage(RUSAGE_SELF).

#include "core/gemini/geminiclient.h"
#include "server/simulator/geminisimulator.h"
#include "tests/bench/benchcpu.h"
#include "tests/support/userturn.h"

#include <QCoreApplication>
#include <QThread>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>

using namespace std::chrono;

namespace {

const char *transportName(UpstreamTransport t)
{
    return t == UpstreamTransport::Native ? "native" : "qnam";
}

struct Run {
    int workers = 0;
    qint64 calls = 0;
    qint64 errors = 0;
    double seconds = 0;
    double processCpu = 0;
    double simCpu = 0;
};

Run runOnce(const QUrl &base, UpstreamTransport transport, int workers, int inflight, double seconds)
{
    GeminiClientConfig cfg;
    cfg.baseUrl = base;
    cfg.transport = transport;
    cfg.workers = workers;
    cfg.breaker.failureThreshold = 1000000;
    GeminiClient client(cfg);

    std::atomic<bool> stop{false};
    std::atomic<qint64> done{0}, errors{0};
    std::atomic<int> outstanding{0};
    const QJsonObject b = userText(QStringLiteral("ping"));
    std::function<void()> issue = [&] {
        outstanding.fetch_add(1);
        client.call(Operation::GenerateContent, QStringLiteral("gemini-2.0-flash"), b, steady_clock::now() + 30s,
                    [&](InferenceResult r) {
                        done.fetch_add(1);
                        if (!r.status.ok())
                            errors.fetch_add(1);
                        if (!stop.load())
                            issue();
                        outstanding.fetch_sub(1);
                    });
    };

    // Warm-up: open the connections before measuring.
    for (int i = 0; i < inflight; ++i)
        issue();
    QThread::msleep(500);

    const qint64 calls0 = done.load();
    const double cpu0 = BenchCpu::processSeconds();
    const double sim0 = BenchCpu::threadSeconds("sluice-simulato");
    const auto t0 = steady_clock::now();
    QThread::msleep(static_cast<unsigned long>(seconds * 1000));
    Run r;
    r.workers = client.workerCount();
    r.calls = done.load() - calls0;
    r.seconds = duration<double>(steady_clock::now() - t0).count();
    r.processCpu = BenchCpu::processSeconds() - cpu0;
    r.simCpu = BenchCpu::threadSeconds("sluice-simulato") - sim0;
    stop.store(true);
    while (outstanding.load() > 0)
        QThread::msleep(10);
    r.errors = errors.load();
    return r;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const double seconds = argc > 1 ? QByteArray(argv[1]).toDouble() : 3.0;
    const int inflight = argc > 2 ? QByteArray(argv[2]).toInt() : 64;
    const QByteArray which = argc > 3 ? QByteArray(argv[3]) : QByteArrayLiteral("both");
    QList<UpstreamTransport> transports;
    if (which == "qnam" || which == "both")
        transports.append(UpstreamTransport::Qnam);
    if (which == "native" || which == "both")
        transports.append(UpstreamTransport::Native);
    if (transports.isEmpty()) {
        std::fprintf(stderr, "transport: qnam, native or both\n");
        return 2;
    }

    SimulatorConfig sc;
    sc.baseLatencyMs = 0;
    sc.tokensPerSecond = 0;
    sc.jitterSigma = 0;
    sc.maxConcurrent = 1024;
    sc.responseWords = 8;
    GeminiSimulator sim(sc);
    if (!sim.start()) {
        std::fprintf(stderr, "simulator: %s\n", qPrintable(sim.errorString()));
        return 1;
    }

    std::printf("bench_geminiclient: zero-latency GeminiSimulator on %s, HTTP/1.1, %d calls in flight, %.1f s per run, %ld CPUs\n",
                qPrintable(sim.baseUrl().toString()), inflight, seconds, sysconf(_SC_NPROCESSORS_ONLN));
    std::printf("%9s %8s %10s %10s %14s %14s %14s %7s\n", "transport", "workers", "calls", "calls/s",
                "process us/call", "sim us/call", "client us/call", "errors");
    for (UpstreamTransport transport : transports) {
        GeminiClientConfig sizing;
        sizing.baseUrl = sim.baseUrl();
        sizing.transport = transport;
        sizing.concurrency = inflight;
        const int n = sizing.effectiveWorkers();
        QList<int> counts{1};
        if (n != 1)
            counts.append(n);
        for (int workers : counts) {
            const Run r = runOnce(sim.baseUrl(), transport, workers, inflight, seconds);
            const double per = r.calls > 0 ? 1e6 / double(r.calls) : 0;
            std::printf("%9s %8d %10lld %10.0f %14.1f %14.1f %14.1f %7lld\n", transportName(transport), r.workers,
                        static_cast<long long>(r.calls), double(r.calls) / r.seconds, r.processCpu * per,
                        r.simCpu * per, (r.processCpu - r.simCpu) * per, static_cast<long long>(r.errors));
        }
    }
    sim.stop();
    return 0;
}
