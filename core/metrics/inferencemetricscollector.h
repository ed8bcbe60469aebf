#pragma once

#include "core/metrics/latencyhistogram.h"
#include "core/metrics/metricssnapshot.h"
#include "core/util/clock.h"
#include "core/util/status.h"

#include <QObject>
#include <QTimer>

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

// Measures the gateway: latency histograms (end to end, queue wait,
// upstream), outcome and rejection counters, tokens and batch sizes, over
// sliding 1 s / 10 s / 60 s windows and since start, and publishes
// MetricsSnapshot values on a timer.
//
// Recording: the record*() methods are thread-safe and take no global lock;
// they add into the current one-second slot with relaxed atomics. A slot is
// reset (under a per-slot mutex, once per second) when time moves into it.
//
// Gauges (queue depth, in flight, backpressure) are read at snapshot time
// from the source set with setGaugeSource(), typically the engine.
//
// Thread: lives on the thread that created it (its timer runs there);
// record*(), snapshot() and cumulative*() are thread-safe.

struct EngineGauges {
    int queueDepth = 0;
    int queueCapacity = 0;
    int inflightBatches = 0;
    int maxInflightBatches = 0;
    double backpressure = 0;
    bool draining = false;
};

class InferenceMetricsCollector : public QObject
{
    Q_OBJECT
public:
    enum class Outcome { Ok, Failed, Expired, Cancelled };
    enum class Histogram { Latency, QueueWait, Upstream };

    explicit InferenceMetricsCollector(Clock &clock = Clock::steady(), QObject *parent = nullptr);
    ~InferenceMetricsCollector() override;

    void setGaugeSource(std::function<EngineGauges()> source);

    // An admitted request finished. `total` and `queueWait` are its end-to-end
    // and queue times; latency percentiles are taken over Ok requests only.
    void recordCompletion(Outcome outcome, Nanos total, Nanos queueWait, int promptTokens, int outputTokens);
    void recordRejection(RejectReason reason);
    void recordBatch(int size, Nanos upstreamTime, int upstreamCalls, int upstreamErrors);

    MetricsSnapshot snapshot() const;
    // Since start; for Prometheus histograms and the performance baseline.
    LatencyHistogram cumulativeHistogram(Histogram which) const;
    // Merged histogram of the last `seconds` (1..60) seconds.
    LatencyHistogram windowHistogram(Histogram which, int seconds) const;

    // Publishing period of snapshotReady (default 250 ms, i.e. 4 Hz); 0 stops it.
    void setPublishInterval(std::chrono::milliseconds interval);

signals:
    void snapshotReady(const MetricsSnapshot &snapshot);

private:
    struct Slot;
    struct Totals;
    Slot &currentSlot(qint64 second);
    qint64 secondOf(SteadyTime t) const;
    WindowStats window(int seconds, qint64 nowSecond) const;
    WindowStats totals() const;

    Clock &m_clock;
    SteadyTime m_start;
    qint64 m_startWallMs = 0;
    static constexpr int kSlots = 64;
    std::unique_ptr<std::array<Slot, kSlots>> m_slots;
    std::unique_ptr<Totals> m_totals;
    mutable std::mutex m_gaugeMutex;
    std::function<EngineGauges()> m_gaugeSource;
    QTimer m_timer;
};
