#pragma once

#include "core/engine/inferencerequest.h"
#include "server/gatewayexchange.h"

#include <QHttpServerRequest>
#include <QString>
#include <QUrl>

#include <memory>
#include <mutex>
#include <vector>

class GatewayHttpServer;

// The Gemini-compatible routes (DESIGN.md §4):
//   POST /v1beta/models/{model}:generateContent | :streamGenerateContent[?alt=sse]
//        | :embedContent | :batchEmbedContents   → validated, submitted to the engine
//   POST /v1beta/models/{model}:countTokens     → GeminiClient::call, not batched
//   GET  /v1beta/models, /v1beta/models/{model} → GeminiClient passthrough
// Request headers honoured: X-Sluice-Pack: off (request.packable = false),
// X-Request-Deadline-Ms (relative, request.timeout). A client that
// disconnects while its request is queued gets it cancelled in the engine.
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
    explicit GeminiRoutes(GatewayHttpServer *server) : m_server(server) {}

    void modelCall(const std::shared_ptr<GatewayExchange> &ex, const QHttpServerRequest &request,
                   const QString &model, Operation op, const QUrl &url);
    void listModels(const std::shared_ptr<GatewayExchange> &ex, const QUrl &url);
    void getModel(const std::shared_ptr<GatewayExchange> &ex, const QString &model);

private:
    // Completions waiting for the server thread (filled from any thread).
    struct Inbox {
        struct Item {
            std::shared_ptr<GatewayExchange> exchange;
            Operation op;
            InferenceResult result;
        };
        std::mutex mutex;
        std::vector<Item> items;
    };

    void drainInbox(const std::shared_ptr<Inbox> &inbox);
    void complete(const std::shared_ptr<GatewayExchange> &ex, Operation op, const InferenceResult &result);
    std::function<void(InferenceResult)> completion(const std::shared_ptr<GatewayExchange> &ex, Operation op);
    SteadyTime deadlineFor(std::optional<std::chrono::milliseconds> timeout) const;

    GatewayHttpServer *m_server;
    // Shared with the completion callbacks, which may outlive this object
    // (the poster drops their events once the server is gone).
    std::shared_ptr<Inbox> m_inbox = std::make_shared<Inbox>();
};
