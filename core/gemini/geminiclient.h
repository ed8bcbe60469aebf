#pragma once

#include "core/engine/engineconfig.h"
#include "core/engine/inferencebackend.h"
#include "core/engine/inferencerequest.h"
#include "core/gemini/circuitbreaker.h"
#include "core/gemini/upstreamtransport.h"
#include "core/metrics/inferencemetricscollector.h"
#include "core/quota/upstreambudget.h"
#include "core/util/clock.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QUrl>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

class QThread;
class UpstreamWorker;
struct UpstreamCall;
struct UpstreamOutcome;
struct UpstreamSettings;

struct GeminiClientConfig {
    // scheme://host[:port][/prefix]; the API paths (/v1beta/...) are appended.
    QUrl baseUrl = QUrl(QStringLiteral("https://generativelanguage.googleapis.com"));
    QByteArray apiKey;          // sent as the x-goog-api-key header only; never logged
    // Upstream calls expected in flight at once (e.g. the engine's
    // maxInflightBatches × members); sizes the worker pool per transport
    // (effectiveWorkers()).
    int concurrency = 64;
    int workers = 0;            // explicit worker count; 0 = derive from concurrency
    // http:// upstreams: speak HTTP/2 with prior knowledge (h2c). https://
    // upstreams always offer HTTP/2 through ALPN.
    bool http2Direct = false;
    // See upstreamtransport.h; Auto = Native for http:// without http2Direct.
    UpstreamTransport transport = UpstreamTransport::Auto;
    // Native transport: connections per worker (busy or idle; calls beyond
    // wait in the worker), and how long an idle keep-alive connection stays open.
    int maxConnectionsPerWorker = 256;
    std::chrono::milliseconds idleConnectionTimeout{30000};
    CircuitBreaker::Config breaker;
    RetryPolicy retry;          // for the direct calls; batches carry their own
    // The upstream budget every call is charged to (shared with the engine,
    // which prepays its dispatches); null: nothing is budgeted. Must outlive the client.
    UpstreamBudget *budget = nullptr;
    // Every attempt by kind, model and outcome (sluice_upstream_calls_total,
    // sluice_upstream_attempts_total) and the pack member counts; may be null.
    InferenceMetricsCollector *metrics = nullptr;

    // Qnam or Native: what `transport` resolves to for baseUrl and http2Direct.
    UpstreamTransport effectiveTransport() const;
    // The explicit `workers`, else derived from `concurrency`: with Qnam,
    // ceil(concurrency / 6) workers (Qt 6.4's 6 HTTP/1.1 connections per host
    // and manager; one HTTP/2 connection multiplexes, so the same sizing
    // spreads its CPU); with Native, where one worker carries many
    // connections, ceil(concurrency / 64). At least 1, at most 256.
    int effectiveWorkers() const;
};

// The Gemini REST client (DESIGN.md §2, §6): the InferenceBackend the engine
// dispatches batches to, and a direct API: listModels()/getModel() for the
// gateway's model-metadata routes (which cache their answers), and call()
// for one unbatched call (tools, tests). The gateway sends every model call
// (countTokens included) through the engine, so that it is admitted and
// budgeted; call() bypasses the engine's admission (not the budget).
//
// Batches are served per operation and the engine's plan (Batch::packCalls):
// - generateContent/streamGenerateContent: the packable members
//   (PackCodec::isPackable) go in packCalls JSON-mode calls, split evenly in
//   member order (a pack of one is a normal call); the others one call each.
//   A pack answer is read with PackCodec::readAnswer(): members missing from
//   it (cut at the token budget, or left out) are packed again together,
//   up to 3 rounds in all while each round answers someone; what is left
//   then gets calls of its own. An unparseable answer fails the pack's members. Packed stream members get one SSE chunk holding
//   text, finishReason and usage.
// - embedContent: merged into batchEmbedContents calls of at most 100;
//   batchEmbedContents members are split into chunks of at most 100 and
//   reassembled;
// - countTokens: one call per member.
// Every HTTP attempt goes through one CircuitBreaker, RetryBackoff within
// the member's deadline (a pack call uses the earliest deadline of its
// members) and the upstream budget (config.budget): the first
// Batch::prepaidCalls calls were charged by the engine, every other call —
// retries, repacks, direct calls — is charged before it is sent; 429s teach
// the budget. Each attempt is counted in config.metrics when it ends, with
// its kind, model and outcome (UpstreamWorker).
//
// Thread: construct and destroy on one thread (the destructor shuts the
// workers down, completing calls still in flight with UNAVAILABLE, then
// quit()s and wait()s the "sluice-upstream-N" threads); destroy it only after
// the engine using it has stopped. execute(), call(), listModels(),
// getModel(), circuit() and the counters are thread-safe and never block.
// Results are delivered on an upstream thread.
class GeminiClient final : public InferenceBackend
{
public:
    using ResultCallback = std::function<void(InferenceResult)>;

