#include "server/http/httplimitstcpserver.h"

#include "core/http/httpheaderblock.h"

#include <QLoggingCategory>
#include <QSocketNotifier>
#include <QSslSocket>
#include <QTcpSocket>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>

Q_LOGGING_CATEGORY(lcHttpFront, "sluice.http")

namespace {

// A refused connection's input is read and dropped (the client may still
// be sending the body it announced, and must read the refusal instead of a
// reset) until it is quiet for kLingerMs, for kMaxLingerMs at most.
constexpr qint64 kLingerMs = 2000;
constexpr qint64 kMaxLingerMs = 30000;
constexpr int kMaxOverflow = 256;  // connections refused for the cap that may linger at once; more are dropped
constexpr int kMaxAcceptBackoffMs = 1000;

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
    struct Answer {
        QByteArray bytes;
        bool close = false;
        bool refusal = false; // the filter's own refusal: half-close, then abort after the linger
        bool complete = true; // false: a streamed answer whose last part has not come yet
    };
    QTcpSocket *socket = nullptr;
    Phase phase = Phase::Idle;
    QByteArray headers;        // the current request's header bytes so far
    qint64 bodyLeft = 0;
    qint64 bodyReceived = 0;
    qint64 bodyStartMs = 0;
    qint64 headerStartMs = 0;
    qint64 lastActivityMs = 0;
    qint64 rejectedAtMs = -1;  // when the refusal was written (-1: not yet)
    int outstanding = 0;       // requests accepted and not answered yet
    bool served = false;       // handed to Qt (else: refused for the connection cap)
    bool halfClosed = false;
    bool closing = false;      // an answer that closes the connection was written
    // The request whose head was accepted and whose body is still arriving.
    RequestTicket current;
    // Complete requests Qt has not started yet, in order.
    std::deque<RequestTicket> ahead;
    // Unread bytes at the front of the socket's buffer the filter scanned
    // already (set by requestStarted(), cleared at each of the filter's turns).
    qint64 scannedUnread = 0;
    quint64 nextSequence = 0;  // the next request's (or refusal's) sequence number
    quint64 nextToWrite = 0;   // the sequence number whose answer goes out next
    std::map<quint64, Answer> held; // answers waiting for earlier ones
    std::optional<std::pair<int, QString>> pendingRefusal; // waits until `ahead` is empty
    bool tls = false;          // a QSslSocket
    bool handshaking = false;  // TLS handshake under way (bounded by headerTimeoutMs)
    bool handedToQt = false;   // Qt's server owns (and deletes) the socket
    std::deque<qint64> charges;   // memory charged per request not answered yet, in request order
    qint64 answerBytesCharged = 0; // answers written and not yet sent
};

HttpLimitsTcpServer::HttpLimitsTcpServer(const HttpLimits &limits, ErrorResponder errorResponder, QObject *parent)
    : QTcpServer(parent), m_limits(limits), m_errorResponder(std::move(errorResponder))
{
    m_clock.start();
    setListenBacklogSize(std::max(1, m_limits.listenBacklog));
    // Qt's own pending-connection cap would stop accepting silently; the
    // filter enforces maxConnections itself with an answer.
    setMaxPendingConnections(std::numeric_limits<int>::max());
    const int shortest = std::min({m_limits.headerTimeoutMs, m_limits.idleTimeoutMs, m_limits.bodyTimeoutMs});
    m_sweepTimer.setInterval(std::clamp(shortest / 4, 10, 1000));
    connect(&m_sweepTimer, &QTimer::timeout, this, &HttpLimitsTcpServer::sweep);
    m_sweepTimer.start();
    m_resumeTimer.setSingleShot(true);
    connect(&m_resumeTimer, &QTimer::timeout, this, [this] { resumeAccepting(); });
    connect(this, &QTcpServer::acceptError, this, &HttpLimitsTcpServer::onAcceptError);
}

HttpLimitsTcpServer::~HttpLimitsTcpServer() = default;

void HttpLimitsTcpServer::onAcceptError(QAbstractSocket::SocketError error)
{
    // Qt pauses accepting on any error that is not temporary (EMFILE and
    // ENFILE are resource errors) and never resumes by itself: resume after
    // a backoff, so the server neither spins nor stops for good.
    pauseAccepting();
    const bool first = m_acceptBackoffMs == 0;
    m_acceptBackoffMs = first ? 50 : std::min(m_acceptBackoffMs * 2, kMaxAcceptBackoffMs);
    if (first)
        qCWarning(lcHttpFront).noquote()
            << QStringLiteral("cannot accept connections: %1 (socket error %2); pausing accept with a backoff up to %3 ms "
                              "until descriptors free up. Raise the open-files limit (ulimit -n) or lower server.maxConnections.")
                   .arg(errorString()).arg(int(error)).arg(kMaxAcceptBackoffMs);
    m_resumeTimer.start(m_acceptBackoffMs);
}

