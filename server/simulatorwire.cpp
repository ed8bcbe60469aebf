#include "simulatorwire.h"

#include "jsonbytes.h"

#include <QJsonDocument>
#include <QStringList>

#include <algorithm>
#include <cstring>

namespace {

QString type(const char *name)
{
    return QStringLiteral("type.googleapis.com/google.rpc.") + QLatin1String(name);
}

bool isEmbeddingModel(const QString &id)
{
    return id.contains(QLatin1String("embedding"));
}

QString displayNameFor(const QString &id)
{
    QStringList words = id.split(QLatin1Char('-'), Qt::SkipEmptyParts);
    for (QString &w : words)
        w[0] = w[0].toUpper();
    return words.join(QLatin1Char(' '));
}

} // namespace

QByteArray SimulatorWire::compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

namespace {

// The GenerateContentResponse writer behind both generateResponse()s;
// appendText(out, i) writes candidate i's text as a JSON string literal.
template <typename AppendText>
QByteArray writeGenerateResponse(qsizetype count, qsizetype textBytes, AppendText appendText,
                                 const QStringList &finishReasons, const QString &modelVersion,
                                 const QString &responseId, int promptTokens, int candidatesTokens)
{
    // Keys in QJsonObject's sorted order, as compact() would write them.
    QByteArray out;
    out.reserve(256 + textBytes + 96 * count);
    out += R"({"candidates":[)";
    for (qsizetype i = 0; i < count; ++i) {
        if (i)
            out += ',';
        out += R"({"content":{"parts":[{"text":)";
        appendText(out, i);
        out += R"(}],"role":"model"})";
        const QString reason = i < finishReasons.size() ? finishReasons.at(i) : QString();
        if (!reason.isEmpty()) {
            out += R"(,"finishReason":)";
            JsonBytes::appendString(out, reason);
        }
        out += R"(,"index":)";
        out += QByteArray::number(i);
        out += '}';
    }
    out += R"(],"modelVersion":)";
    JsonBytes::appendString(out, modelVersion);
    out += R"(,"responseId":)";
    JsonBytes::appendString(out, responseId);
    out += R"(,"usageMetadata":{"candidatesTokenCount":)";
    out += QByteArray::number(candidatesTokens);
    out += R"(,"promptTokenCount":)";
    out += QByteArray::number(promptTokens);
    out += R"(,"promptTokensDetails":[{"modality":"TEXT","tokenCount":)";
    out += QByteArray::number(promptTokens);
    out += R"(}],"totalTokenCount":)";
    out += QByteArray::number(promptTokens + candidatesTokens);
    out += "}}";
    return out;
}

} // namespace

QByteArray SimulatorWire::generateResponse(const QStringList &texts, const QStringList &finishReasons,
                                           const QString &modelVersion, const QString &responseId,
                                           int promptTokens, int candidatesTokens)
{
    qsizetype textBytes = 0;
    for (const QString &t : texts)
        textBytes += t.size();
    return writeGenerateResponse(
        texts.size(), textBytes, [&texts](QByteArray &out, qsizetype i) { JsonBytes::appendString(out, texts.at(i)); },
        finishReasons, modelVersion, responseId, promptTokens, candidatesTokens);
}

QByteArray SimulatorWire::generateResponse(const QList<QByteArray> &textLiterals, const QStringList &finishReasons,
                                           const QString &modelVersion, const QString &responseId,
                                           int promptTokens, int candidatesTokens)
{
    qsizetype textBytes = 0;
    for (const QByteArray &t : textLiterals)
        textBytes += t.size();
    return writeGenerateResponse(
        textLiterals.size(), textBytes, [&textLiterals](QByteArray &out, qsizetype i) { out += textLiterals.at(i); },
        finishReasons, modelVersion, responseId, promptTokens, candidatesTokens);
}

