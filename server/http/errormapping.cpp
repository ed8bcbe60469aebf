#include "server/http/errormapping.h"

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

QString durationText(std::chrono::milliseconds d)
{
    const qint64 ms = std::max<qint64>(0, d.count());
    if (ms % 1000 == 0)
        return QString::number(ms / 1000) + QLatin1Char('s');
    return QStringLiteral("%1.%2s").arg(ms / 1000).arg(ms % 1000, 3, 10, QLatin1Char('0'));
}

HttpReply toReply(const Status &status, int httpOverride, const QJsonArray &extraDetails)
{
    HttpReply reply;
    const bool fromUpstream = status.upstreamHttpStatus != 0;
    reply.status = httpOverride ? httpOverride : fromUpstream ? status.upstreamHttpStatus : httpFor(status.code);

    QJsonObject envelope;
    if (fromUpstream && !httpOverride && status.upstreamError.value(QLatin1String("error")).isObject()) {
        envelope = status.upstreamError; // verbatim: the agent sees what Google said
    } else {
        QJsonArray details;
        if (status.code == StatusCode::ResourceExhausted && status.retryAfter.count() > 0) {
            details.append(QJsonObject{{QStringLiteral("@type"), QStringLiteral("type.googleapis.com/google.rpc.RetryInfo")},
                                       {QStringLiteral("retryDelay"), durationText(status.retryAfter)}});
        }
        for (const QJsonValue &d : extraDetails)
            details.append(d);
        QJsonObject error{{QStringLiteral("code"), reply.status},
                          {QStringLiteral("message"), status.message},
                          {QStringLiteral("status"), statusCodeName(status.code)}};
        if (!details.isEmpty())
            error.insert(QStringLiteral("details"), details);
        envelope.insert(QStringLiteral("error"), error);
    }
    reply.body = QJsonDocument(envelope).toJson(QJsonDocument::Compact);

    const bool wantsRetryAfter = status.code == StatusCode::ResourceExhausted || status.code == StatusCode::Unavailable;
    if (wantsRetryAfter && (status.retryAfter.count() > 0 || !fromUpstream))
        reply.headers.append({QByteArrayLiteral("Retry-After"), QByteArray::number(retryAfterSeconds(status.retryAfter))});
    if (status.code == StatusCode::Unauthenticated && !fromUpstream)
        reply.headers.append({QByteArrayLiteral("WWW-Authenticate"), QByteArrayLiteral("Bearer realm=\"sluice\"")});
    return reply;
}

QByteArray reasonPhrase(int httpStatus)
{
    switch (httpStatus) {
    case 100: return QByteArrayLiteral("Continue");
    case 200: return QByteArrayLiteral("OK");
    case 201: return QByteArrayLiteral("Created");
    case 202: return QByteArrayLiteral("Accepted");
    case 204: return QByteArrayLiteral("No Content");
    case 304: return QByteArrayLiteral("Not Modified");
    case 400: return QByteArrayLiteral("Bad Request");
    case 401: return QByteArrayLiteral("Unauthorized");
    case 403: return QByteArrayLiteral("Forbidden");
    case 404: return QByteArrayLiteral("Not Found");
    case 405: return QByteArrayLiteral("Method Not Allowed");
    case 408: return QByteArrayLiteral("Request Timeout");
    case 411: return QByteArrayLiteral("Length Required");
    case 413: return QByteArrayLiteral("Content Too Large");
    case 409: return QByteArrayLiteral("Conflict");
    case 415: return QByteArrayLiteral("Unsupported Media Type");
    case 422: return QByteArrayLiteral("Unprocessable Content");
    case 426: return QByteArrayLiteral("Upgrade Required");
    case 429: return QByteArrayLiteral("Too Many Requests");
    case 431: return QByteArrayLiteral("Request Header Fields Too Large");
    case 499: return QByteArrayLiteral("Client Closed Request");
    case 500: return QByteArrayLiteral("Internal Server Error");
    case 501: return QByteArrayLiteral("Not Implemented");
    case 502: return QByteArrayLiteral("Bad Gateway");
    case 503: return QByteArrayLiteral("Service Unavailable");
    case 504: return QByteArrayLiteral("Gateway Timeout");
    default: return QByteArrayLiteral("Status");
    }
}

} // namespace ErrorMapping
