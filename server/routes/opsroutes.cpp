#include "server/routes/opsroutes.h"
#include "server/routes/batchmode.h"

#include "server/routes/answercache.h"

#include "server/http/admintoken.h"

#include "core/drift/driftmonitor.h"
#include "core/engine/batchinferenceengine.h"
#include "core/gemini/geminiclient.h"
#include "core/loadtest/loadtestcontroller.h"
#include "core/util/memorybudget.h"
#include "server/gatewayhttpserver.h"
#include "server/http/errormapping.h"
#include "server/routes/agenthealthcheck.h"
#include "core/quota/sharedbudget.h"
#include "server/routes/geminirequestparser.h"
#include "server/routes/prometheusexporter.h"
#include "server/stream/metricsstream.h"

#include <QJsonDocument>
#include <QJsonParseError>
#include <QPointer>
#include <QRegularExpression>
#include <QThread>

#include <cmath>

namespace {

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}


HttpReply badField(const QString &field, const QString &message)
{
    const QJsonArray details{QJsonObject{
        {QStringLiteral("@type"), QStringLiteral("type.googleapis.com/google.rpc.BadRequest")},
        {QStringLiteral("fieldViolations"),
         QJsonArray{QJsonObject{{QStringLiteral("field"), field}, {QStringLiteral("description"), message}}}}}};
    return ErrorMapping::toReply(Status::error(StatusCode::InvalidArgument,
                                               field.isEmpty() ? message : QStringLiteral("%1: %2").arg(field, message)),
                                 0, details);
}

HttpReply errorReply(StatusCode code, const QString &message, int httpOverride = 0)
{
    return ErrorMapping::toReply(Status::error(code, message), httpOverride);
}

// An integer field in [lo, hi]; answers false with *error when present and wrong,
// or absent while required.
bool intField(const QJsonObject &o, const char *name, int lo, int hi, bool required, int *out, QString *error)
{
    const QJsonValue v = o.value(QLatin1String(name));
    if (v.isUndefined() || v.isNull()) {
        if (required)
            *error = QStringLiteral("is required");
        return !required;
    }
    const double d = v.toDouble(std::nan(""));
    if (!v.isDouble() || std::floor(d) != d || d < lo || d > hi) {
        *error = QStringLiteral("must be an integer from %1 to %2").arg(lo).arg(hi);
        return false;
    }
    *out = int(d);
    return true;
}

int driftStateGauge(DriftState s)
{
    switch (s) {
    case DriftState::Ok: return 0;
    case DriftState::Warn: return 1;
    case DriftState::Drift: return 2;
    default: return -1;
    }
}

} // namespace

bool OpsRoutes::authorized(const std::shared_ptr<GatewayExchange> &ex, const QHttpServerRequest &request, const char *what)
{
    if (AdminToken::authorizes(m_server->options().adminToken, request.value(QByteArrayLiteral("authorization")).trimmed()))
        return true;
    m_server->finish(ex, errorReply(StatusCode::Unauthenticated,
                                    QStringLiteral("%1 needs Authorization: Bearer <admin token>").arg(QLatin1String(what))));
    return false;
}

std::optional<QJsonObject> OpsRoutes::jsonBody(const std::shared_ptr<GatewayExchange> &ex,
                                               const QHttpServerRequest &request, const char *what)
{
    // Required, not merely checked when present: a body without a
    // Content-Type is what a cross-site "simple" request can send.
    const QByteArray contentType = request.value(QByteArrayLiteral("content-type"));
    if (contentType.isEmpty() || !GeminiRequestParser::isJsonContentType(contentType)) {
        m_server->finish(ex, errorReply(StatusCode::InvalidArgument,
                                        QStringLiteral("Content-Type must be application/json (control routes require it)"), 415));
        return std::nullopt;
    }
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(request.body(), &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        m_server->finish(ex, errorReply(StatusCode::InvalidArgument,
                                        QStringLiteral("body must be a JSON object (%1)").arg(QLatin1String(what))));
        return std::nullopt;
    }
    return doc.object();
}

void OpsRoutes::health(const std::shared_ptr<GatewayExchange> &ex)
{
    const GatewayDeps &deps = m_server->deps();
    AgentHealthCheck::Inputs in;
    in.gauges = deps.engine->gauges();
    in.counters = deps.engine->counters();
    if (deps.client)
        in.circuit = deps.client->circuit();
    in.upstreamKind = m_server->options().upstreamKind;
    in.model = m_server->options().model;
    in.uptimeSeconds = m_server->uptimeSeconds();
    in.version = QStringLiteral(SLUICE_VERSION);
    if (deps.drift) {
        const DriftReading d = deps.drift->reading(); // thread-safe
        in.driftState = driftStateName(d.state);
        in.driftScore = d.score;
    }
    if (deps.sharedBudget)
        in.budgetStore = sharedBudgetStatusJson(deps.sharedBudget->status());
    const AgentHealthCheck::Result r = AgentHealthCheck::evaluate(in);
    HttpReply reply = HttpReply::json(r.httpStatus, compact(r.body));
    if (r.httpStatus == 503)
        reply.headers.append({QByteArrayLiteral("Retry-After"),
                              QByteArray::number(ErrorMapping::retryAfterSeconds(in.circuit.retryAfter))});
    m_server->finish(ex, reply);
}

