#pragma once

#include "app/appconfig.h"

#include <QObject>
#include <QTimer>
#include <QUrl>

#include <memory>

class AnswerCache;

class BatchInferenceEngine;
class DriftMonitor;
class GatewayServer;
class LoadTestController;
class MemoryBudget;
class GeminiClient;
class GeminiSimulator;
class InferenceMetricsCollector;
class SharedBudget;
class UpstreamBudget;

// The running gateway, wired from an AppConfig (DESIGN.md §1: app/ wires the
// parts; no singletons): the metrics collector, the embedded GeminiSimulator
// when no API key or upstream URL is configured, the GeminiClient, the
// BatchInferenceEngine and the GatewayServer. Used by `sluice --server` and
// by the console alike.
//
// Thread: main thread. Each part runs its own worker thread(s); the
// collector's publishing timer runs on the main thread.
class GatewayRuntime : public QObject
{
    Q_OBJECT
public:
    explicit GatewayRuntime(const AppConfig &config, QObject *parent = nullptr);
    ~GatewayRuntime() override; // stop()s

    // Starts every part in dependency order. On failure everything started is
    // stopped again and *error names the part and the reason.
    bool start(QString *error);
    // Stops admitting (503 for new work), lets admitted work finish; drained()
    // follows once nothing is queued or in flight and every answer is written.
    // The drain grace period ran out: every admitted request still waiting
    // is answered now with 503 UNAVAILABLE and `reason` (upstream calls
    // aborted, the queue emptied); stop() then writes and flushes those
    // answers before the process exits.
    void abandon(const QString &reason);
    // SIGHUP: the TLS certificate and key are read again (new connections
    // use them); false with *error when TLS is off or the files are bad.
    bool reloadTls(QString *error);
    void drain();
    void stop();

    const AppConfig &config() const { return m_config; }
    QUrl url() const;           // the gateway's listening URL
    QUrl dashboardUrl() const;  // url() + "/"
    QUrl upstreamUrl() const;   // the upstream actually used (simulator's URL when embedded)
    QString upstreamDescription() const; // for logs and the status bar; never contains the key

    BatchInferenceEngine *engine() const { return m_engine.get(); }
    InferenceMetricsCollector *metrics() const { return m_metrics.get(); }
    GeminiClient *client() const { return m_client.get(); }
    UpstreamBudget *budget() const { return m_budget.get(); }
    SharedBudget *sharedBudget() const { return m_sharedBudget.get(); }
    DriftMonitor *drift() const { return m_drift.get(); }
    LoadTestController *loadTests() const { return m_loadTests.get(); }
    // Facts about this deployment recorded in a PerformanceBaseline's `environment`.
    QJsonObject environment() const;

signals:
    void drained();

private:
    AppConfig m_config;
    std::unique_ptr<InferenceMetricsCollector> m_metrics;
    std::unique_ptr<UpstreamBudget> m_budget;
    std::unique_ptr<SharedBudget> m_sharedBudget; // with --budget-store
    std::unique_ptr<GeminiSimulator> m_simulator;
    std::unique_ptr<GeminiClient> m_client;
    std::unique_ptr<BatchInferenceEngine> m_engine;
    std::unique_ptr<DriftMonitor> m_drift;
    std::unique_ptr<LoadTestController> m_loadTests;
    std::unique_ptr<GatewayServer> m_server;
    std::unique_ptr<MemoryBudget> m_memory; // the HTTP front's, read by the metrics' gauge source
    std::unique_ptr<AnswerCache> m_cache;   // the Gemini routes', read by the metrics' gauge source
    QUrl m_upstreamUrl;
    bool m_drainedSignalled = false;
    // Returns freed heap to the system once a burst is over (malloc_trim),
    // so RSS follows load: checked every kTrimCheckMs, trimmed after one
    // whole check with nothing admitted, queued or in flight.
    QTimer m_trimTimer;
    quint64 m_admittedAtLastCheck = 0;
    bool m_busySinceTrim = false;
    void trimIfIdle();
};
