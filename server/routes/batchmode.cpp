#include "server/routes/batchmode.h"

#include "core/engine/batchinferenceengine.h"
#include "core/gemini/geminierror.h"
#include "core/metrics/inferencemetricscollector.h"
#include "core/util/memorybudget.h"
#include "server/gatewayhttpserver.h"
#include "server/http/errormapping.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRandomGenerator>

Q_LOGGING_CATEGORY(lcBatchMode, "sluice.batchmode", QtInfoMsg)

using namespace std::chrono;

namespace {

const QString kBatchType = QStringLiteral("type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch");
const QString kOutputType =
    QStringLiteral("type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput");

QString rfc3339(const QDateTime &t)
{
    // Google writes nanoseconds; Qt keeps milliseconds.
    return t.toUTC().toString(QStringLiteral("yyyy-MM-ddThh:mm:ss.zzz")) + QStringLiteral("000000Z");
}

QJsonObject errorObject(const Status &status)
{
    const QJsonObject envelope = QJsonDocument::fromJson(ErrorMapping::toReply(status).body).object();
    return envelope.value(QLatin1StringView("error")).toObject();
}

int tokensOf(const QJsonObject &response, const char *field)
{
    return response.value(QLatin1StringView("usageMetadata")).toObject().value(QLatin1StringView(field)).toInt();
}

} // namespace

BatchModeCollector::BatchModeCollector(QUrl upstream, QByteArray apiKey, BatchInferenceEngine *engine,
                                       InferenceMetricsCollector *metrics, std::shared_ptr<BatchModeStats> stats,
                                       std::shared_ptr<ServerThreadPoster> poster, MemoryBudget *memory,
                                       QObject *parent)
    : QObject(parent)
    , m_upstream(std::move(upstream))
    , m_apiKey(std::move(apiKey))
    , m_engine(engine)
    , m_metrics(metrics)
    , m_stats(stats ? std::move(stats) : std::make_shared<BatchModeStats>())
    , m_poster(std::move(poster))
    , m_memory(memory)
{
}

BatchModeCollector::~BatchModeCollector()
{
    // The gateway is going away with its connections: nothing is delivered
    // from here (the server may be half destroyed); what the budget holds
    // for the requests still waiting is given back.
    for (Operation &op : m_operations) {
        op.deliver = nullptr;
        if (m_memory && op.charged > 0)
            m_memory->release(op.charged);
        op.charged = 0;
    }
}

void BatchModeCollector::setConfig(const TierRoutingConfig &config)
{
    m_config = config;
    std::lock_guard lock(m_stats->mutex);
    m_stats->state.enabled = config.batch;
}

BatchModeCollector::Admission BatchModeCollector::submit(InferenceRequest request, const QByteArray &owner,
                                                         SteadyTime deadline, std::function<void(InferenceResult)> done)
{
    Admission a;
    if (m_waiting >= m_config.batchMaxWaiting) {
        a.refusal = Status::rejected(RejectReason::QueueFull,
                                     QStringLiteral("Sluice holds %1 requests for Batch Mode jobs, its limit "
                                                    "(tiers.batchMaxWaiting); retry after the indicated delay")
                                         .arg(m_waiting),
                                     duration_cast<milliseconds>(m_config.batchMaxAge));
        return a;
    }
    const qint64 bytes = request.bodyBytes > 0 ? request.bodyBytes
                                               : QJsonDocument(request.body).toJson(QJsonDocument::Compact).size();
    const qint64 charge = 2 * bytes + 1024;
    if (m_memory && !m_memory->tryCharge(charge)) {
        a.refusal = Status::error(StatusCode::Unavailable,
                                  QStringLiteral("the gateway holds %1 MiB of admitted work, its memory budget of %2 MiB "
                                                 "(server.memoryBudgetBytes), and holding this request for a Batch Mode "
                                                 "job would exceed it; retry after the indicated delay")
                                      .arg(m_memory->used() / (1024 * 1024))
                                      .arg(m_memory->limit() / (1024 * 1024)));
        a.refusal.retryAfter = duration_cast<milliseconds>(m_config.batchMaxAge);
        return a;
    }
    const QDateTime now = QDateTime::currentDateTimeUtc();
    Operation op;
    op.charged = m_memory ? charge : 0;
    const quint64 r1 = QRandomGenerator::system()->generate64();
    op.name = QStringLiteral("batches/sluice-%1").arg(r1, 16, 16, QLatin1Char('0'));
    op.owner = owner;
    op.model = request.model;
    op.created = op.updated = now;
    op.deliver = std::move(done);
    a.operation = op.name;
    m_operations.insert(op.name, op);
    m_operationOrder.push_back(op.name);

    std::shared_ptr<Job> &job = m_open[request.model];
    if (!job) {
        job = std::make_shared<Job>();
        job->serial = m_nextSerial++;
        job->model = request.model;
        job->timer.setSingleShot(true);
        std::weak_ptr<Job> weak = job;
        connect(&job->timer, &QTimer::timeout, this, [this, weak] {
            if (auto j = weak.lock())
                j->sent ? poll(j) : flush(j);
        });
        job->timer.start(m_config.batchMaxAge);
    }
    request.body.remove(QLatin1StringView("serviceTier"));
    job->members.push_back({op.name, std::move(request), deadline, false});
    job->bytes += bytes;
    ++m_waiting;
    if (int(job->members.size()) >= m_config.batchMaxRequests || job->bytes >= m_config.batchMaxBytes)
        flush(std::shared_ptr<Job>(job));
    updateStats();
    prune();
    return a;
}