void OpsRoutes::metrics(const std::shared_ptr<GatewayExchange> &ex)
{
    const GatewayDeps &deps = m_server->deps();
    PrometheusExporter::Inputs in;
    in.requests = m_server->requestCounts();
    in.gauges = deps.engine->gauges();
    if (deps.memory) {
        in.gauges.memoryUsedBytes = deps.memory->used();
        in.gauges.memoryLimitBytes = deps.memory->limit();
        in.gauges.memoryRefusals = deps.memory->refusals();
    }
    if (deps.metrics) {
        in.snapshot = deps.metrics->snapshot();
        in.latency = deps.metrics->cumulativeHistogram(InferenceMetricsCollector::Histogram::Latency);
        in.queueWait = deps.metrics->cumulativeHistogram(InferenceMetricsCollector::Histogram::QueueWait);
        in.upstream = deps.metrics->cumulativeHistogram(InferenceMetricsCollector::Histogram::Upstream);
        in.upstreamCalls = deps.metrics->upstreamCallCounts();
        in.firstToken = deps.metrics->firstTokenHistograms();
        in.tiers = deps.metrics->tierTotals();
        for (int c = 0; c < kPriorityClasses; ++c)
            in.classLatency[size_t(c)] = deps.metrics->classCumulativeHistogram(PriorityClass(c));
    }
    if (deps.batchStats) {
        std::lock_guard lock(deps.batchStats->mutex);
        in.gauges.batchMode = deps.batchStats->state;
    }
    if (deps.sharedBudget)
        in.budgetStore = deps.sharedBudget->status();
    if (deps.cache) {
        in.gauges.cacheMaxBytes = deps.cache->config().maxBytes;
        in.gauges.cacheUsedBytes = deps.cache->usedBytes();
        in.gauges.cacheEntries = deps.cache->entries();
    }
    if (deps.drift) {
        const DriftReading d = deps.drift->reading();
        in.driftScore = d.score;
        in.driftState = driftStateGauge(d.state);
    }
    if (const auto stream = m_server->streamCounters()) {
        in.streamClients = stream->clients.load();
        in.streamDroppedFrames = stream->snapshotFramesDropped.load();
    }
    HttpReply reply;
    reply.contentType = PrometheusExporter::contentType();
    reply.body = PrometheusExporter::render(in);
    m_server->finish(ex, reply);
}

void OpsRoutes::stats(const std::shared_ptr<GatewayExchange> &ex)
{
    const GatewayDeps &deps = m_server->deps();
    if (!deps.metrics) {
        m_server->finish(ex, ErrorMapping::toReply(Status::error(StatusCode::Unavailable,
                                                                 QStringLiteral("metrics are not collected"))));
        return;
    }
    QJsonObject body = deps.metrics->snapshot().toJson();
    if (deps.sharedBudget)
        body.insert(QStringLiteral("budgetStore"), sharedBudgetStatusJson(deps.sharedBudget->status()));
    m_server->finish(ex, HttpReply::json(200, compact(body)));
}

void OpsRoutes::getConfig(const std::shared_ptr<GatewayExchange> &ex)
{
    m_server->finish(ex, HttpReply::json(200, compact(m_server->deps().engine->config().toJson())));
}

void OpsRoutes::patchConfig(const std::shared_ptr<GatewayExchange> &ex, const QHttpServerRequest &request)
{
    if (!authorized(ex, request, "PATCH /api/v1/config"))
        return;
    const QByteArray contentType = request.value(QByteArrayLiteral("content-type"));
    if (contentType.isEmpty() || !GeminiRequestParser::isJsonContentType(contentType)) {
        m_server->finish(ex, ErrorMapping::toReply(Status::error(StatusCode::InvalidArgument,
                                                                 QStringLiteral("Content-Type must be application/json (control routes require it)")),
                                                   415));
        return;
    }
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(request.body(), &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        m_server->finish(ex, ErrorMapping::toReply(Status::error(StatusCode::InvalidArgument,
                                                                 QStringLiteral("body must be a JSON object of EngineConfig fields"))));
        return;
    }
    BatchInferenceEngine *engine = m_server->deps().engine;
    EngineConfig next;
    ConfigError err = EngineConfig::fromJson(doc.object(), engine->config(), &next);
    if (err.isNull())
        err = engine->setConfig(next);
    if (!err.isNull()) {
        QJsonArray details{QJsonObject{{QStringLiteral("@type"), QStringLiteral("type.googleapis.com/google.rpc.BadRequest")},
                                       {QStringLiteral("fieldViolations"),
                                        QJsonArray{QJsonObject{{QStringLiteral("field"), err.field},
                                                               {QStringLiteral("description"), err.message}}}}}};
        m_server->finish(ex, ErrorMapping::toReply(Status::error(StatusCode::InvalidArgument, err.toString()), 0, details));
        return;
    }
    m_server->finish(ex, HttpReply::json(200, compact(engine->config().toJson())));
}

