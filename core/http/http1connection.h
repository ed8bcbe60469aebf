#pragma once

#include "core/http/http1responseparser.h"

#include <QAbstractSocket>
#include <QByteArray>
#include <QObject>
#include <QString>

#include <chrono>

class QTcpSocket;

// One HTTP/1.1 keep-alive client connection to a plain-http upstream: one
// QTcpSocket (TCP_NODELAY, never through a proxy), one exchange at a time (no
// pipelining), the response read by an Http1ResponseParser.
//
// send() takes the whole serialized request and writes it at once, connecting
// first when needed. The Listener (its Http1ConnectionPool) then hears exactly
// one of http1ResponseReceived() or http1ExchangeFailed() for it, unless
// abort() runs first; a failure closes the connection. While idle, a close or
// error from the peer (or unsolicited bytes) closes it and is reported by
// http1IdleClosed(). Listener calls never happen inside send() or abort():
// a failure detected synchronously there is reported from the event loop.
//
// Failure messages name the upstream and follow "upstream transport error: ",
// e.g. "connection refused by 127.0.0.1:8080", "malformed status line from
// 127.0.0.1:8080".
//
// Thread: lives on the thread of its owner and is used only there; delete it
// with deleteLater() (it may be inside a socket signal).
class Http1Connection : public QObject
{
    Q_OBJECT
public:
    struct Response {
        int status = 0;
        Http1ResponseParser::Headers headers; // names lower-cased
        QByteArray body; // streamed 2xx answers: only the bytes not yet delivered

        QByteArray header(QByteArrayView lowerName) const;
    };

    class Listener
    {
    public:
        // Body bytes of a 2xx answer to a streaming send(), as they arrive.
        virtual void http1BodyReceived(Http1Connection *connection, QByteArray bytes) = 0;
        // The final response is complete; the connection is idle again when isReusable().
        virtual void http1ResponseReceived(Http1Connection *connection, Response response) = 0;
        // The exchange failed (transport or protocol error); the connection is closed.
        virtual void http1ExchangeFailed(Http1Connection *connection, const QString &message) = 0;
        // An idle connection was closed by the peer or failed; it is closed.
        virtual void http1IdleClosed(Http1Connection *connection) = 0;

    protected:
        ~Listener() = default;
    };

    Http1Connection(const QString &host, quint16 port, Http1ResponseParser::Limits limits, Listener *listener,
                    QObject *parent = nullptr);
    ~Http1Connection() override;

    // Starts one exchange. Precondition: not busy and not closed.
    // `streamBody`: deliver a 2xx body through http1BodyReceived() as it arrives.
    void send(const QByteArray &request, bool streamBody);
    // Closes at once; no Listener call follows.
    void abort();

    bool isBusy() const { return m_busy; }
    bool isClosed() const { return m_closed; }
    bool isReusable() const { return !m_busy && !m_closed; }
    // Responses completed on this connection.
    int completedExchanges() const { return m_completed; }
    // The current (or last) exchange went out on a connection that had
    // answered before, and failed before any byte of its response arrived:
    // the peer most likely closed the connection while it was idle.
    bool failedAsStaleReuse() const { return m_staleReuseFailure; }
    std::chrono::steady_clock::time_point idleSince() const { return m_idleSince; }
    // "host:port" as used in messages ("[::1]:8080" for IPv6).
    QString peerName() const { return m_peerName; }

private:
    void onConnected();
    void onReadyRead();
    void onSocketError(QAbstractSocket::SocketError error);
    void onDisconnected();
    void completeExchange();
    void failExchange(const QString &message);
    void closeIdle();
    void closeSocket();
    void deliverDeferredFailure();
    QString describe(QAbstractSocket::SocketError error) const;

    QTcpSocket *m_socket;
    Listener *m_listener;
    QString m_host;
    quint16 m_port;
    QString m_peerName;
    Http1ResponseParser m_parser;
    bool m_busy = false;
    bool m_closed = false;
    bool m_stream = false;
    bool m_inSend = false;
    bool m_staleReuseFailure = false;
    bool m_hasDeferredFailure = false;
    int m_completed = 0;
    QString m_deferredFailure;
    std::chrono::steady_clock::time_point m_idleSince;
};
