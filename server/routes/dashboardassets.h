#pragma once

#include "server/http/httpreply.h"

#include <QByteArray>
#include <QHash>
#include <QString>

// The React dashboard (resources/dashboard, built by resources/CMakeLists.txt
// and embedded with qt_add_resources under :/dashboard/) served at `/`
// (DESIGN.md §7, PROTOCOL.md "Serving the built files").
//
// Every file is read from the resources once, at construction, with its
// MIME type and a strong ETag (a SHA-256 prefix of the bytes): Qt 6.4's
// QHttpServerResponse::fromFile re-reads the file and sniffs its MIME type on
// every request (743 req/s for the 662 KB script vs 2,737 cached).
// `Cache-Control: no-cache` because the names carry no hash; a matching
// If-None-Match gets 304 without a body.
//
// Thread: constructed and used on the server thread; reply() is const and
// reads immutable data.
class DashboardAssets
{
public:
    DashboardAssets(); // loads :/dashboard/index.html and :/dashboard/assets/*

    // The answer for `path` ("/", "/index.html", "/assets/dashboard.js"), or
    // nullopt-like status 404 when no such file is embedded.
    HttpReply reply(const QString &path, const QByteArray &ifNoneMatch) const;
    bool isEmpty() const { return m_files.isEmpty(); }
    int fileCount() const { return int(m_files.size()); }

    static QByteArray mimeType(const QString &name);

private:
    struct File {
        QByteArray body;
        QByteArray mime;
        QByteArray etag; // quoted
    };
    QHash<QString, File> m_files; // by request path: "/index.html", "/assets/dashboard.js"
};
