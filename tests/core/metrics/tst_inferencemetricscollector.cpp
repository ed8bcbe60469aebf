#include "core/metrics/inferencemetricscollector.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>

#include <thread>
#include <vector>

using namespace std::chrono;
using Outcome = InferenceMetricsCollector::Outcome;

class TestInferenceMetricsCollector : public QObject
{
    Q_OBJECT
private slots:
    void attemptOutcomeOfAnAnswer_data()
    {
        QTest::addColumn<int>("http");
        QTest::addColumn<QString>("outcome");
        QTest::newRow("200") << 200 << QStringLiteral("ok");
        QTest::newRow("204") << 204 << QStringLiteral("ok");
        QTest::newRow("429") << 429 << QStringLiteral("429");
        QTest::newRow("400") << 400 << QStringLiteral("4xx");
        QTest::newRow("408") << 408 << QStringLiteral("4xx");
        QTest::newRow("500") << 500 << QStringLiteral("5xx");
        QTest::newRow("503") << 503 << QStringLiteral("5xx");
        QTest::newRow("302") << 302 << QStringLiteral("other");
    }
    void attemptOutcomeOfAnAnswer()
    {
        QFETCH(int, http);
        QFETCH(QString, outcome);
        QCOMPARE(upstreamAttemptOutcomeName(upstreamAttemptOutcomeFor(http)), outcome);
    }

    void windowsSlideWithTime()
    {
        ManualClock clock;
        InferenceMetricsCollector m(clock);
        m.setPublishInterval(0ms);

        // Second 0: 100 OK requests at 10 ms, 20 prompt / 5 output tokens each.
        for (int i = 0; i < 100; ++i)
            m.recordCompletion(Outcome::Ok, 10ms, 1ms, 20, 5);
        clock.advance(1s);
        // Second 1: 50 OK at 100 ms, 10 failures, 5 expirations, 3 rejections.
        for (int i = 0; i < 50; ++i)
            m.recordCompletion(Outcome::Ok, 100ms, 2ms, 0, 0);
        for (int i = 0; i < 10; ++i)
            m.recordCompletion(Outcome::Failed, 300ms, 2ms, 0, 0);
        for (int i = 0; i < 5; ++i)
            m.recordCompletion(Outcome::Expired, 1s, 1s, 0, 0);
        for (int i = 0; i < 3; ++i)
            m.recordRejection(RejectReason::QueueFull);
        m.recordRejection(RejectReason::Draining);
        m.recordBatch(16, 50ms, 0);
        m.recordBatch(4, 70ms, 1);
        // HTTP attempts, by kind, model and outcome, counted where they end.
        const QString flash = QStringLiteral("gemini-2.0-flash");
        const QString pro = QStringLiteral("gemini-2.5-pro");
        m.recordUpstreamAttempt(flash, UpstreamCallKind::Pack, UpstreamAttemptOutcome::Ok, 200);
        m.recordUpstreamAttempt(flash, UpstreamCallKind::Single, UpstreamAttemptOutcome::Ok, 200);
        m.recordUpstreamAttempt(flash, UpstreamCallKind::Single, UpstreamAttemptOutcome::RateLimited, 429);
        m.recordUpstreamAttempt(flash, UpstreamCallKind::Retry, UpstreamAttemptOutcome::Ok, 200);
        m.recordUpstreamAttempt(pro, UpstreamCallKind::Repack, UpstreamAttemptOutcome::Ok, 200);
        m.recordPackMembers(PackMemberOutcome::Answered, 14);
        m.recordPackMembers(PackMemberOutcome::Repacked, 2);
        clock.advance(1s);

        MetricsSnapshot s = m.snapshot();
        QCOMPARE(s.last1s.ok, quint64(50));
        QCOMPARE(s.last1s.failed, quint64(10));
        QCOMPARE(s.last1s.expired, quint64(5));
        QCOMPARE(s.last1s.requests, quint64(65));
        QCOMPARE(s.last1s.requestsPerSecond, 65.0);
        QCOMPARE(s.last1s.rejected, quint64(4));
        QCOMPARE(s.last1s.rejections.value(QStringLiteral("queue_full")), quint64(3));
        QCOMPARE(s.last1s.rejections.value(QStringLiteral("draining")), quint64(1));
        QCOMPARE(s.last1s.batches, quint64(2));
        QCOMPARE(s.last1s.meanBatchSize, 10.0);
        QCOMPARE(s.last1s.upstreamCalls, quint64(5));
        QCOMPARE(s.last1s.upstreamCallsByKind.value(QStringLiteral("single")), quint64(2));
        QCOMPARE(s.last1s.upstreamCallsByKind.value(QStringLiteral("pack")), quint64(1));
        QCOMPARE(s.last1s.upstreamCallsByKind.value(QStringLiteral("retry")), quint64(1));
        QCOMPARE(s.last1s.upstreamCallsByKind.value(QStringLiteral("repack")), quint64(1));
        QVERIFY(!s.last1s.upstreamCallsByKind.contains(QStringLiteral("embed_merge")));
        QCOMPARE(s.last1s.upstream429, quint64(1));
        QCOMPARE(s.last1s.answersPerUpstreamCall, 10.0); // 50 answers for 5 calls
        QCOMPARE(s.last1s.packAnswered, quint64(14));
        QCOMPARE(s.last1s.packRepacked, quint64(2));
        QCOMPARE(s.last1s.upstreamErrors, quint64(1));
        const auto counts = m.upstreamCallCounts();
        QCOMPARE(counts.at({UpstreamCallKind::Single, 429}), quint64(1));
        QCOMPARE(counts.at({UpstreamCallKind::Single, 200}), quint64(1));
        QCOMPARE(s.last1s.upstreamAttemptsByOutcome.value(QStringLiteral("ok")), quint64(4));
        QCOMPARE(s.last1s.upstreamAttemptsByOutcome.value(QStringLiteral("429")), quint64(1));
        QCOMPARE(s.last1s.upstreamAttemptsByOutcome.size(), 2);
        QCOMPARE(s.last1s.upstreamAttemptsFailed, quint64(1));
        const auto attempts = m.upstreamAttemptCounts();
        QCOMPARE(attempts.size(), size_t(3));
        QCOMPARE(attempts.at({flash, UpstreamAttemptOutcome::Ok}), quint64(3));
        QCOMPARE(attempts.at({flash, UpstreamAttemptOutcome::RateLimited}), quint64(1));
        QCOMPARE(attempts.at({pro, UpstreamAttemptOutcome::Ok}), quint64(1));
        QCOMPARE(s.upstreamAttempts.size(), 3);
        quint64 listed = 0;
        for (const UpstreamAttemptCount &a : s.upstreamAttempts)
            listed += a.attempts;
        QCOMPARE(listed, quint64(5));
        const QJsonObject json = s.toJson();
        QCOMPARE(json.value(QStringLiteral("upstreamAttempts")).toArray().size(), 3);
        QCOMPARE(json.value(QStringLiteral("last1s")).toObject().value(QStringLiteral("upstreamAttemptsFailed")).toDouble(), 1.0);
        QCOMPARE(s.last1s.batchSizeBuckets[size_t(batchSizeBucket(16))], quint64(1));
        QCOMPARE(s.last1s.batchSizeBuckets[size_t(batchSizeBucket(4))], quint64(1));
        QVERIFY(qAbs(s.last1s.latency.p50Ms - 100.0) < 1.0);

        QCOMPARE(s.last10s.ok, quint64(150));
        QCOMPARE(s.last10s.promptTokens, quint64(2000));
        QCOMPARE(s.last10s.outputTokens, quint64(500));
        QCOMPARE(s.last10s.requestsPerSecond, 165.0 / 2.0); // only two seconds exist so far
        QVERIFY(qAbs(s.last10s.latency.p50Ms - 10.0) < 0.1);
        QVERIFY(qAbs(s.last10s.latency.p99Ms - 100.0) < 1.0);
        QCOMPARE(s.total.ok, quint64(150));

        // 60 s later the 1 s and 10 s windows are empty; the 60 s window has
        // lost second 0 and 1 too; the cumulative view keeps everything.
        clock.advance(61s);
        s = m.snapshot();
        QCOMPARE(s.last1s.requests, quint64(0));
        QCOMPARE(s.last10s.requests, quint64(0));
        QCOMPARE(s.last60s.requests, quint64(0));
        QCOMPARE(s.total.ok, quint64(150));
        QCOMPARE(s.total.rejected, quint64(4));

        // Second 64 reuses second 0's slot: it must not carry old counts.
        clock.advance(1s);
        m.recordCompletion(Outcome::Ok, 5ms, 0ms, 0, 0);
        clock.advance(1s);
        s = m.snapshot();
        QCOMPARE(s.last1s.ok, quint64(1));
    }

