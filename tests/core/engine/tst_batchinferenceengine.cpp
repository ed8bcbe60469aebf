#include "core/engine/batchinferenceengine.h"
#include "core/engine/batchkey.h"

#include <QDeadlineTimer>
#include <QSignalSpy>
#include <QTest>

#include <atomic>
#include <deque>
#include <limits>
#include <mutex>
#include <random>
#include <set>
#include <thread>

using namespace std::chrono;

namespace {

// The engine's upstream in these tests: records every batch it is given and
// either answers at once, holds batches until the test releases them, or
// answers from its own worker threads after a random delay, failing a
// fraction of batches.
class TestBackend final : public InferenceBackend
{
public:
    enum class Mode { Instant, Hold, Async };
    explicit TestBackend(Mode mode = Mode::Instant) : m_mode(mode) {}
    ~TestBackend() override { stopWorkers(); }

    void execute(std::shared_ptr<const Batch> batch, BatchCompletion done) override
    {
        {
            std::lock_guard lock(m_mutex);
            m_batches.push_back(batch);
            m_requestsSeen += batch->members.size();
            for (const auto &m : batch->members)
                m_seenIds.insert(m.requestId);
            if (m_mode == Mode::Hold) {
                m_held.emplace_back(batch, std::move(done));
                return;
            }
            if (m_mode == Mode::Async) {
                m_work.emplace_back(batch, std::move(done));
                m_cv.notify_one();
                return;
            }
        }
        done(answer(*batch, false));
    }

    static std::vector<InferenceResult> answer(const Batch &batch, bool fail)
    {
        std::vector<InferenceResult> out;
        for (const auto &m : batch.members) {
            InferenceResult r;
            if (fail) {
                r.status = Status::error(StatusCode::Unavailable, QStringLiteral("injected failure"));
            } else {
                r.body = QJsonObject{{QStringLiteral("echo"), m.request.body.value(QStringLiteral("n"))}};
                r.promptTokens = 3;
                r.outputTokens = 5;
            }
            out.push_back(r);
        }
        return out;
    }

    int releaseHeld(int count = INT_MAX)
    {
        std::vector<std::pair<std::shared_ptr<const Batch>, BatchCompletion>> take;
        {
            std::lock_guard lock(m_mutex);
            while (!m_held.empty() && int(take.size()) < count) {
                take.push_back(std::move(m_held.front()));
                m_held.pop_front();
            }
        }
        for (auto &[b, done] : take)
            done(answer(*b, false));
        return int(take.size());
    }

    void startWorkers(int n, double failRate)
    {
        m_failRate = failRate;
        for (int i = 0; i < n; ++i)
            m_workers.emplace_back([this, i] { workerLoop(unsigned(i)); });
    }

    void stopWorkers()
    {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
        }
        m_cv.notify_all();
        for (auto &t : m_workers)
            t.join();
        m_workers.clear();
    }

    int batchCount() const
    {
        std::lock_guard lock(m_mutex);
        return int(m_batches.size());
    }
    std::vector<std::shared_ptr<const Batch>> batches() const
    {
        std::lock_guard lock(m_mutex);
        return {m_batches.begin(), m_batches.end()};
    }
    bool saw(quint64 id) const
    {
        std::lock_guard lock(m_mutex);
        return m_seenIds.count(id) > 0;
    }
    size_t requestsSeen() const
    {
        std::lock_guard lock(m_mutex);
        return m_requestsSeen;
    }

private:
    void workerLoop(unsigned seed)
    {
        std::mt19937 rng(seed + 1);
        for (;;) {
            std::pair<std::shared_ptr<const Batch>, BatchCompletion> job;
            {
                std::unique_lock lock(m_mutex);
                m_cv.wait(lock, [this] { return m_stop || !m_work.empty(); });
                if (m_work.empty())
                    return;
                job = std::move(m_work.front());
                m_work.pop_front();
            }
            if (rng() % 4 == 0)
                std::this_thread::sleep_for(microseconds(rng() % 200)); // an upstream's variable service time
            const bool fail = std::uniform_real_distribution<double>(0, 1)(rng) < m_failRate;
            job.second(answer(*job.first, fail));
        }
    }