    explicit GeminiClient(GeminiClientConfig config = {}, Clock &clock = Clock::steady());
    ~GeminiClient() override;

    // Aborts every call in flight or waiting to retry and completes it, and
    // every later one, with UNAVAILABLE and `reason` (the message the agent
    // reads). Blocks until each worker has done so; idempotent. For a
    // shutdown whose grace period ran out (the destructor does the same).
    void shutdown(const QString &reason);

    GeminiClient(const GeminiClient &) = delete;
    GeminiClient &operator=(const GeminiClient &) = delete;

    // InferenceBackend
    void execute(std::shared_ptr<const Batch> batch, BatchCompletion done) override;
    int upstreamCallsFor(Operation op, PackingMode mode,
                         std::span<const InferenceRequest *const> requests) const override;
    using InferenceBackend::upstreamCallsFor;
    bool isPackable(const InferenceRequest &request) const override;
    int outputTokenLimit(const QString &model) const override;
    int packMemberOverheadTokens() const override;

    // One unbatched call of `op` for `model` (bare id or "models/id") with the
    // agent's body, retried per `retry` (default: the config's) until
    // `deadline`. StreamGenerateContent fills result.chunks and an aggregate body.
    void call(Operation op, const QString &model, const QJsonObject &body, SteadyTime deadline,
              ResultCallback done, std::optional<RetryPolicy> retry = std::nullopt);
    // GET /v1beta/models (pageSize 0 and an empty token are left out).
    void listModels(int pageSize, const QString &pageToken, SteadyTime deadline, ResultCallback done);
    // GET /v1beta/models/{model}
    void getModel(const QString &model, SteadyTime deadline, ResultCallback done);

    CircuitBreaker::Snapshot circuit() const;   // for /health and 503 Retry-After
    CircuitBreaker &circuitBreaker() { return m_breaker; }
    int workerCount() const { return int(m_workers.size()); }
    const GeminiClientConfig &config() const { return m_config; }
    // HTTP attempts sent upstream so far (retries and re-issues included).
    quint64 upstreamAttempts() const { return m_attempts.load(std::memory_order_relaxed); }
    // Logical upstream calls started so far (each may take several attempts).
    quint64 upstreamCalls() const { return m_calls.load(std::memory_order_relaxed); }

private:
    struct BatchState;

    void send(UpstreamCall call);
    void runSingle(const std::shared_ptr<BatchState> &state, size_t index, Operation op, int priorAttempts,
                   UpstreamCallKind kind, bool prepaid);
    void runPack(const std::shared_ptr<BatchState> &state, std::vector<size_t> indices, int round, bool prepaid,
                 int priorAttempts);
    void settle(const QString &model, long long estimated, const InferenceResult &r) const;
    void recordPack(PackMemberOutcome outcome, int members) const;
    void runEmbedMerge(const std::shared_ptr<BatchState> &state, std::vector<size_t> indices);
    void runEmbedSplit(const std::shared_ptr<BatchState> &state, size_t index);
    UpstreamCall makeCall(Operation op, const QString &model, const QJsonObject &body, SteadyTime deadline,
                          const RetryPolicy &retry) const;

    GeminiClientConfig m_config;
    Clock &m_clock;
    CircuitBreaker m_breaker;
    std::atomic<quint64> m_attempts{0};
    std::atomic<quint64> m_calls{0};
    std::shared_ptr<const UpstreamSettings> m_settings;
    std::vector<QThread *> m_threads;
    std::vector<UpstreamWorker *> m_workers;
};

// Maps a finished upstream call to the result an agent gets (usage → token
// counts, protocol, attempts). Exposed for tests.
InferenceResult inferenceResultFrom(const UpstreamOutcome &outcome);
