#include "core/gemini/geminiclient.h"

#include "core/gemini/geminiresponse.h"
#include "core/gemini/packcodec.h"
#include "core/gemini/upstreamworker.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QThread>
#include <QUrlQuery>

#include <algorithm>
#include <mutex>

using namespace std::chrono;

namespace {
QLatin1StringView L(const char *s)
{
    return QLatin1StringView(s);
}

constexpr int kMaxEmbedPerCall = 100; // the API rejects more (error_400_batchEmbedContents_over_100.json)
constexpr int kQnamConnectionsPerWorker = 6;   // Qt 6.4's HTTP/1.1 limit per host and manager
constexpr int kNativeCallsPerWorker = 64;      // one worker thread's share of in-flight calls

QString bareModel(const QString &model)
{
    return model.startsWith(L("models/")) ? model.mid(7) : model;
}

QString modelPath(const QString &model)
{
    return QStringLiteral("/v1beta/models/")
         + QString::fromUtf8(QUrl::toPercentEncoding(bareModel(model), QByteArrayLiteral("-._~")));
}

SteadyTime earliestDeadline(const Batch &batch, const std::vector<size_t> &indices)
{
    SteadyTime d = SteadyTime::max();
    for (size_t i : indices)
        d = std::min(d, batch.members[i].deadline);
    return d;
}

// A pack's members missing from its answer are packed again, together, at
// most this many rounds in all (the first pack included); then they fail.
constexpr int kMaxPackRounds = 3;

// The input tokens of one call carrying these members (a pack, or a merged
// batchEmbedContents): their estimates with the systemInstruction they
// share counted once (PackPlanner's rule; embeddings share none).
long long callTokensOf(const Batch &batch, const std::vector<size_t> &indices)
{
    long long t = 0;
    long long shared = 0;
    for (size_t i : indices) {
        const InferenceRequest &r = batch.members[i].request;
        const long long own = std::max(1, r.estimatedTokens);
        shared = std::max<long long>(shared, std::min<long long>(own, r.sharedTokens));
        t += own - std::min<long long>(own, r.sharedTokens);
    }
    return std::max<long long>(1, t + shared);
}

int embedCallsFor(const QJsonObject &batchEmbedBody)
{
    const auto n = batchEmbedBody.value(L("requests")).toArray().size();
    return std::max<int>(1, int((n + kMaxEmbedPerCall - 1) / kMaxEmbedPerCall));
}
} // namespace

UpstreamTransport GeminiClientConfig::effectiveTransport() const
{
    const bool plainHttp = baseUrl.scheme() == L("http") && !http2Direct;
    return plainHttp && transport != UpstreamTransport::Qnam ? UpstreamTransport::Native : UpstreamTransport::Qnam;
}

int GeminiClientConfig::effectiveWorkers() const
{
    if (workers > 0)
        return std::min(workers, 256);
    const int perWorker = effectiveTransport() == UpstreamTransport::Native ? kNativeCallsPerWorker
                                                                           : kQnamConnectionsPerWorker;
    return std::clamp((concurrency + perWorker - 1) / perWorker, 1, 256);
}

struct GeminiClient::BatchState {
    std::shared_ptr<const Batch> batch;
    std::vector<InferenceResult> results;
    std::atomic<int> remaining{0};
    BatchCompletion done;
    // The engine's prepaid calls left for the first wave (execute() only).
    int prepaidLeft = 0;

    bool takePrepaid() { return prepaidLeft > 0 && prepaidLeft-- > 0; }

    // Each member slot is written once, by whichever thread finished it; the
    // acq_rel decrement makes every write visible to the last finisher.
    void complete(size_t index, InferenceResult r)
    {
        results[index] = std::move(r);
        if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            auto fn = std::move(done);
            fn(std::move(results));
        }
    }
};

