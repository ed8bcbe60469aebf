#include "core/engine/streamsink.h"
#include "core/gemini/geminiclient.h"
#include "core/http/sseparser.h"
#include "core/gemini/geminiresponse.h"
#include "core/gemini/packcodec.h"
#include "server/simulator/geminisimulator.h"
#include "server/simulator/simulatorcontent.h"
#include "tests/support/userturn.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTcpServer>
#include <QTcpSocket>
#include <QtTest>

#include <mutex>

using namespace std::chrono;
using namespace std::chrono_literals;

// GeminiClient against the real GeminiSimulator over loopback: every route,
// retries, the circuit breaker, each batching mode, and concurrency past Qt's
// 6-connections-per-host cap. No fake server, no mock. Every case runs once
// per transport (global data: native, qnam). The native transport's own
// cases (keep-alive reuse, stale connections, the connection cap, idle
// timeout) use the simulator too, except where a byte-exact peer is the
// point (RawPeer: Connection: close, chunked, malformed answers, a peer that
// never answers, or closes a kept-alive connection).

namespace {

QJsonObject embedBody(const QString &text, int dims = 8)
{
    return QJsonObject{{QStringLiteral("content"), QJsonObject{{QStringLiteral("parts"), QJsonArray{QJsonObject{{QStringLiteral("text"), text}}}}}},
                       {QStringLiteral("outputDimensionality"), dims}};
}

QJsonArray expectedEmbedding(const QString &text, int dims = 8)
{
    QJsonArray values;
    for (double v : SimulatorContent::embeddingFor(text, dims))
        values.append(v);
    return values;
}

// Collects a callback's result from whichever thread delivers it.
template <typename T>
struct Waiter {
    std::mutex mutex;
    std::optional<T> value;
    int calls = 0;

    auto callback()
    {
        return [this](T v) {
            std::lock_guard lock(mutex);
            ++calls;
            value = std::move(v);
        };
    }
    bool done()
    {
        std::lock_guard lock(mutex);
        return value.has_value();
    }
    T get()
    {
        std::lock_guard lock(mutex);
        return *value;
    }
};

using ResultWaiter = Waiter<InferenceResult>;
using BatchWaiter = Waiter<std::vector<InferenceResult>>;

SimulatorConfig fastSim()
{
    SimulatorConfig c;
    c.baseLatencyMs = 0;
    c.tokensPerSecond = 0;
    c.jitterSigma = 0;
    c.embedLatencyMs = 0;
    c.maxConcurrent = 256;
    c.responseWords = 12;
    return c;
}

const QString kModel = QStringLiteral("gemini-2.0-flash");
const QString kEmbedModel = QStringLiteral("gemini-embedding-001");

const QByteArray kAnswerJson = R"({"candidates":[{"content":{"parts":[{"text":"canned"}],"role":"model"},)"
                               R"("finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":3,)"
                               R"("candidatesTokenCount":1,"totalTokenCount":4}})";

QByteArray okWithLength(const QByteArray &extraHeaders = {})
{
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extraHeaders + "Content-Length: "
         + QByteArray::number(kAnswerJson.size()) + "\r\n\r\n" + kAnswerJson;
}

// A byte-exact HTTP peer on loopback, on the test's thread (QTRY_* loops run
// it): parses each request (head + Content-Length body) and answers what
// `handler` says. For protocol edge cases only; the upstream of every other
// case is the real GeminiSimulator.
class RawPeer : public QObject
{
public:
    struct Request {
        int connection = 0;         // 0, 1, ... in accept order
        int indexOnConnection = 0;  // 0 for the first request on a connection
        QByteArray head;            // request line and headers
        QByteArray body;
    };
    struct Reply {
        QByteArray bytes;           // written at once
        bool close = false;         // close after writing
        bool silent = false;        // never answer, keep the connection open
    };
    std::function<Reply(const Request &)> handler;
    QList<Request> requests;
    int connections = 0;

    bool listen() { return m_server.listen(QHostAddress::LocalHost, 0); }
    QUrl baseUrl() const { return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_server.serverPort())); }
    quint16 port() const { return m_server.serverPort(); }

    RawPeer()
    {
        QObject::connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_server.nextPendingConnection()) {
                const int id = connections++;
                auto served = std::make_shared<int>(0);
                auto buffer = std::make_shared<QByteArray>();
                QObject::connect(s, &QTcpSocket::readyRead, s, [this, s, id, served, buffer] {
                    *buffer += s->readAll();
                    for (;;) {
                        const qsizetype end = buffer->indexOf("\r\n\r\n");
                        if (end < 0)
                            return;
                        Request r;
                        r.connection = id;
                        r.indexOnConnection = (*served)++;
                        r.head = buffer->left(end + 4);
                        qsizetype length = 0;
                        for (const QByteArray &line : r.head.split('\n')) {
                            if (line.toLower().startsWith("content-length:"))
                                length = line.mid(15).trimmed().toLongLong();
                        }
                        if (buffer->size() < end + 4 + length)
                            return;
                        r.body = buffer->mid(end + 4, length);
                        buffer->remove(0, end + 4 + length);
                        requests.append(r);
                        const Reply reply = handler(r);
                        if (reply.silent)
                            return;
                        s->write(reply.bytes);
                        if (reply.close) {
                            s->disconnectFromHost();
                            return;
                        }
                    }
                });
                QObject::connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            }
        });
    }

private:
    QTcpServer m_server;
};

} // namespace

class TestGeminiClient : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<GeminiSimulator> m_sim;
    std::unique_ptr<GeminiClient> m_client;

    // The transport of this pass (global data; init() and test functions only).
    static UpstreamTransport transport()
    {
        QFETCH_GLOBAL(int, transport);
        return UpstreamTransport(transport);
    }
    static bool native() { return transport() == UpstreamTransport::Native; }

    GeminiClientConfig clientConfig() const
    {
        GeminiClientConfig c;
        c.baseUrl = m_sim->baseUrl();
        c.transport = transport();
        c.concurrency = 12;
        c.retry = RetryPolicy{4, 20, 200};
        c.breaker = CircuitBreakerConfig{100, 300ms};
        return c;
    }

    void makeClient(const GeminiClientConfig &c) { m_client = std::make_unique<GeminiClient>(c); }
    // The client of clientConfig(), pointed at a listening RawPeer.
    void makeClientFor(const RawPeer &peer)
    {
        GeminiClientConfig c = clientConfig();
        c.baseUrl = peer.baseUrl();
        makeClient(c);
    }

    std::shared_ptr<Batch> makeBatch(Operation op, PackingMode mode, const QList<QJsonObject> &bodies,
                                     milliseconds timeout = 10s, const QString &model = kModel)
    {
        auto b = std::make_shared<Batch>();
        b->id = 1;
        b->model = model;
        b->operation = op;
        b->packing = mode;
        b->retry = RetryPolicy{4, 20, 200};
        b->dispatchedAt = steady_clock::now();
        quint64 id = 100;
        for (const QJsonObject &body : bodies) {
            BatchMember m;
            m.requestId = id++;
            m.request.model = model;
            m.request.operation = op;
            m.request.body = body;
            m.deadline = b->dispatchedAt + timeout;
            b->members.push_back(m);
        }
        return b;
    }

    static QString memberPrompt(int i) { return QStringLiteral("Question number %1: why is the sky blue?").arg(i); }

    // generateContent with `text` on m_client, deadline 5 s from now, and
    // its result; nullopt when none came within 5 s.
    std::optional<InferenceResult> generate(const QString &text, std::optional<RetryPolicy> retry = std::nullopt)
    {
        auto w = std::make_shared<ResultWaiter>();
        m_client->call(Operation::GenerateContent, kModel, userText(text), steady_clock::now() + 5s,
                       [w](InferenceResult r) { w->callback()(std::move(r)); }, retry);
        if (!QTest::qWaitFor([&w] { return w->done(); }, 5000))
            return std::nullopt;
        return w->get();
    }

