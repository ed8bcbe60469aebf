#include "core/gemini/geminiresponse.h"
#include "server/simulator/simulatorcontent.h"
#include "tests/support/gatewaystack.h"
#include "core/http/sseparser.h"
#include "tests/support/rawhttp.h"
#include "tests/support/userturn.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryFile>
#include <QtTest>

#include <memory>

using namespace std::chrono_literals;

// GatewayServer over loopback with the real BatchInferenceEngine, GeminiClient
// and GeminiSimulator (fast, deterministic): batching, backpressure, live
// config, malformed input, HTTP limits, SSE, /metrics (promtool), /health.

namespace {

constexpr int kWords = 12;
const QByteArray kGenerate = "/v1beta/models/gemini-2.0-flash:generateContent";

QByteArray userTextBytes(const QString &text)
{
    return QJsonDocument(userText(text)).toJson(QJsonDocument::Compact);
}

QJsonObject json(const QByteArray &body)
{
    return QJsonDocument::fromJson(body).object();
}


bool hasQueueHeaders(const RawHttp &r)
{
    // Integers, and a fraction with a '.' and three decimals whatever the locale.
    static const QRegularExpression integer(QStringLiteral("^[0-9]+$"));
    static const QRegularExpression fraction(QStringLiteral("^[01]\\.[0-9]{3}$"));
    return integer.match(QString::fromLatin1(r.header("X-Queue-Depth"))).hasMatch()
        && integer.match(QString::fromLatin1(r.header("X-Queue-Capacity"))).hasMatch()
        && fraction.match(QString::fromLatin1(r.header("X-Backpressure"))).hasMatch()
        && !r.header("Date").isEmpty();
}

} // namespace

class TestGatewayServer : public QObject
{
    Q_OBJECT

private:
    GatewayStack m_stack;
    std::unique_ptr<GatewayServer> m_gateway;
    EngineConfig m_baseConfig;
    QUrl m_url;

    // Sends the request and waits for the whole answer; checks the soft-backpressure headers.
    std::unique_ptr<RawHttp> call(const QByteArray &method, const QByteArray &path, const QByteArray &body = {},
                                  const QList<QPair<QByteArray, QByteArray>> &headers = {{"Content-Type", "application/json"}},
                                  const QUrl &url = {})
    {
        auto r = std::make_unique<RawHttp>(url.isEmpty() ? m_url : url);
        r->isHead = method == "HEAD";
        r->request(method, path, body, headers);
        [&] { QTRY_VERIFY_WITH_TIMEOUT(r->complete, 20000); }();
        [&] { QVERIFY2(hasQueueHeaders(*r), r->rawHead.constData()); }();
        return r;
    }

    void setEngine(const std::function<void(EngineConfig &)> &change)
    {
        EngineConfig c = m_baseConfig;
        change(c);
        QVERIFY(m_stack.engine->setConfig(c).isNull());
    }

private slots:
    void initTestCase()
    {
        m_baseConfig.maxBatchSize = 16;
        m_baseConfig.maxWaitMs = 20;
        m_baseConfig.maxQueue = 2048;
        m_baseConfig.packing = PackingMode::Pack;
        QString error;
        QVERIFY2(m_stack.start(instantSimulator(kWords), m_baseConfig, &error, /*clientMaxAttempts=*/1), qPrintable(error));
        GatewayOptions o;
        o.port = 0;
        m_gateway = std::make_unique<GatewayServer>(GatewayDeps{m_stack.engine.get(), m_stack.client.get(), m_stack.metrics.get()}, o);
        QVERIFY2(m_gateway->start(&error), qPrintable(error));
        m_url = m_gateway->url();
        QCOMPARE(m_url.host(), QStringLiteral("127.0.0.1"));
        QVERIFY(m_url.port() > 0);
    }

    void cleanupTestCase()
    {
        m_gateway.reset();
        m_stack.stop();
    }

    void init()
    {
        QVERIFY(m_stack.engine->setConfig(m_baseConfig).isNull());
        QCOMPARE(m_stack.sim->setConfig(instantSimulator(kWords)).field, QString());
        m_stack.sim->resetStats();
    }

    void startFailures()
    {
        GatewayOptions o;
        o.port = quint16(m_url.port());
        GatewayServer busy({m_stack.engine.get(), m_stack.client.get(), m_stack.metrics.get()}, o);
        QString error;
        QVERIFY(!busy.start(&error));
        QVERIFY2(error.contains(QStringLiteral("address"), Qt::CaseInsensitive), qPrintable(error));
        QVERIFY(error.contains(QString::number(m_url.port())));

        o.port = 0;
        o.host = QStringLiteral("0.0.0.0");
        GatewayServer open({m_stack.engine.get(), m_stack.client.get(), m_stack.metrics.get()}, o);
        QVERIFY(!open.start(&error));
        QVERIFY2(error.contains(QStringLiteral("admin token")), qPrintable(error));
    }

