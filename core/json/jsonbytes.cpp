#include "core/json/jsonbytes.h"

#include "core/json/bytescan.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>
#include <cstring>


namespace {
inline char hexdig(uint u)
{
    return char(u < 0xa ? '0' + u : 'a' + u - 0xa);
}
} // namespace

void JsonBytes::appendString(QByteArray &out, QStringView s)
{
    out += '"';
    appendEscaped(out, s);
    out += '"';
}

void JsonBytes::appendEscaped(QByteArray &out, QStringView s)
{
    const qsizetype start = out.size();
    // Worst case: 6 bytes per UTF-16 unit (\uxxxx).
    out.resize(start + 6 * s.size());
    char *cursor = out.data() + start;
    const char16_t *src = s.utf16();
    const char16_t *const end = src + s.size();
    while (src != end) {
        const char16_t u = *src++;
        if (u < 0x80) {
            if (u < 0x20 || u == 0x22 || u == 0x5c) {
                *cursor++ = '\\';
                switch (u) {
                case 0x22: *cursor++ = '"'; break;
                case 0x5c: *cursor++ = '\\'; break;
                case 0x8: *cursor++ = 'b'; break;
                case 0xc: *cursor++ = 'f'; break;
                case 0xa: *cursor++ = 'n'; break;
                case 0xd: *cursor++ = 'r'; break;
                case 0x9: *cursor++ = 't'; break;
                default:
                    *cursor++ = 'u';
                    *cursor++ = '0';
                    *cursor++ = '0';
                    *cursor++ = hexdig(u >> 4);
                    *cursor++ = hexdig(u & 0xf);
                }
            } else {
                *cursor++ = char(u);
            }
        } else if (u < 0x800) {
            *cursor++ = char(0xc0 | (u >> 6));
            *cursor++ = char(0x80 | (u & 0x3f));
        } else if (!QChar::isSurrogate(u)) {
            *cursor++ = char(0xe0 | (u >> 12));
            *cursor++ = char(0x80 | ((u >> 6) & 0x3f));
            *cursor++ = char(0x80 | (u & 0x3f));
        } else if (QChar::isHighSurrogate(u) && src != end && QChar::isLowSurrogate(*src)) {
            const char32_t ucs4 = QChar::surrogateToUcs4(u, *src++);
            *cursor++ = char(0xf0 | (ucs4 >> 18));
            *cursor++ = char(0x80 | ((ucs4 >> 12) & 0x3f));
            *cursor++ = char(0x80 | ((ucs4 >> 6) & 0x3f));
            *cursor++ = char(0x80 | (ucs4 & 0x3f));
        } else {
            // An unpaired surrogate has no UTF-8 form: Qt writes it escaped.
            *cursor++ = '\\';
            *cursor++ = 'u';
            *cursor++ = hexdig((u >> 12) & 0x0f);
            *cursor++ = hexdig((u >> 8) & 0x0f);
            *cursor++ = hexdig((u >> 4) & 0x0f);
            *cursor++ = hexdig(u & 0x0f);
        }
    }
    out.truncate(cursor - out.constData());
}

namespace {

bool needsEscape(uchar c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

// The first byte in [p, end) JSON must escape, or end.
const char *nextEscape(const char *p, const char *end)
{
    using namespace ByteScan;
    while (end - p >= 8) {
        const quint64 w = load8(p);
        if (anyBelow(w, 0x20) | anyEqual(w, '"') | anyEqual(w, '\\'))
            break;
        p += 8;
    }
    while (p != end && !needsEscape(uchar(*p)))
        ++p;
    return p;
}

// The letter of a two-character escape (\n), or 0 for a \u00xx one.
char escapeLetter(uchar c)
{
    switch (c) {
    case '"': return '"';
    case '\\': return '\\';
    case 0x8: return 'b';
    case 0xc: return 'f';
    case 0xa: return 'n';
    case 0xd: return 'r';
    case 0x9: return 't';
    default: return 0;
    }
}

} // namespace

void JsonBytes::appendUtf8String(QByteArray &out, QByteArrayView utf8)
{
    // One pass sizes the literal exactly (a resize to the worst case would
    // reallocate a buffer reserved for the usual case), the next writes it,
    // copying the runs between escapes whole. UTF-8 sequences stay as they
    // are: Qt writes non-ASCII as UTF-8.
    const char *const begin = utf8.data();
    const char *const end = begin + utf8.size();
    qsizetype size = 2 + utf8.size();
    for (const char *s = nextEscape(begin, end); s != end; s = nextEscape(s + 1, end))
        size += escapeLetter(uchar(*s)) ? 1 : 5;
    const qsizetype start = out.size();
    out.resize(start + size);
    char *p = out.data() + start;
    *p++ = '"';
    const char *run = begin;
    for (const char *s = nextEscape(run, end); s != end; s = nextEscape(run, end)) {
        p = std::copy(run, s, p);
        run = s + 1;
        const uchar c = uchar(*s);
        *p++ = '\\';
        if (const char letter = escapeLetter(c)) {
            *p++ = letter;
        } else {
            *p++ = 'u';
            *p++ = '0';
            *p++ = '0';
            *p++ = hexdig(c >> 4);
            *p++ = hexdig(c & 0xf);
        }
    }
    p = std::copy(run, end, p);
    *p++ = '"';
    Q_ASSERT(p == out.constData() + out.size());
}

void JsonBytes::appendValue(QByteArray &out, const QJsonValue &v)
{
    if (v.isString()) {
        appendString(out, v.toString());
        return;
    }
    // Rare shapes: let Qt write them (an array of one, without its brackets).
    const QByteArray wrapped = QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact);
    out.append(wrapped.constData() + 1, wrapped.size() - 2);
}
