// The quota-aware scheduler end to end, without the HTTP front: the engine,
// the GeminiClient and one UpstreamBudget they share (GatewayStack, as
// GatewayRuntime wires them; no gateway started), against the real
// GeminiSimulator over loopback with a quota of its own. What is counted is
// counted where the truth is: the simulator's own stats.

#include "core/gemini/geminiresponse.h"
#include "tests/support/gatewaystack.h"

#include <QElapsedTimer>
#include <QFuture>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <atomic>
#include <memory>

using namespace std::chrono_literals;

namespace {

const QString kModel = QStringLiteral("gemini-2.0-flash");

// A simulator that answers at once, with a small answer.
SimulatorConfig quickSim()
{
    SimulatorConfig c;
    c.baseLatencyMs = 20;
    c.tokensPerSecond = 0;
    c.jitterSigma = 0;
    c.responseWords = 12;
    c.maxConcurrent = 256;
    return c;
}

InferenceRequest request(int i, int maxOutputTokens = 0)
{
    QJsonObject gen;
    if (maxOutputTokens > 0)
        gen.insert(QStringLiteral("maxOutputTokens"), maxOutputTokens);
    QJsonObject body{{QStringLiteral("contents"),
                      QJsonArray{QJsonObject{{QStringLiteral("parts"),
                                              QJsonArray{QJsonObject{{QStringLiteral("text"),
                                                                      QStringLiteral("question number %1").arg(i)}}}}}}}};
    if (!gen.isEmpty())
        body.insert(QStringLiteral("generationConfig"), gen);
    InferenceRequest r;
    r.model = kModel;
    r.operation = Operation::GenerateContent;
    r.body = body;
    return r;
}

// Submits `requests` at once and waits for every answer (up to `timeout` each).
QList<InferenceResult> answersTo(BatchInferenceEngine &engine, QList<InferenceRequest> requests, int timeoutMs)
{
    QList<QFuture<InferenceResult>> futures;
    for (InferenceRequest &r : requests)
        futures.append(engine.submit(std::move(r)));
    QList<InferenceResult> results;
    for (QFuture<InferenceResult> &fut : futures) {
        QElapsedTimer t;
        t.start();
        while (!fut.isFinished() && t.elapsed() < timeoutMs)
            QTest::qWait(10);
        results.append(fut.isFinished() ? fut.result() : InferenceResult::fromStatus(Status::error(
                           StatusCode::DeadlineExceeded, QStringLiteral("no answer within the test's wait"))));
    }
    return results;
}

// `agents` closed-loop agents for `duration`: each sends its next request
// when the previous one is answered (after a refusal's Retry-After, as an
// SDK would). Returns the answers.
struct Fleet {
    std::atomic<int> ok{0};
    std::atomic<int> refused{0};
    std::atomic<int> failed{0};
    std::atomic<int> inFlight{0};
    std::atomic<bool> stopping{false};
    QStringList failures;

    void run(BatchInferenceEngine &engine, int agents, std::chrono::milliseconds duration, int maxOutputTokens = 0,
             std::optional<std::chrono::milliseconds> timeout = std::nullopt)
    {
        std::atomic<int> next{0};
        std::function<void()> send = [&] {
            if (stopping)
                return;
            InferenceRequest r = request(next++, maxOutputTokens);
            r.timeout = timeout;
            ++inFlight;
            engine.submit(std::move(r), [this, &send](InferenceResult res) {
                if (res.status.ok())
                    ++ok;
                else if (res.status.code == StatusCode::ResourceExhausted)
                    ++refused;
                else
                    ++failed;
                // Back on the test thread: the next request of this agent.
                QMetaObject::invokeMethod(qApp, [this, &send, res] {
                    --inFlight;
                    if (!res.status.ok() && res.status.code != StatusCode::ResourceExhausted && failures.size() < 5)
                        failures.append(res.status.message);
                    if (!res.status.ok() && res.status.retryAfter > 0ms && !stopping)
                        QTimer::singleShot(res.status.retryAfter, qApp, send);
                    else
                        send();
                }, Qt::QueuedConnection);
            });
        };
        for (int i = 0; i < agents; ++i)
            send();
        QTest::qWait(int(duration.count()));
        stopping = true;
        QTRY_COMPARE_WITH_TIMEOUT(inFlight.load(), 0, 60000);
    }
};

} // namespace

