#include "server/stream/metricsstream.h"
#include "tests/support/gatewaystack.h"
#include "tests/support/rawhttp.h"
#include "tests/support/streamclient.h"

#include <QtTest>

#include <memory>

// GET /api/v1/stream (MetricsStream, PROTOCOL.md) over loopback against the
// real engine, GeminiClient, GeminiSimulator, DriftMonitor and
// LoadTestController: hello, snapshot rate, config/loadtest/drift events,
// slow clients, Origin, plain GET, refused and misplaced upgrades, control
// messages, shutdown.

namespace {

constexpr double kRateHz = 20;


QByteArray generateBody(int n)
{
    return "{\"contents\":[{\"parts\":[{\"text\":\"hi " + QByteArray::number(n) + "\"}]}]}";
}

// A WebSocket opening handshake for `path`; `extra` header lines (CRLF-terminated) come last.
QByteArray upgradeRequest(const QByteArray &method, const QByteArray &path, quint16 port, const QByteArray &extra = {},
                          const QByteArray &connection = "Connection: Upgrade\r\n")
{
    return method + ' ' + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(port) + "\r\nUpgrade: websocket\r\n"
        + connection + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" + extra + "\r\n";
}

} // namespace

class TestMetricsStream : public QObject
{
    Q_OBJECT

private:
    GatewayStack m_stack;
    std::unique_ptr<GatewayServer> m_gateway;
    EngineConfig m_baseConfig;
    QUrl m_url;

    std::unique_ptr<GatewayServer> startGateway(const std::function<void(GatewayOptions &)> &change)
    {
        GatewayOptions o;
        o.port = 0;
        o.streamRateHz = kRateHz;
        change(o);
        QString error;
        auto g = m_stack.startGateway(o, &error);
        if (!g)
            qFatal("gateway: %s", qPrintable(error));
        return g;
    }

private slots:
    void initTestCase()
    {
        m_baseConfig.maxBatchSize = 16;
        m_baseConfig.maxWaitMs = 5;
        QString error;
        QVERIFY2(m_stack.start(instantSimulator(8), m_baseConfig, &error), qPrintable(error));
        m_gateway = startGateway([](GatewayOptions &o) { o.allowedOrigins = {QStringLiteral("http://allowed.example")}; });
        m_url = m_gateway->url();
    }

    void cleanupTestCase()
    {
        m_gateway.reset();
        m_stack.stop();
    }

