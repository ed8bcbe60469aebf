// GeminiRequestParser (server/routes): an agent's request body, for every
// operation, and the X-Request-Deadline-Ms header.
//
// Input: a request body (any bytes). It is parsed as the body of each of the
// five operations; its first line (up to 64 bytes) is also read as a
// Content-Type and as an X-Request-Deadline-Ms value.
// Checks, besides no crash, leak or undefined behaviour:
//   - an accepted body: validate() accepts the object parseBody() returned,
//     normalizeKeys() leaves it as it is, and it equals normalizeKeys() of
//     Qt's reading of the bytes (the "no '_' byte, no \u005 escape: no
//     snake_case key" shortcut in parseBody() may not change the result);
//   - a refused one: status 400 (415 only for a Content-Type), a message,
//     and the message names the field (the header's contract);
//   - the deadline against a plain reference: blanks around ASCII digits,
//     at least 1, saturating at kMaxDeadline.
#include "tests/fuzz/fuzzsupport.h"

#include "server/routes/geminirequestparser.h"

#include <QJsonDocument>

namespace {

using Error = GeminiRequestParser::Error;

void checkError(const Error &e)
{
    FUZZ_CHECK(e.httpStatus == 400 || e.httpStatus == 415, "status " + QByteArray::number(e.httpStatus));
    FUZZ_CHECK(!e.message.isEmpty(), "an error without a message");
    FUZZ_CHECK(e.message.contains(e.field), "message '" + e.message.toUtf8() + "' does not name field '" + e.field.toUtf8() + "'");
}

void checkDeadline(const QByteArray &value)
{
    std::chrono::milliseconds got{-1};
    const Error e = GeminiRequestParser::parseDeadlineHeader(value, &got);
    // The reference: trimmed, digits only, saturating, positive.
    const QByteArray digits = value.trimmed();
    bool ok = !digits.isEmpty();
    qint64 ms = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') {
            ok = false;
            break;
        }
        ms = std::min<qint64>(ms * 10 + (c - '0'), GeminiRequestParser::kMaxDeadline.count());
    }
    ok = ok && ms > 0;
    FUZZ_CHECK(e.isNull() == ok, "deadline '" + Fuzz::quote(value) + "' accepted=" + QByteArray::number(e.isNull()));
    if (ok)
        FUZZ_CHECK(got.count() == ms, "deadline '" + Fuzz::quote(value) + "' read as " + QByteArray::number(qint64(got.count())));
    else
        checkError(e);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray body(reinterpret_cast<const char *>(data), qsizetype(size));

    const qsizetype nl = body.indexOf('\n');
    const QByteArray firstLine = body.left(std::min<qsizetype>(nl < 0 ? body.size() : nl, 64));
    checkDeadline(firstLine);
    const bool jsonType = GeminiRequestParser::isJsonContentType(firstLine);
    QJsonObject ignored;
    const Error typed = GeminiRequestParser::parseBody(Operation::GenerateContent, firstLine, body, &ignored);
    if (!jsonType)
        FUZZ_CHECK(typed.httpStatus == 415, "a non-JSON Content-Type was not refused with 415");
    else
        FUZZ_CHECK(typed.httpStatus != 415, "a JSON Content-Type was refused with 415");

    std::optional<QJsonObject> qtNormalized; // Qt's reading, computed once when needed
    for (Operation op : {Operation::GenerateContent, Operation::StreamGenerateContent, Operation::CountTokens,
                         Operation::EmbedContent, Operation::BatchEmbedContents}) {
        QJsonObject out;
        const Error e = GeminiRequestParser::parseBody(op, QByteArrayLiteral("application/json"), body, &out);
        if (!e.isNull()) {
            FUZZ_CHECK(e.httpStatus == 400, "status " + QByteArray::number(e.httpStatus) + " for a JSON body");
            checkError(e);
            continue;
        }
        FUZZ_CHECK(GeminiRequestParser::validate(op, out).isNull(), "validate() refuses what parseBody() accepted");
        FUZZ_CHECK(GeminiRequestParser::normalizeKeys(out) == out, "normalizeKeys() is not idempotent");
        if (!qtNormalized)
            qtNormalized = GeminiRequestParser::normalizeKeys(QJsonDocument::fromJson(body).object());
        FUZZ_CHECK(*qtNormalized == out, "the snake_case shortcut changed the result: "
                                             + QJsonDocument(out).toJson(QJsonDocument::Compact).left(400));
    }
    return 0;
}