    Mode m_mode;
    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<std::shared_ptr<const Batch>> m_batches;
    std::deque<std::pair<std::shared_ptr<const Batch>, BatchCompletion>> m_held;
    std::deque<std::pair<std::shared_ptr<const Batch>, BatchCompletion>> m_work;
    std::set<quint64> m_seenIds;
    size_t m_requestsSeen = 0;
    std::vector<std::thread> m_workers;
    bool m_stop = false;
    double m_failRate = 0;
};

InferenceRequest req(const QString &model, int n = 0, Operation op = Operation::GenerateContent)
{
    InferenceRequest r;
    r.model = model;
    r.operation = op;
    r.body = QJsonObject{{QStringLiteral("n"), n}};
    return r;
}

// Collects results by request order; callbacks may arrive on any thread.
struct Results {
    std::mutex mutex;
    std::vector<InferenceResult> list;
    std::atomic<int> count{0};

    CompletionCallback callback()
    {
        return [this](InferenceResult r) {
            std::lock_guard lock(mutex);
            list.push_back(std::move(r));
            ++count;
        };
    }
    InferenceResult at(int i)
    {
        std::lock_guard lock(mutex);
        return list.at(size_t(i));
    }
};

EngineConfig config(int maxBatch, int maxWaitMs, int maxQueue = 1000, int maxInflight = 64)
{
    EngineConfig c;
    c.maxBatchSize = maxBatch;
    c.maxWaitMs = maxWaitMs;
    c.maxQueue = maxQueue;
    c.maxInflightBatches = maxInflight;
    return c;
}

// Waits until the engine has evaluated its policy at the clock's current time.
#define SETTLE(engine, clock) QTRY_VERIFY((engine).lastEvaluation() >= (clock).now())

} // namespace

class TestBatchInferenceEngine : public QObject
{
    Q_OBJECT
private slots:
    void dispatchAtMaxSize_data()
    {
        QTest::addColumn<int>("maxBatch");
        QTest::addColumn<int>("submitted");
        QTest::addColumn<int>("fullBatches");
        QTest::newRow("1 x 8") << 1 << 8 << 8;
        QTest::newRow("4 x 8") << 4 << 8 << 2;
        QTest::newRow("16 x 40") << 16 << 40 << 2;
        QTest::newRow("100 x 100") << 100 << 100 << 1;
    }
    void dispatchAtMaxSize()
    {
        QFETCH(int, maxBatch);
        QFETCH(int, submitted);
        QFETCH(int, fullBatches);
        ManualClock clock;
        TestBackend backend;
        Results results; // outlives the engine, which answers queued requests when it stops
        BatchInferenceEngine engine(&backend, config(maxBatch, 10000), clock);
        engine.start();
        for (int i = 0; i < submitted; ++i)
            QVERIFY(engine.submit(req(QStringLiteral("m"), i), results.callback()).admitted);
        // Full batches leave without any time passing.
        QTRY_COMPARE(backend.batchCount(), fullBatches);
        SETTLE(engine, clock);
        QCOMPARE(backend.batchCount(), fullBatches);
        for (const auto &b : backend.batches())
            QCOMPARE(int(b->members.size()), maxBatch);
        QTRY_COMPARE(results.count.load(), fullBatches * maxBatch);
        // The remainder leaves when the oldest has waited maxWaitMs.
        clock.advance(10s);
        QTRY_COMPARE(results.count.load(), submitted);
        QVERIFY(engine.counters().invariantHolds());
    }

