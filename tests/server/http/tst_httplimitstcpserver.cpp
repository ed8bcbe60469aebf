// HttpLimitsTcpServer in front of a real QAbstractHttpServer, over loopback:
// one row per request head, sent whole and byte by byte. What the filter
// lets through must be what Qt's parser reads; what it refuses never reaches
// Qt (the 5 KB bodies behind a 1 KiB limit below would otherwise be read).

#include "server/http/httplimitstcpserver.h"

#include <QAbstractHttpServer>
#include <QDir>
#include <QRegularExpression>
#include <QElapsedTimer>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QPointer>
#include <QTcpSocket>
#include <QTimer>
#include <QTest>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <vector>

namespace {

// Answers every request 200 with what Qt's parser read: "<METHOD> <body
// bytes> <path>", through the filter's in-order writer. A request whose path
// holds "slow-N" is answered N ms later, so pipelined answers complete out
// of order.
class EchoServer : public QAbstractHttpServer
{
public:
    int handled = 0;
    HttpLimitsTcpServer *tcp = nullptr;

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override
    {
        ++handled;
        const HttpLimitsTcpServer::RequestTicket ticket = tcp->requestStarted(socket);
        const QByteArray method = request.method() == QHttpServerRequest::Method::Post ? "POST" : "OTHER";
        const QByteArray path = request.url().path().toLatin1();
        const QByteArray body = method + ' ' + QByteArray::number(request.body().size()) + ' ' + path;
        QByteArray answer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
            + QByteArray::number(body.size()) + "\r\n";
        if (ticket.closeAfter)
            answer += "Connection: close\r\n";
        else if (ticket.http10KeepAlive)
            answer += "Connection: keep-alive\r\n";
        answer += "\r\n" + body;
        const qsizetype slow = path.indexOf("slow-");
        const int delayMs = slow < 0 ? 0 : path.mid(slow + 5).toInt();
        QPointer<QTcpSocket> guard(socket);
        QTimer::singleShot(delayMs, this, [this, guard, ticket, answer] {
            if (guard)
                tcp->writeAnswer(guard, ticket.sequence, answer, ticket.closeAfter);
        });
        return true;
    }
    void missingHandler(const QHttpServerRequest &, QTcpSocket *) override {}
};

QByteArray errorAnswer(int status, const QString &message)
{
    const QByteArray body = message.toUtf8();
    return "HTTP/1.1 " + QByteArray::number(status) + " Refused\r\nContent-Length: " + QByteArray::number(body.size())
         + "\r\nConnection: close\r\n\r\n" + body;
}

const QByteArray kBody5k(5 * 1024, 'x');

} // namespace

