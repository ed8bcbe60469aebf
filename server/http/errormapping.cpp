#include "server/http/errormapping.h"

#include "core/gemini/geminierror.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace ErrorMapping {

namespace {

int httpFor(StatusCode code)
{
    switch (code) {
    case StatusCode::Ok: return 200;
    case StatusCode::InvalidArgument: return 400;
    case StatusCode::Unauthenticated: return 401;
    case StatusCode::PermissionDenied: return 403;
    case StatusCode::NotFound: return 404;
    case StatusCode::ResourceExhausted: return 429;
    case StatusCode::Cancelled: return 499;
    case StatusCode::Internal: return 500;
    case StatusCode::Unavailable: return 503;
    case StatusCode::DeadlineExceeded: return 504;
    }
    return 500;
}

} // namespace

qint64 retryAfterSeconds(std::chrono::milliseconds d)
{
    const qint64 ms = std::max<qint64>(0, d.count());
    return std::max<qint64>(1, (ms + 999) / 1000);
}

HttpReply toReply(const Status &status, int httpOverride, const QJsonArray &extraDetails)
{
    HttpReply reply;
    const bool fromUpstream = status.upstreamHttpStatus != 0;
    reply.status = httpOverride ? httpOverride : fromUpstream ? status.upstreamHttpStatus : httpFor(status.code);

    if (fromUpstream && !httpOverride && status.upstreamError.value(QLatin1String("error")).isObject()) {
        // Verbatim: the agent sees what Google said.
        reply.body = QJsonDocument(status.upstreamError).toJson(QJsonDocument::Compact);
    } else {
        QJsonArray details;
        if (status.code == StatusCode::ResourceExhausted && status.retryAfter.count() > 0) {
            details.append(QJsonObject{{QStringLiteral("@type"), QStringLiteral("type.googleapis.com/google.rpc.RetryInfo")},
                                       {QStringLiteral("retryDelay"), GeminiError::durationText(status.retryAfter)}});
        }
        for (const QJsonValue &d : extraDetails)
            details.append(d);
        reply.body = GeminiError::envelopeJson(reply.status, statusCodeName(status.code), status.message, details);
    }

    const bool wantsRetryAfter = status.code == StatusCode::ResourceExhausted || status.code == StatusCode::Unavailable;
    if (wantsRetryAfter && (status.retryAfter.count() > 0 || !fromUpstream))
        reply.headers.append({QByteArrayLiteral("Retry-After"), QByteArray::number(retryAfterSeconds(status.retryAfter))});
    if (status.code == StatusCode::Unauthenticated && !fromUpstream)
        reply.headers.append({QByteArrayLiteral("WWW-Authenticate"), QByteArrayLiteral("Bearer realm=\"sluice\"")});
    return reply;
}

} // namespace ErrorMapping