    void dispatchAtMaxWait_data()
    {
        QTest::addColumn<int>("maxWaitMs");
        QTest::newRow("5 ms") << 5;
        QTest::newRow("50 ms") << 50;
        QTest::newRow("2000 ms") << 2000;
    }
    void dispatchAtMaxWait()
    {
        QFETCH(int, maxWaitMs);
        ManualClock clock;
        TestBackend backend;
        Results results; // outlives the engine, which answers queued requests when it stops
        BatchInferenceEngine engine(&backend, config(10, maxWaitMs), clock);
        engine.start();
        for (int i = 0; i < 3; ++i)
            engine.submit(req(QStringLiteral("m"), i), results.callback());
        SETTLE(engine, clock);
        QCOMPARE(backend.batchCount(), 0);

        clock.advance(milliseconds(maxWaitMs - 1));
        SETTLE(engine, clock);
        QCOMPARE(backend.batchCount(), 0);

        clock.advance(1ms);
        QTRY_COMPARE(backend.batchCount(), 1);
        QCOMPARE(int(backend.batches().front()->members.size()), 3);
        QTRY_COMPARE(results.count.load(), 3);
        const InferenceResult r = results.at(0);
        QVERIFY(r.status.ok());
        QCOMPARE(r.queueWait, duration_cast<Nanos>(milliseconds(maxWaitMs)));
        QCOMPARE(r.batchSize, 3);
    }

    void separateKeysNeverMix_data()
    {
        QTest::addColumn<int>("keys");
        QTest::addColumn<int>("perKey");
        QTest::newRow("2 models") << 2 << 50;
        QTest::newRow("7 models") << 7 << 31;
    }
    void separateKeysNeverMix()
    {
        QFETCH(int, keys);
        QFETCH(int, perKey);
        ManualClock clock;
        TestBackend backend;
        Results results; // outlives the engine, which answers queued requests when it stops
        BatchInferenceEngine engine(&backend, config(8, 20), clock);
        engine.start();
        std::mt19937 rng(11);
        std::vector<int> left(size_t(keys), perKey);
        int total = keys * perKey;
        while (total > 0) {
            const int k = int(rng() % unsigned(keys));
            if (left[size_t(k)] == 0)
                continue;
            --left[size_t(k)];
            --total;
            InferenceRequest r = req(QStringLiteral("model-%1").arg(k), k);
            // Same model, different generationConfig → a different key too.
            if (k % 2)
                r.body.insert(QStringLiteral("generationConfig"), QJsonObject{{QStringLiteral("temperature"), 0.5}});
            engine.submit(std::move(r), results.callback());
        }
        clock.advance(1s);
        QTRY_COMPARE(results.count.load(), keys * perKey);
        for (const auto &b : backend.batches()) {
            QVERIFY(int(b->members.size()) <= 8);
            for (const auto &m : b->members) {
                QCOMPARE(m.request.batchKey, b->key);
                QCOMPARE(m.request.model, b->model);
            }
        }
        // Different generationConfig, same model: distinct keys.
        QVERIFY(BatchKey::compute(QStringLiteral("m"), Operation::GenerateContent, {})
                != BatchKey::compute(QStringLiteral("m"), Operation::GenerateContent,
                                     QJsonObject{{QStringLiteral("generationConfig"), QJsonObject{{QStringLiteral("topK"), 3}}}}));
        // snake_case and lowerCamel spellings of the same config: one key.
        const QJsonObject cfg{{QStringLiteral("topK"), 3}};
        QCOMPARE(BatchKey::compute(QStringLiteral("m"), Operation::GenerateContent, QJsonObject{{QStringLiteral("generationConfig"), cfg}}),
                 BatchKey::compute(QStringLiteral("m"), Operation::GenerateContent, QJsonObject{{QStringLiteral("generation_config"), cfg}}));
    }

