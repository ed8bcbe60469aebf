// Nothing reaches the upstream around Sluice's admission, and every upstream
// attempt is counted (issue 18, items 8, 9 and the deadline part of 10):
// GatewayServer over loopback with the real engine, GeminiClient and
// GeminiSimulator (GatewayStack), one stack per test so that one test's
// calls never sit in another's quota window. What the upstream saw is read
// where the truth is: the simulator's GET /sim/v1/stats.

#include "core/gemini/geminiresponse.h"
#include "server/routes/geminiroutes.h"
#include "tests/support/gatewaystack.h"
#include "tests/support/rawhttp.h"
#include "tests/support/userturn.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTcpServer>
#include <QtTest>

#include <memory>

using namespace std::chrono_literals;

Q_DECLARE_METATYPE(PackingMode)

namespace {

const QString kModel = QStringLiteral("gemini-2.0-flash");
const QByteArray kGenerate = "/v1beta/models/gemini-2.0-flash:generateContent";
const QByteArray kCount = "/v1beta/models/gemini-2.0-flash:countTokens";

QByteArray userTextBytes(const QString &text)
{
    return QJsonDocument(userText(text)).toJson(QJsonDocument::Compact);
}

QJsonObject json(const QByteArray &body)
{
    return QJsonDocument::fromJson(body).object();
}

QJsonObject errorOf(const RawHttp &r)
{
    return json(r.body).value(QStringLiteral("error")).toObject();
}

// `n` requests sent at once, each on its own connection; waits for every answer.
std::vector<std::unique_ptr<RawHttp>> sendAll(const QUrl &url, int n, const QByteArray &method,
                                              const std::function<QByteArray(int)> &path,
                                              const std::function<QByteArray(int)> &body = {},
                                              int timeoutMs = 30000)
{
    std::vector<std::unique_ptr<RawHttp>> clients;
    for (int i = 0; i < n; ++i) {
        clients.push_back(std::make_unique<RawHttp>(url));
        clients.back()->request(method, path(i), body ? body(i) : QByteArray());
    }
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < timeoutMs
           && !std::all_of(clients.begin(), clients.end(), [](const auto &c) { return c->complete; }))
        QTest::qWait(10);
    return clients;
}

std::unique_ptr<RawHttp> sendOne(const QUrl &url, const QByteArray &method, const QByteArray &path,
                                 const QByteArray &body = {},
                                 const QList<QPair<QByteArray, QByteArray>> &headers = {{"Content-Type", "application/json"}})
{
    auto r = std::make_unique<RawHttp>(url);
    r->request(method, path, body, headers);
    QElapsedTimer t;
    t.start();
    while (!r->complete && t.elapsed() < 30000)
        QTest::qWait(5);
    return r;
}

// The simulator's own counts, over HTTP as an operator reads them.
QJsonObject simStats(const GeminiSimulator &sim)
{
    return json(sendOne(sim.baseUrl(), "GET", "/sim/v1/stats")->body);
}

qint64 count(const QJsonObject &stats, const char *map, const QString &key)
{
    return qint64(stats.value(QLatin1String(map)).toObject().value(key).toDouble());
}

// sluice_upstream_attempts_total{model="<model>",outcome="<outcome>"} from /metrics.
qint64 promAttempts(const QByteArray &metrics, const QString &model, const QString &outcome)
{
    const QByteArray prefix = "sluice_upstream_attempts_total{model=\"" + model.toUtf8() + "\",outcome=\""
                            + outcome.toUtf8() + "\"} ";
    for (const QByteArray &line : metrics.split('\n'))
        if (line.startsWith(prefix))
            return line.mid(prefix.size()).toLongLong();
    return -1;
}

qint64 promRejected(const QByteArray &metrics, const char *reason)
{
    const QByteArray prefix = QByteArray("sluice_rejected_total{reason=\"") + reason + "\"} ";
    for (const QByteArray &line : metrics.split('\n'))
        if (line.startsWith(prefix))
            return line.mid(prefix.size()).toLongLong();
    return -1;
}

