#include "core/http/httpheaderblock.h"

#include "core/json/bytescan.h"

#include <cstring>
#include <limits>

HttpHeaderBlock::End HttpHeaderBlock::findEnd(QByteArrayView data, qsizetype from, bool allowBareLf)
{
    // Resume a little before `from`: the terminator (at most "\r\n\r\n") may
    // have been split between reads.
    qsizetype i = std::max<qsizetype>(0, from - 3);
    const char *p = data.data();
    const qsizetype n = data.size();
    while (i < n) {
        const void *hit = std::memchr(p + i, '\n', size_t(n - i));
        if (!hit)
            return {};
        const qsizetype lf = static_cast<const char *>(hit) - p;
        const bool crlf = lf > 0 && p[lf - 1] == '\r';
        if (!crlf && !allowBareLf)
            return {-1, Error::BareLf};
        // The line that ended here is empty: the block ends.
        const qsizetype lineStart = crlf ? lf - 1 : lf;
        if (lineStart == 0 || p[lineStart - 1] == '\n')
            return {lf + 1, Error::None};
        i = lf + 1;
    }
    return {};
}

HttpHeaderBlock::HttpHeaderBlock(QByteArrayView block, bool allowBareLf) : m_allowBareLf(allowBareLf), m_rest(block)
{
    if (!nextLine(&m_startLine))
        m_startLine = {};
}

bool HttpHeaderBlock::nextLine(QByteArrayView *line)
{
    if (m_rest.isEmpty() || m_error != Error::None)
        return false;
    const qsizetype lf = m_rest.indexOf('\n');
    QByteArrayView l = lf < 0 ? m_rest : m_rest.first(lf);
    m_rest = lf < 0 ? QByteArrayView() : m_rest.sliced(lf + 1);
    if (l.endsWith('\r'))
        l.chop(1);
    else if (lf >= 0 && !m_allowBareLf) {
        m_error = Error::BareLf;
        return false;
    }
    *line = l;
    return true;
}

bool HttpHeaderBlock::next(Field *out)
{
    QByteArrayView line;
    if (!nextLine(&line))
        return false;
    ++m_line;
    if (line.isEmpty()) {
        m_rest = {};
        return false; // the empty line: the end of the block
    }
    const Error e = parseFieldLine(line, out);
    if (e != Error::None) {
        m_error = e;
        return false;
    }
    return true;
}

HttpHeaderBlock::Error HttpHeaderBlock::parseFieldLine(QByteArrayView line, Field *out)
{
    if (!line.isEmpty() && (line.front() == ' ' || line.front() == '\t'))
        return Error::ObsFold;
    const qsizetype colon = line.indexOf(':');
    if (colon < 0)
        return Error::NoColon;
    const QByteArrayView name = line.first(colon);
    if (!isToken(name))
        return Error::BadName;
    QByteArrayView value = line.sliced(colon + 1);
    // Eight bytes at a time past the usual printable runs; a word with a
    // control byte (a tab, usually) is looked at byte by byte.
    const char *p = value.data();
    const char *const end = p + value.size();
    for (; end - p >= 8; p += 8) {
        const quint64 w = ByteScan::load8(p);
        if (ByteScan::anyBelow(w, 0x20) | ByteScan::anyEqual(w, 0x7f)) {
            for (int k = 0; k < 8; ++k) {
                const uchar u = uchar(p[k]);
                if ((u < 0x20 && u != '\t') || u == 0x7f)
                    return Error::BadValue;
            }
        }
    }
    for (; p < end; ++p) {
        const uchar u = uchar(*p);
        if ((u < 0x20 && u != '\t') || u == 0x7f)
            return Error::BadValue;
    }
    while (!value.isEmpty() && (value.front() == ' ' || value.front() == '\t'))
        value = value.sliced(1);
    while (!value.isEmpty() && (value.back() == ' ' || value.back() == '\t'))
        value.chop(1);
    out->name = name;
    out->value = value;
    return Error::None;
}

QString HttpHeaderBlock::describe(Error error)
{
    switch (error) {
    case Error::None: return {};
    case Error::BareLf: return QStringLiteral("a line ends in LF without CR");
    case Error::ObsFold: return QStringLiteral("obsolete line folding (a line starting with a space or tab) is not allowed");
    case Error::NoColon: return QStringLiteral("a header line has no colon");
    case Error::BadName: return QStringLiteral("a header name is empty or holds a character a token may not (whitespace before the colon included)");
    case Error::BadValue: return QStringLiteral("a header value holds a control character");
    }
    return {};
}

QString HttpHeaderBlock::errorString() const
{
    if (m_error == Error::None)
        return {};
    return QStringLiteral("header line %1: %2").arg(m_line).arg(describe(m_error));
}

bool HttpHeaderBlock::isTokenChar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return true;
    default:
        return false;
    }
}

bool HttpHeaderBlock::isToken(QByteArrayView s)
{
    if (s.isEmpty())
        return false;
    for (char c : s) {
        if (!isTokenChar(c))
            return false;
    }
    return true;
}

qint64 HttpHeaderBlock::parseDecimal(QByteArrayView s)
{
    if (s.isEmpty())
        return -1;
    qint64 v = 0;
    for (char c : s) {
        if (c < '0' || c > '9')
            return -1;
        const int d = c - '0';
        if (v > (std::numeric_limits<qint64>::max() - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    return v;
}

bool HttpHeaderBlock::listContains(QByteArrayView value, QByteArrayView token)
{
    bool found = false;
    forEachListElement(value, [&](QByteArrayView element) {
        if (element.compare(token, Qt::CaseInsensitive) == 0)
            found = true;
    });
    return found;
}