InferenceResult inferenceResultFrom(const UpstreamOutcome &o)
{
    InferenceResult r;
    r.status = o.status;
    r.body = o.body;
    r.chunks = o.chunks;
    r.protocol = o.protocol;
    r.upstreamAttempts = o.attempts;
    r.streamedBytes = o.streamedBytes;
    r.streamErrorSent = o.streamErrorSent;
    if (o.status.ok()) {
        const UsageMetadata u = GeminiResponse(o.body).usage();
        r.promptTokens = u.promptTokens();
        r.outputTokens = u.outputTokens();
    }
    return r;
}

GeminiClient::GeminiClient(GeminiClientConfig config, Clock &clock)
    : m_config(std::move(config)), m_clock(clock), m_breaker(m_config.breaker, clock)
{
    auto settings = std::make_shared<UpstreamSettings>();
    settings->baseUrl = m_config.baseUrl;
    settings->apiKey = m_config.apiKey;
    settings->http2Direct = m_config.http2Direct;
    settings->transport = m_config.effectiveTransport();
    settings->maxConnectionsPerWorker = m_config.maxConnectionsPerWorker;
    settings->idleConnectionTimeout = m_config.idleConnectionTimeout;
    settings->clock = &m_clock;
    settings->breaker = &m_breaker;
    settings->attemptCounter = &m_attempts;
    settings->budget = m_config.budget;
    settings->metrics = m_config.metrics;
    m_settings = settings;

    const int n = m_config.effectiveWorkers();
    for (int i = 0; i < n; ++i) {
        auto *thread = new QThread;
        thread->setObjectName(QStringLiteral("sluice-upstream-%1").arg(i));
        auto *worker = new UpstreamWorker(m_settings);
        worker->moveToThread(thread);
        // The worker (and its QNetworkAccessManager) is destroyed on its own thread.
        QObject::connect(thread, &QThread::finished, worker, &QObject::deleteLater);
        thread->start();
        m_threads.push_back(thread);
        m_workers.push_back(worker);
    }
}

void GeminiClient::shutdown(const QString &reason)
{
    for (UpstreamWorker *w : m_workers)
        QMetaObject::invokeMethod(w, [w, reason] { w->shutdown(reason); }, Qt::BlockingQueuedConnection);
}

GeminiClient::~GeminiClient()
{
    for (size_t i = 0; i < m_workers.size(); ++i) {
        UpstreamWorker *w = m_workers[i];
        QMetaObject::invokeMethod(w, [w] { w->shutdown(); }, Qt::BlockingQueuedConnection);
        m_threads[i]->quit();
        m_threads[i]->wait();
        delete m_threads[i];
    }
}

CircuitBreaker::Snapshot GeminiClient::circuit() const
{
    return m_breaker.snapshot();
}

void GeminiClient::send(UpstreamCall call)
{
    // Least-loaded worker, scanning from a rotating start so ties spread out.
    static std::atomic<unsigned> rotor{0};
    const size_t n = m_workers.size();
    const size_t start = rotor.fetch_add(1, std::memory_order_relaxed) % n;
    UpstreamWorker *best = m_workers[start];
    int bestLoad = best->load();
    for (size_t k = 1; k < n && bestLoad > 0; ++k) {
        UpstreamWorker *w = m_workers[(start + k) % n];
        const int load = w->load();
        if (load < bestLoad) {
            best = w;
            bestLoad = load;
        }
    }
    m_calls.fetch_add(1, std::memory_order_relaxed);
    best->post(std::move(call));
}

UpstreamCall GeminiClient::makeCall(Operation op, const QString &model, const QJsonObject &body,
                                    SteadyTime deadline, const RetryPolicy &retry) const
{
    UpstreamCall c;
    c.verb = "POST";
    c.budgetModel = bareModel(model);
    c.path = modelPath(model) + QLatin1Char(':') + operationName(op);
    if (op == Operation::StreamGenerateContent) {
        c.query = QStringLiteral("alt=sse");
        c.sse = true;
    }
    c.body = QJsonDocument(body).toJson(QJsonDocument::Compact);
    c.deadline = deadline;
    c.retry = retry;
    return c;
}

