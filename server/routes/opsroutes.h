#pragma once

#include "server/gatewayexchange.h"

#include <QHttpServerRequest>

#include <QJsonObject>

#include <memory>
#include <optional>

class GatewayHttpServer;

// The operations API (DESIGN.md §7):
//   GET /health          AgentHealthCheck (200 ok/degraded, 503 draining/circuit open)
//   GET /metrics         PrometheusExporter text format 0.0.4
//   GET /api/v1/stats    the latest MetricsSnapshot as JSON
//   GET /api/v1/config   the EngineConfig in force
//   PATCH /api/v1/config EngineConfig::fromJson over the config in force, then
//                        engine.setConfig: live, validated, nothing changes on a
//                        bad value (400 naming the field). Needs
//                        `Authorization: Bearer <adminToken>` when a token is set (401).
//   POST /api/v1/loadtests        start a stepped Locust run against this gateway
//                                 (token); body {steps, stepSeconds, usersPerStep,
//                                 startUsers?, spawnRate?, mix?: {SLUICE_MIX_*: n}};
//                                 400 naming the field, 409 while one runs, 503 when
//                                 Locust (or the controller) is missing, 500 otherwise;
//                                 201 {id, ...LoadTestController::status()}.
//   GET /api/v1/loadtests/{id}    status() of that run (404 for an unknown id)
//   DELETE /api/v1/loadtests/{id} stop it (token); 200 with the status after the stop
//   GET /api/v1/baseline          the last finished run's PerformanceBaseline, else the
//                                 drift reference, else 404 saying how to make one
//   PUT /api/v1/baseline          load a PerformanceBaseline as the drift reference
//                                 (token); 400 naming what is wrong
//
// LoadTestController and DriftMonitor live on the main thread: calls into
// them go through QMetaObject::invokeMethod and the answer comes back
// through the server's ServerThreadPoster, so the server thread never waits
// for the main thread. Only their thread-safe getters are read directly.
//
// Thread: server thread.
class OpsRoutes
{
public:
    explicit OpsRoutes(GatewayHttpServer *server) : m_server(server) {}

    void health(const std::shared_ptr<GatewayExchange> &ex);
    void metrics(const std::shared_ptr<GatewayExchange> &ex);
    void stats(const std::shared_ptr<GatewayExchange> &ex);
    void getConfig(const std::shared_ptr<GatewayExchange> &ex);
    void patchConfig(const std::shared_ptr<GatewayExchange> &ex, const QHttpServerRequest &request);
    void postLoadTest(const std::shared_ptr<GatewayExchange> &ex, const QHttpServerRequest &request);
    void getLoadTest(const std::shared_ptr<GatewayExchange> &ex, const QString &id);
    void deleteLoadTest(const std::shared_ptr<GatewayExchange> &ex, const QHttpServerRequest &request, const QString &id);
    void getBaseline(const std::shared_ptr<GatewayExchange> &ex);
    void putBaseline(const std::shared_ptr<GatewayExchange> &ex, const QHttpServerRequest &request);

private:
    // Answers 401 and returns false when a token is set and the request lacks it.
    bool authorized(const std::shared_ptr<GatewayExchange> &ex, const QHttpServerRequest &request, const char *what);
    // Parses a JSON object body (415/400 answered here); nullopt when answered.
    std::optional<QJsonObject> jsonBody(const std::shared_ptr<GatewayExchange> &ex, const QHttpServerRequest &request,
                                        const char *what);

    GatewayHttpServer *m_server;
};
