#include "core/util/clock.h"

#include <algorithm>

Clock &Clock::steady()
{
    static SteadyClock clock;
    return clock;
}

bool SteadyClock::waitUntil(std::condition_variable &cv, std::unique_lock<std::mutex> &lock, SteadyTime until,
                            const std::function<bool()> &wake)
{
    // wait_until(max) overflows inside libstdc++'s conversion to an absolute timespec.
    if (until == SteadyTime::max()) {
        cv.wait(lock, wake);
        return true;
    }
    return cv.wait_until(lock, until, wake);
}

ManualClock::ManualClock(SteadyTime start) : m_now(start) {}

SteadyTime ManualClock::now() const
{
    std::lock_guard guard(m_mutex);
    return m_now;
}

bool ManualClock::waitUntil(std::condition_variable &cv, std::unique_lock<std::mutex> &lock, SteadyTime until,
                            const std::function<bool()> &wake)
{
    // Lock order: the waiter's mutex (held here), then m_mutex; advance()
    // never holds m_mutex while it takes a waiter's mutex.
    unsigned long long seen;
    {
        std::lock_guard guard(m_mutex);
        m_waiters.push_back({lock.mutex(), &cv});
        seen = m_advances;
    }
    const auto advancedOrDue = [&] {
        std::lock_guard guard(m_mutex);
        return m_advances != seen || m_now >= until;
    };
    while (!wake() && !advancedOrDue())
        cv.wait(lock);
    {
        std::lock_guard guard(m_mutex);
        const auto it = std::find_if(m_waiters.begin(), m_waiters.end(),
                                     [&cv](const Waiter &w) { return w.cv == &cv; });
        if (it != m_waiters.end())
            m_waiters.erase(it);
    }
    return wake();
}

void ManualClock::advance(Nanos d)
{
    std::vector<Waiter> waiters;
    {
        std::lock_guard guard(m_mutex);
        m_now += d;
        ++m_advances;
        waiters = m_waiters;
    }
    for (const Waiter &w : waiters) {
        // Taking the waiter's mutex orders this notify after its check of
        // m_advances: either it saw the new count, or it is already waiting.
        { std::lock_guard guard(*w.mutex); }
        w.cv->notify_all();
    }
}

int ManualClock::waiterCount() const
{
    std::lock_guard guard(m_mutex);
    return int(m_waiters.size());
}
