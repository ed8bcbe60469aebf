#include "core/gemini/retrybackoff.h"

#include <QtTest>

using namespace std::chrono;
using namespace std::chrono_literals;

class TestRetryBackoff : public QObject
{
    Q_OBJECT

private slots:
    void backoff_data()
    {
        QTest::addColumn<int>("failedAttempts");
        QTest::addColumn<double>("unit");
        QTest::addColumn<qint64>("serverDelayMs"); // -1: none
        QTest::addColumn<qint64>("expectedMs");

        // policy: initial 250 ms, max 8000 ms
        QTest::newRow("1st, top of jitter") << 1 << 1.0 << qint64(-1) << qint64(250);
        QTest::newRow("1st, half") << 1 << 0.5 << qint64(-1) << qint64(125);
        QTest::newRow("1st, zero draw") << 1 << 0.0 << qint64(-1) << qint64(0);
        QTest::newRow("2nd doubles") << 2 << 1.0 << qint64(-1) << qint64(500);
        QTest::newRow("3rd") << 3 << 1.0 << qint64(-1) << qint64(1000);
        QTest::newRow("capped") << 8 << 1.0 << qint64(-1) << qint64(8000);
        QTest::newRow("huge attempt count capped") << 100 << 1.0 << qint64(-1) << qint64(8000);
        QTest::newRow("server delay larger wins") << 1 << 0.5 << qint64(1500) << qint64(1500);
        QTest::newRow("server delay smaller ignored") << 3 << 1.0 << qint64(100) << qint64(1000);
        QTest::newRow("RetryInfo 58s") << 1 << 0.3 << qint64(58000) << qint64(58000);
    }

    void backoff()
    {
        QFETCH(int, failedAttempts);
        QFETCH(double, unit);
        QFETCH(qint64, serverDelayMs);
        QFETCH(qint64, expectedMs);
        const RetryPolicy policy{4, 250, 8000};
        std::optional<milliseconds> server;
        if (serverDelayMs >= 0)
            server = milliseconds(serverDelayMs);
        QCOMPARE(RetryBackoff::backoff(policy, failedAttempts, unit, server).count(), expectedMs);
    }

    void decide_data()
    {
        QTest::addColumn<int>("failedAttempts");
        QTest::addColumn<bool>("retryable");
        QTest::addColumn<qint64>("serverDelayMs");
        QTest::addColumn<qint64>("remainingMs");
        QTest::addColumn<bool>("retry");
        QTest::addColumn<qint64>("delayMs");

        QTest::newRow("retryable, time left") << 1 << true << qint64(-1) << qint64(10000) << true << qint64(250);
        QTest::newRow("not retryable (400/403/404)") << 1 << false << qint64(-1) << qint64(10000) << false << qint64(0);
        QTest::newRow("attempts exhausted") << 4 << true << qint64(-1) << qint64(10000) << false << qint64(0);
        QTest::newRow("last allowed retry") << 3 << true << qint64(-1) << qint64(10000) << true << qint64(1000);
        QTest::newRow("RetryInfo fits the deadline") << 1 << true << qint64(2000) << qint64(3000) << true << qint64(2000);
        QTest::newRow("RetryInfo past the deadline") << 1 << true << qint64(58000) << qint64(3000) << false << qint64(58000);
        QTest::newRow("deadline already passed") << 1 << true << qint64(-1) << qint64(0) << false << qint64(0);
        QTest::newRow("backoff exactly at deadline") << 1 << true << qint64(-1) << qint64(250) << false << qint64(250);
    }

    void decide()
    {
        QFETCH(int, failedAttempts);
        QFETCH(bool, retryable);
        QFETCH(qint64, serverDelayMs);
        QFETCH(qint64, remainingMs);
        QFETCH(bool, retry);
        QFETCH(qint64, delayMs);
        const RetryPolicy policy{4, 250, 8000};
        std::optional<milliseconds> server;
        if (serverDelayMs >= 0)
            server = milliseconds(serverDelayMs);
        const SteadyTime now = SteadyTime{} + hours(1);
        const auto d = RetryBackoff::decide(policy, failedAttempts, retryable, server, now,
                                            now + milliseconds(remainingMs), 1.0);
        QCOMPARE(d.retry, retry);
        QCOMPARE(d.delay.count(), delayMs);
    }

    void randomUnitInRange()
    {
        for (int i = 0; i < 1000; ++i) {
            const double u = RetryBackoff::randomUnit();
            QVERIFY(u >= 0.0 && u < 1.0);
        }
    }
};

QTEST_GUILESS_MAIN(TestRetryBackoff)
#include "tst_retrybackoff.moc"
