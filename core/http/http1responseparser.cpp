#include "core/http/http1responseparser.h"

#include "core/http/httpheaderblock.h"

#include <algorithm>
#include <limits>

namespace {

// A chunk-size line is a hex number plus optional extensions; nothing real is
// longer than this.
constexpr qsizetype kMaxChunkSizeLine = 4096;

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

} // namespace

Http1ResponseParser::Http1ResponseParser() : Http1ResponseParser(Limits{}) {}

Http1ResponseParser::Http1ResponseParser(Limits limits) : m_limits(limits) {}

void Http1ResponseParser::reset(bool headRequest)
{
    m_state = State::StatusLine;
    m_progress = Progress::NeedMore;
    m_framing = Framing::None;
    m_head = headRequest;
    m_receivedAnything = false;
    m_keepAlive = false;
    m_headersDone = false;
    m_line.truncate(0);
    m_blockBytes = 0;
    m_status = 0;
    m_minor = 1;
    m_headers.clear();
    m_trailers.clear();
    m_remaining = 0;
    m_body.clear();
    m_bodyBytes = 0;
    m_excess = 0;
    m_error.clear();
}

QByteArray Http1ResponseParser::header(QByteArrayView lowerName) const
{
    for (const auto &h : m_headers) {
        if (h.first == lowerName)
            return h.second;
    }
    return {};
}

Http1ResponseParser::Progress Http1ResponseParser::fail(const QString &why)
{
    m_state = State::Failed;
    m_error = why;
    return m_progress = Progress::Error;
}

bool Http1ResponseParser::lineState() const
{
    switch (m_state) {
    case State::StatusLine:
    case State::Headers:
    case State::ChunkSize:
    case State::ChunkDataEnd:
    case State::Trailers:
        return true;
    default:
        return false;
    }
}

Http1ResponseParser::Progress Http1ResponseParser::feed(QByteArrayView bytes)
{
    if (m_state == State::Done) {
        m_excess += bytes.size();
        return m_progress;
    }
    if (m_state == State::Failed)
        return m_progress;
    if (!bytes.isEmpty())
        m_receivedAnything = true;

    const qsizetype n = bytes.size();
    qsizetype i = 0;
    while (i < n) {
        if (lineState()) {
            const qsizetype nl = bytes.indexOf('\n', i);
            const qsizetype end = nl < 0 ? n : nl + 1;
            if (m_state == State::ChunkSize || m_state == State::ChunkDataEnd) {
                if (m_line.size() + (end - i) > kMaxChunkSizeLine)
                    return fail(QStringLiteral("malformed chunk size line"));
            } else {
                m_blockBytes += end - i;
                if (m_blockBytes > m_limits.maxHeaderBytes)
                    return fail(QStringLiteral("response %1 larger than %2 bytes")
                                    .arg(m_state == State::Trailers ? QStringLiteral("trailers")
                                                                    : QStringLiteral("headers"))
                                    .arg(m_limits.maxHeaderBytes));
            }
            if (nl < 0) {
                m_line.append(bytes.sliced(i));
                break;
            }
            QByteArrayView line = bytes.sliced(i, nl - i);
            if (!m_line.isEmpty()) {
                m_line.append(line);
                line = m_line;
            }
            if (line.endsWith('\r'))
                line.chop(1);
            i = nl + 1;
            const bool ok = onLine(line);
            m_line.truncate(0);
            if (!ok)
                return m_progress;
        } else {
            qsizetype take = n - i;
            if (m_framing != Framing::UntilClose)
                take = qsizetype(std::min<qint64>(take, m_remaining));
            if (!appendBody(bytes.sliced(i, take)))
                return m_progress;
            i += take;
            if (m_framing != Framing::UntilClose) {
                m_remaining -= take;
                if (m_remaining == 0)
                    m_state = m_state == State::ChunkData ? State::ChunkDataEnd : State::Done;
            }
        }
        if (m_state == State::Done) {
            m_excess += n - i;
            return m_progress = Progress::Complete;
        }
    }
    return m_progress;
}

Http1ResponseParser::Progress Http1ResponseParser::finish()
{
    if (m_state == State::Done || m_state == State::Failed)
        return m_progress;
    if (m_state == State::Body && m_framing == Framing::UntilClose) {
        m_state = State::Done;
        return m_progress = Progress::Complete;
    }
    return fail(m_receivedAnything ? QStringLiteral("connection closed before the response was complete")
                                   : QStringLiteral("connection closed without a response"));
}

bool Http1ResponseParser::onLine(QByteArrayView line)
{
    switch (m_state) {
    case State::StatusLine:
        // Tolerate stray empty lines between responses (RFC 9112 §2.2).
        return line.isEmpty() || onStatusLine(line);
    case State::Headers:
        if (line.isEmpty())
            return onHeadersEnd();
        return onHeaderLine(line, m_headers);
    case State::ChunkSize:
        return onChunkSizeLine(line);
    case State::ChunkDataEnd:
        if (!line.isEmpty()) {
            fail(QStringLiteral("malformed chunk (no line end after its data)"));
            return false;
        }
        m_state = State::ChunkSize;
        return true;
    case State::Trailers:
        if (line.isEmpty()) {
            m_state = State::Done;
            return true;
        }
        return onHeaderLine(line, m_trailers);
    default:
        return true;
    }
}

