#pragma once

#include "server/http/httplimitstcpserver.h"

#include <functional>

// HttpLimitsTcpServer plus one hook: `onNewSocket` runs for each connection
// as QAbstractHttpServer takes it (nextPendingConnection), i.e. after the
// limits filter connected to the socket and before Qt's HTTP parser does.
// MetricsStream uses it to take over WebSocket upgrades of /api/v1/stream.
//
// Thread: server thread, like its base.
class GatewayTcpServer : public HttpLimitsTcpServer
{
    Q_OBJECT
public:
    using HttpLimitsTcpServer::HttpLimitsTcpServer;

    void setNewSocketHook(std::function<void(QTcpSocket *)> hook) { m_hook = std::move(hook); }
    QTcpSocket *nextPendingConnection() override;

private:
    std::function<void(QTcpSocket *)> m_hook;
};
