// The gateway's HTTP front as an attacker on the machine or a web page in
// the operator's browser tries it (issue 18), over loopback with raw sockets
// against the real GatewayServer, engine, client and GeminiSimulator:
// answers in request order on a pipelined connection, HTTP/1.0 persistence,
// Host checked on every route (DNS rebinding), foreign Origins and
// Content-Type-less bodies refused on state-changing routes (CSRF), slow
// bodies cut off, the connection cap.

#include "core/util/memorybudget.h"
#include "tests/support/fixtures.h"
#include "tests/support/gatewaystack.h"
#include "tests/support/userturn.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QtTest>

#include <memory>

namespace {

const QByteArray kGenerate = "/v1beta/models/gemini-2.0-flash:generateContent";

QByteArray generateBody(const QString &text)
{
    return QJsonDocument(userText(text)).toJson(QJsonDocument::Compact);
}

// Reads from `s` until `answers` complete answers (each with a
// Content-Length) arrived or the peer closed; returns the raw bytes.
QByteArray readAnswers(QTcpSocket &s, int answers, int timeoutMs = 15000)
{
    QByteArray got;
    QElapsedTimer t;
    t.start();
    const auto complete = [&] {
        int n = 0;
        qsizetype pos = 0;
        while (true) {
            const qsizetype head = got.indexOf("\r\n\r\n", pos);
            if (head < 0)
                return n;
            const qsizetype cl = got.indexOf("Content-Length: ", pos);
            if (cl < 0 || cl > head)
                return n;
            const qint64 length = got.mid(cl + 16, got.indexOf("\r\n", cl) - cl - 16).toLongLong();
            if (got.size() - (head + 4) < length)
                return n;
            ++n;
            pos = head + 4 + length;
        }
    };
    while (t.elapsed() < timeoutMs && complete() < answers && s.state() == QAbstractSocket::ConnectedState) {
        QTest::qWait(5);
        got += s.readAll();
    }
    return got + s.readAll();
}

int statusOf(const QByteArray &answer)
{
    return answer.mid(9, 3).toInt();
}

} // namespace

class TestHttpFront : public QObject
{
    Q_OBJECT

    GatewayStack m_stack;
    std::unique_ptr<GatewayServer> m_gateway;
    quint16 m_port = 0;

    std::unique_ptr<QTcpSocket> connectTo(quint16 port = 0)
    {
        auto s = std::make_unique<QTcpSocket>();
        s->connectToHost(QHostAddress::LocalHost, port ? port : m_port);
        if (!s->waitForConnected(5000))
            return nullptr;
        return s;
    }

    // One request on a fresh connection; the raw answer.
    QByteArray exchange(const QByteArray &raw, quint16 port = 0)
    {
        auto s = connectTo(port);
        if (!s)
            return "not connected";
        s->write(raw);
        return readAnswers(*s, 1);
    }

