#include "server/simulator/simulatorserver.h"

#include "core/gemini/geminierror.h"
#include "server/simulator/simulatorembedplanner.h"
#include "server/simulator/simulatorscheduler.h"
#include "server/simulator/simulatorwire.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <optional>

namespace {

const QString kRouteGenerate = QStringLiteral("generateContent");
const QString kRouteStream = QStringLiteral("streamGenerateContent");
const QString kRouteEmbed = QStringLiteral("embedContent");
const QString kRouteBatchEmbed = QStringLiteral("batchEmbedContents");
const QString kRouteCount = QStringLiteral("countTokens");
const QString kRouteBatchGenerate = QStringLiteral("batchGenerateContent");

using ServiceTier = SimulatorRequestReader::ServiceTier;

QString tierName(ServiceTier tier)
{
    switch (tier) {
    case ServiceTier::Flex:
        return QStringLiteral("flex");
    case ServiceTier::Priority:
        return QStringLiteral("priority");
    case ServiceTier::Standard:
        break;
    }
    return QStringLiteral("standard");
}

// {code, message, status} of a Failure's error envelope (a batch member's error).
QJsonObject memberError(const SimulatorRequestReader::Failure &failure)
{
    const QJsonObject error = QJsonDocument::fromJson(failure.body).object().value(QLatin1String("error")).toObject();
    return QJsonObject{{QStringLiteral("code"), error.value(QLatin1String("code"))},
                       {QStringLiteral("message"), error.value(QLatin1String("message"))},
                       {QStringLiteral("status"), error.value(QLatin1String("status"))}};
}

std::chrono::milliseconds scaledMs(double ms, double timeScale)
{
    return std::chrono::milliseconds(qint64(std::llround(ms * timeScale)));
}

SimulatorConfig configOf(const SimulatorShared &shared)
{
    QMutexLocker lock(&shared.mutex);
    return shared.config;
}

} // namespace

SimulatorServer::SimulatorServer(std::shared_ptr<SimulatorShared> shared, QObject *parent)
    : QObject(parent),
      m_shared(std::move(shared)),
      m_config(configOf(*m_shared)),
      m_rng(quint64(m_config.seed)),
      m_planner(m_config, m_rng),
      m_scheduler(new SimulatorScheduler(m_shared, m_config.maxConcurrent, this)),
      m_batchTimer(new QTimer(this))
{
    m_quota.reset(SimulatorQuota::Clock::now());
    m_batchTimer->setSingleShot(true);
    m_batchTimer->setTimerType(Qt::PreciseTimer);
    connect(m_batchTimer, &QTimer::timeout, this, &SimulatorServer::advanceBatches);
}

SimulatorServer::~SimulatorServer()
{
    shutdown();
}

bool SimulatorServer::listen(const QHostAddress &address, quint16 port, QString *error, quint16 *boundPort)
{
    m_server = new QTcpServer(this);
    m_server->setMaxPendingConnections(1024);
    connect(m_server, &QTcpServer::pendingConnectionAvailable, this, &SimulatorServer::onNewConnection);
    if (!m_server->listen(address, port)) {
        *error = m_server->errorString();
        delete m_server;
        m_server = nullptr;
        return false;
    }
    *boundPort = m_server->serverPort();
    return true;
}

void SimulatorServer::shutdown()
{
    if (m_server) {
        m_server->close();
        delete m_server;
        m_server = nullptr;
    }
    const auto connections = m_connections;
    m_connections.clear();
    for (SimHttpConnection *c : connections) {
        c->setHandlers({}, {}, {});
        delete c;
    }
    m_scheduler->clearWaiting();
    m_batchTimer->stop();
}

void SimulatorServer::applyConfig(const SimulatorConfig &config)
{
    m_config = config;
    m_rng.seed(quint64(config.seed));
    m_quota.reset(SimulatorQuota::Clock::now());
    for (SimHttpConnection *c : std::as_const(m_connections))
        c->setMaxBodyBytes(config.maxBodyBytes);
    m_scheduler->setMaxConcurrent(config.maxConcurrent);
}

