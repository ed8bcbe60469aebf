// PackCodec::readAnswer (core/gemini): a pack call's upstream answer, read
// straight from its bytes with JsonScanner.
//
// Input: an upstream response body (any bytes). It is read for three packs:
// four members whose ids are their positions (two with their own
// maxOutputTokens, so answers get cut), three with other ids (one needing
// JSON escapes), and none.
// Checks, besides no crash, leak or undefined behaviour:
//   - nullopt exactly when Qt does not read the body as a JSON object;
//   - one entry per member; each answered member's bytes are a JSON object
//     that Qt's compact writer writes back byte for byte (the header's
//     promise: "the bytes are those QJsonDocument writes"), whose text is
//     no longer than the member's own limit allows;
//   - against the QJsonObject-built oracle tst_packcodec.cpp uses
//     (tests/support/packoracle.h; production once answered this way) where both read the same
//     bytes the same way: the body and the answer array in Qt's compact form
//     (so no duplicate keys, no white space), string ids, no member limits,
//     and the array read to its end. Then the same members are answered
//     with the same bytes and token counts.
#include "tests/fuzz/fuzzsupport.h"

#include "core/gemini/geminiresponse.h"
#include "core/gemini/packcodec.h"
#include "tests/support/packoracle.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>

namespace {

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}


// Whether the oracle reads this body as the reader does (see the file's
// header): both the body and the answer array in Qt's compact form, every
// element's id a string.
bool oracleApplies(const QByteArray &body, const QList<PackCodec::Member> &members)
{
    for (const PackCodec::Member &m : members) {
        if (m.maxOutputTokens > 0)
            return false;
    }
    const std::optional<GeminiResponse> pack = GeminiResponse::parse(body);
    if (!pack || compact(pack->json()) != body)
        return false;
    const QByteArray text = pack->text().toUtf8();
    const qsizetype bracket = text.indexOf('[');
    if (bracket < 0 || !text.first(bracket).trimmed().isEmpty())
        return false; // a fence or a preamble: the two find the array differently
    QJsonParseError err;
    const QJsonDocument array = QJsonDocument::fromJson(text.sliced(bracket), &err);
    if (err.error != QJsonParseError::NoError || !array.isArray()
        || array.toJson(QJsonDocument::Compact) != text.sliced(bracket))
        return false;
    for (const QJsonValue &v : array.array()) {
        if (v.isObject() && v.toObject().contains(QLatin1String("id")) && !v.toObject().value(QLatin1String("id")).isString())
            return false;
    }
    return true;
}

void check(const QByteArray &body, const QList<PackCodec::Member> &members, bool qtReadsObject)
{
    const std::optional<PackCodec::ReadAnswer> answer = PackCodec::readAnswer(body, members);
    FUZZ_CHECK(bool(answer) == qtReadsObject, "readAnswer() " + QByteArray(answer ? "read" : "refused")
                                                  + " a body Qt " + (qtReadsObject ? "reads" : "refuses"));
    if (!answer)
        return;
    FUZZ_CHECK(answer->members.size() == members.size(), "one entry per member");
    FUZZ_CHECK(!answer->finishReason.isEmpty(), "no finishReason");
    for (qsizetype i = 0; i < members.size(); ++i) {
        if (!answer->members[i])
            continue;
        const QByteArray &json = answer->members[i]->json;
        QJsonParseError err;
        const QJsonDocument doc = QJsonDocument::fromJson(json, &err);
        FUZZ_CHECK(err.error == QJsonParseError::NoError && doc.isObject(), "a member's answer is not a JSON object: " + Fuzz::quote(json));
        FUZZ_CHECK(doc.toJson(QJsonDocument::Compact) == json,
                   "not Qt's bytes: " + Fuzz::quote(json) + " vs " + Fuzz::quote(doc.toJson(QJsonDocument::Compact)));
        const GeminiResponse r(doc.object());
        const int limit = members[i].maxOutputTokens;
        if (limit > 0)
            FUZZ_CHECK(r.text().size() <= 4 * limit, "a member's text is longer than its own limit");
        FUZZ_CHECK(answer->members[i]->promptTokens == r.usage().promptTokens(), "promptTokens differ from the bytes");
        FUZZ_CHECK(answer->members[i]->outputTokens == r.usage().outputTokens(), "outputTokens differ from the bytes");
    }
    if (!answer->complete || !oracleApplies(body, members))
        return;
    const auto expected = Oracle::answer(body, members);
    FUZZ_CHECK(expected, "the oracle refuses the body");
    for (qsizetype i = 0; i < members.size(); ++i) {
        FUZZ_CHECK(bool(answer->members[i]) == bool((*expected)[i]), "member " + members[i].id.toUtf8()
                                                                          + " answered by one of reader and oracle only");
        if (!(*expected)[i])
            continue;
        FUZZ_CHECK(answer->members[i]->json == compact(*(*expected)[i]),
                   "reader " + Fuzz::quote(answer->members[i]->json) + " oracle " + Fuzz::quote(compact(*(*expected)[i])));
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray body(reinterpret_cast<const char *>(data), qsizetype(size));
    static const QList<PackCodec::Member> inOrder{{QStringLiteral("0"), QStringLiteral("first question"), 0},
                                                  {QStringLiteral("1"), QStringLiteral("second"), 3},
                                                  {QStringLiteral("2"), QString::fromUtf8("caf\xc3\xa9?"), 0},
                                                  {QStringLiteral("3"), QStringLiteral("the fourth question"), 1}};
    static const QList<PackCodec::Member> named{{QStringLiteral("a"), QStringLiteral("alpha"), 0},
                                                {QStringLiteral("7"), QStringLiteral("seven"), 0},
                                                {QStringLiteral("q\"\\\xe9"), QStringLiteral("escaped id"), 0}};
    const bool qtReadsObject = QJsonDocument::fromJson(body).isObject();
    check(body, inOrder, qtReadsObject);
    check(body, named, qtReadsObject);
    check(body, {}, qtReadsObject);
    return 0;
}