void HttpLimitsTcpServer::setTlsConfiguration(const QSslConfiguration &configuration)
{
    m_tls = configuration;
}

void HttpLimitsTcpServer::incomingConnection(qintptr handle)
{
    if (m_acceptBackoffMs > 0 && !m_resumeTimer.isActive()) {
        qCInfo(lcHttpFront) << "accepting connections again";
        m_acceptBackoffMs = 0;
    }
    if (!m_tls) {
        adopt(handle, Kind::Plain);
        return;
    }
    if (m_served + int(m_sniffing.size()) >= m_limits.maxConnections) {
        // A TLS client could not read a plain 503: the connection is closed.
        ++m_connectionsRefused;
        ::close(int(handle));
        return;
    }
    // TLS port: look at the first byte before choosing. A TLS handshake
    // starts with a record of type 22 (0x16); anything else is most likely
    // plain HTTP, which gets a plain 400 saying so instead of a handshake
    // failure the client cannot read.
    auto *notifier = new QSocketNotifier(handle, QSocketNotifier::Read, this);
    m_sniffing.emplace(handle, Sniff{notifier, nowMs()});
    connect(notifier, &QSocketNotifier::activated, this, [this, handle] {
        const auto it = m_sniffing.find(handle);
        if (it == m_sniffing.end())
            return;
        char first = 0;
        const ssize_t n = ::recv(int(handle), &first, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        it->second.notifier->setEnabled(false);
        it->second.notifier->deleteLater();
        m_sniffing.erase(it);
        if (n <= 0) {
            ::close(int(handle)); // closed (or failed) before saying anything
            return;
        }
        adopt(handle, first == 0x16 ? Kind::Tls : Kind::PlainOnTlsPort);
    });
}

void HttpLimitsTcpServer::adopt(qintptr handle, Kind kind)
{
    QTcpSocket *socket = nullptr;
    if (kind == Kind::Tls) {
        auto *ssl = new QSslSocket(this);
        ssl->setSslConfiguration(*m_tls);
        socket = ssl;
    } else {
        socket = new QTcpSocket(this);
    }
    if (!socket->setSocketDescriptor(handle)) {
        delete socket;
        ::close(int(handle));
        return;
    }
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    auto conn = std::make_unique<Connection>();
    conn->socket = socket;
    conn->tls = kind == Kind::Tls;
    conn->lastActivityMs = nowMs();
    Connection *c = conn.get();
    m_connections.emplace(socket, std::move(conn));
    connect(socket, &QTcpSocket::bytesWritten, this, [this, c](qint64 written) {
        c->lastActivityMs = nowMs();
        if (m_limits.memory && c->answerBytesCharged > 0) {
            const qint64 sent = std::min(written, c->answerBytesCharged);
            c->answerBytesCharged -= sent;
            m_limits.memory->release(sent);
        }
        if (c->phase == Connection::Phase::Rejected && c->rejectedAtMs >= 0 && !c->halfClosed
            && c->socket->bytesToWrite() == 0) {
            c->halfClosed = true;
            if (c->tls)
                c->socket->disconnectFromHost(); // close_notify after the answer; no half-close under TLS
            else
                ::shutdown(int(c->socket->socketDescriptor()), SHUT_WR);
        }
    });
    connect(socket, &QObject::destroyed, this, [this, socket] { forget(socket); });
    // Sockets never handed to Qt are ours to delete.
    connect(socket, &QTcpSocket::disconnected, this, [c] {
        if (!c->handedToQt)
            c->socket->deleteLater();
    });

    const auto refuseConnection = [&](int status, const QString &message) {
        ++m_connectionsRefused;
        if (m_overflow >= kMaxOverflow) {
            socket->abort();
            socket->deleteLater();
            return;
        }
        ++m_overflow;
        connect(socket, &QTcpSocket::readyRead, this, [this, c] { discardInput(c); });
        c->phase = Connection::Phase::Rejected;
        c->rejectedAtMs = nowMs();
        socket->write(m_errorResponder(status, message));
    };
    if (kind == Kind::PlainOnTlsPort) {
        refuseConnection(400, QStringLiteral("this port speaks HTTPS (TLS); use https:// for this gateway"));
        return;
    }
    if (m_served >= m_limits.maxConnections) {
        // Over the cap: answered here, never handed to Qt.
        refuseConnection(503, QStringLiteral("the gateway has %1 open connections, its limit (server.maxConnections); "
                                             "retry shortly or reuse connections (keep-alive)")
                                  .arg(m_limits.maxConnections));
        return;
    }
    c->served = true;
    ++m_served;
    // Connected before addPendingConnection(): runs before Qt's parser slot.
    connect(socket, &QTcpSocket::readyRead, this, [this, c] { onReadyRead(c); });
    if (kind == Kind::Plain) {
        handToQt(c);
        return;
    }
    // TLS: Qt gets the socket once the handshake is done (as QSslServer
    // does); until then the header timeout bounds the handshake.
    c->handshaking = true;
    c->headerStartMs = nowMs();
    auto *ssl = static_cast<QSslSocket *>(socket);
    connect(ssl, &QSslSocket::encrypted, this, [this, c] {
        c->handshaking = false;
        handToQt(c);
    });
    connect(ssl, &QSslSocket::sslErrors, this, [this] { ++m_tlsHandshakeFailures; });
    connect(ssl, &QAbstractSocket::errorOccurred, this, [this, c] {
        if (c->handshaking) {
            ++m_tlsHandshakeFailures;
            c->socket->abort();
        }
    });
    ssl->startServerEncryption();
}

void HttpLimitsTcpServer::handToQt(Connection *c)
{
    c->handedToQt = true;
    addPendingConnection(c->socket);
    // Application data that came with the end of the handshake was announced
    // before Qt's slot was connected.
    if (c->socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(c->socket, &QAbstractSocket::readyRead, Qt::QueuedConnection);
}

HttpLimitsTcpServer::RequestTicket HttpLimitsTcpServer::requestStarted(QTcpSocket *socket)
{
    const auto it = m_connections.find(socket);
    if (it == m_connections.end())
        return {};
    Connection *c = it->second.get();
    RequestTicket t;
    if (!c->ahead.empty()) {
        t = c->ahead.front();
        c->ahead.pop_front();
    }
    t.sequence = c->nextSequence++;
    // Qt committed this request's bytes; what is left unread was scanned.
    c->scannedUnread = socket->isTransactionStarted() ? 0 : socket->bytesAvailable();
    if (c->pendingRefusal && c->ahead.empty())
        issueRefusal(c);
    return t;
}

void HttpLimitsTcpServer::writeAnswer(QTcpSocket *socket, quint64 sequence, const QByteArray &bytes, bool close)
{
    const auto it = m_connections.find(socket);
    if (it == m_connections.end()) {
        // Not a filtered connection (released): written as is.
        socket->write(bytes);
        if (close)
            socket->disconnectFromHost();
        return;
    }
    Connection *c = it->second.get();
    if (c->closing || sequence < c->nextToWrite)
        return;
    c->held.insert_or_assign(sequence, Connection::Answer{bytes, close, false});
    writeInOrder(c);
}

void HttpLimitsTcpServer::writeAnswerPart(QTcpSocket *socket, quint64 sequence, const QByteArray &bytes, bool last,
                                          bool close)
{
    const auto it = m_connections.find(socket);
    if (it == m_connections.end()) {
        socket->write(bytes);
        socket->flush();
        if (last && close)
            socket->disconnectFromHost();
        return;
    }
    Connection *c = it->second.get();
    if (c->closing || sequence < c->nextToWrite)
        return;
    auto [held, fresh] = c->held.try_emplace(sequence, Connection::Answer{{}, false, false, false});
    if (!fresh && held->second.complete)
        return; // already ended
    held->second.bytes += bytes;
    held->second.complete = last;
    held->second.close = last && close;
    writeInOrder(c);
}

void HttpLimitsTcpServer::writeInOrder(Connection *c)
{
    QTcpSocket *socket = c->socket;
    bool wrote = false;
    bool closeNow = false;
    for (auto next = c->held.find(c->nextToWrite); next != c->held.end() && !c->closing;
         next = c->held.find(c->nextToWrite)) {
        if (!next->second.complete) {
            // A streamed answer in progress: what came so far goes out now,
            // the answers behind it wait for its last part.
            if (!next->second.bytes.isEmpty() && socket->state() == QAbstractSocket::ConnectedState) {
                socket->write(next->second.bytes);
                if (m_limits.memory) {
                    m_limits.memory->charge(next->second.bytes.size());
                    c->answerBytesCharged += next->second.bytes.size();
                }
                wrote = true;
            }
            next->second.bytes.clear();
            c->lastActivityMs = nowMs();
            break;
        }
        Connection::Answer answer = std::move(next->second);
        c->held.erase(next);
        ++c->nextToWrite;
        c->outstanding = std::max(0, c->outstanding - 1);
        c->lastActivityMs = nowMs();
        if (!answer.refusal && !c->charges.empty()) {
            if (m_limits.memory)
                m_limits.memory->release(c->charges.front());
            c->charges.pop_front();
        }
        if (socket->state() != QAbstractSocket::ConnectedState)
            continue;
        socket->write(answer.bytes);
        if (m_limits.memory) {
            m_limits.memory->charge(answer.bytes.size());
            c->answerBytesCharged += answer.bytes.size();
        }
        wrote = true;
        if (answer.refusal) {
            c->closing = true;
            c->rejectedAtMs = nowMs();
        } else if (answer.close) {
            c->closing = true;
            closeNow = true;
        }
    }
    if (c->closing)
        c->held.clear();
    if (wrote)
        socket->flush(); // now, not when the write notifier fires on the next loop iteration
    if (closeNow)
        socket->disconnectFromHost(); // last: may emit disconnected at once
}

void HttpLimitsTcpServer::releaseMemory(Connection *c)
{
    if (!m_limits.memory)
        return;
    qint64 held = c->answerBytesCharged;
    for (qint64 charge : c->charges)
        held += charge;
    c->charges.clear();
    c->answerBytesCharged = 0;
    m_limits.memory->release(held);
}

void HttpLimitsTcpServer::forget(QTcpSocket *socket)
{
    const auto it = m_connections.find(socket);
    if (it == m_connections.end())
        return;
    releaseMemory(it->second.get());
    if (it->second->served)
        --m_served;
    else
        --m_overflow;
    m_connections.erase(it);
}

void HttpLimitsTcpServer::release(QTcpSocket *socket)
{
    if (m_connections.count(socket) == 0)
        return;
    forget(socket);
    disconnect(socket, nullptr, this, nullptr);
}

void HttpLimitsTcpServer::onReadyRead(Connection *c)
{
    c->lastActivityMs = nowMs();
    const qint64 skip = c->scannedUnread;
    c->scannedUnread = 0; // unless Qt starts a request this turn, it reads everything
    if (c->phase == Connection::Phase::Rejected) {
        if (!c->pendingRefusal)
            discardInput(c);
        return; // a refusal is waiting for earlier requests: Qt parses them, the rest is discarded after
    }
    const qint64 available = c->socket->bytesAvailable();
    if (available <= skip)
        return;
    if (c->phase == Connection::Phase::Body && available - skip <= c->bodyLeft) {
        // Only body bytes: counted, not copied (a large upload would
        // otherwise be copied once more per read).
        consumeBody(c, available - skip);
        return;
    }
    m_peekBuffer.resize(available);
    const qint64 n = c->socket->peek(m_peekBuffer.data(), available);
    if (n > skip)
        consume(c, m_peekBuffer.constData() + skip, n - skip);
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
                        refuse(c, 431, QStringLiteral("request headers exceed %1 bytes").arg(m_limits.maxHeaderBytes));
                    else if (!requestLinePlausible(c->headers))
                        refuse(c, 400, QStringLiteral("malformed request line (expected METHOD SP TARGET SP HTTP/1.1)"));
                    break;
                }
                if (end.end >= 0) {
                    pos += end.end - before;
                    c->headers.truncate(end.end);
                    block = c->headers;
                }
            }
            if (end.error != HttpHeaderBlock::Error::None) {
                refuse(c, 400, QStringLiteral("malformed request head: %1").arg(HttpHeaderBlock::describe(end.error)));
                break;
            }
            if (block.size() > m_limits.maxHeaderBytes) {
                refuse(c, 431, QStringLiteral("request headers exceed %1 bytes").arg(m_limits.maxHeaderBytes));
                break;
            }
            if (!headersComplete(c, block))
                break;
            continue;
        }
        if (c->phase == Connection::Phase::Body)
            pos += consumeBody(c, size - pos);
    }
}

