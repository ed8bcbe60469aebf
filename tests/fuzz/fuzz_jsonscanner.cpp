// Differential target: JsonScanner (core/json) against QJsonDocument, its
// fallback and oracle, plus JsonBytes' writers against Qt's writer.
//
// Input: any bytes, read as ONE JSON value (JsonScanner::skipValue() and
// atEnd(), as the hot paths use it). Whenever the scanner accepts it, Qt must
// accept "[" + input + "]" (Qt 6 refuses a scalar at the top level, and the
// brackets cannot make a value valid that was not) and hold the same value,
// walked with the scanner's own step API (readObject/readArray/readString/
// readBool/readInt/skipValue(&raw)), which must accept whatever skipValue()
// accepted. "The same" is:
//   - objects: the same set of keys (compared as QString::fromUtf8 of the
//     scanner's UTF-8); a key given twice holds its LAST value in Qt, so only
//     the last occurrence is compared, the earlier ones are only walked;
//   - arrays: the same length, element by element;
//   - strings: readString()'s UTF-8 equals QString::toUtf8() byte for byte, and
//     its UTF-16 length equals QString::size();
//   - numbers: strtod() of the literal (C locale, correctly rounded, as
//     Qt's double-conversion is) == QJsonValue::toDouble() compared as
//     doubles, so -0.0 equals 0 (Qt keeps no negative zero: "-0.0" reads as
//     the integer 0); an integer literal that fits a qint64 also equals
//     QJsonValue::toInteger() exactly (Qt keeps such integers exact, beyond
//     2^53 too), and readInt(), where it succeeds, gives that integer;
//   - true, false, null as such.
// JsonBytes: appendUtf8String(scanner's UTF-8) and appendString(Qt's QString)
// both equal the literal Qt's compact writer writes for that string.
//
// Where the scanner is deliberately stricter than Qt (it refuses, Qt reads;
// the callers then fall back to Qt): an unpaired surrogate (escaped), U+FFFE
// and U+FFFF (raw or escaped), a string that starts with a raw U+FEFF (Qt
// 6.4 drops it there), a byte-order mark before the value, more than 20
// integer or 40 fraction digits, an exponent beyond +-250, nesting deeper
// than 64 (Qt: 1024), and the numbers Qt reads against RFC 8259 (".35",
// "999."). It is never looser than Qt: accepting what Qt refuses is a bug.
#include "tests/fuzz/fuzzsupport.h"

#include "core/json/jsonbytes.h"
#include "core/json/jsonscanner.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace {

QByteArray qtLiteral(const QString &s)
{
    const QByteArray a = QJsonDocument(QJsonArray{s}).toJson(QJsonDocument::Compact);
    return a.mid(1, a.size() - 2);
}

void compareString(JsonScanner &js, const QJsonValue &qt)
{
    FUZZ_CHECK(qt.isString(), "scanner read a string where Qt holds another type");
    QByteArray utf8;
    qsizetype units = -1;
    FUZZ_CHECK(js.readString(&utf8, &units), "readString() refused a string skipValue() accepted");
    const QString s = qt.toString();
    FUZZ_CHECK(utf8 == s.toUtf8(), "string differs: scanner " + Fuzz::quote(utf8) + " Qt " + Fuzz::quote(s.toUtf8()));
    FUZZ_CHECK(units == s.size(), "UTF-16 length differs: " + QByteArray::number(units) + " vs " + QByteArray::number(s.size()));
    const QByteArray literal = qtLiteral(s);
    QByteArray mine;
    JsonBytes::appendUtf8String(mine, utf8);
    FUZZ_CHECK(mine == literal, "appendUtf8String " + Fuzz::quote(mine) + " != Qt " + Fuzz::quote(literal));
    mine.clear();
    JsonBytes::appendString(mine, s);
    FUZZ_CHECK(mine == literal, "appendString " + Fuzz::quote(mine) + " != Qt " + Fuzz::quote(literal));
}

