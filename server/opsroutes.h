#pragma once

#include "gatewayexchange.h"

#include <QHttpServerRequest>

#include <memory>

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

private:
    GatewayHttpServer *m_server;
};
