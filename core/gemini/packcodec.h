#pragma once

#include "core/engine/inferencerequest.h"
#include "core/gemini/geminiresponse.h"

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <optional>

// The `pack` batching mode's wire format (DESIGN.md §6): several compatible
// single-turn generateContent requests become ONE JSON-mode upstream call, and
// its answer is split back into one GenerateContentResponse per member.
//
// The packed prompt is a short instruction followed by one block per member,
// exactly (GeminiSimulator parses this format):
//
//   <request id="ID">
//   ...the member's text...
//   </request>
//
// with generationConfig.responseMimeType "application/json" and a
// responseSchema ARRAY of {id, text}. Member text is sent verbatim: a member
// whose own text contains "</request>" is not packable (it would break the
// framing) and goes fanout instead.
//
// Thread: stateless, thread-safe.
class PackCodec
{
public:
    struct Member {
        QString id;    // unique within the pack
        QString text;  // memberText() of its request
    };

    struct Answer {
        bool parsed = false;              // the answer was a JSON array of objects
        QHash<QString, QString> textById; // first answer per id
    };

    // Single-turn, text only: exactly one `contents` entry whose role is "user"
    // or absent and whose parts are all plain {"text": ...}; no tools or
    // toolConfig; no structured-output request of its own (responseMimeType,
    // responseSchema, responseJsonSchema); candidateCount at most 1. Also
    // false when request.packable is false (X-Sluice-Pack: off) or the
    // operation is not generateContent/streamGenerateContent.
    static bool isPackable(const InferenceRequest &request);
    // Runs isPackable() once and records the answer in the request
    // (packable, packableChecked, and packText for a packable one), so later
    // isPackable() and memberText() calls are free.
    static void markPackability(InferenceRequest &request);

    // The text parts of a packable body, joined with '\n'.
    static QString memberText(const QJsonObject &body);
    // The same for a request, from the text markPackability() kept when it has.
    static QString memberText(const InferenceRequest &request);

    // The instruction that precedes the blocks. It never contains the block
    // syntax itself, so a parser looking for `<request id="` finds only members.
    static QString instruction();

    // The packed prompt text (instruction + blocks).
    static QString buildPrompt(const QList<Member> &members);

    // The upstream body. `sharedBody` is one member's body: its
    // systemInstruction, safetySettings, cachedContent and generationConfig are
    // kept (lowerCamel or snake_case), except that responseMimeType and
    // responseSchema are set for the array answer, and maxOutputTokens, when
    // set, is multiplied by the member count (the limit is per member, the
    // answer holds all of them).
    static QJsonObject buildRequest(const QList<Member> &members, const QJsonObject &sharedBody);
    // The same request as compact JSON bytes (byte-for-byte what
    // QJsonDocument(buildRequest(...)).toJson(Compact) gives), written without
    // holding the long prompt in a QJsonObject: the client's hot path.
    static QByteArray buildRequestJson(const QList<Member> &members, const QJsonObject &sharedBody);

    // Reads the packed answer (candidate 0's text; a ```json fence is tolerated).
    static Answer parseAnswer(const GeminiResponse &packResponse);

    // One GenerateContentResponse-shaped body per member, in order; nullopt for
    // a member the answer does not contain (the caller re-issues it alone).
    // Answered members share the pack's usageMetadata: prompt tokens by their
    // share of prompt characters, candidates and thoughts tokens by their share
    // of answer characters, so the per-member counts sum to the real totals.
    // finishReason, modelVersion and responseId are copied from the pack.
    static QList<std::optional<QJsonObject>> memberResponses(const GeminiResponse &packResponse,
                                                             const QList<Member> &members,
                                                             const Answer &answer);

    // The same answers as memberResponses(), as the compact JSON bytes
    // QJsonDocument would write for each body (no QJsonObject is built), with
    // the member's token counts (prompt, and candidates + thoughts as output).
    struct MemberJson {
        QByteArray json;
        int promptTokens = 0;
        int outputTokens = 0;
    };
    static QList<std::optional<MemberJson>> memberResponsesJson(const GeminiResponse &packResponse,
                                                                const QList<Member> &members,
                                                                const Answer &answer);
    // The same, read straight from the pack answer's bytes (JsonScanner, no
    // QJsonObject, no UTF-16): the client's hot path. Covers the usual shape
    // (string finishReason, modelVersion and responseId; integer token
    // counts; an unfenced array answer with string ids); for anything else,
    // including bytes that are not JSON, nullopt, and the caller reads the
    // body with GeminiResponse::parse() and the functions above. When it
    // answers, the result equals theirs byte for byte (tst_packcodec).
    static std::optional<QList<std::optional<MemberJson>>> memberResponsesJson(const QByteArray &packBody,
                                                                               const QList<Member> &members);

    // Splits `total` into integer shares proportional to `weights` (largest
    // remainder), summing exactly to `total`; equal shares when all weights are 0.
    static QList<int> apportion(int total, const QList<qint64> &weights);
};
