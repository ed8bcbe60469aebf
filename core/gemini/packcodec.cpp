#include "core/gemini/packcodec.h"

#include "core/gemini/geminiresponse.h"
#include "core/json/jsonbytes.h"
#include "core/json/jsonscanner.h"

#include <QJsonArray>
#include <QHash>
#include <QJsonDocument>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <numeric>
#include <utility>

namespace {
QLatin1StringView L(const char *s)
{
    return QLatin1StringView(s);
}

QJsonValue either(const QJsonObject &o, const char *camel, const char *snake)
{
    const QJsonValue v = o.value(L(camel));
    return v.isUndefined() ? o.value(L(snake)) : v;
}

bool hasEither(const QJsonObject &o, const char *camel, const char *snake)
{
    return o.contains(L(camel)) || o.contains(L(snake));
}

const QLatin1StringView kCloseTag("</request>");
} // namespace

bool PackCodec::isPackable(const InferenceRequest &request)
{
    if (!request.packable)
        return false;
    if (request.packableChecked)
        return true;
    if (request.operation != Operation::GenerateContent)
        return false; // streams are passed through, never packed
    const QJsonObject &body = request.body;
    if (hasEither(body, "tools", "tools") || hasEither(body, "toolConfig", "tool_config"))
        return false;
    const QJsonArray contents = body.value(L("contents")).toArray();
    if (contents.size() != 1 || !contents.at(0).isObject())
        return false;
    const QJsonObject turn = contents.at(0).toObject();
    const QJsonValue role = turn.value(L("role"));
    if (!role.isUndefined() && !role.isNull() && role.toString() != L("user"))
        return false;
    const QJsonArray parts = turn.value(L("parts")).toArray();
    if (parts.isEmpty())
        return false;
    for (const QJsonValue &p : parts) {
        const QJsonObject part = p.toObject();
        if (part.size() != 1)
            return false;
        const QJsonValue text = part.value(L("text"));
        if (!text.isString() || text.toString().contains(kCloseTag))
            return false;
    }
    const QJsonObject gen = either(body, "generationConfig", "generation_config").toObject();
    if (hasEither(gen, "responseMimeType", "response_mime_type")
        || hasEither(gen, "responseSchema", "response_schema")
        || hasEither(gen, "responseJsonSchema", "response_json_schema"))
        return false;
    if (either(gen, "candidateCount", "candidate_count").toInt(1) > 1)
        return false;
    return true;
}

void PackCodec::markPackability(InferenceRequest &request)
{
    request.packable = isPackable(request);
    request.packableChecked = true;
    if (request.packable)
        request.packText = memberText(request.body);
}

QString PackCodec::memberText(const InferenceRequest &request)
{
    if (request.packableChecked && request.packable)
        return request.packText;
    return memberText(request.body);
}

QString PackCodec::memberText(const QJsonObject &body)
{
    QString text;
    const QJsonArray parts = body.value(L("contents")).toArray().at(0).toObject().value(L("parts")).toArray();
    for (const QJsonValue &p : parts) {
        if (!text.isEmpty())
            text += QLatin1Char('\n');
        text += p.toObject().value(L("text")).toString();
    }
    return text;
}

QString PackCodec::instruction()
{
    return QStringLiteral(
        "You will receive several independent requests, each in its own request block tagged with an id. "
        "Answer each request independently, as if it were the only one, and do not mention the other "
        "requests. Return a JSON array with exactly one object {\"id\": \"<the request id>\", \"text\": "
        "\"<your answer>\"} per request.");
}

QString PackCodec::buildPrompt(const QList<Member> &members)
{
    QString prompt = instruction();
    prompt += QLatin1String("\n\n");
    for (const Member &m : members) {
        prompt += QLatin1String("<request id=\"") + m.id + QLatin1String("\">\n");
        prompt += m.text;
        prompt += QLatin1String("\n</request>\n");
    }
    return prompt;
}