void compareNumber(JsonScanner &js, const QJsonValue &qt)
{
    FUZZ_CHECK(qt.isDouble(), "scanner read a number where Qt holds another type");
    JsonScanner intReader = js;
    int asInt = 0;
    const bool isInt = intReader.readInt(&asInt);
    QByteArrayView raw;
    FUZZ_CHECK(js.skipValue(&raw), "skipValue(&raw) refused a number");
    const QByteArray text = raw.toByteArray();
    errno = 0;
    const double d = std::strtod(text.constData(), nullptr);
    FUZZ_CHECK(d == qt.toDouble(), "number " + text + ": strtod " + QByteArray::number(d, 'g', 17) + " Qt "
                                       + QByteArray::number(qt.toDouble(), 'g', 17));
    const bool integerLiteral = !text.contains('.') && !text.contains('e') && !text.contains('E');
    if (integerLiteral) {
        errno = 0;
        const long long ll = std::strtoll(text.constData(), nullptr, 10);
        if (errno != ERANGE) {
            const qint64 sentinel = ll == 7 ? 8 : 7;
            FUZZ_CHECK(qt.toInteger(sentinel) == ll, "integer " + text + ": Qt holds " + QByteArray::number(qt.toInteger(sentinel)));
        }
    }
    if (isInt) {
        FUZZ_CHECK(integerLiteral, "readInt() accepted " + text);
        FUZZ_CHECK(qt.toInteger() == asInt, "readInt() " + QByteArray::number(asInt) + " for " + text);
    }
}

void compareValue(JsonScanner &js, const QJsonValue &qt, int depth);

void compareObject(JsonScanner &js, const QJsonObject &qt, int depth)
{
    // The keys first (a copy of the scanner walks ahead): which occurrence
    // of each key is its last, the one Qt keeps.
    QList<QString> keys;
    {
        JsonScanner ahead = js;
        const bool ok = ahead.readObject([&](const QByteArray &key) {
            keys.append(QString::fromUtf8(key));
            return ahead.skipValue();
        });
        FUZZ_CHECK(ok, "readObject() refused an object skipValue() accepted");
    }
    const QSet<QString> distinct(keys.cbegin(), keys.cend());
    FUZZ_CHECK(distinct.size() == qt.size(), "object with " + QByteArray::number(distinct.size()) + " keys, Qt has "
                                                 + QByteArray::number(qt.size()));
    qsizetype index = 0;
    const bool ok = js.readObject([&](const QByteArray &key) {
        const QString k = QString::fromUtf8(key);
        FUZZ_CHECK(k == keys.at(index), "the key walk differs from the look-ahead");
        FUZZ_CHECK(qt.contains(k), "key " + Fuzz::quote(key) + " missing in Qt's object");
        const bool last = keys.lastIndexOf(k) == index;
        ++index;
        if (!last)
            return js.skipValue();
        compareValue(js, qt.value(k), depth + 1);
        return true;
    });
    FUZZ_CHECK(ok, "readObject() refused an object skipValue() accepted");
}

void compareArray(JsonScanner &js, const QJsonArray &qt, int depth)
{
    qsizetype index = 0;
    const bool ok = js.readArray([&] {
        FUZZ_CHECK(index < qt.size(), "array longer than Qt's");
        compareValue(js, qt.at(index++), depth + 1);
        return true;
    });
    FUZZ_CHECK(ok, "readArray() refused an array skipValue() accepted");
    FUZZ_CHECK(index == qt.size(), "array of " + QByteArray::number(index) + " elements, Qt has " + QByteArray::number(qt.size()));
}

void compareValue(JsonScanner &js, const QJsonValue &qt, int depth)
{
    FUZZ_CHECK(depth <= JsonScanner::kMaxDepth, "deeper than kMaxDepth");
    switch (js.peek()) {
    case '{':
        FUZZ_CHECK(qt.isObject(), "scanner read an object where Qt holds another type");
        compareObject(js, qt.toObject(), depth);
        return;
    case '[':
        FUZZ_CHECK(qt.isArray(), "scanner read an array where Qt holds another type");
        compareArray(js, qt.toArray(), depth);
        return;
    case '"':
        compareString(js, qt);
        return;
    case 't':
    case 'f': {
        bool b = false;
        FUZZ_CHECK(js.readBool(&b), "readBool() refused a literal skipValue() accepted");
        FUZZ_CHECK(qt.isBool() && qt.toBool() == b, "boolean differs");
        return;
    }
    case 'n':
        FUZZ_CHECK(qt.isNull(), "scanner read null where Qt holds another type");
        FUZZ_CHECK(js.skipValue(), "skipValue() refused null");
        return;
    default:
        compareNumber(js, qt);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    JsonScanner probe(input);
    if (!(probe.skipValue() && probe.atEnd()))
        return 0;

    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson("[" + input.toByteArray() + "]", &err);
    FUZZ_CHECK(err.error == QJsonParseError::NoError,
               "the scanner accepts what Qt refuses (" + err.errorString().toUtf8() + " at " + QByteArray::number(err.offset)
                   + "): " + Fuzz::quote(input));
    FUZZ_CHECK(doc.isArray() && doc.array().size() == 1, "Qt read more than one value");

    JsonScanner js(input);
    compareValue(js, doc.array().at(0), 0);
    FUZZ_CHECK(js.atEnd(), "the step walk stopped before the end");
    return 0;
}
