#pragma once

#include "core/util/memorybudget.h"
#include "server/http/httpreply.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QSslConfiguration>
#include <QTcpServer>
#include <QTimer>

#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>

class QSocketNotifier;
class QTcpSocket;

// What a production HTTP/1.1 front end must enforce and Qt 6.4.2's
// QAbstractHttpServer does not (measured: no body limit — a 200 MB body took
// 619 MB —, no idle, header or body timeout, Expect: 100-continue ignored,
// listen backlog 50, answers written in completion order, no connection cap,
// accept errors left to Qt).
struct HttpLimits {
    qint64 maxBodyBytes = 10 * 1024 * 1024; // larger Content-Length → 413 before the body is read
    int maxHeaderBytes = 64 * 1024;         // request line + headers; larger → 431
    int idleTimeoutMs = 60000;              // keep-alive connection with nothing outstanding
    int headerTimeoutMs = 10000;            // first byte of a request to the end of its headers → 408 + close
    // A body must be complete within bodyTimeoutMs plus one second per
    // minBodyBytesPerSecond bytes received so far (Apache's mod_reqtimeout
    // rule); slower → 408 + close. 0 bytes/s: only bodyTimeoutMs of silence.
    int bodyTimeoutMs = 20000;
    int minBodyBytesPerSecond = 1024;
    int maxConnections = 4096;              // open connections; beyond → 503 + close
    int listenBacklog = 4096;
    // Admitted work's memory (null: not accounted). A request with a body
    // is charged Content-Length × bodyExpansion + kRequestOverheadBytes when
    // its head is in, before its body is read (no room: 503 + Retry-After),
    // until its answer is written; an answer's bytes are charged until the
    // client has taken them from the socket. Requests without a body are
    // never refused (health checks keep working when the budget is full).
    MemoryBudget *memory = nullptr;
    int bodyExpansion = 8;
    static constexpr qint64 kRequestOverheadBytes = 16 * 1024;
};

// The QTcpServer the gateway binds its QAbstractHttpServer to
// (QAbstractHttpServer::bind(QTcpServer*)). It is a filter in front of Qt's
// HTTP parser and the writer of every answer on a connection.
//
// How it sees the bytes first: incomingConnection() creates each QTcpSocket
// itself and connects ITS readyRead slot before handing the socket over with
// addPendingConnection(), so for every readyRead this filter runs before
// QAbstractHttpServer's slot. The filter peek()s the unread bytes (Qt's
// parser is not disturbed) and runs a small HTTP/1.1 framing state machine
// over them: headers (until CRLFCRLF) → Content-Length body → next request.
// Qt 6.4.2's slot reads ONE request per readyRead: when it completes one it
// calls the server's handleRequest() — which calls requestStarted() here —
// and, with bytes left, emits readyRead again (queued); when it cannot
// complete one it reads everything available. So at each of the filter's
// turns the unread buffer starts with the bytes still unread at the last
// requestStarted() (already scanned: skipped) or holds only new bytes.
//
// Refusals. A request that breaks a limit or whose framing two parsers could
// read differently (RFC 9112 §3, §5, §6.3: obs-fold, bare LF, duplicate or
// conflicting Content-Length/Transfer-Encoding, chunked bodies, missing or
// duplicate Host, a bad request line) is answered by the filter itself (400,
// 408, 411, 413, 431) and never reaches Qt's parser: the filter reads and
// discards what is buffered, half-closes once the answer is flushed so the
// client reads it instead of a reset, and aborts the connection a little
// later. Good requests pipelined before the bad one are handed to Qt first
// and answered first: the refusal waits until the last of them started.
//
// Answers leave in request order (RFC 9112 §9.3.2): the server writes each
// answer with writeAnswer() under the sequence number requestStarted() gave
// its request; an answer that completes early is held until the ones before
// it are written.
//
// Connections: at most maxConnections (beyond: 503 + close, without Qt ever
// seeing the socket); an accept error for lack of descriptors pauses
// accepting with a backoff and is logged once per episode. Also: answers
// `Expect: 100-continue`, closes idle keep-alive connections, sets
// TCP_NODELAY.
//
// Thread: lives on the gateway's server thread, like its sockets.
class HttpLimitsTcpServer : public QTcpServer
{
    Q_OBJECT
public:
    // Builds the raw bytes of a complete error answer the filter writes by
    // itself (status line, headers incl. Connection: close, Gemini envelope).
    using ErrorResponder = std::function<QByteArray(int httpStatus, const QString &message)>;