namespace {

// The answer's shape, built once: {"type":"ARRAY","items":{...id, text...}}.
const QJsonObject &answerSchema()
{
    static const QJsonObject schema{
        {L("type"), L("ARRAY")},
        {L("items"), QJsonObject{
                         {L("type"), L("OBJECT")},
                         {L("properties"), QJsonObject{
                                               {L("id"), QJsonObject{{L("type"), L("STRING")}}},
                                               {L("text"), QJsonObject{{L("type"), L("STRING")}}},
                                           }},
                         {L("required"), QJsonArray{L("id"), L("text")}},
                     }},
    };
    return schema;
}

// Everything of a pack request except `contents`.
QJsonObject packEnvelope(int outputLimit, const QJsonObject &sharedBody)
{
    QJsonObject req;
    const QJsonValue sys = either(sharedBody, "systemInstruction", "system_instruction");
    if (!sys.isUndefined())
        req.insert(L("systemInstruction"), sys);
    const QJsonValue safety = either(sharedBody, "safetySettings", "safety_settings");
    if (!safety.isUndefined())
        req.insert(L("safetySettings"), safety);
    const QJsonValue cached = either(sharedBody, "cachedContent", "cached_content");
    if (!cached.isUndefined())
        req.insert(L("cachedContent"), cached);
    // The tier the members asked for (Sluice's tier routing sets it): a
    // pack is one call, billed and scheduled on that tier.
    const QJsonValue tier = either(sharedBody, "serviceTier", "service_tier");
    if (!tier.isUndefined())
        req.insert(L("serviceTier"), tier);

    QJsonObject gen = either(sharedBody, "generationConfig", "generation_config").toObject();
    for (const char *k : {"responseMimeType", "response_mime_type", "responseSchema", "response_schema",
                          "responseJsonSchema", "response_json_schema", "candidateCount", "candidate_count"})
        gen.remove(L(k));
    // The members' own limits are applied to each answer as it is read; the
    // pack may use the model's whole output, said explicitly so a pack that
    // overflows it comes back cut (MAX_TOKENS) rather than refused.
    gen.remove(L("max_output_tokens"));
    if (outputLimit > 0)
        gen.insert(L("maxOutputTokens"), outputLimit);
    gen.insert(L("responseMimeType"), L("application/json"));
    gen.insert(L("responseSchema"), answerSchema());
    req.insert(L("generationConfig"), gen);
    return req;
}

} // namespace

QJsonObject PackCodec::buildRequest(const QList<Member> &members, const QJsonObject &sharedBody, int outputLimit)
{
    QJsonObject req = packEnvelope(outputLimit, sharedBody);
    req.insert(L("contents"), QJsonArray{QJsonObject{
                                  {L("role"), L("user")},
                                  {L("parts"), QJsonArray{QJsonObject{{L("text"), buildPrompt(members)}}}},
                              }});
    return req;
}

namespace {

// A pack request's fields other than `contents`, as JSON: `before` holds the
// members that sort before "contents" (with a trailing ','), `after` the
// others (each with a leading ','), in QJsonObject's sorted key order.
struct EnvelopeJson {
    QByteArray before;
    QByteArray after;
};

EnvelopeJson envelopeJson(const QJsonObject &envelope)
{
    EnvelopeJson e;
    for (auto it = envelope.constBegin(); it != envelope.constEnd(); ++it) {
        const bool before = it.key() < QLatin1String("contents");
        QByteArray &out = before ? e.before : e.after;
        if (!before)
            out += ',';
        JsonBytes::appendString(out, it.key());
        out += ':';
        JsonBytes::appendValue(out, it.value());
        if (before)
            out += ',';
    }
    return e;
}

EnvelopeJson envelopeJson(int outputLimit, const QJsonObject &sharedBody)
{
    // A member body with none of the fields the envelope copies (the usual
    // agent request: contents only) always gets the same envelope.
    for (const char *k : {"systemInstruction", "system_instruction", "safetySettings", "safety_settings",
                          "cachedContent", "cached_content", "generationConfig", "generation_config",
                          "serviceTier", "service_tier"}) {
        if (sharedBody.contains(L(k)))
            return envelopeJson(packEnvelope(outputLimit, sharedBody));
    }
    // One per output limit (a model family has one): built once.
    static std::mutex mutex;
    static QHash<int, EnvelopeJson> plain;
    std::lock_guard lock(mutex);
    auto it = plain.find(outputLimit);
    if (it == plain.end())
        it = plain.insert(outputLimit, envelopeJson(packEnvelope(outputLimit, QJsonObject())));
    return *it;
}

} // namespace

