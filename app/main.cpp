// Placeholder entry point until the gateway issue wires server/ and ui/:
// it only answers --help/--version so the build has a real executable.
#include "engineconfig.h"
#include "simulatormode.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTextStream>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("sluice"));
    QCoreApplication::setApplicationVersion(QStringLiteral(SLUICE_VERSION));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Sluice: a batching gateway for the Gemini API.\n\nEngine knobs:\n")
                                     + EngineConfig::describeKnobs());
    parser.addHelpOption();
    parser.addVersionOption();
    addSimulatorOptions(parser);
    if (!parser.parse(app.arguments())) {
        QTextStream(stderr) << "sluice: " << parser.errorText() << "\n";
        return 2;
    }
    if (parser.isSet(QStringLiteral("version")))
        parser.showVersion();
    if (parser.isSet(QStringLiteral("simulate-gemini")))
        return runSimulatorMode(app, parser);
    parser.showHelp(0);
}
