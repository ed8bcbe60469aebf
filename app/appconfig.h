#pragma once

#include "core/engine/engineconfig.h"
#include "core/engine/scheduling.h"
#include "core/engine/tierrouting.h"
#include "core/metrics/pricetable.h"
#include "core/gemini/upstreamtransport.h"
#include "server/simulator/simulatorconfig.h"

#include <QByteArray>
#include <QHostAddress>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>
#include <QUrl>

class QCommandLineParser;

// Everything `sluice` needs to start, resolved from its sources in order
// (DESIGN.md §8): defaults, the JSON file named by --config (or
// SLUICE_CONFIG), the environment (SLUICE_*, GEMINI_API_KEY), then the
// command line. Engine knobs come in through EngineConfig::fromJson at
// every layer, so each is validated the same way wherever it was set.
//
// Config file shape (every member optional):
//   { "listen":   { "host": "127.0.0.1", "port": 8080 },
//     "adminToken": "…",
//     "upstream": { "url": "https://…", "apiKey": "…", "transport": "auto" },
//     "engine":   { <EngineConfig JSON: maxBatchSize, …, retry: {…}> },
//     "server":   { "maxBodyBytes": 10485760, "drainGraceMs": 30000,
//                   "allowedHosts": ["gateway.internal"], "allowedOrigins": ["https://ops.example"],
//                   "maxConnections": 4096, "streamMaxClients": 256,
//                   "bodyTimeoutMs": 20000, "minBodyBytesPerSecond": 1024,
//                   "memoryBudgetBytes": 1073741824,
//                   "tlsCert": "/etc/sluice/cert.pem", "tlsKey": "/etc/sluice/key.pem",
//                   "insecurePlaintext": false },
//     "cache":    { "maxBytes": 0, "ttlSeconds": 300 },
//     "tenants":  { "defaults": { "weight": 1, "priority": "standard", "deadline": "30m",
//                                 "rpm": 0, "tpm": 0, "maxConcurrent": 0, "maxQueued": 0 },
//                   "byId": { "key-0123456789abcdef": { "weight": 4 }, "nightly-evals": { "priority": "background" } },
//                   "classes": { "background": { "weight": 1, "deadline": "6h" } } },
//     "tiers":    { <TierRoutingConfig: flex, batch, batchMinDeadline, batchMaxAge, …> },
//     "prices":   { "*": { "standard": { "input": 0.30, "output": 2.50 } } },
//     "budget":   { "store": "redis://redis:6379/0", "replicas": 3 },
//     "simulator": { <SimulatorConfig JSON> } }
//
// Thread: plain value type.

struct AppConfig {
    QString host = QStringLiteral("127.0.0.1");
    int port = 8080;
    QString adminToken;
    QUrl upstreamUrl;            // empty: Google's when a key is set, else the embedded simulator
    QByteArray apiKey;           // never logged or printed
    // How the client speaks HTTP upstream (upstreamtransport.h): "auto" uses
    // Sluice's own HTTP/1.1 client for plain http:// upstreams and
    // QNetworkAccessManager for https://; "qnam" forces the latter (an
    // http:// upstream reached through a proxy needs it).
    UpstreamTransport upstreamTransport = UpstreamTransport::Auto;
    QString logLevel = QStringLiteral("info");
    qint64 maxBodyBytes = 10 * 1024 * 1024;
    int drainGraceMs = 30000;
    // The HTTP front's guards (server.* in the file; GatewayOptions has the meaning of each).
    QStringList allowedHosts;    // --allowed-hosts / SLUICE_ALLOWED_HOSTS, comma-separated
    QStringList allowedOrigins;  // --allowed-origins / SLUICE_ALLOWED_ORIGINS, comma-separated
    int maxConnections = 4096;   // --max-connections / SLUICE_MAX_CONNECTIONS
    int streamMaxClients = 256;
    int bodyTimeoutMs = 20000;
    int minBodyBytesPerSecond = 1024;
    // What admitted work may hold (MemoryBudget); --memory-budget-bytes /
    // SLUICE_MEMORY_BUDGET_BYTES / server.memoryBudgetBytes; 0: no limit.
    qint64 memoryBudgetBytes = qint64(1024) * 1024 * 1024;
    // The answer cache (AnswerCache): --cache-max-bytes / SLUICE_CACHE_MAX_BYTES /
    // cache.maxBytes (0: off, the default) and --cache-ttl-seconds /
    // SLUICE_CACHE_TTL_SECONDS / cache.ttlSeconds.
    qint64 cacheMaxBytes = 0;
    int cacheTtlSeconds = 300;
    // HTTPS (--tls-cert/--tls-key, SLUICE_TLS_CERT/SLUICE_TLS_KEY,
    // server.tlsCert/tlsKey) and the explicit opt-out for plain HTTP on a
    // non-loopback address (--insecure-plaintext, SLUICE_INSECURE_PLAINTEXT=1,
    // server.insecurePlaintext).
    QString tlsCertificateFile;
    QString tlsKeyFile;
    bool insecurePlaintext = false;
    QString baselinePath;        // PerformanceBaseline the drift detector watches (--baseline)
    EngineConfig engine;
    SimulatorConfig simulator;
    // Issue 15: tenants' shares, limits and defaults; tier routing; prices.
    TenantsConfig tenants;
    TierRoutingConfig tiers;
    PriceTable prices;
    // Issue 16: the upstream budget shared by replicas (SharedBudget):
    // --budget-store / SLUICE_BUDGET_STORE / budget.store, a redis:// URL
    // (empty: this process's budget is the whole quota); --budget-replicas /
    // SLUICE_BUDGET_REPLICAS / budget.replicas, the N of the 1/N each
    // replica spends while Redis is unreachable (0: the last count Redis showed).
    QString budgetStore;
    int budgetReplicas = 0;

    bool usesEmbeddedSimulator() const { return apiKey.isEmpty() && upstreamUrl.isEmpty(); }
    QUrl effectiveUpstreamUrl() const; // Google's base URL when only a key is set
    QString upstreamKind() const;      // "simulator" (embedded), "gemini" (Google) or "custom"

    // Adds the common and engine options (--host, --port, --config,
    // --admin-token, --upstream, --log-level, --drain-grace-ms,
    // --max-body-bytes, and one --kebab-case option per engine knob).
    static void addOptions(QCommandLineParser &parser);

    // Resolves every layer. On error returns false and sets *error to a
    // message naming the source and the option/field ("--max-batch-size:
    // must be an integer from 1 to 1000").
    static bool resolve(const QCommandLineParser &parser, const QProcessEnvironment &env, AppConfig *out,
                        QString *error);

    // Environment variable and option names for an engine knob path such as
    // "retry.maxAttempts": SLUICE_RETRY_MAX_ATTEMPTS and retry-max-attempts.
    static QString envNameForKnob(const QString &path);
    static QString optionNameForKnob(const QString &path);
};
