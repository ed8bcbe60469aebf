#include "core/gemini/geminierror.h"

#include "core/http/sseparser.h"

#include <QJsonDocument>

#include <algorithm>

#include <cmath>

using namespace std::chrono;

std::optional<GeminiError> GeminiError::fromEnvelope(const QJsonObject &json, int httpStatus)
{
    const QJsonValue ev = json.value(QLatin1StringView("error"));
    if (!ev.isObject())
        return std::nullopt;
    const QJsonObject e = ev.toObject();
    GeminiError err;
    err.httpStatus = httpStatus;
    err.code = e.value(QLatin1StringView("code")).toInt(httpStatus);
    err.status = e.value(QLatin1StringView("status")).toString();
    err.message = e.value(QLatin1StringView("message")).toString();
    err.details = e.value(QLatin1StringView("details")).toArray();
    err.envelope = json;
    for (const QJsonValue &d : err.details) {
        const QJsonObject detail = d.toObject();
        if (detail.value(QLatin1StringView("@type")).toString().endsWith(QLatin1StringView("google.rpc.RetryInfo"))) {
            err.retryDelay = parseDuration(detail.value(QLatin1StringView("retryDelay")).toString());
            break;
        }
    }
    return err;
}

GeminiError GeminiError::fromHttp(int httpStatus, const QByteArray &body, const QByteArray &retryAfterHeader)
{
    // The SSE parser also takes a bare JSON body, so one path covers both framings.
    SseParser sse;
    QList<QJsonObject> events = sse.feed(body);
    events += sse.finish();
    for (const QJsonObject &ev : events) {
        if (auto err = fromEnvelope(ev, httpStatus)) {
            if (!err->retryDelay && !retryAfterHeader.isEmpty()) {
                bool ok = false;
                const int secs = retryAfterHeader.trimmed().toInt(&ok);
                if (ok && secs >= 0)
                    err->retryDelay = seconds(secs);
            }
            return *err;
        }
    }
    GeminiError err;
    err.httpStatus = httpStatus;
    err.code = httpStatus;
    err.message = QStringLiteral("upstream answered HTTP %1").arg(httpStatus);
    const QByteArray head = body.left(200).trimmed();
    if (!head.isEmpty())
        err.message += QStringLiteral(": ") + QString::fromUtf8(head);
    bool ok = false;
    const int secs = retryAfterHeader.trimmed().toInt(&ok);
    if (ok && secs >= 0)
        err.retryDelay = seconds(secs);
    return err;
}

Status GeminiError::toStatus() const
{
    const int http = httpStatus ? httpStatus : code;
    Status s = Status::error(statusCodeFor(http, status),
                             message.isEmpty() ? QStringLiteral("upstream error %1").arg(http) : message);
    s.upstreamHttpStatus = httpStatus;
    s.upstreamError = envelope;
    if (retryDelay)
        s.retryAfter = *retryDelay;
    return s;
}

StatusCode GeminiError::statusCodeFor(int httpStatus, const QString &grpcStatus)
{
    switch (httpStatus) {
    case 400: return StatusCode::InvalidArgument;
    case 401: return StatusCode::Unauthenticated;
    case 403: return StatusCode::PermissionDenied;
    case 404: return StatusCode::NotFound;
    case 408: return StatusCode::DeadlineExceeded;
    case 429: return StatusCode::ResourceExhausted;
    case 500: return StatusCode::Internal;
    case 502: return StatusCode::Unavailable;
    case 503: return StatusCode::Unavailable;
    case 504: return StatusCode::DeadlineExceeded;
    default: break;
    }
    static const std::pair<const char *, StatusCode> kNames[] = {
        {"INVALID_ARGUMENT", StatusCode::InvalidArgument},
        {"FAILED_PRECONDITION", StatusCode::InvalidArgument},
        {"OUT_OF_RANGE", StatusCode::InvalidArgument},
        {"UNAUTHENTICATED", StatusCode::Unauthenticated},
        {"PERMISSION_DENIED", StatusCode::PermissionDenied},
        {"NOT_FOUND", StatusCode::NotFound},
        {"RESOURCE_EXHAUSTED", StatusCode::ResourceExhausted},
        {"CANCELLED", StatusCode::Cancelled},
        {"DEADLINE_EXCEEDED", StatusCode::DeadlineExceeded},
        {"UNAVAILABLE", StatusCode::Unavailable},
        {"INTERNAL", StatusCode::Internal},
    };
    for (const auto &[name, sc] : kNames)
        if (grpcStatus == QLatin1StringView(name))
            return sc;
    if (httpStatus >= 400 && httpStatus < 500)
        return StatusCode::InvalidArgument;
    if (httpStatus >= 500)
        return StatusCode::Unavailable;
    return StatusCode::Internal;
}

bool GeminiError::isRetryableHttp(int httpStatus)
{
    switch (httpStatus) {
    case 408: case 429: case 500: case 502: case 503: case 504:
        return true;
    default:
        return false;
    }
}

std::optional<milliseconds> GeminiError::parseDuration(const QString &text)
{
    QString t = text.trimmed();
    if (!t.endsWith(QLatin1Char('s')))
        return std::nullopt;
    t.chop(1);
    bool ok = false;
    const double secs = t.toDouble(&ok);
    if (!ok || !std::isfinite(secs) || secs < 0 || secs > 1e9)
        return std::nullopt;
    return milliseconds(std::llround(secs * 1000.0));
}

QByteArray GeminiError::envelopeJson(int code, const QString &status, const QString &message, const QJsonArray &details)
{
    QJsonObject error{{QStringLiteral("code"), code},
                      {QStringLiteral("message"), message},
                      {QStringLiteral("status"), status}};
    if (!details.isEmpty())
        error.insert(QStringLiteral("details"), details);
    return QJsonDocument(QJsonObject{{QStringLiteral("error"), error}}).toJson(QJsonDocument::Compact);
}

QString GeminiError::durationText(std::chrono::milliseconds d)
{
    const qint64 ms = std::max<qint64>(0, d.count());
    if (ms % 1000 == 0)
        return QString::number(ms / 1000) + QLatin1Char('s');
    return QStringLiteral("%1.%2s").arg(ms / 1000).arg(ms % 1000, 3, 10, QLatin1Char('0'));
}

QList<GeminiError::QuotaViolation> GeminiError::quotaViolations() const
{
    QList<QuotaViolation> out;
    for (const QJsonValue &d : details) {
        const QJsonObject detail = d.toObject();
        if (!detail.value(QLatin1StringView("@type")).toString().endsWith(QLatin1StringView("google.rpc.QuotaFailure")))
            continue;
        for (const QJsonValue &v : detail.value(QLatin1StringView("violations")).toArray()) {
            const QJsonObject o = v.toObject();
            QuotaViolation q;
            q.quotaMetric = o.value(QLatin1StringView("quotaMetric")).toString();
            q.quotaId = o.value(QLatin1StringView("quotaId")).toString();
            q.model = o.value(QLatin1StringView("quotaDimensions")).toObject().value(QLatin1StringView("model")).toString();
            // quotaValue is an int64 in proto3 JSON: a string ("5"), sometimes a number.
            const QJsonValue value = o.value(QLatin1StringView("quotaValue"));
            bool ok = false;
            const long long n = value.isString() ? value.toString().toLongLong(&ok) : value.toInteger(-1);
            if (value.isString() ? ok && n > 0 : n > 0)
                q.quotaValue = n;
            out.append(q);
        }
    }
    return out;
}
