#include "core/http/http1responseparser.h"

#include <QtTest>

// Http1ResponseParser: every framing, the limits and malformed input, each
// fed in one piece, byte by byte and split at every position in two.

namespace {

using Progress = Http1ResponseParser::Progress;

struct Outcome {
    Progress progress = Progress::NeedMore;
    int status = 0;
    QByteArray body;
    bool keepAlive = false;
    QString error;
    Http1ResponseParser::Headers headers;
    Http1ResponseParser::Headers trailers;
    qsizetype excess = 0;

    bool operator==(const Outcome &o) const
    {
        return progress == o.progress && status == o.status && body == o.body && keepAlive == o.keepAlive
            && error == o.error && headers == o.headers && trailers == o.trailers && excess == o.excess;
    }
};

// Feeds `pieces` in order (stopping at the first non-NeedMore answer), then
// finish() when `closeAtEnd` and the response is still incomplete.
Outcome run(const QList<QByteArrayView> &pieces, bool closeAtEnd, Http1ResponseParser::Limits limits)
{
    Http1ResponseParser p(limits);
    Progress progress = Progress::NeedMore;
    QByteArray body;
    for (QByteArrayView piece : pieces) {
        progress = p.feed(piece);
        body += p.takeBody(); // as a streaming reader does
        if (progress == Progress::Error)
            break;
    }
    if (progress == Progress::NeedMore && closeAtEnd) {
        progress = p.finish();
        body += p.takeBody();
    }
    Outcome o;
    o.progress = progress;
    o.status = p.headersComplete() ? p.statusCode() : 0;
    o.body = body;
    o.keepAlive = progress == Progress::Complete && p.keepAlive();
    o.error = p.errorString();
    o.headers = p.headersComplete() ? p.headers() : Http1ResponseParser::Headers{};
    o.trailers = p.trailers();
    o.excess = p.excessBytes();
    return o;
}

QByteArray repeated(char c, qsizetype n)
{
    return QByteArray(n, c);
}

} // namespace

Q_DECLARE_METATYPE(Http1ResponseParser::Progress)

class TestHttp1ResponseParser : public QObject
{
    Q_OBJECT

private slots:
    void parses_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<bool>("closeAtEnd");   // the peer closes after the input
        QTest::addColumn<qsizetype>("maxHeaderBytes");
        QTest::addColumn<qint64>("maxBodyBytes");
        QTest::addColumn<Progress>("progress");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<bool>("keepAlive");
        QTest::addColumn<QString>("error");     // substring of errorString(); empty: none

        const qsizetype H = 64 * 1024;
        const qint64 B = 256LL * 1024 * 1024;
        const QByteArray json = R"({"candidates":[{"content":{"parts":[{"text":"hi"}]}}]})";