    void generateContentIsBatched()
    {
        constexpr int kRequests = 400;
        std::vector<std::unique_ptr<RawHttp>> clients;
        for (int i = 0; i < kRequests; ++i) {
            clients.push_back(std::make_unique<RawHttp>(m_url));
            clients.back()->request("POST", kGenerate, userTextBytes(QStringLiteral("batched question %1").arg(i)));
        }
        QTRY_VERIFY_WITH_TIMEOUT(std::all_of(clients.begin(), clients.end(), [](const auto &c) { return c->complete; }), 30000);
        for (int i = 0; i < kRequests; ++i) {
            const RawHttp &c = *clients[size_t(i)];
            QCOMPARE(c.status, 200);
            QVERIFY(hasQueueHeaders(c));
            const GeminiResponse resp(json(c.body));
            QCOMPARE(resp.text(), SimulatorContent::answerFor(QStringLiteral("batched question %1").arg(i), kWords));
            QCOMPARE(resp.finishReason(), QStringLiteral("STOP"));
            QVERIFY(resp.usage().totalTokenCount.value_or(0) > 0);
        }
        const qint64 calls = m_stack.sim->stats().route(QStringLiteral("generateContent"));
        qInfo() << "upstream generateContent calls for" << kRequests << "requests:" << calls;
        QVERIFY2(calls <= (kRequests + 15) / 16 + 10, qPrintable(QString::number(calls)));
        QVERIFY(m_stack.engine->counters().invariantHolds());
    }

    void embeddingsAreMerged()
    {
        constexpr int kRequests = 40;
        std::vector<std::unique_ptr<RawHttp>> clients;
        for (int i = 0; i < kRequests; ++i) {
            clients.push_back(std::make_unique<RawHttp>(m_url));
            const QByteArray body = QJsonDocument(QJsonObject{
                {QStringLiteral("content"), QJsonObject{{QStringLiteral("parts"), QJsonArray{QJsonObject{{QStringLiteral("text"), QStringLiteral("embed %1").arg(i)}}}}}},
                {QStringLiteral("output_dimensionality"), 8}}).toJson(QJsonDocument::Compact); // snake_case accepted
            clients.back()->request("POST", "/v1beta/models/gemini-embedding-001:embedContent", body);
        }
        QTRY_VERIFY_WITH_TIMEOUT(std::all_of(clients.begin(), clients.end(), [](const auto &c) { return c->complete; }), 20000);
        for (int i = 0; i < kRequests; ++i) {
            const RawHttp &c = *clients[size_t(i)];
            QCOMPARE(c.status, 200);
            const QJsonArray values = json(c.body).value(QStringLiteral("embedding")).toObject().value(QStringLiteral("values")).toArray();
            const QList<double> expected = SimulatorContent::embeddingFor(QStringLiteral("embed %1").arg(i), 8);
            QCOMPARE(values.size(), expected.size());
            for (qsizetype k = 0; k < values.size(); ++k)
                QVERIFY(qFuzzyCompare(values.at(k).toDouble(), expected.at(k)));
        }
        const SimulatorStats s = m_stack.sim->stats();
        QCOMPARE(s.route(QStringLiteral("embedContent")), 0);
        QVERIFY(s.route(QStringLiteral("batchEmbedContents")) >= 1);
        QVERIFY(s.route(QStringLiteral("batchEmbedContents")) <= kRequests / 4);
    }

    void queueFullIs429WithRetryAfter()
    {
        SimulatorConfig sc = instantSimulator(kWords);
        sc.baseLatencyMs = 300;
        QVERIFY(m_stack.sim->setConfig(sc).isNull());
        setEngine([](EngineConfig &c) {
            c.maxQueue = 3;
            c.maxInflightBatches = 1;
            c.maxBatchSize = 1;
            c.maxWaitMs = 0;
        });
        constexpr int kRequests = 12;
        std::vector<std::unique_ptr<RawHttp>> clients;
        for (int i = 0; i < kRequests; ++i) {
            clients.push_back(std::make_unique<RawHttp>(m_url));
            clients.back()->request("POST", kGenerate, userTextBytes(QStringLiteral("crowded %1").arg(i)));
        }
        QTRY_VERIFY_WITH_TIMEOUT(std::all_of(clients.begin(), clients.end(), [](const auto &c) { return c->complete; }), 30000);
        int ok = 0, refused = 0;
        for (int i = 0; i < kRequests; ++i) {
            const RawHttp &c = *clients[size_t(i)];
            QVERIFY(hasQueueHeaders(c));
            if (c.status == 200) {
                ++ok;
                QCOMPARE(GeminiResponse(json(c.body)).text(), SimulatorContent::answerFor(QStringLiteral("crowded %1").arg(i), kWords));
                continue;
            }
            QCOMPARE(c.status, 429);
            ++refused;
            QVERIFY(c.header("Retry-After").toInt() >= 1);
            const QJsonObject error = json(c.body).value(QStringLiteral("error")).toObject();
            QCOMPARE(error.value(QStringLiteral("code")).toInt(), 429);
            QCOMPARE(error.value(QStringLiteral("status")).toString(), QStringLiteral("RESOURCE_EXHAUSTED"));
            const QJsonObject detail = error.value(QStringLiteral("details")).toArray().at(0).toObject();
            QCOMPARE(detail.value(QStringLiteral("@type")).toString(), QStringLiteral("type.googleapis.com/google.rpc.RetryInfo"));
            QVERIFY(detail.value(QStringLiteral("retryDelay")).toString().endsWith(u's'));
        }
        QVERIFY2(ok >= 3 && refused >= 1, qPrintable(QStringLiteral("ok %1 refused %2").arg(ok).arg(refused)));
        QCOMPARE(ok + refused, kRequests);
        QVERIFY(m_stack.engine->counters().invariantHolds());
    }