void BatchModeCollector::detach(const QString &operation)
{
    auto it = m_operations.find(operation);
    if (it != m_operations.end())
        it->deliver = nullptr;
}

QNetworkReply *BatchModeCollector::send(const QString &path, const QByteArray &body)
{
    QUrl url = m_upstream;
    QString base = url.path();
    if (base.endsWith(QLatin1Char('/')))
        base.chop(1);
    url.setPath(base + path);
    QNetworkRequest req(url);
    req.setTransferTimeout(60000);
    if (!m_apiKey.isEmpty())
        req.setRawHeader(QByteArrayLiteral("x-goog-api-key"), m_apiKey);
    if (body.isNull())
        return m_net.get(req);
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    return m_net.post(req, body);
}

void BatchModeCollector::flush(const std::shared_ptr<Job> &job)
{
    if (job->sent)
        return;
    auto it = m_open.find(job->model);
    if (it != m_open.end() && *it == job)
        m_open.erase(it);
    job->sent = true;
    job->timer.stop();
    m_running.push_back(job);
    expireMembers(job);

    QJsonArray requests;
    for (const Member &m : job->members) {
        if (m.answered)
            continue;
        requests.append(QJsonObject{{QStringLiteral("request"), m.request.body},
                                    {QStringLiteral("metadata"), QJsonObject{{QStringLiteral("key"), m.operation}}}});
    }
    if (requests.isEmpty()) {
        finishJob(job);
        return;
    }
    const QJsonObject body{
        {QStringLiteral("batch"),
         QJsonObject{{QStringLiteral("displayName"), QStringLiteral("sluice-%1-%2").arg(job->model).arg(job->serial)},
                     {QStringLiteral("inputConfig"),
                      QJsonObject{{QStringLiteral("requests"),
                                   QJsonObject{{QStringLiteral("requests"), requests}}}}}}}};
    {
        std::lock_guard lock(m_stats->mutex);
        ++m_stats->state.jobsSubmitted;
        m_stats->state.requestsSubmitted += quint64(requests.size());
    }
    qCInfo(lcBatchMode).noquote() << QStringLiteral("Batch Mode job %1 for %2: %3 requests, %4 bytes")
                                         .arg(job->serial).arg(job->model).arg(requests.size()).arg(job->bytes);
    QNetworkReply *reply = send(QStringLiteral("/v1beta/models/%1:batchGenerateContent").arg(job->model),
                                QJsonDocument(body).toJson(QJsonDocument::Compact));
    std::weak_ptr<Job> weak = job;
    connect(reply, &QNetworkReply::finished, this, [this, weak, reply] {
        reply->deleteLater();
        if (auto j = weak.lock())
            created(j, reply);
    });
    updateStats();
}

