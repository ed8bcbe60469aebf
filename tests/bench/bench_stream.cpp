// bench_stream: what GET /api/v1/stream costs the gateway (prints figures; not a test).
//
//   bench_stream [clients=200] [seconds=10] [rateHz=4]
//
// One process: GeminiSimulator (zero latency) ← GeminiClient ← engine ←
// GatewayServer, and `clients` QWebSocket clients on their own thread.
// Phases (each `seconds` long):
//   A idle, no stream clients       B idle, `clients` clients
//   C wrk load, no clients          D wrk load, `clients` clients
// Reported: CPU of the gateway's "sluice-server" thread (from
// /proc/self/task/*/stat; it serves HTTP and the stream; also per snapshot
// delivered, from phases A and B) and of the whole
// process (getrusage, includes the clients and the simulator), of the
// in-process clients' thread (their cost competes for the same cores), snapshots
// received per client per second, and wrk's req/s for C and D
// (wrk -t1 -c32 with tests/bench/generate.lua, a separate process).
#include "core/engine/batchinferenceengine.h"
#include "core/gemini/geminiclient.h"
#include "core/metrics/inferencemetricscollector.h"
#include "core/metrics/metricssnapshot.h"
#include "server/gatewayserver.h"
#include "server/simulator/geminisimulator.h"
#include "server/stream/metricsstream.h"
#include "tests/bench/benchcpu.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QProcess>
#include <QRegularExpression>
#include <QThread>
#include <QTimer>
#include <QWebSocket>

#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace {

