#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>

// One HTTP answer as the gateway builds it before writing: status, content
// type, body and the route-specific extra headers. The common headers (Date,
// Server, X-Queue-*, Connection) are added by the writer
// (GatewayHttpServer::finish / HttpLimitsTcpServer), never by a route.
//
// Thread: plain value type.
struct HttpReply {
    int status = 200;
    QByteArray contentType = QByteArrayLiteral("application/json");
    QByteArray body;
    QList<QPair<QByteArray, QByteArray>> headers;

    static HttpReply json(int status, QByteArray body)
    {
        HttpReply r;
        r.status = status;
        r.body = std::move(body);
        return r;
    }
};