void GeminiClient::call(Operation op, const QString &model, const QJsonObject &body, SteadyTime deadline,
                        ResultCallback done, std::optional<RetryPolicy> retry)
{
    UpstreamCall c = makeCall(op, model, body, deadline, retry.value_or(m_config.retry));
    c.budgetTokens = std::max<long long>(1, (c.body.size() + 3) / 4);
    c.done = [this, model = c.budgetModel, tokens = c.budgetTokens, done = std::move(done)](UpstreamOutcome o) {
        InferenceResult r = inferenceResultFrom(o);
        settle(model, tokens, r);
        done(std::move(r));
    };
    send(std::move(c));
}

void GeminiClient::settle(const QString &model, long long estimated, const InferenceResult &r) const
{
    if (m_config.budget && r.status.ok() && r.promptTokens > 0)
        m_config.budget->settleTokens(model, estimated, r.promptTokens);
}

void GeminiClient::recordPack(PackMemberOutcome outcome, int members) const
{
    if (m_config.metrics)
        m_config.metrics->recordPackMembers(outcome, members);
}

bool GeminiClient::isPackable(const InferenceRequest &request) const
{
    return PackCodec::isPackable(request);
}

int GeminiClient::outputTokenLimit(const QString &model) const
{
    // Gemini's models list: 8,192 output tokens for the 1.x and 2.0 models,
    // 65,536 for 2.5 and later (the simulator serves the same).
    const QString m = bareModel(model);
    if (m.startsWith(L("gemini-1.")) || m.startsWith(L("gemini-2.0")))
        return 8192;
    return 65536;
}

int GeminiClient::packMemberOverheadTokens() const
{
    return PackCodec::kMemberOverheadTokens;
}

void GeminiClient::listModels(int pageSize, const QString &pageToken, SteadyTime deadline, ResultCallback done)
{
    UpstreamCall c;
    c.verb = "GET";
    c.path = QStringLiteral("/v1beta/models");
    QUrlQuery q;
    if (pageSize > 0)
        q.addQueryItem(QStringLiteral("pageSize"), QString::number(pageSize));
    if (!pageToken.isEmpty())
        q.addQueryItem(QStringLiteral("pageToken"), QString::fromUtf8(QUrl::toPercentEncoding(pageToken)));
    c.query = q.toString(QUrl::FullyEncoded);
    c.deadline = deadline;
    c.retry = m_config.retry;
    c.done = [done = std::move(done)](UpstreamOutcome o) { done(inferenceResultFrom(o)); };
    send(std::move(c));
}

void GeminiClient::getModel(const QString &model, SteadyTime deadline, ResultCallback done)
{
    UpstreamCall c;
    c.verb = "GET";
    c.path = modelPath(model);
    c.deadline = deadline;
    c.retry = m_config.retry;
    c.done = [done = std::move(done)](UpstreamOutcome o) { done(inferenceResultFrom(o)); };
    send(std::move(c));
}

int GeminiClient::upstreamCallsFor(Operation op, PackingMode mode,
                                   std::span<const InferenceRequest *const> requests) const
{
    const int n = int(requests.size());
    switch (op) {
    case Operation::EmbedContent:
        return (n + kMaxEmbedPerCall - 1) / kMaxEmbedPerCall;
    case Operation::BatchEmbedContents: {
        int calls = 0;
        for (const InferenceRequest *r : requests)
            calls += embedCallsFor(r->body);
        return calls;
    }
    case Operation::CountTokens:
    case Operation::StreamGenerateContent: // never packed: each a call of its own
        return n;
    case Operation::GenerateContent: {
        if (mode == PackingMode::Fanout)
            return n;
        int packable = 0;
        for (const InferenceRequest *r : requests)
            packable += PackCodec::isPackable(*r) ? 1 : 0;
        // A lone packable member is sent as a normal call: one call either way.
        // Re-issues of members missing from a pack answer are not predictable here.
        return (packable > 0 ? 1 : 0) + (n - packable);
    }
    }
    return n;
}