void SimulatorServer::onNewConnection()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        auto *conn = new SimHttpConnection(socket, m_config.maxBodyBytes, this);
        m_connections.insert(conn);
        conn->setHandlers(
            [this](SimHttpConnection *c, SimHttpConnection::Request &req) { onRequest(c, req); },
            [this](SimHttpConnection *) {
                stat([](SimulatorStats &s) { ++s.badRequests; });
            },
            [this](SimHttpConnection *c) {
                if (m_connections.remove(c)) {
                    stat([](SimulatorStats &s) { --s.openConnections; });
                    c->deleteLater();
                }
            });
        stat([](SimulatorStats &s) { ++s.openConnections; });
    }
}

void SimulatorServer::reply(SimHttpConnection *conn, int status, const QByteArray &body,
                            const SimHttpConnection::Headers &headers, bool eventStreamType)
{
    stat([status](SimulatorStats &s) { ++s.responsesPerStatus[status]; });
    conn->sendResponse(status, eventStreamType ? QByteArrayLiteral("text/event-stream") : SimulatorWire::jsonContentType(),
                       body, headers);
}

void SimulatorServer::onRequest(SimHttpConnection *conn, SimHttpConnection::Request &req)
{
    stat([](SimulatorStats &s) { ++s.requests; });
    if (req.path == "/sim/v1/config" || req.path == "/sim/v1/stats") {
        handleControl(conn, req, req.path == "/sim/v1/config");
        return;
    }
    if (req.path == "/v1beta/models" || req.path.startsWith("/v1beta/models/")) {
        handleModels(conn, req);
        return;
    }
    if (req.path == "/v1beta/batches" || req.path.startsWith("/v1beta/batches/")) {
        handleBatches(conn, req);
        return;
    }
    stat([](SimulatorStats &s) { ++s.callsPerRoute[QStringLiteral("unknown")]; });
    reply(conn, 404, GeminiError::envelopeJson(404, QStringLiteral("NOT_FOUND"),
                                          QStringLiteral("The requested URL %1 was not found on this server.")
                                              .arg(QString::fromUtf8(req.path))));
}

void SimulatorServer::handleControl(SimHttpConnection *conn, SimHttpConnection::Request &req, bool configRoute)
{
    stat([configRoute](SimulatorStats &s) {
        ++s.callsPerRoute[configRoute ? QStringLiteral("simConfig") : QStringLiteral("simStats")];
    });
    if (!configRoute) {
        if (req.method != "GET") {
            reply(conn, 405, GeminiError::envelopeJson(405, QStringLiteral("INVALID_ARGUMENT"), QStringLiteral("use GET")));
            return;
        }
        SimulatorStats copy;
        {
            QMutexLocker lock(&m_shared->mutex);
            copy = m_shared->stats;
        }
        reply(conn, 200, QJsonDocument(copy.toJson()).toJson(QJsonDocument::Compact));
        return;
    }
    if (req.method == "PATCH" || req.method == "PUT") {
        QJsonParseError pe;
        const QJsonDocument doc = QJsonDocument::fromJson(req.body, &pe);
        if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
            reply(conn, 400, SimulatorWire::invalidArgument(QStringLiteral("Invalid JSON payload received: expected an object")));
            return;
        }
        // PUT replaces the whole config; PATCH overlays the fields present.
        const SimulatorConfig base = req.method == "PUT" ? SimulatorConfig{} : m_config;
        SimulatorConfig next;
        const SimulatorConfig::Error e = SimulatorConfig::fromJson(doc.object(), base, &next);
        if (!e.isNull()) {
            reply(conn, 400, SimulatorWire::invalidArgument(e.toString()));
            return;
        }
        {
            QMutexLocker lock(&m_shared->mutex);
            m_shared->config = next;
        }
        applyConfig(next);
    } else if (req.method != "GET") {
        reply(conn, 405, GeminiError::envelopeJson(405, QStringLiteral("INVALID_ARGUMENT"), QStringLiteral("use GET, PATCH or PUT")));
        return;
    }
    reply(conn, 200, QJsonDocument(m_config.toJson()).toJson(QJsonDocument::Compact));
}

