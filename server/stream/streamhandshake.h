#pragma once

#include "server/http/httpreply.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QPair>
#include <QStringList>
#include <QStringView>

#include <optional>

// The gateway's own decision on a WebSocket opening handshake for
// GET /api/v1/stream (RFC 6455 §4.2.1), taken in GatewayHttpServer::
// handleRequest() before Qt's QWebSocketServer sees the request.
//
// Why the gateway decides first: Qt 6.4.2 hands a request it reads as an
// upgrade (combined Connection value contains "upgrade", combined Upgrade
// value is "websocket") to the private QWebSocketServer of
// QAbstractHttpServer only when handleRequest() returns true, and that server
// answers what it dislikes without any body or headers of ours, or not at
// all: an invalid request (no Host, a version list that is not all numbers,
// an Upgrade or first Connection field it does not read as an upgrade) is
// closed without an answer. So every request refusal() accepts is one both
// Qt parts accept (tests/server/stream/tst_streamhandshake.cpp checks each
// accepted row against both rules), and every other request gets a
// Gemini-envelope answer from the gateway.
//
// Conditions, in this order (the first that fails gives the answer):
//   1. Upgrade is `websocket` (one field) and the FIRST Connection field has
//      the token `upgrade` (Qt reads only the first)   else 426 + Upgrade: websocket
//   2. the method is GET                                else 405 + Allow: GET
//   3. Sec-WebSocket-Version is `13`                    else 426 + Sec-WebSocket-Version: 13
//   4. Sec-WebSocket-Key is base64 of 16 bytes          else 400
//   5. one Host field with a host and no user info      else 400
//   6. Origin is absent, the served origin (scheme http/https, the Host's
//      host and port) or in the allow-list ("*": any)  else 403
// What it cannot check, as Qt 6.4's QHttpServerRequest does not expose it:
// an `HTTP/1.0` request line passes here and is then closed by Qt's server
// without an answer (no browser sends one).
//
// Thread: pure functions, thread-safe.
namespace StreamHandshake {

using Headers = QList<QPair<QByteArray, QByteArray>>; // as QHttpServerRequest::headers() returns them

// nullopt when the request may become a stream (Qt's server will answer 101);
// else the complete refusal to write (status, envelope, extra header).
// `path` is the request's path, quoted in the 426 message.
std::optional<HttpReply> refusal(QStringView path, bool isGet, const Headers &headers,
                                 const QStringList &allowedOrigins);

// Condition 6 alone: `origin` and `host` are raw header values (empty when absent).
bool originAllowed(QByteArrayView origin, QByteArrayView host, const QStringList &allowedOrigins);

} // namespace StreamHandshake
