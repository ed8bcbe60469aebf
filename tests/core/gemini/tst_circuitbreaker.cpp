#include "core/gemini/circuitbreaker.h"

#include <QtTest>

#include <thread>
#include <vector>

using namespace std::chrono_literals;

// CircuitBreaker is pure logic over a ManualClock: no test here sleeps.
class TestCircuitBreaker : public QObject
{
    Q_OBJECT

private slots:
    void opensAfterThreshold_data()
    {
        QTest::addColumn<int>("threshold");
        QTest::newRow("1") << 1;
        QTest::newRow("3") << 3;
        QTest::newRow("5") << 5;
    }

    void opensAfterThreshold()
    {
        QFETCH(int, threshold);
        ManualClock clock;
        CircuitBreaker cb({threshold, 1000ms}, clock);
        for (int i = 0; i < threshold - 1; ++i) {
            QVERIFY(cb.allowRequest());
            cb.recordFailure();
            QCOMPARE(cb.state(), CircuitBreaker::State::Closed);
        }
        QVERIFY(cb.allowRequest());
        cb.recordFailure();
        QCOMPARE(cb.state(), CircuitBreaker::State::Open);
        QVERIFY(!cb.allowRequest());
        QCOMPARE(cb.snapshot().timesOpened, quint64(1));
        QCOMPARE(cb.snapshot().retryAfter, 1000ms);
    }

    void successResetsTheCount()
    {
        ManualClock clock;
        CircuitBreaker cb({3, 1000ms}, clock);
        for (int round = 0; round < 5; ++round) {
            cb.recordFailure();
            cb.recordFailure();
            cb.recordSuccess(); // never three in a row
        }
        QCOMPARE(cb.state(), CircuitBreaker::State::Closed);
        QCOMPARE(cb.snapshot().consecutiveFailures, 0);
    }

    void halfOpensAfterCoolDownAndAdmitsOneProbe()
    {
        ManualClock clock;
        CircuitBreaker cb({2, 500ms}, clock);
        cb.recordFailure();
        cb.recordFailure();
        QVERIFY(!cb.allowRequest());
        clock.advance(499ms);
        QVERIFY(!cb.allowRequest());
        QCOMPARE(cb.snapshot().retryAfter, 1ms);
        clock.advance(1ms);
        QCOMPARE(cb.state(), CircuitBreaker::State::HalfOpen);
        QVERIFY(cb.allowRequest());   // the probe
        QVERIFY(!cb.allowRequest());  // everyone else waits for it
        QVERIFY(!cb.allowRequest());
        cb.recordSuccess();
        QCOMPARE(cb.state(), CircuitBreaker::State::Closed);
        QVERIFY(cb.allowRequest());
        QVERIFY(cb.allowRequest());
    }

    void failedProbeReopensForAnotherCoolDown()
    {
        ManualClock clock;
        CircuitBreaker cb({1, 500ms}, clock);
        cb.recordFailure();
        clock.advance(500ms);
        QVERIFY(cb.allowRequest());
        cb.recordFailure();
        QCOMPARE(cb.state(), CircuitBreaker::State::Open);
        QCOMPARE(cb.snapshot().timesOpened, quint64(2));
        clock.advance(499ms);
        QVERIFY(!cb.allowRequest());
        clock.advance(1ms);
        QVERIFY(cb.allowRequest());
        cb.recordSuccess();
        QCOMPARE(cb.state(), CircuitBreaker::State::Closed);
    }

    void abandonedProbeFreesTheSlot()
    {
        ManualClock clock;
        CircuitBreaker cb({1, 100ms}, clock);
        cb.recordFailure();
        clock.advance(100ms);
        QVERIFY(cb.allowRequest());
        QVERIFY(!cb.allowRequest());
        cb.recordAbandoned();
        QCOMPARE(cb.state(), CircuitBreaker::State::HalfOpen);
        QVERIFY(cb.allowRequest()); // a new probe may go
    }

    void stragglerFailureDoesNotExtendCoolDown()
    {
        ManualClock clock;
        CircuitBreaker cb({1, 1000ms}, clock);
        cb.recordFailure();           // opens at t0
        clock.advance(600ms);
        cb.recordFailure();           // an attempt admitted before it opened
        clock.advance(400ms);
        QVERIFY(cb.allowRequest());   // cool-down counted from t0
    }

    void concurrentProbeIsExclusive()
    {
        ManualClock clock;
        CircuitBreaker cb({1, 10ms}, clock);
        cb.recordFailure();
        clock.advance(10ms);
        std::atomic<int> admitted{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 8; ++t)
            threads.emplace_back([&] {
                for (int i = 0; i < 1000; ++i)
                    admitted += cb.allowRequest() ? 1 : 0;
            });
        for (auto &t : threads)
            t.join();
        QCOMPARE(admitted.load(), 1);
    }

    void names()
    {
        QCOMPARE(circuitStateName(CircuitBreaker::State::Closed), QStringLiteral("closed"));
        QCOMPARE(circuitStateName(CircuitBreaker::State::Open), QStringLiteral("open"));
        QCOMPARE(circuitStateName(CircuitBreaker::State::HalfOpen), QStringLiteral("half_open"));
    }
};

QTEST_GUILESS_MAIN(TestCircuitBreaker)
#include "tst_circuitbreaker.moc"