void SimulatorServer::handleModels(SimHttpConnection *conn, SimHttpConnection::Request &req)
{
    const QString rest = QString::fromUtf8(req.path.mid(int(sizeof("/v1beta/models")) - 1));
    const qsizetype colon = rest.indexOf(QLatin1Char(':'));
    const QString model = rest.mid(1, colon < 0 ? -1 : colon - 1);
    const QString method = colon < 0 ? QString() : rest.mid(colon + 1);
    const bool isList = model.isEmpty() && colon < 0;

    const QString route = isList ? QStringLiteral("listModels")
        : colon < 0             ? QStringLiteral("getModel")
        : (method == kRouteGenerate || method == kRouteStream || method == kRouteEmbed
           || method == kRouteBatchEmbed || method == kRouteCount || method == kRouteBatchGenerate)
            ? method
            : QStringLiteral("unknown");
    stat([&](SimulatorStats &s) {
        ++s.callsPerRoute[route];
        if (!model.isEmpty())
            ++s.callsPerModel[model];
    });
    const bool streamRoute = route == kRouteStream;

    if (!checkApiKey(conn, req, streamRoute))
        return;

    const QStringList models = m_config.effectiveModels();
    if (colon < 0) {
        if (req.method != "GET") {
            reply(conn, 405, GeminiError::envelopeJson(405, QStringLiteral("INVALID_ARGUMENT"), QStringLiteral("use GET")));
            return;
        }
        if (isList) {
            QJsonArray list;
            for (const QString &m : models)
                list.append(SimulatorWire::modelInfo(m));
            reply(conn, 200, SimulatorWire::compact(QJsonObject{{QStringLiteral("models"), list}}));
        } else if (!models.contains(model)) {
            reply(conn, 404, SimulatorWire::modelNotFound(model, QStringLiteral("generateContent")));
        } else {
            reply(conn, 200, SimulatorWire::compact(SimulatorWire::modelInfo(model)));
        }
        return;
    }
    if (route == QLatin1String("unknown")) {
        reply(conn, 404, GeminiError::envelopeJson(404, QStringLiteral("NOT_FOUND"), QStringLiteral("Method not found.")));
        return;
    }
    if (req.method != "POST") {
        reply(conn, 405, GeminiError::envelopeJson(405, QStringLiteral("INVALID_ARGUMENT"), QStringLiteral("use POST")),
              {}, streamRoute);
        return;
    }
    if (!models.contains(model) || !SimulatorWire::supports(model, method)) {
        reply(conn, 404, SimulatorWire::modelNotFound(model, streamRoute ? kRouteGenerate : method), {}, streamRoute);
        return;
    }
    handleModelCall(conn, req, model, method);
}

bool SimulatorServer::checkApiKey(SimHttpConnection *conn, const SimHttpConnection::Request &req, bool streamRoute)
{
    if (m_config.apiKey.isEmpty())
        return true;
    QByteArray key = req.header("x-goog-api-key");
    if (key.isEmpty())
        key = req.queryItem("key");
    if (QString::fromUtf8(key) == m_config.apiKey)
        return true;
    reply(conn, 400, SimulatorWire::apiKeyInvalid(QString::fromUtf8(key)), {}, streamRoute);
    return false;
}

void SimulatorServer::handleModelCall(SimHttpConnection *conn, SimHttpConnection::Request &req,
                                      const QString &model, const QString &method)
{
    if (method == kRouteBatchGenerate) {
        handleBatchCreate(conn, req, model);
        return;
    }
    const bool streamRoute = method == kRouteStream;
    const bool generateRoute = method == kRouteGenerate || streamRoute;
    ServiceTier tier = ServiceTier::Standard;
    SimulatorWork work;
    SimulatorRequestReader::Failure failure;
    if (generateRoute) {
        SimulatorRequestReader::GenerateRequest generate;
        failure = m_reader.readGenerate(req.body, &generate);
        if (failure.isNull()) {
            tier = generate.tier;
            work.stream = streamRoute;
            work.sse = req.queryItem("alt") == "sse";
            m_planner.planGenerate(generate, model, &work);
            if (work.packDropped > 0)
                stat([&work](SimulatorStats &s) { s.faults[QStringLiteral("packDrop")] += work.packDropped; });
        }
    } else if (method == kRouteEmbed || method == kRouteBatchEmbed) {
        QList<SimulatorRequestReader::EmbedRequest> requests;
        const bool batch = method == kRouteBatchEmbed;
        failure = SimulatorRequestReader::readEmbed(req.body, batch, &requests);
        if (failure.isNull())
            SimulatorEmbedPlanner::plan(requests, batch, m_config.embedLatencyMs, &work);
    } else {
        int promptTokens = 0;
        failure = SimulatorRequestReader::readCountTokens(req.body, &promptTokens);
        if (failure.isNull())
            SimulatorPlanner::planCountTokens(promptTokens, &work);
    }
    if (!failure.isNull()) {
        reply(conn, failure.status, failure.body, {}, streamRoute);
        return;
    }

    if (tier == ServiceTier::Flex && m_config.flexShedRate > 0
        && std::uniform_real_distribution<double>(0.0, 1.0)(m_rng) < m_config.flexShedRate) {
        stat([](SimulatorStats &s) { ++s.flexShed; });
        reply(conn, 503, SimulatorWire::flexShed(), {}, streamRoute);
        return;
    }
    if (method != kRouteCount && !admitQuota(conn, model, work.promptTokens, streamRoute, tier))
        return;
    if (generateRoute)
        stat([tier](SimulatorStats &s) { ++s.callsPerTier[tierName(tier)]; });
    if (!passFaults(conn, streamRoute))
        return;

    if (method == kRouteCount) {
        reply(conn, 200, work.body);
        return;
    }
    if (streamRoute && work.sse && m_config.midStreamErrorRate > 0 && !work.chunks.isEmpty()
        && std::uniform_real_distribution<double>(0.0, 1.0)(m_rng) < m_config.midStreamErrorRate) {
        work.failAfterChunk = std::max<int>(1, int(work.chunks.size()) / 2);
        stat([](SimulatorStats &s) { ++s.faults[QStringLiteral("midStreamError")]; });
    }
    auto job = std::make_shared<SimulatorJob>();
    job->conn = conn;
    job->work = std::move(work);
    const double tierFactor = tier == ServiceTier::Flex   ? m_config.flexLatencyFactor
        : tier == ServiceTier::Priority                   ? m_config.priorityLatencyFactor
                                                          : 1.0;
    job->scaledMs = job->work.serviceMs * jitter() * m_config.timeScale * tierFactor;
    m_scheduler->submit(job);
}

