#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <vector>

// Time for policies and timers. Production code uses SteadyClock; tests use
// ManualClock and advance it explicitly, so no test sleeps to let time pass.
//
// Thread: all methods are thread-safe.

using SteadyTime = std::chrono::steady_clock::time_point;
using Nanos = std::chrono::nanoseconds;

class Clock
{
public:
    virtual ~Clock() = default;
    virtual SteadyTime now() const = 0;

    // True when time only moves through ManualClock::advance(); a loop waiting
    // for a deadline must then wait for onAdvanced() rather than real time.
    virtual bool isManual() const { return false; }

    // Registers a callback invoked (from the advancing thread) after each advance.
    // Returns an id for removeListener(). No-op for real clocks.
    virtual int addListener(std::function<void()>) { return -1; }
    virtual void removeListener(int) {}

    static Clock &steady(); // process-wide real clock (stateless)
};

class SteadyClock final : public Clock
{
public:
    SteadyTime now() const override { return std::chrono::steady_clock::now(); }
};

class ManualClock final : public Clock
{
public:
    explicit ManualClock(SteadyTime start = SteadyTime{} + std::chrono::hours(1));

    SteadyTime now() const override;
    bool isManual() const override { return true; }
    int addListener(std::function<void()> fn) override;
    void removeListener(int id) override;

    void advance(Nanos d);

private:
    mutable std::mutex m_mutex;
    SteadyTime m_now;
    int m_nextId = 0;
    std::vector<std::pair<int, std::function<void()>>> m_listeners;
};