    QByteArray post(const QByteArray &path, const QByteArray &body, const QByteArray &extraHeaders,
                    const QByteArray &host = "127.0.0.1")
    {
        return exchange("POST " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + extraHeaders
                        + "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    }

private slots:
    void initTestCase()
    {
        EngineConfig ec;
        ec.maxWaitMs = 5;
        ec.packing = PackingMode::Fanout;
        SimulatorConfig sc = instantSimulator(8);
        QString error;
        QVERIFY2(m_stack.start(sc, ec, &error, /*clientMaxAttempts=*/1), qPrintable(error));
        GatewayOptions o;
        o.port = 0;
        o.allowedHosts = {QStringLiteral("gateway.internal")};
        o.allowedOrigins = {QStringLiteral("https://ops.example")};
        m_gateway = m_stack.startGateway(o, &error);
        QVERIFY2(m_gateway, qPrintable(error));
        m_port = quint16(m_gateway->url().port());
    }

    void cleanupTestCase()
    {
        m_gateway.reset();
        m_stack.stop();
    }

    // Four requests written at once: a slow generateContent, then fast
    // routes. Without ordering /health and /metrics would overtake it.
    void pipelinedAnswersLeaveInRequestOrder()
    {
        SimulatorConfig slow = instantSimulator(8);
        slow.baseLatencyMs = 300;
        QCOMPARE(m_stack.sim->setConfig(slow).field, QString());
        const QByteArray body = generateBody(QStringLiteral("first"));
        auto s = connectTo();
        QVERIFY(s);
        s->write("POST " + kGenerate + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                 + QByteArray::number(body.size()) + "\r\n\r\n" + body
                 + "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                   "GET /v1beta/models/nope/extra HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                   "GET /api/v1/config HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        const QByteArray got = readAnswers(*s, 4);
        QCOMPARE(m_stack.sim->setConfig(instantSimulator(8)).field, QString());
        const qsizetype generate = got.indexOf("\"candidates\"");
        const qsizetype health = got.indexOf("\"uptimeSeconds\"");
        const qsizetype notFound = got.indexOf("no route for");
        const qsizetype config = got.indexOf("\"maxBatchSize\"");
        QVERIFY2(generate >= 0 && health > generate && notFound > health && config > notFound, got.constData());
        QCOMPARE(s->state(), QAbstractSocket::ConnectedState);
    }

    // A request the filter refuses behind a good one: the good one is
    // answered (not lost with the refused bytes), then the 400, then close.
    void badRequestAfterGoodOneLosesNothing()
    {
        const QByteArray body = generateBody(QStringLiteral("kept"));
        auto s = connectTo();
        QVERIFY(s);
        s->write("POST " + kGenerate + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                 + QByteArray::number(body.size()) + "\r\n\r\n" + body
                 + "POST " + kGenerate + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n12345");
        const QByteArray got = readAnswers(*s, 2);
        QVERIFY2(got.startsWith("HTTP/1.1 200 ") && got.contains("\"candidates\""), got.constData());
        const qsizetype refusal = got.indexOf("HTTP/1.1 400 ");
        QVERIFY2(refusal > got.indexOf("\"candidates\"") && got.contains("more than one Content-Length"), got.constData());
        QTRY_COMPARE_WITH_TIMEOUT(s->state(), QAbstractSocket::UnconnectedState, 5000);
    }

    void http10ClosesUnlessKeepAlive()
    {
        auto s = connectTo();
        QVERIFY(s);
        s->write("GET /health HTTP/1.0\r\n\r\n");
        const QByteArray closed = readAnswers(*s, 1);
        QVERIFY2(closed.startsWith("HTTP/1.1 200 ") && closed.contains("Connection: close"), closed.constData());
        QTRY_COMPARE_WITH_TIMEOUT(s->state(), QAbstractSocket::UnconnectedState, 5000);

        auto k = connectTo();
        QVERIFY(k);
        k->write("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        const QByteArray kept = readAnswers(*k, 1);
        QVERIFY2(kept.startsWith("HTTP/1.1 200 ") && kept.contains("Connection: keep-alive"), kept.constData());
        k->write("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        QVERIFY(readAnswers(*k, 1).startsWith("HTTP/1.1 200 "));
        QCOMPARE(k->state(), QAbstractSocket::ConnectedState);
    }

    void hostChecked_data()
    {
        QTest::addColumn<QByteArray>("host");
        QTest::addColumn<bool>("allowed");
        const QByteArray port = QByteArray::number(m_port);
        QTest::newRow("127.0.0.1:port") << "127.0.0.1:" + port << true;
        QTest::newRow("localhost") << QByteArray("localhost") << true;
        QTest::newRow("LOCALHOST. with port") << "LOCALHOST.:" + port << true;
        QTest::newRow("[::1]:port") << "[::1]:" + port << true;
        QTest::newRow("app.localhost") << QByteArray("app.localhost") << true;
        QTest::newRow("configured name") << "gateway.internal:" + port << true;
        QTest::newRow("rebinding name") << "evil.example:" + port << false;
        QTest::newRow("rebinding name, no port") << QByteArray("evil.example") << false;
        QTest::newRow("suffix of a configured name") << QByteArray("xgateway.internal") << false;
        QTest::newRow("another address") << QByteArray("10.1.2.3") << false;
    }

    // Every route, the stream upgrade included, checks Host.
    void hostChecked()
    {
        QFETCH(QByteArray, host);
        QFETCH(bool, allowed);
        const QByteArray health = exchange("GET /health HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
        QCOMPARE(statusOf(health), allowed ? 200 : 421);
        if (!allowed) {
            QVERIFY2(health.contains("DNS-rebinding") && health.contains("--allowed-hosts"), health.constData());
            const QByteArray generate = post(kGenerate, generateBody(QStringLiteral("x")),
                                             "Content-Type: application/json\r\n", host);
            QCOMPARE(statusOf(generate), 421);
            const QByteArray upgrade = exchange(
                "GET /api/v1/stream HTTP/1.1\r\nHost: " + host + "\r\nOrigin: http://" + host
                + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n");
            QCOMPARE(statusOf(upgrade), 421);
        }
    }

    void foreignOriginRefusedOnStateChangingRoutes_data()
    {
        QTest::addColumn<QByteArray>("origin");
        QTest::addColumn<bool>("allowed");
        const QByteArray port = QByteArray::number(m_port);
        QTest::newRow("none (an agent)") << QByteArray() << true;
        QTest::newRow("same origin") << "http://127.0.0.1:" + port << true;
        QTest::newRow("configured origin") << QByteArray("https://ops.example") << true;
        QTest::newRow("foreign page") << QByteArray("http://evil.example") << false;
        QTest::newRow("same host, other port") << QByteArray("http://127.0.0.1:1") << false;
        QTest::newRow("null origin") << QByteArray("null") << false;
    }

    void foreignOriginRefusedOnStateChangingRoutes()
    {
        QFETCH(QByteArray, origin);
        QFETCH(bool, allowed);
        const QByteArray host = "127.0.0.1:" + QByteArray::number(m_port);
        const QByteArray originHeader = origin.isEmpty() ? QByteArray() : "Origin: " + origin + "\r\n";
        const QByteArray generate = post(kGenerate, generateBody(QStringLiteral("o")),
                                         originHeader + "Content-Type: application/json\r\n", host);
        QCOMPARE(statusOf(generate), allowed ? 200 : 403);
        // An invalid plan: a 400 from validation shows the guard let it through.
        const QByteArray loadTest = post("/api/v1/loadtests", "{\"steps\": -1}",
                                         originHeader + "Content-Type: application/json\r\n", host);
        QCOMPARE(statusOf(loadTest), allowed ? 400 : 403);
        if (!allowed)
            QVERIFY2(loadTest.contains("cross-site") && loadTest.contains("--allowed-origins"), loadTest.constData());
        // GETs are not state-changing: readable only by same-origin pages anyway.
        QCOMPARE(statusOf(exchange("GET /health HTTP/1.1\r\nHost: " + host + "\r\n" + originHeader + "\r\n")), 200);
    }

    // A "simple" cross-site request carries no Content-Type or text/plain:
    // control routes require application/json.
    void controlRoutesRequireJsonContentType_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<QByteArray>("contentType");
        for (const auto &[method, path] : {std::pair<QByteArray, QByteArray>{"POST", "/api/v1/loadtests"},
                                           {"PATCH", "/api/v1/config"},
                                           {"PUT", "/api/v1/baseline"}}) {
            QTest::newRow(method + " " + path + ", none") << method << path << QByteArray();
            QTest::newRow(method + " " + path + ", text/plain") << method << path << QByteArray("text/plain");
            QTest::newRow(method + " " + path + ", form") << method << path << QByteArray("application/x-www-form-urlencoded");
        }
    }

    void controlRoutesRequireJsonContentType()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, path);
        QFETCH(QByteArray, contentType);
        const QByteArray body = "{\"steps\": 1}";
        const QByteArray answer = exchange(method + ' ' + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                           + (contentType.isEmpty() ? QByteArray() : "Content-Type: " + contentType + "\r\n")
                                           + "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        QCOMPARE(statusOf(answer), 415);
        QVERIFY2(answer.contains("Content-Type must be application/json"), answer.constData());
        QCOMPARE(m_stack.loadTests->isRunning(), false);
    }

    // Gemini's own per-request cap, answered as Gemini answers it: the
    // envelope equals the recorded 400 (code, status, message).
    void batchEmbedOverGeminisCapMatchesTheRecorded400()
    {
        QByteArray body = R"({"requests":[)";
        for (int i = 0; i < 101; ++i)
            body += QByteArray(i ? "," : "") + R"({"model":"models/gemini-embedding-001","content":{"parts":[{"text":"x"}]}})";
        body += "]}";
        const QByteArray answer = post("/v1beta/models/gemini-embedding-001:batchEmbedContents", body,
                                       "Content-Type: application/json\r\n");
        QCOMPARE(statusOf(answer), 400);
        const QJsonObject got = QJsonDocument::fromJson(answer.mid(answer.indexOf("\r\n\r\n") + 4)).object()
                                    .value(QStringLiteral("error")).toObject();
        const QJsonObject recorded = QJsonDocument::fromJson(readFixture(QStringLiteral("error_400_batchEmbedContents_over_100.json")))
                                         .object().value(QStringLiteral("error")).toObject();
        for (const char *key : {"code", "status", "message"})
            QCOMPARE(got.value(QLatin1String(key)), recorded.value(QLatin1String(key)));
        QCOMPARE(m_stack.sim->stats().route(QStringLiteral("batchEmbedContents")), qint64(0));
    }

    // The memory budget, end to end: a body that does not fit gets 503 with
    // Retry-After before it is read, /health still answers, and /metrics and
    // /api/v1/stats report the budget.
    void memoryBudgetRefusesAndIsReported()
    {
        MemoryBudget budget(64 * 1024);
        GatewayDeps deps = m_stack.deps();
        deps.memory = &budget;
        GatewayOptions o;
        o.port = 0;
        auto g = std::make_unique<GatewayServer>(deps, o);
        QString error;
        QVERIFY2(g->start(&error), qPrintable(error));
        const quint16 port = quint16(g->url().port());
        const QByteArray body = generateBody(QString(20000, u'w')); // 8 × 20 KB + 16 KiB > 64 KiB
        const QByteArray refused = exchange("POST " + kGenerate + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                            "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body, port);
        QVERIFY2(refused.startsWith("HTTP/1.1 503 ") && refused.contains("Retry-After: ") && refused.contains("memory budget")
                     && refused.contains("\"UNAVAILABLE\""),
                 refused.constData());
        const QByteArray small = generateBody(QStringLiteral("fits"));
        QCOMPARE(statusOf(exchange("POST " + kGenerate + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                   "Content-Length: " + QByteArray::number(small.size()) + "\r\n\r\n" + small, port)), 200);
        QCOMPARE(statusOf(exchange("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", port)), 200);
        const QByteArray metrics = exchange("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", port);
        QVERIFY2(metrics.contains("\nsluice_memory_budget_limit_bytes 65536\n")
                     && metrics.contains("\nsluice_memory_budget_refusals_total 1\n")
                     && metrics.contains("\nsluice_memory_budget_used_bytes "),
                 metrics.constData());
        QTRY_COMPARE_WITH_TIMEOUT(budget.used(), qint64(0), 5000); // every charge given back
        g.reset();
    }

    // A body trickled below the minimum rate gets 408 and the connection
    // closes, instead of holding a connection for ever.
    void slowBodyGets408()
    {
        GatewayOptions o;
        o.port = 0;
        o.bodyTimeoutMs = 300;
        o.minBodyBytesPerSecond = 1000;
        QString error;
        std::unique_ptr<GatewayServer> g = m_stack.startGateway(o, &error);
        QVERIFY2(g, qPrintable(error));
        auto s = connectTo(quint16(g->url().port()));
        QVERIFY(s);
        s->write("POST " + kGenerate + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{");
        QByteArray got;
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 10000 && !got.contains("\r\n\r\n") && s->state() == QAbstractSocket::ConnectedState) {
            s->write(" ");
            QTest::qWait(50);
            got += s->readAll();
        }
        QVERIFY2(got.startsWith("HTTP/1.1 408 ") && got.contains("request body too slow"), got.constData());
        QTRY_COMPARE_WITH_TIMEOUT(s->state(), QAbstractSocket::UnconnectedState, 5000);
    }

    // Past maxConnections: 503 in the Gemini envelope, then close.
    void connectionCapAnswers503()
    {
        GatewayOptions o;
        o.port = 0;
        o.maxConnections = 3;
        QString error;
        std::unique_ptr<GatewayServer> g = m_stack.startGateway(o, &error);
        QVERIFY2(g, qPrintable(error));
        const quint16 port = quint16(g->url().port());
        std::vector<std::unique_ptr<QTcpSocket>> held;
        for (int i = 0; i < 3; ++i) {
            held.push_back(connectTo(port));
            QVERIFY(held.back());
            held.back()->write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            QVERIFY(readAnswers(*held.back(), 1).startsWith("HTTP/1.1 200 "));
        }
        const QByteArray refused = exchange("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", port);
        QVERIFY2(refused.startsWith("HTTP/1.1 503 ") && refused.contains("\"UNAVAILABLE\"")
                     && refused.contains("server.maxConnections"),
                 refused.constData());
    }
};

QTEST_GUILESS_MAIN(TestHttpFront)
#include "tst_httpfront.moc"