bool SimulatorServer::admitQuota(SimHttpConnection *conn, const QString &model, int inputTokens, bool streamRoute,
                                 ServiceTier tier)
{
    const auto minute = std::chrono::duration_cast<SimulatorQuota::Clock::duration>(
        std::chrono::duration<double>(60.0 * m_config.timeScale));
    // Priority requests have a request window of their own (see SimulatorConfig).
    SimulatorModelLimits limits = m_config.limitsFor(model);
    auto pool = SimulatorQuota::Pool::Standard;
    if (tier == ServiceTier::Priority) {
        limits.rpmLimit = m_config.priorityRpmLimit;
        pool = SimulatorQuota::Pool::Priority;
    }
    const SimulatorQuota::Decision d = m_quota.admit(model, inputTokens, limits, minute,
                                                     SimulatorQuota::Clock::now(), pool);
    if (d.allowed)
        return true;
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(d.retryAfter);
    if (m_config.timeScale >= 1.0)
        ms = std::chrono::ceil<std::chrono::seconds>(ms); // real-time quotas speak whole seconds
    const qint64 retrySeconds = std::max<qint64>(1, (ms.count() + 999) / 1000);
    stat([&d](SimulatorStats &s) {
        ++s.rateLimited;
        switch (d.dimension) {
        case SimulatorQuota::Dimension::RequestsPerMinute:
            ++s.rateLimitedRpm;
            break;
        case SimulatorQuota::Dimension::InputTokensPerMinute:
            ++s.rateLimitedTpm;
            break;
        case SimulatorQuota::Dimension::RequestsPerDay:
            ++s.rateLimitedRpd;
            break;
        }
    });
    reply(conn, 429, SimulatorWire::resourceExhausted(model, d.dimension, d.limit, ms),
          {{"Retry-After", QByteArray::number(retrySeconds)}}, streamRoute);
    return false;
}

bool SimulatorServer::passFaults(SimHttpConnection *conn, bool streamRoute)
{
    // One uniform draw decides the fault; the rates are disjoint slices of [0, 1).
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(m_rng);
    double edge = m_config.dropRate;
    if (u < edge) {
        stat([](SimulatorStats &s) { ++s.faults[QStringLiteral("drop")]; });
        conn->drop();
        return false;
    }
    edge += m_config.timeoutRate;
    if (u < edge) {
        stat([](SimulatorStats &s) { ++s.faults[QStringLiteral("timeout")]; });
        QPointer<SimHttpConnection> held(conn);
        const auto hold = std::chrono::milliseconds(qint64(std::llround(m_config.timeoutHoldMs * m_config.timeScale)));
        QTimer::singleShot(hold, this, [held] {
            if (held)
                held->drop();
        });
        return false;
    }
    edge += m_config.http500Rate;
    if (u < edge) {
        stat([](SimulatorStats &s) { ++s.faults[QStringLiteral("http500")]; });
        reply(conn, 500, SimulatorWire::internal(), {}, streamRoute);
        return false;
    }
    edge += m_config.http503Rate;
    if (u < edge) {
        stat([](SimulatorStats &s) { ++s.faults[QStringLiteral("http503")]; });
        reply(conn, 503, SimulatorWire::unavailable(), {}, streamRoute);
        return false;
    }
    return true;
}

