#pragma once

#include "core/util/status.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>

#include <chrono>
#include <optional>

// An upstream Gemini error: the {"error":{code,message,status,details[]}}
// envelope of a non-2xx answer (or of an SSE event that carries one), and how
// it becomes a Status (DESIGN.md §4: the envelope is passed through verbatim in
// Status::upstreamError, the HTTP code in Status::upstreamHttpStatus).
//
// Thread: plain value type; static functions are pure.
class GeminiError
{
public:
    int httpStatus = 0;       // the HTTP status of the answer (0: none, e.g. an in-stream error)
    int code = 0;             // error.code (usually equal to httpStatus)
    QString status;           // error.status, e.g. "RESOURCE_EXHAUSTED"
    QString message;          // error.message
    QJsonArray details;       // error.details, verbatim
    QJsonObject envelope;     // the whole {"error":{...}} object; empty when the body was not one
    std::optional<std::chrono::milliseconds> retryDelay; // RetryInfo.retryDelay, else Retry-After

    // One violation of a google.rpc.QuotaFailure detail: which quota (as
    // Gemini names it) and its limit, quotaValue when it is a number.
    struct QuotaViolation {
        QString quotaMetric;    // "generativelanguage.googleapis.com/generate_content_requests"
        QString quotaId;        // "GenerateRequestsPerMinutePerProjectPerModel"
        QString model;          // quotaDimensions.model, when given
        std::optional<long long> quotaValue;
    };
    QList<QuotaViolation> quotaViolations() const;

    // Reads an {"error":{...}} envelope; nullopt when `json` is not one.
    static std::optional<GeminiError> fromEnvelope(const QJsonObject &json, int httpStatus = 0);

    // Builds the error for a non-2xx answer. The body may be a JSON envelope,
    // an SSE-framed one ("data: {...}"), or anything else (a proxy's HTML page):
    // then the envelope stays empty and the message quotes the start of the body.
    // `retryAfterHeader` is the Retry-After header (seconds), used when the
    // body has no RetryInfo.
    static GeminiError fromHttp(int httpStatus, const QByteArray &body,
                                const QByteArray &retryAfterHeader = {});

    Status toStatus() const;

    // The ONE writer of Gemini's error envelope, as compact JSON:
    //   {"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED","details":[...]}}
    // (details left out when empty; key order as Google sends it). The
    // gateway's errors (ErrorMapping) and the GeminiSimulator's use it.
    static QByteArray envelopeJson(int code, const QString &status, const QString &message,
                                   const QJsonArray &details = {});

    // HTTP code → StatusCode: 400 INVALID_ARGUMENT, 401 UNAUTHENTICATED,
    // 403 PERMISSION_DENIED, 404 NOT_FOUND, 408/504 DEADLINE_EXCEEDED,
    // 429 RESOURCE_EXHAUSTED, 500 INTERNAL, 502/503 UNAVAILABLE; other codes
    // fall back to the envelope's status string, then to the code's class.
    static StatusCode statusCodeFor(int httpStatus, const QString &grpcStatus = {});

    // Whether DESIGN.md §6 retries this HTTP status (408, 429, 500, 502, 503, 504).
    static bool isRetryableHttp(int httpStatus);

    // A protobuf Duration in JSON ("58s", "1.5s", "0.250s"); nullopt when malformed.
    static std::optional<std::chrono::milliseconds> parseDuration(const QString &text);
    // The other way, as Sluice writes RetryInfo.retryDelay: whole seconds
    // as "2s", else milliseconds as "0.250s"; negative durations as "0s".
    static QString durationText(std::chrono::milliseconds d);
};
