#include "app/capturemode.h"

#include "app/appconfig.h"
#include "app/gatewayruntime.h"
#include "app/unixsignalwatcher.h"
#include "core/loadtest/loadtestcontroller.h"
#include "core/metrics/inferencemetricscollector.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTextStream>
#include <QThread>
#include <QTimer>

#include <memory>

namespace {

QTextStream &err()
{
    static QTextStream s(stderr);
    return s;
}

bool positiveOption(const QCommandLineParser &parser, const QString &name, int max, int *out, QString *error)
{
    if (!parser.isSet(name))
        return true;
    bool ok = false;
    const int v = parser.value(name).toInt(&ok);
    if (!ok || v < 1 || v > max) {
        *error = QStringLiteral("--%1: must be an integer from 1 to %2, got '%3'").arg(name).arg(max).arg(parser.value(name));
        return false;
    }
    *out = v;
    return true;
}

// The fields of /api/v1/stats the curve needs, for a gateway in another process.
MetricsSnapshot snapshotFromStats(const QJsonObject &o)
{
    MetricsSnapshot s;
    s.queueDepth = o.value(QStringLiteral("queueDepth")).toInt();
    s.queueCapacity = o.value(QStringLiteral("queueCapacity")).toInt();
    const QJsonObject w = o.value(QStringLiteral("last1s")).toObject();
    s.last1s.promptTokensPerSecond = w.value(QStringLiteral("promptTokensPerSecond")).toDouble();
    s.last1s.outputTokensPerSecond = w.value(QStringLiteral("outputTokensPerSecond")).toDouble();
    return s;
}

} // namespace

void addCaptureOptions(QCommandLineParser &parser)
{
    parser.addOption({QStringLiteral("capture-baseline"),
                      QStringLiteral("Run the stepped Locust load test and write a PerformanceBaseline JSON to FILE."),
                      QStringLiteral("FILE")});
    parser.addOption({QStringLiteral("url"), QStringLiteral("With --capture-baseline: load a running gateway at URL instead of the embedded one."),
                      QStringLiteral("URL")});
    parser.addOption({QStringLiteral("steps"), QStringLiteral("Load-test steps (default 6)."), QStringLiteral("N")});
    parser.addOption({QStringLiteral("step-seconds"), QStringLiteral("Seconds per load-test step (default 15)."), QStringLiteral("S")});
    parser.addOption({QStringLiteral("users-per-step"), QStringLiteral("Locust users added per step (default 20)."), QStringLiteral("U")});
}