void BatchModeCollector::created(const std::shared_ptr<Job> &job, QNetworkReply *reply)
{
    const int http = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray data = reply->readAll();
    const QJsonObject op = QJsonDocument::fromJson(data).object();
    const QString name = op.value(QLatin1StringView("name")).toString();
    if (http < 200 || http > 299 || !name.startsWith(QLatin1StringView("batches/"))) {
        const QString why = http == 0 ? reply->errorString()
                                      : QStringLiteral("HTTP %1: %2").arg(http).arg(GeminiError::fromHttp(http, data).message);
        fallBack(job, QStringLiteral("the upstream did not create the Batch Mode job (%1)").arg(why));
        return;
    }
    job->upstreamName = name;
    const QString state = op.value(QLatin1StringView("metadata")).toObject().value(QLatin1StringView("state")).toString();
    setState(*job, state);
    job->timer.start(m_config.batchPollInterval);
}

void BatchModeCollector::setState(const Job &job, const QString &state)
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (const Member &m : job.members) {
        auto it = m_operations.find(m.operation);
        if (it != m_operations.end() && !it->done) {
            it->updated = now;
            if (!state.isEmpty())
                it->state = state;
        }
    }
}

void BatchModeCollector::poll(const std::shared_ptr<Job> &job)
{
    expireMembers(job);
    if (std::all_of(job->members.begin(), job->members.end(), [](const Member &m) { return m.answered; })) {
        finishJob(job);
        return;
    }
    QNetworkReply *reply = send(QStringLiteral("/v1beta/") + job->upstreamName, QByteArray());
    std::weak_ptr<Job> weak = job;
    connect(reply, &QNetworkReply::finished, this, [this, weak, reply] {
        reply->deleteLater();
        if (auto j = weak.lock())
            polled(j, reply);
    });
}

void BatchModeCollector::polled(const std::shared_ptr<Job> &job, QNetworkReply *reply)
{
    const int http = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray data = reply->readAll();
    if (http == 404) {
        fallBack(job, QStringLiteral("the upstream no longer knows %1").arg(job->upstreamName));
        return;
    }
    if (http < 200 || http > 299) {
        qCWarning(lcBatchMode).noquote() << QStringLiteral("polling %1 failed (%2); polling again in %3")
                                                .arg(job->upstreamName,
                                                     http == 0 ? reply->errorString() : QStringLiteral("HTTP %1").arg(http),
                                                     formatDuration(m_config.batchPollInterval));
        job->timer.start(m_config.batchPollInterval);
        return;
    }
    const QJsonObject op = QJsonDocument::fromJson(data).object();
    const QString state = op.value(QLatin1StringView("metadata")).toObject().value(QLatin1StringView("state")).toString();
    if (!state.isEmpty())
        setState(*job, state);
    const bool done = op.value(QLatin1StringView("done")).toBool();
    if (state == QLatin1StringView("BATCH_STATE_FAILED") || state == QLatin1StringView("BATCH_STATE_CANCELLED")
        || state == QLatin1StringView("BATCH_STATE_EXPIRED") || (done && op.contains(QLatin1StringView("error")))) {
        const QString message = op.value(QLatin1StringView("error")).toObject().value(QLatin1StringView("message")).toString();
        fallBack(job, QStringLiteral("the Batch Mode job %1 ended %2%3")
                          .arg(job->upstreamName, state.isEmpty() ? QStringLiteral("with an error") : state,
                               message.isEmpty() ? QString() : QStringLiteral(": ") + message));
        return;
    }
    if (!done) {
        job->timer.start(m_config.batchPollInterval);
        return;
    }
    QJsonValue list = op.value(QLatin1StringView("response")).toObject().value(QLatin1StringView("inlinedResponses"));
    if (list.isObject())
        list = list.toObject().value(QLatin1StringView("inlinedResponses"));
    const QJsonArray entries = list.toArray();
    QHash<QString, int> byOperation;
    for (int i = 0; i < int(job->members.size()); ++i)
        byOperation.insert(job->members[size_t(i)].operation, i);
    for (int i = 0; i < entries.size(); ++i) {
        const QJsonObject entry = entries.at(i).toObject();
        const QString key = entry.value(QLatin1StringView("metadata")).toObject().value(QLatin1StringView("key")).toString();
        const int index = byOperation.value(key, i);
        if (index < 0 || index >= int(job->members.size()))
            continue;
        Member &m = job->members[size_t(index)];
        if (m.answered)
            continue;
        if (entry.value(QLatin1StringView("response")).isObject()) {
            const QJsonObject response = entry.value(QLatin1StringView("response")).toObject();
            InferenceResult r;
            r.bodyJson = QJsonDocument(response).toJson(QJsonDocument::Compact);
            r.promptTokens = tokensOf(response, "promptTokenCount");
            r.outputTokens = tokensOf(response, "candidatesTokenCount");
            r.tier = ServiceTier::Batch;
            r.upstreamAttempts = 1;
            if (m_metrics)
                m_metrics->recordTierAnswer(job->model, ServiceTier::Batch, r.promptTokens, r.outputTokens);
            answer(m, std::move(r), QJsonObject{{QStringLiteral("response"), response}});
        } else {
            const QJsonObject error = entry.value(QLatin1StringView("error")).toObject();
            const int code = error.value(QLatin1StringView("code")).toInt(500);
            Status s = GeminiError::fromEnvelope(QJsonObject{{QStringLiteral("error"), error}}, code)
                           .value_or(GeminiError{})
                           .toStatus();
            if (s.ok())
                s = Status::error(StatusCode::Internal, QStringLiteral("the Batch Mode job answered this request with neither a response nor an error"));
            answer(m, InferenceResult::fromStatus(s), QJsonObject{{QStringLiteral("error"), error}});
        }
    }
    // Whatever the job did not answer goes on as a standard call.
    fallBack(job, QStringLiteral("the Batch Mode job %1 returned no answer for it").arg(job->upstreamName));
}