namespace {

// Eight bytes at a time for the byte loops of the hot path (answer texts are
// long ASCII runs). Each test is non-zero exactly when some byte matches: a
// borrow only reaches a byte from a lower byte that matched already.
constexpr quint64 kOnes = 0x0101010101010101ULL;
constexpr quint64 kHighs = 0x8080808080808080ULL;

quint64 load8(const char *p)
{
    quint64 w;
    std::memcpy(&w, p, 8);
    return w;
}

constexpr quint64 anyBelow(quint64 w, uchar n) // n <= 0x80
{
    return (w - kOnes * n) & ~w & kHighs;
}

constexpr quint64 anyEqual(quint64 w, uchar c)
{
    return anyBelow(w ^ (kOnes * c), 1);
}

bool needsEscape(uchar c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

// The first byte in [p, end) JSON must escape, or end.
const char *nextEscape(const char *p, const char *end)
{
    while (end - p >= 8) {
        const quint64 w = load8(p);
        if (anyBelow(w, 0x20) | anyEqual(w, '"') | anyEqual(w, '\\'))
            break;
        p += 8;
    }
    while (p != end && !needsEscape(uchar(*p)))
        ++p;
    return p;
}

// The letter of a two-character escape (\n), or 0 for a \u00xx one.
char escapeLetter(uchar c)
{
    switch (c) {
    case '"': return '"';
    case '\\': return '\\';
    case 0x8: return 'b';
    case 0xc: return 'f';
    case 0xa: return 'n';
    case 0xd: return 'r';
    case 0x9: return 't';
    default: return 0;
    }
}

} // namespace

void SimulatorWire::appendJsonString(QByteArray &out, QByteArrayView utf8)
{
    // JsonBytes::appendString's escapes for ASCII; UTF-8 sequences stay as they are
    // (Qt writes non-ASCII as UTF-8). One pass sizes the literal, the next
    // writes it, copying the runs between escapes whole.
    static constexpr char hex[] = "0123456789abcdef";
    const char *const begin = utf8.data();
    const char *const end = begin + utf8.size();
    qsizetype size = 2 + utf8.size();
    for (const char *s = nextEscape(begin, end); s != end; s = nextEscape(s + 1, end))
        size += escapeLetter(uchar(*s)) ? 1 : 5;
    const qsizetype start = out.size();
    out.resize(start + size);
    char *p = out.data() + start;
    *p++ = '"';
    const char *run = begin;
    for (const char *s = nextEscape(run, end); s != end; s = nextEscape(run, end)) {
        p = std::copy(run, s, p);
        run = s + 1;
        const uchar c = uchar(*s);
        *p++ = '\\';
        if (const char letter = escapeLetter(c)) {
            *p++ = letter;
        } else {
            p = std::copy_n("u00", 3, p);
            *p++ = hex[c >> 4];
            *p++ = hex[c & 0xf];
        }
    }
    p = std::copy(run, end, p);
    *p = '"';
}

qsizetype SimulatorWire::utf16Length(QByteArrayView utf8)
{
    // One unit per sequence (its lead byte is no 10xxxxxx), two for a 4-byte one.
    auto units = [](char b) {
        const uchar c = uchar(b);
        return int((c & 0xc0) != 0x80) + int(c >= 0xf0);
    };
    const char *p = utf8.data();
    const char *const end = p + utf8.size();
    qsizetype n = 0;
    for (; end - p >= 8; p += 8) {
        if ((load8(p) & kHighs) == 0) {
            n += 8;
            continue;
        }
        for (int i = 0; i < 8; ++i)
            n += units(p[i]);
    }
    for (; p != end; ++p)
        n += units(*p);
    return n;
}

namespace {

// The strict reader behind scanGenerateRequest(): it accepts only what
// QJsonDocument surely reads the same way, and says no to the rest.
class PlainBodyScanner
{
public:
    explicit PlainBodyScanner(QByteArrayView body) : m_p(body.data()), m_end(body.data() + body.size()) {}