class TestHttpLimitsTcpServer : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase()
    {
        HttpLimits limits;
        limits.maxBodyBytes = 1024;
        limits.maxHeaderBytes = 2048;
        m_tcp = new HttpLimitsTcpServer(limits, errorAnswer, &m_http);
        m_http.tcp = m_tcp;
        QVERIFY(m_tcp->listen(QHostAddress::LocalHost, 0));
        m_http.bind(m_tcp);
    }

    void heads_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body"); // of a 200: what Qt read; else a part of the refusal's text

        const QByteArray cl5k = "Content-Length: " + QByteArray::number(kBody5k.size()) + "\r\n";
        QTest::newRow("GET") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\n\r\n") << 200 << QByteArray("OTHER 0");
        QTest::newRow("POST within the limit") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc")
                                               << 200 << QByteArray("POST 3");
        QTest::newRow("line ends before the request are skipped")
            << QByteArray("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n") << 200 << QByteArray("OTHER 0");
        QTest::newRow("HTTP/1.0") << QByteArray("GET / HTTP/1.0\r\n\r\n") << 200 << QByteArray("OTHER 0");
        QTest::newRow("Transfer-Encoding identity") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n")
                                                    << 200 << QByteArray("OTHER 0");
        QTest::newRow("body over the limit") << "POST / HTTP/1.1\r\nHost: a\r\n" + cl5k + "\r\n" + kBody5k << 413 << QByteArray("exceeds the limit");
        // The smuggling shapes of the hardening issue: each once let a 5 KB body
        // through a 1 KiB limit.
        QTest::newRow("Transfer-Encoding folded before chunked")
            << "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n1400\r\n" + kBody5k + "\r\n0\r\n\r\n" << 400
            << QByteArray("obsolete line folding");
        QTest::newRow("two Transfer-Encodings")
            << "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n1400\r\n" + kBody5k
                   + "\r\n0\r\n\r\n"
            << 400 << QByteArray("more than one Transfer-Encoding");
        QTest::newRow("Content-Length folded") << "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n 5120\r\n\r\n" + kBody5k << 400
                                               << QByteArray("obsolete line folding");
        QTest::newRow("bare LF head") << "POST / HTTP/1.1\n" + cl5k.chopped(2) + "\n\n" + kBody5k << 400
                                      << QByteArray("LF without CR");
        QTest::newRow("two Content-Lengths") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 5120\r\n\r\nabc")
                                             << 400 << QByteArray("more than one Content-Length");
        QTest::newRow("Content-Length list") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc") << 400
                                             << QByteArray("invalid Content-Length");
        QTest::newRow("Content-Length with a sign") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc") << 400
                                                    << QByteArray("invalid Content-Length");
        QTest::newRow("Content-Length and Transfer-Encoding")
            << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: identity\r\n\r\nabc") << 400
            << QByteArray("both Content-Length and Transfer-Encoding");
        QTest::newRow("chunked body") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
                                      << 411 << QByteArray("needs a Content-Length");
        QTest::newRow("no colon") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nno colon\r\n\r\n") << 400 << QByteArray("no colon");
        QTest::newRow("space before colon") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\nabc") << 400
                                            << QByteArray("header line 3");
        QTest::newRow("NUL in a value") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n", 40) << 400
                                        << QByteArray("control character");
        QTest::newRow("request line with two spaces") << QByteArray("GET  / HTTP/1.1\r\nHost: a\r\n\r\n") << 400
                                                      << QByteArray("malformed request line");
        QTest::newRow("request line without a version") << QByteArray("GET /\r\n\r\n") << 400
                                                        << QByteArray("malformed request line");
        QTest::newRow("HTTP/2.0 request line") << QByteArray("GET / HTTP/2.0\r\n\r\n") << 400 << QByteArray("malformed request line");
        QTest::newRow("control character in the target") << QByteArray("GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n") << 400
                                                         << QByteArray("malformed request line");
        QTest::newRow("HTTP/1.1 without Host") << QByteArray("GET / HTTP/1.1\r\n\r\n") << 400 << QByteArray("needs a Host header");
        QTest::newRow("two Hosts") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") << 400
                                   << QByteArray("more than one Host");
        QTest::newRow("head over the limit") << "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + QByteArray(3000, 'a') + "\r\n\r\n" << 431
                                             << QByteArray("exceed 2048 bytes");
    }

    void heads()
    {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        for (bool byteByByte : {false, true}) {
            const int handledBefore = m_http.handled;
            const QByteArray answer = exchange(request, byteByByte);
            QVERIFY2(answer.startsWith("HTTP/1.1 " + QByteArray::number(status) + ' '),
                     answer.left(200).constData());
            QVERIFY2(answer.contains(body), answer.left(300).constData());
            if (status != 200) // refused: Qt's parser never saw it
                QCOMPARE(m_http.handled, handledBefore);
        }
    }

    void expectContinue()
    {
        const QByteArray answer = exchange("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc", false);
        QVERIFY2(answer.startsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 "), answer.constData());
        QVERIFY(answer.contains("POST 3"));
    }

    // RFC 9112 §9.3.2: answers leave in request order, however they complete.
    void pipelinedAnswersInOrder()
    {
        const QByteArray bytes = "GET /slow-300 HTTP/1.1\r\nHost: a\r\n\r\n"
                                 "GET /slow-0 HTTP/1.1\r\nHost: a\r\n\r\n"
                                 "POST /slow-200 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
                                 "GET /slow-100 HTTP/1.1\r\nHost: a\r\n\r\n";
        for (bool byteByByte : {false, true}) {
            const QByteArray answer = exchange(bytes, byteByByte, 4);
            const QList<qsizetype> at{answer.indexOf("OTHER 0 /slow-300"), answer.indexOf("OTHER 0 /slow-0"),
                                      answer.indexOf("POST 3 /slow-200"), answer.indexOf("OTHER 0 /slow-100")};
            QVERIFY2(!at.contains(-1), answer.constData());
            QVERIFY2(std::is_sorted(at.begin(), at.end()), answer.constData());
        }
    }

    // A bad request behind good ones on the same connection: the good ones
    // are answered first, then the refusal, then the connection closes; Qt
    // never reads the bad one.
    void badRequestBehindGoodOnes()
    {
        const int before = m_http.handled;
        const QByteArray answer = exchange("GET /slow-150 HTTP/1.1\r\nHost: a\r\n\r\n"
                                           "GET /b HTTP/1.1\r\nHost: a\r\n\r\n"
                                           "POST /c HTTP/1.1\r\nHost: a\r\nContent-Length: 5120\r\n\r\n" + kBody5k
                                           + "GET /d HTTP/1.1\r\nHost: a\r\n\r\n",
                                           false, 3);
        const qsizetype first = answer.indexOf("OTHER 0 /slow-150");
        const qsizetype second = answer.indexOf("OTHER 0 /b");
        const qsizetype refusal = answer.indexOf("HTTP/1.1 413 ");
        QVERIFY2(first >= 0 && second > first && refusal > second, answer.constData());
        QVERIFY2(!answer.contains("/d"), answer.constData());
        QCOMPARE(m_http.handled, before + 2);
    }

    // HTTP/1.0 closes after the answer unless the client asked keep-alive.
    void http10ConnectionPersistence()
    {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, m_tcp->serverPort());
        QVERIFY(s.waitForConnected(5000));
        s.write("GET /one HTTP/1.0\r\n\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(s.state() == QAbstractSocket::UnconnectedState, 5000);
        const QByteArray closed = s.readAll();
        QVERIFY2(closed.contains("Connection: close") && closed.contains("OTHER 0 /one"), closed.constData());

        QTcpSocket k;
        k.connectToHost(QHostAddress::LocalHost, m_tcp->serverPort());
        QVERIFY(k.waitForConnected(5000));
        QByteArray got;
        for (const QByteArray path : {"/a", "/b"}) {
            k.write("GET " + path + " HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            QTRY_VERIFY_WITH_TIMEOUT((got += k.readAll()).contains("OTHER 0 " + path), 5000);
        }
        QVERIFY2(got.count("Connection: keep-alive") == 2, got.constData());
        QCOMPARE(k.state(), QAbstractSocket::ConnectedState);
    }

    // A body trickled slower than minBodyBytesPerSecond is cut off with 408;
    // one that keeps the rate is read whole.
    void slowBodyGets408()
    {
        EchoServer http;
        HttpLimits limits;
        limits.bodyTimeoutMs = 300;
        limits.minBodyBytesPerSecond = 2000;
        auto *tcp = new HttpLimitsTcpServer(limits, errorAnswer, &http);
        http.tcp = tcp;
        QVERIFY(tcp->listen(QHostAddress::LocalHost, 0));
        http.bind(tcp);

        QTcpSocket slow;
        slow.connectToHost(QHostAddress::LocalHost, tcp->serverPort());
        QVERIFY(slow.waitForConnected(5000));
        slow.write("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n");
        QByteArray got;
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 10000 && !got.contains("\r\n\r\n") && slow.state() == QAbstractSocket::ConnectedState) {
            slow.write("x"); // one byte per 50 ms: 20 B/s
            QTest::qWait(50);
            got += slow.readAll();
        }
        QVERIFY2(got.startsWith("HTTP/1.1 408 ") && got.contains("request body too slow"), got.constData());
        QCOMPARE(http.handled, 0);

        // 40 KB at about 40 KB/s: well above the floor, read whole.
        QTcpSocket steady;
        steady.connectToHost(QHostAddress::LocalHost, tcp->serverPort());
        QVERIFY(steady.waitForConnected(5000));
        steady.write("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 40000\r\n\r\n");
        got.clear();
        for (int i = 0; i < 40; ++i) {
            steady.write(QByteArray(1000, 'y'));
            steady.waitForBytesWritten(1000);
            QTest::qWait(25);
        }
        QTRY_VERIFY_WITH_TIMEOUT((got += steady.readAll()).contains("POST 40000 /"), 5000);
    }

    // Past maxConnections a new connection gets 503 and is closed; Qt never
    // sees it; a freed slot serves again.
    void connectionCap()
    {
        EchoServer http;
        HttpLimits limits;
        limits.maxConnections = 2;
        auto *tcp = new HttpLimitsTcpServer(limits, errorAnswer, &http);
        http.tcp = tcp;
        QVERIFY(tcp->listen(QHostAddress::LocalHost, 0));
        http.bind(tcp);
        std::vector<std::unique_ptr<QTcpSocket>> open;
        for (int i = 0; i < 2; ++i) {
            open.push_back(std::make_unique<QTcpSocket>());
            open.back()->connectToHost(QHostAddress::LocalHost, tcp->serverPort());
            QVERIFY(open.back()->waitForConnected(5000));
            open.back()->write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
            QByteArray got;
            QTRY_VERIFY_WITH_TIMEOUT((got += open.back()->readAll()).contains("OTHER 0"), 5000);
        }
        QTcpSocket third;
        third.connectToHost(QHostAddress::LocalHost, tcp->serverPort());
        QVERIFY(third.waitForConnected(5000));
        third.write("GET /third HTTP/1.1\r\nHost: a\r\n\r\n");
        QByteArray refused;
        QTRY_VERIFY_WITH_TIMEOUT((refused += third.readAll()).contains("maxConnections"), 5000);
        QVERIFY2(refused.startsWith("HTTP/1.1 503 "), refused.constData());
        QTRY_VERIFY_WITH_TIMEOUT(third.state() == QAbstractSocket::UnconnectedState, 5000);
        QCOMPARE(http.handled, 2);
        QCOMPARE(tcp->connectionsRefused(), quint64(1));

        open.front()->disconnectFromHost();
        QTRY_COMPARE_WITH_TIMEOUT(tcp->connectionCount(), 1, 5000);
        QTcpSocket fourth;
        fourth.connectToHost(QHostAddress::LocalHost, tcp->serverPort());
        QVERIFY(fourth.waitForConnected(5000));
        fourth.write("GET /fourth HTTP/1.1\r\nHost: a\r\n\r\n");
        QByteArray got;
        QTRY_VERIFY_WITH_TIMEOUT((got += fourth.readAll()).contains("OTHER 0 /fourth"), 5000);
    }

    // The memory budget: a request is charged before its body is read (no
    // room: 503 and Qt never sees it), held until its answer is written and
    // sent, then given back.
    void memoryBudgetRefusesBeforeReading()
    {
        EchoServer http;
        MemoryBudget budget(200 * 1024);
        HttpLimits limits;
        limits.memory = &budget;
        limits.bodyExpansion = 8;
        auto *tcp = new HttpLimitsTcpServer(limits, errorAnswer, &http);
        http.tcp = tcp;
        QVERIFY(tcp->listen(QHostAddress::LocalHost, 0));
        http.bind(tcp);
        const auto connected = [&] {
            auto s = std::make_unique<QTcpSocket>();
            s->connectToHost(QHostAddress::LocalHost, tcp->serverPort());
            s->waitForConnected(5000);
            return s;
        };

        // 8 × 30,000 + 16 KiB does not fit 200 KiB: refused at the head.
        auto big = connected();
        big->write("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 30000\r\n\r\n");
        QByteArray got;
        QTRY_VERIFY_WITH_TIMEOUT((got += big->readAll()).contains("memory budget"), 5000);
        QVERIFY2(got.startsWith("HTTP/1.1 503 "), got.constData());
        QCOMPARE(http.handled, 0);
        QCOMPARE(budget.refusals(), quint64(1));
        QCOMPARE(budget.used(), qint64(0));

        // Three slow 5,000-byte requests fit (3 × 56 KiB), a fourth does not;
        // once they are answered and read, the budget is empty again.
        std::vector<std::unique_ptr<QTcpSocket>> slow;
        for (int i = 0; i < 3; ++i) {
            slow.push_back(connected());
            slow.back()->write("POST /slow-400 HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n" + QByteArray(5000, 'b'));
        }
        const qint64 each = 5000 * 8 + HttpLimits::kRequestOverheadBytes;
        QTRY_COMPARE_WITH_TIMEOUT(budget.used(), 3 * each, 5000);
        auto fourth = connected();
        fourth->write("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n");
        got.clear();
        QTRY_VERIFY_WITH_TIMEOUT((got += fourth->readAll()).startsWith("HTTP/1.1 503 "), 5000);
        for (auto &s : slow) {
            QByteArray answer;
            QTRY_VERIFY_WITH_TIMEOUT((answer += s->readAll()).contains("POST 5000 /slow-400"), 5000);
        }
        QTRY_COMPARE_WITH_TIMEOUT(budget.used(), qint64(0), 5000);
        auto after = connected();
        after->write("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n" + QByteArray(5000, 'c'));
        got.clear();
        QTRY_VERIFY_WITH_TIMEOUT((got += after->readAll()).contains("POST 5000 /"), 5000);

        // A connection that goes away gives back what it held.
        auto leaver = connected();
        leaver->write("POST /slow-300 HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(budget.used() > 0, 5000);
        leaver->abort();
        QTRY_COMPARE_WITH_TIMEOUT(budget.used(), qint64(0), 5000);
    }

    // Out of descriptors: accept fails with EMFILE. The server pauses with a
    // backoff (a handful of attempts, not a spin), warns once, and serves the
    // waiting connections when descriptors free up.
    void descriptorExhaustion()
    {
        EchoServer http;
        auto *tcp = new HttpLimitsTcpServer(HttpLimits{}, errorAnswer, &http);
        http.tcp = tcp;
        QVERIFY(tcp->listen(QHostAddress::LocalHost, 0));
        http.bind(tcp);
        int acceptErrors = 0;
        connect(tcp, &QTcpServer::acceptError, this, [&] { ++acceptErrors; });

        // Connections the kernel completes into the backlog while the server
        // has not accepted them yet (no events processed here).
        std::vector<std::unique_ptr<QTcpSocket>> clients;
        for (int i = 0; i < 4; ++i) {
            clients.push_back(std::make_unique<QTcpSocket>());
            clients.back()->connectToHost(QHostAddress::LocalHost, tcp->serverPort());
            QVERIFY(clients.back()->waitForConnected(5000));
            clients.back()->write("GET /waiting HTTP/1.1\r\nHost: a\r\n\r\n");
            clients.back()->flush();
        }
        // Every descriptor below the limit in use: the next accept() fails.
        rlimit saved{};
        QVERIFY(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
        int highest = 0;
        for (const QString &e : QDir(QStringLiteral("/proc/self/fd")).entryList(QDir::Files | QDir::System | QDir::NoDotAndDotDot))
            highest = std::max(highest, e.toInt());
        rlimit low = saved;
        low.rlim_cur = rlim_t(highest + 1);
        QVERIFY(::setrlimit(RLIMIT_NOFILE, &low) == 0);
        std::vector<int> fillers;
        for (int fd; (fd = ::open("/dev/null", O_RDONLY)) >= 0;)
            fillers.push_back(fd);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("cannot accept connections")));
        QTest::qWait(1500);
        for (int fd : fillers)
            ::close(fd);
        QVERIFY(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
        QVERIFY(acceptErrors >= 1);
        QVERIFY2(acceptErrors <= 10, qPrintable(QString::number(acceptErrors))); // backoff, not a spin
        for (auto &c : clients) {
            QByteArray got;
            QTRY_VERIFY_WITH_TIMEOUT((got += c->readAll()).contains("OTHER 0 /waiting"), 5000);
        }
    }

private:
    // Sends `bytes` on a fresh connection and reads until `answers` final
    // answers (all have a Content-Length) are complete, or the peer closed.
    QByteArray exchange(const QByteArray &bytes, bool byteByByte, int answers = 1)
    {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, m_tcp->serverPort());
        if (!s.waitForConnected(5000))
            return "not connected";
        if (byteByByte) {
            for (char c : bytes) {
                s.write(&c, 1);
                s.flush();
                QCoreApplication::processEvents();
            }
        } else {
            s.write(bytes);
        }
        QByteArray got;
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 10000 && s.state() == QAbstractSocket::ConnectedState && completeAnswers(got) < answers) {
            s.waitForReadyRead(20);
            QCoreApplication::processEvents();
            got += s.readAll();
        }
        got += s.readAll();
        return got;
    }

    static int completeAnswers(const QByteArray &got)
    {
        int complete = 0;
        qsizetype pos = 0;
        while (true) {
            const qsizetype head = got.indexOf("\r\n\r\n", pos);
            if (head < 0)
                return complete;
            if (got.mid(pos, 12) == "HTTP/1.1 100") {
                pos = head + 4;
                continue;
            }
            const qsizetype cl = got.indexOf("Content-Length: ", pos);
            if (cl < 0 || cl > head)
                return complete;
            const qint64 length = got.mid(cl + 16, got.indexOf("\r\n", cl) - cl - 16).toLongLong();
            if (got.size() - (head + 4) < length)
                return complete;
            ++complete;
            pos = head + 4 + length;
        }
    }

    EchoServer m_http;
    HttpLimitsTcpServer *m_tcp = nullptr;
};

QTEST_GUILESS_MAIN(TestHttpLimitsTcpServer)
#include "tst_httplimitstcpserver.moc"
