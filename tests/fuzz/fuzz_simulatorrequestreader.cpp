// SimulatorRequestReader (server/simulator): the GeminiSimulator's reading
// of request bodies, whose generateContent fast path
// (SimulatorWire::scanGenerateRequest, JsonScanner) has the QJsonDocument
// reading as its fallback.
//
// Input: a request body (any bytes), read as a generateContent,
// embedContent, batchEmbedContents and countTokens body.
// Checks, besides no crash, leak or undefined behaviour:
//   - differential: a body the fast path reads (scanned) is read the same by
//     the QJsonDocument path, reached by the same body with one unknown key
//     added (the fast path refuses unknown keys, the general path ignores
//     them): no failure, the same prompt (the scanned UTF-8 is the parsed
//     QString), the same prompt tokens, the same generation settings;
//   - the reader's cache of the last generationConfig does not change a
//     second reading of the same body;
//   - a failure is a 400 with Gemini's INVALID_ARGUMENT envelope; an accepted
//     embedding has 1..3072 dimensions, a batch 1..100 requests.
#include "tests/fuzz/fuzzsupport.h"

#include "server/simulator/simulatorrequestreader.h"

#include <QJsonDocument>

namespace {

using Reader = SimulatorRequestReader;

void checkFailure(const Reader::Failure &f)
{
    FUZZ_CHECK(f.status == 400, "status " + QByteArray::number(f.status));
    const QJsonObject error = QJsonDocument::fromJson(f.body).object().value(QLatin1String("error")).toObject();
    FUZZ_CHECK(error.value(QLatin1String("code")).toInt() == 400
                   && error.value(QLatin1String("status")).toString() == QLatin1String("INVALID_ARGUMENT")
                   && !error.value(QLatin1String("message")).toString().isEmpty(),
               "not Gemini's 400 envelope: " + Fuzz::quote(f.body));
}

bool sameSettings(const Reader::GenerationSettings &a, const Reader::GenerationSettings &b)
{
    return a.maxOutputTokens == b.maxOutputTokens && a.candidateCount == b.candidateCount && a.jsonMode == b.jsonMode
        && a.schema == b.schema && a.hasSchema == b.hasSchema && a.packSchema == b.packSchema;
}

QString promptOf(const Reader::GenerateRequest &r)
{
    return r.scanned ? QString::fromUtf8(r.promptUtf8) : r.prompt.text;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray body(reinterpret_cast<const char *>(data), qsizetype(size));

    Reader reader;
    Reader::GenerateRequest first;
    const Reader::Failure f = reader.readGenerate(body, &first);
    if (!f.isNull()) {
        checkFailure(f);
    } else {
        FUZZ_CHECK(first.promptTokens >= 0, "negative prompt tokens");
        FUZZ_CHECK(first.settings.candidateCount >= 1 && first.settings.candidateCount <= 8, "candidateCount out of range");
        Reader::GenerateRequest again;
        FUZZ_CHECK(reader.readGenerate(body, &again).isNull(), "a second reading fails");
        FUZZ_CHECK(again.scanned == first.scanned && promptOf(again) == promptOf(first)
                       && again.promptTokens == first.promptTokens && sameSettings(again.settings, first.settings),
                   "a second reading (generationConfig cache) differs");
    }
    if (f.isNull() && first.scanned) {
        // The same request, one unknown key added: only the general path reads it.
        const qsizetype brace = body.indexOf('{');
        const QByteArray general = body.left(brace + 1) + "\"zzUnknown\":0," + body.mid(brace + 1);
        Reader other;
        Reader::GenerateRequest parsed;
        const Reader::Failure g = other.readGenerate(general, &parsed);
        FUZZ_CHECK(g.isNull(), "the fast path read a body the general path refuses: " + g.body);
        FUZZ_CHECK(!parsed.scanned, "the body with an unknown key was scanned");
        FUZZ_CHECK(promptOf(first) == parsed.prompt.text,
                   "prompt: scanned " + Fuzz::quote(first.promptUtf8) + " parsed " + Fuzz::quote(parsed.prompt.text.toUtf8()));
        FUZZ_CHECK(parsed.prompt.nonTextParts == 0, "non-text parts in a scanned body");
        FUZZ_CHECK(first.promptTokens == parsed.promptTokens, "prompt tokens: scanned " + QByteArray::number(first.promptTokens)
                                                                  + " parsed " + QByteArray::number(parsed.promptTokens));
        FUZZ_CHECK(sameSettings(first.settings, parsed.settings), "generation settings differ");
    }

    for (bool batch : {false, true}) {
        QList<Reader::EmbedRequest> embeds;
        const Reader::Failure e = Reader::readEmbed(body, batch, &embeds);
        if (!e.isNull()) {
            checkFailure(e);
            continue;
        }
        FUZZ_CHECK(batch ? embeds.size() >= 1 && embeds.size() <= 100 : embeds.size() == 1,
                   QByteArray::number(embeds.size()) + " embed requests");
        for (const Reader::EmbedRequest &r : embeds)
            FUZZ_CHECK(r.dimensions >= 1 && r.dimensions <= 3072, "dimensions " + QByteArray::number(r.dimensions));
    }
    int tokens = -1;
    const Reader::Failure c = Reader::readCountTokens(body, &tokens);
    if (!c.isNull())
        checkFailure(c);
    else
        FUZZ_CHECK(tokens >= 0, "negative countTokens");
    return 0;
}