void BatchModeCollector::expireMembers(const std::shared_ptr<Job> &job)
{
    const SteadyTime now = Clock::steady().now();
    for (Member &m : job->members) {
        if (!m.answered && m.deadline <= now) {
            const Status s = Status::error(StatusCode::DeadlineExceeded,
                                           QStringLiteral("the request's deadline passed before its Batch Mode job finished"));
            answer(m, InferenceResult::fromStatus(s), QJsonObject{{QStringLiteral("error"), errorObject(s)}});
            auto it = m_operations.find(m.operation);
            if (it != m_operations.end())
                it->state = QStringLiteral("BATCH_STATE_EXPIRED");
        }
    }
}

void BatchModeCollector::fallBack(const std::shared_ptr<Job> &job, const QString &why)
{
    expireMembers(job);
    int moved = 0;
    for (Member &m : job->members) {
        if (m.answered)
            continue;
        ++moved;
        m.answered = true; // answered through the engine from here on (still counted as waiting)
        InferenceRequest r = std::move(m.request);
        r.tier = ServiceTier::Standard;
        r.flexFallback = false;
        r.batchKey.clear();
        r.deadlineDeclared = true;
        r.timeout = std::max(milliseconds(1), duration_cast<milliseconds>(m.deadline - Clock::steady().now()));
        const QString name = m.operation;
        std::shared_ptr<ServerThreadPoster> poster = m_poster;
        QPointer<BatchModeCollector> self(this);
        m_engine->submit(std::move(r), [poster, self, name](InferenceResult result) {
            poster->post([self, name, result = std::move(result)]() mutable {
                if (!self)
                    return;
                Member stand{name, {}, {}, false};
                QJsonObject inlined;
                if (result.status.ok()) {
                    const QByteArray json = result.bodyJson.isEmpty() ? QJsonDocument(result.body).toJson(QJsonDocument::Compact)
                                                                      : result.bodyJson;
                    inlined.insert(QStringLiteral("response"), QJsonDocument::fromJson(json).object());
                } else {
                    inlined.insert(QStringLiteral("error"), errorObject(result.status));
                }
                self->answer(stand, std::move(result), inlined);
            });
        });
    }
    if (moved > 0)
        qCWarning(lcBatchMode).noquote() << QStringLiteral("%1 requests of Batch Mode job %2 (%3) sent as standard calls: %4")
                                                .arg(moved).arg(job->serial).arg(job->model, why);
    finishJob(job);
}

