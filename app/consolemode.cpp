#include "app/consolemode.h"

#include "app/appconfig.h"
#include "app/gatewayruntime.h"
#include "app/unixsignalwatcher.h"
#include "core/engine/batchinferenceengine.h"
#include "ui/consolesettings.h"
#include "ui/mainwindow.h"

#include <QApplication>
#include <QLoggingCategory>
#include <QMessageBox>

Q_LOGGING_CATEGORY(lcConsole, "sluice.console")

int runConsoleMode(QApplication &app, AppConfig config)
{
    // The console's stored upstream choice, unless the environment or the
    // command line already chose (they win, as everywhere else).
    const ConsoleSettings settings;
    const UpstreamChoice choice = settings.upstream();
    QString model = choice.model;
    if (config.apiKey.isEmpty() && config.upstreamUrl.isEmpty() && choice.kind == UpstreamChoice::Kind::Gemini) {
        config.apiKey = settings.effectiveApiKey();
        config.upstreamUrl = choice.baseUrl;
        if (config.apiKey.isEmpty())
            qCWarning(lcConsole) << "the console is set to use Gemini but no API key is stored or in GEMINI_API_KEY;"
                                    " using the embedded GeminiSimulator";
    }

    UnixSignalWatcher watcher;
    GatewayRuntime runtime(config);
    QString error;
    if (!runtime.start(&error)) {
        QMessageBox::critical(nullptr, QStringLiteral("Sluice could not start"),
                              error + QStringLiteral("\n\nChange the port with --port N (0 picks a free one)."));
        return 1;
    }
    qCInfo(lcConsole).noquote() << "gateway listening on" << runtime.url().toString() << "- upstream:" << runtime.upstreamDescription();

    ConsoleInfo info;
    info.listeningUrl = runtime.url();
    info.dashboardUrl = runtime.dashboardUrl();
    info.upstreamKind = config.upstreamKind();
    info.model = model;
    MainWindow window(ConsoleDeps{runtime.engine(), runtime.metrics(), runtime.loadTests(), runtime.drift()}, info);
    QObject::connect(&watcher, &UnixSignalWatcher::signalReceived, &window, [&window] { window.close(); });
    window.show();

    const int status = app.exec();
    runtime.stop();
    return status;
}
