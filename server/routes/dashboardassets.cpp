#include "server/routes/dashboardassets.h"

#include "server/http/errormapping.h"

#include <QCryptographicHash>
#include <QDirIterator>
#include <QFile>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcDashboard, "sluice.dashboard")

namespace {

// RFC 9110 §13.1.2: If-None-Match uses the weak comparison.
bool matches(const QByteArray &ifNoneMatch, const QByteArray &etag)
{
    if (ifNoneMatch.trimmed() == "*")
        return true;
    const QList<QByteArray> tags = ifNoneMatch.split(',');
    for (QByteArray t : tags) {
        t = t.trimmed();
        if (t.startsWith("W/"))
            t = t.mid(2);
        if (t == etag)
            return true;
    }
    return false;
}

} // namespace

DashboardAssets::DashboardAssets()
{
    const QString root = QStringLiteral(":/dashboard");
    QDirIterator it(root, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly)) {
            qCWarning(lcDashboard) << "cannot read" << path;
            continue;
        }
        File file;
        file.body = f.readAll();
        file.mime = mimeType(path);
        file.etag = '"' + QCryptographicHash::hash(file.body, QCryptographicHash::Sha256).toHex().left(32) + '"';
        m_files.insert(path.mid(root.size()), file);
    }
    if (!m_files.contains(QStringLiteral("/index.html")))
        qCWarning(lcDashboard) << "the dashboard is not built into this binary; GET / answers 404";
}

QByteArray DashboardAssets::mimeType(const QString &name)
{
    if (name.endsWith(u".html"))
        return QByteArrayLiteral("text/html; charset=utf-8");
    if (name.endsWith(u".js") || name.endsWith(u".mjs"))
        return QByteArrayLiteral("text/javascript; charset=utf-8");
    if (name.endsWith(u".css"))
        return QByteArrayLiteral("text/css; charset=utf-8");
    if (name.endsWith(u".svg"))
        return QByteArrayLiteral("image/svg+xml");
    if (name.endsWith(u".png"))
        return QByteArrayLiteral("image/png");
    if (name.endsWith(u".json") || name.endsWith(u".map"))
        return QByteArrayLiteral("application/json");
    return QByteArrayLiteral("application/octet-stream");
}

HttpReply DashboardAssets::reply(const QString &path, const QByteArray &ifNoneMatch) const
{
    const QString key = path == u"/" ? QStringLiteral("/index.html") : path;
    const auto it = m_files.constFind(key);
    if (it == m_files.cend())
        return ErrorMapping::toReply(Status::error(StatusCode::NotFound, QStringLiteral("no dashboard file %1").arg(path)));
    HttpReply r;
    r.contentType = it->mime;
    r.headers.append({QByteArrayLiteral("ETag"), it->etag});
    r.headers.append({QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-cache")});
    if (!ifNoneMatch.isEmpty() && matches(ifNoneMatch, it->etag)) {
        r.status = 304;
        return r;
    }
    r.body = it->body; // implicitly shared, no copy
    return r;
}
