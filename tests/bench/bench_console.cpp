// bench_console: what the console costs the gateway. The same closed-loop
// load goes through the engine's submit path (BatchInferenceEngine +
// GeminiClient + a zero-latency GeminiSimulator over loopback) once with no
// window and once with the MainWindow shown at 1400x900 and its charts
// redrawing from the collector's 4 Hz snapshots. Runs alternate
// (without, with, without, with, ...) to spread machine noise over both.
// Prints figures; not a test.
//
// Usage: bench_console [seconds per run, default 5] [outstanding requests, default 256] [rounds, default 2]
// Uses the offscreen platform unless QT_QPA_PLATFORM is set (painting is
// real raster work either way; no compositor or GPU involved).

#include "core/engine/batchinferenceengine.h"
#include "core/gemini/geminiclient.h"
#include "core/metrics/inferencemetricscollector.h"
#include "core/metrics/latencyhistogram.h"
#include "server/simulator/geminisimulator.h"
#include "tests/bench/benchcpu.h"
#include "tests/support/userturn.h"
#include "ui/charts/metricscharts.h"
#include "ui/mainwindow.h"

#include <QApplication>
#include <QEventLoop>
#include <QStandardPaths>
#include <QTimer>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>

using namespace std::chrono;

namespace {

InferenceRequest request(int i)
{
    InferenceRequest r;
    r.model = QStringLiteral("gemini-2.0-flash");
    r.body = userText(QStringLiteral("ping %1").arg(i % 64));
    return r;
}

struct Result {
    double rps = 0;
    double p50Ms = 0;
    double p99Ms = 0;
    double cpu = 0;
    quint64 errors = 0;
    quint64 redraws = 0;
};

void spin(double seconds)
{
    QEventLoop loop;
    QTimer::singleShot(int(seconds * 1000), &loop, &QEventLoop::quit);
    loop.exec();
}

Result runOnce(const QUrl &upstream, bool console, double seconds, int outstandingTarget)
{
    GeminiClientConfig cc;
    cc.baseUrl = upstream;
    cc.concurrency = 64;
    cc.breaker.failureThreshold = 1000000;
    GeminiClient client(cc);
    InferenceMetricsCollector metrics; // publishes at 4 Hz in both runs, as in the app
    EngineConfig ec;
    ec.maxQueue = 100000;
    BatchInferenceEngine engine(&client, ec, Clock::steady(), &metrics);
    metrics.setGaugeSource([&engine] { return engine.gauges(); });
    engine.start();

    std::unique_ptr<MainWindow> window;
    if (console) {
        ConsoleInfo info;
        info.listeningUrl = QUrl(QStringLiteral("http://127.0.0.1:8080"));
        info.dashboardUrl = QUrl(QStringLiteral("http://127.0.0.1:8080/"));
        info.model = QStringLiteral("gemini-2.0-flash");
        window = std::make_unique<MainWindow>(ConsoleDeps{&engine, &metrics}, info);
        window->resize(1400, 900);
        window->show();
        window->charts()->setWindowSeconds(30);
    }

    AtomicLatencyHistogram hist;
    std::atomic<bool> measuring{false}, stop{false};
    std::atomic<quint64> done{0}, errors{0};
    std::atomic<int> outstanding{0};
    std::thread producer([&] {
        int i = 0;
        while (!stop.load(std::memory_order_relaxed)) {
            if (outstanding.load(std::memory_order_relaxed) >= outstandingTarget) {
                std::this_thread::sleep_for(200us);
                continue;
            }
            outstanding.fetch_add(1);
            engine.submit(request(i++), [&](InferenceResult r) {
                if (measuring.load(std::memory_order_relaxed)) {
                    done.fetch_add(1, std::memory_order_relaxed);
                    if (r.status.ok())
                        hist.record(r.totalTime);
                    else
                        errors.fetch_add(1, std::memory_order_relaxed);
                }
                outstanding.fetch_sub(1);
            });
        }
    });

    spin(1.0); // warm-up: connections open, charts have history
    const quint64 redraws0 = window ? window->charts()->redraws() : 0;
    const double cpu0 = BenchCpu::processSeconds();
    const auto t0 = steady_clock::now();
    measuring.store(true);
    spin(seconds);
    measuring.store(false);
    Result r;
    const double elapsed = duration<double>(steady_clock::now() - t0).count();
    r.cpu = BenchCpu::processSeconds() - cpu0;
    r.rps = double(done.load()) / elapsed;
    r.errors = errors.load();
    r.redraws = window ? window->charts()->redraws() - redraws0 : 0;
    LatencyHistogram h;
    hist.addTo(h);
    r.p50Ms = double(h.quantileNs(0.50)) / 1e6;
    r.p99Ms = double(h.quantileNs(0.99)) / 1e6;

    stop.store(true);
    producer.join();
    while (outstanding.load() > 0)
        spin(0.01);
    metrics.setPublishInterval(0ms);
    window.reset();
    metrics.setGaugeSource({});
    engine.stop();
    return r;
}

} // namespace

int main(int argc, char **argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QStandardPaths::setTestModeEnabled(true); // never touch the user's console settings
    const double seconds = argc > 1 ? QByteArray(argv[1]).toDouble() : 5.0;
    const int outstanding = argc > 2 ? QByteArray(argv[2]).toInt() : 256;
    const int rounds = argc > 3 ? QByteArray(argv[3]).toInt() : 2;

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
    std::printf("bench_console: engine (default knobs, pack mode) + GeminiClient + zero-latency GeminiSimulator on %s,\n"
                "  %d requests outstanding, %.1f s per run, %d rounds, %ld CPUs, platform %s\n",
                qPrintable(sim.baseUrl().toString()), outstanding, seconds, rounds, sysconf(_SC_NPROCESSORS_ONLN),
                qPrintable(QGuiApplication::platformName()));
    std::printf("%-22s %10s %9s %9s %11s %8s %8s\n", "run", "req/s", "p50 ms", "p99 ms", "CPU s/s", "redraws", "errors");
    double sum[2] = {0, 0}, p99[2] = {0, 0};
    for (int round = 0; round < rounds; ++round) {
        for (int console = 0; console < 2; ++console) {
            const Result r = runOnce(sim.baseUrl(), console == 1, seconds, outstanding);
            sum[console] += r.rps;
            p99[console] += r.p99Ms;
            std::printf("%-22s %10.0f %9.2f %9.2f %11.2f %8llu %8llu\n",
                        console ? "console + charts" : "no console", r.rps, r.p50Ms, r.p99Ms, r.cpu / seconds,
                        static_cast<unsigned long long>(r.redraws), static_cast<unsigned long long>(r.errors));
            std::fflush(stdout);
        }
    }
    const double without = sum[0] / rounds, with = sum[1] / rounds;
    std::printf("mean: no console %.0f req/s (p99 %.2f ms); console %.0f req/s (p99 %.2f ms); console costs %.1f %% of throughput\n",
                without, p99[0] / rounds, with, p99[1] / rounds, (without - with) / without * 100.0);
    sim.stop();
    return 0;
}
