#include "server/simulator/simulatorwire.h"

#include "core/gemini/geminierror.h"

#include "core/json/bytescan.h"
#include "core/json/jsonbytes.h"
#include "core/json/jsonscanner.h"

#include <QJsonDocument>
#include <QStringList>

#include <algorithm>
#include <cstring>
#include <utility>

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

qsizetype SimulatorWire::utf16Length(QByteArrayView utf8)
{
    // One unit per sequence (its lead byte is no 10xxxxxx), two for a 4-byte
    // one; eight ASCII bytes at a time.
    auto units = [](char b) {
        const uchar c = uchar(b);
        return int((c & 0xc0) != 0x80) + int(c >= 0xf0);
    };
    const char *p = utf8.data();
    const char *const end = p + utf8.size();
    qsizetype n = 0;
    for (; end - p >= 8; p += 8) {
        if ((ByteScan::load8(p) & ByteScan::kHighs) == 0) {
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

// [{"text": "..."}, ...], at least one part, each nothing but its text;
// joined as parseContents() joins them.
bool scanParts(JsonScanner &js, SimulatorWire::PlainGenerateRequest *out)
{
    int count = 0;
    return js.readArray([&] {
               ++count;
               bool haveText = false;
               return js.readObject([&](const QByteArray &key) {
                          if (key != "text" || std::exchange(haveText, true))
                              return false;
                          if (!out->prompt.isEmpty()) {
                              out->prompt += '\n';
                              ++out->promptLength;
                          }
                          qsizetype units = 0;
                          if (!js.readString(&out->prompt, &units))
                              return false;
                          out->promptLength += units;
                          return true;
                      })
                   && haveText;
           })
        && count > 0;
}

// {"parts": [...], "role": "..."}: parts required, role optional. A key that
// comes twice, or any other key, is not the plain shape.
bool scanContent(JsonScanner &js, SimulatorWire::PlainGenerateRequest *out)
{
    bool haveParts = false, haveRole = false;
    return js.readObject([&](const QByteArray &key) {
               if (key == "parts")
                   return !std::exchange(haveParts, true) && scanParts(js, out);
               if (key == "role")
                   return !std::exchange(haveRole, true) && js.readString(nullptr);
               return false;
           })
        && haveParts;
}

} // namespace

bool SimulatorWire::scanGenerateRequest(QByteArrayView body, PlainGenerateRequest *out)
{
    *out = {};
    JsonScanner js(body);
    bool haveContents = false, haveConfig = false;
    int contents = 0;
    const bool ok = js.readObject([&](const QByteArray &key) {
        if (key == "contents") {
            return !std::exchange(haveContents, true)
                && js.readArray([&] {
                       ++contents;
                       return scanContent(js, out);
                   });
        }
        if (key == "generationConfig")
            return !std::exchange(haveConfig, true) && js.peek() == '{' && js.skipValue(&out->generationConfig);
        return false;
    });
    return ok && haveContents && contents > 0 && js.atEnd();
}

QByteArray SimulatorWire::invalidArgument(const QString &message)
{
    return GeminiError::envelopeJson(400, QStringLiteral("INVALID_ARGUMENT"), message);
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
    return GeminiError::envelopeJson(400, QStringLiteral("INVALID_ARGUMENT"), message, details);
}

QByteArray SimulatorWire::modelNotFound(const QString &model, const QString &method)
{
    const QString message = QStringLiteral("models/%1 is not found for API version v1beta, or is not supported for %2. "
                                           "Call ListModels to see the list of available models and their supported methods.")
                                .arg(model, method);
    const QString detail = QStringLiteral("[ORIGINAL ERROR] generic::not_found: %1 [google.rpc.error_details_ext] { message: \"%1\" }")
                               .arg(message);
    return GeminiError::envelopeJson(404, QStringLiteral("NOT_FOUND"), message,
                 QJsonArray{QJsonObject{{QStringLiteral("@type"), type("DebugInfo")}, {QStringLiteral("detail"), detail}}});
}

QByteArray SimulatorWire::batchEmbedOver100()
{
    return invalidArgument(QStringLiteral("* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch\n"));
}

QByteArray SimulatorWire::unavailable()
{
    return GeminiError::envelopeJson(503, QStringLiteral("UNAVAILABLE"), QStringLiteral("The model is overloaded. Please try again later."));
}

QByteArray SimulatorWire::flexShed()
{
    return GeminiError::envelopeJson(503, QStringLiteral("UNAVAILABLE"),
                                     QStringLiteral("The flex service tier shed this request for lack of capacity. "
                                                    "Please try again later, or retry it on the standard tier."));
}

QByteArray SimulatorWire::internal()
{
    return GeminiError::envelopeJson(500, QStringLiteral("INTERNAL"),
                 QStringLiteral("An internal error has occurred. Please retry or report in "
                                "https://developers.generativeai.google/guide/troubleshooting"));
}

QByteArray SimulatorWire::resourceExhausted(const QString &model, SimulatorQuota::Dimension dimension, int limit,
                                            std::chrono::milliseconds retryAfter)
{
    const bool tokens = dimension == SimulatorQuota::Dimension::InputTokensPerMinute;
    const QString metric = tokens
        ? QStringLiteral("generativelanguage.googleapis.com/generate_content_input_token_count")
        : QStringLiteral("generativelanguage.googleapis.com/generate_content_requests");
    QString quotaId;
    switch (dimension) {
    case SimulatorQuota::Dimension::RequestsPerMinute:
        quotaId = QStringLiteral("GenerateRequestsPerMinutePerProjectPerModel");
        break;
    case SimulatorQuota::Dimension::InputTokensPerMinute:
        quotaId = QStringLiteral("GenerateContentInputTokensPerModelPerMinute");
        break;
    case SimulatorQuota::Dimension::RequestsPerDay:
        quotaId = QStringLiteral("GenerateRequestsPerDayPerProjectPerModel");
        break;
    }
    const QString delay = GeminiError::durationText(retryAfter);
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
    return GeminiError::envelopeJson(429, QStringLiteral("RESOURCE_EXHAUSTED"), message, details);
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
