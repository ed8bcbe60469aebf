#pragma once

#include "core/engine/inferencerequest.h"
#include "server/gatewayexchange.h"
#include "server/http/httpreply.h"
#include "server/routes/batchmode.h"
#include "server/routes/geminirequestparser.h"
#include "server/routes/sharekey.h"

#include <QHttpServerRequest>
#include <QString>
#include <QThreadPool>
#include <QUrl>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

class GatewayHttpServer;
class MemoryBudget;

// The Gemini-compatible routes (DESIGN.md §4):
//   POST /v1beta/models/{model}:generateContent | :streamGenerateContent[?alt=sse]
//        | :embedContent | :batchEmbedContents | :countTokens
//        → validated, submitted to the engine
//   GET  /v1beta/models, /v1beta/models/{model} → model metadata, cached
// Every upstream call made for a model goes through the engine's admission
// (maxQueue → 429, draining → 503, both with Retry-After and counted as
// rejections), its queue, deadlines and cancellation, the upstream budget
// and maxInflightBatches — countTokens too (Gemini counts it against the
// model's RPM): it is never batched, each is a batch of its own
// (BatchInferenceEngine). A circuit that is open answers 503 before that.
//
// Model metadata is not the model's quota's business and rarely changes,
// so it is cached rather than queued: an answer (200, or 404 for an
// unknown model) is kept kMetadataTtl (kMissingModelTtl for a 404), keyed
// by path and query; concurrent requests for one key share one upstream
// call; at most kMaxMetadataFetches different keys are fetched at once
// (beyond: 429 queue_full, Retry-After 1 s), and none while draining
// (503). Other errors are passed on, not kept.
//
// Request headers honoured: X-Sluice-Pack: off (request.packable = false),
// X-Request-Deadline-Ms (relative; GeminiRequestParser::parseDeadlineHeader,
// a bad value is a 400 naming it; it can only shorten requestTimeoutMs).
// Scheduling (issue 15): X-Sluice-Priority (interactive|standard|background),
// X-Sluice-Tenant (a name; otherwise the tenant is the API key's digest,
// "key-" + 16 hex digits, or "anonymous"), X-Sluice-Deadline ("90s", "30m",
// "6h": how long the request can wait; may exceed requestTimeoutMs) — each
// defaulting to the tenant's, then the class's, configuration; a bad value
// is a 400 naming the header. A declared deadline lets TierRouting send the
// request to flex (falling back to standard) or gather it into a Batch Mode
// job (BatchModeCollector): the client then waits on the open connection,
// or with `Prefer: respond-async` gets 202 and the operation
// `batches/sluice-…` to poll at GET /v1beta/batches/{id}. Successful
// answers carry X-Sluice-Tier (the tier that answered).
// A client that disconnects while its request is queued gets it cancelled
// in the engine.
// Successful answers are the upstream's JSON for that member, every field
// kept; streamGenerateContent?alt=sse answers `data: <json>\r\n\r\n` per
// chunk (without alt=sse, a JSON array of chunks, as Google does).
//
// Thread: server thread; completions arrive from engine/upstream threads and
// are posted back (ServerThreadPoster) before the exchange is touched: one
// posted event drains every completion collected until it runs.
class GeminiRoutes
{
public:
    explicit GeminiRoutes(GatewayHttpServer *server);
    ~GeminiRoutes(); // waits for bodies being parsed off the server thread

    void modelCall(const std::shared_ptr<GatewayExchange> &ex, const QHttpServerRequest &request,
                   const QString &model, Operation op, const QUrl &url);
    void listModels(const std::shared_ptr<GatewayExchange> &ex, const QUrl &url);
    void getModel(const std::shared_ptr<GatewayExchange> &ex, const QString &model);
    // GET /v1beta/batches/{id}: one of Sluice's own Batch Mode operations
    // (a request routed to Batch Mode), to the API key that made it.
    void getBatch(const std::shared_ptr<GatewayExchange> &ex, const QHttpServerRequest &request, const QString &id,
                  const QUrl &url);

    static constexpr std::chrono::seconds kMetadataTtl{300};
    static constexpr std::chrono::seconds kMissingModelTtl{60};
    static constexpr int kMaxMetadataFetches = 4;
    static constexpr int kMaxMetadataEntries = 256;
    // Bodies from this size on are parsed on m_parsers, not the server
    // thread, so /health and small requests are answered meanwhile.
    static constexpr qsizetype kParseOffThreadBytes = 256 * 1024;
    // What one JSON object or array costs once parsed (QJsonObject/Array,
    // their Qt containers, the engine's copies), beyond the body bytes the
    // HTTP front already charged: a body of many tiny parts expands far more
    // than its size says. Charged to the memory budget before parsing.
    static constexpr qint64 kBytesPerJsonContainer = 256;

private:
    // What modelCall() needs of the request after Qt reuses it.
    struct CallInput {
        QString model;
        Operation op = Operation::GenerateContent;
        QByteArray contentType;
        QByteArray deadline;   // X-Request-Deadline-Ms
        bool packOff = false;  // X-Sluice-Pack: off
        bool sse = false;      // streamGenerateContent?alt=sse
        ShareKey::Coalesce coalesce = ShareKey::Coalesce::Default; // X-Sluice-Coalesce
        bool noCache = false;  // Cache-Control: no-cache (or no-store): not answered from the cache
        bool noStore = false;  // Cache-Control: no-store: the answer is not kept either
        QByteArray scope;      // the client's API key as sent (x-goog-api-key or ?key=), for ShareKey
        QByteArray priority;   // X-Sluice-Priority
        QByteArray tenant;     // X-Sluice-Tenant
        QByteArray waitFor;    // X-Sluice-Deadline: how long the request can wait
        bool preferAsync = false; // Prefer: respond-async (a Batch Mode request answers 202 at once)
    };
    // The request's class, tenant, declared deadline and upstream tier
    // (TenantsConfig, TierRouting), or the 400 naming the header at fault.
    GeminiRequestParser::Error schedule(const CallInput &in, InferenceRequest &req,
                                        std::optional<std::chrono::milliseconds> *declared);
    void toBatchMode(const std::shared_ptr<GatewayExchange> &ex, const CallInput &in, InferenceRequest req,
                     std::chrono::milliseconds declared);
    static QByteArray ownerOf(const QByteArray &scope);
    static QByteArray tierHeader(ServiceTier tier);
    struct Parsed {
        InferenceRequest request;  // model, operation, body, batch key, packability, size
        GeminiRequestParser::Error error;
        bool overBudget = false; // the memory budget had no room for the parse
        qint64 surcharge = 0;    // charged to the budget for the parse
    };
    // Charges the parse's expansion to `memory` (may be null), parses, and
    // builds the engine request: all the per-body work, so that for a large
    // body none of it runs on the server thread.
    static Parsed parse(const CallInput &in, const QByteArray &raw, MemoryBudget *memory);
    void proceed(const std::shared_ptr<GatewayExchange> &ex, const CallInput &in, Parsed parsed);

