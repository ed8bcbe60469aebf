#include "app/gatewayruntime.h"
#include "server/routes/batchmode.h"

#include "core/drift/driftmonitor.h"
#include "core/engine/batchinferenceengine.h"
#include "core/gemini/geminiclient.h"
#include "core/loadtest/loadtestcontroller.h"
#include "core/metrics/inferencemetricscollector.h"
#include "core/quota/sharedbudget.h"
#include "core/quota/upstreambudget.h"
#include "core/util/memorybudget.h"
#include "server/gatewayserver.h"
#include "server/routes/answercache.h"
#include "server/simulator/geminisimulator.h"

#include <QFile>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QThread>

#include <algorithm>
#include <limits>

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

Q_LOGGING_CATEGORY(lcRuntime, "sluice.runtime")

namespace {

// Raises the soft open-files limit to the hard one (each client connection,
// upstream connection and, with the embedded simulator, each simulated call
// holds a descriptor; Debian's soft default of 1024 is reached by a fleet
// of a few hundred agents). Returns the soft limit now in force.
qint64 raiseOpenFilesLimit()
{
    rlimit l{};
    if (::getrlimit(RLIMIT_NOFILE, &l) != 0)
        return -1;
    if (l.rlim_cur < l.rlim_max) {
        const rlim_t before = l.rlim_cur;
        l.rlim_cur = l.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &l) == 0)
            qCInfo(lcRuntime) << "open-files limit raised from" << qint64(before) << "to" << qint64(l.rlim_cur);
        else if (::getrlimit(RLIMIT_NOFILE, &l) != 0)
            return -1;
    }
    return l.rlim_cur == RLIM_INFINITY ? std::numeric_limits<qint64>::max() : qint64(l.rlim_cur);
}

constexpr int kTrimCheckMs = 2000;

