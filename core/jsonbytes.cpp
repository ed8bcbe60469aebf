#include "jsonbytes.h"

#include <QJsonArray>
#include <QJsonDocument>


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

void JsonBytes::appendUtf8String(QByteArray &out, QByteArrayView utf8)
{
    // Sized exactly (one count of the characters to escape): a resize to the
    // worst case would reallocate a buffer reserved for the usual case.
    qsizetype extra = 0;
    for (const char ch : utf8) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20)
            extra += (c == 0x8 || c == 0xc || c == 0xa || c == 0xd || c == 0x9) ? 1 : 5;
        else if (c == 0x22 || c == 0x5c)
            extra += 1;
    }
    const qsizetype start = out.size();
    out.resize(start + 2 + utf8.size() + extra);
    char *cursor = out.data() + start;
    *cursor++ = '"';
    const char *src = utf8.data();
    const char *const end = src + utf8.size();
    while (src != end) {
        const unsigned char c = static_cast<unsigned char>(*src++);
        if (c >= 0x20 && c != 0x22 && c != 0x5c) {
            *cursor++ = char(c); // ASCII or a byte of a multi-byte sequence: as is
            continue;
        }
        *cursor++ = '\\';
        switch (c) {
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
            *cursor++ = hexdig(c >> 4);
            *cursor++ = hexdig(c & 0xf);
        }
    }
    *cursor++ = '"';
    Q_ASSERT(cursor == out.constData() + out.size());
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