void GeminiClient::execute(std::shared_ptr<const Batch> batch, BatchCompletion done)
{
    const size_t n = batch->members.size();
    if (n == 0) {
        done({});
        return;
    }
    auto state = std::make_shared<BatchState>();
    state->batch = batch;
    state->results.resize(n);
    state->remaining.store(int(n));
    state->done = std::move(done);
    state->prepaidLeft = batch->prepaidCalls;

    switch (batch->operation) {
    case Operation::CountTokens:
    case Operation::StreamGenerateContent: // streams are never packed
        for (size_t i = 0; i < n; ++i)
            runSingle(state, i, batch->operation, 0, UpstreamCallKind::Single, state->takePrepaid());
        return;
    case Operation::EmbedContent: {
        for (size_t first = 0; first < n; first += kMaxEmbedPerCall) {
            std::vector<size_t> chunk;
            for (size_t i = first; i < std::min(n, first + kMaxEmbedPerCall); ++i)
                chunk.push_back(i);
            runEmbedMerge(state, std::move(chunk));
        }
        return;
    }
    case Operation::BatchEmbedContents:
        for (size_t i = 0; i < n; ++i)
            runEmbedSplit(state, i);
        return;
    case Operation::GenerateContent: {
        std::vector<size_t> packable;
        std::vector<size_t> single;
        for (size_t i = 0; i < n; ++i) {
            if (batch->packing != PackingMode::Fanout && PackCodec::isPackable(batch->members[i].request))
                packable.push_back(i);
            else
                single.push_back(i);
        }
        // The packables go in packCalls calls, split evenly in member order
        // (the engine's plan); unplanned batches pack them all in one.
        const size_t calls = packable.empty() ? 0
                           : batch->packCalls >= 0 ? std::clamp<size_t>(size_t(batch->packCalls), 1, packable.size())
                           : batch->packing == PackingMode::Pack ? 1 : packable.size();
        for (size_t k = 0, start = 0; k < calls; ++k) {
            const size_t size = packable.size() / calls + (k < packable.size() % calls ? 1 : 0);
            std::vector<size_t> pack(packable.begin() + qsizetype(start), packable.begin() + qsizetype(start + size));
            start += size;
            if (pack.size() == 1)
                single.push_back(pack.front());
            else
                runPack(state, std::move(pack), 0, state->takePrepaid(), 0);
        }
        for (size_t i : single)
            runSingle(state, i, batch->operation, 0, UpstreamCallKind::Single, state->takePrepaid());
        return;
    }
    }
}

void GeminiClient::runSingle(const std::shared_ptr<BatchState> &state, size_t index, Operation op,
                             int priorAttempts, UpstreamCallKind kind, bool prepaid)
{
    const Batch &batch = *state->batch;
    const BatchMember &m = batch.members[index];
    UpstreamCall c = makeCall(op, batch.model, m.request.body, m.deadline, batch.retry);
    c.kind = kind;
    c.prepaid = prepaid;
    c.budgetTokens = std::max(1, m.request.estimatedTokens);
    if (op == Operation::StreamGenerateContent)
        c.sink = m.request.stream; // passed through as it comes (when the caller wants it live)
    c.done = [this, state, index, priorAttempts, model = c.budgetModel, tokens = c.budgetTokens](UpstreamOutcome o) {
        InferenceResult r = inferenceResultFrom(o);
        r.upstreamAttempts += priorAttempts;
        settle(model, tokens, r);
        state->complete(index, std::move(r));
    };
    send(std::move(c));
}

