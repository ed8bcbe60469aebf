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
//   0. when an admin token is configured, the request presents it (below)
//                                                       else 401 + WWW-Authenticate
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
// The token (condition 0) comes first so that a plain GET without it gets
// 401 rather than 426: the dashboard, which cannot read why a WebSocket
// failed, learns from that probe that it needs the token. It is presented as
//   - `Authorization: Bearer <token>` (programs), or
//   - a `sluice_token=<percent-encoded token>` cookie (browsers: a page cannot
//     set headers on a WebSocket; the dashboard sets this cookie, scoped to
//     the stream's path, just before it connects),
// and compared in constant time (AdminToken::equals). Why not the other
// carriers: Qt 6.4.2's QAbstractHttpServer keeps its QWebSocketServer
// private, so its 101 never echoes a Sec-WebSocket-Protocol, and Chromium
// fails a handshake that offered one and got none back; a `?token=` query
// parameter would put the admin token (which also authorizes the control
// routes) into every proxy's access log, and refusal() does not get the URL.
//
// Thread: pure functions, thread-safe.
namespace StreamHandshake {

using Headers = QList<QPair<QByteArray, QByteArray>>; // as QHttpServerRequest::headers() returns them

// What the gateway is configured with.
struct Rules {
    QStringList allowedOrigins; // besides the served origin; "*" allows any
    QByteArray adminToken;      // empty: no token is needed
};

// The cookie a browser presents the token in.
inline constexpr const char *kTokenCookie = "sluice_token";

// nullopt when the request may become a stream (Qt's server will answer 101);
// else the complete refusal to write (status, envelope, extra header).
// `path` is the request's path, quoted in the 401 and 426 messages.
std::optional<HttpReply> refusal(QStringView path, bool isGet, const Headers &headers, const Rules &rules);

// Condition 0 alone: true when `adminToken` is empty or the request presents
// it (Bearer or cookie; either one matching is enough).
bool tokenPresented(const Headers &headers, const QByteArray &adminToken);

// Condition 6 alone: `origin` and `host` are raw header values (empty when absent).
bool originAllowed(QByteArrayView origin, QByteArrayView host, const QStringList &allowedOrigins);

} // namespace StreamHandshake