// Resident set size from /proc/self/statm; -1 when unknown.
qint64 residentBytes()
{
    QFile f(QStringLiteral("/proc/self/statm"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    const QList<QByteArray> fields = f.readAll().split(' ');
    return fields.size() > 1 ? fields.at(1).toLongLong() * ::sysconf(_SC_PAGESIZE) : -1;
}

} // namespace

GatewayRuntime::GatewayRuntime(const AppConfig &config, QObject *parent) : QObject(parent), m_config(config) {}

GatewayRuntime::~GatewayRuntime()
{
    stop();
}

bool GatewayRuntime::start(QString *error)
{
    m_metrics = std::make_unique<InferenceMetricsCollector>();

    if (m_config.usesEmbeddedSimulator()) {
        m_simulator = std::make_unique<GeminiSimulator>(m_config.simulator);
        if (!m_simulator->start()) {
            *error = QStringLiteral("the embedded GeminiSimulator could not start: %1").arg(m_simulator->errorString());
            stop();
            return false;
        }
        m_upstreamUrl = m_simulator->baseUrl();
    } else {
        m_upstreamUrl = m_config.effectiveUpstreamUrl();
    }

    // One upstream budget for the engine (which prepays its dispatches), the
    // client (which charges everything else) and the metrics. The embedded
    // simulator's quota is known: nothing is probed there.
    ModelBudget::Settings budgetSettings;
    budgetSettings.quotaKnown = m_config.usesEmbeddedSimulator();
    m_budget = std::make_unique<UpstreamBudget>(Clock::steady(), budgetSettings);
    m_metrics->setBudget(m_budget.get());

    GeminiClientConfig cc;
    cc.baseUrl = m_upstreamUrl;
    cc.budget = m_budget.get();
    cc.metrics = m_metrics.get();
    cc.apiKey = m_config.apiKey;
    cc.concurrency = std::max(64, m_config.engine.maxInflightBatches);
    cc.retry = m_config.engine.retry;
    cc.transport = m_config.upstreamTransport;
    m_client = std::make_unique<GeminiClient>(cc);

    m_engine = std::make_unique<BatchInferenceEngine>(m_client.get(), m_config.engine, Clock::steady(), m_metrics.get(),
                                                      m_budget.get());
    BatchInferenceEngine *engine = m_engine.get();
    if (!m_config.budgetStore.isEmpty()) {
        // Replicas share one project's quota through Redis (validated in AppConfig).
        SharedBudget::Settings ss;
        QString why;
        ss.url = *RedisUrl::parse(m_config.budgetStore, &why);
        ss.replicas = m_config.budgetReplicas;
        m_sharedBudget = std::make_unique<SharedBudget>(ss, m_budget->sharedCallbacks([engine] { engine->budgetChanged(); }));
        m_budget->setShared(m_sharedBudget.get());
        m_sharedBudget->start();
        qCInfo(lcRuntime).noquote() << "upstream budget shared through" << ss.url.display();
    }
    m_memory = std::make_unique<MemoryBudget>(m_config.memoryBudgetBytes);
    MemoryBudget *memory = m_memory.get();
    m_cache = std::make_unique<AnswerCache>(
        AnswerCache::Config{m_config.cacheMaxBytes, std::chrono::seconds(m_config.cacheTtlSeconds)});
    AnswerCache *cache = m_cache.get();
    m_engine->setTenants(m_config.tenants);
    m_metrics->setPrices(m_config.prices);
    auto batchStats = std::make_shared<BatchModeStats>();
    batchStats->state.enabled = m_config.tiers.batch;
    m_metrics->setGaugeSource([engine, memory, cache, batchStats] {
        EngineGauges g = engine->gauges();
        g.tenants = engine->topTenants(20);
        g.memoryUsedBytes = memory->used();
        g.memoryLimitBytes = memory->limit();
        g.memoryRefusals = memory->refusals();
        g.cacheMaxBytes = cache->config().maxBytes;
        g.cacheUsedBytes = cache->usedBytes();
        g.cacheEntries = cache->entries();
        std::lock_guard lock(batchStats->mutex);
        g.batchMode = batchStats->state;
        return g;
    });
    m_engine->start();

    m_drift = std::make_unique<DriftMonitor>(m_metrics.get());
    if (!m_config.baselinePath.isEmpty()) {
        QString baselineError;
        if (!m_drift->loadBaseline(m_config.baselinePath, &baselineError)) {
            *error = QStringLiteral("the baseline could not be loaded: %1").arg(baselineError);
            stop();
            return false;
        }
        qCInfo(lcRuntime).noquote() << "drift reference:" << m_config.baselinePath;
    }
    m_loadTests = std::make_unique<LoadTestController>(m_metrics.get());

    GatewayDeps deps;
    deps.engine = m_engine.get();
    deps.client = m_client.get();
    deps.metrics = m_metrics.get();
    deps.drift = m_drift.get();
    deps.loadTests = m_loadTests.get();
    deps.cache = m_cache.get();
    deps.memory = m_memory.get();
    deps.tiers = m_config.tiers;
    deps.tenants = m_config.tenants;
    deps.batchStats = batchStats;
    deps.sharedBudget = m_sharedBudget.get();
    GatewayOptions opts;
    opts.host = m_config.host;
    opts.port = quint16(m_config.port);
    opts.adminToken = m_config.adminToken.toUtf8();
    opts.maxBodyBytes = m_config.maxBodyBytes;
    opts.tlsCertificateFile = m_config.tlsCertificateFile;
    opts.tlsKeyFile = m_config.tlsKeyFile;
    opts.insecurePlaintext = m_config.insecurePlaintext;
    opts.allowedHosts = m_config.allowedHosts;
    opts.allowedOrigins = m_config.allowedOrigins;
    opts.maxConnections = m_config.maxConnections;
    // Client connections may use what the upstream side leaves: the
    // upstream pool and the embedded simulator's sockets, a few files.
    if (const qint64 files = raiseOpenFilesLimit(); files > 0) {
        const qint64 reserve = std::max<qint64>(256, 4 * qint64(m_config.engine.maxInflightBatches));
        const qint64 room = std::max<qint64>(16, files - reserve);
        if (opts.maxConnections > room) {
            qCWarning(lcRuntime).noquote()
                << QStringLiteral("server.maxConnections %1 lowered to %2: the open-files limit is %3 and %4 are kept for "
                                  "the upstream side (raise the hard limit, e.g. ulimit -Hn or LimitNOFILE=, to allow more)")
                       .arg(opts.maxConnections).arg(room).arg(files).arg(reserve);
            opts.maxConnections = int(room);
        }
    }
    opts.streamMaxClients = m_config.streamMaxClients;
    opts.bodyTimeoutMs = m_config.bodyTimeoutMs;
    opts.minBodyBytesPerSecond = m_config.minBodyBytesPerSecond;
    opts.upstreamKind = m_config.upstreamKind();
    opts.model = QStringLiteral("gemini-2.0-flash");
    m_server = std::make_unique<GatewayServer>(deps, opts);
    QString serverError;
    if (!m_server->start(&serverError)) {
        *error = QStringLiteral("the gateway could not listen on %1:%2: %3").arg(m_config.host).arg(m_config.port).arg(serverError);
        stop();
        return false;
    }

    m_trimTimer.setInterval(kTrimCheckMs);
    connect(&m_trimTimer, &QTimer::timeout, this, &GatewayRuntime::trimIfIdle);
    m_trimTimer.start();

    connect(m_engine.get(), &BatchInferenceEngine::drained, this, [this] {
        if (m_drainedSignalled)
            return;
        m_drainedSignalled = true;
        emit drained();
    }, Qt::QueuedConnection);
    return true;
}

void GatewayRuntime::drain()
{
    if (m_engine)
        m_engine->drain();
}

bool GatewayRuntime::reloadTls(QString *error)
{
    if (!m_server) {
        *error = QStringLiteral("the gateway is not running");
        return false;
    }
    return m_server->reloadTls(error);
}

void GatewayRuntime::trimIfIdle()
{
    if (!m_engine)
        return;
    const EngineCounters c = m_engine->counters();
    const bool busy = c.admitted != m_admittedAtLastCheck || c.queued > 0 || c.inflight > 0;
    m_admittedAtLastCheck = c.admitted;
    if (busy) {
        m_busySinceTrim = true;
        return;
    }
    if (!m_busySinceTrim)
        return;
    m_busySinceTrim = false;
    // glibc keeps freed memory in its arenas (one per thread that
    // allocated: server, engine, upstream workers); a burst of large bodies
    // leaves RSS at its peak for good without this. Costs a few ms, once
    // per burst, when nothing is waiting.
    const qint64 before = residentBytes();
    ::malloc_trim(0);
    qCDebug(lcRuntime) << "idle: returned freed heap to the system, RSS" << before / (1024 * 1024) << "->"
                       << residentBytes() / (1024 * 1024) << "MiB";
}

void GatewayRuntime::abandon(const QString &reason)
{
    // Upstream calls first: each completes now with UNAVAILABLE, so the
    // engine's batches in flight end at once; then the engine answers what is
    // still queued. Every completion is posted to the server thread, which
    // writes it before stop() lets it go (posted events run in order).
    if (m_client)
        m_client->shutdown(reason);
    if (m_engine)
        m_engine->stop(reason);
}

void GatewayRuntime::stop()
{
    // Reverse order of start: nothing may call into a part already gone.
    if (m_server)
        m_server->stop();
    if (m_engine)
        m_engine->stop();
    m_server.reset();
    m_loadTests.reset();
    m_drift.reset();
    // Before the engine its callbacks wake, and the budget it clamps.
    if (m_budget)
        m_budget->setShared(nullptr);
    m_sharedBudget.reset();
    m_engine.reset();
    m_client.reset();
    if (m_simulator)
        m_simulator->stop();
    m_simulator.reset();
    if (m_metrics)
        m_metrics->setBudget(nullptr);
    m_budget.reset();
    m_metrics.reset();
    m_cache.reset(); // after the metrics: their gauge source reads it
}

QUrl GatewayRuntime::url() const
{
    return m_server ? m_server->url() : QUrl();
}

QUrl GatewayRuntime::dashboardUrl() const
{
    QUrl u = url();
    u.setPath(QStringLiteral("/"));
    return u;
}

QUrl GatewayRuntime::upstreamUrl() const
{
    return m_upstreamUrl;
}

QString GatewayRuntime::upstreamDescription() const
{
    const QString via = m_client && m_client->config().effectiveTransport() == UpstreamTransport::Native
        ? QStringLiteral("Sluice's HTTP/1.1 client")
        : QStringLiteral("QNetworkAccessManager");
    if (m_config.usesEmbeddedSimulator())
        return QStringLiteral("embedded GeminiSimulator at %1 (no GEMINI_API_KEY or --upstream set), via %2")
            .arg(m_upstreamUrl.toString(), via);
    return QStringLiteral("%1 upstream at %2%3, via %4")
        .arg(m_config.upstreamKind(), m_upstreamUrl.toString(),
             m_config.apiKey.isEmpty() ? QStringLiteral(" (no API key)") : QStringLiteral(" (API key set)"), via);
}

QJsonObject GatewayRuntime::environment() const
{
    return {{QStringLiteral("cpus"), QThread::idealThreadCount()},
            {QStringLiteral("upstreamKind"), m_config.upstreamKind()},
            {QStringLiteral("model"), QStringLiteral("gemini-2.0-flash")},
            {QStringLiteral("sluiceVersion"), QStringLiteral(SLUICE_VERSION)}};
}
