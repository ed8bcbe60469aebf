#include "server/http/gatewaytcpserver.h"

#include <QTcpSocket>

QTcpSocket *GatewayTcpServer::nextPendingConnection()
{
    QTcpSocket *socket = HttpLimitsTcpServer::nextPendingConnection();
    if (socket && m_hook)
        m_hook(socket);
    return socket;
}