bool Http1ResponseParser::onStatusLine(QByteArrayView line)
{
    // HTTP/1.x SP 3DIGIT [SP reason]
    const bool ok = line.size() >= 12 && line.startsWith("HTTP/1.") && isDigit(line[7]) && line[8] == ' '
                 && isDigit(line[9]) && isDigit(line[10]) && isDigit(line[11])
                 && (line.size() == 12 || line[12] == ' ');
    const int status = ok ? (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0') : 0;
    if (!ok || status < 100 || status > 599) {
        fail(QStringLiteral("malformed status line"));
        return false;
    }
    m_minor = line[7] - '0';
    m_status = status;
    m_state = State::Headers;
    return true;
}

bool Http1ResponseParser::onHeaderLine(QByteArrayView line, Headers &into)
{
    if (line.front() == ' ' || line.front() == '\t') {
        // Obsolete line folding: a continuation of the previous field's value.
        if (into.isEmpty()) {
            fail(QStringLiteral("malformed header line"));
            return false;
        }
        QByteArray &value = into.last().second;
        const QByteArrayView more = line.trimmed();
        if (!more.isEmpty()) {
            if (!value.isEmpty())
                value += ' ';
            value += more;
        }
        return true;
    }
    HttpHeaderBlock::Field field;
    if (HttpHeaderBlock::parseFieldLine(line, &field) != HttpHeaderBlock::Error::None) {
        fail(QStringLiteral("malformed header line"));
        return false;
    }
    into.append({field.name.toByteArray().toLower(), field.value.toByteArray()});
    return true;
}

bool Http1ResponseParser::onHeadersEnd()
{
    if (m_status < 200) {
        if (m_status == 101) {
            fail(QStringLiteral("unexpected 101 Switching Protocols"));
            return false;
        }
        // An interim answer: the final one follows on the same connection.
        m_headers.clear();
        m_blockBytes = 0;
        m_state = State::StatusLine;
        return true;
    }
    m_headersDone = true;

    bool close = false;
    bool keepAliveToken = false;
    bool hasTransferEncoding = false;
    QByteArrayView lastCoding;
    qint64 length = -1;
    bool badLength = false;
    for (const auto &h : std::as_const(m_headers)) {
        if (h.first == "connection") {
            HttpHeaderBlock::forEachListElement(h.second, [&](QByteArrayView token) {
                if (token.compare("close", Qt::CaseInsensitive) == 0)
                    close = true;
                else if (token.compare("keep-alive", Qt::CaseInsensitive) == 0)
                    keepAliveToken = true;
            });
        } else if (h.first == "transfer-encoding") {
            hasTransferEncoding = true;
            HttpHeaderBlock::forEachListElement(h.second, [&](QByteArrayView coding) { lastCoding = coding; });
        } else if (h.first == "content-length") {
            bool any = false;
            HttpHeaderBlock::forEachListElement(h.second, [&](QByteArrayView value) {
                any = true;
                const qint64 v = HttpHeaderBlock::parseDecimal(value);
                if (v < 0 || (length >= 0 && v != length))
                    badLength = true;
                else
                    length = v;
            });
            if (!any)
                badLength = true;
        }
    }
    m_keepAlive = m_minor >= 1 ? !close : keepAliveToken && !close;

    if (m_head || m_status == 204 || m_status == 304) {
        m_state = State::Done;
        return true;
    }
    if (hasTransferEncoding) {
        // Transfer-Encoding overrides Content-Length; a message with both is
        // suspect, so the connection is not reused after it.
        if (length >= 0 || badLength)
            m_keepAlive = false;
        if (lastCoding.compare("chunked", Qt::CaseInsensitive) == 0) {
            m_framing = Framing::Chunked;
            m_state = State::ChunkSize;
        } else {
            m_framing = Framing::UntilClose;
            m_keepAlive = false;
            m_state = State::Body;
        }
        return true;
    }
    if (badLength) {
        fail(QStringLiteral("invalid Content-Length"));
        return false;
    }
    if (length >= 0) {
        if (length > m_limits.maxBodyBytes) {
            fail(QStringLiteral("response body larger than %1 bytes").arg(m_limits.maxBodyBytes));
            return false;
        }
        m_framing = Framing::Length;
        m_remaining = length;
        m_body.reserve(qsizetype(std::min<qint64>(length, 1 << 20)));
        m_state = length == 0 ? State::Done : State::Body;
        return true;
    }
    m_framing = Framing::UntilClose;
    m_keepAlive = false;
    m_state = State::Body;
    return true;
}

bool Http1ResponseParser::onChunkSizeLine(QByteArrayView line)
{
    // chunk-size [ BWS ; chunk-ext ] : the extensions are ignored.
    const qsizetype semicolon = line.indexOf(';');
    const QByteArrayView digits = (semicolon < 0 ? line : line.first(semicolon)).trimmed();
    qint64 size = digits.isEmpty() ? -1 : 0;
    for (char c : digits) {
        const int h = hexValue(c);
        if (h < 0 || size > (std::numeric_limits<qint64>::max() >> 4)) {
            size = -1;
            break;
        }
        size = size * 16 + h;
    }
    if (size < 0) {
        fail(QStringLiteral("malformed chunk size"));
        return false;
    }
    if (size == 0) {
        m_blockBytes = 0;
        m_state = State::Trailers;
        return true;
    }
    if (size > m_limits.maxBodyBytes - m_bodyBytes) {
        fail(QStringLiteral("response body larger than %1 bytes").arg(m_limits.maxBodyBytes));
        return false;
    }
    m_remaining = size;
    m_state = State::ChunkData;
    return true;
}

bool Http1ResponseParser::appendBody(QByteArrayView bytes)
{
    if (bytes.size() > m_limits.maxBodyBytes - m_bodyBytes) {
        fail(QStringLiteral("response body larger than %1 bytes").arg(m_limits.maxBodyBytes));
        return false;
    }
    m_bodyBytes += bytes.size();
    m_body.append(bytes);
    return true;
}
