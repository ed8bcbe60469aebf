#pragma once

#include "core/engine/tierrouting.h"

#include <QByteArray>
#include <QHostAddress>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <memory>
#include <mutex>

class BatchInferenceEngine;
class DriftMonitor;
class GeminiClient;
class LoadTestController;
class MemoryBudget;
class AnswerCache;
struct BatchModeStats;
class SharedBudget;
struct MetricsStreamCounters;
class InferenceMetricsCollector;
class GatewayHttpServer;
class QThread;

// What the gateway serves with. Non-owning: app/ owns all three, starts them
// before GatewayServer::start() and stops them after GatewayServer::stop().
struct GatewayDeps {
    BatchInferenceEngine *engine = nullptr;       // required
    GeminiClient *client = nullptr;               // required: passthrough routes, circuit state
    InferenceMetricsCollector *metrics = nullptr; // optional: /metrics, /api/v1/stats, the stream's snapshots
    // Optional, both on the main thread (the gateway calls into them with
    // QMetaObject::invokeMethod and reads only their thread-safe getters):
    DriftMonitor *drift = nullptr;            // /health, /metrics drift figures, baseline routes, `drift` events
    LoadTestController *loadTests = nullptr;  // /api/v1/loadtests, GET /api/v1/baseline, `loadtest` events
    // Optional, thread-safe: what admitted work may hold (HttpLimits::memory).
    MemoryBudget *memory = nullptr;
    // Optional, thread-safe: answers kept for identical requests (off when null or maxBytes 0).
    AnswerCache *cache = nullptr;
    // Tier routing (flex, Batch Mode) for requests that declare a deadline,
    // and where the Batch Mode collector reports what it holds (may be null).
    TierRoutingConfig tiers{};
    // Tenants' defaults (class, deadline) as the engine has them (set both
    // at start: neither changes while running).
    TenantsConfig tenants{};
    std::shared_ptr<BatchModeStats> batchStats{};
    // Optional, thread-safe: the upstream budget shared with other replicas
    // (--budget-store), shown in /health, /metrics and /api/v1/stats.
    SharedBudget *sharedBudget = nullptr;
};

struct GatewayOptions {
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 8080;                     // 0 = a free port, see url()
    QByteArray adminToken;                   // required to bind a non-loopback host; guards PATCH /api/v1/config
    qint64 maxBodyBytes = 10 * 1024 * 1024;  // larger bodies get 413 before they are read
    int maxHeaderBytes = 64 * 1024;          // larger request heads get 431
    int idleTimeoutMs = 60000;               // idle keep-alive connections are closed after this
    int headerTimeoutMs = 10000;             // a request's headers must arrive within this (else 408 + close)
    int listenBacklog = 4096;                // >= 4096 (Qt's default is 50)
    int bodyTimeoutMs = 20000;               // a request body's first allowance; then +1 s per minBodyBytesPerSecond received
    int minBodyBytesPerSecond = 1024;        // slower bodies get 408 + close (0: only the idle timeout applies)
    int maxConnections = 4096;               // open client connections; beyond it new ones get 503 + close
    // Host names (without port) requests may carry besides the loopback names
    // and the bound address; "*" allows any (DNS-rebinding protection off).
    QStringList allowedHosts;
    // Origins (scheme://host[:port]) a browser page may call control routes
    // and open the stream from, besides the gateway's own; "*" allows any.
    QStringList allowedOrigins;
    QString upstreamKind = QStringLiteral("simulator"); // reported by /health
    QString model = QStringLiteral("gemini-2.0-flash"); // reported by /health
    // GET /api/v1/stream (MetricsStream)
    double streamRateHz = 4;                      // snapshots per second, 0.2 .. 50
    qint64 streamMaxBacklogBytes = 256 * 1024;    // a client with more queued gets its snapshots dropped
    qint64 streamHardBacklogBytes = 16 * 1024 * 1024; // ... and is disconnected past this
    int streamMaxClients = 256;                   // stream clients at once; beyond it the upgrade gets 503
    // HTTPS: PEM certificate chain and private key (TlsFiles); both or neither.
    QString tlsCertificateFile;
    QString tlsKeyFile;
    // Plain HTTP on a non-loopback address is refused unless this is set
    // (TLS ends at a proxy in front, or the network is trusted).
    bool insecurePlaintext = false;
};

// The gateway's HTTP front (DESIGN.md §3, §4, §5, §7): the Gemini-compatible
// routes agents call, /health, /metrics, /api/v1/stats and /api/v1/config.
//
// Serving happens on its own QThread named "sluice-server", on a
// QAbstractHttpServer subclass (GatewayHttpServer) bound to an
// HttpLimitsTcpServer that enforces body/header limits and timeouts.
//
// Thread: construct and destroy on any one thread. start(), stop(), url(),
// isRunning() are thread-safe; start() blocks until the socket is bound (or
// failed), stop() until the server thread has finished. Requests still waiting
// for the engine when stop() runs are not answered (their connections are
// closed); drain the engine first for a graceful shutdown.
class GatewayServer : public QObject
{
    Q_OBJECT
public:
    GatewayServer(const GatewayDeps &deps, const GatewayOptions &options, QObject *parent = nullptr);
    ~GatewayServer() override; // stop()s

    // Binds host:port and starts serving. On failure returns false and sets
    // *error to what failed, e.g. "cannot listen on 127.0.0.1:8080: address in use".
    bool start(QString *error = nullptr);
    void stop();
    // Reads the TLS files again and serves new connections with them (open
    // ones keep theirs). False with *error when they cannot be read (the old
    // identity stays) or TLS is not configured. Thread-safe (SIGHUP).
    bool reloadTls(QString *error);
    bool isRunning() const;

    // "http://HOST:PORT" with the bound port; empty before start().
    QUrl url() const;
    GatewayOptions options() const { return m_options; }
    // The WebSocket stream's figures (clients, dropped frames, backlog); null before start().
    std::shared_ptr<const MetricsStreamCounters> streamCounters() const;

private:
    GatewayDeps m_deps;
    GatewayOptions m_options;
    mutable std::mutex m_mutex;
    QThread *m_thread = nullptr;
    GatewayHttpServer *m_server = nullptr; // lives in m_thread
    QUrl m_url;
    std::shared_ptr<const MetricsStreamCounters> m_streamCounters;
};
