#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonValue>
#include <QStringView>

// Writes JSON straight into bytes, byte-for-byte as
// QJsonDocument::toJson(QJsonDocument::Compact) would write the same value
// (Qt 6 escaping: '"', '\\' and control characters escaped, \b \f \n \r \t
// by name, others as \u00xx; non-ASCII as UTF-8; an unpaired surrogate as
// \uxxxx in lower-case hex). Building a QJsonObject only to serialise it
// costs ~50k instructions for a small Gemini answer in Qt 6.4; the hot
// answer path writes its bytes with these instead (tst_packcodec checks the
// equality with Qt's output).
//
// Thread: pure functions, thread-safe.
namespace JsonBytes {

// Appends `s` as a JSON string literal, quotes included.
void appendString(QByteArray &out, QStringView s);
// The same without the quotes: for a literal written in pieces. Each piece
// must be whole (a surrogate pair never split across two pieces).
void appendEscaped(QByteArray &out, QStringView s);

// The same for text already in UTF-8 (well-formed, no surrogate code points,
// as JsonScanner::readString() gives it): equal to
// appendString(out, QString::fromUtf8(utf8)) without the UTF-16 round trip.
void appendUtf8String(QByteArray &out, QByteArrayView utf8);

// Appends any JSON value: strings directly, anything else through Qt's writer.
void appendValue(QByteArray &out, const QJsonValue &v);

} // namespace JsonBytes
