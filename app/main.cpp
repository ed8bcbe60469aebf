// sluice: the console (default), the headless gateway (--server), or the
// GeminiSimulator alone (--simulate-gemini). DESIGN.md §11.
//
// The application class is chosen before any other QObject exists: a
// QApplication only for the console, so --server needs no display.

#include "core/engine/scheduling.h"
#include "app/appconfig.h"
#include "app/capturemode.h"
#include "app/servermode.h"
#include "app/simulatormode.h"
#include "core/engine/engineconfig.h"

#if SLUICE_WITH_CONSOLE
#include "app/consolemode.h"
#include <cstdio>
#include <QFile>
#include <QApplication>
#endif

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QLoggingCategory>
#include <QProcessEnvironment>
#include <QTextStream>

#include <memory>

namespace {

bool hasArg(int argc, char **argv, std::initializer_list<const char *> names)
{
    for (int i = 1; i < argc; ++i)
        for (const char *n : names)
            if (qstrcmp(argv[i], n) == 0)
                return true;
    return false;
}

void applyLogLevel(const QString &level)
{
    QString rules;
    if (level == QLatin1String("debug"))
        rules = QStringLiteral("sluice.*.debug=true");
    else if (level == QLatin1String("info"))
        rules = QStringLiteral("sluice.*.debug=false");
    else if (level == QLatin1String("warning"))
        rules = QStringLiteral("sluice.*.debug=false\nsluice.*.info=false");
    else
        rules = QStringLiteral("sluice.*.debug=false\nsluice.*.info=false\nsluice.*.warning=false");
    QLoggingCategory::setFilterRules(rules);
}

int usageError(const QString &message)
{
    QTextStream(stderr) << "sluice: " << message << "\nRun 'sluice --help' for the options." << Qt::endl;
    return 2;
}

} // namespace

int main(int argc, char *argv[])
{
    qSetMessagePattern(QStringLiteral("%{time yyyy-MM-ddTHH:mm:ss.zzz} %{if-debug}D%{endif}%{if-info}I%{endif}%{if-warning}W%{endif}%{if-critical}C%{endif}%{if-fatal}F%{endif} %{category}: %{message}"));

    // Only the console needs a display; decide before any QObject exists.
    const bool headless = hasArg(argc, argv, {"--server", "--simulate-gemini", "--capture-baseline", "--tenant-id", "--help", "-h", "--help-all", "--version", "-v"});
    // Headless: Qt's own event dispatcher on every thread, not GLib's. With
    // GLib each socket write (the write notifier switched on, then off) also
    // wakes the writing thread's own loop through an eventfd: two extra
    // syscalls per answer on the gateway, simulator and upstream threads
    // (strace). Measured: 114 -> 99 us of CPU per gateway request with the
    // cores shared, no difference outside noise on a quiet machine. The
    // console keeps GLib (desktop integration such as GTK file dialogs
    // expects it). QT_NO_GLIB set by the user, even empty, is respected.
    if (headless && !qEnvironmentVariableIsSet("QT_NO_GLIB"))
        qputenv("QT_NO_GLIB", "1");
    std::unique_ptr<QCoreApplication> application;
    if (headless) {
        application = std::make_unique<QCoreApplication>(argc, argv);
    } else {
#if SLUICE_WITH_CONSOLE
        if (qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY")
            && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
            return usageError(QStringLiteral("no display found (DISPLAY and WAYLAND_DISPLAY are unset); "
                                             "run 'sluice --server' for the headless gateway"));
        application = std::make_unique<QApplication>(argc, argv);
#else
        return usageError(QStringLiteral("this sluice was built without the desktop console (SLUICE_BUILD_CONSOLE=OFF); "
                                         "run 'sluice --server'"));
#endif
    }
    QCoreApplication &app = *application;
    QCoreApplication::setApplicationName(QStringLiteral("sluice"));
    QCoreApplication::setOrganizationName(QStringLiteral("Sluice"));
    QCoreApplication::setApplicationVersion(QStringLiteral(SLUICE_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Sluice: a throughput-engineered gateway for agent fleets calling the Gemini API.\n\n"
                       "Modes:\n"
                       "  sluice                      the desktop console with the embedded gateway\n"
                       "  sluice --server             the gateway alone, no display needed (Docker)\n"
                       "  sluice --simulate-gemini    the GeminiSimulator alone (an upstream for tests)\n"
                       "  sluice --capture-baseline FILE\n"
                       "                              Locust knee search (or fixed steps), throughput knee, PerformanceBaseline\n\n"
                       "Configuration sources, later wins: defaults, --config FILE, environment\n"
                       "(SLUICE_*, GEMINI_API_KEY), command line. Without GEMINI_API_KEY or --upstream\n"
                       "the embedded GeminiSimulator is the upstream, so everything runs offline.\n\n"
                       "Engine knobs (live-changeable through PATCH /api/v1/config):\n")
        + EngineConfig::describeKnobs());
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOption({QStringLiteral("server"), QStringLiteral("Run the gateway without the console (no display needed).")});
    parser.addOption({QStringLiteral("tenant-id"),
                      QStringLiteral("Read an API key from standard input, print its tenant id (\"key-\" + 16 hex digits of "
                                     "its SHA-256, what tenants.byId and the metrics use) and exit. The key is never "
                                     "stored nor shown.")});
    AppConfig::addOptions(parser);
    addSimulatorOptions(parser, /*addHostAndPort=*/false);
    addCaptureOptions(parser);

    if (!parser.parse(app.arguments()))
        return usageError(parser.errorText());
    if (parser.isSet(QStringLiteral("version")))
        parser.showVersion();
    if (parser.isSet(QStringLiteral("help")))
        parser.showHelp(0);
    if (!parser.positionalArguments().isEmpty())
        return usageError(QStringLiteral("unexpected argument '%1'").arg(parser.positionalArguments().constFirst()));

    if (parser.isSet(QStringLiteral("simulate-gemini")))
        return runSimulatorMode(app, parser);
    if (parser.isSet(QStringLiteral("tenant-id"))) {
        QFile in;
        if (!in.open(stdin, QIODevice::ReadOnly))
            return usageError(QStringLiteral("--tenant-id: standard input could not be read"));
        const QByteArray key = in.readAll().trimmed();
        if (key.isEmpty())
            return usageError(QStringLiteral("--tenant-id: give the API key on standard input, e.g. "
                                             "printf %s \"$GEMINI_API_KEY\" | sluice --tenant-id"));
        std::fputs(qPrintable(tenantIdForKey(key) + QLatin1Char('\n')), stdout);
        return 0;
    }

    AppConfig config;
    QString error;
    if (!AppConfig::resolve(parser, QProcessEnvironment::systemEnvironment(), &config, &error))
        return usageError(error);
    applyLogLevel(config.logLevel);
    if (parser.isSet(QStringLiteral("capture-baseline")))
        return runCaptureMode(app, parser, config);
    if (parser.isSet(QStringLiteral("server")))
        return runServerMode(app, config);
#if SLUICE_WITH_CONSOLE
    return runConsoleMode(static_cast<QApplication &>(app), config);
#else
    return runServerMode(app, config);
#endif
}
