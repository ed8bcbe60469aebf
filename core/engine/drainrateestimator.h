#pragma once

#include "core/util/clock.h"

#include <QtGlobal>

#include <array>
#include <optional>

// Requests leaving the queue per second, measured over the last complete
// seconds (up to kSeconds of them): what the engine's Retry-After for a full
// queue is computed from (DESIGN.md §5: depth / drain rate).
//
// A pure value: the caller passes the time; nothing reads a clock.
// Thread: not thread-safe; guard it with the owner's lock.
class DrainRateEstimator
{
public:
    static constexpr int kSeconds = 10;

    explicit DrainRateEstimator(SteadyTime origin) : m_origin(origin) {}

    void record(SteadyTime at, quint64 count);
    // Mean rate over the complete seconds of the last kSeconds; nullopt
    // before one second is complete or when nothing left the queue then.
    std::optional<double> perSecond(SteadyTime now) const;

private:
    qint64 secondOf(SteadyTime t) const;

    SteadyTime m_origin;
    // (second since origin, count); one slot more than kSeconds, for the current second.
    std::array<std::pair<qint64, quint64>, kSeconds + 1> m_buckets{};
};
