#include "core/quota/redisconnection.h"

#include <QUrl>

#include <hiredis/hiredis.h>

#include <sys/time.h>

#include <cerrno>

#include <vector>

namespace {

timeval toTimeval(Nanos d)
{
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
    timeval tv;
    tv.tv_sec = time_t(us / 1000000);
    tv.tv_usec = suseconds_t(us % 1000000);
    return tv;
}

RedisReply convert(const redisReply *r)
{
    RedisReply out;
    switch (r->type) {
    case REDIS_REPLY_INTEGER:
        out.type = RedisReply::Type::Integer;
        out.integer = r->integer;
        break;
    case REDIS_REPLY_STRING:
        out.type = RedisReply::Type::String;
        out.text = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_STATUS:
        out.type = RedisReply::Type::Status;
        out.text = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_ERROR:
        out.type = RedisReply::Type::Error;
        out.text = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_ARRAY:
        out.type = RedisReply::Type::Array;
        out.elements.reserve(qsizetype(r->elements));
        for (size_t i = 0; i < r->elements; ++i)
            out.elements.append(convert(r->element[i]));
        break;
    default:
        break;
    }
    return out;
}

} // namespace

namespace {

// `text` with whatever stands between "://" and the last "@" of its
// authority masked: errors repeat what was given, never its password.
QString withoutPassword(const QString &text)
{
    const qsizetype scheme = text.indexOf(QLatin1StringView("://"));
    const qsizetype start = scheme < 0 ? 0 : scheme + 3;
    qsizetype end = text.indexOf(u'/', start);
    if (end < 0)
        end = text.size();
    const qsizetype at = text.lastIndexOf(u'@', end - 1);
    if (at < start)
        return text;
    const qsizetype colon = text.indexOf(u':', start);
    const qsizetype from = colon >= 0 && colon < at ? colon + 1 : start;
    return text.left(from) + QStringLiteral("***") + text.mid(at);
}

} // namespace

std::optional<RedisUrl> RedisUrl::parse(const QString &text, QString *error)
{
    const QUrl url(text, QUrl::StrictMode);
    const auto fail = [&](const QString &why) -> std::optional<RedisUrl> {
        *error = QStringLiteral("%1 is not a Redis address: %2 (expected redis://[:PASSWORD@]HOST[:PORT][/DB])")
                     .arg(withoutPassword(text), why);
        return std::nullopt;
    };
    if (!url.isValid())
        return fail(withoutPassword(url.errorString())); // QUrl's message quotes the text
    if (url.scheme() != u"redis")
        return fail(QStringLiteral("the scheme must be redis:// (TLS to Redis is not supported; use a local stunnel or a private network)"));
    if (url.host().isEmpty())
        return fail(QStringLiteral("no host"));
    if (url.hasQuery() || url.hasFragment())
        return fail(QStringLiteral("no query or fragment is understood"));
    RedisUrl r;
    r.host = url.host();
    r.port = url.port(6379);
    if (r.port < 1 || r.port > 65535)
        return fail(QStringLiteral("the port must be 1..65535"));
    const QString path = url.path();
    if (!path.isEmpty() && path != u"/") {
        bool ok = false;
        r.db = path.mid(1).toInt(&ok);
        if (!ok || r.db < 0 || r.db > 15)
            return fail(QStringLiteral("the database must be a number 0..15, not \"%1\"").arg(path.mid(1)));
    }
    r.user = url.userName();
    r.password = url.password();
    return r;
}

QString RedisUrl::display() const
{
    return QStringLiteral("redis://%1%2:%3/%4")
        .arg(password.isEmpty() ? QString() : QStringLiteral("***@"),
             host.contains(u':') ? u'[' + host + u']' : host)
        .arg(port)
        .arg(db);
}

long long RedisReply::toInteger() const
{
    if (type == Type::Integer)
        return integer;
    if (type == Type::String || type == Type::Status)
        return text.toLongLong();
    return 0;
}

RedisConnection::~RedisConnection()
{
    close();
}

void RedisConnection::close()
{
    if (m_context) {
        redisFree(m_context);
        m_context = nullptr;
    }
}

bool RedisConnection::connect(const RedisUrl &url, Nanos timeout, QString *error)
{
    close();
    const QByteArray host = url.host.toUtf8();
    redisContext *c = redisConnectWithTimeout(host.constData(), url.port, toTimeval(timeout));
    if (!c) {
        *error = QStringLiteral("cannot allocate a Redis connection");
        return false;
    }
    if (c->err) {
        *error = QStringLiteral("cannot connect to %1: %2").arg(url.display(), QString::fromLocal8Bit(c->errstr));
        redisFree(c);
        return false;
    }
    redisSetTimeout(c, toTimeval(timeout));
    m_context = c;
    m_display = url.display();
    m_timeout = timeout;
    const auto expectOk = [&](const QList<QByteArray> &args, const char *what) {
        const std::optional<RedisReply> r = command(args, error);
        if (!r)
            return false;
        if (r->isError()) {
            *error = QStringLiteral("%1 refused %2: %3").arg(url.display(), QLatin1String(what), QString::fromUtf8(r->text));
            close();
            return false;
        }
        return true;
    };
    if (!url.password.isEmpty()) {
        QList<QByteArray> auth{QByteArrayLiteral("AUTH")};
        if (!url.user.isEmpty())
            auth.append(url.user.toUtf8());
        auth.append(url.password.toUtf8());
        if (!expectOk(auth, "AUTH"))
            return false;
    }
    if (url.db != 0 && !expectOk({QByteArrayLiteral("SELECT"), QByteArray::number(url.db)}, "SELECT"))
        return false;
    return true;
}

std::optional<RedisReply> RedisConnection::command(const QList<QByteArray> &args, QString *error)
{
    if (!m_context) {
        *error = QStringLiteral("not connected");
        return std::nullopt;
    }
    std::vector<const char *> argv;
    std::vector<size_t> lengths;
    argv.reserve(size_t(args.size()));
    lengths.reserve(size_t(args.size()));
    for (const QByteArray &a : args) {
        argv.push_back(a.constData());
        lengths.push_back(size_t(a.size()));
    }
    auto *reply = static_cast<redisReply *>(redisCommandArgv(m_context, int(args.size()), argv.data(), lengths.data()));
    if (!reply) {
        const bool timedOut = m_context->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
        if (timedOut)
            *error = QStringLiteral("no answer from %1 within %2 ms")
                         .arg(m_display)
                         .arg(std::chrono::duration_cast<std::chrono::milliseconds>(m_timeout).count());
        else if (m_context->errstr[0])
            *error = QStringLiteral("%1: %2").arg(m_display, QString::fromLocal8Bit(m_context->errstr));
        else
            *error = QStringLiteral("%1: the connection failed").arg(m_display);
        close();
        return std::nullopt;
    }
    RedisReply out = convert(reply);
    freeReplyObject(reply);
    return out;
}
