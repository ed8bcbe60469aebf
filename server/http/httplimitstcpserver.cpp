#include "server/http/httplimitstcpserver.h"

#include <QTcpSocket>

#include <sys/socket.h>

#include <algorithm>

namespace {

constexpr qint64 kLingerMs = 2000; // how long a rejected connection may keep sending before it is aborted

// The headers this filter acts on, from a raw header block (the first of
// each; empty when absent), found in one pass over the lines.
struct FilterHeaders {
    QByteArrayView transferEncoding;
    QByteArrayView contentLength;
    QByteArrayView expect;
};

FilterHeaders filterHeaders(QByteArrayView block)
{
    FilterHeaders h;
    qsizetype pos = block.indexOf("\r\n"); // past the request line
    while (pos >= 0 && pos + 2 < block.size()) {
        const qsizetype start = pos + 2;
        const qsizetype end = block.indexOf("\r\n", start);
        if (end < 0 || end == start)
            break;
        const QByteArrayView line = block.sliced(start, end - start);
        const qsizetype colon = line.indexOf(':');
        const QByteArrayView name = line.first(std::max<qsizetype>(colon, 0));
        QByteArrayView *slot = nullptr;
        if (name.compare("content-length", Qt::CaseInsensitive) == 0)
            slot = &h.contentLength;
        else if (name.compare("transfer-encoding", Qt::CaseInsensitive) == 0)
            slot = &h.transferEncoding;
        else if (name.compare("expect", Qt::CaseInsensitive) == 0)
            slot = &h.expect;
        if (slot && slot->isNull())
            *slot = line.sliced(colon + 1).trimmed();
        pos = end;
    }
    return h;
}

} // namespace

struct HttpLimitsTcpServer::Connection {
    enum class Phase { Idle, Headers, Body, Rejected };
    QTcpSocket *socket = nullptr;
    Phase phase = Phase::Idle;
    QByteArray headers;        // the current request's header bytes so far
    qint64 bodyLeft = 0;
    qint64 headerStartMs = 0;
    qint64 lastActivityMs = 0;
    qint64 rejectedAtMs = 0;
    int outstanding = 0;       // complete requests not answered yet
    bool halfClosed = false;
};

HttpLimitsTcpServer::HttpLimitsTcpServer(const HttpLimits &limits, ErrorResponder errorResponder, QObject *parent)
    : QTcpServer(parent), m_limits(limits), m_errorResponder(std::move(errorResponder))
{
    m_clock.start();
    setListenBacklogSize(std::max(1, m_limits.listenBacklog));
    const int shortest = std::min(m_limits.headerTimeoutMs, m_limits.idleTimeoutMs);
    m_sweepTimer.setInterval(std::clamp(shortest / 4, 10, 1000));
    connect(&m_sweepTimer, &QTimer::timeout, this, &HttpLimitsTcpServer::sweep);
    m_sweepTimer.start();
}

HttpLimitsTcpServer::~HttpLimitsTcpServer() = default;

void HttpLimitsTcpServer::incomingConnection(qintptr handle)
{
    auto *socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(handle)) {
        delete socket;
        return;
    }
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    auto conn = std::make_unique<Connection>();
    conn->socket = socket;
    conn->lastActivityMs = nowMs();
    Connection *c = conn.get();
    m_connections.emplace(socket, std::move(conn));
    // Connected before addPendingConnection(): runs before Qt's parser slot.
    connect(socket, &QTcpSocket::readyRead, this, [this, c] { onReadyRead(c); });
    connect(socket, &QTcpSocket::bytesWritten, this, [this, c] {
        c->lastActivityMs = nowMs();
        if (c->phase == Connection::Phase::Rejected && !c->halfClosed && c->socket->bytesToWrite() == 0) {
            c->halfClosed = true;
            ::shutdown(int(c->socket->socketDescriptor()), SHUT_WR);
        }
    });
    connect(socket, &QObject::destroyed, this, [this, socket] { m_connections.erase(socket); });
    addPendingConnection(socket);
}

void HttpLimitsTcpServer::responseWritten(QTcpSocket *socket)
{
    const auto it = m_connections.find(socket);
    if (it == m_connections.end())
        return;
    Connection *c = it->second.get();
    c->outstanding = std::max(0, c->outstanding - 1);
    c->lastActivityMs = nowMs();
}

void HttpLimitsTcpServer::onReadyRead(Connection *c)
{
    c->lastActivityMs = nowMs();
    if (c->phase == Connection::Phase::Rejected) {
        discardInput(c);
        return;
    }
    const qint64 available = c->socket->bytesAvailable();
    if (available <= 0)
        return;
    m_peekBuffer.resize(available);
    const qint64 n = c->socket->peek(m_peekBuffer.data(), available);
    if (n > 0)
        consume(c, m_peekBuffer.constData(), n);
}

