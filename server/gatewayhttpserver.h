#pragma once

#include "server/gatewayexchange.h"
#include "server/gatewayserver.h"
#include "server/http/httplimitstcpserver.h"
#include "server/http/httpreply.h"

#include <QAbstractHttpServer>
#include <QElapsedTimer>
#include <QHttpServerRequest>
#include <QSet>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

class DashboardAssets;
class GeminiRoutes;
class MetricsStream;
class OpsRoutes;
struct MetricsStreamCounters;

// Lets engine and upstream threads run a function on the server thread, or
// drop it once the server is gone (detach() under the same lock), so a late
// completion never touches a destroyed object.
//
// Thread: post() and detach() are thread-safe.
class ServerThreadPoster
{
public:
    explicit ServerThreadPoster(QObject *target) : m_target(target) {}
    void post(std::function<void()> fn);
    void detach();

private:
    std::mutex m_mutex;
    QObject *m_target;
};

// The HTTP server proper, on the "sluice-server" thread. Subclasses
// QAbstractHttpServer rather than using QHttpServer's router: dispatch is a
// few string comparisons on the decoded path (no per-request regular
// expression), every unknown path and wrong method gets a Gemini-envelope
// 404/405 (with Allow) carrying the X-Queue-* headers like every other
// answer, and HEAD is answered without a body.
//
// WebSocket upgrades (Qt 6.4.2, qabstracthttpserver.cpp): Qt calls
// handleRequest() for a request it reads as `Upgrade: websocket` too, with
// the socket's read transaction still open; `true` then hands the socket to
// Qt's private QWebSocketServer (which answers 101 and emits
// newWebSocketConnection), `false` makes Qt call missingHandler() and close
// the connection. So handleRequest() accepts only GET /api/v1/stream that
// passes MetricsStream::refusal() (after releasing the socket from the
// limits filter, whose signal connections Qt's handover drops), and answers
// every other upgrade request itself (the stream's 426/405/400/403, 404 on
// any other path, with Connection: close) and returns false; missingHandler()
// then writes nothing more.
//
// Thread: server thread (created, used and destroyed there).
class GatewayHttpServer : public QAbstractHttpServer
{
    Q_OBJECT
public:
    GatewayHttpServer(const GatewayDeps &deps, const GatewayOptions &options, QObject *parent = nullptr);
    ~GatewayHttpServer() override;

    // Shutdown: waits (on this thread) until the answers already written have
    // left for the kernel, at most timeoutMs; returns the bytes still unsent.
    qint64 flushPendingAnswers(int timeoutMs);

    // Binds; returns the bound port or 0 with *error set.
    // `tls`: serve HTTPS with it (null: plain HTTP).
    quint16 listenOn(const QHostAddress &address, quint16 port, const QSslConfiguration *tls, QString *error);
    // New connections get this TLS identity (a reloaded certificate).
    void setTlsConfiguration(const QSslConfiguration &configuration);

    // Writes `reply` on the exchange (once) with the common headers; a no-op when
    // the client has gone. Server thread only.
    void finish(const std::shared_ptr<GatewayExchange> &exchange, const HttpReply &reply);
    // A streamed answer (server thread): beginStream() writes the head
    // (`head`'s status, type and headers; its body is ignored) and `firstData`,
    // chunked (close-delimited for HTTP/1.0); streamData() writes one more
    // piece as it comes; endStream() writes the last piece and the end of the
    // body, closing the connection after it with `close`. finish() after
    // beginStream() does nothing: a stream ends with endStream().
    void beginStream(const std::shared_ptr<GatewayExchange> &exchange, const HttpReply &head, const QByteArray &firstData);
    void streamData(const std::shared_ptr<GatewayExchange> &exchange, const QByteArray &data);
    void endStream(const std::shared_ptr<GatewayExchange> &exchange, const QByteArray &lastData, bool close);

