#pragma once

// A raw HTTP/1.1 client over one QTcpSocket for the gateway tests: sends
// exactly the bytes a test wants (malformed input, headers without a body,
// hundreds of concurrent connections past QNetworkAccessManager's six per
// host) and parses one response at a time, its head with Sluice's strict
// header reader (a head the gateway writes badly is `malformed`, named in
// `headError`). Lives on the test's thread; the test pumps events with QTRY_*.
#include "core/http/httpheaderblock.h"

#include <QByteArray>
#include <QHostAddress>
#include <QMap>
#include <QObject>
#include <QTcpSocket>
#include <QUrl>

class RawHttp : public QObject
{
public:
    explicit RawHttp(const QUrl &base)
    {
        QObject::connect(&socket, &QTcpSocket::readyRead, this, [this] {
            buffer += socket.readAll();
            parse();
        });
        QObject::connect(&socket, &QTcpSocket::disconnected, this, [this] { closed = true; });
        socket.connectToHost(QHostAddress::LocalHost, quint16(base.port()));
    }

    void send(const QByteArray &raw)
    {
        complete = false;
        status = 0;
        headers.clear();
        body.clear();
        pieces = 0;
        chunkedConsumed = 0;
        malformed = false;
        headError.clear();
        if (!buffer.isEmpty())
            parse(); // a pipelined answer already received
        if (!raw.isEmpty())
            socket.write(raw);
    }

    void request(const QByteArray &method, const QByteArray &path, const QByteArray &payload = {},
                 const QList<QPair<QByteArray, QByteArray>> &extra = {{"Content-Type", "application/json"}})
    {
        QByteArray raw = method + ' ' + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        for (const auto &[k, v] : extra)
            raw += k + ": " + v + "\r\n";
        if (!payload.isEmpty() || method == "POST" || method == "PATCH")
            raw += "Content-Length: " + QByteArray::number(payload.size()) + "\r\n";
        raw += "\r\n" + payload;
        send(raw);
    }

    QByteArray header(const QByteArray &name) const { return headers.value(name.toLower()); }

    QTcpSocket socket;
    QByteArray buffer;
    bool complete = false;
    bool closed = false;
    bool isHead = false;
    int status = 0;
    QMap<QByteArray, QByteArray> headers; // lower-case names
    QByteArray body;
    int pieces = 0;               // chunks of a chunked body received so far
    qsizetype chunkedConsumed = 0; // bytes of a chunked body (after the head) already parsed
    QByteArray rawHead;
    bool malformed = false;
    QString headError;

private:
    void parse()
    {
        if (complete)
            return;
        const HttpHeaderBlock::End end = HttpHeaderBlock::findEnd(buffer);
        if (end.error != HttpHeaderBlock::Error::None) {
            malformed = true;
            headError = HttpHeaderBlock::describe(end.error);
            return;
        }
        if (end.end < 0)
            return;
        if (status == 0) {
            rawHead = buffer.left(end.end - 4);
            HttpHeaderBlock head(QByteArrayView(buffer).first(end.end));
            status = head.startLine().toByteArray().split(' ').value(1).toInt();
            HttpHeaderBlock::Field f;
            while (head.next(&f))
                headers.insert(f.name.toByteArray().toLower(), f.value.toByteArray());
            if (head.error() != HttpHeaderBlock::Error::None) {
                malformed = true;
                headError = head.errorString();
            }
        }
        if (!isHead && headers.value("transfer-encoding").toLower() == "chunked") {
            // Chunked: the pieces so far go to `body` (and `pieces`) as they come.
            qsizetype pos = end.end + chunkedConsumed;
            for (;;) {
                const qsizetype lineEnd = buffer.indexOf("\r\n", pos);
                if (lineEnd < 0)
                    return;
                bool ok = false;
                const qint64 size = buffer.mid(pos, lineEnd - pos).split(';').value(0).trimmed().toLongLong(&ok, 16);
                if (!ok) {
                    malformed = true;
                    headError = QStringLiteral("bad chunk size line");
                    return;
                }
                if (size == 0) {
                    if (buffer.size() < lineEnd + 4)
                        return;
                    buffer.remove(0, lineEnd + 4);
                    chunkedConsumed = 0;
                    complete = true;
                    return;
                }
                if (buffer.size() < lineEnd + 2 + size + 2)
                    return;
                body += buffer.mid(lineEnd + 2, size);
                ++pieces;
                pos = lineEnd + 2 + size + 2;
                chunkedConsumed = pos - end.end;
            }
        }
        const qint64 length = isHead ? 0 : headers.value("content-length").toLongLong();
        if (buffer.size() - end.end >= length) {
            body = buffer.mid(end.end, length);
            buffer.remove(0, end.end + length);
            complete = true;
        }
    }
};
