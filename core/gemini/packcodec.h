#pragma once

#include "core/engine/inferencerequest.h"

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
        int maxOutputTokens = 0; // the member's own generationConfig.maxOutputTokens (0: none)
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

    // The JSON around one member's answer in the array answer,
    // {"id":"12","text":"..."}, : 22 characters, about 6 tokens as the
    // simulator counts (4 characters a token); Gemini's tokenizer splits
    // JSON punctuation finer, hence 16. What the engine plans a pack's
    // output with (InferenceBackend::packMemberOverheadTokens).
    static constexpr int kMemberOverheadTokens = 16;

    // The upstream body. `sharedBody` is one member's body: its
    // systemInstruction, safetySettings, cachedContent and generationConfig are
    // kept (lowerCamel or snake_case), except that responseMimeType and
    // responseSchema are set for the array answer, and maxOutputTokens is
    // `outputLimit` (the model's; 0: left out): the members' own limits are
    // applied to each answer as readAnswer() reads it, so no member of a pack
    // is cut off by its neighbours' answers.
    static QJsonObject buildRequest(const QList<Member> &members, const QJsonObject &sharedBody, int outputLimit = 8192);
    // The same request as compact JSON bytes (byte-for-byte what
    // QJsonDocument(buildRequest(...)).toJson(Compact) gives), written without
    // holding the long prompt in a QJsonObject: the client's hot path.
    static QByteArray buildRequestJson(const QList<Member> &members, const QJsonObject &sharedBody,
                                       int outputLimit = 8192);

    // One member's answer: a GenerateContentResponse as compact JSON bytes
    // (candidates[0] with the member's text, the pack's finishReason,
    // modelVersion and responseId, its share of usageMetadata), and its
    // token counts (prompt; candidates + thoughts as output).
    struct MemberJson {
        QByteArray json;
        int promptTokens = 0;
        int outputTokens = 0;
    };
    struct ReadAnswer {
        QList<std::optional<MemberJson>> members; // in member order; nullopt: not in the answer
        QByteArray finishReason;  // the pack's, as JSON ("\"STOP\"" when absent)
        bool complete = false;    // the answer's array was read to its end
    };

    // THE reader of a pack answer, straight from its bytes (JsonScanner: no
    // QJsonObject, no UTF-16). nullopt when `packBody` is not a JSON object
    // (the caller reports the answer unparseable); an object the scanner
    // refuses but Qt reads answers nobody; otherwise every member the
    // answer holds, found by id (a string, or an integer naming a member of
    // that id; the first answer per id wins), and nothing for the others —
    // which the caller asks again. The answer is candidate 0's non-thought
    // text parts, read as a JSON array of {id, text} from its first '['
    // (white space, a ```json fence or a preamble before it are skipped);
    // when the array breaks off — cut at the token budget (MAX_TOKENS), or a
    // string the scanner refuses — the members read before that point are
    // kept and `complete` is false. A member's text longer than its own
    // maxOutputTokens (4 UTF-16 units a token) is cut there, with finishReason
    // MAX_TOKENS. Answered members share the pack's usage:
    // prompt tokens by their share of prompt characters, candidates and
    // thoughts tokens by their share of answer characters, so the per-member
    // counts sum to the real totals. The bytes are those QJsonDocument writes
    // for the same response (tst_packcodec holds the QJsonObject-built
    // oracle and compares byte for byte).
    static std::optional<ReadAnswer> readAnswer(QByteArrayView packBody, const QList<Member> &members);

    // Splits `total` into integer shares proportional to `weights` (largest
    // remainder), summing exactly to `total`; equal shares when all weights are 0.
    static QList<int> apportion(int total, const QList<qint64> &weights);
};
