#include "opsroutes.h"

#include "agenthealthcheck.h"
#include "batchinferenceengine.h"
#include "errormapping.h"
#include "gatewayhttpserver.h"
#include "geminiclient.h"
#include "geminirequestparser.h"
#include "prometheusexporter.h"

#include <QJsonDocument>
#include <QJsonParseError>

namespace {

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

// Constant-time comparison, so the token cannot be guessed byte by byte from timings.
bool sameToken(const QByteArray &a, const QByteArray &b)
{
    if (a.size() != b.size())
        return false;
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a.at(i) ^ b.at(i));
    return diff == 0;
}

} // namespace

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
    if (deps.metrics) {
        in.snapshot = deps.metrics->snapshot();
        in.latency = deps.metrics->cumulativeHistogram(InferenceMetricsCollector::Histogram::Latency);
        in.queueWait = deps.metrics->cumulativeHistogram(InferenceMetricsCollector::Histogram::QueueWait);
        in.upstream = deps.metrics->cumulativeHistogram(InferenceMetricsCollector::Histogram::Upstream);
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
    m_server->finish(ex, HttpReply::json(200, compact(deps.metrics->snapshot().toJson())));
}

void OpsRoutes::getConfig(const std::shared_ptr<GatewayExchange> &ex)
{
    m_server->finish(ex, HttpReply::json(200, compact(m_server->deps().engine->config().toJson())));
}

void OpsRoutes::patchConfig(const std::shared_ptr<GatewayExchange> &ex, const QHttpServerRequest &request)
{
    const QByteArray &token = m_server->options().adminToken;
    if (!token.isEmpty()) {
        const QByteArray auth = request.value(QByteArrayLiteral("authorization")).trimmed();
        if (!auth.startsWith("Bearer ") || !sameToken(auth.mid(7).trimmed(), token)) {
            m_server->finish(ex, ErrorMapping::toReply(Status::error(
                                     StatusCode::Unauthenticated,
                                     QStringLiteral("PATCH /api/v1/config needs Authorization: Bearer <admin token>"))));
            return;
        }
    }
    if (!GeminiRequestParser::isJsonContentType(request.value(QByteArrayLiteral("content-type")))) {
        m_server->finish(ex, ErrorMapping::toReply(Status::error(StatusCode::InvalidArgument,
                                                                 QStringLiteral("Content-Type must be application/json")),
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
