#include "server/routes/geminiroutes.h"

#include "core/engine/batchinferenceengine.h"
#include "core/engine/batchkey.h"
#include "core/gemini/geminiclient.h"
#include "core/gemini/packcodec.h"
#include "core/util/memorybudget.h"
#include "server/gatewayhttpserver.h"
#include "core/engine/streamsink.h"
#include "core/metrics/inferencemetricscollector.h"
#include "server/http/errormapping.h"
#include "server/routes/answercache.h"
#include "server/routes/geminirequestparser.h"
#include "core/engine/tierrouting.h"
#include <QCryptographicHash>

#include <QJsonArray>
#include <QJsonDocument>
#include <QThread>
#include <QUrlQuery>

#include <algorithm>
#include <limits>

namespace {

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace

struct GeminiRoutes::Flight {
    QByteArray key;       // ShareKey when others may join; empty for a stream of its own
    Operation op = Operation::GenerateContent;
    quint64 ticket = 0;   // the engine's, for cancel() while queued
    std::vector<std::shared_ptr<GatewayExchange>> subscribers;
    std::shared_ptr<FlightSink> sink; // streams
    QByteArray soFar;     // a shared stream's bytes so far, replayed to joiners
    bool joinable = true;
    bool done = false;
};

// Upstream thread → server thread: the stream's pieces are collected here
// and one posted event writes whatever came by the time it runs. The end of
// the stream (the engine's completion) takes what is left first, so nothing
// arrives after it.
class GeminiRoutes::FlightSink : public StreamSink
{
public:
    FlightSink(GeminiRoutes *routes, std::shared_ptr<ServerThreadPoster> poster, std::weak_ptr<Flight> flight)
        : m_routes(routes), m_poster(std::move(poster)), m_flight(std::move(flight))
    {
    }
    void data(const QByteArray &bytes) override
    {
        {
            std::lock_guard lock(m_mutex);
            m_pending += bytes;
            if (m_posted)
                return;
            m_posted = true;
        }
        m_poster->post([routes = m_routes, weak = m_flight] {
            if (auto flight = weak.lock())
                routes->flushSink(flight);
        });
    }
    QByteArray take()
    {
        std::lock_guard lock(m_mutex);
        m_posted = false;
        return std::exchange(m_pending, {});
    }

private:
    GeminiRoutes *m_routes;
    std::shared_ptr<ServerThreadPoster> m_poster;
    std::weak_ptr<Flight> m_flight;
    std::mutex m_mutex;
    QByteArray m_pending;
    bool m_posted = false;
};

SteadyTime GeminiRoutes::metadataDeadline() const
{
    return Clock::steady().now() + std::chrono::milliseconds(m_server->deps().engine->config().requestTimeoutMs);
}

std::function<void(InferenceResult)> GeminiRoutes::completion(const std::shared_ptr<GatewayExchange> &ex, Operation op)
{
    return toInbox(ex, nullptr, op);
}

std::function<void(InferenceResult)> GeminiRoutes::toInbox(const std::shared_ptr<GatewayExchange> &ex,
                                                           const std::shared_ptr<Flight> &flight, Operation op)
{
    std::shared_ptr<ServerThreadPoster> poster = m_server->poster();
    std::shared_ptr<Inbox> inbox = m_inbox;
    return [this, poster, inbox, ex, flight, op](InferenceResult result) {
        // Engine or upstream thread: hop to the server thread before touching
        // the exchange. A batch completes its members one after the other, so
        // only the completion that finds the inbox empty posts an event; the
        // server thread then answers everything collected by then at once
        // (one event and one wake-up per batch instead of one per request).
        bool first = false;
        {
            std::lock_guard lock(inbox->mutex);
            first = inbox->items.empty();
            inbox->items.push_back({ex, flight, op, std::move(result)});
        }
        if (first)
            poster->post([this, inbox] { drainInbox(inbox); });
    };
}

void GeminiRoutes::drainInbox(const std::shared_ptr<Inbox> &inbox)
{
    std::vector<Inbox::Item> items;
    {
        std::lock_guard lock(inbox->mutex);
        items.swap(inbox->items);
    }
    for (const Inbox::Item &item : items) {
        if (item.flight)
            flightDone(item.flight, item.result);
        else
            complete(item.exchange, item.op, item.result);
    }
}

std::function<void(InferenceResult)> GeminiRoutes::flightCompletion(const std::shared_ptr<Flight> &flight)
{
    return toInbox(nullptr, flight, flight->op);
}

void GeminiRoutes::finishModelCall(const std::shared_ptr<GatewayExchange> &ex, HttpReply reply)
{
    reply.headers.append({QByteArrayLiteral("X-Sluice-Cache"), QByteArray(ex->cacheHeader)});
    m_server->finish(ex, reply);
}

void GeminiRoutes::complete(const std::shared_ptr<GatewayExchange> &ex, Operation op, const InferenceResult &result)
{
    if (!result.status.ok()) {
        finishModelCall(ex, ErrorMapping::toReply(result.status));
        return;
    }
    HttpReply reply;
    if (!result.bodyJson.isEmpty() && result.chunks.isEmpty()) {
        // Already serialised upstream-side (a packed member): one chunk when streamed.
        if (op != Operation::StreamGenerateContent) {
            reply.body = result.bodyJson;
        } else if (ex->sse) {
            reply.contentType = QByteArrayLiteral("text/event-stream");
            reply.body = "data: " + result.bodyJson + "\r\n\r\n";
        } else {
            reply.body = '[' + result.bodyJson + ']';
        }
    } else if (op == Operation::StreamGenerateContent) {
        const QList<QJsonObject> chunks = result.chunks.isEmpty() ? QList<QJsonObject>{result.body} : result.chunks;
        if (ex->sse) {
            reply.contentType = QByteArrayLiteral("text/event-stream");
            for (const QJsonObject &c : chunks)
                reply.body += "data: " + compact(c) + "\r\n\r\n";
        } else {
            reply.body = "[";
            for (qsizetype i = 0; i < chunks.size(); ++i) {
                if (i)
                    reply.body += ',';
                reply.body += compact(chunks.at(i));
            }
            reply.body += ']';
        }
    } else {
        reply.body = compact(result.body);
    }
    reply.headers.append({QByteArrayLiteral("X-Sluice-Tier"), tierHeader(result.tier)});
    const GatewayDeps &deps = m_server->deps();
    if (!ex->cacheKey.isEmpty() && deps.cache && op != Operation::StreamGenerateContent)
        deps.cache->insert(ex->cacheKey, reply.body);
    if (deps.metrics && (op == Operation::GenerateContent || op == Operation::StreamGenerateContent))
        deps.metrics->recordFirstToken(operationName(op), ex->model, Clock::steady().now() - ex->arrived);
    finishModelCall(ex, std::move(reply));
}

GeminiRoutes::GeminiRoutes(GatewayHttpServer *server) : m_server(server)
{
    // One thread below the others' priority: a burst of huge bodies is
    // parsed one after the other while the server thread (health checks,
    // small requests) and the engine keep the CPU they need.
    m_parsers.setMaxThreadCount(1);
    m_parsers.setThreadPriority(QThread::LowPriority);
    m_parsers.setObjectName(QStringLiteral("sluice-parse"));
}

GeminiRoutes::~GeminiRoutes()
{
    m_parsers.waitForDone(); // their results are dropped: the poster is detached by then
}

GeminiRoutes::Parsed GeminiRoutes::parse(const CallInput &in, const QByteArray &raw, MemoryBudget *memory)
{
    Parsed out;
    if (memory && raw.size() > 4096) {
        // Every '{' and '[' becomes a container once parsed (a '{' inside a
        // string overcounts, which errs on the safe side).
        qint64 containers = 0;
        for (char c : raw)
            containers += (c == '{') | (c == '[');
        out.surcharge = containers * kBytesPerJsonContainer;
        if (!memory->tryCharge(out.surcharge)) {
            out.surcharge = 0;
            out.overBudget = true;
            return out;
        }
    }
    QJsonObject body;
    out.error = GeminiRequestParser::parseBody(in.op, in.contentType, raw, &body);
    if (!out.error.isNull())
        return out;
    InferenceRequest &req = out.request;
    req.model = in.model;
    req.operation = in.op;
    req.batchKey = BatchKey::compute(in.model, in.op, body);
    req.body = std::move(body);
    req.bodyBytes = int(std::min<qsizetype>(raw.size(), std::numeric_limits<int>::max())); // spares re-serialising it for the estimate
    req.wantsBodyJson = true; // complete() writes result.bodyJson as is
    req.packable = in.op != Operation::CountTokens && !in.packOff;
    PackCodec::markPackability(req); // here, while the body is hot in cache; not again per batch
    return out;
}

void GeminiRoutes::modelCall(const std::shared_ptr<GatewayExchange> &ex, const QHttpServerRequest &request,
                             const QString &rawModel, Operation op, const QUrl &url)
{
    CallInput in;
    in.model = rawModel.startsWith(QLatin1String("models/")) ? rawModel.mid(7) : rawModel;
    in.op = op;
    in.contentType = request.value(QByteArrayLiteral("content-type"));
    in.deadline = request.value(QByteArrayLiteral("x-request-deadline-ms"));
    in.packOff = request.value(QByteArrayLiteral("x-sluice-pack")).trimmed().toLower() == "off";
    const QUrlQuery query(url);
    in.sse = op == Operation::StreamGenerateContent && query.queryItemValue(QStringLiteral("alt")) == QLatin1String("sse");
    in.coalesce = ShareKey::coalesceHeader(request.value(QByteArrayLiteral("x-sluice-coalesce")));
    const QByteArray cacheControl = request.value(QByteArrayLiteral("cache-control")).toLower();
    in.noStore = cacheControl.contains("no-store");
    in.noCache = in.noStore || cacheControl.contains("no-cache");
    in.scope = request.value(QByteArrayLiteral("x-goog-api-key"));
    if (in.scope.isEmpty())
        in.scope = query.queryItemValue(QStringLiteral("key"), QUrl::FullyDecoded).toUtf8();
    // The scheduling headers in one pass (most requests carry none of them).
    for (const auto &[name, value] : request.headers()) {
        if (name.size() == 6 && name.compare("prefer", Qt::CaseInsensitive) == 0)
            in.preferAsync = value.toLower().contains("respond-async");
        if (name.size() < 15 || QByteArrayView(name).first(9).compare("x-sluice-", Qt::CaseInsensitive) != 0)
            continue;
        const QByteArrayView rest = QByteArrayView(name).sliced(9);
        if (rest.compare("priority", Qt::CaseInsensitive) == 0)
            in.priority = value;
        else if (rest.compare("tenant", Qt::CaseInsensitive) == 0)
            in.tenant = value;
        else if (rest.compare("deadline", Qt::CaseInsensitive) == 0)
            in.waitFor = value;
    }
    const QByteArray raw = request.body(); // implicitly shared: no copy
    MemoryBudget *memory = m_server->deps().memory;
    if (raw.size() < kParseOffThreadBytes) {
        proceed(ex, in, parse(in, raw, memory));
        return;
    }
    // A large body: parsed on a pool thread, the server thread goes on
    // answering meanwhile. The exchange waits in the closure; the result is
    // posted back (dropped when the server is gone).
    std::shared_ptr<ServerThreadPoster> poster = m_server->poster();
    m_parsers.start([this, poster, ex, in, raw, memory] {
        Parsed parsed = parse(in, raw, memory);
        poster->post([this, ex, in, parsed = std::move(parsed)]() mutable { proceed(ex, in, std::move(parsed)); });
    });
}

void GeminiRoutes::proceed(const std::shared_ptr<GatewayExchange> &ex, const CallInput &in, Parsed parsed)
{
    // Whatever happens next, the surcharge is the exchange's until it goes.
    if (parsed.surcharge > 0) {
        ex->memory = m_server->deps().memory;
        ex->memoryCharge = parsed.surcharge;
    }
    if (parsed.overBudget) {
        MemoryBudget *memory = m_server->deps().memory;
        finishModelCall(ex, ErrorMapping::toReply(Status::error(
                                 StatusCode::Unavailable,
                                 QStringLiteral("the gateway holds %1 MiB of admitted work, its memory budget of %2 MiB "
                                                "(server.memoryBudgetBytes), and parsing this body would exceed it; retry "
                                                "after the indicated delay")
                                     .arg(memory->used() / (1024 * 1024)).arg(memory->limit() / (1024 * 1024)))));
        return;
    }
    const auto refuse = [this, &ex](const GeminiRequestParser::Error &perr) {
        QJsonArray details;
        if (!perr.field.isEmpty())
            details.append(QJsonObject{{QStringLiteral("@type"), QStringLiteral("type.googleapis.com/google.rpc.BadRequest")},
                                       {QStringLiteral("fieldViolations"),
                                        QJsonArray{QJsonObject{{QStringLiteral("field"), perr.field},
                                                               {QStringLiteral("description"), perr.message}}}}});
        finishModelCall(ex, ErrorMapping::toReply(Status::error(StatusCode::InvalidArgument, perr.message),
                                                   perr.httpStatus == 400 ? 0 : perr.httpStatus, details));
    };
    if (!parsed.error.isNull()) {
        refuse(parsed.error);
        return;
    }

    std::optional<std::chrono::milliseconds> timeout;
    if (!in.deadline.isEmpty()) {
        std::chrono::milliseconds ms{0};
        const GeminiRequestParser::Error derr = GeminiRequestParser::parseDeadlineHeader(in.deadline, &ms);
        if (!derr.isNull()) {
            refuse(derr);
            return;
        }
        timeout = ms; // the engine clamps it to requestTimeoutMs
    }

    InferenceRequest req = std::move(parsed.request);
    std::optional<std::chrono::milliseconds> declared;
    if (const GeminiRequestParser::Error serr = schedule(in, req, &declared); !serr.isNull()) {
        refuse(serr);
        return;
    }
    if (declared) {
        // X-Sluice-Deadline sets the deadline; X-Request-Deadline-Ms, when
        // also given, can only shorten it.
        timeout = timeout ? std::min(*timeout, *declared) : *declared;
        req.deadlineDeclared = true;
    }

    const GatewayDeps &deps = m_server->deps();
    if (deps.client) {
        const CircuitBreaker::Snapshot circuit = deps.client->circuit();
        if (circuit.state == CircuitBreaker::State::Open) {
            if (deps.metrics)
                deps.metrics->recordRejection(RejectReason::CircuitOpen);
            finishModelCall(ex, ErrorMapping::toReply(Status::rejected(
                                     RejectReason::CircuitOpen,
                                     QStringLiteral("the upstream is failing (circuit open); retry after the indicated delay"),
                                     std::max(circuit.retryAfter, std::chrono::milliseconds(1000)))));
            return;
        }
    }

    ex->sse = in.sse;
    ex->model = in.model;
    ex->op = in.op;
    req.timeout = timeout;
    if (req.tier == ServiceTier::Batch) {
        toBatchMode(ex, in, std::move(req), timeout.value_or(*declared));
        return;
    }
    const Operation op = in.op;
    const bool stream = op == Operation::StreamGenerateContent;

    // The answer cache (non-streaming answers only), then in-flight
    // coalescing: both keyed by ShareKey, computed only when one of them
    // may act on this request.
    AnswerCache *cache = deps.cache && deps.cache->enabled() && !stream ? deps.cache : nullptr;
    const bool share = ShareKey::sharable(op, req.body, in.coalesce);
    QByteArray key;
    if (share || (cache && !in.noStore))
        key = ShareKey::compute(in.model, op, req.body, in.scope);
    if (cache) {
        if (!in.noCache) {
            if (std::optional<AnswerCache::Hit> hit = cache->find(key)) {
                ex->cacheHeader = "hit";
                if (deps.metrics) {
                    deps.metrics->recordCacheLookup(CacheLookup::Hit);
                    if (op == Operation::GenerateContent)
                        deps.metrics->recordFirstToken(operationName(op), ex->model, Clock::steady().now() - ex->arrived);
                }
                HttpReply reply;
                reply.body = std::move(hit->body);
                reply.headers.append({QByteArrayLiteral("Age"), QByteArray::number(qint64(hit->age.count()))});
                finishModelCall(ex, std::move(reply));
                return;
            }
            ex->cacheHeader = "miss";
        }
        if (!in.noStore)
            ex->cacheKey = key;
        if (deps.metrics)
            deps.metrics->recordCacheLookup(in.noCache ? CacheLookup::Bypass : CacheLookup::Miss);
    }
    if (stream && deps.metrics && deps.cache && deps.cache->enabled())
        deps.metrics->recordCacheLookup(CacheLookup::Bypass); // streams are never cached
    if (share) {
        const auto it = m_flights.find(key);
        if (it != m_flights.end() && it->second->joinable && !it->second->done) {
            join(it->second, ex);
            return;
        }
    }
    if (stream || share) {
        startFlight(ex, std::move(req), share ? key : QByteArray());
        return;
    }
    ex->requestBody = req.body;
    ex->requestText = req.packText;

    const BatchInferenceEngine::Ticket ticket = deps.engine->submit(std::move(req), completion(ex, op));
    if (ticket.admitted && ex->socket) {
        ex->ticket = ticket.id;
        BatchInferenceEngine *engine = deps.engine;
        std::weak_ptr<GatewayExchange> weak = ex;
        ex->onDisconnect = QObject::connect(ex->socket.data(), &QAbstractSocket::disconnected, m_server, [weak, engine] {
            if (auto e = weak.lock(); e && !e->written && e->ticket)
                engine->cancel(e->ticket);
        });
    }
}

QByteArray GeminiRoutes::tierHeader(ServiceTier tier)
{
    // Literals: no allocation per answer.
    switch (tier) {
    case ServiceTier::Flex: return QByteArrayLiteral("flex");
    case ServiceTier::Priority: return QByteArrayLiteral("priority");
    case ServiceTier::Batch: return QByteArrayLiteral("batch");
    case ServiceTier::Standard: break;
    }
    return QByteArrayLiteral("standard");
}

QByteArray GeminiRoutes::ownerOf(const QByteArray &scope)
{
    return scope.isEmpty() ? QByteArray() : QCryptographicHash::hash(scope, QCryptographicHash::Sha256);
}

GeminiRequestParser::Error GeminiRoutes::schedule(const CallInput &in, InferenceRequest &req,
                                                  std::optional<std::chrono::milliseconds> *declared)
{
    const GatewayDeps &deps = m_server->deps();
    const auto bad = [](const char *header, const QString &message) {
        return GeminiRequestParser::Error{400, QString::fromLatin1(header), message};
    };
    // The tenant: a name it gives, else its API key's digest, else anonymous.
    const QString named = QString::fromUtf8(in.tenant.trimmed());
    if (!in.tenant.isEmpty() && !isValidTenantName(named))
        return bad("X-Sluice-Tenant", QStringLiteral("X-Sluice-Tenant must be 1 to 64 letters, digits, '.', '_' or '-' "
                                                     "and must not start with \"key-\" (those name API keys)"));
    req.tenant = !named.isEmpty() ? named : in.scope.isEmpty() ? QString() : tenantIdForKey(in.scope);
    const TenantsConfig &tenants = deps.tenants;
    const TenantPolicy &policy = tenants.policyFor(req.tenant);

    req.priority = policy.priority;
    if (!in.priority.isEmpty()) {
        const auto cls = priorityClassFromName(QString::fromLatin1(in.priority.trimmed()));
        if (!cls)
            return bad("X-Sluice-Priority", QStringLiteral("X-Sluice-Priority must be interactive, standard or background"));
        req.priority = *cls;
    }
    *declared = policy.deadline ? policy.deadline : tenants.classDeadlines[size_t(req.priority)];
    if (!in.waitFor.isEmpty()) {
        const auto d = parseDuration(QString::fromLatin1(in.waitFor));
        if (!d || d->count() <= 0)
            return bad("X-Sluice-Deadline", QStringLiteral("X-Sluice-Deadline must be a duration such as 90s, 30m or 6h "
                                                           "(ms, s, m, h, d; more than 0, at most 7d)"));
        *declared = d;
    }

    // The tier the body names, if it names one, is the client's choice.
    std::optional<ServiceTier> bodyTier;
    const QJsonValue named2 = req.body.value(QLatin1StringView("serviceTier"));
    if (!named2.isUndefined()) {
        const auto t = named2.isString() ? serviceTierFromName(named2.toString()) : std::nullopt;
        if (!t || *t == ServiceTier::Batch)
            return GeminiRequestParser::Error{400, QStringLiteral("serviceTier"),
                                              QStringLiteral("serviceTier must be \"standard\", \"flex\" or \"priority\"")};
        bodyTier = t;
    }
    req.tier = TierRouting::choose(req.operation, bodyTier, *declared, deps.tiers,
                                   *declared ? deps.engine->observedFlexSeconds() : std::nullopt);
    if (req.tier == ServiceTier::Flex && !bodyTier) {
        req.body.insert(QStringLiteral("serviceTier"), QStringLiteral("flex"));
        req.flexFallback = true;
        req.batchKey = BatchKey::compute(req.model, req.operation, req.body);
        req.packableChecked = false;
        PackCodec::markPackability(req);
    }
    return {};
}

void GeminiRoutes::toBatchMode(const std::shared_ptr<GatewayExchange> &ex, const CallInput &in, InferenceRequest req,
                               std::chrono::milliseconds declared)
{
    if (!m_batchMode) {
        const GatewayDeps &deps = m_server->deps();
        m_batchMode = std::make_unique<BatchModeCollector>(deps.client->config().baseUrl, deps.client->config().apiKey,
                                                           deps.engine, deps.metrics, deps.batchStats, m_server->poster(),
                                                           deps.memory);
        m_batchMode->setConfig(deps.tiers);
    }
    const SteadyTime deadline = Clock::steady().now() + declared;
    std::function<void(InferenceResult)> done;
    if (!in.preferAsync)
        done = [this, ex](InferenceResult result) { complete(ex, Operation::GenerateContent, result); };
    const BatchModeCollector::Admission a = m_batchMode->submit(std::move(req), ownerOf(in.scope), deadline, done);
    if (!a.refusal.ok()) {
        finishModelCall(ex, ErrorMapping::toReply(a.refusal));
        return;
    }
    if (in.preferAsync) {
        HttpReply reply;
        reply.status = 202;
        reply.body = QJsonDocument(*m_batchMode->operation(a.operation, ownerOf(in.scope))).toJson(QJsonDocument::Compact);
        reply.headers.append({QByteArrayLiteral("X-Sluice-Tier"), tierHeader(ServiceTier::Batch)});
        finishModelCall(ex, std::move(reply));
        return;
    }
    if (ex->socket) {
        BatchModeCollector *collector = m_batchMode.get();
        const QString name = a.operation;
        std::weak_ptr<GatewayExchange> weak = ex;
        ex->onDisconnect = QObject::connect(ex->socket.data(), &QAbstractSocket::disconnected, m_server,
                                            [weak, collector, name] {
                                                if (auto e = weak.lock(); e && !e->written)
                                                    collector->detach(name);
                                            });
    }
}

void GeminiRoutes::getBatch(const std::shared_ptr<GatewayExchange> &ex, const QHttpServerRequest &request,
                            const QString &id, const QUrl &url)
{
    QByteArray scope = request.value(QByteArrayLiteral("x-goog-api-key"));
    if (scope.isEmpty())
        scope = QUrlQuery(url).queryItemValue(QStringLiteral("key"), QUrl::FullyDecoded).toUtf8();
    const QString name = QStringLiteral("batches/") + id;
    std::optional<QJsonObject> op = m_batchMode ? m_batchMode->operation(name, ownerOf(scope)) : std::nullopt;
    if (!op) {
        m_server->finish(ex, ErrorMapping::toReply(Status::error(
                                 StatusCode::NotFound,
                                 QStringLiteral("%1 is not a Batch Mode operation of this API key in Sluice (Sluice "
                                                "serves the operations of requests it gathered into Batch Mode jobs; "
                                                "operations are kept 24 hours after they end)")
                                     .arg(name))));
        return;
    }
    HttpReply reply;
    reply.body = QJsonDocument(*op).toJson(QJsonDocument::Compact);
    m_server->finish(ex, reply);
}

void GeminiRoutes::startFlight(const std::shared_ptr<GatewayExchange> &ex, InferenceRequest req, const QByteArray &key)
{
    const GatewayDeps &deps = m_server->deps();
    auto flight = std::make_shared<Flight>();
    flight->key = key;
    flight->op = ex->op;
    flight->subscribers.push_back(ex);
    if (flight->op == Operation::StreamGenerateContent) {
        flight->sink = std::make_shared<FlightSink>(this, m_server->poster(), flight);
        req.stream = flight->sink;
    }
    ex->requestBody = req.body;
    ex->requestText = req.packText;
    const BatchInferenceEngine::Ticket ticket = deps.engine->submit(std::move(req), flightCompletion(flight));
    if (!ticket.admitted)
        return; // its completion (the refusal) is on its way
    flight->ticket = ticket.id;
    if (!key.isEmpty())
        m_flights.insert_or_assign(key, flight);
    watchDisconnect(flight, ex);
}

void GeminiRoutes::join(const std::shared_ptr<Flight> &flight, const std::shared_ptr<GatewayExchange> &ex)
{
    ex->joined = true;
    flight->subscribers.push_back(ex);
    watchDisconnect(flight, ex);
    if (!flight->soFar.isEmpty())
        writeStream(ex, flight->soFar); // a late joiner: the events so far, then live ones
}

void GeminiRoutes::watchDisconnect(const std::shared_ptr<Flight> &flight, const std::shared_ptr<GatewayExchange> &ex)
{
    if (!ex->socket)
        return;
    std::weak_ptr<Flight> weakFlight = flight;
    std::weak_ptr<GatewayExchange> weakEx = ex;
    ex->onDisconnect = QObject::connect(ex->socket.data(), &QAbstractSocket::disconnected, m_server, [this, weakFlight, weakEx] {
        const auto f = weakFlight.lock();
        const auto e = weakEx.lock();
        if (f && e && !e->written)
            leave(f, e);
    });
}

void GeminiRoutes::leave(const std::shared_ptr<Flight> &flight, const std::shared_ptr<GatewayExchange> &ex)
{
    auto &subs = flight->subscribers;
    subs.erase(std::remove(subs.begin(), subs.end(), ex), subs.end());
    if (!subs.empty() || flight->done)
        return;
    // Nobody wants the answer any more: not queued, not on the wire.
    forget(flight);
    if (flight->ticket)
        m_server->deps().engine->cancel(flight->ticket);
    if (flight->sink)
        flight->sink->cancel();
}

void GeminiRoutes::forget(const std::shared_ptr<Flight> &flight)
{
    if (flight->key.isEmpty())
        return;
    const auto it = m_flights.find(flight->key);
    if (it != m_flights.end() && it->second == flight)
        m_flights.erase(it);
}

void GeminiRoutes::flushSink(const std::shared_ptr<Flight> &flight)
{
    if (flight->done || !flight->sink)
        return;
    const QByteArray bytes = flight->sink->take();
    if (!bytes.isEmpty())
        deliver(flight, bytes);
}

void GeminiRoutes::deliver(const std::shared_ptr<Flight> &flight, const QByteArray &bytes)
{
    if (!flight->key.isEmpty() && flight->joinable) {
        flight->soFar += bytes;
        if (flight->soFar.size() > kMaxReplayBytes) {
            flight->joinable = false;
            flight->soFar = QByteArray();
            forget(flight);
        }
    }
    // A copy: a subscriber whose write fails may leave (and edit the list) meanwhile.
    const std::vector<std::shared_ptr<GatewayExchange>> subs = flight->subscribers;
    for (const auto &ex : subs)
        writeStream(ex, bytes);
}

QByteArray GeminiRoutes::arrayPieces(GatewayExchange &ex, const QByteArray &bytes, bool end)
{
    if (!ex.arrayParser)
        ex.arrayParser = std::make_unique<SseParser>();
    QList<QJsonObject> events = ex.arrayParser->feed(bytes);
    if (end)
        events += ex.arrayParser->finish();
    QByteArray out;
    for (const QJsonObject &e : std::as_const(events)) {
        out += ex.arrayOpen ? QByteArrayLiteral(",\r\n") : QByteArrayLiteral("[");
        ex.arrayOpen = true;
        out += compact(e);
    }
    return out;
}

void GeminiRoutes::writeStream(const std::shared_ptr<GatewayExchange> &ex, const QByteArray &bytes)
{
    if (ex->written)
        return;
    const QByteArray out = ex->sse ? bytes : arrayPieces(*ex, bytes, false);
    if (out.isEmpty())
        return;
    if (ex->streaming) {
        m_server->streamData(ex, out);
        return;
    }
    HttpReply head;
    head.contentType = ex->sse ? QByteArrayLiteral("text/event-stream") : QByteArrayLiteral("application/json");
    head.headers.append({QByteArrayLiteral("X-Sluice-Cache"), QByteArray(ex->cacheHeader)});
    m_server->beginStream(ex, head, out);
    if (InferenceMetricsCollector *metrics = m_server->deps().metrics)
        metrics->recordFirstToken(operationName(ex->op), ex->model, Clock::steady().now() - ex->arrived);
}

void GeminiRoutes::endStream(const std::shared_ptr<GatewayExchange> &ex, const InferenceResult &result)
{
    if (ex->written)
        return;
    if (!ex->streaming) {
        // Nothing reached this client yet: an ordinary answer (an HTTP
        // error status, or the events collected, when there were any).
        complete(ex, Operation::StreamGenerateContent, result);
        return;
    }
    QByteArray tail = ex->sse ? QByteArray() : arrayPieces(*ex, {}, true);
    const bool failed = !result.status.ok();
    if (failed && !result.streamErrorSent) {
        // As Gemini ends a stream that fails after it began: an error
        // event (the usual error envelope), then the connection closes.
        QByteArray error = ErrorMapping::toReply(result.status).body;
        if (error.contains('\n'))
            error = QJsonDocument::fromJson(error).toJson(QJsonDocument::Compact);
        if (ex->sse)
            tail += "data: " + error + "\r\n\r\n";
        else
            tail += (ex->arrayOpen ? QByteArrayLiteral(",\r\n") : QByteArrayLiteral("[")) + error;
        ex->arrayOpen = true;
    }
    if (!ex->sse)
        tail += ex->arrayOpen ? QByteArrayLiteral("]") : QByteArrayLiteral("[]");
    m_server->endStream(ex, tail, failed);
}

void GeminiRoutes::flightDone(const std::shared_ptr<Flight> &flight, const InferenceResult &result)
{
    flushSink(flight); // pieces still on their way come before the end
    flight->done = true;
    forget(flight);
    const std::vector<std::shared_ptr<GatewayExchange>> subs = std::move(flight->subscribers);
    flight->subscribers.clear();
    flight->soFar = QByteArray();
    int joinedOk = 0;
    for (const auto &ex : subs) {
        if (flight->op == Operation::StreamGenerateContent)
            endStream(ex, result);
        else
            complete(ex, flight->op, result);
        joinedOk += ex->joined && result.status.ok() ? 1 : 0;
    }
    if (joinedOk > 0) {
        if (InferenceMetricsCollector *metrics = m_server->deps().metrics)
            metrics->recordCoalesced(joinedOk);
    }
}

void GeminiRoutes::listModels(const std::shared_ptr<GatewayExchange> &ex, const QUrl &url)
{
    const QUrlQuery q(url);
    const int pageSize = q.queryItemValue(QStringLiteral("pageSize")).toInt();
    const QString pageToken = q.queryItemValue(QStringLiteral("pageToken"));
    GeminiClient *client = m_server->deps().client;
    serveMetadata(ex, QStringLiteral("list?pageSize=%1&pageToken=%2").arg(pageSize).arg(pageToken),
                  [client, pageSize, pageToken](SteadyTime deadline, std::function<void(InferenceResult)> done) {
                      client->listModels(pageSize, pageToken, deadline, std::move(done));
                  });
}

void GeminiRoutes::getModel(const std::shared_ptr<GatewayExchange> &ex, const QString &model)
{
    GeminiClient *client = m_server->deps().client;
    serveMetadata(ex, QStringLiteral("get/") + model,
                  [client, model](SteadyTime deadline, std::function<void(InferenceResult)> done) {
                      client->getModel(model, deadline, std::move(done));
                  });
}

void GeminiRoutes::serveMetadata(const std::shared_ptr<GatewayExchange> &ex, const QString &key,
                                 const MetadataFetch &fetch)
{
    const SteadyTime now = Clock::steady().now();
    auto it = m_metadata.find(key);
    if (it != m_metadata.end() && it->second.fetching) {
        it->second.waiting.push_back(ex);
        return;
    }
    if (it != m_metadata.end() && it->second.expires > now) {
        complete(ex, Operation::CountTokens, it->second.answer); // plain JSON, like countTokens
        return;
    }
    // An upstream call is needed: admitted like any other.
    const GatewayDeps &deps = m_server->deps();
    Status refusal;
    if (deps.engine->isDraining()) {
        refusal = Status::rejected(RejectReason::Draining,
                                   QStringLiteral("Sluice is draining for shutdown and admits no new work; retry against another instance or after the restart"),
                                   std::max(deps.engine->retryAfterHint(), std::chrono::milliseconds(1000)));
    } else if (m_metadataFetches >= kMaxMetadataFetches) {
        refusal = Status::rejected(RejectReason::QueueFull,
                                   QStringLiteral("Sluice is already fetching %1 model-metadata answers from the upstream; retry after the indicated delay")
                                       .arg(m_metadataFetches),
                                   std::chrono::milliseconds(1000));
    }
    if (!refusal.ok()) {
        if (deps.metrics)
            deps.metrics->recordRejection(refusal.reason);
        m_server->finish(ex, ErrorMapping::toReply(refusal));
        return;
    }
    if (it == m_metadata.end()) {
        if (m_metadata.size() >= size_t(kMaxMetadataEntries)) {
            for (auto e = m_metadata.begin(); e != m_metadata.end();)
                e = !e->second.fetching && e->second.expires <= now ? m_metadata.erase(e) : std::next(e);
        }
        it = m_metadata.emplace(key, MetadataEntry{}).first;
    }
    MetadataEntry &entry = it->second;
    entry.fetching = true;
    entry.waiting = {ex};
    ++m_metadataFetches;
    std::shared_ptr<ServerThreadPoster> poster = m_server->poster();
    fetch(metadataDeadline(), [this, poster, key](InferenceResult result) {
        // Upstream thread: hop to the server thread, which owns the cache.
        poster->post([this, key, result = std::move(result)] { metadataFetched(key, result); });
    });
}

void GeminiRoutes::metadataFetched(const QString &key, const InferenceResult &result)
{
    --m_metadataFetches;
    auto it = m_metadata.find(key);
    if (it == m_metadata.end())
        return;
    std::vector<std::shared_ptr<GatewayExchange>> waiting = std::move(it->second.waiting);
    const bool missing = result.status.code == StatusCode::NotFound;
    if ((result.status.ok() || missing) && m_metadata.size() <= size_t(kMaxMetadataEntries)) {
        MetadataEntry &entry = it->second;
        entry.fetching = false;
        entry.answer = result;
        entry.expires = Clock::steady().now() + (missing ? kMissingModelTtl : kMetadataTtl);
    } else {
        m_metadata.erase(it); // a passing failure (or no room): asked again next time
    }
    for (const auto &ex : waiting)
        complete(ex, Operation::CountTokens, result);
}
