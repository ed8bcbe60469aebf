#include "app/simulatormode.h"

#include "app/unixsignalwatcher.h"
#include "server/simulator/geminisimulator.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QJsonDocument>
#include <QTextStream>

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

    UnixSignalWatcher watcher;
    QObject::connect(&watcher, &UnixSignalWatcher::signalReceived, &app, [] { QCoreApplication::quit(); });

    GeminiSimulator simulator(config);
    if (!simulator.start(host, port)) {
        err << "sluice: cannot start the GeminiSimulator on " << host.toString() << ":" << port << ": "
            << simulator.errorString() << "\n";
        return 1;
    }
    QTextStream(stdout) << "listening on " << simulator.baseUrl().toString() << Qt::endl;
    const int status = app.exec();
    simulator.stop();
    return status;
}