void OpsRoutes::postLoadTest(const std::shared_ptr<GatewayExchange> &ex, const QHttpServerRequest &request)
{
    if (!authorized(ex, request, "POST /api/v1/loadtests"))
        return;
    const std::optional<QJsonObject> body = jsonBody(ex, request, "a load-test plan");
    if (!body)
        return;
    static const QStringList known{QStringLiteral("steps"), QStringLiteral("stepSeconds"), QStringLiteral("usersPerStep"),
                                   QStringLiteral("startUsers"), QStringLiteral("spawnRate"), QStringLiteral("mix")};
    for (auto it = body->begin(); it != body->end(); ++it)
        if (!known.contains(it.key())) {
            m_server->finish(ex, badField(it.key(), QStringLiteral("unknown field; known: %1").arg(known.join(u", "))));
            return;
        }
    LoadTestPlan plan;
    QString error;
    const struct {
        const char *name;
        int lo, hi;
        bool required;
        int *out;
    } fields[] = {{"steps", 1, 100, true, &plan.steps},
                  {"stepSeconds", 1, 3600, true, &plan.stepSeconds},
                  {"usersPerStep", 1, 100000, true, &plan.usersPerStep},
                  {"startUsers", 0, 100000, false, &plan.startUsers},
                  {"spawnRate", 0, 100000, false, &plan.spawnRate}};
    for (const auto &f : fields)
        if (!intField(*body, f.name, f.lo, f.hi, f.required, f.out, &error)) {
            m_server->finish(ex, badField(QLatin1String(f.name), error));
            return;
        }
    const QJsonValue mix = body->value(QStringLiteral("mix"));
    if (!mix.isUndefined() && !mix.isNull()) {
        if (!mix.isObject()) {
            m_server->finish(ex, badField(QStringLiteral("mix"), QStringLiteral("must be an object of SLUICE_MIX_* weights")));
            return;
        }
        const QJsonObject m = mix.toObject();
        for (auto it = m.begin(); it != m.end(); ++it) {
            const QString field = QStringLiteral("mix.") + it.key();
            static const QRegularExpression name(QStringLiteral("^SLUICE_MIX_[A-Z0-9_]+$"));
            if (!name.match(it.key()).hasMatch()) {
                m_server->finish(ex, badField(field, QStringLiteral("names must be SLUICE_MIX_<UPPERCASE>")));
                return;
            }
            if (!it->isDouble() || it->toDouble() < 0 || it->toDouble() > 1e6) {
                m_server->finish(ex, badField(field, QStringLiteral("must be a non-negative number")));
                return;
            }
            plan.mix.insert(it.key(), QString::number(it->toDouble(), 'g', 10));
        }
    }
    const GatewayDeps &deps = m_server->deps();
    if (!deps.loadTests) {
        m_server->finish(ex, errorReply(StatusCode::Unavailable, QStringLiteral("load tests are not available in this process")));
        return;
    }
    plan.target = m_server->selfUrl();
    plan.model = m_server->options().model;
    const QJsonObject engineConfig = deps.engine->config().toJson();
    const QJsonObject environment{{QStringLiteral("cpus"), QThread::idealThreadCount()},
                                  {QStringLiteral("upstreamKind"), m_server->options().upstreamKind},
                                  {QStringLiteral("model"), m_server->options().model}};
    const auto poster = m_server->poster();
    GatewayHttpServer *server = m_server;
    QPointer<LoadTestController> controller = deps.loadTests;
    // Runs on the controller's (main) thread; the answer is posted back, never awaited.
    QMetaObject::invokeMethod(controller, [=] {
        QString startError;
        const bool wasRunning = controller->isRunning();
        const quint64 id = wasRunning ? 0 : controller->start(plan, engineConfig, environment, &startError);
        if (wasRunning)
            startError = QStringLiteral("a load test is already running (id %1); DELETE /api/v1/loadtests/%1 first")
                             .arg(controller->id());
        const QJsonObject status = controller->status();
        poster->post([=] {
            if (id) {
                QJsonObject o = status;
                o.insert(QStringLiteral("id"), QString::number(id));
                HttpReply r = HttpReply::json(201, compact(o));
                r.headers.append({QByteArrayLiteral("Location"), "/api/v1/loadtests/" + QByteArray::number(id)});
                server->finish(ex, r);
            } else if (wasRunning) {
                server->finish(ex, errorReply(StatusCode::InvalidArgument, startError, 409));
            } else if (startError.contains(QLatin1String("not installed")) || startError.contains(QLatin1String("cannot be read"))) {
                server->finish(ex, errorReply(StatusCode::Unavailable, startError));
            } else {
                server->finish(ex, errorReply(StatusCode::Internal, startError));
            }
        });
    }, Qt::QueuedConnection);
}

