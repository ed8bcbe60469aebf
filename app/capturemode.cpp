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

#include <algorithm>
#include <memory>

namespace {

QTextStream &err()
{
    static QTextStream s(stderr);
    return s;
}

bool nonNegativeOption(const QCommandLineParser &parser, const QString &name, int max, int *out, QString *error)
{
    if (!parser.isSet(name))
        return true;
    bool ok = false;
    const int v = parser.value(name).toInt(&ok);
    if (!ok || v < 0 || v > max) {
        *error = QStringLiteral("--%1: must be an integer from 0 to %2, got '%3'").arg(name).arg(max).arg(parser.value(name));
        return false;
    }
    *out = v;
    return true;
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

// ", generator 0.31 cores (busiest 0.28)" from a step's "generator", if measured.
QString generatorText(const QJsonObject &g)
{
    if (g.isEmpty())
        return {};
    return QStringLiteral(", generator %1 cores (busiest process %2)%3")
        .arg(g.value(QStringLiteral("cpuCores")).toDouble(), 0, 'f', 2)
        .arg(g.value(QStringLiteral("busiestCores")).toDouble(), 0, 'f', 2)
        .arg(g.value(QStringLiteral("bound")).toBool() ? QStringLiteral(", LOAD-GENERATOR-BOUND") : QString());
}

} // namespace

void addCaptureOptions(QCommandLineParser &parser)
{
    parser.addOption({QStringLiteral("capture-baseline"),
                      QStringLiteral("Run the stepped Locust load test and write a PerformanceBaseline JSON to FILE."),
                      QStringLiteral("FILE")});
    parser.addOption({QStringLiteral("url"), QStringLiteral("With --capture-baseline: load a running gateway at URL instead of the embedded one."),
                      QStringLiteral("URL")});
    parser.addOption({QStringLiteral("steps"), QStringLiteral("Fixed steps instead of the knee search: load-test steps (default 6)."),
                      QStringLiteral("N")});
    parser.addOption({QStringLiteral("step-seconds"),
                      QStringLiteral("Fixed steps instead of the knee search: seconds per step (default 15)."), QStringLiteral("S")});
    parser.addOption({QStringLiteral("users-per-step"),
                      QStringLiteral("Fixed steps instead of the knee search: Locust users added per step (default 20)."),
                      QStringLiteral("U")});
    parser.addOption({QStringLiteral("max-seconds"),
                      QStringLiteral("Knee search: the time budget for the whole search, Locust's start included (default 180)."),
                      QStringLiteral("S")});
    parser.addOption({QStringLiteral("start-users"), QStringLiteral("Knee search: users of the first step (default 4); "
                                                                    "each next step doubles them until throughput stops growing."),
                      QStringLiteral("N")});
    parser.addOption({QStringLiteral("p95-limit-ms"),
                      QStringLiteral("Knee search: the p95 a step may reach (default: 1.5 x the first step's p95, the drift "
                                     "detector's driftRatio)."),
                      QStringLiteral("MS")});
    parser.addOption({QStringLiteral("locust-workers"),
                      QStringLiteral("Locust worker processes under a Locust master (default: CPU cores - 1, here %1; 0 = one "
                                     "Locust process). One Locust process drives about one core.")
                          .arg(LoadTestPlan::defaultWorkers()),
                      QStringLiteral("K")});
}


int runCaptureMode(QCoreApplication &app, const QCommandLineParser &parser, const AppConfig &config)
{
    const QString outPath = parser.value(QStringLiteral("capture-baseline"));
    LoadTestPlan plan;
    plan.steps = 6;
    plan.stepSeconds = 15;
    plan.usersPerStep = 20;
    plan.workers = LoadTestPlan::defaultWorkers();
    QString error;
    if (!positiveOption(parser, QStringLiteral("steps"), 100, &plan.steps, &error)
        || !positiveOption(parser, QStringLiteral("step-seconds"), 3600, &plan.stepSeconds, &error)
        || !positiveOption(parser, QStringLiteral("users-per-step"), 100000, &plan.usersPerStep, &error)
        || !nonNegativeOption(parser, QStringLiteral("locust-workers"), 256, &plan.workers, &error)) {
        err() << "sluice: " << error << Qt::endl;
        return 2;
    }
    // Without step options, search for the knee (KneeSearch); with any, run the fixed steps.
    const QStringList stepOptions{QStringLiteral("steps"), QStringLiteral("step-seconds"), QStringLiteral("users-per-step")};
    const bool fixedSteps = std::any_of(stepOptions.begin(), stepOptions.end(), [&](const QString &o) { return parser.isSet(o); });
    KneeSearchConfig searchConfig;
    int maxSeconds = int(searchConfig.maxSeconds);
    if (!positiveOption(parser, QStringLiteral("max-seconds"), 86400, &maxSeconds, &error)
        || !positiveOption(parser, QStringLiteral("start-users"), 10000, &searchConfig.startUsers, &error)) {
        err() << "sluice: " << error << Qt::endl;
        return 2;
    }
    searchConfig.maxSeconds = maxSeconds;
    if (parser.isSet(QStringLiteral("p95-limit-ms"))) {
        bool ok = false;
        searchConfig.p95LimitMs = parser.value(QStringLiteral("p95-limit-ms")).toDouble(&ok);
        if (!ok || !(searchConfig.p95LimitMs > 0 && searchConfig.p95LimitMs <= 3600000)) {
            err() << "sluice: --p95-limit-ms: must be a number of milliseconds from above 0 to 3600000, got '"
                  << parser.value(QStringLiteral("p95-limit-ms")) << "'" << Qt::endl;
            return 2;
        }
    }
    if (fixedSteps) {
        for (const char *o : {"max-seconds", "start-users", "p95-limit-ms"}) {
            if (parser.isSet(QLatin1String(o))) {
                err() << "sluice: --" << o << " belongs to the knee search, which --steps, --step-seconds and --users-per-step "
                      << "replace with fixed steps; drop one or the other" << Qt::endl;
                return 2;
            }
        }
    } else {
        searchConfig.stepOverheadSeconds = KneeSearchConfig::stepOverheadFor(plan.workers);
        const QString invalid = searchConfig.validate();
        if (!invalid.isEmpty()) {
            // Only --max-seconds can make it invalid here (the other settings are the defaults or bounded above).
            err() << "sluice: --max-seconds " << searchConfig.maxSeconds << ": the knee search's " << invalid << Qt::endl;
            return 2;
        }
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
        if (!fixedSteps) {
            // One line per measured step: users, req/s, p95, errors, the generator's CPU, the decision.
            const QJsonArray lines = st.value(QStringLiteral("search")).toObject().value(QStringLiteral("lines")).toArray();
            for (; lastReportedSteps < lines.size(); ++lastReportedSteps)
                err() << lines.at(lastReportedSteps).toString() << Qt::endl;
            return;
        }
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
                  << generatorText(s.value(QStringLiteral("generator")).toObject()) << Qt::endl;
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
        if (!fixedSteps) {
            const KneeSearch::Result r = controller->search().result();
            err() << (r.found ? QStringLiteral("knee: %1 users, %2 req/s, p95 %3 ms, queue depth %4 (%5)")
                                    .arg(r.users).arg(r.throughputRps, 0, 'f', 1).arg(r.p95Ms, 0, 'f', 0)
                                    .arg(b.inflection ? b.inflection->queueDepth : 0.0, 0, 'f', 1).arg(r.method)
                              : r.reason)
                  << Qt::endl;
            for (const QString &note : r.notes)
                err() << "note: " << note << Qt::endl;
            err() << QStringLiteral("search: %1 steps in %2 s (budget %3 s), stopped by %4; Locust: %5")
                         .arg(controller->search().steps().size())
                         .arg(b.search.value(QStringLiteral("elapsedSeconds")).toDouble(), 0, 'f', 0)
                         .arg(searchConfig.maxSeconds)
                         .arg(r.stoppedBy.isEmpty() ? QStringLiteral("the bisection") : r.stoppedBy)
                         .arg(plan.workers > 0 ? QStringLiteral("a master and %1 worker(s)").arg(plan.workers)
                                               : QStringLiteral("one process"))
                  << Qt::endl;
        } else {
            err() << (b.inflection ? QStringLiteral("inflection: %1 users, queue depth %2, %3 req/s, p95 %4 ms")
                                         .arg(b.inflection->users).arg(b.inflection->queueDepth, 0, 'f', 1)
                                         .arg(b.inflection->throughputRps, 0, 'f', 1).arg(b.inflection->p95Ms, 0, 'f', 0)
                                   : st.value(QStringLiteral("kneeReason")).toString())
                  << Qt::endl;
        }
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
    const quint64 started = fixedSteps ? controller->start(plan, engineConfig, environment, &error)
                                       : controller->startSearch(plan, searchConfig, engineConfig, environment, &error);
    if (!started) {
        err() << "sluice: " << error << Qt::endl;
        return 1;
    }
    const QString locust = plan.workers > 0 ? QStringLiteral("Locust master + %1 worker(s)").arg(plan.workers)
                                            : QStringLiteral("one Locust process");
    if (fixedSteps)
        err() << "capture: " << plan.steps << " steps of " << plan.stepSeconds << " s, +" << plan.usersPerStep
              << " users per step, " << locust << ", against " << plan.target.toString() << Qt::endl;
    else
        err() << "capture: knee search from " << searchConfig.startUsers << " users within " << searchConfig.maxSeconds
              << " s, p95 limit "
              << (searchConfig.p95LimitMs > 0 ? QStringLiteral("%1 ms").arg(searchConfig.p95LimitMs)
                                              : QStringLiteral("%1 x the first step's").arg(searchConfig.p95LimitRatio))
              << ", " << locust << ", against " << plan.target.toString() << Qt::endl;
    const int status = app.exec();
    if (runtime)
        runtime->stop();
    return exitStatus ? exitStatus : status;
}