qint64 HttpLimitsTcpServer::consumeBody(Connection *c, qint64 available)
{
    const qint64 n = std::min(c->bodyLeft, available);
    c->bodyLeft -= n;
    c->bodyReceived += n;
    if (c->bodyLeft == 0)
        requestComplete(c);
    return n;
}

bool HttpLimitsTcpServer::headersComplete(Connection *c, QByteArrayView block)
{
    HttpHeaderBlock head(block);
    const QByteArrayView requestLine = head.startLine();
    if (!validRequestLine(requestLine)) {
        refuse(c, 400, QStringLiteral("malformed request line (expected METHOD SP TARGET SP HTTP/1.1)"));
        return false;
    }
    const bool http10 = requestLine.endsWith("HTTP/1.0");
    // The fields this filter acts on. A request whose framing two parsers
    // could read differently (RFC 9112 §6.3) is refused, so that what Qt's
    // parser reads after this filter is what the filter checked.
    int lengths = 0;
    int encodings = 0;
    int hosts = 0;
    bool connectionClose = false;
    bool connectionKeepAlive = false;
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
        } else if (f.name.compare("host", Qt::CaseInsensitive) == 0) {
            ++hosts;
        } else if (f.name.compare("connection", Qt::CaseInsensitive) == 0) {
            connectionClose = connectionClose || HttpHeaderBlock::listContains(f.value, "close");
            connectionKeepAlive = connectionKeepAlive || HttpHeaderBlock::listContains(f.value, "keep-alive");
        } else if (f.name.compare("expect", Qt::CaseInsensitive) == 0) {
            expect = f.value;
        }
    }
    if (head.error() != HttpHeaderBlock::Error::None) {
        refuse(c, 400, QStringLiteral("malformed request head: %1").arg(head.errorString()));
        return false;
    }
    if (hosts > 1 || (hosts == 0 && !http10)) {
        // RFC 9112 §3.2: a server MUST answer 400 to both.
        refuse(c, 400, hosts > 1 ? QStringLiteral("more than one Host header")
                                 : QStringLiteral("an HTTP/1.1 request needs a Host header"));
        return false;
    }
    if (lengths > 1 || encodings > 1) {
        refuse(c, 400, QStringLiteral("more than one %1 header").arg(lengths > 1 ? QStringLiteral("Content-Length")
                                                                                   : QStringLiteral("Transfer-Encoding")));
        return false;
    }
    if (encodings == 1) {
        if (lengths == 1) {
            refuse(c, 400, QStringLiteral("both Content-Length and Transfer-Encoding are set"));
            return false;
        }
        if (transferEncoding.compare("identity", Qt::CaseInsensitive) != 0) {
            refuse(c, 411, QStringLiteral("a request body needs a Content-Length (chunked request bodies are not accepted)"));
            return false;
        }
    }
    qint64 length = 0;
    if (lengths == 1) {
        length = HttpHeaderBlock::parseDecimal(contentLength);
        if (length < 0) {
            refuse(c, 400, QStringLiteral("invalid Content-Length header"));
            return false;
        }
    }
    if (length > m_limits.maxBodyBytes) {
        refuse(c, 413, QStringLiteral("request body of %1 bytes exceeds the limit of %2 bytes")
                           .arg(length).arg(m_limits.maxBodyBytes));
        return false;
    }
    if (m_limits.memory) {
        // Charged before a byte of the body is read: no room, no allocation.
        // Requests without a body (health checks, metrics, the dashboard)
        // are not refused: only their answers are charged, once written.
        const qint64 charge = length > 0 ? length * std::max(1, m_limits.bodyExpansion) + HttpLimits::kRequestOverheadBytes : 0;
        if (charge > 0 && !m_limits.memory->tryCharge(charge)) {
            refuse(c, 503, QStringLiteral("the gateway holds %1 MiB of admitted work, its memory budget of %2 MiB "
                                          "(server.memoryBudgetBytes), and this request would add %3 MiB; retry after the "
                                          "indicated delay")
                               .arg(m_limits.memory->used() / (1024 * 1024)).arg(m_limits.memory->limit() / (1024 * 1024))
                               .arg(double(charge) / (1024 * 1024), 0, 'f', 1));
            return false;
        }
        c->charges.push_back(charge);
    }
    if (length > 0 && expect.compare("100-continue", Qt::CaseInsensitive) == 0)
        c->socket->write("HTTP/1.1 100 Continue\r\n\r\n");
    ++c->outstanding;
    c->current = RequestTicket{};
    c->current.closeAfter = connectionClose || (http10 && !connectionKeepAlive);
    c->current.http10KeepAlive = http10 && connectionKeepAlive && !connectionClose;
    c->current.http10 = http10;
    c->headers.clear();
    c->bodyLeft = length;
    c->bodyReceived = 0;
    c->bodyStartMs = nowMs();
    if (length > 0)
        c->phase = Connection::Phase::Body;
    else
        requestComplete(c);
    return true;
}

