// Test-only process: GeminiSimulator + GeminiClient + BatchInferenceEngine +
// InferenceMetricsCollector + GatewayServer, for the @google/genai SDK test
// and the wrk benchmark (the real `sluice --server` lives in app/).
// Prints "simulator on http://..." then "listening on http://127.0.0.1:PORT";
// exits on SIGTERM/SIGINT (self-pipe + QSocketNotifier) or when stdin closes.
#include "batchinferenceengine.h"
#include "gatewayserver.h"
#include "geminiclient.h"
#include "geminisimulator.h"
#include "inferencemetricscollector.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QSocketNotifier>
#include <QTextStream>

#include <csignal>
#include <unistd.h>

namespace {
int g_signalPipe[2] = {-1, -1};
void onSignal(int)
{
    const char b = 1;
    [[maybe_unused]] auto n = ::write(g_signalPipe[1], &b, 1);
}
} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser p;
    p.addHelpOption();
    p.addOption({QStringLiteral("port"), QStringLiteral("gateway port (0 = free)"), QStringLiteral("N"), QStringLiteral("0")});
    p.addOption({QStringLiteral("sim-latency-ms"), QStringLiteral("simulator base latency"), QStringLiteral("MS"), QStringLiteral("0")});
    p.addOption({QStringLiteral("max-batch"), QStringLiteral("maxBatchSize"), QStringLiteral("N"), QStringLiteral("16")});
    p.addOption({QStringLiteral("max-wait-ms"), QStringLiteral("maxWaitMs"), QStringLiteral("MS"), QStringLiteral("2")});
    p.addOption({QStringLiteral("max-queue"), QStringLiteral("maxQueue"), QStringLiteral("N"), QStringLiteral("4096")});
    p.addOption({QStringLiteral("fanout"), QStringLiteral("packing: fanout")});
    p.addOption({QStringLiteral("admin-token"), QStringLiteral("admin token"), QStringLiteral("T")});
    p.process(app);

    if (::pipe(g_signalPipe) == 0) {
        std::signal(SIGTERM, onSignal);
        std::signal(SIGINT, onSignal);
        auto *n = new QSocketNotifier(g_signalPipe[0], QSocketNotifier::Read, &app);
        QObject::connect(n, &QSocketNotifier::activated, &app, &QCoreApplication::quit);
    }
    auto *in = new QSocketNotifier(STDIN_FILENO, QSocketNotifier::Read, &app);
    QObject::connect(in, &QSocketNotifier::activated, &app, [in, &app] {
        char buf[256];
        if (::read(STDIN_FILENO, buf, sizeof buf) <= 0) {
            in->setEnabled(false);
            app.quit();
        }
    });

    SimulatorConfig sc;
    sc.baseLatencyMs = p.value(QStringLiteral("sim-latency-ms")).toDouble();
    sc.tokensPerSecond = 0;
    sc.jitterSigma = 0;
    sc.embedLatencyMs = 0;
    sc.maxConcurrent = 1024;
    sc.responseWords = 12;
    GeminiSimulator sim(sc);
    if (!sim.start()) {
        QTextStream(stderr) << "simulator: " << sim.errorString() << "\n";
        return 1;
    }
    QTextStream(stdout) << "simulator on " << sim.baseUrl().toString() << Qt::endl;

    EngineConfig ec;
    ec.maxBatchSize = p.value(QStringLiteral("max-batch")).toInt();
    ec.maxWaitMs = p.value(QStringLiteral("max-wait-ms")).toInt();
    ec.maxQueue = p.value(QStringLiteral("max-queue")).toInt();
    ec.packing = p.isSet(QStringLiteral("fanout")) ? PackingMode::Fanout : PackingMode::Pack;
    if (const ConfigError e = ec.validate(); !e.isNull()) {
        QTextStream(stderr) << "config: " << e.toString() << "\n";
        return 2;
    }
    GeminiClientConfig cc;
    cc.baseUrl = sim.baseUrl();
    cc.concurrency = ec.maxInflightBatches * 2;
    InferenceMetricsCollector metrics;
    std::unique_ptr<GeminiClient> client = std::make_unique<GeminiClient>(cc);
    BatchInferenceEngine engine(client.get(), ec, Clock::steady(), &metrics);
    metrics.setGaugeSource([&engine] { return engine.gauges(); });
    engine.start();

    GatewayOptions go;
    go.port = quint16(p.value(QStringLiteral("port")).toUInt());
    go.adminToken = p.value(QStringLiteral("admin-token")).toUtf8();
    GatewayServer gateway({&engine, client.get(), &metrics}, go);
    QString error;
    if (!gateway.start(&error)) {
        QTextStream(stderr) << "gateway: " << error << "\n";
        return 1;
    }
    QTextStream(stdout) << "listening on " << gateway.url().toString() << Qt::endl;
    const int rc = app.exec();
    gateway.stop();
    engine.stop();
    client.reset();
    sim.stop();
    return rc;
}
