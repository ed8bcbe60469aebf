#include "server/simulator/simhttpconnection.h"

#include "core/gemini/geminierror.h"
#include "core/http/httpheaderblock.h"
#include "core/http/httpstatus.h"

#include <QTcpSocket>

#include <algorithm>

namespace {

constexpr qsizetype kMaxHeaderBytes = 64 * 1024;

} // namespace

QByteArray SimHttpConnection::Request::header(const QByteArray &lowerName) const
{
    for (const auto &h : headers) {
        if (h.first == lowerName)
            return h.second;
    }
    return {};
}

QByteArray SimHttpConnection::Request::queryItem(const QByteArray &name) const
{
    for (const QByteArray &item : query.split('&')) {
        const qsizetype eq = item.indexOf('=');
        const QByteArray key = eq < 0 ? item : item.left(eq);
        if (key == name)
            return QByteArray::fromPercentEncoding(eq < 0 ? QByteArray() : item.mid(eq + 1).replace('+', ' '));
    }
    return {};
}

SimHttpConnection::SimHttpConnection(QTcpSocket *socket, qint64 maxBodyBytes, QObject *parent)
    : QObject(parent), m_socket(socket), m_maxBodyBytes(maxBodyBytes)
{
    m_socket->setParent(this);
    connect(m_socket, &QTcpSocket::readyRead, this, &SimHttpConnection::onReadyRead);
    connect(m_socket, &QTcpSocket::disconnected, this, [this] {
        if (m_closed)
            return;
        m_closed = true;
        if (m_onClosed)
            m_onClosed(this);
    });
}

SimHttpConnection::~SimHttpConnection() = default;

void SimHttpConnection::setHandlers(RequestHandler onRequest, Notifier onMalformed, Notifier onClosed)
{
    m_onRequest = std::move(onRequest);
    m_onMalformed = std::move(onMalformed);
    m_onClosed = std::move(onClosed);
}

void SimHttpConnection::onReadyRead()
{
    if (m_closing) {
        m_socket->readAll();
        return;
    }
    m_buffer.append(m_socket->readAll());
    parse();
}

void SimHttpConnection::parse()
{
    if (m_parsing)
        return;
    m_parsing = true;
    while (!m_busy && !m_closed && !m_closing && !m_buffer.isEmpty()) {
        // Tolerate stray CRLFs between requests (RFC 9112 §2.2).
        while (m_buffer.startsWith("\r\n"))
            m_buffer.remove(0, 2);
        // Read leniently: a bare LF ends a line too (RFC 9112 §2.2 lets a
        // recipient accept it, and nothing else parses these bytes).
        const HttpHeaderBlock::End end = HttpHeaderBlock::findEnd(m_buffer, 0, true);
        if (end.end < 0) {
            if (m_buffer.size() > kMaxHeaderBytes)
                fail(m_buffer.indexOf('\n') < 0 ? 414 : 431, "request header too large");
            break;
        }
        if (end.end > kMaxHeaderBytes) {
            fail(431, "request header too large");
            break;
        }
        HttpHeaderBlock head(QByteArrayView(m_buffer).first(end.end), true);
        const QByteArrayView requestLine = head.startLine().trimmed();
        // Exactly three parts, one space apart.
        const qsizetype sp1 = requestLine.indexOf(' ');
        const qsizetype sp2 = sp1 < 0 ? -1 : requestLine.indexOf(' ', sp1 + 1);
        const QByteArrayView method = requestLine.first(std::max<qsizetype>(sp1, 0));
        const QByteArrayView target = sp2 < 0 ? QByteArrayView() : requestLine.sliced(sp1 + 1, sp2 - sp1 - 1);
        const QByteArrayView version = sp2 < 0 ? QByteArrayView() : requestLine.sliced(sp2 + 1);
        if (sp2 < 0 || version.contains(' ') || method.isEmpty() || !target.startsWith('/')
            || (version != "HTTP/1.1" && version != "HTTP/1.0")) {
            fail(400, "malformed request line");
            break;
        }
        bool methodOk = true;
        for (char c : method)
            methodOk = methodOk && c >= 'A' && c <= 'Z';
        if (!methodOk) {
            fail(400, "malformed request line");
            break;
        }
        Request req;
        req.method = method.toByteArray();
        const qsizetype q = target.indexOf('?');
        req.path = QByteArray::fromPercentEncoding((q < 0 ? target : target.first(q)).toByteArray());
        req.query = q < 0 ? QByteArray() : target.sliced(q + 1).toByteArray();
        req.keepAlive = version == "HTTP/1.1";
        qint64 contentLength = -1;
        bool headersOk = true;
        HttpHeaderBlock::Field field;
        while (headersOk && head.next(&field)) {
            const QByteArray name = field.name.toByteArray().toLower();
            if (name == "content-length") {
                // Two different lengths would frame the body two ways (RFC 9112 §6.3).
                const qint64 length = HttpHeaderBlock::parseDecimal(field.value);
                headersOk = length >= 0 && (contentLength < 0 || length == contentLength);
                contentLength = length;
            } else if (name == "connection") {
                if (HttpHeaderBlock::listContains(field.value, "close"))
                    req.keepAlive = false;
                else if (HttpHeaderBlock::listContains(field.value, "keep-alive"))
                    req.keepAlive = true;
            } else if (name == "transfer-encoding") {
                headersOk = false; // chunked request bodies are not supported (no client we serve sends them)
            }
            req.headers.append({name, field.value.toByteArray()});
        }
        if (!headersOk || head.error() != HttpHeaderBlock::Error::None) {
            fail(400, "malformed header");
            break;
        }
        contentLength = std::max<qint64>(contentLength, 0);
        if (contentLength > m_maxBodyBytes) {
            fail(413, "request body too large");
            break;
        }
        const qsizetype total = end.end + qsizetype(contentLength);
        if (m_buffer.size() < total)
            break; // wait for the rest of the body
        req.body = m_buffer.mid(end.end, qsizetype(contentLength));
        m_buffer.remove(0, total);
        m_keepAlive = req.keepAlive;
        m_busy = true;
        if (m_onRequest)
            m_onRequest(this, req);
    }
    m_parsing = false;
}