    void gaugesComeFromTheSource()
    {
        ManualClock clock;
        InferenceMetricsCollector m(clock);
        m.setPublishInterval(0ms);
        m.setGaugeSource([] {
            EngineGauges g;
            g.queueDepth = 30;
            g.queueCapacity = 40;
            g.inflightBatches = 2;
            g.maxInflightBatches = 8;
            g.backpressure = 0.75;
            return g;
        });
        const MetricsSnapshot s = m.snapshot();
        QCOMPARE(s.queueDepth, 30);
        QCOMPARE(s.queueCapacity, 40);
        QCOMPARE(s.backpressure, 0.75);
        const QJsonObject j = s.toJson();
        QCOMPARE(j.value(QStringLiteral("queueDepth")).toInt(), 30);
        QVERIFY(j.value(QStringLiteral("last10s")).toObject().contains(QStringLiteral("latency")));
    }

    void publishesOnTimer()
    {
        InferenceMetricsCollector m;
        m.setPublishInterval(20ms);
        QSignalSpy spy(&m, &InferenceMetricsCollector::snapshotReady);
        QTRY_VERIFY(spy.count() >= 2);
    }

    void recordsFromManyThreads()
    {
        ManualClock clock;
        InferenceMetricsCollector m(clock);
        m.setPublishInterval(0ms);
        constexpr int kThreads = 8;
        constexpr int kPer = 20000;
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t)
            threads.emplace_back([&m] {
                for (int i = 0; i < kPer; ++i) {
                    m.recordCompletion(Outcome::Ok, microseconds(100 + i % 50), 0ms, 1, 1);
                    if (i % 100 == 0)
                        m.recordBatch(100, 1ms, 0);
                }
            });
        for (auto &th : threads)
            th.join();
        clock.advance(1s);
        const MetricsSnapshot s = m.snapshot();
        QCOMPARE(s.last1s.ok, quint64(kThreads) * kPer);
        QCOMPARE(s.last1s.latency.count, quint64(kThreads) * kPer);
        QCOMPARE(s.last1s.batches, quint64(kThreads) * kPer / 100);
        QCOMPARE(m.cumulativeHistogram(InferenceMetricsCollector::Histogram::Latency).count(), quint64(kThreads) * kPer);
    }
};

QTEST_GUILESS_MAIN(TestInferenceMetricsCollector)
#include "tst_inferencemetricscollector.moc"