QByteArray PackCodec::buildRequestJson(const QList<Member> &members, const QJsonObject &sharedBody, int outputLimit)
{
    // The prompt is most of the bytes: escaped straight into the request, in
    // pieces, never held as one QString or in a QJsonObject. The bytes equal
    // QJsonDocument(buildRequest(...)).toJson(Compact) (tst_packcodec).
    static const QByteArray instructionJson = [] {
        QByteArray out;
        JsonBytes::appendEscaped(out, instruction() + QLatin1String("\n\n"));
        return out;
    }();
    const EnvelopeJson envelope = envelopeJson(outputLimit, sharedBody);
    qsizetype textSize = 0;
    for (const Member &m : members)
        textSize += m.id.size() + m.text.size();
    QByteArray out;
    out.reserve(instructionJson.size() + envelope.before.size() + envelope.after.size() + 2 * textSize
                + 40 * members.size() + 80);
    out += '{';
    out += envelope.before;
    out += R"("contents":[{"parts":[{"text":")";
    out += instructionJson;
    for (const Member &m : members) {
        out += R"(<request id=\")";
        JsonBytes::appendEscaped(out, m.id);
        out += R"(\">\n)";
        JsonBytes::appendEscaped(out, m.text);
        out += R"(\n</request>\n)";
    }
    out += R"("}],"role":"user"}])";
    out += envelope.after;
    out += '}';
    return out;
}

QList<int> PackCodec::apportion(int total, const QList<qint64> &weights)
{
    QList<int> out(weights.size(), 0);
    if (weights.isEmpty() || total <= 0)
        return out;
    qint64 sum = std::accumulate(weights.begin(), weights.end(), qint64(0));
    QList<qint64> w = weights;
    if (sum <= 0) {
        std::fill(w.begin(), w.end(), 1);
        sum = w.size();
    }
    QList<std::pair<qint64, qsizetype>> remainders; // (remainder numerator, index)
    int given = 0;
    for (qsizetype i = 0; i < w.size(); ++i) {
        const qint64 num = qint64(total) * std::max<qint64>(0, w[i]);
        out[i] = int(num / sum);
        given += out[i];
        remainders.append({num % sum, i});
    }
    std::stable_sort(remainders.begin(), remainders.end(),
                     [](const auto &a, const auto &b) { return a.first > b.first; });
    for (qsizetype k = 0; given < total; ++k, ++given)
        ++out[remainders[k % remainders.size()].second];
    return out;
}

