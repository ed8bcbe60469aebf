#pragma once

#include "core/drift/performancebaseline.h"
#include "core/loadtest/processcpusampler.h"

#include <QByteArray>
#include <QList>
#include <QMap>

#include <optional>

// What Locust did, second by second, and what it cost: the lines of the
// locustfile's samples file (SLUICE_SAMPLES_FILE) and the runner's
// ProcessCpuSampler readings, kept for one run, measured over any window.
//
// Window figures:
//  - throughput from Locust's per-second counters over whole seconds
//    [from, to): each line repeats the last seconds' counts and the latest
//    value wins, because a worker's report fills a second in after it ended;
//  - percentiles from the response times recorded during the window (Locust
//    rounds them: 2 significant digits from 100 ms);
//  - the generator's CPU between the readings nearest the window's ends.
//
// lagSeconds: how long after a second its counts are final on the process
// writing the samples: 1 for a single Locust, 2 for a master whose workers
// report every second. settledUntil() says how far a window may reach.
//
// Thread: plain value; use from one thread.

enum class LocustProcessRole { Single = 0, Master = 1, Worker = 2 };

struct LocustSample {
    double time = 0;            // seconds since the epoch (Locust's time.time())
    int users = 0;              // users running
    int targetUsers = -1;       // what the driven shape asks for; -1 without it
    int workers = 0;            // workers connected to the master; 0 without one
    quint64 requests = 0;       // cumulative, failures included
    quint64 failures = 0;
    struct Second {
        qint64 second = 0;      // whole seconds since the epoch
        quint64 requests = 0;   // completed in that second, as known now
        quint64 failures = 0;
    };
    QList<Second> perSecond;
    QList<QPair<int, quint64>> responseTimes; // rounded ms -> count, since the previous line

    // One line of the samples file; false (and *error) when it is not one.
    static bool fromJsonLine(const QByteArray &line, LocustSample *out, QString *error);
};

struct WindowFigures {
    double from = 0, to = 0;    // whole seconds since the epoch
    double seconds = 0;
    quint64 requests = 0;       // completed in the window, failures included
    quint64 failures = 0;
    double offeredRps = 0;      // requests / seconds
    double achievedRps = 0;     // (requests - failures) / seconds
    double errorRate = 0;       // failures / requests
    quint64 latencySamples = 0; // response times the percentiles come from
    double p50Ms = 0, p95Ms = 0, p99Ms = 0;
    std::optional<BaselineGenerator> generator;
};

class LoadSampleLog
{
public:
    // A Locust process at or above this share of one core is saturated: its
    // own event loop delays its users' requests (Locust warns at 90 % too).
    static constexpr double kSaturatedCore = 0.9;

    explicit LoadSampleLog(int lagSeconds = 1) : m_lag(lagSeconds) {}

    void clear();
    void setLagSeconds(int lagSeconds) { m_lag = lagSeconds; }
    int lagSeconds() const { return m_lag; }
    void setMachineCores(int cores) { m_machineCores = cores; }

    void add(const LocustSample &sample);
    void addCpu(const CpuReading &reading);

    bool isEmpty() const { return m_samples.isEmpty(); }
    const LocustSample &latest() const { return m_samples.constLast(); } // not when empty
    // Seconds before this (since the epoch) have final counts; 0 when empty.
    double settledUntil() const;

    // Figures over [from, to), both rounded to whole seconds.
    WindowFigures window(double from, double to) const;
    // The generator's CPU between the readings nearest `from` and `to`;
    // nullopt without two readings at least half a second apart.
    std::optional<BaselineGenerator> generator(double from, double to) const;

    // Load-generator-bound: a Locust process at kSaturatedCore of a core or
    // more, or Locust as a whole using that share of every core the machine has.
    static bool isBound(const BaselineGenerator &g);
    // The value at quantile q (0..1) of a rounded-ms histogram; 0 when empty.
    static double percentile(const QMap<int, quint64> &histogram, double q);

private:
    int m_lag = 1;
    int m_machineCores = 1;
    QList<LocustSample> m_samples;
    QMap<qint64, LocustSample::Second> m_seconds; // the latest counts of each second
    QList<CpuReading> m_cpu;
};