// A 429 or 503 that a Gemini SDK retries correctly: Retry-After, and a 429's RetryInfo.
bool isPushBack(const RawHttp &r, int status, const char *envelopeStatus)
{
    const QJsonObject e = errorOf(r);
    const bool retryInfo = e.value(QStringLiteral("details")).toArray().at(0).toObject()
                               .value(QStringLiteral("@type")).toString()
                        == QStringLiteral("type.googleapis.com/google.rpc.RetryInfo");
    return r.status == status && r.header("Retry-After").toInt() >= 1
        && e.value(QStringLiteral("status")).toString() == QLatin1String(envelopeStatus)
        && (status != 429 || retryInfo);
}

struct Gateway {
    GatewayStack stack;
    std::unique_ptr<GatewayServer> server;
    QUrl url;

    bool start(const SimulatorConfig &sc, const EngineConfig &ec, QString *error)
    {
        if (!stack.start(sc, ec, error))
            return false;
        GatewayOptions o;
        o.port = 0;
        server = stack.startGateway(o, error);
        if (!server)
            return false;
        url = server->url();
        return true;
    }
    ~Gateway() { server.reset(); }
};

} // namespace

class TestUpstreamAdmission : public QObject
{
    Q_OBJECT

private slots:
    // Item 8: 100 concurrent countTokens with rpmLimit 10 make no more
    // upstream calls than the budget allows; the rest are queued, then
    // answered or refused 429 + Retry-After (queue full, or no budget before
    // their deadline), each refusal counted; each call is a batch of its own.
    void countTokensGoThroughAdmissionAndTheBudget()
    {
        EngineConfig ec;
        ec.rpmLimit = 10;          // a burst of 1.67 calls, then one every 6 s
        ec.maxQueue = 40;
        ec.maxInflightBatches = 4;
        ec.requestTimeoutMs = 3000;
        Gateway g;
        QString error;
        QVERIFY2(g.start(instantSimulator(12), ec, &error), qPrintable(error));

        QElapsedTimer t;
        t.start();
        constexpr int kRequests = 100;
        auto clients = sendAll(g.url, kRequests, "POST", [](int) { return kCount; },
                               [](int i) { return userTextBytes(QStringLiteral("count %1").arg(i)); });
        const double seconds = double(t.elapsed()) / 1000.0;
        int ok = 0, queueFull = 0, noBudget = 0;
        for (const auto &c : clients) {
            QVERIFY2(c->complete, "every request is answered");
            if (c->status == 200) {
                ++ok;
                QVERIFY(json(c->body).value(QStringLiteral("totalTokens")).toInt() > 0);
                continue;
            }
            QVERIFY2(isPushBack(*c, 429, "RESOURCE_EXHAUSTED"), c->rawHead.constData());
            const QString message = errorOf(*c).value(QStringLiteral("message")).toString();
            if (message.contains(QLatin1String("queue is full")))
                ++queueFull;
            else if (message.contains(QLatin1String("RPM")))
                ++noBudget;
            else
                QFAIL(qPrintable(message));
        }
        const QJsonObject sim = simStats(*g.stack.sim);
        const qint64 calls = count(sim, "callsPerRoute", QStringLiteral("countTokens"));
        qInfo("%d countTokens in %.1f s: %d answered, %d refused queue full, %d refused no budget; %lld upstream calls",
              kRequests, seconds, ok, queueFull, noBudget, calls);
        QCOMPARE(ok + queueFull + noBudget, kRequests);
        QVERIFY(ok >= 1);
        QCOMPARE(calls, qint64(ok));
        // The budget's pace: its burst, then rpm/60 a second; never above rpm.
        QVERIFY2(calls <= 2 + qint64(seconds * 10.0 / 60.0) && calls <= 10, qPrintable(QString::number(calls)));
        QVERIFY(queueFull >= kRequests - ec.maxQueue - ec.maxInflightBatches);
        QVERIFY(noBudget >= 1);

        const EngineCounters counters = g.stack.engine->counters();
        QCOMPARE(counters.batchesDispatched, quint64(calls)); // each alone
        QCOMPARE(counters.upstreamCalls, quint64(calls));
        QCOMPARE(counters.rejected, quint64(queueFull));
        QVERIFY(counters.invariantHolds());
        const QByteArray metrics = sendOne(g.url, "GET", "/metrics")->body;
        QCOMPARE(promRejected(metrics, "queue_full"), qint64(queueFull));
        QCOMPARE(promRejected(metrics, "quota_exhausted"), qint64(noBudget));
        QCOMPARE(promAttempts(metrics, kModel, QStringLiteral("ok")), calls);
    }