    void queueFullRejectsWithComputedRetryAfter_data()
    {
        QTest::addColumn<int>("maxQueue");
        QTest::newRow("10") << 10;
        QTest::newRow("100") << 100;
        QTest::newRow("1000") << 1000;
    }
    void queueFullRejectsWithComputedRetryAfter()
    {
        QFETCH(int, maxQueue);
        ManualClock clock;
        TestBackend backend(TestBackend::Mode::Hold);
        Results results; // outlives the engine, which answers queued requests when it stops
        // One slot, batches of 1: a measured drain of 1 request per 100 ms.
        BatchInferenceEngine engine(&backend, config(1, 0, maxQueue, 1), clock);
        engine.start();
        // Build a measured drain rate: 20 requests over 2 s → 10/s.
        for (int i = 0; i < 20; ++i) {
            engine.submit(req(QStringLiteral("m"), i), results.callback());
            QTRY_COMPARE(backend.batchCount(), i + 1);
            clock.advance(100ms);
            QCOMPARE(backend.releaseHeld(), 1);
        }
        clock.advance(1s); // close the last measured second
        QTRY_COMPARE(results.count.load(), 20);

        // Fill: one in flight, maxQueue queued.
        QVERIFY(engine.submit(req(QStringLiteral("m")), results.callback()).admitted);
        QTRY_COMPARE(backend.batchCount(), 21);
        for (int i = 0; i < maxQueue; ++i)
            QVERIFY(engine.submit(req(QStringLiteral("m")), results.callback()).admitted);
        const auto ticket = engine.submit(req(QStringLiteral("m")), results.callback());
        QVERIFY(!ticket.admitted);
        QTRY_COMPARE(results.count.load(), 21);
        const InferenceResult r = results.at(20);
        QCOMPARE(r.status.code, StatusCode::ResourceExhausted);
        QCOMPARE(r.status.reason, RejectReason::QueueFull);
        QVERIFY(r.status.message.contains(QStringLiteral("queue is full")));
        // depth / measured rate: (maxQueue queued + 1 in flight + 1) at 20
        // requests drained over the 3 complete seconds measured so far.
        const double expectedMs = double(maxQueue + 2) / (20.0 / 3.0) * 1000.0;
        QVERIFY2(qAbs(double(r.status.retryAfter.count()) - expectedMs) <= expectedMs * 0.35,
                 qPrintable(QStringLiteral("retryAfter %1 ms, expected about %2 ms").arg(r.status.retryAfter.count()).arg(expectedMs)));
        const EngineCounters c = engine.counters();
        QCOMPARE(c.rejected, quint64(1));
        QVERIFY(c.invariantHolds());
        m_retryAfterByDepth.append(r.status.retryAfter.count());
        if (m_retryAfterByDepth.size() > 1)
            QVERIFY(m_retryAfterByDepth.last() > m_retryAfterByDepth.at(m_retryAfterByDepth.size() - 2));

        // Admitted work still completes after the rejection.
        const int expected = 21 + maxQueue + 1;
        QDeadlineTimer deadline(60000);
        while (results.count.load() < expected && !deadline.hasExpired()) {
            if (backend.releaseHeld() == 0)
                QThread::yieldCurrentThread();
        }
        QCOMPARE(results.count.load(), expected);
    }

    void deadlineExpiresWithoutUpstreamCall()
    {
        ManualClock clock;
        TestBackend backend(TestBackend::Mode::Hold);
        Results results; // outlives the engine, which answers queued requests when it stops
        BatchInferenceEngine engine(&backend, config(1, 0, 100, 1), clock);
        engine.start();
        engine.submit(req(QStringLiteral("m"), 1), results.callback()); // occupies the only slot
        QTRY_COMPARE(backend.batchCount(), 1);
        InferenceRequest r = req(QStringLiteral("m"), 2);
        r.timeout = 100ms;
        const auto ticket = engine.submit(std::move(r), results.callback());
        QVERIFY(ticket.admitted);
        clock.advance(99ms);
        SETTLE(engine, clock);
        QCOMPARE(results.count.load(), 0);
        clock.advance(1ms);
        QTRY_COMPARE(results.count.load(), 1);
        const InferenceResult res = results.at(0);
        QCOMPARE(res.status.code, StatusCode::DeadlineExceeded);
        QCOMPARE(res.queueWait, duration_cast<Nanos>(100ms));
        QVERIFY(!backend.saw(ticket.id));
        const EngineCounters c = engine.counters();
        QCOMPARE(c.expired, quint64(1));
        QVERIFY(c.invariantHolds());
        // The slot frees; the expired request is still never sent.
        backend.releaseHeld();
        clock.advance(1s);
        QTRY_COMPARE(results.count.load(), 2);
        SETTLE(engine, clock);
        QCOMPARE(backend.batchCount(), 1);
    }