    void deadlineInQueueIs504WithoutUpstreamCall()
    {
        setEngine([](EngineConfig &c) { c.maxWaitMs = 5000; });
        auto r = call("POST", kGenerate, userTextBytes(QStringLiteral("in a hurry")), {{"Content-Type", "application/json"}, {"X-Request-Deadline-Ms", "100"}});
        QCOMPARE(r->status, 504);
        QCOMPARE(json(r->body).value(QStringLiteral("error")).toObject().value(QStringLiteral("status")).toString(),
                 QStringLiteral("DEADLINE_EXCEEDED"));
        QCOMPARE(m_stack.sim->stats().route(QStringLiteral("generateContent")), 0);
        auto bad = call("POST", kGenerate, userTextBytes(QStringLiteral("x")), {{"Content-Type", "application/json"}, {"X-Request-Deadline-Ms", "soon"}});
        QCOMPARE(bad->status, 400);
    }

    void patchConfigTakesEffectOnNextBatch()
    {
        auto r = call("PATCH", "/api/v1/config", R"({"maxBatchSize": 4, "maxWaitMs": 50})");
        QCOMPARE(r->status, 200);
        QCOMPARE(json(r->body).value(QStringLiteral("maxBatchSize")).toInt(), 4);
        QCOMPARE(m_stack.engine->config().maxBatchSize, 4);
        auto get = call("GET", "/api/v1/config");
        QCOMPARE(json(get->body).value(QStringLiteral("maxBatchSize")).toInt(), 4);

        std::vector<std::unique_ptr<RawHttp>> clients;
        for (int i = 0; i < 16; ++i) {
            clients.push_back(std::make_unique<RawHttp>(m_url));
            clients.back()->request("POST", kGenerate, userTextBytes(QStringLiteral("small batch %1").arg(i)));
        }
        QTRY_VERIFY_WITH_TIMEOUT(std::all_of(clients.begin(), clients.end(), [](const auto &c) { return c->complete; }), 20000);
        for (const auto &c : clients)
            QCOMPARE(c->status, 200);
        QVERIFY(m_stack.sim->stats().route(QStringLiteral("generateContent")) >= 4); // at most 4 members per call
    }

    void badPatchChangesNothing()
    {
        const EngineConfig before = m_stack.engine->config();
        auto r = call("PATCH", "/api/v1/config", R"({"maxBatchSize": 8, "maxWaitMs": "soon"})");
        QCOMPARE(r->status, 400);
        const QJsonObject error = json(r->body).value(QStringLiteral("error")).toObject();
        QCOMPARE(error.value(QStringLiteral("status")).toString(), QStringLiteral("INVALID_ARGUMENT"));
        QVERIFY2(error.value(QStringLiteral("message")).toString().contains(QStringLiteral("maxWaitMs")), r->body.constData());
        QVERIFY(m_stack.engine->config() == before);
        auto r2 = call("PATCH", "/api/v1/config", R"({"noSuchKnob": 1})");
        QCOMPARE(r2->status, 400);
        QVERIFY(json(r2->body).value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().contains(QStringLiteral("noSuchKnob")));
        QVERIFY(m_stack.engine->config() == before);
    }