double SimulatorServer::jitter()
{
    const double sigma = m_config.jitterSigma;
    if (sigma <= 0)
        return 1.0;
    // exp(N(-sigma^2/2, sigma)) has mean 1, so the mean service time is the configured one.
    return std::exp(std::normal_distribution<double>(-sigma * sigma / 2, sigma)(m_rng));
}

void SimulatorServer::handleBatchCreate(SimHttpConnection *conn, SimHttpConnection::Request &req, const QString &model)
{
    SimulatorRequestReader::BatchRequest batch;
    const SimulatorRequestReader::Failure failure = SimulatorRequestReader::readBatch(req.body, &batch);
    if (!failure.isNull()) {
        reply(conn, failure.status, failure.body);
        return;
    }
    if (!batch.model.isEmpty() && batch.model != QStringLiteral("models/") + model && batch.model != model) {
        reply(conn, 400, SimulatorWire::invalidArgument(
                             QStringLiteral("* BatchGenerateContentRequest.batch.model: batch.model (%1) must name the "
                                            "model of the URL (models/%2) or be left out.\n").arg(batch.model, model)));
        return;
    }
    QList<SimulatorBatches::Member> members;
    members.reserve(batch.members.size());
    for (const SimulatorRequestReader::BatchMember &m : std::as_const(batch.members)) {
        SimulatorBatches::Member member;
        member.metadata = m.metadata;
        SimulatorRequestReader::GenerateRequest generate;
        const SimulatorRequestReader::Failure f = SimulatorRequestReader::readGenerateObject(m.request, &generate);
        if (!f.isNull()) {
            member.error = memberError(f);
        } else {
            SimulatorWork work;
            m_planner.planGenerate(generate, model, &work);
            member.response = QJsonDocument::fromJson(work.body).object();
        }
        members.append(std::move(member));
    }
    const qsizetype count = members.size();
    advanceBatches(); // finished jobs are what a full store gives up
    const SimulatorBatches::Job *job =
        m_batches.create(model, batch.displayName, std::move(members),
                         scaledMs(m_config.batchPendingMs, m_config.timeScale),
                         scaledMs(m_config.batchRunMs, m_config.timeScale), SimulatorBatches::Clock::now(),
                         SimulatorBatches::WallClock::now());
    if (!job) {
        reply(conn, 429, GeminiError::envelopeJson(429, QStringLiteral("RESOURCE_EXHAUSTED"),
                                                   QStringLiteral("Too many batch jobs in progress (the simulator keeps "
                                                                  "at most %1). Wait for some to finish, or cancel some.")
                                                       .arg(SimulatorBatches::kMaxJobs)));
        return;
    }
    const QByteArray body = SimulatorWire::compact(SimulatorBatches::operationJson(*job));
    stat([count](SimulatorStats &s) {
        ++s.batchJobsCreated;
        s.batchRequests += count;
    });
    advanceBatches(); // a job with no pending time is RUNNING at once; publishes the gauges
    reply(conn, 200, body);
}