    // What the filter read in a request's head, for the server.
    struct RequestTicket {
        quint64 sequence = 0;   // pass to writeAnswer()
        bool closeAfter = false; // Connection: close, or HTTP/1.0 without keep-alive
        bool http10KeepAlive = false; // HTTP/1.0 asking keep-alive: the answer says Connection: keep-alive
        bool http10 = false;     // HTTP/1.0: no chunked answers
    };

    HttpLimitsTcpServer(const HttpLimits &limits, ErrorResponder errorResponder, QObject *parent = nullptr);
    ~HttpLimitsTcpServer() override;

    const HttpLimits &limits() const { return m_limits; }
    // Serves HTTPS from now on (new connections; those open keep theirs).
    // A client that speaks plain HTTP to the TLS port gets a plain 400
    // saying so. Call before listening, and again to reload a certificate.
    void setTlsConfiguration(const QSslConfiguration &configuration);
    bool isTls() const { return m_tls.has_value(); }
    quint64 tlsHandshakeFailures() const { return m_tlsHandshakeFailures; }
    // The server's handleRequest() calls this once per request, in the order
    // Qt hands them over.
    RequestTicket requestStarted(QTcpSocket *socket);
    // Writes one whole answer in request order; `close` closes the
    // connection after it (later answers are dropped).
    void writeAnswer(QTcpSocket *socket, quint64 sequence, const QByteArray &bytes, bool close);
    // Writes an answer in parts (a stream): each part leaves as soon as the
    // answers before it are written; the answers after it wait for the part
    // with `last`, after which `close` closes the connection. Parts after
    // the last are ignored.
    void writeAnswerPart(QTcpSocket *socket, quint64 sequence, const QByteArray &bytes, bool last, bool close);
    // Forgets `socket` (its limits, timeouts and signal connections): for a
    // connection another protocol takes over, e.g. a WebSocket upgrade.
    void release(QTcpSocket *socket);
    int connectionCount() const { return int(m_connections.size()); }
    quint64 connectionsRefused() const { return m_connectionsRefused; }
    // Shutdown: blocks (on the server thread) until every answer already
    // written reaches the kernel, or `timeoutMs` passes. Returns the bytes
    // still unsent when it gave up.
    qint64 flushAll(int timeoutMs);

protected:
    void incomingConnection(qintptr handle) override;

private:
    struct Connection;
    enum class Kind { Plain, Tls, PlainOnTlsPort };
    // Wraps an accepted descriptor in a socket of `kind` and hands it to Qt
    // (a TLS one once its handshake is done), or refuses it.
    void adopt(qintptr handle, Kind kind);
    void handToQt(Connection *c);
    void onReadyRead(Connection *c);
    void consume(Connection *c, const char *data, qint64 size);
    bool headersComplete(Connection *c, QByteArrayView block);
    // Counts up to `available` bytes of the current body; returns how many.
    qint64 consumeBody(Connection *c, qint64 available);
    void requestComplete(Connection *c);
    // Refuses the request being read: at once when no earlier request is
    // still waiting for Qt, else when the last of them started.
    void refuse(Connection *c, int httpStatus, const QString &message);
    void issueRefusal(Connection *c);
    void writeInOrder(Connection *c);
    void discardInput(Connection *c);
    // Gives back what `c` holds of the memory budget (its requests not
    // answered and its answers not sent): the connection is going.
    void releaseMemory(Connection *c);
    // Drops `socket`'s state: its memory charges and its place in the counts.
    void forget(QTcpSocket *socket);
    void onAcceptError(QAbstractSocket::SocketError error);
    void sweep();
    qint64 nowMs() const { return m_clock.elapsed(); }

    HttpLimits m_limits;
    ErrorResponder m_errorResponder;
    QElapsedTimer m_clock;
    QTimer m_sweepTimer;
    QTimer m_resumeTimer;             // accepting again after an accept error
    int m_acceptBackoffMs = 0;
    std::unordered_map<QTcpSocket *, std::unique_ptr<Connection>> m_connections;
    int m_served = 0;                 // connections being served (the ones maxConnections counts)
    std::optional<QSslConfiguration> m_tls;
    struct Sniff {
        QSocketNotifier *notifier;
        qint64 sinceMs;
    };
    std::unordered_map<qintptr, Sniff> m_sniffing; // TLS port: accepted, first byte not seen yet
    quint64 m_tlsHandshakeFailures = 0;
    int m_overflow = 0;               // connections being refused for the cap
    quint64 m_connectionsRefused = 0;
    QByteArray m_peekBuffer; // onReadyRead's copy of the unread bytes, kept to spare an allocation per read
};