    void clientDeadlineOnlyShortensRequestTimeout_data()
    {
        QTest::addColumn<qint64>("timeoutMs");
        QTest::addColumn<qint64>("expiresAfterMs");
        QTest::newRow("shorter: kept") << qint64(300) << qint64(300);
        QTest::newRow("longer: clamped") << qint64(5000) << qint64(1000);
        QTest::newRow("2^63-1 ms: clamped, no wrap") << std::numeric_limits<qint64>::max() << qint64(1000);
        QTest::newRow("negative: now") << qint64(-5) << qint64(0);
    }
    void clientDeadlineOnlyShortensRequestTimeout()
    {
        QFETCH(qint64, timeoutMs);
        QFETCH(qint64, expiresAfterMs);
        ManualClock clock;
        TestBackend backend(TestBackend::Mode::Hold);
        Results results; // outlives the engine, which answers queued requests when it stops
        EngineConfig c = config(1, 0, 100, 1);
        c.requestTimeoutMs = 1000;
        BatchInferenceEngine engine(&backend, c, clock);
        engine.start();
        engine.submit(req(QStringLiteral("m"), 1), results.callback()); // occupies the only slot
        QTRY_COMPARE(backend.batchCount(), 1);
        InferenceRequest r = req(QStringLiteral("m"), 2);
        r.timeout = milliseconds(timeoutMs);
        QVERIFY(engine.submit(std::move(r), results.callback()).admitted);
        if (expiresAfterMs > 0) {
            clock.advance(milliseconds(expiresAfterMs - 1));
            SETTLE(engine, clock);
            QCOMPARE(results.count.load(), 0);
            clock.advance(1ms);
        }
        QTRY_COMPARE(results.count.load(), 1);
        const InferenceResult res = results.at(0);
        QCOMPARE(res.status.code, StatusCode::DeadlineExceeded);
        QCOMPARE(res.queueWait, duration_cast<Nanos>(milliseconds(expiresAfterMs)));
        backend.releaseHeld();
        QTRY_COMPARE(results.count.load(), 2);

        if (expiresAfterMs == 0)
            return; // a deadline of now expires before any dispatch
        // The deadline a dispatched member carries to the backend is clamped the same way.
        InferenceRequest d = req(QStringLiteral("m"), 3);
        d.timeout = milliseconds(timeoutMs);
        const SteadyTime submitted = clock.now();
        engine.submit(std::move(d), results.callback());
        QTRY_COMPARE(backend.batchCount(), 2);
        QCOMPARE(backend.batches().back()->members.front().deadline, submitted + milliseconds(expiresAfterMs));
        backend.releaseHeld();
        QTRY_COMPARE(results.count.load(), 3);
        QVERIFY(engine.counters().invariantHolds());
    }

    void countTokensGoAloneAtOnce()
    {
        // countTokens never waits for company (each is its own upstream
        // call): one per batch, without maxWaitMs passing, while a
        // generateContent key still fills its batch; the in-flight limit
        // holds them like any batch.
        ManualClock clock;
        TestBackend backend(TestBackend::Mode::Hold);
        Results results; // outlives the engine, which answers queued requests when it stops
        BatchInferenceEngine engine(&backend, config(16, 10000, 100, 3), clock);
        engine.start();
        engine.submit(req(QStringLiteral("m"), 0), results.callback());
        for (int i = 1; i <= 5; ++i)
            QVERIFY(engine.submit(req(QStringLiteral("m"), i, Operation::CountTokens), results.callback()).admitted);
        QTRY_COMPARE(backend.batchCount(), 3);
        SETTLE(engine, clock);
        QCOMPARE(backend.batchCount(), 3); // the in-flight limit
        QCOMPARE(engine.counters().queued, quint64(3)); // two countTokens and the generateContent
        backend.releaseHeld();
        QTRY_COMPARE(backend.batchCount(), 5);
        backend.releaseHeld();
        QTRY_COMPARE(results.count.load(), 5);
        SETTLE(engine, clock);
        for (const auto &b : backend.batches()) {
            QCOMPARE(b->operation, Operation::CountTokens);
            QCOMPARE(int(b->members.size()), 1);
            QCOMPARE(b->upstreamCalls, 1);
        }
        QCOMPARE(engine.counters().queued, quint64(1)); // the generateContent waits for maxWaitMs
        clock.advance(10s);
        QTRY_COMPARE(backend.batchCount(), 6);
        QCOMPARE(backend.batches().back()->operation, Operation::GenerateContent);
        backend.releaseHeld();
        QTRY_COMPARE(results.count.load(), 6);
        QVERIFY(engine.counters().invariantHolds());
    }