void SimulatorServer::handleBatches(SimHttpConnection *conn, SimHttpConnection::Request &req)
{
    const QString rest = QString::fromUtf8(req.path.mid(int(sizeof("/v1beta/batches")) - 1));
    const qsizetype colon = rest.indexOf(QLatin1Char(':'));
    const QString id = rest.mid(1, colon < 0 ? -1 : colon - 1);
    const QString action = colon < 0 ? QString() : rest.mid(colon + 1);
    const bool isList = rest.isEmpty() || rest == QLatin1String("/");
    QString route;
    QByteArray verb = "GET";
    if (isList) {
        route = QStringLiteral("listBatches");
    } else if (action.isEmpty() && req.method == "DELETE") {
        route = QStringLiteral("deleteBatch");
        verb = "DELETE";
    } else if (action.isEmpty()) {
        route = QStringLiteral("getBatch");
    } else if (action == QLatin1String("cancel")) {
        route = QStringLiteral("cancelBatch");
        verb = "POST";
    } else {
        route = QStringLiteral("unknown");
    }
    stat([&route](SimulatorStats &s) { ++s.callsPerRoute[route]; });
    if (!checkApiKey(conn, req, false))
        return;
    if (route == QLatin1String("unknown") || (!isList && (id.isEmpty() || id.contains(QLatin1Char('/'))))) {
        reply(conn, 404, GeminiError::envelopeJson(404, QStringLiteral("NOT_FOUND"), QStringLiteral("Method not found.")));
        return;
    }
    if (req.method != verb) {
        reply(conn, 405, GeminiError::envelopeJson(405, QStringLiteral("INVALID_ARGUMENT"),
                                                   QStringLiteral("use %1").arg(QString::fromLatin1(verb))));
        return;
    }
    advanceBatches();
    const QByteArray notFound = GeminiError::envelopeJson(404, QStringLiteral("NOT_FOUND"),
                                                          QStringLiteral("Requested entity was not found."));
    if (isList) {
        // pageToken is the offset into the newest-first list; pageSize 1..1000, default 50.
        bool ok = true;
        const QByteArray sizeText = req.queryItem("pageSize");
        const int pageSize = sizeText.isEmpty() ? 50 : std::clamp(sizeText.toInt(&ok), 1, 1000);
        const QByteArray tokenText = req.queryItem("pageToken");
        bool tokenOk = true;
        const qsizetype offset = tokenText.isEmpty() ? 0 : tokenText.toLongLong(&tokenOk);
        if (!ok || !tokenOk || offset < 0) {
            reply(conn, 400, SimulatorWire::invalidArgument(QStringLiteral("Invalid pageSize or pageToken.")));
            return;
        }
        const QList<const SimulatorBatches::Job *> jobs = m_batches.list();
        QJsonArray operations;
        for (qsizetype i = offset; i < jobs.size() && i < offset + pageSize; ++i)
            operations.append(SimulatorBatches::operationJson(*jobs[i]));
        QJsonObject page{{QStringLiteral("operations"), operations}};
        if (offset + pageSize < jobs.size())
            page.insert(QStringLiteral("nextPageToken"), QString::number(offset + pageSize));
        reply(conn, 200, SimulatorWire::compact(page));
        return;
    }
    if (route == QLatin1String("getBatch")) {
        const SimulatorBatches::Job *job = m_batches.find(id);
        reply(conn, job ? 200 : 404, job ? SimulatorWire::compact(SimulatorBatches::operationJson(*job)) : notFound);
        return;
    }
    if (route == QLatin1String("deleteBatch")) {
        const bool removed = m_batches.remove(id);
        advanceBatches();
        reply(conn, removed ? 200 : 404, removed ? QByteArrayLiteral("{}") : notFound);
        return;
    }
    switch (m_batches.cancel(id, SimulatorBatches::WallClock::now())) {
    case SimulatorBatches::CancelResult::Cancelled:
        stat([](SimulatorStats &s) { ++s.batchJobsCancelled; });
        advanceBatches();
        reply(conn, 200, QByteArrayLiteral("{}"));
        break;
    case SimulatorBatches::CancelResult::NotFound:
        reply(conn, 404, notFound);
        break;
    case SimulatorBatches::CancelResult::AlreadyFinished:
        reply(conn, 400, GeminiError::envelopeJson(400, QStringLiteral("FAILED_PRECONDITION"),
                                                   QStringLiteral("The batch has already finished and cannot be cancelled.")));
        break;
    }
}

void SimulatorServer::advanceBatches()
{
    const auto now = SimulatorBatches::Clock::now();
    const SimulatorBatches::Transitions t = m_batches.advance(now);
    const int pending = m_batches.count(SimulatorBatches::State::Pending);
    const int running = m_batches.count(SimulatorBatches::State::Running);
    stat([&](SimulatorStats &s) {
        s.batchJobsSucceeded += t.succeeded;
        s.batchJobsPending = pending;
        s.batchJobsRunning = running;
    });
    const std::optional<SimulatorBatches::Clock::time_point> next = m_batches.nextDeadline();
    if (!next) {
        m_batchTimer->stop();
        return;
    }
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*next - now);
    m_batchTimer->start(std::max<std::chrono::milliseconds>(wait, std::chrono::milliseconds(0)));
}
