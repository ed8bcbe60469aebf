// Clock::waitUntil under both clocks: the one waiting primitive the engine
// uses, so no production code asks which clock it runs on.

#include "core/util/clock.h"

#include <QScopeGuard>
#include <QTest>

#include <atomic>
#include <thread>

using namespace std::chrono_literals;

class TestClock : public QObject
{
    Q_OBJECT
private slots:
    void steadyReturnsWhenWoken()
    {
        SteadyClock clock;
        std::mutex mutex;
        std::condition_variable cv;
        bool flag = false;
        std::thread waker([&] {
            std::lock_guard lock(mutex);
            flag = true;
            cv.notify_all();
        });
        std::unique_lock lock(mutex);
        QVERIFY(clock.waitUntil(cv, lock, SteadyTime::max(), [&] { return flag; }));
        lock.unlock();
        waker.join();
    }

    void steadyReturnsFalseAtTheTime()
    {
        SteadyClock clock;
        std::mutex mutex;
        std::condition_variable cv;
        std::unique_lock lock(mutex);
        const SteadyTime until = clock.now() + 20ms;
        QVERIFY(!clock.waitUntil(cv, lock, until, [] { return false; }));
        QVERIFY(clock.now() >= until);
    }

    void manualReturnsAtEveryAdvanceAndAtTheTime()
    {
        ManualClock clock;
        std::mutex mutex;
        std::condition_variable cv;
        const SteadyTime until = clock.now() + 10s;
        std::atomic<int> returns{0};
        std::atomic<bool> reached{false};
        std::thread waiter([&] {
            std::unique_lock lock(mutex);
            while (clock.now() < until) {
                clock.waitUntil(cv, lock, until, [] { return false; });
                ++returns;
            }
            reached = true;
        });
        // However the test ends, the waiter reaches its time and is joined.
        const auto finish = qScopeGuard([&] {
            clock.advance(1h);
            waiter.join();
        });
        // Each advance ends the wait in progress: the waiter re-evaluates at
        // the new time, before its own time has come.
        QTRY_COMPARE(clock.waiterCount(), 1);
        clock.advance(1s);
        QTRY_COMPARE(returns.load(), 1);
        QTRY_COMPARE(clock.waiterCount(), 1);
        clock.advance(1s);
        QTRY_COMPARE(returns.load(), 2);
        QVERIFY(!reached.load());
        QTRY_COMPARE(clock.waiterCount(), 1);
        clock.advance(8s);
        QTRY_VERIFY(reached.load());
        QCOMPARE(returns.load(), 3);
        QCOMPARE(clock.waiterCount(), 0);
    }

    void manualPastTimeReturnsAtOnce()
    {
        ManualClock clock;
        std::mutex mutex;
        std::condition_variable cv;
        std::unique_lock lock(mutex);
        QVERIFY(!clock.waitUntil(cv, lock, clock.now(), [] { return false; }));
        QVERIFY(clock.waitUntil(cv, lock, clock.now() - 1s, [] { return true; }));
    }

    void manualReturnsWhenWokenWithoutAdvance()
    {
        ManualClock clock;
        std::mutex mutex;
        std::condition_variable cv;
        bool flag = false;
        std::atomic<bool> done{false};
        std::thread waiter([&] {
            std::unique_lock lock(mutex);
            while (!clock.waitUntil(cv, lock, SteadyTime::max(), [&] { return flag; })) {
            }
            done = true;
        });
        {
            std::lock_guard lock(mutex);
            flag = true;
        }
        cv.notify_all();
        QTRY_VERIFY(done.load());
        waiter.join();
    }
};

QTEST_GUILESS_MAIN(TestClock)
#include "tst_clock.moc"
