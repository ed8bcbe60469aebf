#pragma once

// Qt 6.4.2's own rules for a WebSocket upgrade request, the oracles that an
// accepted StreamHandshake must satisfy (an accepted request is handed to
// Qt's QWebSocketServer, which closes what it rejects without an answer).
// Shared by tests/server/stream/tst_streamhandshake.cpp and
// tests/fuzz/fuzz_streamhandshake.cpp.
#include "server/stream/streamhandshake.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QUrl>

namespace QtUpgradeRules {

using Headers = StreamHandshake::Headers;

// Every value of the fields named `name` (case-insensitive), in order.
inline QList<QByteArray> values(const Headers &h, const char *name)
{
    QList<QByteArray> out;
    for (const auto &[k, v] : h)
        if (k.compare(name, Qt::CaseInsensitive) == 0)
            out << v;
    return out;
}

// qthttpserver v6.4.2: QHttpServerRequestPrivate::readHeader sets `upgrade`
// when the combined Connection value contains "upgrade"; handleReadyRead then
// takes the WebSocket branch when the combined Upgrade value is "websocket".
inline bool qtHttpServerUpgrades(const Headers &h)
{
    return values(h, "connection").join(", ").toLower().contains("upgrade")
        && values(h, "upgrade").join(", ").compare("websocket", Qt::CaseInsensitive) == 0;
}

// qtwebsockets v6.4.2: QWebSocketHandshakeRequest::readHandshake's m_isValid
// (first Host/Upgrade/Connection/Key fields; every version token a number)
// and QWebSocketHandshakeResponse's version match (13 only).
inline bool qtWebSocketServerAccepts(bool isGet, const Headers &h)
{
    const auto first = [&](const char *n) { return values(h, n).value(0); };
    QUrl url(QStringLiteral("/api/v1/stream"));
    url.setAuthority(QString::fromLatin1(first("host")));
    if (!url.userName().isNull() || url.host().isEmpty())
        return false;
    bool has13 = false;
    for (const QByteArray &line : values(h, "sec-websocket-version"))
        for (const QByteArray &v : line.split(',')) {
            if (v.trimmed().isEmpty())
                continue;
            bool ok = false;
            has13 |= v.trimmed().toUInt(&ok) == 13;
            if (!ok)
                return false;
        }
    bool connectionUpgrade = false;
    for (const QByteArray &t : first("connection").split(','))
        connectionUpgrade |= t.trimmed().compare("upgrade", Qt::CaseInsensitive) == 0;
    return isGet && has13 && !first("sec-websocket-key").isEmpty()
        && first("upgrade").compare("websocket", Qt::CaseInsensitive) == 0 && connectionUpgrade;
}

} // namespace QtUpgradeRules