void wait(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

class Clients : public QObject
{
public:
    std::atomic<quint64> snapshots{0};
    std::atomic<int> open{0};
    void start(const QUrl &url, int n)
    {
        for (int i = 0; i < n; ++i) {
            auto *ws = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
            connect(ws, &QWebSocket::connected, this, [this] { ++open; });
            connect(ws, &QWebSocket::textMessageReceived, this, [this](const QString &m) {
                if (m.startsWith(QLatin1String("{\"snapshot\"")) || m.contains(QLatin1String("\"type\":\"snapshot\"")))
                    ++snapshots;
            });
            ws->open(url);
        }
    }
    void stop() { qDeleteAll(findChildren<QWebSocket *>()); open = 0; }
};

struct Phase {
    double serverCpu = 0, processCpu = 0, clientsCpu = 0, seconds = 0, snapshotsPerClientPerSecond = 0, rps = 0;
};

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const int nClients = argc > 1 ? atoi(argv[1]) : 200;
    const int seconds = argc > 2 ? atoi(argv[2]) : 10;
    const double rateHz = argc > 3 ? atof(argv[3]) : 4;

    SimulatorConfig sc;
    sc.baseLatencyMs = 0;
    sc.tokensPerSecond = 0;
    sc.jitterSigma = 0;
    sc.maxConcurrent = 1024;
    GeminiSimulator sim(sc);
    if (!sim.start()) {
        fprintf(stderr, "simulator: %s\n", qPrintable(sim.errorString()));
        return 1;
    }
    GeminiClientConfig cc;
    cc.baseUrl = sim.baseUrl();
    cc.concurrency = 64;
    GeminiClient client(cc);
    InferenceMetricsCollector metrics;
    EngineConfig ec;
    BatchInferenceEngine engine(&client, ec, Clock::steady(), &metrics);
    metrics.setGaugeSource([&engine] { return engine.gauges(); });
    engine.start();
    GatewayOptions o;
    o.port = 0;
    o.streamRateHz = rateHz;
    GatewayServer gateway(GatewayDeps{&engine, &client, &metrics}, o);
    QString error;
    if (!gateway.start(&error)) {
        fprintf(stderr, "gateway: %s\n", qPrintable(error));
        return 1;
    }
    QUrl wsUrl = gateway.url();
    wsUrl.setScheme(QStringLiteral("ws"));
    wsUrl.setPath(QStringLiteral("/api/v1/stream"));

    QThread clientThread;
    clientThread.setObjectName(QStringLiteral("bench-clients"));
    clientThread.start();
    Clients clients;
    clients.moveToThread(&clientThread);

    const QString lua = QStringLiteral(SLUICE_SOURCE_DIR "/tests/bench/generate.lua");
    auto runPhase = [&](bool withClients, bool withLoad) {
        if (withClients) {
            QMetaObject::invokeMethod(&clients, [&] { clients.start(wsUrl, nClients); }, Qt::BlockingQueuedConnection);
            QElapsedTimer t;
            t.start();
            while (clients.open.load() < nClients && t.elapsed() < 20000)
                wait(50);
            wait(1000);
        }
        QProcess wrk;
        if (withLoad) {
            wrk.start(QStringLiteral("wrk"), {QStringLiteral("-t1"), QStringLiteral("-c32"),
                                              QStringLiteral("-d%1s").arg(seconds), QStringLiteral("-s"), lua,
                                              gateway.url().toString()});
            wrk.waitForStarted();
        }
        Phase p;
        const quint64 snaps0 = clients.snapshots.load();
        const double s0 = BenchCpu::threadSeconds("sluice-server"), p0 = BenchCpu::processSeconds(), c0 = BenchCpu::threadSeconds("bench-clients");
        QElapsedTimer t;
        t.start();
        wait(seconds * 1000);
        p.seconds = double(t.elapsed()) / 1000.0;
        p.serverCpu = (BenchCpu::threadSeconds("sluice-server") - s0) / p.seconds;
        p.processCpu = (BenchCpu::processSeconds() - p0) / p.seconds;
        p.clientsCpu = (BenchCpu::threadSeconds("bench-clients") - c0) / p.seconds;
        if (withClients)
            p.snapshotsPerClientPerSecond = double(clients.snapshots.load() - snaps0) / p.seconds / nClients;
        if (withLoad) {
            wrk.waitForFinished(30000);
            const QString out = QString::fromUtf8(wrk.readAllStandardOutput());
            const auto m = QRegularExpression(QStringLiteral("RESULT req_per_s=(\\d+)")).match(out);
            p.rps = m.hasMatch() ? m.captured(1).toDouble() : -1;
        }
        if (withClients)
            QMetaObject::invokeMethod(&clients, [&] { clients.stop(); }, Qt::BlockingQueuedConnection);
        wait(500);
        return p;
    };

    printf("bench_stream: %d clients at %.1f Hz, %d s per phase, %d CPUs\n", nClients, rateHz, seconds,
           QThread::idealThreadCount());
    const Phase a = runPhase(false, false);
    const Phase b = runPhase(true, false);
    const Phase c = runPhase(false, true);
    const Phase d = runPhase(true, true);
    auto row = [](const char *name, const Phase &p) {
        printf("%-24s server thread %6.2f%%  clients thread %6.2f%%  process %6.1f%%  snapshots/client/s %5.2f  req/s %7.0f\n",
               name, 100 * p.serverCpu, 100 * p.clientsCpu, 100 * p.processCpu, p.snapshotsPerClientPerSecond, p.rps);
    };
    row("A idle, no clients", a);
    row("B idle, clients", b);
    row("C wrk load, no clients", c);
    row("D wrk load, clients", d);
    printf("stream cost (B-A, server thread): %.2f%% of one core for %d clients\n", 100 * (b.serverCpu - a.serverCpu), nClients);
    if (b.snapshotsPerClientPerSecond > 0)
        printf("per snapshot delivered (B-A, server thread): %.1f us\n",
               1e6 * (b.serverCpu - a.serverCpu) / (b.snapshotsPerClientPerSecond * nClients));
    printf("stream cost under load (D-C, server thread): %.2f%% of one core\n", 100 * (d.serverCpu - c.serverCpu));
    printf("req/s with clients vs without: %.0f vs %.0f (%+.1f%%)\n", d.rps, c.rps, c.rps > 0 ? 100 * (d.rps / c.rps - 1) : 0);
    if (const auto k = gateway.streamCounters())
        printf("stream counters: accepted %llu, dropped frames %llu, max backlog %lld bytes\n",
               static_cast<unsigned long long>(k->connectionsAccepted.load()),
               static_cast<unsigned long long>(k->snapshotFramesDropped.load()), static_cast<long long>(k->maxBacklogBytes.load()));
    clientThread.quit();
    clientThread.wait();
    gateway.stop();
    engine.stop();
    return 0;
}