    bool scan(SimulatorWire::PlainGenerateRequest *out)
    {
        bool haveContents = false;
        bool haveConfig = false;
        if (!take('{'))
            return false;
        do {
            QByteArrayView k;
            if (!key(&k))
                return false;
            if (k == "contents" && !haveContents) {
                haveContents = true;
                if (!contents(out))
                    return false;
            } else if (k == "generationConfig" && !haveConfig) {
                haveConfig = true;
                if (!objectSpan(&out->generationConfig))
                    return false;
            } else {
                return false;
            }
        } while (take(','));
        if (!take('}'))
            return false;
        skipSpace();
        return haveContents && m_p == m_end;
    }

private:
    void skipSpace()
    {
        while (m_p != m_end && (*m_p == ' ' || *m_p == '\t' || *m_p == '\n' || *m_p == '\r'))
            ++m_p;
    }

    bool take(char c)
    {
        skipSpace();
        if (m_p == m_end || *m_p != c)
            return false;
        ++m_p;
        return true;
    }

    // "name": with a plain ASCII name (no escapes).
    bool key(QByteArrayView *name)
    {
        if (!take('"'))
            return false;
        const char *start = m_p;
        while (m_p != m_end && *m_p != '"') {
            const uchar c = uchar(*m_p);
            if (c < 0x20 || c >= 0x80 || c == '\\')
                return false;
            ++m_p;
        }
        if (m_p == m_end)
            return false;
        *name = QByteArrayView(start, m_p - start);
        ++m_p;
        return take(':');
    }

    // [{"parts": [...], "role": "..."}, ...], at least one.
    bool contents(SimulatorWire::PlainGenerateRequest *out)
    {
        if (!take('['))
            return false;
        do {
            if (!content(out))
                return false;
        } while (take(','));
        return take(']');
    }

    bool content(SimulatorWire::PlainGenerateRequest *out)
    {
        bool haveParts = false;
        bool haveRole = false;
        if (!take('{'))
            return false;
        do {
            QByteArrayView k;
            if (!key(&k))
                return false;
            if (k == "parts" && !haveParts) {
                haveParts = true;
                if (!parts(out))
                    return false;
            } else if (k == "role" && !haveRole) {
                haveRole = true;
                qsizetype ignored = 0;
                if (!string(nullptr, &ignored))
                    return false;
            } else {
                return false;
            }
        } while (take(','));
        return take('}') && haveParts;
    }

    // [{"text": "..."}, ...], at least one; joined as parseContent() joins them.
    bool parts(SimulatorWire::PlainGenerateRequest *out)
    {
        if (!take('['))
            return false;
        do {
            QByteArrayView k;
            if (!take('{') || !key(&k) || k != "text")
                return false;
            if (!out->prompt.isEmpty()) {
                out->prompt += '\n';
                ++out->promptLength;
            }
            if (!string(&out->prompt, &out->promptLength) || !take('}'))
                return false;
        } while (take(','));
        return take(']');
    }

    // A string value, decoded to UTF-8 onto *out (when not null).
    bool string(QByteArray *out, qsizetype *utf16)
    {
        if (!take('"'))
            return false;
        for (;;) {
            const char *run = m_p;
            while (m_end - m_p >= 8) {
                const quint64 w = load8(m_p);
                if ((w & kHighs) | anyBelow(w, 0x20) | anyEqual(w, '"') | anyEqual(w, '\\'))
                    break;
                m_p += 8;
            }
            while (m_p != m_end && uchar(*m_p) < 0x80 && !needsEscape(uchar(*m_p)))
                ++m_p;
            if (out)
                out->append(run, m_p - run);
            *utf16 += m_p - run;
            if (m_p == m_end)
                return false;
            const uchar c = uchar(*m_p);
            if (c == '"') {
                ++m_p;
                return true;
            }
            if (c < 0x20) // QJsonDocument takes raw control characters; left to it
                return false;
            const bool ok = c == '\\' ? escape(out, utf16) : utf8Sequence(out, utf16);
            if (!ok)
                return false;
        }
    }