void GeminiClient::runPack(const std::shared_ptr<BatchState> &state, std::vector<size_t> indices, int round,
                           bool prepaid, int priorAttempts)
{
    const Batch &batch = *state->batch;
    QList<PackCodec::Member> members;
    for (size_t i : indices)
        members.append({QString::number(i), PackCodec::memberText(batch.members[i].request),
                        batch.members[i].request.maxOutputTokens});
    UpstreamCall c = makeCall(Operation::GenerateContent, batch.model, QJsonObject(), earliestDeadline(batch, indices),
                              batch.retry);
    c.body = PackCodec::buildRequestJson(members, batch.members[indices.front()].request.body, outputTokenLimit(batch.model));
    c.rawAnswer = true; // read below, straight from the bytes
    c.kind = round == 0 ? UpstreamCallKind::Pack : UpstreamCallKind::Repack;
    c.prepaid = prepaid;
    c.budgetTokens = callTokensOf(batch, indices);
    c.done = [this, state, indices, members, round, priorAttempts, model = c.budgetModel,
              tokens = c.budgetTokens](UpstreamOutcome o) {
        o.attempts += priorAttempts;
        const Batch &b = *state->batch;
        if (!o.status.ok()) {
            recordPack(PackMemberOutcome::Failed, int(indices.size()));
            for (size_t i : indices)
                state->complete(i, inferenceResultFrom(o));
            return;
        }
        const std::optional<PackCodec::ReadAnswer> answer = PackCodec::readAnswer(o.raw, members);
        if (!answer) {
            QString why = QStringLiteral("not a JSON object");
            GeminiResponse::parse(o.raw, &why); // Qt's own words for what is wrong, when it has them
            o.status = UpstreamWorker::unparseableAnswer(why, o.httpStatus);
            recordPack(PackMemberOutcome::Failed, int(indices.size()));
            for (size_t i : indices)
                state->complete(i, inferenceResultFrom(o));
            return;
        }
        std::vector<size_t> missing;
        int promptTokens = 0;
        for (size_t k = 0; k < indices.size(); ++k) {
            const size_t i = indices[k];
            const std::optional<PackCodec::MemberJson> &a = answer->members[qsizetype(k)];
            if (!a) {
                missing.push_back(i);
                continue;
            }
            InferenceResult r;
            r.status = Status::success();
            r.promptTokens = a->promptTokens;
            r.outputTokens = a->outputTokens;
            r.protocol = o.protocol;
            r.upstreamAttempts = o.attempts;
            promptTokens += a->promptTokens;
            if (b.members[i].request.wantsBodyJson) {
                r.bodyJson = a->json; // the gateway writes these bytes as they are
            } else {
                r.body = QJsonDocument::fromJson(a->json).object();
                if (b.operation == Operation::StreamGenerateContent)
                    r.chunks = {r.body};
            }
            state->complete(i, std::move(r));
        }
        recordPack(PackMemberOutcome::Answered, int(indices.size() - missing.size()));
        if (m_config.budget && promptTokens > 0)
            m_config.budget->settleTokens(model, tokens, promptTokens);
        if (missing.empty())
            return;
        recordPack(PackMemberOutcome::Repacked, int(missing.size()));
        // Cut off at the token budget, or left out: asked again together,
        // one call for all of them through the budget, while that makes
        // progress. A repack that answered nobody, or the last round, leaves
        // the rest to calls of their own (the upstream will not put them in
        // a pack).
        const bool progress = missing.size() < indices.size() || round == 0;
        if (missing.size() > 1 && progress && round + 1 < kMaxPackRounds) {
            runPack(state, std::move(missing), round + 1, false, o.attempts);
            return;
        }
        for (size_t i : missing)
            runSingle(state, i, b.operation, o.attempts, UpstreamCallKind::Repack, false);
    };
    send(std::move(c));
}

