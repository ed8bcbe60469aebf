#include "core/util/clock.h"

#include <algorithm>

Clock &Clock::steady()
{
    static SteadyClock clock;
    return clock;
}

ManualClock::ManualClock(SteadyTime start) : m_now(start) {}

SteadyTime ManualClock::now() const
{
    std::lock_guard lock(m_mutex);
    return m_now;
}

int ManualClock::addListener(std::function<void()> fn)
{
    std::lock_guard lock(m_mutex);
    m_listeners.emplace_back(++m_nextId, std::move(fn));
    return m_nextId;
}

void ManualClock::removeListener(int id)
{
    std::lock_guard lock(m_mutex);
    std::erase_if(m_listeners, [id](const auto &p) { return p.first == id; });
}

void ManualClock::advance(Nanos d)
{
    std::vector<std::function<void()>> toCall;
    {
        std::lock_guard lock(m_mutex);
        m_now += d;
        for (const auto &[id, fn] : m_listeners)
            toCall.push_back(fn);
    }
    for (const auto &fn : toCall)
        fn();
}