    // One cached model-metadata answer, or the fetch that will give it.
    struct MetadataEntry {
        bool fetching = false;
        SteadyTime expires{};       // valid until then, when not fetching
        InferenceResult answer;
        std::vector<std::shared_ptr<GatewayExchange>> waiting; // answered when the fetch ends
    };
    using MetadataFetch = std::function<void(SteadyTime deadline, std::function<void(InferenceResult)> done)>;
    void serveMetadata(const std::shared_ptr<GatewayExchange> &ex, const QString &key, const MetadataFetch &fetch);
    void metadataFetched(const QString &key, const InferenceResult &result);

    // One upstream call and the requests it answers: a stream (its
    // events are passed on as they come), or identical requests sharing
    // one call (in-flight coalescing: `key` not empty, listed in m_flights
    // while others may join).
    struct Flight;
    class FlightSink;
    // Past this many streamed bytes a shared stream takes no new joiners
    // (they would need all of it replayed): identical requests then start
    // their own call.
    static constexpr qsizetype kMaxReplayBytes = 1024 * 1024;
    void startFlight(const std::shared_ptr<GatewayExchange> &ex, InferenceRequest req, const QByteArray &key);
    void join(const std::shared_ptr<Flight> &flight, const std::shared_ptr<GatewayExchange> &ex);
    void watchDisconnect(const std::shared_ptr<Flight> &flight, const std::shared_ptr<GatewayExchange> &ex);
    void leave(const std::shared_ptr<Flight> &flight, const std::shared_ptr<GatewayExchange> &ex);
    void flushSink(const std::shared_ptr<Flight> &flight);
    void deliver(const std::shared_ptr<Flight> &flight, const QByteArray &bytes);
    void writeStream(const std::shared_ptr<GatewayExchange> &ex, const QByteArray &bytes);
    void endStream(const std::shared_ptr<GatewayExchange> &ex, const InferenceResult &result);
    void flightDone(const std::shared_ptr<Flight> &flight, const InferenceResult &result);
    void forget(const std::shared_ptr<Flight> &flight);
    std::function<void(InferenceResult)> flightCompletion(const std::shared_ptr<Flight> &flight);
    // For a stream without alt=sse: the JSON-array text of the events in `bytes`; `end` closes it.
    static QByteArray arrayPieces(GatewayExchange &ex, const QByteArray &bytes, bool end);
    void finishModelCall(const std::shared_ptr<GatewayExchange> &ex, HttpReply reply);

    // Completions waiting for the server thread (filled from any thread).
    struct Inbox {
        struct Item {
            std::shared_ptr<GatewayExchange> exchange; // or:
            std::shared_ptr<Flight> flight;
            Operation op;
            InferenceResult result;
        };
        std::mutex mutex;
        std::vector<Item> items;
    };

    void drainInbox(const std::shared_ptr<Inbox> &inbox);
    void complete(const std::shared_ptr<GatewayExchange> &ex, Operation op, const InferenceResult &result);
    std::function<void(InferenceResult)> completion(const std::shared_ptr<GatewayExchange> &ex, Operation op);
    // The completion that queues its result in m_inbox for the server thread:
    // for an exchange, or (ex null) for a flight.
    std::function<void(InferenceResult)> toInbox(const std::shared_ptr<GatewayExchange> &ex,
                                                 const std::shared_ptr<Flight> &flight, Operation op);
    SteadyTime metadataDeadline() const;

    GatewayHttpServer *m_server;
    // Shared with the completion callbacks, which may outlive this object
    // (the poster drops their events once the server is gone).
    std::shared_ptr<Inbox> m_inbox = std::make_shared<Inbox>();
    std::unordered_map<QString, MetadataEntry> m_metadata; // server thread only
    std::unordered_map<QByteArray, std::shared_ptr<Flight>> m_flights; // joinable flights by ShareKey; server thread only
    int m_metadataFetches = 0;                // entries fetching now
    QThreadPool m_parsers;                    // large bodies' parses
    std::unique_ptr<BatchModeCollector> m_batchMode; // requests that can wait hours
};
