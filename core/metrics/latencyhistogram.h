#pragma once

#include "core/util/clock.h"

#include <QtGlobal>

#include <array>
#include <atomic>
#include <cstdint>

// A log-linear (HDR-style) histogram of durations in nanoseconds.
//
// Buckets: values below 64 ns are exact; above, each power-of-two octave is
// split into 64 equal sub-buckets, so a bucket's width is at most 1/64 of
// its lower bound and reporting the bucket midpoint is within 0.79% of any
// value in it. Values are clamped to [0, kMaxTrackable] (~137 s), which
// covers the required 1 µs to 100 s. 2048 buckets, 16 KiB of counts.
//
// LatencyHistogram is a plain value (copy, merge, query). Recording from many
// threads goes through AtomicLatencyHistogram, which has no lock.
//
// Thread: LatencyHistogram is not thread-safe (value type);
// AtomicLatencyHistogram::record() is thread-safe and lock-free.

class LatencyHistogram
{
public:
    static constexpr int kSubBits = 6;
    static constexpr int kSubCount = 1 << kSubBits;               // 64
    static constexpr int kBucketCount = 2048;                     // octaves 6..36 plus the linear range
    static constexpr uint64_t kMaxTrackable = (uint64_t(1) << 37) - 1; // ~137.4 s in ns

    static int bucketIndex(uint64_t valueNs);
    static uint64_t bucketLowerBound(int index);
    static uint64_t bucketUpperBound(int index); // exclusive
    static uint64_t bucketMidpoint(int index);

    void record(Nanos value, uint64_t count = 1);
    void merge(const LatencyHistogram &other);
    void clear();

    uint64_t count() const { return m_count; }
    uint64_t sumNs() const { return m_sumNs; }
    uint64_t minNs() const { return m_count ? m_minNs : 0; }
    uint64_t maxNs() const { return m_maxNs; }
    double meanNs() const { return m_count ? double(m_sumNs) / double(m_count) : 0.0; }

    // Nearest-rank quantile (the value at rank ceil(q·N)), reported as the
    // midpoint of its bucket clamped to [min, max]. q in [0, 1]; 0 when empty.
    uint64_t quantileNs(double q) const;

    // Count of samples with value < boundNs, for Prometheus `le` buckets and
    // drift distances; exact at bucket boundaries, interpolated inside one.
    double countBelow(uint64_t boundNs) const;

    uint64_t bucketCount(int index) const { return m_buckets[size_t(index)]; }

private:
    friend class AtomicLatencyHistogram;
    std::array<uint64_t, kBucketCount> m_buckets{};
    uint64_t m_count = 0;
    uint64_t m_sumNs = 0;
    uint64_t m_minNs = UINT64_MAX;
    uint64_t m_maxNs = 0;
};

class AtomicLatencyHistogram
{
public:
    void record(Nanos value);
    void addTo(LatencyHistogram &out) const; // relaxed reads; consistent enough for monitoring
    void clear();                            // only while no thread records into it

private:
    std::array<std::atomic<uint64_t>, LatencyHistogram::kBucketCount> m_buckets{};
    std::atomic<uint64_t> m_count{0};
    std::atomic<uint64_t> m_sumNs{0};
    std::atomic<uint64_t> m_minNs{UINT64_MAX};
    std::atomic<uint64_t> m_maxNs{0};
};