    bool escape(QByteArray *out, qsizetype *utf16)
    {
        if (m_end - m_p < 2)
            return false;
        const char e = m_p[1];
        m_p += 2;
        char32_t u = 0;
        switch (e) {
        case '"': case '\\': case '/': u = char32_t(e); break;
        case 'b': u = 0x8; break;
        case 'f': u = 0xc; break;
        case 'n': u = 0xa; break;
        case 'r': u = 0xd; break;
        case 't': u = 0x9; break;
        case 'u': {
            if (!hex4(&u) || QChar::isLowSurrogate(u))
                return false;
            if (QChar::isHighSurrogate(u)) {
                // Only a whole pair; QJsonDocument keeps a lone half, which UTF-8 cannot.
                char32_t low = 0;
                if (m_end - m_p < 2 || m_p[0] != '\\' || m_p[1] != 'u')
                    return false;
                m_p += 2;
                if (!hex4(&low) || !QChar::isLowSurrogate(low))
                    return false;
                u = QChar::surrogateToUcs4(char16_t(u), char16_t(low));
            }
            break;
        }
        default: // QJsonDocument reads an unknown escape as the character itself
            return false;
        }
        if (QChar::isNonCharacter(u))
            return false;
        appendUtf8(out, u);
        *utf16 += QChar::requiresSurrogates(u) ? 2 : 1;
        return true;
    }

    bool hex4(char32_t *u)
    {
        if (m_end - m_p < 4)
            return false;
        for (int i = 0; i < 4; ++i) {
            const char c = *m_p++;
            *u <<= 4;
            if (c >= '0' && c <= '9')
                *u |= char32_t(c - '0');
            else if (c >= 'a' && c <= 'f')
                *u |= char32_t(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                *u |= char32_t(c - 'A' + 10);
            else
                return false;
        }
        return true;
    }

    // One well-formed multi-byte UTF-8 sequence: no overlong forms, no
    // surrogates, nothing above U+10FFFF and no noncharacters.
    bool utf8Sequence(QByteArray *out, qsizetype *utf16)
    {
        const auto *s = reinterpret_cast<const uchar *>(m_p);
        int len = 0;
        char32_t u = 0;
        if (s[0] >= 0xc2 && s[0] <= 0xdf) {
            len = 2;
            u = s[0] & 0x1f;
        } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
            len = 3;
            u = s[0] & 0x0f;
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
            len = 4;
            u = s[0] & 0x07;
        } else {
            return false;
        }
        if (m_end - m_p < len)
            return false;
        for (int i = 1; i < len; ++i) {
            if ((s[i] & 0xc0) != 0x80)
                return false;
            u = (u << 6) | (s[i] & 0x3f);
        }
        if ((len == 3 && u < 0x800) || (len == 4 && (u < 0x10000 || u > 0x10ffff)) || QChar::isSurrogate(u)
            || QChar::isNonCharacter(u))
            return false;
        if (out)
            out->append(m_p, len);
        m_p += len;
        *utf16 += len == 4 ? 2 : 1;
        return true;
    }

    static void appendUtf8(QByteArray *out, char32_t u)
    {
        if (!out)
            return;
        if (u < 0x80) {
            *out += char(u);
        } else if (u < 0x800) {
            *out += char(0xc0 | (u >> 6));
            *out += char(0x80 | (u & 0x3f));
        } else if (u < 0x10000) {
            *out += char(0xe0 | (u >> 12));
            *out += char(0x80 | ((u >> 6) & 0x3f));
            *out += char(0x80 | (u & 0x3f));
        } else {
            *out += char(0xf0 | (u >> 18));
            *out += char(0x80 | ((u >> 12) & 0x3f));
            *out += char(0x80 | ((u >> 6) & 0x3f));
            *out += char(0x80 | (u & 0x3f));
        }
    }

    // {...}: delimited by brackets outside strings; QJsonDocument validates it.
    bool objectSpan(QByteArrayView *span)
    {
        if (!take('{'))
            return false;
        const char *start = m_p - 1;
        int depth = 1;
        while (m_p != m_end) {
            const char c = *m_p++;
            if (c == '"') {
                while (m_p != m_end && *m_p != '"') {
                    if (*m_p == '\\' && ++m_p == m_end)
                        return false;
                    ++m_p;
                }
                if (m_p == m_end)
                    return false;
                ++m_p;
            } else if (c == '{' || c == '[') {
                // Shallow enough that its own document and the body nest alike
                // for QJsonDocument's depth limit.
                if (++depth > 64)
                    return false;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    *span = QByteArrayView(start, m_p - start);
                    return true;
                }
            }
        }
        return false;
    }

