#include "core/quota/ratewindow.h"

#include <algorithm>

RateWindow::RateWindow(Nanos length, Nanos resolution)
    : m_length(length), m_resolution(std::max(resolution, Nanos(1)))
{
}

void RateWindow::record(SteadyTime at, qint64 amount)
{
    if (amount <= 0)
        return;
    prune(at); // bounded even when nobody asks used() or availableAt()
    // Rounded up to the tick's end: an entry may leave the window late, never early.
    const Nanos sinceEpoch = at.time_since_epoch();
    const auto ticks = (sinceEpoch.count() + m_resolution.count() - 1) / m_resolution.count();
    const SteadyTime stamp{Nanos(ticks * m_resolution.count())};
    if (!m_entries.empty() && m_entries.back().first >= stamp)
        m_entries.back().second += amount; // same tick (or a clock that stepped back): merge
    else
        m_entries.emplace_back(stamp, amount);
    m_used += amount;
}

void RateWindow::prune(SteadyTime now)
{
    while (!m_entries.empty() && m_entries.front().first + m_length <= now) {
        m_used -= m_entries.front().second;
        m_entries.pop_front();
    }
}

qint64 RateWindow::used(SteadyTime now)
{
    prune(now);
    return m_used;
}

SteadyTime RateWindow::availableAt(SteadyTime now, qint64 amount, qint64 limit)
{
    if (limit <= 0)
        return now;
    prune(now);
    qint64 used = m_used;
    const auto fits = [&] { return used + amount <= limit || used == 0; };
    if (fits())
        return now;
    // Walk from the oldest entry until enough has left the window.
    for (const auto &[at, spent] : m_entries) {
        used -= spent;
        if (fits())
            return at + m_length;
    }
    return now; // not reached: the last entry leaves used == 0
}

void RateWindow::clear()
{
    m_entries.clear();
    m_used = 0;
}
