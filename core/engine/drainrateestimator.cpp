#include "core/engine/drainrateestimator.h"

#include <algorithm>

using namespace std::chrono;

qint64 DrainRateEstimator::secondOf(SteadyTime t) const
{
    return duration_cast<seconds>(t - m_origin).count();
}

void DrainRateEstimator::record(SteadyTime at, quint64 count)
{
    const qint64 sec = secondOf(at);
    if (sec < 0)
        return;
    auto &bucket = m_buckets[size_t(sec % qint64(m_buckets.size()))];
    if (bucket.first != sec)
        bucket = {sec, 0};
    bucket.second += count;
}

std::optional<double> DrainRateEstimator::perSecond(SteadyTime now) const
{
    const qint64 sec = secondOf(now);
    const qint64 span = std::min<qint64>(sec, kSeconds);
    if (span <= 0)
        return std::nullopt;
    quint64 n = 0;
    for (const auto &[s, count] : m_buckets) {
        if (s < sec && s >= sec - span)
            n += count;
    }
    if (n == 0)
        return std::nullopt;
    return double(n) / double(span);
}