    // Item 8: while draining, countTokens is refused like generateContent
    // (503 + Retry-After, counted), and model metadata not already cached
    // is not fetched.
    void drainingRefusesEveryUpstreamCall()
    {
        Gateway g;
        QString error;
        QVERIFY2(g.start(instantSimulator(12), EngineConfig{}, &error), qPrintable(error));
        QCOMPARE(sendOne(g.url, "GET", "/v1beta/models/gemini-2.0-flash")->status, 200); // cached before the drain
        g.stack.engine->drain();
        for (const QByteArray &path : {kCount, kGenerate}) {
            auto r = sendOne(g.url, "POST", path, userTextBytes(QStringLiteral("too late")));
            QVERIFY2(isPushBack(*r, 503, "UNAVAILABLE"), r->rawHead.constData());
        }
        auto list = sendOne(g.url, "GET", "/v1beta/models");
        QVERIFY2(isPushBack(*list, 503, "UNAVAILABLE"), list->rawHead.constData());
        QCOMPARE(sendOne(g.url, "GET", "/v1beta/models/gemini-2.0-flash")->status, 200); // no upstream call needed
        const QJsonObject sim = simStats(*g.stack.sim);
        QCOMPARE(count(sim, "callsPerRoute", QStringLiteral("countTokens")), qint64(0));
        QCOMPARE(count(sim, "callsPerRoute", QStringLiteral("generateContent")), qint64(0));
        QCOMPARE(count(sim, "callsPerRoute", QStringLiteral("listModels")), qint64(0));
        QCOMPARE(count(sim, "callsPerRoute", QStringLiteral("getModel")), qint64(1));
        QCOMPARE(promRejected(sendOne(g.url, "GET", "/metrics")->body, "draining"), qint64(3));
    }

    // Item 8, model metadata: cached, concurrent requests share one call,
    // a 404 is kept too; the answer is the upstream's, every field.
    void modelMetadataIsCachedAndShared()
    {
        Gateway g;
        QString error;
        QVERIFY2(g.start(instantSimulator(12), EngineConfig{}, &error), qPrintable(error));
        auto lists = sendAll(g.url, 20, "GET", [](int) { return QByteArray("/v1beta/models"); });
        auto gets = sendAll(g.url, 10, "GET", [](int) { return QByteArray("/v1beta/models/gemini-2.0-flash"); });
        auto missing = sendAll(g.url, 3, "GET", [](int) { return QByteArray("/v1beta/models/no-such-model"); });
        auto again = sendAll(g.url, 5, "GET", [](int i) {
            return i % 2 ? QByteArray("/v1beta/models") : QByteArray("/v1beta/models/no-such-model");
        });
        const QByteArray firstList = lists.front()->body;
        QVERIFY(!json(firstList).value(QStringLiteral("models")).toArray().isEmpty());
        for (const auto &c : lists)
            QCOMPARE(c->body, firstList);
        for (const auto &c : gets) {
            QCOMPARE(c->status, 200);
            QCOMPARE(json(c->body).value(QStringLiteral("name")).toString(), QStringLiteral("models/gemini-2.0-flash"));
        }
        for (const auto &c : missing) {
            QCOMPARE(c->status, 404);
            QCOMPARE(errorOf(*c).value(QStringLiteral("status")).toString(), QStringLiteral("NOT_FOUND"));
        }
        for (const auto &c : again)
            QCOMPARE(c->status, c->body == firstList ? 200 : 404);
        // Each key: one upstream call; a different page is another key.
        QCOMPARE(sendOne(g.url, "GET", "/v1beta/models?pageSize=2")->status, 200);
        const QJsonObject sim = simStats(*g.stack.sim);
        QCOMPARE(count(sim, "callsPerRoute", QStringLiteral("listModels")), qint64(2));
        QCOMPARE(count(sim, "callsPerRoute", QStringLiteral("getModel")), qint64(2));
    }

