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
        malformed = false;
        headError.clear();
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
        const qint64 length = isHead ? 0 : headers.value("content-length").toLongLong();
        if (buffer.size() - end.end >= length) {
            body = buffer.mid(end.end, length);
            buffer.remove(0, end.end + length);
            complete = true;
        }
    }
};