    void helloFirstWithConfigAndHistory()
    {
        StreamClient first(m_url);
        QTRY_VERIFY_WITH_TIMEOUT(first.count(QStringLiteral("snapshot")) >= 4, 5000);
        StreamClient c(m_url);
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("snapshot")) >= 1, 5000);
        const QJsonObject hello = c.messages.first();
        QCOMPARE(hello.value(QStringLiteral("type")).toString(), QStringLiteral("hello"));
        QCOMPARE(c.count(QStringLiteral("hello")), 1);
        QCOMPARE(hello.value(QStringLiteral("version")).toString(), QStringLiteral(SLUICE_VERSION));
        QCOMPARE(hello.value(QStringLiteral("rateHz")).toDouble(), kRateHz);
        QCOMPARE(hello.value(QStringLiteral("config")).toObject(), m_stack.engine->config().toJson());
        QCOMPARE(hello.value(QStringLiteral("upstream")).toObject().value(QStringLiteral("kind")).toString(), QStringLiteral("simulator"));
        const QJsonArray history = hello.value(QStringLiteral("history")).toArray();
        QVERIFY2(history.size() >= 4, qPrintable(QString::number(history.size())));
        QVERIFY(history.size() <= qCeil(300 * kRateHz));
        const QJsonObject last = history.last().toObject();
        QVERIFY(last.contains(QStringLiteral("last10s")));
        QVERIFY(last.contains(QStringLiteral("queueDepth")));
        QVERIFY(!last.contains(QStringLiteral("last60s"))); // trimmed entries (PROTOCOL.md)
        for (qsizetype i = 1; i < history.size(); ++i)
            QVERIFY(history.at(i).toObject().value(QStringLiteral("timestampMs")).toDouble()
                    > history.at(i - 1).toObject().value(QStringLiteral("timestampMs")).toDouble());
        // The first snapshot is newer than the last history entry, and complete.
        const QJsonObject snap = c.ofType(QStringLiteral("snapshot")).first().value(QStringLiteral("snapshot")).toObject();
        QVERIFY(snap.value(QStringLiteral("timestampMs")).toDouble() > last.value(QStringLiteral("timestampMs")).toDouble());
        for (const char *w : {"last1s", "last10s", "last60s", "total"})
            QVERIFY2(snap.value(QLatin1String(w)).isObject(), w);
        // A fresh process has no load test yet, and the drift state follows hello.
        QCOMPARE(c.messages.at(1).value(QStringLiteral("type")).toString(), QStringLiteral("drift"));
    }

    void snapshotsAtTheConfiguredRate()
    {
        StreamClient c(m_url);
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("snapshot")) >= 1, 5000);
        const int start = c.count(QStringLiteral("snapshot"));
        QElapsedTimer t;
        t.start();
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("snapshot")) >= start + int(2 * kRateHz), 5000);
        const double seconds = double(t.elapsed()) / 1000.0;
        const double rate = (c.count(QStringLiteral("snapshot")) - start) / seconds;
        QVERIFY2(rate > 0.75 * kRateHz && rate < 1.25 * kRateHz, qPrintable(QString::number(rate)));
        // Timestamps strictly increase.
        const QList<QJsonObject> snaps = c.ofType(QStringLiteral("snapshot"));
        for (qsizetype i = 1; i < snaps.size(); ++i)
            QVERIFY(snaps.at(i).value(QStringLiteral("snapshot")).toObject().value(QStringLiteral("timestampMs")).toDouble()
                    > snaps.at(i - 1).value(QStringLiteral("snapshot")).toObject().value(QStringLiteral("timestampMs")).toDouble());
    }

    void snapshotsCarryLiveTraffic()
    {
        StreamClient c(m_url);
        QTRY_VERIFY_WITH_TIMEOUT(c.connected, 5000);
        std::vector<std::unique_ptr<RawHttp>> calls;
        for (int i = 0; i < 20; ++i) {
            calls.push_back(std::make_unique<RawHttp>(m_url));
            calls.back()->request("POST", "/v1beta/models/gemini-2.0-flash:generateContent", generateBody(i));
        }
        for (auto &r : calls)
            QTRY_VERIFY_WITH_TIMEOUT(r->complete, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(!c.ofType(QStringLiteral("snapshot")).isEmpty()
                                     && c.ofType(QStringLiteral("snapshot")).last().value(QStringLiteral("snapshot")).toObject()
                                                .value(QStringLiteral("last10s")).toObject().value(QStringLiteral("ok")).toDouble() >= 20,
                                 5000);
    }

    void configAfterSetConfig()
    {
        StreamClient c(m_url);
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("hello")) == 1, 5000);
        EngineConfig next = m_stack.engine->config();
        next.maxBatchSize = 7;
        QVERIFY(m_stack.engine->setConfig(next).isNull());
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("config")) >= 1, 5000);
        const QJsonObject cfg = c.ofType(QStringLiteral("config")).last().value(QStringLiteral("config")).toObject();
        QCOMPARE(cfg.value(QStringLiteral("maxBatchSize")).toInt(), 7);
        QCOMPARE(cfg, m_stack.engine->config().toJson());
        QVERIFY(m_stack.engine->setConfig(m_baseConfig).isNull());
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("config")) >= 2, 5000);
    }

    void driftAndLoadTestEvents()
    {
        StreamClient c(m_url);
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("hello")) == 1, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("drift")) == 1, 5000); // the state right after hello
        QVERIFY(c.ofType(QStringLiteral("drift")).first().value(QStringLiteral("baseline")).isNull());

        m_stack.drift->setBaseline(tinyBaseline());
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("drift")) >= 2, 5000);
        QCOMPARE(c.ofType(QStringLiteral("drift")).last().value(QStringLiteral("baseline")).toObject()
                     .value(QStringLiteral("createdAt")).toString(),
                 QStringLiteral("2026-01-01T12:00:00.000Z"));
        // Traffic far slower than the tiny baseline: one judged window says drift.
        std::vector<std::unique_ptr<RawHttp>> calls;
        for (int i = 0; i < 10; ++i) {
            calls.push_back(std::make_unique<RawHttp>(m_url));
            calls.back()->request("POST", "/v1beta/models/gemini-2.0-flash:generateContent", generateBody(i));
        }
        for (auto &r : calls)
            QTRY_VERIFY_WITH_TIMEOUT(r->complete, 10000);
        QTRY_VERIFY_WITH_TIMEOUT((m_stack.drift->evaluateNow(), m_stack.drift->reading().state == DriftState::Drift), 5000);
        QTRY_VERIFY_WITH_TIMEOUT(c.ofType(QStringLiteral("drift")).last().value(QStringLiteral("state")).toString()
                                     == QStringLiteral("drift"), 5000);
        QVERIFY(c.ofType(QStringLiteral("drift")).last().value(QStringLiteral("score")).toDouble() >= 1.0);

        // A page opened now gets the drift state right after hello.
        StreamClient late(m_url);
        QTRY_VERIFY_WITH_TIMEOUT(late.messages.size() >= 2, 5000);
        QCOMPARE(late.messages.at(1).value(QStringLiteral("type")).toString(), QStringLiteral("drift"));
        QCOMPARE(late.messages.at(1).value(QStringLiteral("state")).toString(), QStringLiteral("drift"));
        m_stack.drift->clearBaseline();

        // loadtest: whatever LoadTestController publishes is forwarded whole.
        // (A real Locust run through the stream is in tst_opsroutes.)
        emit m_stack.loadTests->statusChanged(m_stack.loadTests->status());
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("loadtest")) == 1, 5000);
        const QJsonObject lt = c.ofType(QStringLiteral("loadtest")).first();
        QCOMPARE(lt.value(QStringLiteral("state")).toString(), m_stack.loadTests->status().value(QStringLiteral("state")).toString());
    }

    void stalledClientDoesNotDelayOthers()
    {
        // 50 Hz and a 32 KB backlog limit so a stalled reader backs up within seconds.
        auto gateway = startGateway([](GatewayOptions &o) {
            o.streamRateHz = 50;
            o.streamMaxBacklogBytes = 32 * 1024;
        });
        const auto counters = gateway->streamCounters();
        RawStreamClient stalled(gateway->url());
        QTRY_COMPARE_WITH_TIMEOUT(stalled.status, 101, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(stalled.ofType(QStringLiteral("snapshot")).size() >= 2, 5000);
        stalled.stall();
        StreamClient healthy(gateway->url());
        QTRY_VERIFY_WITH_TIMEOUT(counters->snapshotFramesDropped.load() > 0, 60000);

        // While the stalled client is being dropped, the healthy one gets every tick.
        const int before = healthy.count(QStringLiteral("snapshot"));
        QElapsedTimer t;
        t.start();
        QTRY_VERIFY_WITH_TIMEOUT(t.elapsed() >= 2000, 3000);
        const double rate = (healthy.count(QStringLiteral("snapshot")) - before) / (double(t.elapsed()) / 1000.0);
        QVERIFY2(rate >= 40, qPrintable(QStringLiteral("healthy client got %1 snapshots/s while another stalled").arg(rate)));
        QCOMPARE(healthy.count(QStringLiteral("dropped")), 0);
        // Bounded: only while under the limit is anything queued for the stalled client.
        QVERIFY2(counters->maxBacklogBytes.load() <= 32 * 1024 + 64 * 1024,
                 qPrintable(QString::number(counters->maxBacklogBytes.load())));
        QCOMPARE(counters->clientsAborted.load(), quint64(0));

        qInfo("stalled after %lld ms: dropped %llu, max backlog %lld, %lld messages",
              qint64(t.elapsed()), counters->snapshotFramesDropped.load(), qint64(counters->maxBacklogBytes.load()),
              qint64(stalled.messages.size()));
        stalled.resume();
        QTRY_VERIFY_WITH_TIMEOUT(stalled.messages.size() > 100 || stalled.closed, 20000);
        qInfo("resumed: %lld messages, closed %d, buffer %lld, state %d", qint64(stalled.messages.size()), stalled.closed,
              qint64(stalled.buffer.size()), int(stalled.socket.state()));
        QTRY_VERIFY_WITH_TIMEOUT(!stalled.ofType(QStringLiteral("dropped")).isEmpty(), 20000);
        double told = 0;
        for (const QJsonObject &d : stalled.ofType(QStringLiteral("dropped")))
            told += d.value(QStringLiteral("count")).toDouble();
        QVERIFY(told > 0);
        QVERIFY(told <= double(counters->snapshotFramesDropped.load()));
        QVERIFY(!stalled.closed);
    }

    void hardBacklogAbortsTheClient()
    {
        // Snapshots are never dropped here (1 MiB), so a stalled client's
        // backlog grows until the 64 KiB hard limit aborts it.
        auto gateway = startGateway([](GatewayOptions &o) {
            o.streamRateHz = 50;
            o.streamMaxBacklogBytes = 1024 * 1024;
            o.streamHardBacklogBytes = 64 * 1024;
        });
        const auto counters = gateway->streamCounters();
        RawStreamClient stalled(gateway->url());
        QTRY_VERIFY_WITH_TIMEOUT(!stalled.ofType(QStringLiteral("hello")).isEmpty(), 5000);
        stalled.stall();
        StreamClient healthy(gateway->url());
        QTRY_VERIFY_WITH_TIMEOUT(healthy.count(QStringLiteral("hello")) == 1, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(counters->clientsAborted.load(), quint64(1), 60000);
        QTRY_COMPARE_WITH_TIMEOUT(counters->clients.load(), 1, 5000);
        stalled.resume(); // a socket that does not read cannot see the reset
        QTRY_VERIFY_WITH_TIMEOUT(stalled.closed, 10000);
        // The other client keeps its stream.
        const int before = healthy.count(QStringLiteral("snapshot"));
        QTRY_VERIFY_WITH_TIMEOUT(healthy.count(QStringLiteral("snapshot")) > before + 10, 5000);
        QVERIFY(!healthy.closed);
    }

    void originChecked()
    {
        const QByteArray served = "http://127.0.0.1:" + QByteArray::number(m_url.port());
        RawStreamClient bad(m_url, {{"Origin", "http://evil.example"}});
        QTRY_COMPARE_WITH_TIMEOUT(bad.status, 403, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(bad.closed, 5000);
        QCOMPARE(QJsonDocument::fromJson(bad.body).object().value(QStringLiteral("error")).toObject()
                     .value(QStringLiteral("status")).toString(), QStringLiteral("PERMISSION_DENIED"));
        RawStreamClient otherPort(m_url, {{"Origin", "http://127.0.0.1:1"}});
        QTRY_COMPARE_WITH_TIMEOUT(otherPort.status, 403, 5000);

        RawStreamClient same(m_url, {{"Origin", served}});
        QTRY_COMPARE_WITH_TIMEOUT(same.status, 101, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(!same.ofType(QStringLiteral("hello")).isEmpty(), 5000);
        RawStreamClient listed(m_url, {{"Origin", "http://allowed.example"}});
        QTRY_COMPARE_WITH_TIMEOUT(listed.status, 101, 5000);

        StreamClient browserLike(m_url, QStringLiteral("http://evil.example"));
        QTRY_VERIFY_WITH_TIMEOUT(browserLike.failed || browserLike.closed, 5000);
        QVERIFY(!browserLike.connected);
        QVERIFY(browserLike.messages.isEmpty());
    }

    void plainGetIs426()
    {
        RawStreamClient plain(m_url, {}, /*upgrade=*/false);
        QTRY_COMPARE_WITH_TIMEOUT(plain.status, 426, 5000);
        QVERIFY(plain.head.toLower().contains("upgrade: websocket"));
        QTRY_VERIFY_WITH_TIMEOUT(QJsonDocument::fromJson(plain.body).isObject(), 5000);
        QCOMPARE(QJsonDocument::fromJson(plain.body).object().value(QStringLiteral("error")).toObject()
                     .value(QStringLiteral("code")).toInt(), 426);
        // On a keep-alive connection that served another request first, the router answers 426 too.
        RawHttp keepAlive(m_url);
        keepAlive.request("GET", "/health");
        QTRY_VERIFY_WITH_TIMEOUT(keepAlive.complete, 5000);
        keepAlive.request("GET", "/api/v1/stream");
        QTRY_VERIFY_WITH_TIMEOUT(keepAlive.complete, 5000);
        QCOMPARE(keepAlive.status, 426);
        // A path that only starts like the stream is an ordinary 404.
        RawHttp other(m_url);
        other.request("GET", "/api/v1/streams");
        QTRY_VERIFY_WITH_TIMEOUT(other.complete, 5000);
        QCOMPARE(other.status, 404);
    }

    // Every refusal is ONE complete answer in the Gemini envelope with the
    // common headers, then the connection closes: for requests Qt reads as
    // upgrades, handleRequest() answers and returns false, and Qt's
    // missingHandler() call that follows must add nothing.
    void refusedUpgradesGetOneAnswer_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<QByteArray>("extra");
        QTest::addColumn<QByteArray>("connection");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("header"); // lower-case name, or empty
        QTest::addColumn<QByteArray>("value");
        const QByteArray stream = "/api/v1/stream";
        const QByteArray upgrade = "Connection: Upgrade\r\n";
        QTest::newRow("bad Origin") << QByteArray("GET") << stream << QByteArray("Origin: http://evil.example\r\n") << upgrade
                                    << 403 << QByteArray() << QByteArray();
        // Two Version fields: Qt combines them into "13, 8".
        QTest::newRow("versions 13, 8") << QByteArray("GET") << stream << QByteArray("Sec-WebSocket-Version: 8\r\n") << upgrade
                                        << 426 << QByteArray("sec-websocket-version") << QByteArray("13");
        QTest::newRow("a second key") << QByteArray("GET") << stream << QByteArray("Sec-WebSocket-Key: c2hvcnQ=\r\n") << upgrade
                                 << 400 << QByteArray() << QByteArray();
        // Qt's HTTP parser reads this as an upgrade, Qt's WebSocket server would not.
        QTest::newRow("upgrade in a second Connection field") << QByteArray("GET") << stream << QByteArray()
                                                              << QByteArray("Connection: keep-alive\r\nConnection: Upgrade\r\n")
                                                              << 426 << QByteArray("upgrade") << QByteArray("websocket");
        QTest::newRow("POST") << QByteArray("POST") << stream << QByteArray() << upgrade << 405 << QByteArray("allow")
                              << QByteArray("GET");
        QTest::newRow("upgrade to /health") << QByteArray("GET") << QByteArray("/health") << QByteArray() << upgrade << 404
                                            << QByteArray() << QByteArray();
        QTest::newRow("upgrade to a Gemini route") << QByteArray("POST")
                                                   << QByteArray("/v1beta/models/gemini-2.0-flash:generateContent")
                                                   << QByteArray("Content-Length: 0\r\n") << upgrade << 404 << QByteArray()
                                                   << QByteArray();
    }

    void refusedUpgradesGetOneAnswer()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, path);
        QFETCH(QByteArray, extra);
        QFETCH(QByteArray, connection);
        QFETCH(int, status);
        QFETCH(QByteArray, header);
        QFETCH(QByteArray, value);
        const quint64 refusedBefore = m_gateway->streamCounters()->connectionsRefused.load();
        RawHttp r(m_url);
        QTRY_VERIFY_WITH_TIMEOUT(r.socket.state() == QAbstractSocket::ConnectedState, 5000);
        r.send(upgradeRequest(method, path, quint16(m_url.port()), extra, connection));
        QTRY_VERIFY_WITH_TIMEOUT(r.complete, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(r.closed, 5000);
        QCOMPARE(r.status, status);
        QVERIFY2(r.buffer.isEmpty(), r.buffer.constData()); // nothing after the one answer
        const QJsonObject error = QJsonDocument::fromJson(r.body).object().value(QStringLiteral("error")).toObject();
        QCOMPARE(error.value(QStringLiteral("code")).toInt(), status);
        QCOMPARE(r.header("connection").toLower(), QByteArray("close"));
        QVERIFY(!r.header("x-queue-depth").isEmpty());
        if (!header.isEmpty())
            QCOMPARE(r.header(header), value);
        if (path == "/api/v1/stream")
            QCOMPARE(m_gateway->streamCounters()->connectionsRefused.load(), refusedBefore + 1);
    }

    // Browsers open a new connection for a WebSocket, but an upgrade after
    // another request on the same connection is accepted too.
    void upgradeOnAKeepAliveConnection()
    {
        RawHttp r(m_url);
        r.request("GET", "/health");
        QTRY_VERIFY_WITH_TIMEOUT(r.complete, 5000);
        QCOMPARE(r.status, 200);
        r.send(upgradeRequest("GET", "/api/v1/stream", quint16(m_url.port())));
        QTRY_VERIFY_WITH_TIMEOUT(r.complete, 5000);
        QCOMPARE(r.status, 101);
        QCOMPARE(r.header("upgrade").toLower(), QByteArray("websocket"));
        QCOMPARE(r.header("sec-websocket-accept"), QByteArray("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")); // RFC 6455 §1.3
        // The first frame is hello: one unfragmented text frame (0x81).
        QTRY_VERIFY_WITH_TIMEOUT(r.buffer.contains("\"type\":\"hello\""), 5000);
        QCOMPARE(quint8(r.buffer.at(0)), quint8(0x81));
        QVERIFY(!r.closed);
    }

    void controlMessagesNeedTheToken()
    {
        auto gateway = startGateway([](GatewayOptions &o) { o.adminToken = "s3cret"; });
        RawStreamClient c(gateway->url());
        QTRY_VERIFY_WITH_TIMEOUT(!c.ofType(QStringLiteral("hello")).isEmpty(), 5000);
        c.sendFrame(0x1, "not json at all");
        c.sendFrame(0x1, "[1,2,3]");
        c.sendFrame(0x2, QByteArray(10, '\0'));
        c.sendFrame(0x1, R"({"type":"rate","rateHz":1})");
        QTRY_COMPARE_WITH_TIMEOUT(c.ofType(QStringLiteral("error")).size(), 1, 5000);
        QCOMPARE(c.ofType(QStringLiteral("error")).first().value(QStringLiteral("code")).toInt(), 401);
        c.sendFrame(0x1, R"({"type":"rate","rateHz":1,"token":"s3cret"})");
        QTRY_COMPARE_WITH_TIMEOUT(c.ofType(QStringLiteral("error")).size(), 2, 5000);
        QCOMPARE(c.ofType(QStringLiteral("error")).last().value(QStringLiteral("code")).toInt(), 400);
        // Ping is answered with pong; the stream keeps going.
        c.sendFrame(0x9, "are you there");
        QTRY_VERIFY_WITH_TIMEOUT(c.opcodes.contains(0xA), 5000);
        const qsizetype snaps = c.ofType(QStringLiteral("snapshot")).size();
        QTRY_VERIFY_WITH_TIMEOUT(c.ofType(QStringLiteral("snapshot")).size() > snaps + 2, 5000);
        // Close handshake: the server echoes the close and ends the connection.
        c.sendFrame(0x8, QByteArray("\x03\xe8", 2));
        QTRY_VERIFY_WITH_TIMEOUT(c.closed, 5000);
        QVERIFY(c.opcodes.contains(0x8));
        QTRY_COMPARE_WITH_TIMEOUT(gateway->streamCounters()->clients.load(), 0, 5000);
    }

    void shutdownClosesWith1001()
    {
        auto gateway = startGateway([](GatewayOptions &) {});
        StreamClient c(gateway->url());
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("hello")) == 1, 5000);
        gateway->stop();
        QTRY_VERIFY_WITH_TIMEOUT(c.closed, 5000);
        QCOMPARE(int(c.ws.closeCode()), 1001);
    }
};

QTEST_GUILESS_MAIN(TestMetricsStream)
#include "tst_metricsstream.moc"
