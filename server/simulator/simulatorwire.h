#pragma once

#include "server/simulator/simulatorquota.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <chrono>

// Bodies the GeminiSimulator sends that are not generated content: the Gemini
// error envelope {"error":{"code","message","status","details"?}} in the exact
// shapes of the recorded fixtures (../shared/fixtures/gemini), and the model
// catalogue of GET /v1beta/models. Also the byte-level writers and the reader
// of the hot generateContent path.
//
// Thread: stateless; every function is thread-safe.
class SimulatorWire
{
public:
    // Gemini's 400 INVALID_ARGUMENT envelope (GeminiError::envelopeJson writes every error body).
    static QByteArray invalidArgument(const QString &message);
    // error_400_api_key_invalid.json, with the offending key in DebugInfo.
    static QByteArray apiKeyInvalid(const QString &key);
    // recording_error_404_streamGenerateContent.json: unknown model or unsupported method.
    static QByteArray modelNotFound(const QString &model, const QString &method);
    // error_400_batchEmbedContents_over_100.json
    static QByteArray batchEmbedOver100();
    // error_503_unavailable.json
    static QByteArray unavailable();
    // The 503 UNAVAILABLE of a flex-tier request shed for lack of capacity
    // (error_503_unavailable.json's shape; the message says it may be retried
    // on the standard tier).
    static QByteArray flexShed();
    static QByteArray internal();
    // error_429_resource_exhausted_quota_retryinfo.json: Help, QuotaFailure
    // {violations: [{quotaMetric, quotaId, quotaDimensions {model, location
    // "global"}, quotaValue (a string)}]} and RetryInfo {retryDelay}, for the
    // paid-tier quota ids (SimulatorQuota); the message names the metric,
    // the limit, the model and the delay.
    static QByteArray resourceExhausted(const QString &model, SimulatorQuota::Dimension dimension, int limit,
                                        std::chrono::milliseconds retryAfter);

    static QJsonObject modelInfo(const QString &id);
    static bool supports(const QString &id, const QString &method);

    static QByteArray compact(const QJsonObject &o);
    // The Content-Type of every JSON body.
    static QByteArray jsonContentType() { return QByteArrayLiteral("application/json; charset=UTF-8"); }

    // A GenerateContentResponse (or one stream chunk of it), byte-for-byte
    // what compact() gives for the same object, written without building it:
    // candidates[i] = {content: {parts: [{text: texts[i]}], role: "model"},
    // finishReason: finishReasons[i] (left out when empty), index: i};
    // usageMetadata counts prompt + candidates tokens, with TEXT details.
    static QByteArray generateResponse(const QStringList &texts, const QStringList &finishReasons,
                                       const QString &modelVersion, const QString &responseId,
                                       int promptTokens, int candidatesTokens);
    // The same with every text already written as a JSON string literal
    // (quotes included), by JsonBytes::appendString or appendUtf8String.
    static QByteArray generateResponse(const QList<QByteArray> &textLiterals, const QStringList &finishReasons,
                                       const QString &modelVersion, const QString &responseId,
                                       int promptTokens, int candidatesTokens);

    // QString::fromUtf8(utf8).size() of valid UTF-8, without converting.
    static qsizetype utf16Length(QByteArrayView utf8);

    // What the simulator reads of a generateContent body of the plain shape
    // every client sends, taken straight from its bytes:
    //   {"contents": [{"parts": [{"text": "..."}, ...], "role": "..."}, ...],
    //    "generationConfig": {...}}
    // (keys in any order, any JSON whitespace, role and generationConfig
    // optional). The prompt is what QJsonDocument would give as a QString,
    // in UTF-8.
    struct PlainGenerateRequest {
        QByteArray prompt;                // every text part, joined with '\n'
        qsizetype promptLength = 0;       // in UTF-16 code units (QString::size())
        QByteArrayView generationConfig;  // the object's bytes, empty when absent
    };
    // False for anything else: other or duplicate keys, a generationConfig
    // that is not an object, and whatever JsonScanner refuses (raw control
    // characters, unknown escapes, unpaired surrogates, invalid UTF-8, ...).
    // The caller then parses the body with QJsonDocument, whose reading this
    // equals; generationConfig's bytes are checked as JSON, not as a config.
    static bool scanGenerateRequest(QByteArrayView body, PlainGenerateRequest *out);
};