namespace {

// What memberResponses() and memberResponsesJson() share: the answered
// members and their apportioned token counts.
struct Shares {
    QList<qsizetype> answered;
    QList<int> prompt, candTok, thoughts, extra;
    bool hasThoughts = false;
};

// `answeredLength(i)`: the UTF-16 length of member i's answer, or -1 when the
// answer does not contain it.
template<typename AnswerLength>
Shares shareUsage(const UsageMetadata &u, const QList<PackCodec::Member> &members, AnswerLength answeredLength)
{
    Shares s;
    QList<qint64> promptW, outputW;
    s.answered.reserve(members.size());
    promptW.reserve(members.size());
    outputW.reserve(members.size());
    for (qsizetype i = 0; i < members.size(); ++i) {
        const qsizetype length = answeredLength(i);
        if (length < 0)
            continue;
        s.answered.append(i);
        promptW.append(members[i].text.size());
        outputW.append(length);
    }
    if (s.answered.isEmpty())
        return s;
    s.prompt = PackCodec::apportion(u.promptTokenCount.value_or(0), promptW);
    s.candTok = PackCodec::apportion(u.candidatesTokenCount.value_or(0), outputW);
    s.thoughts = PackCodec::apportion(u.thoughtsTokenCount.value_or(0), outputW);
    const int known = u.promptTokens() + u.outputTokens();
    s.extra = PackCodec::apportion(std::max(0, u.totalTokenCount.value_or(known) - known), promptW);
    s.hasThoughts = u.thoughtsTokenCount.has_value();
    return s;
}

// One member's GenerateContentResponse bytes. `finish` is the finishReason
// value and `tail` the ,"modelVersion":...,"responseId":... members, both as
// JSON; keys in QJsonObject's (sorted) order, so the bytes equal
// compact(memberResponses()). `appendText` writes the answer text literal.
template<typename AppendText>
PackCodec::MemberJson memberJson(const Shares &s, qsizetype k, const QByteArray &finish, const QByteArray &tail,
                                 qsizetype textSize, AppendText appendText)
{
    PackCodec::MemberJson m;
    QByteArray &b = m.json;
    b.reserve(textSize + finish.size() + tail.size() + 240);
    b += "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":";
    appendText(b);
    b += "}],\"role\":\"model\"},\"finishReason\":";
    b += finish;
    b += ",\"index\":0}]";
    b += tail;
    b += ",\"usageMetadata\":{\"candidatesTokenCount\":";
    b += QByteArray::number(s.candTok[k]);
    b += ",\"promptTokenCount\":";
    b += QByteArray::number(s.prompt[k]);
    if (s.hasThoughts) {
        b += ",\"thoughtsTokenCount\":";
        b += QByteArray::number(s.thoughts[k]);
    }
    b += ",\"totalTokenCount\":";
    b += QByteArray::number(s.prompt[k] + s.candTok[k] + s.thoughts[k] + s.extra[k]);
    b += "}}";
    m.promptTokens = s.prompt[k];
    m.outputTokens = s.candTok[k] + (s.hasThoughts ? s.thoughts[k] : 0);
    return m;
}

} // namespace

