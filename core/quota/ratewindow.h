#pragma once

#include "core/util/clock.h"

#include <QtGlobal>

#include <deque>

// How much of one quantity (upstream calls, tokens) was spent in the last
// `length` of time — a sliding window like Gemini's per-minute quotas — and
// the earliest time at which spending `amount` more stays within a limit.
//
// Spending is recorded at the end of its `resolution` tick (10 ms by
// default): the window then holds at most length/resolution entries whatever
// the rate, and an entry never leaves the window before `length` has passed
// since it was really spent, so the answer errs on the safe side by less than
// one tick.
//
// A pure value: the caller passes `now`; nothing reads a clock.
// Thread: not thread-safe; guard it with the owner's lock.
class RateWindow
{
public:
    explicit RateWindow(Nanos length = std::chrono::minutes(1), Nanos resolution = std::chrono::milliseconds(10));

    void record(SteadyTime at, qint64 amount);
    // Spent within (now - length, now].
    qint64 used(SteadyTime now);
    // The earliest time >= now at which used + amount <= limit. `now` when
    // limit <= 0 (no limit). An amount larger than the whole limit fits once
    // the window is empty (it could never fit otherwise).
    SteadyTime availableAt(SteadyTime now, qint64 amount, qint64 limit);
    void clear();

    Nanos length() const { return m_length; }
    // Entries held: what the window costs in memory (at most length/resolution + 1).
    qsizetype entryCount() const { return qsizetype(m_entries.size()); }

private:
    void prune(SteadyTime now);

    Nanos m_length;
    Nanos m_resolution;
    std::deque<std::pair<SteadyTime, qint64>> m_entries; // (recorded tick end, amount), oldest first
    qint64 m_used = 0;
};
