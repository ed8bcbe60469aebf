#pragma once

#include "core/drift/performancebaseline.h"
#include "core/loadtest/kneesearchdriver.h"
#include "core/loadtest/locustrunner.h"
#include "core/loadtest/throughputmonitor.h"
#include "core/metrics/latencyhistogram.h"

#include <QJsonObject>
#include <QObject>

#include <mutex>
#include <optional>

class InferenceMetricsCollector;

// One load test at a time, as the operator sees it (DESIGN.md §7, §9):
// either a stepped run (start(): LocustRunner's fixed steps, the knee from
// ThroughputMonitor::findInflection when it ends) or a knee search
// (startSearch(): KneeSearchDriver chooses each step from the ones before).
// Both build the throughput curve with ThroughputMonitor from Locust's
// figures and the gateway's MetricsSnapshots (for a search: over each
// step's measured window, warm-up excluded) and turn the result into a
// PerformanceBaseline. Used by the console's load-test panel,
// POST /api/v1/loadtests and `sluice --capture-baseline`.
//
// status() is the JSON of a `loadtest` stream event:
//   {id, state: idle|running|finished|failed|stopped, step, steps, users,
//    progress: {...LoadTestProgress}, curve: [{users, offeredRps, achievedRps,
//    p50Ms, p95Ms, p99Ms, queueDepthMean, queueDepthMax, errorRate,
//    generator?, search?}],
//    inflection: {users, queueDepth, throughputRps, p95Ms} | null,
//    kneeReason, error,
//    search?: {phase, stepState, elapsedSeconds, maxSeconds, workers,
//              lines: [one per measured step, KneeSearch::describe],
//              result?: KneeSearch::Result::toJson()}}
// A search's `steps` is the steps measured plus the one running; its curve
// is in the order measured (the dashboard and the panel sort by users).
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
    // A knee search (plan: target, workers, model, mix; its step fields are
    // not used). Same return as start().
    quint64 startSearch(const LoadTestPlan &plan, const KneeSearchConfig &search, const QJsonObject &engineConfig,
                        const QJsonObject &environment, QString *error);
    void stop();
    bool isRunning() const;
    bool isSearching() const { return m_searching; }
    // The knee search of the last startSearch() (its steps and result).
    const KneeSearch &search() const { return m_driver.search(); }

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
    // The start of a run of either kind: refused while one runs (`error`).
    bool reset(const QJsonObject &engineConfig, const QJsonObject &environment, bool searching, QString *error);
    void publish();
    void onStep(int index, const BaselineStep &client);
    void onFinished(bool ok, const QString &error);
    void onSearchStep(const KneeSearch::Step &step);
    void onSearchFinished(bool ok, const QString &error);
    QJsonObject searchStatus() const;
    void recordStepHistogram(double seconds);
    void fillHealthy(PerformanceBaseline *b, int nominalCurveIndex) const;

    InferenceMetricsCollector *m_metrics;
    LocustRunner m_runner;
    KneeSearchDriver m_driver{&m_runner};
    bool m_searching = false;
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
