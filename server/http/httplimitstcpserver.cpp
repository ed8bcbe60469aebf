#include "server/http/httplimitstcpserver.h"

#include "core/http/httpheaderblock.h"

#include <QTcpSocket>

#include <sys/socket.h>

#include <algorithm>

namespace {

constexpr qint64 kLingerMs = 2000; // how long a rejected connection may keep sending before it is aborted

// A request line as RFC 9112 §3 has it: method SP request-target SP HTTP/1.x,
// the method a token, the target without whitespace or control characters.
bool validRequestLine(QByteArrayView line)
{
    const qsizetype sp1 = line.indexOf(' ');
    const qsizetype sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
    if (sp2 < 0 || !HttpHeaderBlock::isToken(line.first(sp1)))
        return false;
    const QByteArrayView target = line.sliced(sp1 + 1, sp2 - sp1 - 1);
    const QByteArrayView version = line.sliced(sp2 + 1);
    if (target.isEmpty() || (version != "HTTP/1.1" && version != "HTTP/1.0"))
        return false;
    for (char c : target) {
        if (uchar(c) <= 0x20 || uchar(c) == 0x7f)
            return false;
    }
    return true;
}

// Qt's parser acts on a request line as soon as its line end is in (it
// closes the connection, without an answer, on one it cannot read), so a
// head still incomplete is judged on its first line already.
bool requestLinePlausible(QByteArrayView partialHead)
{
    const qsizetype lf = partialHead.indexOf('\n');
    if (lf < 0)
        return true;
    return lf > 0 && partialHead[lf - 1] == '\r' && validRequestLine(partialHead.first(lf - 1));
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

void HttpLimitsTcpServer::release(QTcpSocket *socket)
{
    if (m_connections.erase(socket) > 0)
        disconnect(socket, nullptr, this, nullptr);
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
            // Line ends between requests are skipped, as Qt's parser skips them.
            while (pos < size && (data[pos] == '\r' || data[pos] == '\n'))
                ++pos;
            if (pos == size)
                break;
            c->phase = Connection::Phase::Headers;
            c->headers.clear();
            c->headerStartMs = nowMs();
        }
        if (c->phase == Connection::Phase::Headers) {
            QByteArrayView block; // the complete header block, once its empty line is here
            HttpHeaderBlock::End end;
            if (c->headers.isEmpty()) {
                // The usual case, a whole header block in one read: checked in place.
                end = HttpHeaderBlock::findEnd(QByteArrayView(data + pos, size - pos));
                if (end.end >= 0) {
                    block = QByteArrayView(data + pos, end.end);
                    pos += end.end;
                }
            }
            if (block.isNull() && end.error == HttpHeaderBlock::Error::None) {
                // Headers split over reads: collected until the empty line.
                const qsizetype before = c->headers.size();
                c->headers.append(data + pos, qsizetype(size - pos));
                end = HttpHeaderBlock::findEnd(c->headers, before);
                if (end.end < 0 && end.error == HttpHeaderBlock::Error::None) {
                    pos = size;
                    if (c->headers.size() > m_limits.maxHeaderBytes)
                        reject(c, 431, QStringLiteral("request headers exceed %1 bytes").arg(m_limits.maxHeaderBytes));
                    else if (!requestLinePlausible(c->headers))
                        reject(c, 400, QStringLiteral("malformed request line (expected METHOD SP TARGET SP HTTP/1.1)"));
                    break;
                }
                if (end.end >= 0) {
                    pos += end.end - before;
                    c->headers.truncate(end.end);
                    block = c->headers;
                }
            }
            if (end.error != HttpHeaderBlock::Error::None) {
                reject(c, 400, QStringLiteral("malformed request head: %1").arg(HttpHeaderBlock::describe(end.error)));
                break;
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
    HttpHeaderBlock head(block);
    if (!validRequestLine(head.startLine())) {
        reject(c, 400, QStringLiteral("malformed request line (expected METHOD SP TARGET SP HTTP/1.1)"));
        return false;
    }
    // The fields this filter acts on. A request whose framing two parsers
    // could read differently (RFC 9112 §6.3) is refused, so that what Qt's
    // parser reads after this filter is what the filter checked.
    int lengths = 0;
    int encodings = 0;
    QByteArrayView contentLength;
    QByteArrayView transferEncoding;
    QByteArrayView expect;
    HttpHeaderBlock::Field f;
    while (head.next(&f)) {
        if (f.name.compare("content-length", Qt::CaseInsensitive) == 0) {
            ++lengths;
            contentLength = f.value;
        } else if (f.name.compare("transfer-encoding", Qt::CaseInsensitive) == 0) {
            ++encodings;
            transferEncoding = f.value;
        } else if (f.name.compare("expect", Qt::CaseInsensitive) == 0) {
            expect = f.value;
        }
    }
    if (head.error() != HttpHeaderBlock::Error::None) {
        reject(c, 400, QStringLiteral("malformed request head: %1").arg(head.errorString()));
        return false;
    }
    if (lengths > 1 || encodings > 1) {
        reject(c, 400, QStringLiteral("more than one %1 header").arg(lengths > 1 ? QStringLiteral("Content-Length")
                                                                                    : QStringLiteral("Transfer-Encoding")));
        return false;
    }
    if (encodings == 1) {
        if (lengths == 1) {
            reject(c, 400, QStringLiteral("both Content-Length and Transfer-Encoding are set"));
            return false;
        }
        if (transferEncoding.compare("identity", Qt::CaseInsensitive) != 0) {
            reject(c, 411, QStringLiteral("a request body needs a Content-Length (chunked request bodies are not accepted)"));
            return false;
        }
    }
    qint64 length = 0;
    if (lengths == 1) {
        length = HttpHeaderBlock::parseDecimal(contentLength);
        if (length < 0) {
            reject(c, 400, QStringLiteral("invalid Content-Length header"));
            return false;
        }
    }
    if (length > m_limits.maxBodyBytes) {
        reject(c, 413, QStringLiteral("request body of %1 bytes exceeds the limit of %2 bytes")
                           .arg(length).arg(m_limits.maxBodyBytes));
        return false;
    }
    if (length > 0 && expect.compare("100-continue", Qt::CaseInsensitive) == 0)
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
