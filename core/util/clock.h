#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

// Time for policies and timers. Production code uses SteadyClock; tests use
// ManualClock and advance it explicitly, so no test sleeps to let time pass.
// Code that waits for a time point waits through the clock (waitUntil), so
// the same code runs under both clocks and never asks which one it has.
//
// Thread: all methods are thread-safe.

using SteadyTime = std::chrono::steady_clock::time_point;
using Nanos = std::chrono::nanoseconds;

class Clock
{
public:
    virtual ~Clock() = default;
    virtual SteadyTime now() const = 0;

    // Blocks on `cv` (with `lock` held, like condition_variable::wait_until)
    // until `wake()` is true or this clock reaches `until`
    // (SteadyTime::max(): no time limit), and returns wake(). Like any
    // condition-variable wait it may also return early with wake() false —
    // ManualClock does so after every advance() — so callers re-evaluate
    // in a loop. Whoever makes wake() true must notify `cv` while holding,
    // or after releasing, the mutex of `lock`.
    virtual bool waitUntil(std::condition_variable &cv, std::unique_lock<std::mutex> &lock, SteadyTime until,
                           const std::function<bool()> &wake) = 0;

    static Clock &steady(); // process-wide real clock (stateless)
};

class SteadyClock final : public Clock
{
public:
    SteadyTime now() const override { return std::chrono::steady_clock::now(); }
    bool waitUntil(std::condition_variable &cv, std::unique_lock<std::mutex> &lock, SteadyTime until,
                   const std::function<bool()> &wake) override;
};

// Time moves only through advance(). A waitUntil() in progress returns after
// each advance (the waiter re-evaluates at the new time) and whenever its
// condition variable is notified; it never waits for real time.
class ManualClock final : public Clock
{
public:
    explicit ManualClock(SteadyTime start = SteadyTime{} + std::chrono::hours(1));

    SteadyTime now() const override;
    bool waitUntil(std::condition_variable &cv, std::unique_lock<std::mutex> &lock, SteadyTime until,
                   const std::function<bool()> &wake) override;

    void advance(Nanos d);
    // Threads inside waitUntil() now: lets a test advance only once a waiter waits.
    int waiterCount() const;

private:
    struct Waiter {
        std::mutex *mutex;
        std::condition_variable *cv;
    };

    mutable std::mutex m_mutex;
    SteadyTime m_now;
    unsigned long long m_advances = 0;
    std::vector<Waiter> m_waiters;
};