    // Item 8, model metadata: at most kMaxMetadataFetches keys are fetched at
    // once; beyond, 429 + Retry-After (counted), and a failed fetch is not
    // kept. The upstream here accepts connections and never answers.
    void metadataFetchesAreBounded()
    {
        QTcpServer silent;
        QVERIFY(silent.listen(QHostAddress::LocalHost));
        InferenceMetricsCollector metrics;
        UpstreamBudget budget;
        GeminiClientConfig cc;
        cc.baseUrl = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(silent.serverPort()));
        cc.budget = &budget;
        cc.metrics = &metrics;
        cc.retry.maxAttempts = 1;
        GeminiClient client(cc);
        EngineConfig ec;
        ec.requestTimeoutMs = 1500;
        BatchInferenceEngine engine(&client, ec, Clock::steady(), &metrics, &budget);
        engine.start();
        {
            GatewayOptions o;
            o.port = 0;
            GatewayServer gateway(GatewayDeps{&engine, &client, &metrics}, o);
            QString error;
            QVERIFY2(gateway.start(&error), qPrintable(error));
            constexpr int kKeys = GeminiRoutes::kMaxMetadataFetches + 2;
            auto clients = sendAll(gateway.url(), kKeys, "GET",
                                   [](int i) { return QByteArray("/v1beta/models/model-") + QByteArray::number(i); });
            int refused = 0, timedOut = 0;
            for (const auto &c : clients) {
                if (c->status == 429) {
                    QVERIFY2(isPushBack(*c, 429, "RESOURCE_EXHAUSTED"), c->rawHead.constData());
                    ++refused;
                } else {
                    QCOMPARE(c->status, 504);
                    ++timedOut;
                }
            }
            QCOMPARE(refused, kKeys - GeminiRoutes::kMaxMetadataFetches);
            QCOMPARE(timedOut, GeminiRoutes::kMaxMetadataFetches);
            QCOMPARE(metrics.snapshot().total.rejections.value(QStringLiteral("queue_full")), quint64(refused));
            // Not kept: asked again, it goes upstream again (and times out again).
            QCOMPARE(sendOne(gateway.url(), "GET", "/v1beta/models/model-0")->status, 504);
            const auto attempts = metrics.upstreamAttemptCounts();
            QCOMPARE(attempts.at({QString(), UpstreamAttemptOutcome::Timeout}), quint64(timedOut + 1));
        }
        engine.stop();
    }

    // Item 9: with injected upstream faults, the gateway's count of attempts
    // and their outcomes — retries included, packs included — equals the
    // simulator's own count of calls and failures.
    void attemptsMatchTheUpstreamsCount_data()
    {
        QTest::addColumn<PackingMode>("packing");
        QTest::addColumn<int>("maxBatch");
        QTest::addColumn<int>("requests");
        // Enough calls either way for the faults to show (packs of 3: 32 first calls).
        QTest::newRow("fanout") << PackingMode::Fanout << 8 << 64;
        QTest::newRow("pack") << PackingMode::Pack << 3 << 96;
    }
    void attemptsMatchTheUpstreamsCount()
    {
        QFETCH(PackingMode, packing);
        QFETCH(int, maxBatch);
        QFETCH(int, requests);
        SimulatorConfig sc = instantSimulator(12);
        sc.http503Rate = 0.25;
        sc.http500Rate = 0.05;
        EngineConfig ec;
        ec.packing = packing;
        ec.maxBatchSize = maxBatch;
        ec.maxWaitMs = 20;
        ec.retry.maxAttempts = 4;
        ec.retry.initialBackoffMs = 5;
        ec.retry.maxBackoffMs = 20;
        Gateway g;
        QString error;
        QVERIFY2(g.start(sc, ec, &error), qPrintable(error));
        // A breaker that opens mid-test would stop attempts, not skew their count;
        // keep it closed so the retries are many.
        g.stack.client->circuitBreaker().setConfig({1000});

        const int kRequests = requests;
        auto clients = sendAll(g.url, kRequests, "POST", [](int) { return kGenerate; },
                               [](int i) { return userTextBytes(QStringLiteral("faulty %1").arg(i)); });
        int ok = 0;
        for (const auto &c : clients) {
            QVERIFY(c->complete);
            QVERIFY2(c->status == 200 || c->status == 500 || c->status == 503, c->rawHead.constData());
            ok += c->status == 200 ? 1 : 0;
        }

        const QJsonObject sim = simStats(*g.stack.sim);
        const qint64 simCalls = count(sim, "callsPerRoute", QStringLiteral("generateContent"));
        const qint64 sim200 = count(sim, "responsesPerStatus", QStringLiteral("200"));
        const qint64 sim5xx = count(sim, "responsesPerStatus", QStringLiteral("500"))
                            + count(sim, "responsesPerStatus", QStringLiteral("503"));
        QCOMPARE(count(sim, "faults", QStringLiteral("http500")) + count(sim, "faults", QStringLiteral("http503")), sim5xx);

        const QJsonObject stats = json(sendOne(g.url, "GET", "/api/v1/stats")->body);
        qint64 gwOk = 0, gw5xx = 0, gwOther = 0;
        for (const QJsonValue &v : stats.value(QStringLiteral("upstreamAttempts")).toArray()) {
            const QJsonObject a = v.toObject();
            QCOMPARE(a.value(QStringLiteral("model")).toString(), kModel);
            const QString outcome = a.value(QStringLiteral("outcome")).toString();
            const qint64 n = qint64(a.value(QStringLiteral("attempts")).toDouble());
            (outcome == QLatin1String("ok") ? gwOk : outcome == QLatin1String("5xx") ? gw5xx : gwOther) += n;
        }
        const QJsonObject total = stats.value(QStringLiteral("total")).toObject();
        const qint64 retries = qint64(total.value(QStringLiteral("upstreamCallsByKind")).toObject()
                                          .value(QStringLiteral("retry")).toDouble());
        qInfo("%s: %d of %d answered; simulator %lld calls (%lld 200, %lld 5xx); gateway %lld attempts "
              "(%lld ok, %lld 5xx, %lld retries)", packing == PackingMode::Pack ? "pack" : "fanout", ok, kRequests,
              simCalls, sim200, sim5xx, gwOk + gw5xx + gwOther, gwOk, gw5xx, retries);
        QVERIFY2(sim5xx >= 3, "the test needs failures");
        QVERIFY(retries >= 1);
        QCOMPARE(gwOther, qint64(0));
        QCOMPARE(gwOk + gw5xx, simCalls);
        QCOMPARE(gwOk, sim200);
        QCOMPARE(gw5xx, sim5xx);
        QCOMPARE(qint64(total.value(QStringLiteral("upstreamAttemptsFailed")).toDouble()), sim5xx);
        QCOMPARE(qint64(total.value(QStringLiteral("upstreamCalls")).toDouble()), simCalls);
        const QByteArray metrics = sendOne(g.url, "GET", "/metrics")->body;
        QCOMPARE(promAttempts(metrics, kModel, QStringLiteral("ok")), sim200);
        QCOMPARE(promAttempts(metrics, kModel, QStringLiteral("5xx")), sim5xx);
        QCOMPARE(promAttempts(metrics, kModel, QStringLiteral("timeout")), qint64(0)); // every outcome is listed
        if (packing == PackingMode::Pack)
            QVERIFY2(simCalls < kRequests, "pack mode needs fewer calls than requests");
    }

    // A model name is the client's to choose, and it becomes a label value:
    // escaped, so that it cannot break or forge /metrics lines.
    void modelLabelsAreEscaped()
    {
        Gateway g;
        QString error;
        QVERIFY2(g.start(instantSimulator(12), EngineConfig{}, &error), qPrintable(error));
        auto r = sendOne(g.url, "POST", "/v1beta/models/a%22b%5Cc:generateContent", userTextBytes(QStringLiteral("x")));
        QCOMPARE(r->status, 404); // the upstream knows no such model
        const QByteArray metrics = sendOne(g.url, "GET", "/metrics")->body;
        QVERIFY2(metrics.contains("sluice_upstream_attempts_total{model=\"a\\\"b\\\\c\",outcome=\"4xx\"} 1\n"),
                 metrics.constData());
        for (const QByteArray &line : metrics.split('\n'))
            QVERIFY2(!line.contains("a\"b"), line.constData());
    }

    // Item 10: X-Request-Deadline-Ms can only lower the deadline; a huge
    // value neither wraps into an instant 504 nor raises it; a bad one is a
    // 400 naming the header.
    void deadlineHeaderOnlyLowersTheDeadline()
    {
        EngineConfig ec;
        ec.requestTimeoutMs = 400;
        ec.maxWaitMs = 0;
        Gateway g;
        QString error;
        QVERIFY2(g.start(instantSimulator(12), ec, &error), qPrintable(error));
        const QList<QPair<QByteArray, QByteArray>> json_ = {{"Content-Type", "application/json"}};
        for (const QByteArray &huge : {QByteArray("9223372036854775807"), QByteArray("9223372036854775806"),
                                       QByteArray("18446744073709551616"), QByteArray(40, '9')}) {
            auto r = sendOne(g.url, "POST", kGenerate, userTextBytes(QStringLiteral("no hurry")),
                             json_ + QList<QPair<QByteArray, QByteArray>>{{"X-Request-Deadline-Ms", huge}});
            QVERIFY2(r->status == 200, (huge + ": " + r->rawHead).constData());
        }

        // Queued behind a long maxWaitMs: the 60 s the client asks for is
        // held to requestTimeoutMs (400 ms): 504, never sent upstream.
        EngineConfig slow = ec;
        slow.maxWaitMs = 10000;
        QVERIFY(g.stack.engine->setConfig(slow).isNull());
        const qint64 before = g.stack.sim->stats().route(QStringLiteral("generateContent"));
        QElapsedTimer t;
        t.start();
        auto held = sendOne(g.url, "POST", kGenerate, userTextBytes(QStringLiteral("later")),
                            json_ + QList<QPair<QByteArray, QByteArray>>{{"X-Request-Deadline-Ms", "60000"}});
        const qint64 waited = t.elapsed();
        QCOMPARE(held->status, 504);
        QVERIFY2(waited >= 350 && waited < 5000, qPrintable(QString::number(waited)));
        QCOMPARE(g.stack.sim->stats().route(QStringLiteral("generateContent")), before);

        for (const QByteArray &bad : {QByteArray("soon"), QByteArray("-5"), QByteArray("0"), QByteArray("1.5"),
                                      QByteArray("+100"), QByteArray("100ms")}) {
            for (const QByteArray &path : {kGenerate, kCount}) {
                auto r = sendOne(g.url, "POST", path, userTextBytes(QStringLiteral("x")),
                                 json_ + QList<QPair<QByteArray, QByteArray>>{{"X-Request-Deadline-Ms", bad}});
                QCOMPARE(r->status, 400);
                const QJsonObject e = errorOf(*r);
                QCOMPARE(e.value(QStringLiteral("status")).toString(), QStringLiteral("INVALID_ARGUMENT"));
                QVERIFY(e.value(QStringLiteral("message")).toString().contains(QLatin1String("X-Request-Deadline-Ms")));
                const QJsonObject violation = e.value(QStringLiteral("details")).toArray().at(0).toObject()
                                                  .value(QStringLiteral("fieldViolations")).toArray().at(0).toObject();
                QCOMPARE(violation.value(QStringLiteral("field")).toString(), QStringLiteral("X-Request-Deadline-Ms"));
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestUpstreamAdmission)
#include "tst_upstreamadmission.moc"
