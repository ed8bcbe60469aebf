#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <utility>

// A strict forward reader over JSON text in UTF-8 that walks values without
// building a tree: the hot path reads the few fields it needs from a large
// answer and skips the rest, where QJsonDocument would decode every string
// into UTF-16 and build a QJsonObject for every level.
//
// It is conservative on purpose. It accepts only what QJsonDocument::fromJson
// also accepts and reads the same way, so a caller can use it as a fast path
// and fall back to Qt whenever it says no:
// - RFC 8259 grammar, whitespace " \t\n\r", nesting up to kMaxDepth;
// - strings of well-formed UTF-8 with the standard escapes; a raw control
//   character, an unpaired surrogate or U+FFFE/U+FFFF (raw or \u-escaped)
//   is refused, and so is a string that starts with a raw U+FEFF (Qt 6.4
//   drops it there, as if it were a byte-order mark);
// - numbers only where a double surely holds them (at most 20 integer
//   digits, 40 fraction digits, exponent within +-250): Qt refuses what
//   overflows, this reader refuses a little more.
// Every read returns false on anything it refuses; the cursor is then
// unspecified and the reader should be dropped.
//
// Thread: a value type over memory the caller keeps alive; no shared state.
class JsonScanner
{
public:
    static constexpr int kMaxDepth = 64;

    JsonScanner(const char *begin, const char *end) : m_p(begin), m_end(end) {}
    explicit JsonScanner(QByteArrayView text) : JsonScanner(text.data(), text.data() + text.size()) {}

    // The next non-whitespace character, or 0 at the end (or at a NUL byte).
    char peek();
    // True when only whitespace is left (a NUL byte is not the end: Qt
    // refuses "{}\0junk").
    bool atEnd()
    {
        peek();
        return m_p == m_end;
    }

    // An object, member by member: consumes '{', then reads each key and
    // calls onMember(key), which reads or skips the member's value and says
    // whether to go on; true once the closing '}' is consumed, false on
    // invalid JSON or as soon as onMember says no.
    template <typename OnMember>
    bool readObject(OnMember &&onMember);
    // An array, element by element, the same way: onElement() reads or skips
    // each value.
    template <typename OnElement>
    bool readArray(OnElement &&onElement);

    // The steps readObject() and readArray() take, for a caller that walks
    // by hand. Objects: enterObject() consumes '{'; then each nextKey()
    // either reads the next key and its ':' into *key (Item: read or skip the
    // value next; a null key is only checked), or consumes the closing '}'
    // (End). Arrays: enterArray() consumes '['; each nextElement() says
    // whether a value follows (Item) or consumes the closing ']' (End).
    enum class Next { Item, End, Invalid };
    bool enterObject() { return enter('{'); }
    Next nextKey(QByteArray *key);
    bool enterArray() { return enter('['); }
    Next nextElement();

    // A string literal, decoded (escapes resolved) and appended to *out as
    // UTF-8; *utf16Units (when given) receives its length in UTF-16 code
    // units, as QString::size() would count it.
    bool readString(QByteArray *out, qsizetype *utf16Units = nullptr);
    // An integer literal that fits an int (no fraction, no exponent).
    bool readInt(int *out);
    // `true` or `false`.
    bool readBool(bool *out);
    // Any value, checked for validity and thrown away.
    bool skipValue() { return skipValue(0); }
    // The same, with *raw set to the value's bytes as they stand.
    bool skipValue(QByteArrayView *raw);

private:
    bool enter(char bracket);
    // The step between members or elements: the closing `close` (End), or the
    // ',' that must precede every one but the first (Item).
    Next next(char close);
    bool skipValue(int depth);
    bool skipNumber();
    bool readHex4(char16_t *out);

    const char *m_p;
    const char *m_end;
    bool m_first = true; // no member or element read yet at the innermost open level
};

template <typename OnMember>
bool JsonScanner::readObject(OnMember &&onMember)
{
    if (!enterObject())
        return false;
    QByteArray key;
    for (Next n; (n = nextKey(&key)) != Next::End;) {
        if (n == Next::Invalid || !onMember(std::as_const(key)))
            return false;
    }
    return true;
}

template <typename OnElement>
bool JsonScanner::readArray(OnElement &&onElement)
{
    if (!enterArray())
        return false;
    for (Next n; (n = nextElement()) != Next::End;) {
        if (n == Next::Invalid || !onElement())
            return false;
    }
    return true;
}