    const char *m_p;
    const char *m_end;
};

} // namespace

bool SimulatorWire::scanGenerateRequest(QByteArrayView body, PlainGenerateRequest *out)
{
    *out = {};
    return PlainBodyScanner(body).scan(out);
}

QByteArray SimulatorWire::error(int code, const QString &status, const QString &message, const QJsonArray &details)
{
    QJsonObject e{{QStringLiteral("code"), code},
                  {QStringLiteral("message"), message},
                  {QStringLiteral("status"), status}};
    if (!details.isEmpty())
        e.insert(QStringLiteral("details"), details);
    return compact(QJsonObject{{QStringLiteral("error"), e}});
}

QByteArray SimulatorWire::apiKeyInvalid(const QString &key)
{
    const QString message = QStringLiteral("API key not valid. Please pass a valid API key.");
    const QJsonArray details{
        QJsonObject{{QStringLiteral("@type"), type("ErrorInfo")},
                    {QStringLiteral("reason"), QStringLiteral("API_KEY_INVALID")},
                    {QStringLiteral("domain"), QStringLiteral("googleapis.com")},
                    {QStringLiteral("metadata"),
                     QJsonObject{{QStringLiteral("service"), QStringLiteral("generativelanguage.googleapis.com")}}}},
        QJsonObject{{QStringLiteral("@type"), type("LocalizedMessage")},
                    {QStringLiteral("locale"), QStringLiteral("en-US")},
                    {QStringLiteral("message"), message}},
        QJsonObject{{QStringLiteral("@type"), type("DebugInfo")},
                    {QStringLiteral("detail"), QStringLiteral("Invalid API key: ") + key}},
    };
    return error(400, QStringLiteral("INVALID_ARGUMENT"), message, details);
}

QByteArray SimulatorWire::modelNotFound(const QString &model, const QString &method)
{
    const QString message = QStringLiteral("models/%1 is not found for API version v1beta, or is not supported for %2. "
                                           "Call ListModels to see the list of available models and their supported methods.")
                                .arg(model, method);
    const QString detail = QStringLiteral("[ORIGINAL ERROR] generic::not_found: %1 [google.rpc.error_details_ext] { message: \"%1\" }")
                               .arg(message);
    return error(404, QStringLiteral("NOT_FOUND"), message,
                 QJsonArray{QJsonObject{{QStringLiteral("@type"), type("DebugInfo")}, {QStringLiteral("detail"), detail}}});
}

QByteArray SimulatorWire::batchEmbedOver100()
{
    return invalidArgument(QStringLiteral("* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch\n"));
}

QByteArray SimulatorWire::unavailable()
{
    return error(503, QStringLiteral("UNAVAILABLE"), QStringLiteral("The model is overloaded. Please try again later."));
}

QByteArray SimulatorWire::internal()
{
    return error(500, QStringLiteral("INTERNAL"),
                 QStringLiteral("An internal error has occurred. Please retry or report in "
                                "https://developers.generativeai.google/guide/troubleshooting"));
}

QString SimulatorWire::durationString(std::chrono::milliseconds d)
{
    const qint64 ms = std::max<qint64>(0, d.count());
    if (ms % 1000 == 0)
        return QString::number(ms / 1000) + QLatin1Char('s');
    return QStringLiteral("%1.%2s").arg(ms / 1000).arg(ms % 1000, 3, 10, QLatin1Char('0'));
}