namespace {

// What the reader takes from a pack answer's envelope.
struct PackBytes {
    QByteArray text;   // candidate 0's non-thought text parts, UTF-8
    QByteArray finish; // finishReason as JSON
    QByteArray tail;   // ,"modelVersion":...,"responseId":...
    UsageMetadata usage;
};

// A value copied into a member's answer as QJsonDocument would write it:
// a string literal re-escaped, anything else (never seen from Gemini) through
// Qt, so the bytes equal those of a QJsonObject-built answer.
bool readCopiedValue(JsonScanner &js, QByteArray *json)
{
    if (js.peek() == '"') {
        QByteArray value;
        if (!js.readString(&value))
            return false;
        JsonBytes::appendUtf8String(*json, value);
        return true;
    }
    QByteArrayView raw;
    if (!js.skipValue(&raw))
        return false;
    const QJsonArray wrapped = QJsonDocument::fromJson("[" + raw.toByteArray() + "]").array();
    JsonBytes::appendValue(*json, wrapped.at(0));
    return true;
}

// A token count as GeminiResponse::usage() reads it: a number (0 unless it
// is an integer within int), or a string holding an integer (proto3 JSON
// may send 64-bit counts as strings); anything else counts as absent.
bool readCount(JsonScanner &js, std::optional<int> *count)
{
    std::optional<int> value;
    if (js.peek() == '"') {
        QByteArray text;
        if (!js.readString(&text))
            return false;
        bool ok = false;
        const int n = text.toInt(&ok);
        if (ok)
            value = n;
    } else {
        QByteArrayView raw;
        if (!js.skipValue(&raw))
            return false;
        const char c = raw.isEmpty() ? 0 : raw.front();
        if (c == '-' || (c >= '0' && c <= '9')) {
            const double d = raw.toByteArray().toDouble();
            const bool integral = d >= std::numeric_limits<int>::min() && d <= std::numeric_limits<int>::max()
                               && d == std::trunc(d);
            value = integral ? int(d) : 0;
        }
    }
    if (value && !count->has_value())
        *count = value;
    return true;
}

// content.parts[]: appends the text of the non-thought parts.
bool readParts(JsonScanner &js, QByteArray *text)
{
    return js.readArray([&] {
        QByteArray partText;
        bool haveText = false, thought = false;
        const bool ok = js.readObject([&](const QByteArray &key) {
            if (key == "text" && !haveText && js.peek() == '"') {
                haveText = true;
                return js.readString(&partText);
            }
            if (key == "thought" && (js.peek() == 't' || js.peek() == 'f'))
                return js.readBool(&thought);
            return js.skipValue();
        });
        if (ok && haveText && !thought) {
            if (text->isEmpty())
                *text = std::move(partText); // the usual single part: no copy
            else
                *text += partText;
        }
        return ok;
    });
}

// candidates[0]: its content's text and its finishReason.
bool readCandidate(JsonScanner &js, PackBytes *pack)
{
    bool haveContent = false, haveFinish = false;
    const bool ok = js.readObject([&](const QByteArray &key) {
        if (key == "finishReason" && !haveFinish) {
            haveFinish = true;
            return readCopiedValue(js, &pack->finish);
        }
        if (key == "content" && !haveContent && js.peek() == '{') {
            haveContent = true;
            bool haveParts = false;
            return js.readObject([&](const QByteArray &field) {
                if (field == "parts" && !haveParts && js.peek() == '[') {
                    haveParts = true;
                    return readParts(js, &pack->text);
                }
                return js.skipValue();
            });
        }
        return js.skipValue();
    });
    if (!haveFinish)
        pack->finish = QByteArrayLiteral("\"STOP\"");
    return ok;
}

bool readUsage(JsonScanner &js, UsageMetadata *u)
{
    return js.readObject([&](const QByteArray &key) {
        std::optional<int> *count = key == "promptTokenCount"          ? &u->promptTokenCount
                                    : key == "candidatesTokenCount"    ? &u->candidatesTokenCount
                                    : key == "thoughtsTokenCount"      ? &u->thoughtsTokenCount
                                    : key == "cachedContentTokenCount" ? &u->cachedContentTokenCount
                                    : key == "toolUsePromptTokenCount" ? &u->toolUsePromptTokenCount
                                    : key == "totalTokenCount"         ? &u->totalTokenCount
                                                                       : nullptr;
        return count ? readCount(js, count) : js.skipValue();
    });
}

// The envelope: false when the body is not a JSON object. Fields of an
// unexpected type are skipped, and a field given twice counts once (the first).
bool readPackBytes(QByteArrayView body, PackBytes *pack)
{
    JsonScanner js(body);
    bool haveCandidates = false, haveUsage = false;
    QByteArray modelVersion, responseId; // as JSON, empty when absent
    const bool ok = js.readObject([&](const QByteArray &key) {
        if (key == "candidates" && !haveCandidates && js.peek() == '[') {
            haveCandidates = true;
            bool first = true; // candidate 0 is read, the others skipped
            return js.readArray([&] {
                if (!std::exchange(first, false) || js.peek() != '{')
                    return js.skipValue();
                return readCandidate(js, pack);
            });
        }
        if (key == "usageMetadata" && !haveUsage && js.peek() == '{') {
            haveUsage = true;
            return readUsage(js, &pack->usage);
        }
        if ((key == "modelVersion" && modelVersion.isEmpty()) || (key == "responseId" && responseId.isEmpty()))
            return readCopiedValue(js, key == "modelVersion" ? &modelVersion : &responseId);
        return js.skipValue();
    });
    if (!ok || !js.atEnd())
        return false;
    if (pack->finish.isEmpty())
        pack->finish = QByteArrayLiteral("\"STOP\"");
    if (!modelVersion.isEmpty())
        pack->tail += ",\"modelVersion\":" + modelVersion;
    if (!responseId.isEmpty())
        pack->tail += ",\"responseId\":" + responseId;
    return true;
}

bool isAsciiSpace(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

// Where the answer's array starts in the model's text: after white space,
// a ```json fence, or any preamble the model wrote before the first '['.
const char *arrayStart(const char *begin, const char *end)
{
    while (begin != end && isAsciiSpace(*begin))
        ++begin;
    if (end - begin >= 3 && std::equal(begin, begin + 3, "```")) {
        while (begin != end && *begin != '\n')
            ++begin; // the fence's own line ("```json")
    }
    const void *bracket = std::memchr(begin, '[', size_t(end - begin));
    return bracket ? static_cast<const char *>(bracket) : end;
}

} // namespace

std::optional<PackCodec::ReadAnswer> PackCodec::readAnswer(QByteArrayView packBody, const QList<Member> &members)
{
    ReadAnswer out;
    out.members.resize(members.size());
    PackBytes pack;
    if (!readPackBytes(packBody, &pack)) {
        // What JsonScanner refuses and Qt reads (a lone surrogate in the
        // text, a number beyond the scanner's range) answers nobody: every
        // member is asked again rather than failed.
        if (!GeminiResponse::parse(packBody.toByteArray()))
            return std::nullopt;
        out.finishReason = QByteArrayLiteral("\"STOP\"");
        return out;
    }
    out.finishReason = pack.finish;

    struct Item {
        QByteArray text;
        qsizetype utf16Size = 0;
        bool found = false;
        bool cut = false; // at the member's own maxOutputTokens
    };
    QList<Item> found(members.size()); // each member's answer, the first for its id
    // The member an answer's id names. Ids are usually the members' own
    // positions ("0", "1", ...): that is tried first, the others are looked up.
    QHash<QByteArray, qsizetype> byId;
    auto memberFor = [&](const QByteArray &id) -> qsizetype {
        bool ok = false;
        const qsizetype k = id.toLongLong(&ok);
        if (ok && k >= 0 && k < members.size() && members[k].id == QLatin1StringView(id))
            return k;
        if (byId.isEmpty()) {
            for (qsizetype i = 0; i < members.size(); ++i)
                byId.insert(members[i].id.toUtf8(), i);
        }
        return byId.value(id, -1);
    };

    // Element by element: what was read before the array broke off (an
    // answer cut at its token budget, or anything the reader refuses) is kept.
    const char *end = pack.text.constData() + pack.text.size();
    JsonScanner js(arrayStart(pack.text.constData(), end), end);
    out.complete = js.readArray([&] {
        if (js.peek() != '{')
            return js.skipValue();
        QByteArray id;
        Item item;
        bool haveId = false, haveText = false;
        const bool objectOk = js.readObject([&](const QByteArray &key) {
            const char c = js.peek();
            if (key == "id" && !haveId) {
                haveId = true;
                if (c == '"')
                    return js.readString(&id);
                QByteArrayView raw;
                if (!js.skipValue(&raw))
                    return false;
                // A numeric id names the member whose id is that number.
                bool integral = false;
                const qint64 n = raw.toByteArray().toLongLong(&integral);
                if (integral)
                    id = QByteArray::number(n);
                else
                    haveId = false;
                return true;
            }
            if (key == "text" && !haveText && c == '"') {
                haveText = true;
                return js.readString(&item.text, &item.utf16Size);
            }
            return js.skipValue();
        });
        if (!objectOk)
            return false;
        if (haveId && haveText) {
            const qsizetype m = memberFor(id);
            if (m >= 0 && !found[m].found) {
                item.found = true;
                // A pack answer cannot honour each member's own
                // maxOutputTokens: the member gets what a call of its own
                // would have, its text cut there (about 4 characters a
                // token) with MAX_TOKENS.
                const qsizetype limit = qsizetype(members[m].maxOutputTokens) * 4;
                if (limit > 0 && item.utf16Size > limit) {
                    QString text = QString::fromUtf8(item.text).left(limit);
                    if (!text.isEmpty() && text.back().isHighSurrogate())
                        text.chop(1);
                    item.text = text.toUtf8();
                    item.utf16Size = text.size();
                    item.cut = true;
                }
                found[m] = std::move(item);
            }
        }
        return true;
    });

    const Shares s = shareUsage(pack.usage, members,
                                [&found](qsizetype i) { return found[i].found ? found[i].utf16Size : qsizetype(-1); });
    for (qsizetype k = 0; k < s.answered.size(); ++k) {
        const qsizetype i = s.answered[k];
        const Item &item = found[i];
        static const QByteArray maxTokens = QByteArrayLiteral("\"MAX_TOKENS\"");
        out.members[i] = memberJson(s, k, item.cut ? maxTokens : pack.finish, pack.tail, item.text.size(),
                                    [&item](QByteArray &b) { JsonBytes::appendUtf8String(b, item.text); });
    }
    return out;
}
