#pragma once

#include "core/drift/latencydriftsignal.h"

#include <QObject>
#include <QTimer>

#include <chrono>

class InferenceMetricsCollector;

// Runs the LatencyDriftSignal against the live gateway (DESIGN.md §10):
// every `interval` (default 10 s) it takes the collector's end-to-end latency
// histogram of the last interval and evaluates it against the loaded
// baseline. The reading goes to /health, /metrics
// (sluice_latency_drift_score), the WebSocket stream (`drift` events) and the
// console.
//
// Thread: lives on the thread that created it (its timer runs there);
// reading(), hasBaseline() and baseline() are thread-safe.
class DriftMonitor : public QObject
{
    Q_OBJECT
public:
    explicit DriftMonitor(InferenceMetricsCollector *metrics, QObject *parent = nullptr);

    void setInterval(std::chrono::milliseconds interval); // 1 s .. 60 s; 0 stops evaluating
    void setBaseline(const PerformanceBaseline &baseline);
    void clearBaseline();
    bool loadBaseline(const QString &path, QString *error); // PerformanceBaseline::load + setBaseline

    bool hasBaseline() const { return m_signal.hasBaseline(); }
    std::optional<PerformanceBaseline> baseline() const { return m_signal.baseline(); }
    DriftReading reading() const { return m_signal.last(); }
    // The `drift` stream event: {type, state, score, ratios, distance, baseline: {createdAt, sluiceVersion} | null}
    QJsonObject toJson() const;

public slots:
    void evaluateNow();

signals:
    void evaluated(const DriftReading &reading);   // every window
    void stateChanged(const DriftReading &reading); // only when the state changed (incl. baseline loaded/cleared)

private:
    InferenceMetricsCollector *m_metrics;
    LatencyDriftSignal m_signal;
    QTimer m_timer;
    int m_windowSeconds = 10;
};

Q_DECLARE_METATYPE(DriftReading)