class TestQuotaScheduling : public QObject
{
    Q_OBJECT
private slots:
    void configuredLimitNeverMeetsA429()
    {
        // The simulator allows 30 calls a minute and so does Sluice's
        // configuration; 40 agents want far more. Auto packs them, paced,
        // and the upstream never refuses.
        SimulatorConfig sc = quickSim();
        sc.rpmLimit = 30;
        EngineConfig ec;
        ec.rpmLimit = 30;
        GatewayStack s;
        QString error;
        QVERIFY2(s.start(sc, ec, &error, 0, false), qPrintable(error));
        Fleet f;
        f.run(*s.engine, 40, 6s);
        const SimulatorStats st = s.sim->stats();
        QCOMPARE(st.rateLimited, qint64(0));
        QVERIFY2(f.failures.isEmpty(), qPrintable(f.failures.join(u'\n')));
        QCOMPARE(f.failed.load(), 0);
        const qint64 calls = st.route(QStringLiteral("generateContent"));
        qInfo("%d answers, %lld upstream calls, %lld upstream 429s", f.ok.load(), calls, st.rateLimited);
        QVERIFY2(calls <= 30, qPrintable(QString::number(calls)));
        // Packing: many answers per call, and never more calls than answers.
        QVERIFY2(f.ok.load() >= 3 * calls, qPrintable(QStringLiteral("%1 answers for %2 calls").arg(f.ok.load()).arg(calls)));
        // Sluice's own count of HTTP calls is the simulator's.
        QCOMPARE(qint64(s.metrics->snapshot().total.upstreamCalls), calls);
    }

    void unknownLimitIsLearnedFromOne429()
    {
        // Nothing configured: the budget probes from 60 calls a minute and
        // learns the simulator's 8 from its first 429 (QuotaFailure), with
        // few calls lost to 429s.
        SimulatorConfig sc = quickSim();
        sc.rpmLimit = 8;
        EngineConfig ec;
        GatewayStack s;
        QString error;
        QVERIFY2(s.start(sc, ec, &error, 0, false), qPrintable(error));
        Fleet f;
        f.run(*s.engine, 40, 5s, 0, 20s);
        const SimulatorStats st = s.sim->stats();
        qInfo("%d answers, %d refused by Sluice, %lld upstream calls, %lld upstream 429s", f.ok.load(), f.refused.load(),
              st.route(QStringLiteral("generateContent")), st.rateLimited);
        QVERIFY2(st.rateLimited >= 1 && st.rateLimited <= 3, qPrintable(QString::number(st.rateLimited)));
        const QList<UpstreamBudget::ModelState> budget = s.budget->snapshot();
        QCOMPARE(budget.size(), 1);
        QCOMPARE(budget[0].dimensions[0].limit, 8LL);
        QCOMPARE(budget[0].dimensions[0].source, ModelBudget::Source::Learned);
        // Answers beyond the calls the quota allowed: they were packed.
        QVERIFY2(f.ok.load() > st.route(QStringLiteral("generateContent")),
                 qPrintable(QStringLiteral("%1 answers, %2 calls").arg(f.ok.load()).arg(st.route(QStringLiteral("generateContent")))));
        QCOMPARE(f.failed.load(), 0);
    }

