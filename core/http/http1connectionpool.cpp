#include "core/http/http1connectionpool.h"

#include <QTimerEvent>

#include <algorithm>

using namespace std::chrono;

Http1ConnectionPool::Http1ConnectionPool(Config config, QObject *parent)
    : QObject(parent), m_config(std::move(config))
{
    m_config.maxConnections = std::max(1, m_config.maxConnections);
}

Http1ConnectionPool::~Http1ConnectionPool()
{
    closeAll();
}

void Http1ConnectionPool::start(Exchange *exchange, QByteArray request, bool streamBody)
{
    Q_ASSERT(!exchange->isPending());
    exchange->m_request = std::move(request);
    exchange->m_stream = streamBody;
    exchange->m_resent = false;
    Http1Connection *c = takeIdle();
    if (!c && m_open < m_config.maxConnections)
        c = newConnection();
    if (!c) {
        exchange->m_queued = true;
        m_queue.push_back(exchange);
        return;
    }
    run(c, exchange);
}

void Http1ConnectionPool::cancel(Exchange *exchange)
{
    if (exchange->m_queued) {
        exchange->m_queued = false;
        m_queue.erase(std::find(m_queue.begin(), m_queue.end(), exchange));
        return;
    }
    Http1Connection *c = exchange->m_connection;
    if (!c)
        return;
    exchange->m_connection = nullptr;
    m_busy.erase(c);
    // The response may still be coming: the connection cannot be reused.
    drop(c);
    pump();
}

void Http1ConnectionPool::closeAll()
{
    for (Exchange *e : m_queue)
        e->m_queued = false;
    m_queue.clear();
    for (const auto &[c, e] : m_busy) {
        e->m_connection = nullptr;
        drop(c);
    }
    m_busy.clear();
    for (Http1Connection *c : m_idle)
        drop(c);
    m_idle.clear();
    m_idleTimer.stop();
}

Http1Connection *Http1ConnectionPool::newConnection()
{
    ++m_open;
    return new Http1Connection(m_config.host, m_config.port, m_config.limits, this, this);
}

Http1Connection *Http1ConnectionPool::takeIdle()
{
    if (m_idle.empty())
        return nullptr;
    Http1Connection *c = m_idle.back();
    m_idle.pop_back();
    return c;
}

void Http1ConnectionPool::run(Http1Connection *connection, Exchange *exchange)
{
    exchange->m_connection = connection;
    m_busy.emplace(connection, exchange);
    connection->send(exchange->m_request, exchange->m_stream);
}

void Http1ConnectionPool::release(Http1Connection *connection)
{
    if (!connection->isReusable()) {
        drop(connection);
        return;
    }
    m_idle.push_back(connection);
    if (!m_idleTimer.isActive()) {
        // Idle connections are closed between idleTimeout and 1.25 × idleTimeout.
        const auto sweep = std::max(milliseconds(10), m_config.idleTimeout / 4);
        m_idleTimer.start(int(sweep.count()), this);
    }
}

void Http1ConnectionPool::drop(Http1Connection *connection)
{
    --m_open;
    connection->abort();
    connection->deleteLater();
}

void Http1ConnectionPool::pump()
{
    while (!m_queue.empty()) {
        Http1Connection *c = takeIdle();
        if (!c) {
            if (m_open >= m_config.maxConnections)
                return;
            c = newConnection();
        }
        Exchange *e = m_queue.front();
        m_queue.pop_front();
        e->m_queued = false;
        run(c, e);
    }
}

void Http1ConnectionPool::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_idleTimer.timerId()) {
        QObject::timerEvent(event);
        return;
    }
    // m_idle is ordered by idleSince, oldest in front.
    const auto now = steady_clock::now();
    while (!m_idle.empty() && now - m_idle.front()->idleSince() >= m_config.idleTimeout) {
        Http1Connection *c = m_idle.front();
        m_idle.pop_front();
        drop(c);
    }
    if (m_idle.empty())
        m_idleTimer.stop();
}

void Http1ConnectionPool::http1BodyReceived(Http1Connection *connection, QByteArray bytes)
{
    const auto it = m_busy.find(connection);
    if (it != m_busy.end())
        it->second->bodyReceived(std::move(bytes));
}

Http1ConnectionPool::Exchange *Http1ConnectionPool::takeBusy(Http1Connection *connection)
{
    const auto it = m_busy.find(connection);
    if (it == m_busy.end())
        return nullptr;
    Exchange *e = it->second;
    m_busy.erase(it);
    e->m_connection = nullptr;
    return e;
}

void Http1ConnectionPool::http1ResponseReceived(Http1Connection *connection, Http1Connection::Response response)
{
    Exchange *e = takeBusy(connection);
    if (!e)
        return;
    release(connection);
    e->responseReceived(std::move(response));
    pump();
}

void Http1ConnectionPool::http1ExchangeFailed(Http1Connection *connection, const QString &message)
{
    Exchange *e = takeBusy(connection);
    if (!e)
        return;
    const bool stale = connection->failedAsStaleReuse();
    drop(connection);
    if (stale && !e->m_resent) {
        // What every HTTP client does: the request never reached a live
        // server, so it goes again on a fresh connection (the slot just freed).
        e->m_resent = true;
        run(newConnection(), e);
        return;
    }
    e->failed(message);
    pump();
}

void Http1ConnectionPool::http1IdleClosed(Http1Connection *connection)
{
    const auto it = std::find(m_idle.begin(), m_idle.end(), connection);
    if (it == m_idle.end())
        return;
    m_idle.erase(it);
    drop(connection);
    pump();
}