    void cancelRemovesQueuedOnly()
    {
        ManualClock clock;
        TestBackend backend(TestBackend::Mode::Hold);
        Results results; // outlives the engine, which answers queued requests when it stops
        BatchInferenceEngine engine(&backend, config(1, 0, 100, 1), clock);
        engine.start();
        const auto first = engine.submit(req(QStringLiteral("m"), 1), results.callback());
        QTRY_COMPARE(backend.batchCount(), 1);
        const auto second = engine.submit(req(QStringLiteral("m"), 2), results.callback());
        QVERIFY(!engine.cancel(first.id)); // already with the upstream
        QVERIFY(engine.cancel(second.id));
        QVERIFY(!engine.cancel(second.id)); // exactly once
        QTRY_COMPARE(results.count.load(), 1);
        QCOMPARE(results.at(0).status.code, StatusCode::Cancelled);
        EngineCounters c = engine.counters();
        QCOMPARE(c.cancelled, quint64(1));
        QCOMPARE(c.queued, quint64(0));
        QVERIFY(c.invariantHolds());
        backend.releaseHeld();
        QTRY_COMPARE(results.count.load(), 2);
        clock.advance(1s);
        SETTLE(engine, clock);
        QVERIFY(!backend.saw(second.id));
    }

    void liveConfigChangeMidStream()
    {
        ManualClock clock;
        TestBackend backend(TestBackend::Mode::Hold);
        Results results; // outlives the engine, which answers queued requests when it stops
        BatchInferenceEngine engine(&backend, config(8, 10000, 10, 64), clock);
        QSignalSpy spy(&engine, &BatchInferenceEngine::configChanged);
        engine.start();
        for (int i = 0; i < 5; ++i)
            engine.submit(req(QStringLiteral("m"), i), results.callback());
        SETTLE(engine, clock);
        QCOMPARE(backend.batchCount(), 0);

        // A bad value changes nothing.
        EngineConfig bad = engine.config();
        bad.maxBatchSize = 0;
        QCOMPARE(engine.setConfig(bad).field, QStringLiteral("maxBatchSize"));
        QCOMPARE(engine.config().maxBatchSize, 8);
        QCOMPARE(spy.count(), 0);

        // Smaller batches apply to the queue already there.
        EngineConfig c = engine.config();
        c.maxBatchSize = 4;
        QVERIFY(engine.setConfig(c).isNull());
        QCOMPARE(spy.count(), 1);
        QTRY_COMPARE(backend.batchCount(), 1);
        QCOMPARE(int(backend.batches().front()->members.size()), 4);

        // Shrinking maxQueue below the depth rejects new work only.
        for (int i = 0; i < 2; ++i)
            engine.submit(req(QStringLiteral("m"), 10 + i), results.callback()); // queued: 3
        c.maxQueue = 2;
        c.maxBatchSize = 100;
        QVERIFY(engine.setConfig(c).isNull());
        QVERIFY(!engine.submit(req(QStringLiteral("m")), results.callback()).admitted);
        QTRY_COMPARE(results.count.load(), 1);
        QCOMPARE(engine.counters().queued, quint64(3));

        // Nothing lost or duplicated: 7 admitted, 7 answered, each once.
        clock.advance(20s);
        QTRY_COMPARE(backend.batchCount(), 2);
        backend.releaseHeld();
        QTRY_COMPARE(results.count.load(), 8);
        std::set<int> seen;
        for (int i = 0; i < 8; ++i) {
            const InferenceResult r = results.at(i);
            if (r.status.ok())
                QVERIFY(seen.insert(r.body.value(QStringLiteral("echo")).toInt()).second);
        }
        QCOMPARE(seen, (std::set<int>{0, 1, 2, 3, 4, 10, 11}));
        QVERIFY(engine.counters().invariantHolds());
    }

