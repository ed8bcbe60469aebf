#pragma once

#include "core/engine/engineconfig.h"
#include "core/engine/inferencerequest.h"
#include "core/util/clock.h"

#include <QByteArray>
#include <QString>

#include <functional>
#include <memory>
#include <span>
#include <vector>

struct BatchMember {
    quint64 requestId = 0;
    InferenceRequest request;
    SteadyTime deadline;     // the backend must give up (DEADLINE_EXCEEDED) by then, retries included
};

// One dispatched batch. All members share the batch key, hence model and operation.
struct Batch {
    quint64 id = 0;
    QByteArray key;
    QString model;
    Operation operation = Operation::GenerateContent;
    PackingMode packing = PackingMode::Pack;
    RetryPolicy retry;
    SteadyTime dispatchedAt;
    int upstreamCalls = 0;   // the calls the engine planned and charged to the upstream budget
    // generateContent: how many calls the packable members (isPackable())
    // share, split evenly in member order (== their number: each alone);
    // -1 = not planned: by `packing`, pack → one pack, else each alone.
    int packCalls = -1;
    // The first `prepaidCalls` calls the backend sends for this batch were
    // charged to the upstream budget by the engine already, with
    // `prepaidTokens` input tokens in all; any call beyond them (a retry, a
    // repack, a re-ask) the backend charges itself before sending it.
    int prepaidCalls = 0;
    long long prepaidTokens = 0;
    std::vector<BatchMember> members;
};

// Results for a batch: exactly members.size() entries, in member order.
// Thread-safe; call exactly once, from any thread.
using BatchCompletion = std::function<void(std::vector<InferenceResult>)>;

// The upstream the engine dispatches to. GeminiClient implements it against
// the Gemini REST API; tests provide their own.
//
// Thread: execute() is called on the engine thread and must not block; the
// backend does its work elsewhere and calls `done` from any thread.
class InferenceBackend
{
public:
    virtual ~InferenceBackend() = default;

    virtual void execute(std::shared_ptr<const Batch> batch, BatchCompletion done) = 0;

    // Upstream calls `requests` (one batch key) will cost when dispatched
    // together in `mode`, for the engine's rpmLimit accounting. The default:
    // pack → one call for the packable members plus one per other member;
    // fanout and countTokens → one per member; embeddings → ceil(n / 100)
    // batchEmbedContents calls. Called on the engine thread, under its lock:
    // it must be cheap and must not call back into the engine.
    virtual int upstreamCallsFor(Operation op, PackingMode mode,
                                 std::span<const InferenceRequest *const> requests) const;
    // The same for a built batch.
    int upstreamCallsFor(const Batch &batch) const;

    // Whether `request` may share a pack call (the default: a
    // generateContent request that did not opt out with X-Sluice-Pack: off).
    virtual bool isPackable(const InferenceRequest &request) const;
    // Output tokens one answer of `model` may hold: what bounds a pack.
    virtual int outputTokenLimit(const QString &model) const;
    // Output tokens a pack answer spends on the JSON around each member's answer.
    virtual int packMemberOverheadTokens() const;
};
