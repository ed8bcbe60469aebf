#include "core/json/jsonscanner.h"

#include "core/json/bytescan.h"

#include <cstring>
#include <limits>

namespace {

inline bool isWs(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

inline bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

inline bool isCont(unsigned char c)
{
    return (c & 0xc0) == 0x80;
}

void appendUtf8(QByteArray *out, char32_t cp)
{
    char buf[4];
    int n;
    if (cp < 0x80) {
        buf[0] = char(cp);
        n = 1;
    } else if (cp < 0x800) {
        buf[0] = char(0xc0 | (cp >> 6));
        buf[1] = char(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        buf[0] = char(0xe0 | (cp >> 12));
        buf[1] = char(0x80 | ((cp >> 6) & 0x3f));
        buf[2] = char(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        buf[0] = char(0xf0 | (cp >> 18));
        buf[1] = char(0x80 | ((cp >> 12) & 0x3f));
        buf[2] = char(0x80 | ((cp >> 6) & 0x3f));
        buf[3] = char(0x80 | (cp & 0x3f));
        n = 4;
    }
    out->append(buf, n);
}

} // namespace

char JsonScanner::peek()
{
    while (m_p != m_end && isWs(*m_p))
        ++m_p;
    return m_p == m_end ? 0 : *m_p;
}

bool JsonScanner::enter(char bracket)
{
    if (peek() != bracket)
        return false;
    ++m_p;
    m_first = true;
    return true;
}

JsonScanner::Next JsonScanner::next(char close)
{
    const char c = peek();
    if (c == close) {
        ++m_p;
        m_first = false;
        return Next::End;
    }
    if (!m_first) {
        if (c != ',')
            return Next::Invalid;
        ++m_p;
    }
    m_first = false;
    return Next::Item;
}

JsonScanner::Next JsonScanner::nextKey(QByteArray *key)
{
    const Next n = next('}');
    if (n != Next::Item)
        return n;
    if (key)
        key->clear();
    if (!readString(key) || peek() != ':')
        return Next::Invalid;
    ++m_p;
    return Next::Item;
}

JsonScanner::Next JsonScanner::nextElement()
{
    return next(']');
}

bool JsonScanner::readHex4(char16_t *out)
{
    if (m_end - m_p < 4)
        return false;
    char16_t v = 0;
    for (int i = 0; i < 4; ++i) {
        const char c = *m_p++;
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= char16_t(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= char16_t(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= char16_t(c - 'A' + 10);
        else
            return false;
    }
    *out = v;
    return true;
}

bool JsonScanner::readString(QByteArray *out, qsizetype *utf16Units)
{
    if (peek() != '"')
        return false;
    ++m_p;
    // Qt 6.4 drops a raw U+FEFF that starts a string (as if it were a
    // byte-order mark): refused, so that the caller's fallback to Qt reads it.
    if (m_end - m_p >= 3 && std::memcmp(m_p, "\xEF\xBB\xBF", 3) == 0)
        return false;
    if (out) {
        // The decoded text is never longer than the literal: find its end
        // (the first quote not escaped) and make room once.
        const char *q = m_p;
        while ((q = static_cast<const char *>(std::memchr(q, '"', size_t(m_end - q))))) {
            qsizetype backslashes = 0;
            while (q - backslashes > m_p && q[-1 - backslashes] == '\\')
                ++backslashes;
            if (backslashes % 2 == 0)
                break;
            ++q;
        }
        if (q)
            out->reserve(out->size() + (q - m_p));
    }
    qsizetype units = 0;
    for (;;) {
        // A run of plain ASCII goes over in one append.
        const char *run = m_p;
        while (m_end - m_p >= 8 && !ByteScan::anySpecial(ByteScan::load8(m_p)))
            m_p += 8;
        while (m_p != m_end) {
            const unsigned char c = static_cast<unsigned char>(*m_p);
            if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
                break;
            ++m_p;
        }
        if (out && m_p != run)
            out->append(run, m_p - run);
        units += m_p - run;
        if (m_p == m_end)
            return false;
        const unsigned char c = static_cast<unsigned char>(*m_p);
        if (c == '"') {
            ++m_p;
            break;
        }
        if (c < 0x20)
            return false; // a raw control character
        if (c == '\\') {
            if (m_end - m_p < 2)
                return false;
            const char e = m_p[1];
            m_p += 2;
            char plain = 0;
            switch (e) {
            case '"': plain = '"'; break;
            case '\\': plain = '\\'; break;
            case '/': plain = '/'; break;
            case 'b': plain = '\b'; break;
            case 'f': plain = '\f'; break;
            case 'n': plain = '\n'; break;
            case 'r': plain = '\r'; break;
            case 't': plain = '\t'; break;
            case 'u': {
                char16_t u = 0;
                if (!readHex4(&u))
                    return false;
                char32_t cp = u;
                if (u >= 0xd800 && u <= 0xdbff) {
                    char16_t low = 0;
                    if (m_end - m_p < 6 || m_p[0] != '\\' || m_p[1] != 'u')
                        return false; // unpaired high surrogate
                    m_p += 2;
                    if (!readHex4(&low) || low < 0xdc00 || low > 0xdfff)
                        return false;
                    cp = 0x10000 + ((char32_t(u) - 0xd800) << 10) + (low - 0xdc00);
                    units += 2;
                } else if ((u >= 0xdc00 && u <= 0xdfff) || u >= 0xfffe) {
                    return false; // unpaired low surrogate, or a noncharacter
                } else {
                    units += 1;
                }
                if (out)
                    appendUtf8(out, cp);
                continue;
            }
            default:
                return false;
            }
            if (out)
                out->append(plain);
            ++units;
            continue;
        }
        // Multi-byte UTF-8, checked as the Unicode standard's table 3-7
        // has it (no overlong forms, no surrogates, nothing past U+10FFFF);
        // U+FFFE and U+FFFF are refused too, to stay on the safe side of Qt.
        const qsizetype left = m_end - m_p;
        const auto *s = reinterpret_cast<const unsigned char *>(m_p);
        int len = 0;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            if (left < 2 || !isCont(s[1]))
                return false;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            if (left < 3 || !isCont(s[1]) || !isCont(s[2]))
                return false;
            if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
                return false;
            if (c == 0xef && s[1] == 0xbf && (s[2] == 0xbe || s[2] == 0xbf))
                return false;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            if (left < 4 || !isCont(s[1]) || !isCont(s[2]) || !isCont(s[3]))
                return false;
            if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
                return false;
        } else {
            return false;
        }
        if (out)
            out->append(m_p, len);
        units += len == 4 ? 2 : 1;
        m_p += len;
    }
    if (utf16Units)
        *utf16Units = units;
    return true;
}

bool JsonScanner::readInt(int *out)
{
    peek();
    const char *p = m_p;
    bool negative = false;
    if (p != m_end && *p == '-') {
        negative = true;
        ++p;
    }
    if (p == m_end || !isDigit(*p))
        return false;
    if (*p == '0' && p + 1 != m_end && isDigit(p[1]))
        return false;
    qint64 v = 0;
    const char *digits = p;
    while (p != m_end && isDigit(*p)) {
        v = v * 10 + (*p - '0');
        if (++p - digits > 10)
            return false;
    }
    if (p != m_end && (*p == '.' || *p == 'e' || *p == 'E'))
        return false;
    if (negative)
        v = -v;
    if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
        return false;
    *out = int(v);
    m_p = p;
    return true;
}

bool JsonScanner::readBool(bool *out)
{
    const char c = peek();
    if (c == 't' && m_end - m_p >= 4 && std::memcmp(m_p, "true", 4) == 0) {
        m_p += 4;
        *out = true;
        return true;
    }
    if (c == 'f' && m_end - m_p >= 5 && std::memcmp(m_p, "false", 5) == 0) {
        m_p += 5;
        *out = false;
        return true;
    }
    return false;
}

bool JsonScanner::skipNumber()
{
    const char *p = m_p;
    if (*p == '-')
        ++p;
    const char *digits = p;
    if (p == m_end || !isDigit(*p))
        return false;
    if (*p == '0') {
        ++p;
    } else {
        while (p != m_end && isDigit(*p))
            ++p;
    }
    if (p - digits > 20)
        return false;
    if (p != m_end && *p == '.') {
        const char *frac = ++p;
        while (p != m_end && isDigit(*p))
            ++p;
        if (p == frac || p - frac > 40)
            return false;
    }
    if (p != m_end && (*p == 'e' || *p == 'E')) {
        ++p;
        if (p != m_end && (*p == '+' || *p == '-'))
            ++p;
        int exponent = 0;
        const char *exp = p;
        while (p != m_end && isDigit(*p)) {
            exponent = exponent * 10 + (*p - '0');
            if (exponent > 250)
                return false;
            ++p;
        }
        if (p == exp)
            return false;
    }
    m_p = p;
    return true;
}

bool JsonScanner::skipValue(QByteArrayView *raw)
{
    peek();
    const char *start = m_p;
    if (!skipValue(0))
        return false;
    *raw = QByteArrayView(start, m_p - start);
    return true;
}

bool JsonScanner::skipValue(int depth)
{
    const char c = peek();
    switch (c) {
    case '{':
    case '[': {
        if (depth >= kMaxDepth)
            return false;
        const bool object = c == '{';
        enter(c);
        for (Next n; (n = object ? nextKey(nullptr) : nextElement()) != Next::End;) {
            if (n == Next::Invalid || !skipValue(depth + 1))
                return false;
        }
        return true;
    }
    case '"':
        return readString(nullptr);
    case 't':
    case 'f': {
        bool b = false;
        return readBool(&b);
    }
    case 'n':
        if (m_end - m_p >= 4 && std::memcmp(m_p, "null", 4) == 0) {
            m_p += 4;
            return true;
        }
        return false;
    default:
        return (c == '-' || isDigit(c)) && skipNumber();
    }
}