    void patchNeedsTokenWhenSet()
    {
        GatewayOptions o;
        o.port = 0;
        o.adminToken = "s3cret";
        GatewayServer guarded({m_stack.engine.get(), m_stack.client.get(), m_stack.metrics.get()}, o);
        QString error;
        QVERIFY2(guarded.start(&error), qPrintable(error));
        auto none = call("PATCH", "/api/v1/config", R"({"maxBatchSize": 5})", {{"Content-Type", "application/json"}}, guarded.url());
        QCOMPARE(none->status, 401);
        QCOMPARE(json(none->body).value(QStringLiteral("error")).toObject().value(QStringLiteral("status")).toString(),
                 QStringLiteral("UNAUTHENTICATED"));
        auto wrong = call("PATCH", "/api/v1/config", R"({"maxBatchSize": 5})",
                          {{"Content-Type", "application/json"}, {"Authorization", "Bearer nope"}}, guarded.url());
        QCOMPARE(wrong->status, 401);
        QCOMPARE(m_stack.engine->config().maxBatchSize, m_baseConfig.maxBatchSize);
        auto right = call("PATCH", "/api/v1/config", R"({"maxBatchSize": 5})",
                          {{"Content-Type", "application/json"}, {"Authorization", "Bearer s3cret"}}, guarded.url());
        QCOMPARE(right->status, 200);
        QCOMPARE(m_stack.engine->config().maxBatchSize, 5);
        guarded.stop();
    }

