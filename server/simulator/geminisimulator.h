#pragma once

#include "server/simulator/simulatorconfig.h"
#include "server/simulator/simulatorstats.h"

#include <QHostAddress>
#include <QObject>
#include <QString>
#include <QUrl>

#include <memory>

class QThread;
class SimulatorServer;
struct SimulatorShared;

// A Gemini-compatible (REST v1beta) HTTP server on loopback: the embedded
// default upstream of Sluice when no API key is configured, and every test's
// upstream. Routes:
//   POST /v1beta/models/{model}:generateContent | :streamGenerateContent[?alt=sse]
//        | :embedContent | :batchEmbedContents | :countTokens   (':' may be sent as %3A)
//        | :batchGenerateContent   (Batch Mode, inline requests; answers an Operation)
//   GET  /v1beta/models, /v1beta/models/{model}
//   GET  /v1beta/batches[?pageSize=&pageToken=], /v1beta/batches/{id}
//   POST /v1beta/batches/{id}:cancel, DELETE /v1beta/batches/{id}
//   GET|PATCH|PUT /sim/v1/config (SimulatorConfig JSON), GET /sim/v1/stats (SimulatorStats JSON)
// Answers are deterministic functions of the prompt (SimulatorContent); the
// latency/capacity/quota/fault model, the service tiers (serviceTier: flex,
// priority) and Batch Mode's timing are described in SimulatorConfig; the
// batch jobs and their Operation JSON in SimulatorBatches.
// Capacity: at most maxConcurrent generations are served at once, each for
// (baseLatencyMs + outputTokens * 1000 / tokensPerSecond) * timeScale ms
// (times a mean-1 lognormal jitter), the rest wait in FIFO order, so the
// saturation throughput is maxConcurrent / mean service time.
//
// Thread: a GeminiSimulator is owned by the thread that creates it, which
// must also call start() and stop(). Serving happens in its own QThread named
// "sluice-simulator". config(), setConfig(), stats(), resetStats(), port(),
// baseUrl() and isRunning() are thread-safe.
class GeminiSimulator : public QObject
{
    Q_OBJECT
public:
    explicit GeminiSimulator(const SimulatorConfig &config = {}, QObject *parent = nullptr);
    ~GeminiSimulator() override; // stops

    // Binds and starts the server thread. Returns false (see errorString()) when
    // the address cannot be bound, the config is invalid, or it is already running.
    bool start(const QHostAddress &address = QHostAddress::LocalHost, quint16 port = 0);
    // Closes every connection (unanswered requests are dropped) and joins the thread.
    void stop();
    bool isRunning() const;

    quint16 port() const;
    QUrl baseUrl() const; // "http://127.0.0.1:PORT" (no trailing slash)
    QString errorString() const;

    SimulatorConfig config() const;
    // Validates and swaps the config in; returns the error (naming the field)
    // and changes nothing when invalid. Takes effect for every request parsed
    // after it returns. Reseeds the RNG and starts empty quota windows and a
    // new quota day.
    SimulatorConfig::Error setConfig(const SimulatorConfig &config);

    SimulatorStats stats() const;
    // Zeroes the counters and high-water marks (the in-flight/queued,
    // connection and batch-job gauges stay).
    void resetStats();

private:
    std::shared_ptr<SimulatorShared> m_shared;
    QThread *m_thread = nullptr;
    SimulatorServer *m_server = nullptr; // lives in m_thread; deleted when it finishes
    QHostAddress m_address;
    quint16 m_port = 0;
    QString m_error;
};