    const GatewayDeps &deps() const { return m_deps; }
    const GatewayOptions &options() const { return m_options; }
    const std::shared_ptr<ServerThreadPoster> &poster() const { return m_poster; }
    double uptimeSeconds() const { return double(m_uptime.elapsed()) / 1000.0; }
    std::map<std::pair<QByteArray, int>, quint64> requestCounts() const { return m_requestCounts; }

    // The raw bytes of an error answer written outside a responder (the limits filter).
    QByteArray rawErrorResponse(int httpStatus, const QString &message);

    // The gateway's own base URL (loopback when bound to any address): load-test target.
    QUrl selfUrl() const { return m_selfUrl; }
    void closeStreams();
    std::shared_ptr<const MetricsStreamCounters> streamCounters() const;

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    // Date, Server and X-Queue-* lines, each ending in CRLF, appended to `out`.
    void appendCommonHeaders(QByteArray &out);
    static void appendChunk(QByteArray &out, const QByteArray &data, bool raw);
    // One whole answer: status line (`status`), Content-Type and -Length, the
    // common headers, the reply's own headers, Connection: close when `close`,
    // then the body unless `withBody` is false (HEAD).
    // Connection: keep-alive when `keepAlive` (an HTTP/1.0 client asked for it).
    QByteArray serialize(const HttpReply &reply, int status, bool close, bool withBody, bool keepAlive = false);
    // Status line, Content-Type, `framing` (Content-Length or
    // Transfer-Encoding, with its CRLF; empty for a close-delimited body),
    // the common headers, the reply's, Connection, and the blank line.
    void appendHead(QByteArray &out, const HttpReply &reply, int status, QByteArrayView framing, bool close, bool keepAlive);
    // Any answer written outside a responder, with the common headers and Connection: close.
    QByteArray rawResponse(const HttpReply &reply, const QByteArray &route);
    void methodNotAllowed(const std::shared_ptr<GatewayExchange> &ex, const QByteArray &allow);
    void notFound(const std::shared_ptr<GatewayExchange> &ex, const QString &path);
    // GET /api/v1/stream, plain or upgrade (`upgrade`: Qt's upgrade branch, see above).
    bool streamRequest(const std::shared_ptr<GatewayExchange> &ex, const QHttpServerRequest &request,
                       QTcpSocket *socket, bool upgrade);
    // Answers an upgrade request Qt would otherwise hand over; handleRequest() returns false after it.
    void refuseUpgrade(const std::shared_ptr<GatewayExchange> &ex, const HttpReply &reply);
    // Every route: a Host this gateway does not answer to (421, DNS
    // rebinding); state-changing methods: a foreign Origin (403, CSRF; the
    // stream's own rule, StreamHandshake::originAllowed).
    std::optional<HttpReply> requestRefusal(const QHttpServerRequest &request, bool stateChanging) const;
    bool hostAllowed(QByteArrayView hostHeader) const;

    GatewayDeps m_deps;
    GatewayOptions m_options;
    HttpLimitsTcpServer *m_tcp = nullptr; // child of this (bind() reparents it)
    // The socket whose upgrade request handleRequest() just answered and
    // returned false for: Qt's missingHandler() call that follows writes nothing.
    QTcpSocket *m_answeredUpgrade = nullptr;
    std::unique_ptr<GeminiRoutes> m_gemini;
    std::unique_ptr<OpsRoutes> m_ops;
    std::unique_ptr<MetricsStream> m_stream;
    std::unique_ptr<DashboardAssets> m_dashboard;
    QUrl m_selfUrl;
    QSet<QString> m_allowedHosts; // besides loopback names; see listenOn()
    bool m_anyHost = false;       // allowedHosts has "*"
    std::shared_ptr<ServerThreadPoster> m_poster;
    std::map<std::pair<QByteArray, int>, quint64> m_requestCounts;
    QElapsedTimer m_uptime;
    qint64 m_dateSecond = -1;
    QByteArray m_dateHeader;
};