    void badInput_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("message");
        QTest::addColumn<QByteArray>("allow");
        const QByteArray j = "application/json";
        QTest::newRow("empty body") << QByteArray("POST") << kGenerate << j << QByteArray() << 400 << "body is empty" << QByteArray();
        QTest::newRow("invalid json") << QByteArray("POST") << kGenerate << j << QByteArray("{\"contents\": [") << 400 << "invalid JSON" << QByteArray();
        QTest::newRow("not an object") << QByteArray("POST") << kGenerate << j << QByteArray("[1,2]") << 400 << "must be a JSON object" << QByteArray();
        QTest::newRow("contents missing") << QByteArray("POST") << kGenerate << j << QByteArray("{}") << 400 << "contents is required" << QByteArray();
        QTest::newRow("contents wrong type") << QByteArray("POST") << kGenerate << j << QByteArray(R"({"contents":"hi"})") << 400 << "contents must be a list" << QByteArray();
        QTest::newRow("parts wrong type") << QByteArray("POST") << kGenerate << j << QByteArray(R"({"contents":[{"parts":"hi"}]})") << 400 << "contents[0].parts must be a list" << QByteArray();
        QTest::newRow("text wrong type") << QByteArray("POST") << kGenerate << j << QByteArray(R"({"contents":[{"parts":[{"text":5}]}]})") << 400 << "contents[0].parts[0].text must be a string" << QByteArray();
        QTest::newRow("second turn's part not an object") << QByteArray("POST") << kGenerate << j << QByteArray(R"({"contents":[{"parts":[{"text":"a"}]},{"role":"model","parts":[{"text":"b"},7]}]})") << 400 << "contents[1].parts[1] must be an object, not a number" << QByteArray();
        QTest::newRow("systemInstruction parts empty") << QByteArray("POST") << kGenerate << j << QByteArray(R"({"contents":[{"parts":[{"text":"a"}]}],"system_instruction":{"parts":[]}})") << 400 << "systemInstruction.parts must not be empty" << QByteArray();
        QTest::newRow("batch embed member role") << QByteArray("POST") << QByteArray("/v1beta/models/text-embedding-004:batchEmbedContents") << j << QByteArray(R"({"requests":[{"content":{"parts":[{"text":"a"}]}},{"content":{"role":3,"parts":[{"text":"b"}]}}]})") << 400 << "requests[1].content.role must be a string" << QByteArray();
        QTest::newRow("escaped underscore in a key") << QByteArray("POST") << kGenerate << j << QByteArray(R"({"contents":[{"parts":[{"text":"a"}]}],"generation\u005fconfig":3})") << 400 << "generationConfig must be an object" << QByteArray();
        QTest::newRow("snake generation_config wrong type") << QByteArray("POST") << kGenerate << j << QByteArray(R"({"contents":[{"parts":[{"text":"a"}]}],"generation_config":3})") << 400 << "generationConfig must be an object" << QByteArray();
        QTest::newRow("invalid utf-8") << QByteArray("POST") << kGenerate << j << QByteArray("{\"contents\":[{\"parts\":[{\"text\":\"\xff\xfe\"}]}]}") << 400 << "UTF-8" << QByteArray();
        QTest::newRow("not json content type") << QByteArray("POST") << kGenerate << QByteArray("text/plain") << userTextBytes(QStringLiteral("a")) << 415 << "Content-Type" << QByteArray();
        QTest::newRow("embed content missing") << QByteArray("POST") << QByteArray("/v1beta/models/gemini-embedding-001:embedContent") << j << QByteArray("{}") << 400 << "content is required" << QByteArray();
        QTest::newRow("unknown route") << QByteArray("GET") << QByteArray("/v2/nothing") << j << QByteArray() << 404 << "no route" << QByteArray();
        QTest::newRow("unknown operation") << QByteArray("POST") << QByteArray("/v1beta/models/gemini-2.0-flash:explode") << j << QByteArray("{}") << 404 << "no route" << QByteArray();
        QTest::newRow("GET on generateContent") << QByteArray("GET") << kGenerate << j << QByteArray() << 405 << "method not allowed" << QByteArray("POST");
        QTest::newRow("DELETE on health") << QByteArray("DELETE") << QByteArray("/health") << j << QByteArray() << 405 << "method not allowed" << QByteArray("GET, HEAD");
        QTest::newRow("POST on config") << QByteArray("POST") << QByteArray("/api/v1/config") << j << QByteArray("{}") << 405 << "method not allowed" << QByteArray("GET, HEAD, PATCH");
    }

    void badInput()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, path);
        QFETCH(QByteArray, contentType);
        QFETCH(QByteArray, body);
        QFETCH(int, status);
        QFETCH(QString, message);
        QFETCH(QByteArray, allow);
        auto r = call(method, path, body, {{"Content-Type", contentType}});
        QCOMPARE(r->status, status);
        const QJsonObject error = json(r->body).value(QStringLiteral("error")).toObject();
        QCOMPARE(error.value(QStringLiteral("code")).toInt(), status);
        QVERIFY(!error.value(QStringLiteral("status")).toString().isEmpty());
        QVERIFY2(error.value(QStringLiteral("message")).toString().contains(message), r->body.constData());
        QCOMPARE(r->header("Allow"), allow);
        QCOMPARE(m_stack.sim->stats().route(QStringLiteral("generateContent")), 0);
    }

    void bodyTooLargeIs413BeforeTheBody()
    {
        RawHttp r(m_url);
        r.send("POST " + kGenerate + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
               + QByteArray::number(11 * 1024 * 1024) + "\r\n\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(r.complete, 5000);
        QCOMPARE(r.status, 413);
        QVERIFY(hasQueueHeaders(r));
        QCOMPARE(r.header("Connection"), QByteArray("close"));
        QVERIFY(json(r.body).value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().contains(QStringLiteral("exceeds")));
        QTRY_VERIFY_WITH_TIMEOUT(r.closed, 5000);
    }

    void headersTooLargeIs431()
    {
        RawHttp r(m_url);
        r.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + QByteArray(100 * 1024, 'a') + "\r\n\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(r.complete, 5000);
        QCOMPARE(r.status, 431);
        QTRY_VERIFY_WITH_TIMEOUT(r.closed, 5000);
    }

    void expectContinue()
    {
        RawHttp r(m_url);
        const QByteArray body = userTextBytes(QStringLiteral("continue please"));
        r.send("POST " + kGenerate + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: "
               + QByteArray::number(body.size()) + "\r\n\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(r.complete, 5000);
        QCOMPARE(r.status, 100);
        r.send(body);
        QTRY_VERIFY_WITH_TIMEOUT(r.complete, 10000);
        QCOMPARE(r.status, 200);
    }

    void headHasNoBody()
    {
        RawHttp r(m_url);
        r.isHead = true;
        r.request("HEAD", "/health", {}, {});
        QTRY_VERIFY_WITH_TIMEOUT(r.complete, 5000);
        QCOMPARE(r.status, 200);
        QVERIFY(r.header("Content-Length").toInt() > 0);
        QVERIFY(hasQueueHeaders(r));
        // Same connection: a body after the HEAD answer would corrupt this one.
        r.isHead = false;
        r.request("GET", "/health", {}, {});
        QTRY_VERIFY_WITH_TIMEOUT(r.complete, 5000);
        QCOMPARE(r.status, 200);
        QCOMPARE(json(r.body).value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
    }

    void slowHeadersAreCutOff()
    {
        GatewayOptions o;
        o.port = 0;
        o.headerTimeoutMs = 300;
        o.idleTimeoutMs = 400;
        GatewayServer strict({m_stack.engine.get(), m_stack.client.get(), m_stack.metrics.get()}, o);
        QString error;
        QVERIFY2(strict.start(&error), qPrintable(error));
        RawHttp slow(strict.url());
        slow.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"); // never finishes its headers
        QElapsedTimer t;
        t.start();
        QTRY_VERIFY_WITH_TIMEOUT(slow.closed, 5000);
        QVERIFY(t.elapsed() >= 250);
        QCOMPARE(slow.status, 408);
        // Idle keep-alive connections are closed too.
        RawHttp idle(strict.url());
        idle.request("GET", "/health", {}, {});
        QTRY_VERIFY_WITH_TIMEOUT(idle.complete, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(idle.closed, 5000);
        strict.stop();
    }

    void clientDisconnectMidBatch()
    {
        setEngine([](EngineConfig &c) { c.maxWaitMs = 3000; });
        const quint64 cancelledBefore = m_stack.engine->counters().cancelled;
        {
            std::vector<std::unique_ptr<RawHttp>> clients;
            for (int i = 0; i < 10; ++i) {
                clients.push_back(std::make_unique<RawHttp>(m_url));
                clients.back()->request("POST", kGenerate, userTextBytes(QStringLiteral("leaving %1").arg(i)));
            }
            QTRY_COMPARE_WITH_TIMEOUT(m_stack.engine->counters().queued, quint64(10), 5000);
            for (auto &c : clients)
                c->socket.abort();
        }
        QTRY_COMPARE_WITH_TIMEOUT(m_stack.engine->counters().cancelled - cancelledBefore, quint64(10), 5000);
        QVERIFY(m_stack.engine->counters().invariantHolds());
        QCOMPARE(m_stack.sim->stats().route(QStringLiteral("generateContent")), 0);
        setEngine([](EngineConfig &) {});
        auto r = call("POST", kGenerate, userTextBytes(QStringLiteral("still serving")));
        QCOMPARE(r->status, 200);
        QVERIFY(m_stack.engine->counters().invariantHolds());
    }

    void sseStreaming()
    {
        const QString prompt = QStringLiteral("stream me a river");
        auto r = call("POST", "/v1beta/models/gemini-2.0-flash%3AstreamGenerateContent?alt=sse", userTextBytes(prompt),
                      {{"Content-Type", "application/json"}, {"X-Sluice-Pack", "off"}});
        QCOMPARE(r->status, 200);
        QCOMPARE(r->header("Content-Type"), QByteArray("text/event-stream"));
        QVERIFY(r->body.endsWith("\r\n\r\n"));
        QList<QJsonObject> chunks;
        qsizetype pos = 0;
        while (pos < r->body.size()) {
            const qsizetype end = r->body.indexOf("\r\n\r\n", pos);
            QVERIFY(end > pos);
            const QByteArray event = r->body.mid(pos, end - pos);
            QVERIFY2(event.startsWith("data: "), event.constData());
            QVERIFY(!event.contains('\n'));
            QJsonParseError pe;
            const QJsonDocument doc = QJsonDocument::fromJson(event.mid(6), &pe);
            QCOMPARE(pe.error, QJsonParseError::NoError);
            chunks.append(doc.object());
            pos = end + 4;
        }
        QVERIFY(chunks.size() > 1);
        QString text;
        for (const QJsonObject &c : chunks)
            text += GeminiResponse(c).text();
        QCOMPARE(text, SimulatorContent::answerFor(prompt, kWords));
        const GeminiResponse last(chunks.last());
        QCOMPARE(last.finishReason(), QStringLiteral("STOP"));
        QVERIFY(last.usage().totalTokenCount.value_or(0) > 0);
        QVERIFY(last.usage().candidatesTokenCount.value_or(0) > 0);

        // Without alt=sse: a JSON array of the same chunks, packed mode allowed.
        auto arr = call("POST", "/v1beta/models/gemini-2.0-flash:streamGenerateContent", userTextBytes(prompt));
        QCOMPARE(arr->status, 200);
        QVERIFY(QJsonDocument::fromJson(arr->body).isArray());
    }

    // The HTTP side of a passed-through stream: chunked, one piece per
    // upstream event as it comes; a request pipelined behind it is answered
    // after its end; HTTP/1.0 gets a close-delimited body; an upstream error
    // after the stream began is an error event, then the connection closes.
    void streamFraming()
    {
        SimulatorConfig sc = instantSimulator(kWords);
        sc.baseLatencyMs = 20;
        sc.tokensPerSecond = 100; // ~12-token pieces every 120 ms
        sc.responseWords = 40;
        QVERIFY(m_stack.sim->setConfig(sc).isNull());
        const QByteArray path = "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse";
        const QByteArray body = userTextBytes(QStringLiteral("frame me"));

        // Chunked, pieces as they come, and a pipelined /health waits for the end.
        RawHttp c(m_url);
        QByteArray pipelined = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                             + "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body
                             + "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        c.send(pipelined);
        QTRY_VERIFY_WITH_TIMEOUT(c.pieces >= 1, 10000);
        QCOMPARE(c.status, 200);
        QCOMPARE(c.headers.value("transfer-encoding"), QByteArray("chunked"));
        QCOMPARE(c.headers.value("content-type"), QByteArray("text/event-stream"));
        QCOMPARE(c.headers.value("x-sluice-cache"), QByteArray("bypass"));
        QVERIFY(!c.complete); // the first event is out while the upstream generates the rest
        QTRY_VERIFY_WITH_TIMEOUT(c.complete, 10000);
        QVERIFY2(c.pieces >= 3, qPrintable(QString::number(c.pieces)));
        const QByteArray streamed = c.body;
        QVERIFY(streamed.startsWith("data: {") && streamed.endsWith("\r\n\r\n"));
        c.send({}); // the pipelined answer: /health, after the stream's end
        QTRY_VERIFY_WITH_TIMEOUT(c.complete, 10000);
        QCOMPARE(c.status, 200);
        QVERIFY(QJsonDocument::fromJson(c.body).object().contains(QStringLiteral("status")));

        // HTTP/1.0: no chunked coding; the body ends with the connection.
        QTcpSocket s10;
        s10.connectToHost(QHostAddress::LocalHost, quint16(m_url.port()));
        QVERIFY(s10.waitForConnected(5000));
        s10.write("POST " + path + " HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: "
                  + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        QByteArray raw;
        QTRY_VERIFY_WITH_TIMEOUT((raw += s10.readAll(), s10.state() == QAbstractSocket::UnconnectedState), 10000);
        raw += s10.readAll();
        const qsizetype headEnd = raw.indexOf("\r\n\r\n");
        QVERIFY(headEnd > 0);
        const QByteArray head = raw.left(headEnd).toLower();
        QVERIFY2(!head.contains("transfer-encoding") && head.contains("connection: close"), head.constData());
        // The same events (the simulator draws a responseId per call).
        const auto sameId = [](QByteArray b) {
            return QString::fromUtf8(b).replace(QRegularExpression(QStringLiteral("\"responseId\":\"[^\"]*\"")), QStringLiteral("-"));
        };
        QCOMPARE(sameId(raw.mid(headEnd + 4)), sameId(streamed));

        // Failing halfway: the events so far, an error event, then close.
        sc.midStreamErrorRate = 1;
        QVERIFY(m_stack.sim->setConfig(sc).isNull());
        RawHttp f(m_url);
        f.request("POST", path, body);
        QTRY_VERIFY_WITH_TIMEOUT(f.complete, 10000);
        QCOMPARE(f.status, 200);
        QVERIFY(f.body.startsWith("data: {\"candidates\""));
        const QByteArray lastEvent = f.body.mid(f.body.lastIndexOf("data: "));
        QVERIFY2(lastEvent.startsWith("data: {\"error\":"), lastEvent.constData());
        QCOMPARE(QJsonDocument::fromJson(lastEvent.mid(6)).object().value(QStringLiteral("error")).toObject()
                     .value(QStringLiteral("code")).toInt(), 503);
        QTRY_VERIFY_WITH_TIMEOUT(f.closed, 5000);
        QVERIFY(m_stack.engine->counters().invariantHolds());
    }

    // Without alt=sse the events become one JSON array, written as they come.
    void streamWithoutSseIsAnArray()
    {
        const QString prompt = QStringLiteral("an array of pieces");
        auto sse = call("POST", "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse", userTextBytes(prompt));
        auto arr = call("POST", "/v1beta/models/gemini-2.0-flash:streamGenerateContent", userTextBytes(prompt));
        QCOMPARE(arr->status, 200);
        QCOMPARE(arr->headers.value("content-type"), QByteArray("application/json"));
        const QJsonArray events = QJsonDocument::fromJson(arr->body).array();
        SseParser parser;
        QList<QJsonObject> expected = parser.feed(sse->body);
        expected += parser.finish();
        QCOMPARE(events.size(), expected.size());
        for (qsizetype i = 0; i < events.size(); ++i) {
            QJsonObject a = events.at(i).toObject(), b = expected.at(i);
            a.remove(QStringLiteral("responseId"));
            b.remove(QStringLiteral("responseId"));
            QCOMPARE(a, b);
        }
    }

    void passthroughRoutes()
    {
        auto count = call("POST", "/v1beta/models/gemini-2.0-flash:countTokens", userTextBytes(QStringLiteral("The quick brown fox jumps over the lazy dog.")));
        QCOMPARE(count->status, 200);
        QCOMPARE(json(count->body).value(QStringLiteral("totalTokens")).toInt(), 11);
        auto list = call("GET", "/v1beta/models");
        QCOMPARE(list->status, 200);
        QVERIFY(!json(list->body).value(QStringLiteral("models")).toArray().isEmpty());
        auto model = call("GET", "/v1beta/models/gemini-2.0-flash");
        QCOMPARE(model->status, 200);
        QCOMPARE(json(model->body).value(QStringLiteral("name")).toString(), QStringLiteral("models/gemini-2.0-flash"));
        auto missing = call("GET", "/v1beta/models/no-such-model");
        QCOMPARE(missing->status, 404);
        QVERIFY(json(missing->body).value(QStringLiteral("error")).isObject());
        auto stats = call("GET", "/api/v1/stats");
        QCOMPARE(stats->status, 200);
        QVERIFY(json(stats->body).contains(QStringLiteral("total")));
    }

    void metricsPassPromtool()
    {
        // Sluice's count of upstream calls before this test's own (the
        // simulator's stats were reset by init()).
        const auto upstreamCallsCounted = [this] {
            qint64 counted = 0;
            for (const QByteArray &line : call("GET", "/metrics")->body.split('\n')) {
                if (line.startsWith("sluice_upstream_calls_total{"))
                    counted += line.mid(line.lastIndexOf(' ') + 1).toLongLong();
            }
            return counted;
        };
        const qint64 countedBefore = upstreamCallsCounted();
        for (int i = 0; i < 5; ++i)
            QCOMPARE(call("POST", "/v1beta/models/gemini-2.0-flash:generateContent",
                          userTextBytes(QStringLiteral("metrics %1").arg(i)))->status, 200);
        QCOMPARE(call("POST", "/v1beta/models/gemini-2.0-flash:countTokens", userTextBytes(QStringLiteral("count me")))->status, 200);

        auto r = call("GET", "/metrics");
        QCOMPARE(r->status, 200);
        QVERIFY(r->header("Content-Type").startsWith("text/plain; version=0.0.4"));
        for (const char *name : {"sluice_requests_total{route=\"generateContent\",code=\"200\"}", "sluice_request_duration_seconds_bucket",
                                 "sluice_queue_wait_seconds_count", "sluice_upstream_duration_seconds_sum", "sluice_queue_depth",
                                 "sluice_queue_capacity", "sluice_inflight_batches", "sluice_batch_size_bucket",
                                 "sluice_tokens_total{kind=\"prompt\"}", "sluice_rejected_total{reason=\"queue_full\"}",
                                 "sluice_upstream_requests_total", "sluice_latency_drift_score",
                                 "sluice_upstream_calls_total{kind=\"pack\"", "sluice_upstream_calls_total{kind=\"retry\"",
                                 "sluice_pack_members_total{outcome=\"repacked\"}", "sluice_quota_used_ratio{model=\"gemini-2.0-flash\",dimension=\"rpm\"}"})
            QVERIFY2(r->body.contains(name), name);
        // The calls Sluice counts are the calls the upstream saw: what
        // sluice_upstream_calls_total grew by equals the simulator's own
        // count of model calls since init().
        const qint64 counted = upstreamCallsCounted() - countedBefore;
        const SimulatorStats st = m_stack.sim->stats();
        qint64 upstreamModelCalls = 0;
        for (const char *route : {"generateContent", "streamGenerateContent", "embedContent", "batchEmbedContents", "countTokens"})
            upstreamModelCalls += st.route(QLatin1String(route));
        QVERIFY(counted >= 2); // at least one generateContent call and the countTokens one
        QCOMPARE(counted, upstreamModelCalls);
#ifdef SLUICE_PROMTOOL
        QTemporaryFile file;
        QVERIFY(file.open());
        file.write(r->body);
        file.flush();
        QProcess promtool;
        promtool.setProcessChannelMode(QProcess::MergedChannels);
        promtool.start(QStringLiteral(SLUICE_PROMTOOL), {QStringLiteral("check"), QStringLiteral("metrics")});
        QVERIFY(promtool.waitForStarted());
        promtool.write(r->body);
        promtool.closeWriteChannel();
        QVERIFY(promtool.waitForFinished(20000));
        QVERIFY2(promtool.exitCode() == 0, promtool.readAll().constData());
#else
        QSKIP("promtool not installed");
#endif
    }

    // Last: draining is irreversible.
    void healthOkThenDraining()
    {
        auto ok = call("GET", "/health");
        QCOMPARE(ok->status, 200);
        const QJsonObject body = json(ok->body);
        QCOMPARE(body.value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
        QCOMPARE(body.value(QStringLiteral("upstream")).toObject().value(QStringLiteral("circuit")).toString(), QStringLiteral("closed"));
        QCOMPARE(body.value(QStringLiteral("upstream")).toObject().value(QStringLiteral("kind")).toString(), QStringLiteral("simulator"));
        m_stack.engine->drain();
        auto draining = call("GET", "/health");
        QCOMPARE(draining->status, 503);
        QCOMPARE(json(draining->body).value(QStringLiteral("status")).toString(), QStringLiteral("draining"));
        auto refused = call("POST", kGenerate, userTextBytes(QStringLiteral("too late")));
        QCOMPARE(refused->status, 503);
        QCOMPARE(json(refused->body).value(QStringLiteral("error")).toObject().value(QStringLiteral("status")).toString(),
                 QStringLiteral("UNAVAILABLE"));
        QVERIFY(refused->header("Retry-After").toInt() >= 1);
        QVERIFY(m_stack.engine->counters().invariantHolds());
    }
};

QTEST_GUILESS_MAIN(TestGatewayServer)
#include "tst_gatewayserver.moc"
