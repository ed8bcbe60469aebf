#pragma once

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <chrono>

// Bodies the GeminiSimulator sends that are not generated content: the Gemini
// error envelope {"error":{"code","message","status","details"?}} in the exact
// shapes of the recorded fixtures (../shared/fixtures/gemini), and the model
// catalogue of GET /v1beta/models.
//
// Thread: stateless; every function is thread-safe.
class SimulatorWire
{
public:
    static QByteArray error(int code, const QString &status, const QString &message,
                            const QJsonArray &details = {});
    static QByteArray invalidArgument(const QString &message) { return error(400, QStringLiteral("INVALID_ARGUMENT"), message); }
    // error_400_api_key_invalid.json, with the offending key in DebugInfo.
    static QByteArray apiKeyInvalid(const QString &key);
    // recording_error_404_streamGenerateContent.json: unknown model or unsupported method.
    static QByteArray modelNotFound(const QString &model, const QString &method);
    // error_400_batchEmbedContents_over_100.json
    static QByteArray batchEmbedOver100();
    // error_503_unavailable.json
    static QByteArray unavailable();
    static QByteArray internal();
    // error_429_resource_exhausted_quota_retryinfo.json: Help, QuotaFailure, RetryInfo.
    static QByteArray resourceExhausted(const QString &model, bool requests, int limit,
                                        std::chrono::milliseconds retryAfter);
    // "12s" when whole seconds, else "0.412s" (protobuf Duration JSON).
    static QString durationString(std::chrono::milliseconds d);

    static QJsonObject modelInfo(const QString &id);
    static bool supports(const QString &id, const QString &method);

    static QByteArray compact(const QJsonObject &o);

    // A GenerateContentResponse (or one stream chunk of it), byte-for-byte
    // what compact() gives for the same object, written without building it:
    // candidates[i] = {content: {parts: [{text: texts[i]}], role: "model"},
    // finishReason: finishReasons[i] (left out when empty), index: i};
    // usageMetadata counts prompt + candidates tokens, with TEXT details.
    static QByteArray generateResponse(const QStringList &texts, const QStringList &finishReasons,
                                       const QString &modelVersion, const QString &responseId,
                                       int promptTokens, int candidatesTokens);
};
