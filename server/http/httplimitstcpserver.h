#pragma once

#include "server/http/httpreply.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QTcpServer>
#include <QTimer>

#include <functional>
#include <memory>
#include <unordered_map>

class QTcpSocket;

// What a production HTTP/1.1 front end must enforce and Qt 6.4.2's
// QAbstractHttpServer does not (measured: no body limit — a 200 MB body took
// 619 MB —, no idle or header timeout, Expect: 100-continue ignored, listen
// backlog 50).
struct HttpLimits {
    qint64 maxBodyBytes = 10 * 1024 * 1024; // larger Content-Length → 413 before the body is read
    int maxHeaderBytes = 64 * 1024;         // request line + headers; larger → 431
    int idleTimeoutMs = 60000;              // keep-alive connection with nothing outstanding, or a stalled body
    int headerTimeoutMs = 10000;            // first byte of a request to the end of its headers → 408 + close
    int listenBacklog = 4096;
};

// The QTcpServer the gateway binds its QAbstractHttpServer to
// (QAbstractHttpServer::bind(QTcpServer*)). It is a thin filter in front of
// Qt's HTTP parser:
//
// How it sees the bytes first: incomingConnection() creates each QTcpSocket
// itself and connects ITS readyRead slot before handing the socket over with
// addPendingConnection(), so for every readyRead this filter runs before
// QAbstractHttpServer's slot. Qt's slot always consumes everything available
// (a socket transaction + readAll), so at the filter's turn bytesAvailable()
// holds exactly the bytes that arrived since the last readyRead; the filter
// peek()s them (no copy into Qt's parser is disturbed) and runs a small
// HTTP/1.1 framing state machine over them: headers (until CRLFCRLF) →
// Content-Length body → next request. Measured in 6.4.2, peek() during Qt's
// open transaction returns only the unread tail, as assumed.
//
// When a request breaks a limit, the filter answers it itself (413 when the
// declared Content-Length exceeds maxBodyBytes — as soon as the headers are
// in, without waiting for the body —, 431, 411 for chunked request bodies
// whose size cannot be known up front, 408 for headers slower than
// headerTimeoutMs), then reads and discards what is buffered so Qt's parser
// never sees the request, half-closes (shutdown SHUT_WR) once the answer is
// flushed so the client reads it instead of a reset, and aborts the
// connection a little later. It also answers `Expect: 100-continue` with
// 100 Continue for acceptable requests, closes idle keep-alive connections,
// and sets TCP_NODELAY.
//
// The gateway tells the filter when it wrote an answer (responseWritten) so a
// connection waiting for a slow batch is not mistaken for an idle one.
//
// Thread: lives on the gateway's server thread, like its sockets.
class HttpLimitsTcpServer : public QTcpServer
{
    Q_OBJECT
public:
    // Builds the raw bytes of a complete error answer the filter writes by
    // itself (status line, headers incl. Connection: close, Gemini envelope).
    using ErrorResponder = std::function<QByteArray(int httpStatus, const QString &message)>;

    HttpLimitsTcpServer(const HttpLimits &limits, ErrorResponder errorResponder, QObject *parent = nullptr);
    ~HttpLimitsTcpServer() override;

    const HttpLimits &limits() const { return m_limits; }
    void responseWritten(QTcpSocket *socket);
    // Forgets `socket` (its limits, timeouts and signal connections): for a
    // connection another protocol takes over, e.g. a WebSocket upgrade.
    void release(QTcpSocket *socket);
    int connectionCount() const { return int(m_connections.size()); }
    // Shutdown: blocks (on the server thread) until every answer already
    // written reaches the kernel, or `timeoutMs` passes. Returns the bytes
    // still unsent when it gave up.
    qint64 flushAll(int timeoutMs);

protected:
    void incomingConnection(qintptr handle) override;

private:
    struct Connection;
    void onReadyRead(Connection *c);
    void consume(Connection *c, const char *data, qint64 size);
    bool headersComplete(Connection *c, QByteArrayView block);
    void reject(Connection *c, int httpStatus, const QString &message);
    void discardInput(Connection *c);
    void sweep();
    qint64 nowMs() const { return m_clock.elapsed(); }

    HttpLimits m_limits;
    ErrorResponder m_errorResponder;
    QElapsedTimer m_clock;
    QTimer m_sweepTimer;
    std::unordered_map<QTcpSocket *, std::unique_ptr<Connection>> m_connections;
    QByteArray m_peekBuffer; // onReadyRead's copy of the unread bytes, kept to spare an allocation per read
};