private slots:
    void initTestCase_data()
    {
        QTest::addColumn<int>("transport");
        QTest::newRow("native") << int(UpstreamTransport::Native);
        QTest::newRow("qnam") << int(UpstreamTransport::Qnam);
    }

    void init()
    {
        m_sim = std::make_unique<GeminiSimulator>(fastSim());
        QVERIFY2(m_sim->start(), qPrintable(m_sim->errorString()));
        makeClient(clientConfig());
    }

    void cleanup()
    {
        m_client.reset();
        m_sim.reset();
    }

    void transportResolved_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<bool>("http2Direct");
        QTest::addColumn<int>("requested");
        QTest::addColumn<int>("expected");
        const int autoT = int(UpstreamTransport::Auto), qnam = int(UpstreamTransport::Qnam),
                  nat = int(UpstreamTransport::Native);
        QTest::newRow("http, auto") << QStringLiteral("http://127.0.0.1:8080") << false << autoT << nat;
        QTest::newRow("http with prefix, auto") << QStringLiteral("http://sidecar/gemini/") << false << autoT << nat;
        QTest::newRow("http, qnam asked") << QStringLiteral("http://127.0.0.1:8080") << false << qnam << qnam;
        QTest::newRow("h2c, auto") << QStringLiteral("http://127.0.0.1:8080") << true << autoT << qnam;
        QTest::newRow("h2c, native asked") << QStringLiteral("http://127.0.0.1:8080") << true << nat << qnam;
        QTest::newRow("https, auto") << QStringLiteral("https://generativelanguage.googleapis.com") << false << autoT << qnam;
        QTest::newRow("https, native asked") << QStringLiteral("https://generativelanguage.googleapis.com") << false << nat << qnam;
    }

    void transportResolved()
    {
        QFETCH(QString, url);
        QFETCH(bool, http2Direct);
        QFETCH(int, requested);
        QFETCH(int, expected);
        GeminiClientConfig c;
        c.baseUrl = QUrl(url);
        c.http2Direct = http2Direct;
        c.transport = UpstreamTransport(requested);
        QCOMPARE(int(c.effectiveTransport()), expected);
    }

    void workerPoolSizedFromConcurrency_data()
    {
        QTest::addColumn<int>("concurrency");
        QTest::addColumn<int>("workers");
        QTest::addColumn<int>("expectedQnam");   // ceil(concurrency / 6): Qt's 6 connections per host
        QTest::addColumn<int>("expectedNative"); // ceil(concurrency / 64)
        QTest::newRow("1") << 1 << 0 << 1 << 1;
        QTest::newRow("6") << 6 << 0 << 1 << 1;
        QTest::newRow("7") << 7 << 0 << 2 << 1;
        QTest::newRow("64") << 64 << 0 << 11 << 1;
        QTest::newRow("65") << 65 << 0 << 11 << 2;
        QTest::newRow("256") << 256 << 0 << 43 << 4;
        QTest::newRow("explicit") << 64 << 3 << 3 << 3;
    }

    void workerPoolSizedFromConcurrency()
    {
        QFETCH(int, concurrency);
        QFETCH(int, workers);
        QFETCH(int, expectedQnam);
        QFETCH(int, expectedNative);
        const int expected = native() ? expectedNative : expectedQnam;
        GeminiClientConfig c = clientConfig();
        c.concurrency = concurrency;
        c.workers = workers;
        QCOMPARE(c.effectiveWorkers(), expected);
        makeClient(c);
        QCOMPARE(m_client->workerCount(), expected);
    }

    void routes_data()
    {
        QTest::addColumn<int>("op");
        QTest::addColumn<QString>("model");
        QTest::addColumn<QJsonObject>("body");
        QTest::addColumn<QString>("route");

        QTest::newRow("generateContent") << int(Operation::GenerateContent) << kModel << userText(QStringLiteral("hello")) << QStringLiteral("generateContent");
        QTest::newRow("streamGenerateContent") << int(Operation::StreamGenerateContent) << kModel << userText(QStringLiteral("hello")) << QStringLiteral("streamGenerateContent");
        QTest::newRow("embedContent") << int(Operation::EmbedContent) << kEmbedModel << embedBody(QStringLiteral("hello")) << QStringLiteral("embedContent");
        QTest::newRow("batchEmbedContents") << int(Operation::BatchEmbedContents) << kEmbedModel
            << QJsonObject{{QStringLiteral("requests"), QJsonArray{[] { auto b = embedBody(QStringLiteral("a")); b.insert(QStringLiteral("model"), QStringLiteral("models/gemini-embedding-001")); return b; }()}}}
            << QStringLiteral("batchEmbedContents");
        QTest::newRow("countTokens") << int(Operation::CountTokens) << kModel << userText(QStringLiteral("The quick brown fox jumps over the lazy dog.")) << QStringLiteral("countTokens");
        QTest::newRow("models/ prefix accepted") << int(Operation::GenerateContent) << QStringLiteral("models/gemini-2.0-flash") << userText(QStringLiteral("hi")) << QStringLiteral("generateContent");
    }

    void routes()
    {
        QFETCH(int, op);
        QFETCH(QString, model);
        QFETCH(QJsonObject, body);
        QFETCH(QString, route);

        ResultWaiter w;
        m_client->call(Operation(op), model, body, steady_clock::now() + 5s, w.callback());
        QTRY_VERIFY_WITH_TIMEOUT(w.done(), 5000);
        const InferenceResult r = w.get();
        QVERIFY2(r.status.ok(), qPrintable(r.status.message));
        QCOMPARE(r.protocol, QByteArray("http/1.1"));
        QCOMPARE(r.upstreamAttempts, 1);
        QCOMPARE(m_sim->stats().route(route), qint64(1));
        const GeminiResponse resp(r.body);
        switch (Operation(op)) {
        case Operation::GenerateContent:
            QCOMPARE(resp.text(), SimulatorContent::answerFor(PackCodec::memberText(body), 12));
            QVERIFY(r.promptTokens > 0);
            QVERIFY(r.outputTokens > 0);
            QCOMPARE(r.outputTokens, resp.usage().outputTokens());
            QVERIFY(r.chunks.isEmpty());
            break;
        case Operation::StreamGenerateContent: {
            QVERIFY(!r.chunks.isEmpty());
            QString joined;
            for (const QJsonObject &c : r.chunks)
                joined += GeminiResponse(c).text();
            QCOMPARE(joined, SimulatorContent::answerFor(PackCodec::memberText(body), 12));
            QCOMPARE(resp.text(), joined);
            QCOMPARE(GeminiResponse(r.chunks.last()).finishReason(), QStringLiteral("STOP"));
            QVERIFY(r.outputTokens > 0);
            break;
        }
        case Operation::EmbedContent:
            QCOMPARE(resp.embedding().value(QLatin1String("values")).toArray(), expectedEmbedding(QStringLiteral("hello")));
            break;
        case Operation::BatchEmbedContents:
            QCOMPARE(resp.embeddings().size(), 1);
            break;
        case Operation::CountTokens:
            QVERIFY(resp.totalTokens().value_or(0) > 0);
            break;
        }
    }

    void modelsListAndGet()
    {
        ResultWaiter list;
        m_client->listModels(0, QString(), steady_clock::now() + 5s, list.callback());
        QTRY_VERIFY_WITH_TIMEOUT(list.done(), 5000);
        QVERIFY2(list.get().status.ok(), qPrintable(list.get().status.message));
        QVERIFY(list.get().body.value(QLatin1String("models")).toArray().size() >= 1);
        QCOMPARE(m_sim->stats().route(QStringLiteral("listModels")), qint64(1));

        ResultWaiter get;
        m_client->getModel(QStringLiteral("gemini-2.5-flash"), steady_clock::now() + 5s, get.callback());
        QTRY_VERIFY_WITH_TIMEOUT(get.done(), 5000);
        QVERIFY2(get.get().status.ok(), qPrintable(get.get().status.message));
        QCOMPARE(get.get().body.value(QLatin1String("name")).toString(), QStringLiteral("models/gemini-2.5-flash"));

        ResultWaiter missing;
        m_client->getModel(QStringLiteral("no-such-model"), steady_clock::now() + 5s, missing.callback());
        QTRY_VERIFY_WITH_TIMEOUT(missing.done(), 5000);
        QCOMPARE(missing.get().status.code, StatusCode::NotFound);
    }

    void apiKeyHeaderAccepted()
    {
        SimulatorConfig sc = fastSim();
        sc.apiKey = QStringLiteral("s3cret");
        QVERIFY(m_sim->setConfig(sc).isNull());
        GeminiClientConfig c = clientConfig();
        c.apiKey = "s3cret";
        makeClient(c);
        const std::optional<InferenceResult> w = generate(QStringLiteral("hi"));
        QVERIFY(w);
        QVERIFY2(w->status.ok(), qPrintable(w->status.message));
    }

    void noRetryOnClientErrors_data()
    {
        QTest::addColumn<QString>("simKey");
        QTest::addColumn<QString>("model");
        QTest::addColumn<QJsonObject>("body");
        QTest::addColumn<int>("op");
        QTest::addColumn<int>("http");
        QTest::addColumn<StatusCode>("code");

        QJsonObject badConfig = userText(QStringLiteral("hi"));
        badConfig.insert(QStringLiteral("generationConfig"), QJsonObject{{QStringLiteral("maxOutputTokens"), -5}});
        QTest::newRow("400 API key invalid") << QStringLiteral("right-key") << kModel << userText(QStringLiteral("hi"))
                                             << int(Operation::GenerateContent) << 400 << StatusCode::InvalidArgument;
        QTest::newRow("400 invalid argument") << QString() << kModel << badConfig << int(Operation::GenerateContent) << 400
                                              << StatusCode::InvalidArgument;
        QTest::newRow("404 unknown model") << QString() << QStringLiteral("no-such-model") << userText(QStringLiteral("hi"))
                                           << int(Operation::GenerateContent) << 404 << StatusCode::NotFound;
        QTest::newRow("404 unknown model, SSE route") << QString() << QStringLiteral("no-such-model") << userText(QStringLiteral("hi"))
                                                      << int(Operation::StreamGenerateContent) << 404 << StatusCode::NotFound;
    }

    void noRetryOnClientErrors()
    {
        QFETCH(QString, simKey);
        QFETCH(QString, model);
        QFETCH(QJsonObject, body);
        QFETCH(int, op);
        QFETCH(int, http);
        QFETCH(StatusCode, code);

        SimulatorConfig sc = fastSim();
        sc.apiKey = simKey;
        QVERIFY(m_sim->setConfig(sc).isNull());
        GeminiClientConfig c = clientConfig();
        c.apiKey = "wrong-key";
        makeClient(c);

        ResultWaiter w;
        m_client->call(Operation(op), model, body, steady_clock::now() + 5s, w.callback());
        QTRY_VERIFY_WITH_TIMEOUT(w.done(), 5000);
        const InferenceResult r = w.get();
        QCOMPARE(r.status.code, code);
        QCOMPARE(r.status.upstreamHttpStatus, http);
        QCOMPARE(r.status.upstreamError.value(QLatin1String("error")).toObject().value(QLatin1String("code")).toInt(), http);
        QCOMPARE(r.upstreamAttempts, 1);
        QCOMPARE(m_sim->stats().requests, qint64(1));
        QCOMPARE(m_client->upstreamAttempts(), quint64(1));
        QCOMPARE(m_client->circuit().state, CircuitBreaker::State::Closed);
        QCOMPARE(m_client->circuit().consecutiveFailures, 0);
    }

    void retryHonoursRetryInfo()
    {
        // One request per scaled minute: 60 s × 0.02 = a 1.2 s window.
        SimulatorConfig sc = fastSim();
        sc.rpmLimit = 1;
        sc.timeScale = 0.02;
        QVERIFY(m_sim->setConfig(sc).isNull());

        const std::optional<InferenceResult> first = generate(QStringLiteral("one"));
        QVERIFY(first);
        QVERIFY(first->status.ok());

        // The second is refused with RetryInfo ≈ the rest of the window; the
        // client waits at least that long (its own backoff is at most 20 ms
        // here) and succeeds within its 5 s deadline.
        QElapsedTimer t;
        t.start();
        ResultWaiter second;
        m_client->call(Operation::GenerateContent, kModel, userText(QStringLiteral("two")), steady_clock::now() + 5s, second.callback());
        QTRY_VERIFY_WITH_TIMEOUT(second.done(), 6000);
        const InferenceResult r = second.get();
        QVERIFY2(r.status.ok(), qPrintable(r.status.message));
        QVERIFY(r.upstreamAttempts >= 2);
        QCOMPARE(m_sim->stats().rateLimited, qint64(r.upstreamAttempts - 1));
        QVERIFY2(t.elapsed() >= 800, qPrintable(QString::number(t.elapsed())));
        QVERIFY(t.elapsed() < 5000);
    }

    void retryInfoPastDeadlineGivesUpAtOnce()
    {
        SimulatorConfig sc = fastSim();
        sc.rpmLimit = 1;
        sc.timeScale = 0.05; // a 3 s window
        QVERIFY(m_sim->setConfig(sc).isNull());
        const std::optional<InferenceResult> first = generate(QStringLiteral("one"));
        QVERIFY(first);

        QElapsedTimer t;
        t.start();
        ResultWaiter second;
        m_client->call(Operation::GenerateContent, kModel, userText(QStringLiteral("two")), steady_clock::now() + 500ms, second.callback());
        QTRY_VERIFY_WITH_TIMEOUT(second.done(), 5000);
        const InferenceResult r = second.get();
        QCOMPARE(r.status.code, StatusCode::ResourceExhausted);
        QCOMPARE(r.status.upstreamHttpStatus, 429);
        QVERIFY(r.status.retryAfter > 500ms);  // RetryInfo passed on to the agent
        QCOMPARE(r.upstreamAttempts, 1);        // waiting would only overrun the deadline
        QVERIFY2(t.elapsed() < 450, qPrintable(QString::number(t.elapsed())));
    }

    void transientErrorsRetriedThenLastErrorReturned_data()
    {
        QTest::addColumn<QString>("fault");
        QTest::addColumn<StatusCode>("code");
        QTest::addColumn<int>("http");
        QTest::newRow("503") << QStringLiteral("http503") << StatusCode::Unavailable << 503;
        QTest::newRow("500") << QStringLiteral("http500") << StatusCode::Internal << 500;
        QTest::newRow("dropped connection") << QStringLiteral("drop") << StatusCode::Unavailable << 0;
    }

    void transientErrorsRetriedThenLastErrorReturned()
    {
        QFETCH(QString, fault);
        QFETCH(StatusCode, code);
        QFETCH(int, http);
        SimulatorConfig sc = fastSim();
        if (fault == QLatin1String("http503"))
            sc.http503Rate = 1;
        else if (fault == QLatin1String("http500"))
            sc.http500Rate = 1;
        else
            sc.dropRate = 1;
        QVERIFY(m_sim->setConfig(sc).isNull());

        ResultWaiter w;
        m_client->call(Operation::GenerateContent, kModel, userText(QStringLiteral("hi")), steady_clock::now() + 10s,
                       w.callback(), RetryPolicy{3, 10, 50});
        QTRY_VERIFY_WITH_TIMEOUT(w.done(), 10000);
        const InferenceResult r = w.get();
        QCOMPARE(r.status.code, code);
        QCOMPARE(r.status.upstreamHttpStatus, http);
        QCOMPARE(r.upstreamAttempts, 3);
        QVERIFY(m_sim->stats().fault(fault) >= 3);
        QCOMPARE(m_client->circuit().consecutiveFailures, 3);
    }

    void deadlineBoundsASlowUpstream()
    {
        SimulatorConfig sc = fastSim();
        sc.baseLatencyMs = 3000;
        QVERIFY(m_sim->setConfig(sc).isNull());
        QElapsedTimer t;
        t.start();
        ResultWaiter w;
        m_client->call(Operation::GenerateContent, kModel, userText(QStringLiteral("slow")), steady_clock::now() + 300ms, w.callback());
        QTRY_VERIFY_WITH_TIMEOUT(w.done(), 5000);
        QCOMPARE(w.get().status.code, StatusCode::DeadlineExceeded);
        QVERIFY2(t.elapsed() < 1500, qPrintable(QString::number(t.elapsed())));
        // The caller's own budget says nothing about the upstream's health.
        QCOMPARE(m_client->circuit().consecutiveFailures, 0);
    }

    void breakerOpensAndRecovers()
    {
        SimulatorConfig sc = fastSim();
        sc.http503Rate = 1;
        QVERIFY(m_sim->setConfig(sc).isNull());
        GeminiClientConfig c = clientConfig();
        c.breaker = CircuitBreakerConfig{3, 400ms};
        c.retry = RetryPolicy{1, 10, 10}; // one attempt per call: each call is one failure
        makeClient(c);

        for (int i = 0; i < 3; ++i) {
            const std::optional<InferenceResult> w = generate(QStringLiteral("x"));
            QVERIFY(w);
            QCOMPARE(w->status.upstreamHttpStatus, 503);
        }
        QCOMPARE(m_client->circuit().state, CircuitBreaker::State::Open);
        QCOMPARE(m_sim->stats().route(QStringLiteral("generateContent")), qint64(3));

        // Open: fail fast, nothing sent.
        const std::optional<InferenceResult> fast = generate(QStringLiteral("x"));
        QVERIFY(fast);
        QCOMPARE(fast->status.code, StatusCode::Unavailable);
        QCOMPARE(fast->status.reason, RejectReason::CircuitOpen);
        QVERIFY(fast->status.retryAfter > 0ms);
        QCOMPARE(fast->upstreamAttempts, 0);
        QCOMPARE(m_sim->stats().route(QStringLiteral("generateContent")), qint64(3));

        // The upstream heals; after the cool-down one probe goes through and closes it.
        sc.http503Rate = 0;
        QVERIFY(m_sim->setConfig(sc).isNull());
        QTRY_COMPARE_WITH_TIMEOUT(m_client->circuit().state, CircuitBreaker::State::HalfOpen, 3000);
        const std::optional<InferenceResult> probe = generate(QStringLiteral("x"));
        QVERIFY(probe);
        QVERIFY2(probe->status.ok(), qPrintable(probe->status.message));
        QCOMPARE(m_client->circuit().state, CircuitBreaker::State::Closed);
        QCOMPARE(m_client->circuit().timesOpened, quint64(1));
    }

    void packOf20IsOneCall()
    {
        const int op = int(Operation::GenerateContent);
        QList<QJsonObject> bodies;
        for (int i = 0; i < 20; ++i)
            bodies.append(userText(memberPrompt(i)));
        auto batch = makeBatch(Operation(op), PackingMode::Pack, bodies);
        QCOMPARE(m_client->upstreamCallsFor(*batch), 1);

        BatchWaiter w;
        m_client->execute(batch, w.callback());
        QTRY_VERIFY_WITH_TIMEOUT(w.done(), 10000);
        const auto results = w.get();
        QCOMPARE(w.calls, 1);
        QCOMPARE(results.size(), size_t(20));
        const SimulatorStats stats = m_sim->stats();
        QCOMPARE(stats.route(QStringLiteral("generateContent")), qint64(1));
        QCOMPARE(stats.requests, qint64(1));

        int prompt = 0, output = 0;
        for (int i = 0; i < 20; ++i) {
            const InferenceResult &r = results[size_t(i)];
            QVERIFY2(r.status.ok(), qPrintable(r.status.message));
            const GeminiResponse resp(r.body);
            QCOMPARE(resp.text(), SimulatorContent::answerFor(memberPrompt(i), 12));
            QCOMPARE(resp.finishReason(), QStringLiteral("STOP"));
            QCOMPARE(r.upstreamAttempts, 1);
            QVERIFY(r.promptTokens > 0);
            QVERIFY(r.outputTokens > 0);
            prompt += r.promptTokens;
            output += r.outputTokens;
        }
        // Apportioned usage sums to what the upstream really counted.
        QCOMPARE(qint64(prompt), stats.promptTokens);
        QCOMPARE(qint64(output), stats.outputTokens);
    }

    // Streams are never packed: each member is its own streaming call, even
    // in a pack-mode batch, and the events come back in order.
    void streamsAreNeverPacked()
    {
        QList<QJsonObject> bodies;
        for (int i = 0; i < 6; ++i)
            bodies.append(userText(memberPrompt(i)));
        auto batch = makeBatch(Operation::StreamGenerateContent, PackingMode::Pack, bodies);
        QCOMPARE(m_client->upstreamCallsFor(*batch), 6);
        BatchWaiter w;
        m_client->execute(batch, w.callback());
        QTRY_VERIFY_WITH_TIMEOUT(w.done(), 10000);
        const auto results = w.get();
        const SimulatorStats stats = m_sim->stats();
        QCOMPARE(stats.route(QStringLiteral("streamGenerateContent")), qint64(6));
        QCOMPARE(stats.route(QStringLiteral("generateContent")), qint64(0));
        for (int i = 0; i < 6; ++i) {
            const InferenceResult &r = results[size_t(i)];
            QVERIFY2(r.status.ok(), qPrintable(r.status.message));
            QCOMPARE(GeminiResponse(r.body).text(), SimulatorContent::answerFor(memberPrompt(i), 12));
            QVERIFY(r.chunks.size() >= 1);
            QCOMPARE(GeminiResponse(r.chunks.last()).finishReason(), QStringLiteral("STOP"));
        }
    }

    // A stream with a sink: its bytes reach the sink while the upstream is
    // still generating, equal to what the upstream sends; cancelling the
    // sink aborts the call, and the upstream sees its client go.
    void streamPassesThroughAndCancels()
    {
        SimulatorConfig sc = m_sim->config();
        sc.baseLatencyMs = 50;
        sc.tokensPerSecond = 40; // 12-token pieces every 300 ms
        sc.responseWords = 40;
        sc.jitterSigma = 0;
        QVERIFY(m_sim->setConfig(sc).isNull());

        struct Sink : StreamSink {
            std::mutex mutex;
            QByteArray bytes;
            int pieces = 0;
            qint64 completedAtFirstPiece = -1;
            GeminiSimulator *sim = nullptr;
            void data(const QByteArray &b) override
            {
                std::lock_guard lock(mutex);
                if (pieces++ == 0)
                    completedAtFirstPiece = sim->stats().completed;
                bytes += b;
            }
        };
        const QJsonObject body = userText(QStringLiteral("stream me slowly"));
        auto run = [&](std::shared_ptr<Sink> sink) {
            auto batch = makeBatch(Operation::StreamGenerateContent, PackingMode::Pack, {body});
            batch->members.front().request.stream = sink;
            auto w = std::make_shared<BatchWaiter>();
            m_client->execute(batch, w->callback());
            return w;
        };

        auto sink = std::make_shared<Sink>();
        sink->sim = m_sim.get();
        auto w = run(sink);
        QTRY_VERIFY_WITH_TIMEOUT(w->done(), 15000);
        const InferenceResult r = w->get().front();
        QVERIFY2(r.status.ok(), qPrintable(r.status.message));
        QCOMPARE(sink->completedAtFirstPiece, qint64(0)); // the first bytes came before the upstream finished
        QVERIFY(sink->pieces >= 3);
        QCOMPARE(r.streamedBytes, qint64(sink->bytes.size()));
        // Byte for byte what the upstream sends for this request.
        SseParser reparse;
        QList<QJsonObject> events = reparse.feed(sink->bytes);
        events += reparse.finish();
        QCOMPARE(events, r.chunks);
        QVERIFY(sink->bytes.startsWith("data: {"));
        QVERIFY(sink->bytes.endsWith("\r\n\r\n"));

        // Cancelled after the first piece: the call ends CANCELLED, the upstream sees its client leave.
        auto gone = std::make_shared<Sink>();
        gone->sim = m_sim.get();
        auto w2 = run(gone);
        QTRY_VERIFY_WITH_TIMEOUT(gone->pieces > 0, 10000);
        gone->cancel();
        QTRY_VERIFY_WITH_TIMEOUT(w2->done(), 5000);
        QCOMPARE(w2->get().front().status.code, StatusCode::Cancelled);
        QTRY_COMPARE_WITH_TIMEOUT(m_sim->stats().abandoned, qint64(1), 10000);
        QCOMPARE(m_sim->stats().completed, qint64(1));
    }

    void packMembersLeftOutArePackedAgainThenAskedAlone()
    {
        SimulatorConfig sc = fastSim();
        sc.packDropIds = {QStringLiteral("3"), QStringLiteral("17")};
        QVERIFY(m_sim->setConfig(sc).isNull());
        QList<QJsonObject> bodies;
        for (int i = 0; i < 20; ++i)
            bodies.append(userText(memberPrompt(i)));
        BatchWaiter w;
        m_client->execute(makeBatch(Operation::GenerateContent, PackingMode::Pack, bodies), w.callback());
        QTRY_VERIFY_WITH_TIMEOUT(w.done(), 10000);
        const auto results = w.get();
        QCOMPARE(results.size(), size_t(20));
        // The pack answers 18; the 2 left out are packed again together, left
        // out again (the simulator always drops these ids from a pack), and
        // then asked alone: 1 + 1 + 2 calls for 20 answers.
        QCOMPARE(m_sim->stats().fault(QStringLiteral("packDrop")), qint64(4));
        QCOMPARE(m_sim->stats().route(QStringLiteral("generateContent")), qint64(4));
        for (int i = 0; i < 20; ++i) {
            const InferenceResult &r = results[size_t(i)];
            QVERIFY2(r.status.ok(), qPrintable(r.status.message));
            QCOMPARE(GeminiResponse(r.body).text(), SimulatorContent::answerFor(memberPrompt(i), 12));
            QCOMPARE(r.upstreamAttempts, (i == 3 || i == 17) ? 3 : 1);
        }
    }

    void packMixedWithUnpackableMembers()
    {
        QList<QJsonObject> bodies;
        for (int i = 0; i < 5; ++i)
            bodies.append(userText(memberPrompt(i)));
        QJsonObject multiTurn = userText(QStringLiteral("first"));
        QJsonArray contents = multiTurn.value(QLatin1String("contents")).toArray();
        contents.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("model")},
                                    {QStringLiteral("parts"), QJsonArray{QJsonObject{{QStringLiteral("text"), QStringLiteral("ok")}}}}});
        contents.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                    {QStringLiteral("parts"), QJsonArray{QJsonObject{{QStringLiteral("text"), QStringLiteral("second")}}}}});
        multiTurn.insert(QStringLiteral("contents"), contents);
        bodies.insert(2, multiTurn);
        auto batch = makeBatch(Operation::GenerateContent, PackingMode::Pack, bodies);
        batch->members[4].request.packable = false; // X-Sluice-Pack: off
        QCOMPARE(m_client->upstreamCallsFor(*batch), 3);

        BatchWaiter w;
        m_client->execute(batch, w.callback());
        QTRY_VERIFY_WITH_TIMEOUT(w.done(), 10000);
        const auto results = w.get();
        QCOMPARE(results.size(), size_t(6));
        QCOMPARE(m_sim->stats().route(QStringLiteral("generateContent")), qint64(3));
        for (size_t i = 0; i < results.size(); ++i) {
            QVERIFY2(results[i].status.ok(), qPrintable(results[i].status.message));
            if (i != 2)
                QCOMPARE(GeminiResponse(results[i].body).text(),
                         SimulatorContent::answerFor(PackCodec::memberText(batch->members[i].request.body), 12));
        }
    }

    void fanoutKeepsOrder()
    {
        QList<QJsonObject> bodies;
        for (int i = 0; i < 8; ++i)
            bodies.append(userText(memberPrompt(i)));
        auto batch = makeBatch(Operation::GenerateContent, PackingMode::Fanout, bodies);
        QCOMPARE(m_client->upstreamCallsFor(*batch), 8);
        BatchWaiter w;
        m_client->execute(batch, w.callback());
        QTRY_VERIFY_WITH_TIMEOUT(w.done(), 10000);
        const auto results = w.get();
        QCOMPARE(m_sim->stats().route(QStringLiteral("generateContent")), qint64(8));
        for (int i = 0; i < 8; ++i)
            QCOMPARE(GeminiResponse(results[size_t(i)].body).text(), SimulatorContent::answerFor(memberPrompt(i), 12));
    }

    void embeddings250AreThreeCallsInOrder()
    {
        QList<QJsonObject> bodies;
        for (int i = 0; i < 250; ++i)
            bodies.append(embedBody(QStringLiteral("embed me %1").arg(i)));
        auto batch = makeBatch(Operation::EmbedContent, PackingMode::Pack, bodies, 10s, kEmbedModel);
        QCOMPARE(m_client->upstreamCallsFor(*batch), 3);
        BatchWaiter w;
        m_client->execute(batch, w.callback());
        QTRY_VERIFY_WITH_TIMEOUT(w.done(), 10000);
        const auto results = w.get();
        QCOMPARE(results.size(), size_t(250));
        QCOMPARE(m_sim->stats().route(QStringLiteral("batchEmbedContents")), qint64(3));
        QCOMPARE(m_sim->stats().route(QStringLiteral("embedContent")), qint64(0));
        for (int i = 0; i < 250; ++i) {
            QVERIFY2(results[size_t(i)].status.ok(), qPrintable(results[size_t(i)].status.message));
            QCOMPARE(GeminiResponse(results[size_t(i)].body).embedding().value(QLatin1String("values")).toArray(),
                     expectedEmbedding(QStringLiteral("embed me %1").arg(i)));
        }
    }

    void agentBatchEmbedOver100IsSplitAndReassembled()
    {
        QJsonArray requests;
        for (int i = 0; i < 230; ++i) {
            QJsonObject r = embedBody(QStringLiteral("item %1").arg(i));
            r.insert(QStringLiteral("model"), QStringLiteral("models/gemini-embedding-001"));
            requests.append(r);
        }
        const QJsonObject big{{QStringLiteral("requests"), requests}};
        const QJsonObject small{{QStringLiteral("requests"), QJsonArray{requests.at(7)}}};
        auto batch = makeBatch(Operation::BatchEmbedContents, PackingMode::Pack, {big, small}, 10s, kEmbedModel);
        QCOMPARE(m_client->upstreamCallsFor(*batch), 4);
        BatchWaiter w;
        m_client->execute(batch, w.callback());
        QTRY_VERIFY_WITH_TIMEOUT(w.done(), 10000);
        const auto results = w.get();
        QCOMPARE(m_sim->stats().route(QStringLiteral("batchEmbedContents")), qint64(4));
        QVERIFY2(results[0].status.ok(), qPrintable(results[0].status.message));
        const QJsonArray embeddings = GeminiResponse(results[0].body).embeddings();
        QCOMPARE(embeddings.size(), 230);
        for (int i = 0; i < 230; ++i)
            QCOMPARE(embeddings.at(i).toObject().value(QLatin1String("values")).toArray(),
                     expectedEmbedding(QStringLiteral("item %1").arg(i)));
        QCOMPARE(GeminiResponse(results[1].body).embeddings().size(), 1);
        QCOMPARE(results[0].upstreamAttempts, 3);
    }

    void countTokensOneCallPerMember()
    {
        auto batch = makeBatch(Operation::CountTokens, PackingMode::Pack,
                               {userText(QStringLiteral("a")), userText(QStringLiteral("bb bb")), userText(QStringLiteral("ccc ccc ccc"))});
        QCOMPARE(m_client->upstreamCallsFor(*batch), 3);
        BatchWaiter w;
        m_client->execute(batch, w.callback());
        QTRY_VERIFY_WITH_TIMEOUT(w.done(), 10000);
        const auto results = w.get();
        QCOMPARE(m_sim->stats().route(QStringLiteral("countTokens")), qint64(3));
        QVERIFY(GeminiResponse(results[2].body).totalTokens().value_or(0) > GeminiResponse(results[0].body).totalTokens().value_or(0));
    }

    void emptyBatchCompletesAtOnce()
    {
        BatchWaiter w;
        m_client->execute(makeBatch(Operation::GenerateContent, PackingMode::Pack, {}), w.callback());
        QVERIFY(w.done());
        QCOMPARE(w.get().size(), size_t(0));
    }

    // Qt 6.4's QNAM opens at most 6 HTTP/1.1 connections per host: one manager
    // would take 64 / 6 ≈ 11 service times. The worker pool takes about one;
    // so does the native transport's single worker with 64 connections.
    void sixtyFourConcurrentCallsTakeAboutOneServiceTime()
    {
        SimulatorConfig sc = fastSim();
        sc.baseLatencyMs = 200;
        QVERIFY(m_sim->setConfig(sc).isNull());
        GeminiClientConfig c = clientConfig();
        c.concurrency = 64;
        makeClient(c);

        // Warm the connections so the figure is the steady state, not TCP setup.
        QList<QJsonObject> bodies;
        for (int i = 0; i < 64; ++i)
            bodies.append(userText(memberPrompt(i)));
        {
            BatchWaiter warm;
            m_client->execute(makeBatch(Operation::GenerateContent, PackingMode::Fanout, bodies), warm.callback());
            QTRY_VERIFY_WITH_TIMEOUT(warm.done(), 15000);
        }
        m_sim->resetStats();

        QElapsedTimer t;
        t.start();
        BatchWaiter w;
        m_client->execute(makeBatch(Operation::GenerateContent, PackingMode::Fanout, bodies), w.callback());
        QTRY_VERIFY_WITH_TIMEOUT(w.done(), 15000);
        const qint64 elapsed = t.elapsed();
        for (const auto &r : w.get())
            QVERIFY2(r.status.ok(), qPrintable(r.status.message));
        qInfo("64 calls to a 200 ms upstream took %lld ms (max in flight at the simulator: %d)", elapsed,
              m_sim->stats().maxInFlight);
        QVERIFY2(m_sim->stats().maxInFlight >= 48, qPrintable(QString::number(m_sim->stats().maxInFlight)));
        QVERIFY2(elapsed < 800, qPrintable(QString::number(elapsed))); // 6 connections: ≥ 2200 ms
    }

    void shutdownCompletesCallsInFlight()
    {
        SimulatorConfig sc = fastSim();
        sc.baseLatencyMs = 10000;
        QVERIFY(m_sim->setConfig(sc).isNull());
        ResultWaiter w;
        m_client->call(Operation::GenerateContent, kModel, userText(QStringLiteral("slow")), steady_clock::now() + 30s, w.callback());
        QTRY_COMPARE_WITH_TIMEOUT(m_sim->stats().inFlight, 1, 5000);
        m_client.reset();
        QVERIFY(w.done());
        QCOMPARE(w.calls, 1);
        QCOMPARE(w.get().status.code, StatusCode::Unavailable);
    }

    // What goes on the wire, byte for byte, is the same on both transports:
    // the base URL's path prefix, Host, the key header, JSON in and out.
    void requestHeadAsSent()
    {
        RawPeer peer;
        QVERIFY(peer.listen());
        peer.handler = [](const RawPeer::Request &) { return RawPeer::Reply{okWithLength()}; };
        GeminiClientConfig c = clientConfig();
        QUrl base = peer.baseUrl();
        base.setPath(QStringLiteral("/gemini/proxy/"));
        c.baseUrl = base;
        c.apiKey = "k3y";
        makeClient(c);

        ResultWaiter w;
        m_client->call(Operation::StreamGenerateContent, QStringLiteral("models/gemini-2.0-flash"), userText(QStringLiteral("hi")),
                       steady_clock::now() + 5s, w.callback());
        QTRY_VERIFY_WITH_TIMEOUT(w.done(), 5000);
        QCOMPARE(peer.requests.size(), 1);
        const RawPeer::Request &r = peer.requests.first();
        const QList<QByteArray> lines = r.head.split('\n');
        QCOMPARE(lines.first(),
                 QByteArray("POST /gemini/proxy/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse HTTP/1.1\r"));
        const QByteArray head = r.head.toLower();
        QVERIFY2(head.contains("\r\nhost: 127.0.0.1:" + QByteArray::number(peer.port()) + "\r\n"), head.constData());
        QVERIFY(head.contains("\r\nx-goog-api-key: k3y\r\n"));
        QVERIFY(head.contains("\r\naccept: text/event-stream\r\n"));
        QVERIFY(head.contains("\r\ncontent-type: application/json\r\n"));
        QVERIFY(head.contains("\r\ncontent-length: " + QByteArray::number(r.body.size()) + "\r\n"));
        QCOMPARE(QJsonDocument::fromJson(r.body).object(), userText(QStringLiteral("hi")));
    }

    // --- native transport ---------------------------------------------------

    // The native request target is QNAM's, odd inputs included (the base
    // URL's path prefix, escapes, dot segments).
    void nativeRequestTargetMatchesQnam_data()
    {
        QTest::addColumn<QString>("basePath");
        QTest::newRow("no prefix") << QString();
        QTest::newRow("prefix") << QStringLiteral("/gemini/proxy/");
        QTest::newRow("prefix needing escapes") << QStringLiteral("/a b/./c%41/");
    }

    void nativeRequestTargetMatchesQnam()
    {
        if (!native())
            QSKIP("compares both transports in one pass");
        QFETCH(QString, basePath);
        RawPeer peer;
        QVERIFY(peer.listen());
        peer.handler = [](const RawPeer::Request &) { return RawPeer::Reply{okWithLength()}; };

        QList<QByteArray> lines[2];
        for (int k = 0; k < 2; ++k) {
            GeminiClientConfig c = clientConfig();
            QUrl base = peer.baseUrl();
            base.setPath(basePath);
            c.baseUrl = base;
            c.transport = k == 0 ? UpstreamTransport::Qnam : UpstreamTransport::Native;
            makeClient(c);
            const int before = int(peer.requests.size());
            std::vector<std::unique_ptr<ResultWaiter>> waits;
            auto next = [&] { return waits.emplace_back(std::make_unique<ResultWaiter>())->callback(); };
            const auto deadline = steady_clock::now() + 5s;
            // One at a time, so the order of requests is the order of calls.
            m_client->call(Operation::GenerateContent, kModel, userText(QStringLiteral("a")), deadline, next());
            QTRY_VERIFY_WITH_TIMEOUT(waits.back()->done(), 5000);
            m_client->call(Operation::StreamGenerateContent, QStringLiteral("models/gemini 2.0"), userText(QStringLiteral("b")), deadline, next());
            QTRY_VERIFY_WITH_TIMEOUT(waits.back()->done(), 5000);
            m_client->getModel(QStringLiteral("tunedModels/x"), deadline, next());
            QTRY_VERIFY_WITH_TIMEOUT(waits.back()->done(), 5000);
            m_client->getModel(QStringLiteral("."), deadline, next());
            QTRY_VERIFY_WITH_TIMEOUT(waits.back()->done(), 5000);
            m_client->listModels(10, QStringLiteral("a+b/c d%"), deadline, next());
            QTRY_VERIFY_WITH_TIMEOUT(waits.back()->done(), 5000);
            m_client->listModels(0, QString(), deadline, next());
            QTRY_VERIFY_WITH_TIMEOUT(waits.back()->done(), 5000);
            for (qsizetype i = before; i < peer.requests.size(); ++i)
                lines[k].append(peer.requests[i].head.left(peer.requests[i].head.indexOf("\r\n")));
        }
        QCOMPARE(lines[0].size(), 6);
        QCOMPARE(lines[1], lines[0]);
    }

    void nativeReusesKeepAliveConnections()
    {
        if (!native())
            QSKIP("native transport only");
        for (int i = 0; i < 20; ++i) {
            const std::optional<InferenceResult> w = generate(memberPrompt(i));
            QVERIFY(w);
            QVERIFY2(w->status.ok(), qPrintable(w->status.message));
            QCOMPARE(w->upstreamAttempts, 1);
        }
        QCOMPARE(m_sim->stats().requests, qint64(20));
        QCOMPARE(m_sim->stats().openConnections, 1);
        QCOMPARE(m_client->upstreamAttempts(), quint64(20));
    }

    // The simulator restarts: it closes the kept-alive connection, the next
    // call goes through on a new one, without an extra attempt.
    void nativeUpstreamRestartClosesIdleConnections()
    {
        if (!native())
            QSKIP("native transport only");
        const std::optional<InferenceResult> first = generate(QStringLiteral("one"));
        QVERIFY(first);
        QVERIFY(first->status.ok());
        QCOMPARE(m_sim->stats().openConnections, 1);

        const quint16 port = m_sim->port();
        m_sim->stop();
        QVERIFY2(m_sim->start(QHostAddress::LocalHost, port), qPrintable(m_sim->errorString()));

        const std::optional<InferenceResult> second = generate(QStringLiteral("two"));
        QVERIFY(second);
        QVERIFY2(second->status.ok(), qPrintable(second->status.message));
        QCOMPARE(second->upstreamAttempts, 1);
        QCOMPARE(m_client->upstreamAttempts(), quint64(2));
        QCOMPARE(m_client->circuit().consecutiveFailures, 0);
    }

    // The peer closes a kept-alive connection just as the next request goes
    // out on it: sent again on a fresh connection, not counted as an attempt.
    void nativeStaleKeepAliveIsResentOnce()
    {
        if (!native())
            QSKIP("native transport only");
        RawPeer peer;
        QVERIFY(peer.listen());
        peer.handler = [](const RawPeer::Request &r) {
            return r.indexOnConnection == 0 ? RawPeer::Reply{okWithLength()} : RawPeer::Reply{{}, true};
        };
        makeClientFor(peer);

        for (int i = 0; i < 2; ++i) {
            const std::optional<InferenceResult> w = generate(QStringLiteral("hi"));
            QVERIFY(w);
            QVERIFY2(w->status.ok(), qPrintable(w->status.message));
            QCOMPARE(w->upstreamAttempts, 1);
        }
        QCOMPARE(peer.requests.size(), 3);  // the second call's request went twice
        QCOMPARE(peer.connections, 2);
        QCOMPARE(m_client->upstreamAttempts(), quint64(2));
        QCOMPARE(m_client->circuit().consecutiveFailures, 0);
    }

    // Resent once only: a fresh connection that fails too is a real failure,
    // counted, retried per the policy, each time on a fresh connection.
    void nativeFreshConnectionFailureIsAnAttempt()
    {
        if (!native())
            QSKIP("native transport only");
        RawPeer peer;
        QVERIFY(peer.listen());
        peer.handler = [](const RawPeer::Request &r) {
            return r.connection == 0 && r.indexOnConnection == 0 ? RawPeer::Reply{okWithLength()} : RawPeer::Reply{{}, true};
        };
        makeClientFor(peer);

        const std::optional<InferenceResult> first = generate(QStringLiteral("hi"));
        QVERIFY(first);
        QVERIFY(first->status.ok());

        const std::optional<InferenceResult> w = generate(QStringLiteral("hi"), RetryPolicy{3, 10, 50});
        QVERIFY(w);
        const InferenceResult r = *w;
        QCOMPARE(r.status.code, StatusCode::Unavailable);
        QCOMPARE(r.status.upstreamHttpStatus, 0);
        QCOMPARE(r.status.message, QStringLiteral("upstream transport error: connection closed by 127.0.0.1:%1 without a response")
                                       .arg(peer.port()));
        QCOMPARE(r.upstreamAttempts, 3);
        QCOMPARE(peer.requests.size(), 1 + 1 + 3); // first call; the stale resend; three attempts
        QCOMPARE(peer.connections, 4);
        QCOMPARE(m_client->circuit().consecutiveFailures, 3);
    }

    void nativeConnectionRefusedIsRetriedAndNamesTheUpstream()
    {
        if (!native())
            QSKIP("native transport only");
        quint16 port = 0;
        {
            QTcpServer probe; // a port nobody listens on once it is closed
            QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
            port = probe.serverPort();
        }
        GeminiClientConfig c = clientConfig();
        c.baseUrl = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port));
        makeClient(c);
        const std::optional<InferenceResult> w = generate(QStringLiteral("hi"), RetryPolicy{3, 10, 50});
        QVERIFY(w);
        const InferenceResult r = *w;
        QCOMPARE(r.status.code, StatusCode::Unavailable);
        QCOMPARE(r.status.message, QStringLiteral("upstream transport error: connection refused by 127.0.0.1:%1").arg(port));
        QCOMPARE(r.upstreamAttempts, 3);
        QCOMPARE(m_client->upstreamAttempts(), quint64(3));
        QCOMPARE(m_client->circuit().consecutiveFailures, 3);
    }

    void nativePeerThatNeverAnswersHitsTheDeadline()
    {
        if (!native())
            QSKIP("native transport only");
        RawPeer peer;
        QVERIFY(peer.listen());
        peer.handler = [](const RawPeer::Request &) { return RawPeer::Reply{{}, false, true}; };
        makeClientFor(peer);
        QElapsedTimer t;
        t.start();
        ResultWaiter w;
        m_client->call(Operation::GenerateContent, kModel, userText(QStringLiteral("hi")), steady_clock::now() + 300ms, w.callback());
        QTRY_VERIFY_WITH_TIMEOUT(w.done(), 5000);
        QCOMPARE(w.get().status.code, StatusCode::DeadlineExceeded);
        QCOMPARE(w.get().upstreamAttempts, 1);
        QVERIFY2(t.elapsed() >= 290 && t.elapsed() < 1500, qPrintable(QString::number(t.elapsed())));
        QCOMPARE(peer.requests.size(), 1);
        QCOMPARE(m_client->circuit().consecutiveFailures, 0);
    }

    void nativeAnswerFraming_data()
    {
        QTest::addColumn<QByteArray>("answer");
        QTest::addColumn<bool>("closeAfter");
        QTest::addColumn<int>("op");
        QTest::addColumn<int>("connectionsFor3Calls");

        QByteArray chunked = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (qsizetype i = 0; i < kAnswerJson.size(); i += 40) {
            const QByteArray part = kAnswerJson.mid(i, 40);
            chunked += QByteArray::number(part.size(), 16) + ";ext=1\r\n" + part + "\r\n";
        }
        chunked += "0\r\nX-Trailer: yes\r\n\r\n";
        const QByteArray event = "data: " + kAnswerJson + "\r\n\r\n";
        const QByteArray sse = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                             + QByteArray::number(event.size(), 16) + "\r\n" + event + "\r\n"
                             + QByteArray::number(event.size(), 16) + "\r\n" + event + "\r\n0\r\n\r\n";
        const int gen = int(Operation::GenerateContent), stream = int(Operation::StreamGenerateContent);

        QTest::newRow("content-length, keep-alive") << okWithLength() << false << gen << 1;
        QTest::newRow("Connection: close") << okWithLength("Connection: close\r\n") << true << gen << 3;
        QTest::newRow("HTTP/1.0") << QByteArray(okWithLength()).replace("HTTP/1.1", "HTTP/1.0") << true << gen << 3;
        QTest::newRow("HTTP/1.0 keep-alive")
            << QByteArray(okWithLength("Connection: keep-alive\r\n")).replace("HTTP/1.1", "HTTP/1.0") << false << gen << 1;
        QTest::newRow("read until close")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + kAnswerJson) << true << gen << 3;
        QTest::newRow("chunked with extensions and trailers") << chunked << false << gen << 1;
        QTest::newRow("100 Continue first") << QByteArray("HTTP/1.1 100 Continue\r\n\r\n" + okWithLength()) << false << gen << 1;
        QTest::newRow("SSE, chunked") << sse << false << stream << 1;
    }

    void nativeAnswerFraming()
    {
        if (!native())
            QSKIP("native transport only");
        QFETCH(QByteArray, answer);
        QFETCH(bool, closeAfter);
        QFETCH(int, op);
        QFETCH(int, connectionsFor3Calls);
        RawPeer peer;
        QVERIFY(peer.listen());
        peer.handler = [answer, closeAfter](const RawPeer::Request &) { return RawPeer::Reply{answer, closeAfter}; };
        makeClientFor(peer);
        for (int i = 0; i < 3; ++i) {
            ResultWaiter w;
            m_client->call(Operation(op), kModel, userText(QStringLiteral("hi")), steady_clock::now() + 5s, w.callback());
            QTRY_VERIFY_WITH_TIMEOUT(w.done(), 5000);
            const InferenceResult r = w.get();
            QVERIFY2(r.status.ok(), qPrintable(r.status.message));
            QCOMPARE(r.upstreamAttempts, 1);
            QCOMPARE(r.protocol, QByteArray("http/1.1"));
            if (Operation(op) == Operation::StreamGenerateContent) {
                QCOMPARE(r.chunks.size(), 2);
                QCOMPARE(GeminiResponse(r.body).text(), QStringLiteral("cannedcanned"));
            } else {
                QCOMPARE(GeminiResponse(r.body).text(), QStringLiteral("canned"));
            }
            QCOMPARE(r.outputTokens, op == int(Operation::StreamGenerateContent) ? 1 : 1);
        }
        QCOMPARE(peer.connections, connectionsFor3Calls);
    }

    void nativeMalformedAnswers_data()
    {
        QTest::addColumn<QByteArray>("answer");
        QTest::addColumn<QString>("what");
        QTest::newRow("not HTTP") << QByteArray("SSH-2.0-OpenSSH_9.2\r\n\r\n") << QStringLiteral("malformed status line");
        QTest::newRow("bad header") << QByteArray("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n") << QStringLiteral("malformed header line");
        QTest::newRow("bad chunk size")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n") << QStringLiteral("malformed chunk size");
        QTest::newRow("bad Content-Length")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n") << QStringLiteral("invalid Content-Length");
        QTest::newRow("headers too large")
            << QByteArray("HTTP/1.1 200 OK\r\nX-Big: " + QByteArray(70000, 'x') + "\r\n\r\n")
            << QStringLiteral("response headers larger than 65536 bytes");
    }

    void nativeMalformedAnswers()
    {
        if (!native())
            QSKIP("native transport only");
        QFETCH(QByteArray, answer);
        QFETCH(QString, what);
        RawPeer peer;
        QVERIFY(peer.listen());
        peer.handler = [answer](const RawPeer::Request &) { return RawPeer::Reply{answer}; };
        makeClientFor(peer);
        const std::optional<InferenceResult> w = generate(QStringLiteral("hi"), RetryPolicy{2, 10, 50});
        QVERIFY(w);
        const InferenceResult r = *w;
        QCOMPARE(r.status.code, StatusCode::Unavailable);
        QCOMPARE(r.status.message, QStringLiteral("upstream transport error: %1 from 127.0.0.1:%2").arg(what).arg(peer.port()));
        QCOMPARE(r.upstreamAttempts, 2);
        QCOMPARE(peer.connections, 2); // a connection that failed is never reused
    }

    // Calls beyond the per-worker connection cap wait in the worker.
    void nativeConnectionCapQueuesCalls()
    {
        if (!native())
            QSKIP("native transport only");
        SimulatorConfig sc = fastSim();
        sc.baseLatencyMs = 100;
        QVERIFY(m_sim->setConfig(sc).isNull());
        GeminiClientConfig c = clientConfig();
        c.workers = 1;
        c.maxConnectionsPerWorker = 2;
        makeClient(c);
        QList<QJsonObject> bodies;
        for (int i = 0; i < 8; ++i)
            bodies.append(userText(memberPrompt(i)));
        QElapsedTimer t;
        t.start();
        BatchWaiter w;
        m_client->execute(makeBatch(Operation::GenerateContent, PackingMode::Fanout, bodies), w.callback());
        QTRY_VERIFY_WITH_TIMEOUT(w.done(), 10000);
        const auto results = w.get();
        for (int i = 0; i < 8; ++i) {
            const InferenceResult &r = results[size_t(i)];
            QVERIFY2(r.status.ok(), qPrintable(r.status.message));
            QCOMPARE(GeminiResponse(r.body).text(), SimulatorContent::answerFor(memberPrompt(i), 12));
        }
        QCOMPARE(m_sim->stats().maxInFlight, 2);
        QCOMPARE(m_sim->stats().openConnections, 2);
        QVERIFY2(t.elapsed() >= 390, qPrintable(QString::number(t.elapsed()))); // 8 calls, 2 at a time, 100 ms each
    }

    // A call waiting for a connection still has its deadline.
    void nativeDeadlineWhileWaitingForAConnection()
    {
        if (!native())
            QSKIP("native transport only");
        SimulatorConfig sc = fastSim();
        sc.baseLatencyMs = 1000;
        QVERIFY(m_sim->setConfig(sc).isNull());
        GeminiClientConfig c = clientConfig();
        c.workers = 1;
        c.maxConnectionsPerWorker = 1;
        makeClient(c);
        ResultWaiter slow;
        m_client->call(Operation::GenerateContent, kModel, userText(QStringLiteral("slow")), steady_clock::now() + 5s, slow.callback());
        QTRY_COMPARE_WITH_TIMEOUT(m_sim->stats().inFlight, 1, 5000);
        QElapsedTimer t;
        t.start();
        ResultWaiter queued;
        m_client->call(Operation::GenerateContent, kModel, userText(QStringLiteral("queued")), steady_clock::now() + 200ms,
                       queued.callback());
        QTRY_VERIFY_WITH_TIMEOUT(queued.done(), 5000);
        QCOMPARE(queued.get().status.code, StatusCode::DeadlineExceeded);
        QVERIFY2(t.elapsed() < 700, qPrintable(QString::number(t.elapsed())));
        QVERIFY(!slow.done());
        QTRY_VERIFY_WITH_TIMEOUT(slow.done(), 5000);
        QVERIFY2(slow.get().status.ok(), qPrintable(slow.get().status.message));
        QCOMPARE(m_sim->stats().route(QStringLiteral("generateContent")), qint64(1));
    }

    void nativeIdleConnectionsAreClosed()
    {
        if (!native())
            QSKIP("native transport only");
        GeminiClientConfig c = clientConfig();
        c.idleConnectionTimeout = 100ms;
        makeClient(c);
        const std::optional<InferenceResult> w = generate(QStringLiteral("hi"));
        QVERIFY(w);
        QVERIFY(w->status.ok());
        QCOMPARE(m_sim->stats().openConnections, 1);
        QTRY_COMPARE_WITH_TIMEOUT(m_sim->stats().openConnections, 0, 3000);
    }
};

QTEST_GUILESS_MAIN(TestGeminiClient)
#include "tst_geminiclient.moc"