void OpsRoutes::getLoadTest(const std::shared_ptr<GatewayExchange> &ex, const QString &id)
{
    LoadTestController *controller = m_server->deps().loadTests;
    bool ok = false;
    const quint64 n = id.toULongLong(&ok);
    if (!controller || !ok || n == 0 || n != controller->id()) {
        m_server->finish(ex, errorReply(StatusCode::NotFound, QStringLiteral("no load test with id %1").arg(id)));
        return;
    }
    QJsonObject o = controller->status(); // thread-safe
    o.insert(QStringLiteral("id"), QString::number(n));
    m_server->finish(ex, HttpReply::json(200, compact(o)));
}

void OpsRoutes::deleteLoadTest(const std::shared_ptr<GatewayExchange> &ex, const QHttpServerRequest &request, const QString &id)
{
    if (!authorized(ex, request, "DELETE /api/v1/loadtests/{id}"))
        return;
    LoadTestController *c = m_server->deps().loadTests;
    bool ok = false;
    const quint64 n = id.toULongLong(&ok);
    if (!c || !ok || n == 0 || n != c->id()) {
        m_server->finish(ex, errorReply(StatusCode::NotFound, QStringLiteral("no load test with id %1").arg(id)));
        return;
    }
    const auto poster = m_server->poster();
    GatewayHttpServer *server = m_server;
    QPointer<LoadTestController> controller = c;
    QMetaObject::invokeMethod(controller, [=] {
        if (controller->id() == n && controller->isRunning())
            controller->stop(); // SIGTERM; `finished` and a final status follow
        QJsonObject o = controller->status();
        o.insert(QStringLiteral("id"), QString::number(n));
        poster->post([=] { server->finish(ex, HttpReply::json(200, compact(o))); });
    }, Qt::QueuedConnection);
}

void OpsRoutes::getBaseline(const std::shared_ptr<GatewayExchange> &ex)
{
    const GatewayDeps &deps = m_server->deps();
    std::optional<PerformanceBaseline> b;
    if (deps.loadTests)
        b = deps.loadTests->lastBaseline();
    if (!b && deps.drift)
        b = deps.drift->baseline();
    if (!b) {
        m_server->finish(ex, errorReply(StatusCode::NotFound,
                                        QStringLiteral("no baseline yet: run a load test (POST /api/v1/loadtests), capture one "
                                                       "with `sluice --capture-baseline FILE`, or PUT one to /api/v1/baseline")));
        return;
    }
    m_server->finish(ex, HttpReply::json(200, compact(b->toJson())));
}

void OpsRoutes::putBaseline(const std::shared_ptr<GatewayExchange> &ex, const QHttpServerRequest &request)
{
    if (!authorized(ex, request, "PUT /api/v1/baseline"))
        return;
    const std::optional<QJsonObject> body = jsonBody(ex, request, "a sluice.performance-baseline/v1 document");
    if (!body)
        return;
    PerformanceBaseline baseline;
    QString error;
    if (!PerformanceBaseline::fromJson(*body, &baseline, &error)) {
        // "steps[2].p95Ms: must be ..." names the field before the colon.
        const qsizetype colon = error.indexOf(QLatin1String(": "));
        const QString field = colon > 0 && !error.left(colon).contains(u' ') ? error.left(colon) : QString();
        m_server->finish(ex, field.isEmpty() ? badField(QString(), error) : badField(field, error.mid(colon + 2)));
        return;
    }
    QPointer<DriftMonitor> drift = m_server->deps().drift;
    if (!drift) {
        m_server->finish(ex, errorReply(StatusCode::Unavailable, QStringLiteral("drift monitoring is not available in this process")));
        return;
    }
    const auto poster = m_server->poster();
    GatewayHttpServer *server = m_server;
    QMetaObject::invokeMethod(drift, [=] {
        drift->setBaseline(baseline);
        const QJsonObject state = drift->toJson();
        poster->post([=] {
            server->finish(ex, HttpReply::json(200, compact({{QStringLiteral("loaded"), true},
                                                             {QStringLiteral("createdAt"), baseline.createdAt.toUTC().toString(Qt::ISODateWithMs)},
                                                             {QStringLiteral("drift"), state}})));
        });
    }, Qt::QueuedConnection);
}
