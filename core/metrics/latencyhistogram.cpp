#include "core/metrics/latencyhistogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace {
uint64_t clampNs(Nanos v)
{
    const auto n = v.count();
    if (n <= 0)
        return 0;
    return std::min<uint64_t>(uint64_t(n), LatencyHistogram::kMaxTrackable);
}
} // namespace

int LatencyHistogram::bucketIndex(uint64_t v)
{
    if (v < uint64_t(kSubCount))
        return int(v);
    v = std::min(v, kMaxTrackable);
    const int msb = 63 - std::countl_zero(v);
    const int shift = msb - kSubBits;
    const int sub = int((v >> shift) & uint64_t(kSubCount - 1));
    return (shift + 1) * kSubCount + sub;
}

uint64_t LatencyHistogram::bucketLowerBound(int index)
{
    if (index < kSubCount)
        return uint64_t(index);
    const int shift = index / kSubCount - 1;
    const int sub = index % kSubCount;
    return uint64_t(kSubCount + sub) << shift;
}

uint64_t LatencyHistogram::bucketUpperBound(int index)
{
    if (index < kSubCount)
        return uint64_t(index) + 1;
    const int shift = index / kSubCount - 1;
    return bucketLowerBound(index) + (uint64_t(1) << shift);
}

uint64_t LatencyHistogram::bucketMidpoint(int index)
{
    const uint64_t lo = bucketLowerBound(index);
    const uint64_t hi = bucketUpperBound(index);
    return lo + (hi - 1 - lo) / 2;
}

void LatencyHistogram::record(Nanos value, uint64_t count)
{
    const uint64_t v = clampNs(value);
    m_buckets[size_t(bucketIndex(v))] += count;
    m_count += count;
    m_sumNs += v * count;
    m_minNs = std::min(m_minNs, v);
    m_maxNs = std::max(m_maxNs, v);
}

void LatencyHistogram::merge(const LatencyHistogram &o)
{
    for (int i = 0; i < kBucketCount; ++i)
        m_buckets[size_t(i)] += o.m_buckets[size_t(i)];
    m_count += o.m_count;
    m_sumNs += o.m_sumNs;
    m_minNs = std::min(m_minNs, o.m_minNs);
    m_maxNs = std::max(m_maxNs, o.m_maxNs);
}

void LatencyHistogram::clear()
{
    *this = LatencyHistogram();
}

uint64_t LatencyHistogram::quantileNs(double q) const
{
    if (m_count == 0)
        return 0;
    q = std::clamp(q, 0.0, 1.0);
    const uint64_t rank = std::max<uint64_t>(1, uint64_t(std::ceil(q * double(m_count))));
    uint64_t seen = 0;
    for (int i = 0; i < kBucketCount; ++i) {
        seen += m_buckets[size_t(i)];
        if (seen >= rank)
            return std::clamp(bucketMidpoint(i), minNs(), m_maxNs);
    }
    return m_maxNs;
}

double LatencyHistogram::countBelow(uint64_t boundNs) const
{
    double total = 0;
    for (int i = 0; i < kBucketCount; ++i) {
        const uint64_t c = m_buckets[size_t(i)];
        if (c == 0)
            continue;
        const uint64_t lo = bucketLowerBound(i);
        const uint64_t hi = bucketUpperBound(i);
        if (hi <= boundNs)
            total += double(c);
        else if (lo < boundNs)
            total += double(c) * double(boundNs - lo) / double(hi - lo);
        else
            break;
    }
    return total;
}

void AtomicLatencyHistogram::record(Nanos value)
{
    const uint64_t v = clampNs(value);
    m_buckets[size_t(LatencyHistogram::bucketIndex(v))].fetch_add(1, std::memory_order_relaxed);
    m_count.fetch_add(1, std::memory_order_relaxed);
    m_sumNs.fetch_add(v, std::memory_order_relaxed);
    uint64_t cur = m_minNs.load(std::memory_order_relaxed);
    while (v < cur && !m_minNs.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
    }
    cur = m_maxNs.load(std::memory_order_relaxed);
    while (v > cur && !m_maxNs.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
    }
}

void AtomicLatencyHistogram::addTo(LatencyHistogram &out) const
{
    // Most windows' histograms of rare kinds (streams, idle classes) are
    // empty: 2048 loads saved each. A value being recorded right now may be
    // missed by this snapshot; the next one has it.
    if (m_count.load(std::memory_order_relaxed) == 0)
        return;
    uint64_t count = 0;
    for (int i = 0; i < LatencyHistogram::kBucketCount; ++i) {
        const uint64_t c = m_buckets[size_t(i)].load(std::memory_order_relaxed);
        out.m_buckets[size_t(i)] += c;
        count += c;
    }
    // Sum the buckets rather than reading m_count so count and buckets agree
    // even while other threads record.
    out.m_count += count;
    out.m_sumNs += m_sumNs.load(std::memory_order_relaxed);
    out.m_minNs = std::min(out.m_minNs, m_minNs.load(std::memory_order_relaxed));
    out.m_maxNs = std::max(out.m_maxNs, m_maxNs.load(std::memory_order_relaxed));
}

void AtomicLatencyHistogram::clear()
{
    for (auto &b : m_buckets)
        b.store(0, std::memory_order_relaxed);
    m_count.store(0, std::memory_order_relaxed);
    m_sumNs.store(0, std::memory_order_relaxed);
    m_minNs.store(UINT64_MAX, std::memory_order_relaxed);
    m_maxNs.store(0, std::memory_order_relaxed);
}