void SimHttpConnection::fail(int status, const char *message)
{
    if (m_onMalformed)
        m_onMalformed(this);
    m_keepAlive = false;
    m_busy = true;
    m_buffer.clear();
    sendResponse(status, "application/json; charset=UTF-8",
                 GeminiError::envelopeJson(status, QStringLiteral("INVALID_ARGUMENT"), QString::fromLatin1(message)));
}

void SimHttpConnection::sendResponse(int status, const QByteArray &contentType, const QByteArray &body,
                                     const Headers &extraHeaders)
{
    if (m_closed)
        return;
    QByteArray out;
    out.reserve(body.size() + 256);
    out += "HTTP/1.1 " + QByteArray::number(status) + ' ' + HttpStatus::reasonPhrase(status) + "\r\n";
    out += "Content-Type: " + contentType + "\r\n";
    out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    out += "Server: sluice-gemini-simulator\r\n";
    if (!m_keepAlive)
        out += "Connection: close\r\n";
    for (const auto &h : extraHeaders)
        out += h.first + ": " + h.second + "\r\n";
    out += "\r\n";
    out += body;
    m_socket->write(out);
    m_socket->flush(); // now, not on the next loop iteration
    finishResponse();
}

void SimHttpConnection::beginStream(int status, const QByteArray &contentType, const Headers &extraHeaders)
{
    if (m_closed)
        return;
    QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' + HttpStatus::reasonPhrase(status) + "\r\n";
    out += "Content-Type: " + contentType + "\r\n";
    out += "Transfer-Encoding: chunked\r\n";
    out += "Server: sluice-gemini-simulator\r\n";
    if (!m_keepAlive)
        out += "Connection: close\r\n";
    for (const auto &h : extraHeaders)
        out += h.first + ": " + h.second + "\r\n";
    out += "\r\n";
    m_socket->write(out);
    m_streaming = true;
}

void SimHttpConnection::writeChunk(const QByteArray &data)
{
    if (m_closed || !m_streaming || data.isEmpty())
        return;
    m_socket->write(QByteArray::number(data.size(), 16) + "\r\n" + data + "\r\n");
    m_socket->flush();
}

void SimHttpConnection::endStream()
{
    if (m_closed || !m_streaming)
        return;
    m_socket->write("0\r\n\r\n");
    m_socket->flush();
    m_streaming = false;
    finishResponse();
}

void SimHttpConnection::drop()
{
    m_buffer.clear();
    m_busy = true;
    if (m_closed)
        return;
    m_socket->abort();
    if (!m_closed) {
        m_closed = true;
        if (m_onClosed)
            m_onClosed(this);
    }
}

void SimHttpConnection::finishResponse()
{
    m_busy = false;
    if (!m_keepAlive) {
        // The connection is released on disconnected(), once what was written is flushed.
        m_closing = true;
        m_buffer.clear();
        m_socket->disconnectFromHost();
        return;
    }
    if (!m_buffer.isEmpty())
        parse();
}
