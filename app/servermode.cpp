#include "app/servermode.h"

#include "app/appconfig.h"
#include "app/gatewayruntime.h"
#include "app/unixsignalwatcher.h"
#include "core/engine/batchinferenceengine.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QTextStream>
#include <QTimer>

#include <csignal>
#include <cstdlib>

Q_LOGGING_CATEGORY(lcServer, "sluice.main")

int runServerMode(QCoreApplication &app, const AppConfig &config)
{
    UnixSignalWatcher watcher;
    GatewayRuntime runtime(config);
    QString error;
    if (!runtime.start(&error)) {
        QTextStream(stderr) << "sluice: " << error << Qt::endl;
        return 1;
    }
    qCInfo(lcServer).noquote() << "upstream:" << runtime.upstreamDescription();
    qCInfo(lcServer).noquote() << "dashboard:" << runtime.dashboardUrl().toString();
    QTextStream(stdout) << "listening on " << runtime.url().toString() << Qt::endl;

    int signalsSeen = 0;
    QTimer grace;
    grace.setSingleShot(true);
    QObject::connect(&grace, &QTimer::timeout, &app, [&] {
        const EngineCounters c = runtime.engine()->counters();
        qCWarning(lcServer) << "drain grace period of" << config.drainGraceMs << "ms ran out with" << c.queued
                            << "queued and" << c.inflight << "in flight; answering them 503 and exiting";
        // Every admitted request gets an answer; exit status 0: the shutdown
        // did what it promises, within its grace period.
        runtime.abandon(QStringLiteral("Sluice shut down before this request was answered (its drain grace period of %1 ms ran out); "
                                       "retry against another instance or after the restart")
                            .arg(config.drainGraceMs));
        QCoreApplication::exit(0);
    });
    QObject::connect(&runtime, &GatewayRuntime::drained, &app, [&] {
        qCInfo(lcServer) << "drained: every admitted request was answered; exiting";
        QCoreApplication::exit(0);
    });
    QObject::connect(&watcher, &UnixSignalWatcher::signalReceived, &app, [&](int signo) {
        if (signo == SIGHUP) {
            QString reloadError;
            if (runtime.reloadTls(&reloadError))
                qCInfo(lcServer) << "SIGHUP: TLS certificate and key reloaded; new connections use them";
            else
                qCWarning(lcServer).noquote() << "SIGHUP: TLS not reloaded:" << reloadError;
            return;
        }
        if (++signalsSeen > 1) {
            qCWarning(lcServer) << "second signal" << signo << "- exiting at once";
            std::_Exit(130);
        }
        const EngineCounters c = runtime.engine()->counters();
        qCInfo(lcServer) << "signal" << signo << "- draining:" << c.queued << "queued," << c.inflight
                         << "in flight; new work gets 503; grace" << config.drainGraceMs << "ms (signal again to exit at once)";
        runtime.drain();
        grace.start(config.drainGraceMs);
    });

    const int status = app.exec();
    runtime.stop();
    return status;
}