int runCaptureMode(QCoreApplication &app, const QCommandLineParser &parser, const AppConfig &config)
{
    const QString outPath = parser.value(QStringLiteral("capture-baseline"));
    LoadTestPlan plan;
    plan.steps = 6;
    plan.stepSeconds = 15;
    plan.usersPerStep = 20;
    QString error;
    if (!positiveOption(parser, QStringLiteral("steps"), 100, &plan.steps, &error)
        || !positiveOption(parser, QStringLiteral("step-seconds"), 3600, &plan.stepSeconds, &error)
        || !positiveOption(parser, QStringLiteral("users-per-step"), 100000, &plan.usersPerStep, &error)) {
        err() << "sluice: " << error << Qt::endl;
        return 2;
    }

    UnixSignalWatcher watcher;
    std::unique_ptr<GatewayRuntime> runtime;
    QNetworkAccessManager nam;
    QJsonObject engineConfig = config.engine.toJson();
    QString upstreamKind = config.upstreamKind();
    if (parser.isSet(QStringLiteral("url"))) {
        plan.target = QUrl(parser.value(QStringLiteral("url")));
        if (!plan.target.isValid() || !plan.target.scheme().startsWith(QLatin1String("http"))) {
            err() << "sluice: --url: '" << parser.value(QStringLiteral("url")) << "' is not an http(s) URL" << Qt::endl;
            return 2;
        }
        upstreamKind = QStringLiteral("remote gateway");
    } else {
        AppConfig local = config;
        local.port = 0;
        runtime = std::make_unique<GatewayRuntime>(local);
        if (!runtime->start(&error)) {
            err() << "sluice: " << error << Qt::endl;
            return 1;
        }
        plan.target = runtime->url();
        err() << "capture: embedded gateway at " << plan.target.toString() << ", upstream: " << runtime->upstreamDescription() << Qt::endl;
    }

    // The embedded gateway's own controller, or one fed from a remote gateway's /api/v1/stats.
    std::unique_ptr<LoadTestController> remoteController;
    if (!runtime)
        remoteController = std::make_unique<LoadTestController>(nullptr);
    LoadTestController *controller = runtime ? runtime->loadTests() : remoteController.get();
    if (!runtime) {
        // A gateway in another process: poll its /api/v1/stats for the server side of the curve.
        auto *poll = new QTimer(&app);
        QObject::connect(poll, &QTimer::timeout, &app, [&] {
            QUrl u = plan.target;
            u.setPath(QStringLiteral("/api/v1/stats"));
            QNetworkReply *reply = nam.get(QNetworkRequest(u));
            QObject::connect(reply, &QNetworkReply::finished, reply, [&, reply] {
                reply->deleteLater();
                if (reply->error() == QNetworkReply::NoError)
                    controller->observe(snapshotFromStats(QJsonDocument::fromJson(reply->readAll()).object()));
            });
        });
        poll->start(250);
    }

    int exitStatus = 0;
    int lastReportedSteps = 0;
    QObject::connect(controller, &LoadTestController::statusChanged, &app, [&](const QJsonObject &st) {
        const QJsonObject p = st.value(QStringLiteral("progress")).toObject();
        const QJsonArray curve = st.value(QStringLiteral("curve")).toArray();
        if (curve.size() > lastReportedSteps) {
            lastReportedSteps = int(curve.size());
            const QJsonObject s = curve.last().toObject();
            err() << QStringLiteral("step %1 done: %2 users, offered %3 req/s, achieved %4 req/s, p95 %5 ms, queue mean %6 max %7, errors %8%")
                         .arg(curve.size()).arg(s.value(QStringLiteral("users")).toInt())
                         .arg(s.value(QStringLiteral("offeredRps")).toDouble(), 0, 'f', 1)
                         .arg(s.value(QStringLiteral("achievedRps")).toDouble(), 0, 'f', 1)
                         .arg(s.value(QStringLiteral("p95Ms")).toDouble(), 0, 'f', 0)
                         .arg(s.value(QStringLiteral("queueDepthMean")).toDouble(), 0, 'f', 1)
                         .arg(s.value(QStringLiteral("queueDepthMax")).toDouble(), 0, 'f', 0)
                         .arg(s.value(QStringLiteral("errorRate")).toDouble() * 100, 0, 'f', 1)
                  << Qt::endl;
        } else if (st.value(QStringLiteral("state")).toString() == QLatin1String("running")) {
            err() << QStringLiteral("  step %1/%2  %3 users  %4 req/s  p95 %5 ms  failures %6/s")
                         .arg(p.value(QStringLiteral("step")).toInt() + 1).arg(p.value(QStringLiteral("steps")).toInt())
                         .arg(p.value(QStringLiteral("users")).toInt())
                         .arg(p.value(QStringLiteral("requestsPerSecond")).toDouble(), 0, 'f', 1)
                         .arg(p.value(QStringLiteral("p95Ms")).toDouble(), 0, 'f', 0)
                         .arg(p.value(QStringLiteral("failuresPerSecond")).toDouble(), 0, 'f', 1)
                  << Qt::endl;
        }
    });
    QObject::connect(controller, &LoadTestController::finished, &app, [&](bool ok, const QString &message) {
        if (!ok) {
            err() << "sluice: the load test failed: " << message << Qt::endl;
            exitStatus = 1;
            QCoreApplication::exit(1);
            return;
        }
        const PerformanceBaseline b = *controller->lastBaseline();
        QString saveError;
        if (!b.save(outPath, &saveError)) {
            err() << "sluice: " << saveError << Qt::endl;
            exitStatus = 1;
            QCoreApplication::exit(1);
            return;
        }
        const QJsonObject st = controller->status();
        err() << (b.inflection ? QStringLiteral("inflection: %1 users, queue depth %2, %3 req/s, p95 %4 ms")
                                     .arg(b.inflection->users).arg(b.inflection->queueDepth, 0, 'f', 1)
                                     .arg(b.inflection->throughputRps, 0, 'f', 1).arg(b.inflection->p95Ms, 0, 'f', 0)
                               : st.value(QStringLiteral("kneeReason")).toString())
              << Qt::endl;
        QTextStream(stdout) << "baseline written to " << outPath << Qt::endl;
        QCoreApplication::exit(0);
    });
    QObject::connect(&watcher, &UnixSignalWatcher::signalReceived, &app, [&] {
        err() << "capture: interrupted; stopping Locust" << Qt::endl;
        controller->stop();
    });

    QJsonObject environment = runtime ? runtime->environment()
                                      : QJsonObject{{QStringLiteral("cpus"), QThread::idealThreadCount()},
                                                    {QStringLiteral("upstreamKind"), upstreamKind}};
    environment.insert(QStringLiteral("target"), plan.target.toString());
    if (!controller->start(plan, engineConfig, environment, &error)) {
        err() << "sluice: " << error << Qt::endl;
        return 1;
    }
    err() << "capture: " << plan.steps << " steps of " << plan.stepSeconds << " s, +" << plan.usersPerStep
          << " users per step, against " << plan.target.toString() << Qt::endl;
    const int status = app.exec();
    if (runtime)
        runtime->stop();
    return exitStatus ? exitStatus : status;
}