void BatchModeCollector::finishJob(const std::shared_ptr<Job> &job)
{
    job->timer.stop();
    auto it = std::find(m_running.begin(), m_running.end(), job);
    if (it != m_running.end())
        m_running.erase(it);
    // Released from the event loop: this may run inside the job's own timer.
    QTimer::singleShot(0, this, [job] {});
    updateStats();
}

void BatchModeCollector::answer(Member &m, InferenceResult result, const QJsonObject &inlined)
{
    if (m.answered)
        return;
    m.answered = true;
    --m_waiting;
    auto it = m_operations.find(m.operation);
    if (it != m_operations.end()) {
        it->done = true;
        if (it->state != QLatin1StringView("BATCH_STATE_EXPIRED"))
            it->state = QStringLiteral("BATCH_STATE_SUCCEEDED");
        it->inlined = inlined;
        it->updated = it->ended = QDateTime::currentDateTimeUtc();
        if (m_memory && it->charged > 0)
            m_memory->release(it->charged);
        it->charged = 0;
        if (it->deliver) {
            auto deliver = std::move(it->deliver);
            it->deliver = nullptr;
            deliver(std::move(result));
        }
    }
    updateStats();
}

std::optional<QJsonObject> BatchModeCollector::operation(const QString &name, const QByteArray &owner) const
{
    auto it = m_operations.constFind(name);
    if (it == m_operations.constEnd() || it->owner != owner)
        return std::nullopt;
    const Operation &op = *it;
    QJsonObject stats{{QStringLiteral("requestCount"), QStringLiteral("1")}};
    if (!op.done)
        stats.insert(QStringLiteral("pendingRequestCount"), QStringLiteral("1"));
    else if (op.inlined.contains(QLatin1StringView("response")))
        stats.insert(QStringLiteral("successfulRequestCount"), QStringLiteral("1"));
    else
        stats.insert(QStringLiteral("failedRequestCount"), QStringLiteral("1"));
    QJsonObject metadata{{QStringLiteral("@type"), kBatchType},
                         {QStringLiteral("model"), QStringLiteral("models/") + op.model},
                         {QStringLiteral("displayName"), op.name.mid(8)},
                         {QStringLiteral("createTime"), rfc3339(op.created)},
                         {QStringLiteral("updateTime"), rfc3339(op.updated)},
                         {QStringLiteral("batchStats"), stats},
                         {QStringLiteral("state"), op.state},
                         {QStringLiteral("name"), op.name}};
    QJsonObject out{{QStringLiteral("name"), op.name}};
    if (op.done) {
        const QJsonObject inlined{{QStringLiteral("inlinedResponses"), QJsonArray{op.inlined}}};
        metadata.insert(QStringLiteral("endTime"), rfc3339(op.ended));
        // The answers, where Google's operation has them (`response`) and
        // where the API reference and the official SDK's batches.get() read
        // them (`metadata.output`).
        metadata.insert(QStringLiteral("output"), QJsonObject{{QStringLiteral("inlinedResponses"), inlined}});
        out.insert(QStringLiteral("done"), true);
        out.insert(QStringLiteral("response"), QJsonObject{{QStringLiteral("@type"), kOutputType},
                                                           {QStringLiteral("inlinedResponses"), inlined}});
    }
    out.insert(QStringLiteral("metadata"), metadata);
    return out;
}

void BatchModeCollector::updateStats()
{
    int gathering = 0;
    for (const auto &job : std::as_const(m_open))
        gathering += int(job->members.size());
    std::lock_guard lock(m_stats->mutex);
    m_stats->state.enabled = m_config.batch;
    m_stats->state.gathering = gathering;
    m_stats->state.jobsRunning = int(m_running.size());
    m_stats->state.waiting = std::max(0, m_waiting);
}

void BatchModeCollector::prune()
{
    const QDateTime dayAgo = QDateTime::currentDateTimeUtc().addSecs(-24 * 3600);
    while (!m_operationOrder.empty()) {
        auto it = m_operations.find(m_operationOrder.front());
        if (it == m_operations.end()) {
            m_operationOrder.pop_front();
            continue;
        }
        const bool tooMany = m_operations.size() > kMaxOperations;
        if (!it->done || (!tooMany && it->ended > dayAgo))
            break;
        m_operations.erase(it);
        m_operationOrder.pop_front();
    }
}