    void deadlineBeyondTheBudgetIs429AtOnce()
    {
        // The budget is spent and blocked for a minute by the upstream's
        // RetryInfo: a request that can wait 2 s is refused at once, with
        // the budget's time as Retry-After, and never reaches the upstream.
        SimulatorConfig sc = quickSim();
        EngineConfig ec;
        ec.rpmLimit = 6; // a burst of 1, then one call every 10 s
        ec.packing = PackingMode::Fanout;
        GatewayStack s;
        QString error;
        QVERIFY2(s.start(sc, ec, &error, 0, true), qPrintable(error));
        QFuture<InferenceResult> first = s.engine->submit(request(1));
        QTRY_VERIFY(first.isFinished());
        QVERIFY(first.result().status.ok());
        const qint64 callsBefore = s.sim->stats().route(QStringLiteral("generateContent"));
        InferenceRequest r = request(2);
        r.timeout = 2s;
        QElapsedTimer t;
        t.start();
        QFuture<InferenceResult> second = s.engine->submit(std::move(r));
        QTRY_VERIFY_WITH_TIMEOUT(second.isFinished(), 1500); // not the 2 s deadline: at once
        const InferenceResult res = second.result();
        QCOMPARE(res.status.code, StatusCode::ResourceExhausted);
        QCOMPARE(res.status.reason, RejectReason::QuotaExhausted);
        QVERIFY2(res.status.retryAfter > 5s, qPrintable(QString::number(res.status.retryAfter.count())));
        QVERIFY2(res.status.message.contains(QLatin1String("RPM")), qPrintable(res.status.message));
        QCOMPARE(s.sim->stats().route(QStringLiteral("generateContent")), callsBefore);
        QVERIFY(s.engine->counters().invariantHolds());
    }

    void truncatedPacksLoseNobodyAndCostNoMoreCallsThanAnswers()
    {
        // Answers of ~2,000 words: a pack of 20 overflows the model's 8,192
        // output tokens and comes back cut (MAX_TOKENS) after a few members.
        // Every member is answered, and the upstream sees no more
        // generateContent calls than there are answers.
        SimulatorConfig sc = quickSim();
        sc.responseWords = 2000;
        EngineConfig ec;
        ec.packing = PackingMode::Pack;
        ec.maxBatchSize = 20;
        ec.maxWaitMs = 50;
        GatewayStack s;
        QString error;
        QVERIFY2(s.start(sc, ec, &error, 0, true), qPrintable(error));
        QList<InferenceRequest> requests;
        for (int i = 0; i < 20; ++i)
            requests.append(request(i));
        int ok = 0;
        for (const InferenceResult &r : answersTo(*s.engine, requests, 30000)) {
            QVERIFY2(r.status.ok(), qPrintable(r.status.message));
            ++ok;
        }
        const qint64 calls = s.sim->stats().route(QStringLiteral("generateContent"));
        const MetricsSnapshot snap = s.metrics->snapshot();
        qInfo("%d answers, %lld upstream calls, %llu members repacked", ok, calls, snap.total.packRepacked);
        QVERIFY2(calls <= ok, qPrintable(QStringLiteral("%1 calls for %2 answers").arg(calls).arg(ok)));
        QVERIFY2(snap.total.packRepacked > 0, "the test needs truncated packs");
        QCOMPARE(qint64(snap.total.upstreamCalls), calls);
        QCOMPARE(snap.total.packFailed, quint64(0));
    }

    void membersGetTheirOwnMaxOutputTokens()
    {
        // A pack cannot honour each member's maxOutputTokens; each answer is
        // cut to it on the way back, as a call of its own would have been.
        SimulatorConfig sc = quickSim();
        sc.responseWords = 48;
        EngineConfig ec;
        ec.packing = PackingMode::Pack;
        ec.maxBatchSize = 8;
        ec.maxWaitMs = 50;
        GatewayStack s;
        QString error;
        QVERIFY2(s.start(sc, ec, &error, 0, true), qPrintable(error));
        QList<InferenceRequest> requests;
        for (int i = 0; i < 8; ++i)
            requests.append(request(i, 10));
        for (const InferenceResult &r : answersTo(*s.engine, requests, 10000)) {
            QVERIFY2(r.status.ok(), qPrintable(r.status.message));
            const GeminiResponse g(r.body.isEmpty() ? QJsonDocument::fromJson(r.bodyJson).object() : r.body);
            QVERIFY2(g.text().size() <= 40, qPrintable(g.text()));
            QCOMPARE(g.finishReason(), QStringLiteral("MAX_TOKENS"));
        }
        QCOMPARE(s.sim->stats().route(QStringLiteral("generateContent")), qint64(1));
    }
};

QTEST_GUILESS_MAIN(TestQuotaScheduling)
#include "tst_quotascheduling.moc"