void HttpLimitsTcpServer::requestComplete(Connection *c)
{
    c->ahead.push_back(c->current);
    c->phase = Connection::Phase::Idle;
}

void HttpLimitsTcpServer::refuse(Connection *c, int httpStatus, const QString &message)
{
    c->phase = Connection::Phase::Rejected;
    c->headers.clear();
    c->pendingRefusal = std::make_pair(httpStatus, message);
    if (c->ahead.empty())
        issueRefusal(c);
}

void HttpLimitsTcpServer::issueRefusal(Connection *c)
{
    const auto [status, message] = *c->pendingRefusal;
    c->pendingRefusal.reset();
    c->phase = Connection::Phase::Rejected;
    discardInput(c);
    c->held.insert_or_assign(c->nextSequence++, Connection::Answer{m_errorResponder(status, message), true, true});
    writeInOrder(c);
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
    std::vector<std::pair<Connection *, QString>> timedOut;
    std::vector<QTcpSocket *> toClose;
    std::vector<QTcpSocket *> toAbort;
    for (auto it = m_sniffing.begin(); it != m_sniffing.end();) {
        if (now - it->second.sinceMs > m_limits.headerTimeoutMs) {
            // Connected and silent: nothing to answer in either protocol.
            it->second.notifier->setEnabled(false);
            it->second.notifier->deleteLater();
            ::close(int(it->first));
            it = m_sniffing.erase(it);
        } else {
            ++it;
        }
    }
    for (auto &[socket, conn] : m_connections) {
        Connection *c = conn.get();
        if (c->handshaking) {
            if (now - c->headerStartMs > m_limits.headerTimeoutMs) {
                ++m_tlsHandshakeFailures;
                toAbort.push_back(socket);
            }
            continue;
        }
        switch (c->phase) {
        case Connection::Phase::Headers:
            if (now - c->headerStartMs > m_limits.headerTimeoutMs)
                timedOut.emplace_back(c, QStringLiteral("request headers not received within %1 ms").arg(m_limits.headerTimeoutMs));
            break;
        case Connection::Phase::Body: {
            // Apache's rule: a first allowance, extended by one second per
            // minBodyBytesPerSecond bytes received.
            const qint64 allowance = m_limits.minBodyBytesPerSecond > 0
                ? m_limits.bodyTimeoutMs + c->bodyReceived * 1000 / m_limits.minBodyBytesPerSecond
                : std::numeric_limits<qint64>::max();
            if (now - c->bodyStartMs > allowance || now - c->lastActivityMs > m_limits.bodyTimeoutMs)
                timedOut.emplace_back(c, QStringLiteral("request body too slow: %1 of %2 bytes in %3 ms (needs %4 bytes/s "
                                                        "after the first %5 ms, and no pause longer than that)")
                                             .arg(c->bodyReceived).arg(c->bodyReceived + c->bodyLeft)
                                             .arg(now - c->bodyStartMs).arg(m_limits.minBodyBytesPerSecond)
                                             .arg(m_limits.bodyTimeoutMs));
            break;
        }
        case Connection::Phase::Idle:
            if (c->outstanding == 0 && c->held.empty() && now - c->lastActivityMs > m_limits.idleTimeoutMs)
                toClose.push_back(socket);
            break;
        case Connection::Phase::Rejected:
            if (c->rejectedAtMs >= 0 && (now - c->lastActivityMs > kLingerMs || now - c->rejectedAtMs > kMaxLingerMs))
                toAbort.push_back(socket);
            break;
        }
    }
    for (auto &[c, message] : timedOut)
        refuse(c, 408, message);
    for (QTcpSocket *s : toClose)
        s->disconnectFromHost();
    for (QTcpSocket *s : toAbort) {
        const auto it = m_connections.find(s);
        const bool ours = it != m_connections.end() && !it->second->handedToQt;
        s->abort();
        if (ours)
            s->deleteLater(); // Qt deletes the sockets it was handed
    }
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
