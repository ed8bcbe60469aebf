#pragma once

#include "core/http/http1connection.h"

#include <QBasicTimer>
#include <QByteArray>
#include <QObject>
#include <QString>

#include <chrono>
#include <deque>
#include <unordered_map>

// Keep-alive HTTP/1.1 connections to one plain-http upstream (host:port),
// the native transport of one UpstreamWorker.
//
// - start() runs an exchange on the most recently used idle connection
//   (LIFO: the warmest one, and the oldest ones age out), else on a new
//   connection while fewer than Config::maxConnections are open, else it
//   waits in a FIFO until a connection is free.
// - An exchange that fails on a reused connection before any response byte
//   arrived (the peer closed it while idle, or as the request went out) is
//   sent again, once, on a fresh connection; the Exchange only hears about a
//   second failure. Any other failure is reported at once.
// - Connections idle for Config::idleTimeout are closed, as are connections
//   the peer closes, a response says not to reuse, or that failed.
//
// Thread: lives on its owner's thread (the worker's) and is used only there.
class Http1ConnectionPool : public QObject, private Http1Connection::Listener
{
    Q_OBJECT
public:
    struct Config {
        QString host;              // name or address, IPv6 without brackets
        quint16 port = 80;
        int maxConnections = 256;  // open at once, busy or idle
        std::chrono::milliseconds idleTimeout{30000};
        Http1ResponseParser::Limits limits;
    };

    // One request/response through the pool, implemented by the caller, who
    // keeps it alive while isPending(). After start(), exactly one of
    // responseReceived() or failed() is called, unless cancel() runs first.
    class Exchange
    {
    public:
        virtual ~Exchange() = default;
        // Body bytes of a 2xx answer to a streaming exchange, as they arrive.
        virtual void bodyReceived(QByteArray bytes) = 0;
        virtual void responseReceived(Http1Connection::Response response) = 0;
        // `message` follows "upstream transport error: " and names the upstream.
        virtual void failed(const QString &message) = 0;

        bool isPending() const { return m_connection != nullptr || m_queued; }

    private:
        friend class Http1ConnectionPool;
        QByteArray m_request;
        Http1Connection *m_connection = nullptr;
        bool m_stream = false;
        bool m_queued = false;
        bool m_resent = false;
    };

    explicit Http1ConnectionPool(Config config, QObject *parent = nullptr);
    ~Http1ConnectionPool() override;

    // Sends `request` (the complete serialized request) for `exchange`.
    // Precondition: !exchange->isPending().
    void start(Exchange *exchange, QByteArray request, bool streamBody);
    // Forgets a pending exchange without calling it back: dequeued, or its
    // connection is closed. No-op when not pending.
    void cancel(Exchange *exchange);
    // Closes every connection and forgets every exchange without calling back.
    void closeAll();

    int connectionCount() const { return m_open; }   // busy + idle
    int idleCount() const { return int(m_idle.size()); }
    int queuedCount() const { return int(m_queue.size()); }
    const Config &config() const { return m_config; }

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    // Http1Connection::Listener
    void http1BodyReceived(Http1Connection *connection, QByteArray bytes) override;
    void http1ResponseReceived(Http1Connection *connection, Http1Connection::Response response) override;
    void http1ExchangeFailed(Http1Connection *connection, const QString &message) override;
    void http1IdleClosed(Http1Connection *connection) override;

    Http1Connection *newConnection();
    // The exchange running on `connection`, no longer busy there; null when none.
    Exchange *takeBusy(Http1Connection *connection);
    Http1Connection *takeIdle();
    void run(Http1Connection *connection, Exchange *exchange);
    void release(Http1Connection *connection);
    void drop(Http1Connection *connection);
    void pump();

    Config m_config;
    int m_open = 0;
    std::deque<Http1Connection *> m_idle;   // back: most recently used
    std::unordered_map<Http1Connection *, Exchange *> m_busy;
    std::deque<Exchange *> m_queue;
    QBasicTimer m_idleTimer;
};