    void drainFinishesAdmittedWork()
    {
        ManualClock clock;
        TestBackend backend(TestBackend::Mode::Hold);
        Results results; // outlives the engine, which answers queued requests when it stops
        BatchInferenceEngine engine(&backend, config(8, 60000, 100, 1), clock);
        QSignalSpy drained(&engine, &BatchInferenceEngine::drained);
        engine.start();
        for (int i = 0; i < 11; ++i)
            engine.submit(req(QStringLiteral("m"), i), results.callback());
        QTRY_COMPARE(backend.batchCount(), 1); // one full batch; 3 wait for the window
        engine.drain();
        QVERIFY(engine.isDraining());
        const auto refused = engine.submit(req(QStringLiteral("m")), results.callback());
        QVERIFY(!refused.admitted);
        QTRY_COMPARE(results.count.load(), 1);
        QCOMPARE(results.at(0).status.code, StatusCode::Unavailable);
        QCOMPARE(results.at(0).status.reason, RejectReason::Draining);
        QVERIFY(results.at(0).status.retryAfter.count() > 0);

        // The partial batch goes as soon as the slot frees, without waiting.
        QCOMPARE(drained.count(), 0);
        backend.releaseHeld();
        QTRY_COMPARE(backend.batchCount(), 2);
        QCOMPARE(int(backend.batches().back()->members.size()), 3);
        QCOMPARE(drained.count(), 0);
        backend.releaseHeld();
        QTRY_COMPARE(drained.count(), 1);
        QCOMPARE(results.count.load(), 12);
        const EngineCounters c = engine.counters();
        QCOMPARE(c.completed, quint64(11));
        QVERIFY(c.invariantHolds());
    }

    void rpmLimitHoldsBatches()
    {
        ManualClock clock;
        TestBackend backend;
        Results results; // outlives the engine, which answers queued requests when it stops
        EngineConfig c = config(1, 0);
        c.rpmLimit = 2;
        c.packing = PackingMode::Fanout; // one call per request: the limit alone decides
        c.requestTimeoutMs = 600000;
        BatchInferenceEngine engine(&backend, c, clock);
        engine.start();
        for (int i = 0; i < 5; ++i)
            engine.submit(req(QStringLiteral("m"), i), results.callback());
        // Paced: 2 a minute are one every 30 s, not both at once.
        QTRY_COMPARE(backend.batchCount(), 1);
        clock.advance(20s);
        SETTLE(engine, clock);
        QCOMPARE(backend.batchCount(), 1);
        clock.advance(10s);
        QTRY_COMPARE(backend.batchCount(), 2);
        // The minute window: the first call leaves it at 60 s (and the half
        // second the budget adds for the upstream's own clock).
        clock.advance(30s);
        SETTLE(engine, clock);
        QCOMPARE(backend.batchCount(), 2);
        clock.advance(500ms);
        QTRY_COMPARE(backend.batchCount(), 3);
        clock.advance(30s);
        QTRY_COMPARE(backend.batchCount(), 4);
        clock.advance(30500ms);
        QTRY_COMPARE(backend.batchCount(), 5);
        QCOMPARE(engine.counters().upstreamCalls, quint64(5));
    }