void HttpLimitsTcpServer::consume(Connection *c, const char *data, qint64 size)
{
    qint64 pos = 0;
    while (pos < size && c->phase != Connection::Phase::Rejected) {
        if (c->phase == Connection::Phase::Idle) {
            c->phase = Connection::Phase::Headers;
            c->headers.clear();
            c->headerStartMs = nowMs();
        }
        if (c->phase == Connection::Phase::Headers) {
            QByteArrayView block; // the complete header block, once its blank line is here
            if (c->headers.isEmpty()) {
                // The usual case, a whole header block in one read: checked in place.
                const QByteArrayView chunk(data + pos, size - pos);
                const qsizetype end = chunk.indexOf("\r\n\r\n");
                if (end >= 0) {
                    block = chunk.first(end + 4);
                    pos += end + 4;
                }
            }
            if (block.isNull()) {
                // Headers split over reads: collected until the blank line.
                const qsizetype before = c->headers.size();
                c->headers.append(data + pos, qsizetype(size - pos));
                const qsizetype end = c->headers.indexOf("\r\n\r\n", std::max<qsizetype>(0, before - 3));
                if (end < 0) {
                    pos = size;
                    if (c->headers.size() > m_limits.maxHeaderBytes)
                        reject(c, 431, QStringLiteral("request headers exceed %1 bytes").arg(m_limits.maxHeaderBytes));
                    break;
                }
                pos += end + 4 - before;
                c->headers.truncate(end + 4);
                block = c->headers;
            }
            if (block.size() > m_limits.maxHeaderBytes) {
                reject(c, 431, QStringLiteral("request headers exceed %1 bytes").arg(m_limits.maxHeaderBytes));
                break;
            }
            if (!headersComplete(c, block))
                break;
            continue;
        }
        if (c->phase == Connection::Phase::Body) {
            const qint64 n = std::min(c->bodyLeft, size - pos);
            c->bodyLeft -= n;
            pos += n;
            if (c->bodyLeft == 0)
                c->phase = Connection::Phase::Idle;
        }
    }
}

bool HttpLimitsTcpServer::headersComplete(Connection *c, QByteArrayView block)
{
    const FilterHeaders h = filterHeaders(block);
    const QByteArrayView te = h.transferEncoding;
    if (!te.isEmpty() && te.compare("identity", Qt::CaseInsensitive) != 0) {
        reject(c, 411, QStringLiteral("a request body needs a Content-Length (chunked request bodies are not accepted)"));
        return false;
    }
    qint64 length = 0;
    const QByteArrayView cl = h.contentLength;
    if (!cl.isEmpty()) {
        bool ok = false;
        length = cl.toLongLong(&ok);
        if (!ok || length < 0) {
            reject(c, 400, QStringLiteral("invalid Content-Length header"));
            return false;
        }
    }
    if (length > m_limits.maxBodyBytes) {
        reject(c, 413, QStringLiteral("request body of %1 bytes exceeds the limit of %2 bytes")
                           .arg(length).arg(m_limits.maxBodyBytes));
        return false;
    }
    if (length > 0 && h.expect.compare("100-continue", Qt::CaseInsensitive) == 0)
        c->socket->write("HTTP/1.1 100 Continue\r\n\r\n");
    ++c->outstanding;
    c->bodyLeft = length;
    c->phase = length > 0 ? Connection::Phase::Body : Connection::Phase::Idle;
    c->headers.clear();
    return true;
}

void HttpLimitsTcpServer::reject(Connection *c, int httpStatus, const QString &message)
{
    c->phase = Connection::Phase::Rejected;
    c->rejectedAtMs = nowMs();
    c->headers.clear();
    discardInput(c);
    c->socket->write(m_errorResponder(httpStatus, message));
}

void HttpLimitsTcpServer::discardInput(Connection *c)
{
    // Consume within Qt's open transaction (if any) and commit it, so Qt's
    // parser sees nothing and the socket buffer does not grow.
    c->socket->read(c->socket->bytesAvailable());
    if (c->socket->isTransactionStarted())
        c->socket->commitTransaction();
}

void HttpLimitsTcpServer::sweep()
{
    const qint64 now = nowMs();
    std::vector<Connection *> timedOutHeaders;
    std::vector<QTcpSocket *> toClose;
    std::vector<QTcpSocket *> toAbort;
    for (auto &[socket, conn] : m_connections) {
        Connection *c = conn.get();
        switch (c->phase) {
        case Connection::Phase::Headers:
            if (now - c->headerStartMs > m_limits.headerTimeoutMs)
                timedOutHeaders.push_back(c);
            break;
        case Connection::Phase::Body:
            if (now - c->lastActivityMs > m_limits.idleTimeoutMs)
                toAbort.push_back(socket);
            break;
        case Connection::Phase::Idle:
            if (c->outstanding == 0 && now - c->lastActivityMs > m_limits.idleTimeoutMs)
                toClose.push_back(socket);
            break;
        case Connection::Phase::Rejected:
            if (now - c->rejectedAtMs > kLingerMs)
                toAbort.push_back(socket);
            break;
        }
    }
    for (Connection *c : timedOutHeaders)
        reject(c, 408, QStringLiteral("request headers not received within %1 ms").arg(m_limits.headerTimeoutMs));
    for (QTcpSocket *s : toClose)
        s->disconnectFromHost();
    for (QTcpSocket *s : toAbort)
        s->abort();
}

qint64 HttpLimitsTcpServer::flushAll(int timeoutMs)
{
    QElapsedTimer t;
    t.start();
    qint64 unsent = 0;
    for (auto &[socket, connection] : m_connections) {
        while (socket->state() == QAbstractSocket::ConnectedState && socket->bytesToWrite() > 0
               && t.elapsed() < timeoutMs) {
            if (!socket->waitForBytesWritten(int(timeoutMs - t.elapsed())))
                break;
        }
        if (socket->state() == QAbstractSocket::ConnectedState)
            unsent += socket->bytesToWrite();
    }
    return unsent;
}
