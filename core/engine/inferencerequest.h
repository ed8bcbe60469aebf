#pragma once

#include "core/engine/scheduling.h"
#include "core/util/clock.h"
#include "core/util/status.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QString>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

class StreamSink;

// What an agent asked for and what it gets back, as the engine and the
// upstream see them. Plain values: safe to copy and move across threads
// (JSON members are implicitly shared, so copies are cheap).

enum class Operation {
    GenerateContent,
    StreamGenerateContent,
    EmbedContent,
    BatchEmbedContents,
    CountTokens,
};

QString operationName(Operation op); // the Gemini method name, e.g. "generateContent"
std::optional<Operation> operationFromName(const QString &method);

struct InferenceRequest {
    QString model;          // bare model id, e.g. "gemini-2.0-flash" (no "models/" prefix)
    Operation operation = Operation::GenerateContent;
    QJsonObject body;       // the agent's Gemini request body
    QByteArray batchKey;    // BatchKey::compute(); submit() fills it when empty
    bool packable = true;   // false when the agent sent `X-Sluice-Pack: off`
    // PackCodec::markPackability() already ran: `packable` then holds the
    // whole answer of PackCodec::isPackable(), which trusts it instead of
    // inspecting the body again (it is asked once per member per batch).
    bool packableChecked = false;
    // With packableChecked and packable: PackCodec::memberText() of the body,
    // taken while the body was inspected anyway.
    QString packText;
    // Bound on the whole wait (queue + upstream), from X-Request-Deadline-Ms;
    // when absent EngineConfig::requestTimeoutMs applies, and the engine
    // clamps a larger one to it (a client may only shorten its deadline).
    std::optional<std::chrono::milliseconds> timeout;
    // Input tokens this request is expected to cost upstream, what Gemini's
    // TPM quota counts (the upstream budget charges it before the call and
    // settles it from usageMetadata after). submit() estimates it when 0:
    // bodyBytes / 4, or the body's compact JSON / 4 when bodyBytes is 0;
    // for countTokens it sets 1 whatever was given (it spends no TPM).
    int estimatedTokens = 0;
    // Of estimatedTokens, the systemInstruction's: what a pack of members
    // sharing it (they share a BatchKey) sends once, not once per member.
    // submit() estimates it along with estimatedTokens.
    int sharedTokens = 0;
    // The size of the body as the agent sent it (the gateway knows it for
    // free); 0 when unknown.
    int bodyBytes = 0;
    // generationConfig.maxOutputTokens, 0 when unset; submit() fills it.
    int maxOutputTokens = 0;
    // The caller only writes the answer out as JSON (the gateway): a backend
    // may then deliver it as InferenceResult::bodyJson and leave body empty,
    // which spares building a QJsonObject only to serialise it again.
    bool wantsBodyJson = false;
    // streamGenerateContent: where the upstream's events go as they arrive
    // (never packed; a call of its own). Without one, the events are
    // collected and delivered with the result (InferenceResult::chunks).
    std::shared_ptr<StreamSink> stream;

    // Scheduling (issue 15). The class decides which ready queue goes
    // first (its weight times the wait; interactive never waits behind
    // background work for an in-flight slot); the tenant shares its class's
    // upstream calls with the other tenants by weighted fair queuing and is
    // held to its own limits (TenantsConfig). An empty tenant is "anonymous".
    PriorityClass priority = PriorityClass::Standard;
    QString tenant;
    // The upstream tier the body asks for (its `serviceTier`; Standard when
    // absent). With flexFallback (Sluice chose flex for a request that can
    // wait), a flex call shed by the upstream (503) or not answered while a
    // standard call still fits the deadline is sent again on the standard
    // tier instead of failing or being retried on flex.
    ServiceTier tier = ServiceTier::Standard;
    bool flexFallback = false;
    // The client declared how long it can wait (X-Sluice-Deadline, or its
    // tenant's or class's default): `timeout` may then exceed
    // requestTimeoutMs, up to kMaxDeclaredDeadline.
    bool deadlineDeclared = false;
    static constexpr std::chrono::hours kMaxDeclaredDeadline{24 * 7};
};

struct InferenceResult {
    Status status;
    QJsonObject body;          // the Gemini response body for this member
    // When not empty: the compact JSON of the body (exactly what
    // QJsonDocument(body).toJson(Compact) gives), and `body` may be empty.
    // Only set for requests with wantsBodyJson.
    QByteArray bodyJson;
    QList<QJsonObject> chunks; // streamGenerateContent: SSE events in order (cumulative usage on the last)
    int promptTokens = 0;
    int outputTokens = 0;
    QByteArray protocol;       // upstream protocol actually used: "http/1.1", "h2"
    int upstreamAttempts = 0;  // attempts the upstream needed for this member (0 = never sent)
    // With a StreamSink: bytes already passed to it (the answer has begun,
    // so an error now must be told inside the stream), and whether those
    // bytes already hold the upstream's own error event.
    qint64 streamedBytes = 0;
    bool streamErrorSent = false;

    // Filled by the engine.
    Nanos queueWait{0};        // admission to dispatch
    Nanos upstreamTime{0};     // dispatch to the backend's answer
    Nanos totalTime{0};        // admission to completion
    int batchSize = 0;         // members in the batch this request travelled in
    ServiceTier tier = ServiceTier::Standard; // the tier that answered (after any flex fallback)

    static InferenceResult fromStatus(Status s)
    {
        InferenceResult r;
        r.status = std::move(s);
        return r;
    }
};

// Invoked exactly once per submitted request, on whichever thread finished it
// (the caller of submit() for an immediate rejection, the engine thread for
// expiry/cancellation, an upstream thread for an answer). It must be cheap and
// must not call back into the engine synchronously; hop threads instead.
using CompletionCallback = std::function<void(InferenceResult)>;

Q_DECLARE_METATYPE(InferenceResult)