    void futureApi()
    {
        TestBackend backend;
        BatchInferenceEngine engine(&backend, config(4, 0));
        engine.start();
        QFuture<InferenceResult> f = engine.submit(req(QStringLiteral("m"), 42));
        f.waitForFinished();
        QVERIFY(f.result().status.ok());
        QCOMPARE(f.result().body.value(QStringLiteral("echo")).toInt(), 42);
    }

    void stopAnswersQueuedRequests()
    {
        ManualClock clock;
        TestBackend backend;
        Results results; // outlives the engine, which answers queued requests when it stops
        {
            BatchInferenceEngine engine(&backend, config(8, 60000), clock);
            engine.start();
            for (int i = 0; i < 3; ++i)
                engine.submit(req(QStringLiteral("m"), i), results.callback());
        }
        QCOMPARE(results.count.load(), 3);
        for (int i = 0; i < 3; ++i)
            QCOMPARE(results.at(i).status.code, StatusCode::Unavailable);
        QCOMPARE(backend.batchCount(), 0);
    }

    void concurrentProducersExactlyOnce()
    {
        // 8 producers x 20,000 requests over 5 keys; the backend answers from
        // 3 threads with random delays and fails 10% of batches.
        constexpr int kProducers = 8;
        constexpr int kPerProducer = 20000;
        constexpr int kTotal = kProducers * kPerProducer;
        TestBackend backend(TestBackend::Mode::Async);
        backend.startWorkers(3, 0.10);
        InferenceMetricsCollector metrics;
        metrics.setPublishInterval(0ms);
        BatchInferenceEngine engine(&backend, config(16, 2, 4000, 8), Clock::steady(), &metrics);
        engine.start();

        std::vector<std::atomic<int>> calls(kTotal);
        std::atomic<int> ok{0}, failed{0}, rejected{0}, other{0};
        std::vector<std::thread> producers;
        for (int p = 0; p < kProducers; ++p) {
            producers.emplace_back([&, p] {
                for (int i = 0; i < kPerProducer; ++i) {
                    const int n = p * kPerProducer + i;
                    engine.submit(req(QStringLiteral("model-%1").arg(n % 5), n), [&, n](InferenceResult r) {
                        calls[size_t(n)].fetch_add(1);
                        if (r.status.ok()) {
                            ++ok;
                            if (r.body.value(QStringLiteral("echo")).toInt() != n)
                                ++other;
                        } else if (r.status.reason == RejectReason::QueueFull) {
                            ++rejected;
                        } else if (r.status.code == StatusCode::Unavailable) {
                            ++failed;
                        } else {
                            ++other;
                        }
                    });
                }
            });
        }
        for (auto &t : producers)
            t.join();
        QTRY_COMPARE_WITH_TIMEOUT(ok + failed + rejected + other, kTotal, 60000);
        for (int n = 0; n < kTotal; ++n)
            QVERIFY2(calls[size_t(n)].load() == 1, qPrintable(QStringLiteral("request %1 completed %2 times").arg(n).arg(calls[size_t(n)].load())));
        QCOMPARE(other.load(), 0);
        QVERIFY(failed > 0);
        QVERIFY(ok > failed);

        const EngineCounters c = engine.counters();
        QVERIFY(c.invariantHolds());
        QCOMPARE(c.queued + c.inflight, quint64(0));
        QCOMPARE(c.admitted + c.rejected, quint64(kTotal));
        QCOMPARE(c.completed, quint64(ok.load()));
        QCOMPARE(c.failed, quint64(failed.load()));
        QCOMPARE(c.rejected, quint64(rejected.load()));
        QCOMPARE(backend.requestsSeen(), size_t(c.admitted));
        const MetricsSnapshot s = metrics.snapshot();
        QCOMPARE(s.total.ok, c.completed);
        QCOMPARE(s.total.failed, c.failed);
        QCOMPARE(s.total.rejected, c.rejected);
        QCOMPARE(s.total.batches, c.batchesDispatched);
    }

private:
    QList<qint64> m_retryAfterByDepth;
};

QTEST_GUILESS_MAIN(TestBatchInferenceEngine)
#include "tst_batchinferenceengine.moc"