        QTest::newRow("content-length")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                          + QByteArray::number(json.size()) + "\r\n\r\n" + json)
            << false << H << B << Progress::Complete << 200 << json << true << QString();
        QTest::newRow("content-length 0")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            << false << H << B << Progress::Complete << 200 << QByteArray() << true << QString();
        QTest::newRow("content-length, bare LF line ends")
            << QByteArray("HTTP/1.1 404 Not Found\nContent-Length: 3\n\nabc")
            << false << H << B << Progress::Complete << 404 << QByteArray("abc") << true << QString();
        QTest::newRow("content-length list of equal values")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc")
            << false << H << B << Progress::Complete << 200 << QByteArray("abc") << true << QString();
        QTest::newRow("content-length incomplete")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
            << false << H << B << Progress::NeedMore << 200 << QByteArray("abc") << false << QString();
        QTest::newRow("content-length, peer closed early")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
            << true << H << B << Progress::Error << 200 << QByteArray("abc") << false
            << QStringLiteral("connection closed before the response was complete");
        QTest::newRow("no reason phrase")
            << QByteArray("HTTP/1.1 204\r\n\r\n")
            << false << H << B << Progress::Complete << 204 << QByteArray() << true << QString();
        QTest::newRow("304 has no body")
            << QByteArray("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n")
            << false << H << B << Progress::Complete << 304 << QByteArray() << true << QString();

        QTest::newRow("chunked")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n")
            << false << H << B << Progress::Complete << 200 << QByteArray("hello world") << true << QString();
        QTest::newRow("chunked, upper-case hex, extensions, trailers")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
                          "F;name=value;x=\"q;uoted\"\r\n0123456789ABCDE\r\n1a \r\nabcdefghijklmnopqrstuvwxyz\r\n"
                          "0;last\r\nX-Checksum: 42\r\nServer-Timing: total;dur=12\r\n\r\n")
            << false << H << B << Progress::Complete << 200 << QByteArray("0123456789ABCDEabcdefghijklmnopqrstuvwxyz")
            << true << QString();
        QTest::newRow("chunked SSE, as the simulator streams")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
                          "Server: sluice-gemini-simulator\r\n\r\n"
                          "f\r\ndata: {\"a\":1}\n\n\r\nf\r\ndata: {\"b\":2}\n\n\r\n0\r\n\r\n")
            << false << H << B << Progress::Complete << 200 << QByteArray("data: {\"a\":1}\n\ndata: {\"b\":2}\n\n")
            << true << QString();
        QTest::newRow("chunked overrides content-length, not reused")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
            << false << H << B << Progress::Complete << 200 << QByteArray("abc") << false << QString();
        QTest::newRow("chunked, peer closed mid-chunk")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
            << true << H << B << Progress::Error << 200 << QByteArray("hel") << false
            << QStringLiteral("connection closed before the response was complete");
        QTest::newRow("bad chunk size")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n")
            << false << H << B << Progress::Error << 200 << QByteArray() << false << QStringLiteral("malformed chunk size");
        QTest::newRow("negative chunk size")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nabc\r\n0\r\n\r\n")
            << false << H << B << Progress::Error << 200 << QByteArray() << false << QStringLiteral("malformed chunk size");
        QTest::newRow("empty chunk size")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\nabc\r\n0\r\n\r\n")
            << false << H << B << Progress::Error << 200 << QByteArray() << false << QStringLiteral("malformed chunk size");
        QTest::newRow("overflowing chunk size")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nabc\r\n")
            << false << H << B << Progress::Error << 200 << QByteArray() << false << QStringLiteral("malformed chunk size");
        QTest::newRow("chunk data longer than its size")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n")
            << false << H << B << Progress::Error << 200 << QByteArray("ab") << false << QStringLiteral("malformed chunk");

        QTest::newRow("read until close")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + json)
            << true << H << B << Progress::Complete << 200 << json << false << QString();
        QTest::newRow("read until close, still open")
            << QByteArray("HTTP/1.1 200 OK\r\n\r\nabc")
            << false << H << B << Progress::NeedMore << 200 << QByteArray("abc") << false << QString();
        QTest::newRow("unknown transfer coding: until close")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz")
            << true << H << B << Progress::Complete << 200 << QByteArray("zzz") << false << QString();

        QTest::newRow("100 Continue then 200")
            << QByteArray("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            << false << H << B << Progress::Complete << 200 << QByteArray("ok") << true << QString();
        QTest::newRow("101 is an error")
            << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n")
            << false << H << B << Progress::Error << 0 << QByteArray() << false << QStringLiteral("101");

        QTest::newRow("HTTP/1.0: closes by default")
            << QByteArray("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
            << false << H << B << Progress::Complete << 200 << QByteArray("ok") << false << QString();
        QTest::newRow("HTTP/1.0 with keep-alive")
            << QByteArray("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok")
            << false << H << B << Progress::Complete << 200 << QByteArray("ok") << true << QString();
        QTest::newRow("HTTP/1.0 until close")
            << QByteArray("HTTP/1.0 200 OK\r\n\r\nok")
            << true << H << B << Progress::Complete << 200 << QByteArray("ok") << false << QString();
        QTest::newRow("Connection: close")
            << QByteArray("HTTP/1.1 503 Service Unavailable\r\nConnection: foo, CLOSE\r\nContent-Length: 2\r\n\r\nno")
            << false << H << B << Progress::Complete << 503 << QByteArray("no") << false << QString();

        QTest::newRow("headers too large (default limit)")
            << QByteArray("HTTP/1.1 200 OK\r\nX-Big: " + repeated('a', 70 * 1024) + "\r\nContent-Length: 0\r\n\r\n")
            << false << H << B << Progress::Error << 0 << QByteArray() << false
            << QStringLiteral("response headers larger than 65536 bytes");
        QTest::newRow("headers too large, no line end yet")
            << QByteArray("HTTP/1.1 200 OK\r\nX-Big: " + repeated('a', 200))
            << false << qsizetype(128) << B << Progress::Error << 0 << QByteArray() << false
            << QStringLiteral("response headers larger than 128 bytes");
        QTest::newRow("headers exactly at the limit")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            << false << qsizetype(38) << B << Progress::Complete << 200 << QByteArray() << true << QString();
        QTest::newRow("trailers too large")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: " + repeated('t', 100) + "\r\n\r\n")
            << false << qsizetype(64) << B << Progress::Error << 200 << QByteArray() << false
            << QStringLiteral("response trailers larger than 64 bytes");

        QTest::newRow("malformed status line: garbage")
            << QByteArray("<html>hello</html>\r\n\r\n")
            << false << H << B << Progress::Error << 0 << QByteArray() << false << QStringLiteral("malformed status line");
        QTest::newRow("malformed status line: HTTP/2")
            << QByteArray("HTTP/2 200 OK\r\n\r\n")
            << false << H << B << Progress::Error << 0 << QByteArray() << false << QStringLiteral("malformed status line");
        QTest::newRow("malformed status line: two-digit code")
            << QByteArray("HTTP/1.1 20 OK\r\n\r\n")
            << false << H << B << Progress::Error << 0 << QByteArray() << false << QStringLiteral("malformed status line");
        QTest::newRow("malformed status line: code 600")
            << QByteArray("HTTP/1.1 600 Nope\r\n\r\n")
            << false << H << B << Progress::Error << 0 << QByteArray() << false << QStringLiteral("malformed status line");
        QTest::newRow("malformed header: no colon")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length 2\r\n\r\nok")
            << false << H << B << Progress::Error << 0 << QByteArray() << false << QStringLiteral("malformed header line");
        QTest::newRow("malformed header: space before colon")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok")
            << false << H << B << Progress::Error << 0 << QByteArray() << false << QStringLiteral("malformed header line");
        QTest::newRow("closed without a response")
            << QByteArray()
            << true << H << B << Progress::Error << 0 << QByteArray() << false
            << QStringLiteral("connection closed without a response");
        QTest::newRow("closed inside the headers")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Len")
            << true << H << B << Progress::Error << 0 << QByteArray() << false
            << QStringLiteral("connection closed before the response was complete");

        QTest::newRow("negative content-length")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n")
            << false << H << B << Progress::Error << 200 << QByteArray() << false << QStringLiteral("invalid Content-Length");
        QTest::newRow("signed content-length")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok")
            << false << H << B << Progress::Error << 200 << QByteArray() << false << QStringLiteral("invalid Content-Length");
        QTest::newRow("overflowing content-length")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n")
            << false << H << B << Progress::Error << 200 << QByteArray() << false << QStringLiteral("invalid Content-Length");
        QTest::newRow("conflicting content-lengths")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokk")
            << false << H << B << Progress::Error << 200 << QByteArray() << false << QStringLiteral("invalid Content-Length");
        QTest::newRow("empty content-length")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n")
            << false << H << B << Progress::Error << 200 << QByteArray() << false << QStringLiteral("invalid Content-Length");

        QTest::newRow("body cap: content-length")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 300000000\r\n\r\n")
            << false << H << B << Progress::Error << 200 << QByteArray() << false
            << QStringLiteral("response body larger than 268435456 bytes");
        QTest::newRow("body cap: chunked")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n4\r\nefgh\r\n0\r\n\r\n")
            << false << H << qint64(6) << Progress::Error << 200 << QByteArray("abcd") << false
            << QStringLiteral("response body larger than 6 bytes");
        QTest::newRow("body cap: until close")
            << QByteArray("HTTP/1.1 200 OK\r\n\r\nabcdefgh")
            << true << H << qint64(6) << Progress::Error << 200 << QByteArray() << false
            << QStringLiteral("response body larger than 6 bytes");
        QTest::newRow("body exactly at the cap")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef")
            << false << H << qint64(6) << Progress::Complete << 200 << QByteArray("abcdef") << true << QString();
    }

    void parses()
    {
        QFETCH(QByteArray, input);
        QFETCH(bool, closeAtEnd);
        QFETCH(qsizetype, maxHeaderBytes);
        QFETCH(qint64, maxBodyBytes);
        QFETCH(Progress, progress);
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(bool, keepAlive);
        QFETCH(QString, error);

        const Http1ResponseParser::Limits limits{maxHeaderBytes, maxBodyBytes};
        const Outcome whole = run({input}, closeAtEnd, limits);
        QCOMPARE(whole.progress, progress);
        QCOMPARE(whole.status, status);
        QCOMPARE(whole.body, body);
        QCOMPARE(whole.keepAlive, keepAlive);
        if (error.isEmpty())
            QCOMPARE(whole.error, QString());
        else
            QVERIFY2(whole.error.contains(error), qPrintable(whole.error));

        // Byte by byte: the same answer. (A cap error may come with fewer body
        // bytes delivered, since the bytes before the cap were already taken.)
        QList<QByteArrayView> bytes;
        for (qsizetype i = 0; i < input.size(); ++i)
            bytes.append(QByteArrayView(input).sliced(i, 1));
        const Outcome byByte = run(bytes, closeAtEnd, limits);
        QCOMPARE(byByte.progress, whole.progress);
        QCOMPARE(byByte.error, whole.error);
        QCOMPARE(byByte.status, whole.status);
        QCOMPARE(byByte.keepAlive, whole.keepAlive);
        QCOMPARE(byByte.headers, whole.headers);
        QCOMPARE(byByte.trailers, whole.trailers);
        if (progress != Progress::Error)
            QCOMPARE(byByte.body, whole.body);

        // Split in two at every position.
        if (input.size() > 2048)
            return;
        for (qsizetype k = 0; k <= input.size(); ++k) {
            const QByteArrayView v(input);
            const Outcome split = run({v.first(k), v.sliced(k)}, closeAtEnd, limits);
            QVERIFY2(split.progress == whole.progress && split.error == whole.error && split.status == whole.status
                         && split.keepAlive == whole.keepAlive && split.headers == whole.headers
                         && split.trailers == whole.trailers
                         && (progress == Progress::Error || split.body == whole.body),
                     qPrintable(QStringLiteral("split at %1: %2").arg(k).arg(split.error)));
        }
    }

    void headersAreCaseInsensitiveAndKeptInOrder()
    {
        Http1ResponseParser p;
        QCOMPARE(p.feed("HTTP/1.1 429 Too Many Requests\r\nRETRY-AFTER:  7 \r\nX-A: 1\r\nx-a: 2\r\n"
                        "X-Folded: one\r\n  two\r\nContent-Length: 0\r\n\r\n"),
                 Progress::Complete);
        QCOMPARE(p.statusCode(), 429);
        QCOMPARE(p.header("retry-after"), QByteArray("7"));
        QCOMPARE(p.header("x-a"), QByteArray("1"));
        QCOMPARE(p.header("x-folded"), QByteArray("one two"));
        QCOMPARE(p.header("missing"), QByteArray());
        QCOMPARE(p.headers().size(), 5);
        QCOMPARE(p.headers().at(2).first, QByteArray("x-a"));
        QCOMPARE(p.headers().at(2).second, QByteArray("2"));
    }

    void trailersAreParsed()
    {
        Http1ResponseParser p;
        QCOMPARE(p.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Checksum: 42\r\n\r\n"),
                 Progress::Complete);
        QCOMPARE(p.trailers().size(), 1);
        QCOMPARE(p.trailers().first().first, QByteArray("x-checksum"));
        QCOMPARE(p.trailers().first().second, QByteArray("42"));
        QCOMPARE(p.header("x-checksum"), QByteArray()); // trailers are not headers
    }

    void streamingReaderTakesBodyAsItArrives()
    {
        Http1ResponseParser p;
        QCOMPARE(p.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\ndata: "), Progress::NeedMore);
        QVERIFY(p.headersComplete());
        QCOMPARE(p.takeBody(), QByteArray("data: "));
        QCOMPARE(p.feed("\r\n3\r\n{}\n\r\n"), Progress::NeedMore);
        QCOMPARE(p.takeBody(), QByteArray("{}\n"));
        QCOMPARE(p.feed("0\r\n\r\n"), Progress::Complete);
        QCOMPARE(p.takeBody(), QByteArray());
        QCOMPARE(p.bodyBytes(), qint64(9));
    }

    void keepAliveConnectionParsesTheNextResponseAfterReset()
    {
        Http1ResponseParser p;
        QVERIFY(!p.receivedAnything());
        QCOMPARE(p.feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"), Progress::Complete);
        QVERIFY(p.receivedAnything());
        QCOMPARE(p.excessBytes(), qsizetype(0));
        QVERIFY(p.keepAlive());

        p.reset();
        QVERIFY(!p.receivedAnything());
        QCOMPARE(p.statusCode(), 0);
        QCOMPARE(p.feed("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\nnoEXTRA"), Progress::Complete);
        QCOMPARE(p.statusCode(), 500);
        QCOMPARE(p.body(), QByteArray("no"));
        // Bytes the server should not have sent: the caller must not reuse the connection.
        QCOMPARE(p.excessBytes(), qsizetype(5));
        QCOMPARE(p.feed("more"), Progress::Complete);
        QCOMPARE(p.excessBytes(), qsizetype(9));
    }

    void headRequestHasNoBody()
    {
        Http1ResponseParser p;
        p.reset(true);
        QCOMPARE(p.feed("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"), Progress::Complete);
        QCOMPARE(p.body(), QByteArray());
        QVERIFY(p.keepAlive());
    }

    void errorsAreFinal()
    {
        Http1ResponseParser p;
        QCOMPARE(p.feed("HTTP/1.1 2OO OK\r\n"), Progress::Error);
        QCOMPARE(p.feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), Progress::Error);
        QCOMPARE(p.finish(), Progress::Error);
        QCOMPARE(p.errorString(), QStringLiteral("malformed status line"));
    }
};

QTEST_GUILESS_MAIN(TestHttp1ResponseParser)
#include "tst_http1responseparser.moc"
