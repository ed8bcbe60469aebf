#include "server/stream/streamhandshake.h"

#include "core/util/status.h"
#include "server/http/admintoken.h"
#include "server/http/errormapping.h"

#include <QUrl>

namespace StreamHandshake {

namespace {

// Every value of `name`, joined with ", " (QHttpServerRequest::value()'s rule).
QByteArray combined(const Headers &headers, QByteArrayView name)
{
    QByteArray out;
    bool first = true;
    for (const auto &[k, v] : headers) {
        if (name.compare(k, Qt::CaseInsensitive) != 0)
            continue;
        if (!first)
            out += ", ";
        out += v;
        first = false;
    }
    return out;
}

int fieldCount(const Headers &headers, QByteArrayView name)
{
    int n = 0;
    for (const auto &h : headers)
        n += name.compare(h.first, Qt::CaseInsensitive) == 0 ? 1 : 0;
    return n;
}

QByteArray firstField(const Headers &headers, QByteArrayView name)
{
    for (const auto &[k, v] : headers)
        if (name.compare(k, Qt::CaseInsensitive) == 0)
            return v;
    return {};
}

bool hasToken(QByteArrayView value, QByteArrayView token)
{
    while (!value.isEmpty()) {
        const qsizetype comma = value.indexOf(',');
        const QByteArrayView part = (comma < 0 ? value : value.first(comma)).trimmed();
        if (part.compare(token, Qt::CaseInsensitive) == 0)
            return true;
        if (comma < 0)
            break;
        value = value.sliced(comma + 1);
    }
    return false;
}

HttpReply error(StatusCode code, const QString &message, int httpStatus = 0)
{
    return ErrorMapping::toReply(Status::error(code, message), httpStatus);
}

} // namespace

bool tokenPresented(const Headers &headers, const QByteArray &adminToken)
{
    if (adminToken.isEmpty())
        return true;
    bool presented = false; // every field is looked at, whatever matched first
    for (const auto &[k, v] : headers) {
        if (QByteArrayView("authorization").compare(k, Qt::CaseInsensitive) == 0) {
            presented |= AdminToken::authorizes(adminToken, v.trimmed());
        } else if (QByteArrayView("cookie").compare(k, Qt::CaseInsensitive) == 0) {
            for (const QByteArray &pair : v.split(';')) {
                const qsizetype eq = pair.indexOf('=');
                if (eq > 0 && pair.first(eq).trimmed() == kTokenCookie)
                    presented |= AdminToken::equals(adminToken, QByteArray::fromPercentEncoding(pair.sliced(eq + 1).trimmed()));
            }
        }
    }
    return presented;
}

bool originAllowed(QByteArrayView origin, QByteArrayView host, const QStringList &allowedOrigins)
{
    if (origin.trimmed().isEmpty())
        return true; // not a browser
    QString o = QString::fromLatin1(origin).trimmed();
    while (o.endsWith(u'/'))
        o.chop(1);
    for (QString a : allowedOrigins) {
        while (a.endsWith(u'/'))
            a.chop(1);
        if (a == u"*" || a.compare(o, Qt::CaseInsensitive) == 0)
            return true;
    }
    const QUrl u(o);
    const QString scheme = u.scheme().toLower();
    if (!u.isValid() || u.host().isEmpty() || (scheme != u"http" && scheme != u"https"))
        return false;
    const QByteArrayView h = host.trimmed();
    const QUrl served(QStringLiteral("http://") + QString::fromLatin1(h));
    if (h.isEmpty() || !served.isValid())
        return false;
    return u.host().compare(served.host(), Qt::CaseInsensitive) == 0
        && u.port(scheme == u"https" ? 443 : 80) == served.port(80);
}

std::optional<HttpReply> refusal(QStringView path, bool isGet, const Headers &headers, const Rules &rules)
{
    if (!tokenPresented(headers, rules.adminToken))
        return error(StatusCode::Unauthenticated,
                     QStringLiteral("%1 needs the admin token: Authorization: Bearer <token>, or the %2 cookie")
                         .arg(path, QLatin1String(kTokenCookie)));
    if (combined(headers, "upgrade").compare("websocket", Qt::CaseInsensitive) != 0
        || !hasToken(firstField(headers, "connection"), "upgrade")) {
        HttpReply r = error(StatusCode::InvalidArgument,
                            QStringLiteral("GET %1 is a WebSocket endpoint: send Upgrade: websocket").arg(path), 426);
        r.headers.append({QByteArrayLiteral("Upgrade"), QByteArrayLiteral("websocket")});
        return r;
    }
    if (!isGet) {
        HttpReply r = error(StatusCode::InvalidArgument, QStringLiteral("a WebSocket opening handshake is a GET"), 405);
        r.headers.append({QByteArrayLiteral("Allow"), QByteArrayLiteral("GET")});
        return r;
    }
    if (combined(headers, "sec-websocket-version").trimmed() != "13") {
        HttpReply r = error(StatusCode::InvalidArgument, QStringLiteral("only WebSocket version 13 is supported"), 426);
        r.headers.append({QByteArrayLiteral("Sec-WebSocket-Version"), QByteArrayLiteral("13")});
        return r;
    }
    const QByteArray key = combined(headers, "sec-websocket-key").trimmed();
    const auto decoded = QByteArray::fromBase64Encoding(key, QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded || decoded.decoded.size() != 16)
        return error(StatusCode::InvalidArgument, QStringLiteral("missing or invalid Sec-WebSocket-Key"));
    const QByteArray host = firstField(headers, "host").trimmed();
    QUrl authority;
    authority.setAuthority(QString::fromLatin1(host));
    if (fieldCount(headers, "host") != 1 || authority.host().isEmpty() || !authority.userName().isNull())
        return error(StatusCode::InvalidArgument, QStringLiteral("missing or invalid Host header"));
    const QByteArray origin = combined(headers, "origin");
    if (!originAllowed(origin, host, rules.allowedOrigins))
        return error(StatusCode::PermissionDenied,
                     QStringLiteral("Origin %1 may not open the stream").arg(QString::fromLatin1(origin)));
    return std::nullopt;
}

} // namespace StreamHandshake
