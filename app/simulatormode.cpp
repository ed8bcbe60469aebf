#include "simulatormode.h"

#include "geminisimulator.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QJsonDocument>
#include <QSocketNotifier>
#include <QTextStream>

#include <csignal>
#include <sys/socket.h>
#include <unistd.h>

namespace {

int g_signalFd = -1;

// Async-signal-safe: only write() to the self-pipe; Qt is told from the event loop.
void onSignal(int)
{
    const char byte = 1;
    if (g_signalFd >= 0)
        [[maybe_unused]] auto n = ::write(g_signalFd, &byte, 1);
}

} // namespace

void addSimulatorOptions(QCommandLineParser &parser, bool addHostAndPort)
{
    parser.addOption({QStringLiteral("simulate-gemini"),
                      QStringLiteral("Run the GeminiSimulator alone (a Gemini-compatible upstream for tests).")});
    parser.addOption({QStringLiteral("sim-config"),
                      QStringLiteral("GeminiSimulator config (JSON, see SimulatorConfig) for --simulate-gemini."),
                      QStringLiteral("FILE")});
    if (!addHostAndPort)
        return;
    parser.addOption({QStringLiteral("host"), QStringLiteral("Address to listen on (default 127.0.0.1)."),
                      QStringLiteral("ADDR"), QStringLiteral("127.0.0.1")});
    parser.addOption({QStringLiteral("port"), QStringLiteral("Port to listen on; 0 picks a free port."),
                      QStringLiteral("N")});
}

int runSimulatorMode(QCoreApplication &app, const QCommandLineParser &parser)
{
    QTextStream err(stderr);
    SimulatorConfig config;
    if (parser.isSet(QStringLiteral("sim-config"))) {
        const QString path = parser.value(QStringLiteral("sim-config"));
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            err << "sluice: --sim-config: cannot read " << path << ": " << file.errorString() << "\n";
            return 2;
        }
        QJsonParseError pe;
        const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &pe);
        if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
            err << "sluice: --sim-config: " << path << " is not a JSON object: " << pe.errorString() << "\n";
            return 2;
        }
        const SimulatorConfig::Error e = SimulatorConfig::fromJson(doc.object(), config, &config);
        if (!e.isNull()) {
            err << "sluice: --sim-config: " << e.toString() << "\n";
            return 2;
        }
    }
    // In simulator mode the port defaults to 0 (any free port), not the gateway's 8080.
    quint16 port = 0;
    if (parser.isSet(QStringLiteral("port"))) {
        bool ok = false;
        const uint p = parser.value(QStringLiteral("port")).toUInt(&ok);
        if (!ok || p > 65535) {
            err << "sluice: --port: not a port number: " << parser.value(QStringLiteral("port")) << "\n";
            return 2;
        }
        port = quint16(p);
    }
    const QString hostText = parser.value(QStringLiteral("host"));
    QHostAddress host(hostText.isEmpty() ? QStringLiteral("127.0.0.1") : hostText);
    if (host.isNull()) {
        err << "sluice: --host: not an IP address: " << hostText << "\n";
        return 2;
    }

    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        err << "sluice: cannot create the signal pipe\n";
        return 1;
    }
    g_signalFd = fds[0];
    QSocketNotifier notifier(fds[1], QSocketNotifier::Read);
    QObject::connect(&notifier, &QSocketNotifier::activated, &app, [&] {
        char byte;
        [[maybe_unused]] auto n = ::read(fds[1], &byte, 1);
        QCoreApplication::quit();
    });
    struct sigaction sa = {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    GeminiSimulator simulator(config);
    if (!simulator.start(host, port)) {
        err << "sluice: cannot start the GeminiSimulator on " << host.toString() << ":" << port << ": "
            << simulator.errorString() << "\n";
        return 1;
    }
    QTextStream(stdout) << "listening on " << simulator.baseUrl().toString() << Qt::endl;
    const int status = app.exec();
    simulator.stop();
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    g_signalFd = -1;
    ::close(fds[0]);
    ::close(fds[1]);
    return status;
}