QByteArray SimulatorWire::resourceExhausted(const QString &model, bool requests, int limit,
                                            std::chrono::milliseconds retryAfter)
{
    const QString metric = requests
        ? QStringLiteral("generativelanguage.googleapis.com/generate_content_requests")
        : QStringLiteral("generativelanguage.googleapis.com/generate_content_input_token_count");
    const QString quotaId = requests ? QStringLiteral("GenerateRequestsPerMinutePerProjectPerModel")
                                     : QStringLiteral("GenerateContentInputTokensPerModelPerMinute");
    const QString delay = durationString(retryAfter);
    const QString message =
        QStringLiteral("You exceeded your current quota, please check your plan and billing details. For more "
                       "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. "
                       "To monitor your current usage, head to: https://ai.dev/rate-limit. \n"
                       "* Quota exceeded for metric: %1, limit: %2, model: %3\nPlease retry in %4.")
            .arg(metric).arg(limit).arg(model, delay);
    const QJsonArray details{
        QJsonObject{{QStringLiteral("@type"), type("Help")},
                    {QStringLiteral("links"),
                     QJsonArray{QJsonObject{
                         {QStringLiteral("description"), QStringLiteral("Learn more about Gemini API quotas")},
                         {QStringLiteral("url"), QStringLiteral("https://ai.google.dev/gemini-api/docs/rate-limits")}}}}},
        QJsonObject{{QStringLiteral("@type"), type("QuotaFailure")},
                    {QStringLiteral("violations"),
                     QJsonArray{QJsonObject{
                         {QStringLiteral("quotaMetric"), metric},
                         {QStringLiteral("quotaId"), quotaId},
                         {QStringLiteral("quotaDimensions"),
                          QJsonObject{{QStringLiteral("model"), model}, {QStringLiteral("location"), QStringLiteral("global")}}},
                         {QStringLiteral("quotaValue"), QString::number(limit)}}}}},
        QJsonObject{{QStringLiteral("@type"), type("RetryInfo")}, {QStringLiteral("retryDelay"), delay}},
    };
    return error(429, QStringLiteral("RESOURCE_EXHAUSTED"), message, details);
}

QJsonObject SimulatorWire::modelInfo(const QString &id)
{
    const bool embedding = isEmbeddingModel(id);
    QJsonObject m{
        {QStringLiteral("name"), QStringLiteral("models/") + id},
        {QStringLiteral("version"), QStringLiteral("001")},
        {QStringLiteral("displayName"), displayNameFor(id)},
        {QStringLiteral("description"), QStringLiteral("Simulated %1 (Sluice GeminiSimulator)").arg(displayNameFor(id))},
    };
    if (embedding) {
        m.insert(QStringLiteral("inputTokenLimit"), 2048);
        m.insert(QStringLiteral("outputTokenLimit"), 1);
        m.insert(QStringLiteral("supportedGenerationMethods"),
                 QJsonArray{QStringLiteral("embedContent"), QStringLiteral("batchEmbedContents"),
                            QStringLiteral("countTextTokens"), QStringLiteral("countTokens")});
    } else {
        m.insert(QStringLiteral("inputTokenLimit"), 1048576);
        m.insert(QStringLiteral("outputTokenLimit"), id.startsWith(QLatin1String("gemini-2.0")) ? 8192 : 65536);
        m.insert(QStringLiteral("supportedGenerationMethods"),
                 QJsonArray{QStringLiteral("generateContent"), QStringLiteral("countTokens"),
                            QStringLiteral("createCachedContent"), QStringLiteral("batchGenerateContent")});
        m.insert(QStringLiteral("temperature"), 1);
        m.insert(QStringLiteral("topP"), 0.95);
        m.insert(QStringLiteral("topK"), 64);
        m.insert(QStringLiteral("maxTemperature"), 2);
        m.insert(QStringLiteral("thinking"), id.startsWith(QLatin1String("gemini-2.5")));
    }
    return m;
}

bool SimulatorWire::supports(const QString &id, const QString &method)
{
    if (method == QLatin1String("countTokens"))
        return true;
    const bool embedding = isEmbeddingModel(id);
    if (method == QLatin1String("embedContent") || method == QLatin1String("batchEmbedContents"))
        return embedding;
    return !embedding; // generateContent, streamGenerateContent
}
