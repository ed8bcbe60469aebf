#include "server/routes/geminiroutes.h"

#include "core/engine/batchinferenceengine.h"
#include "core/engine/batchkey.h"
#include "core/gemini/geminiclient.h"
#include "core/gemini/packcodec.h"
#include "server/gatewayhttpserver.h"
#include "server/http/errormapping.h"
#include "server/routes/geminirequestparser.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QUrlQuery>

namespace {

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace

SteadyTime GeminiRoutes::deadlineFor(std::optional<std::chrono::milliseconds> timeout) const
{
    const auto t = timeout ? *timeout
                           : std::chrono::milliseconds(m_server->deps().engine->config().requestTimeoutMs);
    return Clock::steady().now() + t;
}

std::function<void(InferenceResult)> GeminiRoutes::completion(const std::shared_ptr<GatewayExchange> &ex, Operation op)
{
    std::shared_ptr<ServerThreadPoster> poster = m_server->poster();
    std::shared_ptr<Inbox> inbox = m_inbox;
    return [this, poster, inbox, ex, op](InferenceResult result) {
        // Engine or upstream thread: hop to the server thread before touching
        // the exchange. A batch completes its members one after the other, so
        // only the completion that finds the inbox empty posts an event; the
        // server thread then answers everything collected by then at once
        // (one event and one wake-up per batch instead of one per request).
        bool first = false;
        {
            std::lock_guard lock(inbox->mutex);
            first = inbox->items.empty();
            inbox->items.push_back({ex, op, std::move(result)});
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
    for (const Inbox::Item &item : items)
        complete(item.exchange, item.op, item.result);
}

void GeminiRoutes::complete(const std::shared_ptr<GatewayExchange> &ex, Operation op, const InferenceResult &result)
{
    if (!result.status.ok()) {
        m_server->finish(ex, ErrorMapping::toReply(result.status));
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
    m_server->finish(ex, reply);
}

void GeminiRoutes::modelCall(const std::shared_ptr<GatewayExchange> &ex, const QHttpServerRequest &request,
                             const QString &rawModel, Operation op, const QUrl &url)
{
    const QString model = rawModel.startsWith(QLatin1String("models/")) ? rawModel.mid(7) : rawModel;
    QJsonObject body;
    const GeminiRequestParser::Error perr =
        GeminiRequestParser::parseBody(op, request.value(QByteArrayLiteral("content-type")), request.body(), &body);
    if (!perr.isNull()) {
        QJsonArray details;
        if (!perr.field.isEmpty())
            details.append(QJsonObject{{QStringLiteral("@type"), QStringLiteral("type.googleapis.com/google.rpc.BadRequest")},
                                       {QStringLiteral("fieldViolations"),
                                        QJsonArray{QJsonObject{{QStringLiteral("field"), perr.field},
                                                               {QStringLiteral("description"), perr.message}}}}});
        m_server->finish(ex, ErrorMapping::toReply(Status::error(StatusCode::InvalidArgument, perr.message),
                                                   perr.httpStatus == 400 ? 0 : perr.httpStatus, details));
        return;
    }

    std::optional<std::chrono::milliseconds> timeout;
    const QByteArray deadline = request.value(QByteArrayLiteral("x-request-deadline-ms"));
    if (!deadline.isEmpty()) {
        bool ok = false;
        const qint64 ms = deadline.trimmed().toLongLong(&ok);
        if (!ok || ms <= 0) {
            m_server->finish(ex, ErrorMapping::toReply(Status::error(
                                     StatusCode::InvalidArgument,
                                     QStringLiteral("X-Request-Deadline-Ms must be a positive integer (milliseconds)"))));
            return;
        }
        timeout = std::chrono::milliseconds(ms);
    }

    GatewayDeps deps = m_server->deps();
    if (op == Operation::CountTokens) {
        deps.client->call(op, model, body, deadlineFor(timeout), completion(ex, op));
        return;
    }

    if (deps.client) {
        const CircuitBreaker::Snapshot circuit = deps.client->circuit();
        if (circuit.state == CircuitBreaker::State::Open) {
            if (deps.metrics)
                deps.metrics->recordRejection(RejectReason::CircuitOpen);
            m_server->finish(ex, ErrorMapping::toReply(Status::rejected(
                                     RejectReason::CircuitOpen,
                                     QStringLiteral("the upstream is failing (circuit open); retry after the indicated delay"),
                                     std::max(circuit.retryAfter, std::chrono::milliseconds(1000)))));
            return;
        }
    }

    if (op == Operation::StreamGenerateContent)
        ex->sse = QUrlQuery(url).queryItemValue(QStringLiteral("alt")) == QLatin1String("sse");

    InferenceRequest req;
    req.model = model;
    req.operation = op;
    req.batchKey = BatchKey::compute(model, op, body);
    req.body = std::move(body);
    req.timeout = timeout;
    req.wantsBodyJson = true; // complete() writes result.bodyJson as is
    req.packable = request.value(QByteArrayLiteral("x-sluice-pack")).trimmed().toLower() != "off";
    PackCodec::markPackability(req); // here, while the body is hot in cache; not again per batch
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

void GeminiRoutes::listModels(const std::shared_ptr<GatewayExchange> &ex, const QUrl &url)
{
    const QUrlQuery q(url);
    const int pageSize = q.queryItemValue(QStringLiteral("pageSize")).toInt();
    m_server->deps().client->listModels(pageSize, q.queryItemValue(QStringLiteral("pageToken")),
                                        deadlineFor(std::nullopt), completion(ex, Operation::CountTokens));
}

void GeminiRoutes::getModel(const std::shared_ptr<GatewayExchange> &ex, const QString &model)
{
    m_server->deps().client->getModel(model, deadlineFor(std::nullopt), completion(ex, Operation::CountTokens));
}
