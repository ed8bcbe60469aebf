#pragma once

#include "core/drift/performancebaseline.h"
#include "core/loadtest/locustrunner.h"
#include "core/loadtest/throughputmonitor.h"
#include "core/metrics/latencyhistogram.h"

#include <QJsonObject>
#include <QObject>

#include <mutex>
#include <optional>

class InferenceMetricsCollector;

// One stepped load test at a time, as the operator sees it (DESIGN.md §7,
// §9): runs LocustRunner, builds the throughput curve with ThroughputMonitor
// from Locust's steps and the gateway's MetricsSnapshots, finds the
// inflection point when the run ends, and turns the result into a
// PerformanceBaseline. Used by the console's load-test panel,
// POST /api/v1/loadtests and `sluice --capture-baseline`.
//
// status() is the JSON of a `loadtest` stream event:
//   {id, state: idle|running|finished|failed|stopped, step, steps, users,
//    progress: {...LoadTestProgress}, curve: [{users, offeredRps, achievedRps,
//    p50Ms, p95Ms, p99Ms, queueDepthMean, queueDepthMax, errorRate}],
//    inflection: {users, queueDepth, throughputRps, p95Ms} | null,
//    kneeReason, error}
//
// Thread: lives on the thread that created it (LocustRunner's QProcess);
// start()/stop() on that thread. status(), lastBaseline() and id() are
// thread-safe (the server thread reads them).
class LoadTestController : public QObject
{
    Q_OBJECT
public:
    // `metrics` may be null: then call observe() with snapshots yourself and
    // the baseline's healthy histogram stays empty.
    explicit LoadTestController(InferenceMetricsCollector *metrics, QObject *parent = nullptr);

    // Returns the new run's id, or 0 with *error set (already running, Locust missing, ...).
    quint64 start(const LoadTestPlan &plan, const QJsonObject &engineConfig, const QJsonObject &environment,
                  QString *error);
    void stop();
    bool isRunning() const;

    QJsonObject status() const;
    quint64 id() const;
    // The baseline of the last successfully finished run.
    std::optional<PerformanceBaseline> lastBaseline() const;

public slots:
    void observe(const MetricsSnapshot &snapshot);

signals:
    void statusChanged(const QJsonObject &status);
    void finished(bool ok, const QString &error);

private:
    void publish();
    void onStep(int index, const BaselineStep &client);
    void onFinished(bool ok, const QString &error);

    InferenceMetricsCollector *m_metrics;
    LocustRunner m_runner;
    ThroughputMonitor m_monitor;
    QList<LatencyHistogram> m_stepHistograms;
    LoadTestPlan m_plan;
    QJsonObject m_engineConfig;
    QJsonObject m_environment;
    LoadTestProgress m_progress;

    mutable std::mutex m_mutex; // guards the three below
    QJsonObject m_status;
    quint64 m_id = 0;
    std::optional<PerformanceBaseline> m_baseline;
};
