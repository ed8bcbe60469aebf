#include "server/simulator/simhttpconnection.h"

#include <QTcpSocket>

#include <algorithm>

namespace {

constexpr qsizetype kMaxHeaderBytes = 64 * 1024;

bool isTokenChar(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

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
        const qsizetype headerEnd = m_buffer.indexOf("\r\n\r\n");
        if (headerEnd < 0) {
            if (m_buffer.size() > kMaxHeaderBytes)
                fail(m_buffer.indexOf("\r\n") < 0 ? 414 : 431, "request header too large");
            break;
        }
        if (headerEnd > kMaxHeaderBytes) {
            fail(431, "request header too large");
            break;
        }
        // The header block is read in place: lines end at '\n' (a '\r' before it
        // is trimmed away with the rest of the whitespace).
        const QByteArrayView head(m_buffer.constData(), headerEnd);
        qsizetype requestLineEnd = head.indexOf('\n');
        if (requestLineEnd < 0)
            requestLineEnd = head.size();
        const QByteArrayView requestLine = head.first(requestLineEnd).trimmed();
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
        qint64 contentLength = 0;
        bool headersOk = true;
        for (qsizetype start = requestLineEnd + 1; start <= head.size(); ) {
            qsizetype end = head.indexOf('\n', start);
            if (end < 0)
                end = head.size();
            const QByteArrayView line = head.sliced(start, end - start);
            start = end + 1;
            const qsizetype colon = line.indexOf(':');
            if (colon <= 0) {
                headersOk = false;
                break;
            }
            QByteArray name = line.first(colon).toByteArray().toLower();
            for (char c : name)
                headersOk = headersOk && isTokenChar(c);
            const QByteArray value = line.sliced(colon + 1).trimmed().toByteArray();
            if (name == "content-length") {
                bool ok = false;
                contentLength = value.toLongLong(&ok);
                headersOk = headersOk && ok && contentLength >= 0;
            } else if (name == "connection") {
                const QByteArray v = value.toLower();
                if (v.contains("close"))
                    req.keepAlive = false;
                else if (v.contains("keep-alive"))
                    req.keepAlive = true;
            } else if (name == "transfer-encoding") {
                headersOk = false; // chunked request bodies are not supported (no client we serve sends them)
            }
            req.headers.append({std::move(name), value});
        }
        if (!headersOk) {
            fail(400, "malformed header");
            break;
        }
        if (contentLength > m_maxBodyBytes) {
            fail(413, "request body too large");
            break;
        }
        const qsizetype total = headerEnd + 4 + qsizetype(contentLength);
        if (m_buffer.size() < total)
            break; // wait for the rest of the body
        req.body = m_buffer.mid(headerEnd + 4, qsizetype(contentLength));
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
    const QByteArray body = "{\"error\":{\"code\":" + QByteArray::number(status) + ",\"message\":\"" + message
        + "\",\"status\":\"INVALID_ARGUMENT\"}}";
    sendResponse(status, "application/json; charset=UTF-8", body);
}

void SimHttpConnection::sendResponse(int status, const QByteArray &contentType, const QByteArray &body,
                                     const Headers &extraHeaders)
{
    if (m_closed)
        return;
    QByteArray out;
    out.reserve(body.size() + 256);
    out += "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
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
    QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
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

QByteArray SimHttpConnection::reasonPhrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
    }
}
