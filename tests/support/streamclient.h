#pragma once

// Test helpers for GET /api/v1/stream: a QWebSocket that records every JSON
// message, and a raw WebSocket over one QTcpSocket for what QWebSocket cannot
// do (stall: stop reading while the server keeps sending; handshakes with
// arbitrary headers). Both live on the test's thread; tests pump with QTRY_*.
#include "core/drift/performancebaseline.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkRequest>
#include <QTcpSocket>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>
#include <QtEndian>

class StreamClient : public QObject
{
public:
    // `adminToken`: sent as Authorization: Bearer (a gateway with a token needs it).
    explicit StreamClient(const QUrl &httpBase, const QString &origin = {}, const QByteArray &adminToken = {}) : ws(origin)
    {
        QObject::connect(&ws, &QWebSocket::textMessageReceived, this, [this](const QString &text) {
            const QJsonObject o = QJsonDocument::fromJson(text.toUtf8()).object();
            messages << o;
            arrivalMs << clock.elapsed();
        });
        QObject::connect(&ws, &QWebSocket::connected, this, [this] { connected = true; });
        QObject::connect(&ws, &QWebSocket::disconnected, this, [this] { closed = true; });
        QObject::connect(&ws, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this, [this] { failed = true; });
        clock.start();
        QUrl u = httpBase;
        u.setScheme(QStringLiteral("ws"));
        u.setPath(QStringLiteral("/api/v1/stream"));
        QNetworkRequest request(u);
        if (!adminToken.isEmpty())
            request.setRawHeader("Authorization", "Bearer " + adminToken);
        ws.open(request);
    }

    QList<QJsonObject> ofType(const QString &type) const
    {
        QList<QJsonObject> out;
        for (const QJsonObject &m : messages)
            if (m.value(QStringLiteral("type")).toString() == type)
                out << m;
        return out;
    }
    int count(const QString &type) const { return int(ofType(type).size()); }

    QWebSocket ws;
    QElapsedTimer clock;
    QList<QJsonObject> messages;
    QList<qint64> arrivalMs;
    bool connected = false;
    bool closed = false;
    bool failed = false;
};

// A WebSocket client on a raw socket: sends a handshake, then reads frames
// only while `reading` is true (Qt's read buffer is capped at 1 KB while
// stalled, so the kernel buffers fill and the server's backlog grows).
class RawStreamClient : public QObject
{
public:
    RawStreamClient(const QUrl &httpBase, const QList<QPair<QByteArray, QByteArray>> &extraHeaders = {},
                    bool upgrade = true)
    {
        QObject::connect(&socket, &QTcpSocket::readyRead, this, [this] { pump(); });
        QObject::connect(&socket, &QTcpSocket::disconnected, this, [this] { closed = true; });
        QObject::connect(&socket, &QTcpSocket::connected, this, [this, httpBase, extraHeaders, upgrade] {
            QByteArray req = "GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(httpBase.port()) + "\r\n";
            if (upgrade)
                req += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
            for (const auto &[k, v] : extraHeaders)
                req += k + ": " + v + "\r\n";
            socket.write(req + "\r\n");
        });
        socket.connectToHost(QHostAddress::LocalHost, quint16(httpBase.port()));
    }

    void stall()
    {
        reading = false;
        socket.setReadBufferSize(1024);
    }
    void resume()
    {
        reading = true;
        socket.setReadBufferSize(0);
        // A socket whose read buffer was full may not re-arm its notifier by itself: poll too.
        poll.setInterval(10);
        QObject::connect(&poll, &QTimer::timeout, this, [this] {
            socket.waitForReadyRead(0); // pulls from the kernel even if the notifier stayed off
            pump();
        });
        poll.start();
    }
    // Sends one masked client frame.
    void sendFrame(quint8 opcode, const QByteArray &payload)
    {
        QByteArray f;
        f += char(0x80 | opcode);
        const quint8 mask[4] = {0x12, 0x34, 0x56, 0x78};
        if (payload.size() < 126) {
            f += char(0x80 | payload.size());
        } else {
            f += char(0x80 | 126);
            f += char(payload.size() >> 8);
            f += char(payload.size() & 0xFF);
        }
        f += QByteArray(reinterpret_cast<const char *>(mask), 4);
        for (qsizetype i = 0; i < payload.size(); ++i)
            f += char(payload.at(i) ^ mask[i % 4]);
        socket.write(f);
    }

    QList<QJsonObject> ofType(const QString &type) const
    {
        QList<QJsonObject> out;
        for (const QJsonObject &m : messages)
            if (m.value(QStringLiteral("type")).toString() == type)
                out << m;
        return out;
    }

    QTcpSocket socket;
    QTimer poll;
    QByteArray buffer;
    QByteArray head;   // the HTTP answer's head, once complete
    QByteArray body;   // an error answer's body
    int status = 0;
    bool reading = true;
    bool closed = false;
    QList<QJsonObject> messages;
    QList<quint8> opcodes;

private:
    void pump()
    {
        if (!reading)
            return;
        buffer += socket.readAll();
        if (status == 0) {
            const qsizetype end = buffer.indexOf("\r\n\r\n");
            if (end < 0)
                return;
            head = buffer.left(end);
            status = head.split(' ').value(1).toInt();
            buffer.remove(0, end + 4);
        }
        if (status != 101) {
            body += buffer;
            buffer.clear();
            return;
        }
        for (;;) {
            if (buffer.size() < 2)
                return;
            const auto *p = reinterpret_cast<const uchar *>(buffer.constData());
            quint64 len = p[1] & 0x7F;
            qsizetype pos = 2;
            if (len == 126) {
                if (buffer.size() < 4)
                    return;
                len = qFromBigEndian<quint16>(p + 2);
                pos = 4;
            } else if (len == 127) {
                if (buffer.size() < 10)
                    return;
                len = qFromBigEndian<quint64>(p + 2);
                pos = 10;
            }
            if (buffer.size() < pos + qsizetype(len))
                return;
            const quint8 opcode = p[0] & 0x0F;
            opcodes << opcode;
            if (opcode == 1)
                messages << QJsonDocument::fromJson(buffer.mid(pos, qsizetype(len))).object();
            buffer.remove(0, pos + qsizetype(len));
        }
    }
};

// A baseline whose healthy latency is far below anything real, so the live
// window reads as drift after one judged window.
inline PerformanceBaseline tinyBaseline()
{
    PerformanceBaseline b;
    b.createdAt = QDateTime::fromString(QStringLiteral("2026-01-01T12:00:00.000Z"), Qt::ISODateWithMs);
    b.sluiceVersion = QStringLiteral("0.1.0");
    BaselineStep s;
    s.users = 10;
    s.offeredRps = 100;
    s.achievedRps = 100;
    s.p50Ms = 0.001;
    s.p95Ms = 0.001;
    s.p99Ms = 0.001;
    b.steps << s;
    b.healthy.p50Ms = 0.001;
    b.healthy.p95Ms = 0.001;
    b.healthy.p99Ms = 0.001;
    b.healthy.histogram.boundsMs = {0.001, 0.01, 0.1};
    b.healthy.histogram.counts = {1000, 0, 0, 0};
    b.drift.minSamples = 1;
    b.drift.enterWindows = 1;
    b.drift.exitWindows = 1;
    return b;
}