void GeminiClient::runEmbedMerge(const std::shared_ptr<BatchState> &state, std::vector<size_t> indices)
{
    const Batch &batch = *state->batch;
    const QString modelName = QStringLiteral("models/") + bareModel(batch.model);
    QJsonArray requests;
    for (size_t i : indices) {
        QJsonObject r = batch.members[i].request.body;
        r.insert(L("model"), modelName); // batchEmbedContents requires it per request
        requests.append(r);
    }
    UpstreamCall c = makeCall(Operation::BatchEmbedContents, batch.model, QJsonObject{{L("requests"), requests}},
                              earliestDeadline(batch, indices), batch.retry);
    c.kind = UpstreamCallKind::EmbedMerge;
    c.prepaid = state->takePrepaid();
    c.budgetTokens = callTokensOf(batch, indices);
    c.done = [state, indices](UpstreamOutcome o) {
        if (!o.status.ok()) {
            for (size_t i : indices)
                state->complete(i, inferenceResultFrom(o));
            return;
        }
        const QJsonArray embeddings = GeminiResponse(o.body).embeddings();
        if (embeddings.size() != qsizetype(indices.size())) {
            UpstreamOutcome bad = o;
            bad.status = Status::error(StatusCode::Internal,
                                       QStringLiteral("upstream returned %1 embeddings for %2 requests")
                                           .arg(embeddings.size()).arg(indices.size()));
            bad.body = {};
            for (size_t i : indices)
                state->complete(i, inferenceResultFrom(bad));
            return;
        }
        for (size_t k = 0; k < indices.size(); ++k) {
            UpstreamOutcome member = o;
            member.body = QJsonObject{{L("embedding"), embeddings.at(qsizetype(k))}};
            state->complete(indices[k], inferenceResultFrom(member));
        }
    };
    send(std::move(c));
}

void GeminiClient::runEmbedSplit(const std::shared_ptr<BatchState> &state, size_t index)
{
    const Batch &batch = *state->batch;
    const BatchMember &m = batch.members[index];
    const QJsonArray requests = m.request.body.value(L("requests")).toArray();
    if (requests.size() <= kMaxEmbedPerCall) {
        runSingle(state, index, Operation::BatchEmbedContents, 0, UpstreamCallKind::Single, state->takePrepaid());
        return;
    }

    struct Split {
        std::mutex mutex;
        std::vector<UpstreamOutcome> parts;
        int remaining = 0;
    };
    auto split = std::make_shared<Split>();
    const qsizetype chunks = (requests.size() + kMaxEmbedPerCall - 1) / kMaxEmbedPerCall;
    split->parts.resize(size_t(chunks));
    split->remaining = int(chunks);

    for (qsizetype c = 0; c < chunks; ++c) {
        QJsonObject body = m.request.body; // keeps the agent's other fields
        QJsonArray part;
        for (qsizetype j = c * kMaxEmbedPerCall; j < std::min(requests.size(), (c + 1) * kMaxEmbedPerCall); ++j)
            part.append(requests.at(j));
        body.insert(L("requests"), part);
        UpstreamCall call = makeCall(Operation::BatchEmbedContents, batch.model, body, m.deadline, batch.retry);
        call.prepaid = state->takePrepaid();
        call.budgetTokens = std::max<long long>(1, (call.body.size() + 3) / 4);
        call.done = [state, index, split, c](UpstreamOutcome o) {
            {
                std::lock_guard lock(split->mutex);
                split->parts[size_t(c)] = std::move(o);
                if (--split->remaining > 0)
                    return;
            }
            // Last chunk in: reassemble in order, or report the first failure.
            UpstreamOutcome all;
            QJsonArray embeddings;
            for (const UpstreamOutcome &p : split->parts) {
                all.attempts += p.attempts;
                all.protocol = p.protocol;
                if (!p.status.ok() && all.status.ok())
                    all.status = p.status;
                for (const QJsonValue &e : GeminiResponse(p.body).embeddings())
                    embeddings.append(e);
            }
            if (all.status.ok()) {
                all.body = split->parts.back().body;
                all.body.insert(L("embeddings"), embeddings);
            }
            state->complete(index, inferenceResultFrom(all));
        };
        send(std::move(call));
    }
}
