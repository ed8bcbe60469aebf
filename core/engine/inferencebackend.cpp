#include "core/engine/inferencebackend.h"

int InferenceBackend::upstreamCallsFor(Operation op, PackingMode mode,
                                       std::span<const InferenceRequest *const> requests) const
{
    const int n = int(requests.size());
    switch (op) {
    case Operation::EmbedContent:
    case Operation::BatchEmbedContents:
        return (n + 99) / 100;
    case Operation::CountTokens:
    case Operation::StreamGenerateContent: // streams are never packed
        return n;
    case Operation::GenerateContent:
        if (mode == PackingMode::Fanout)
            return n;
        int packable = 0;
        for (const InferenceRequest *r : requests)
            packable += r->packable ? 1 : 0;
        return (packable > 0 ? 1 : 0) + (n - packable);
    }
    return n;
}

int InferenceBackend::upstreamCallsFor(const Batch &batch) const
{
    std::vector<const InferenceRequest *> requests;
    requests.reserve(batch.members.size());
    for (const BatchMember &m : batch.members)
        requests.push_back(&m.request);
    return upstreamCallsFor(batch.operation, batch.packing, requests);
}

bool InferenceBackend::isPackable(const InferenceRequest &request) const
{
    return request.packable && request.operation == Operation::GenerateContent;
}

int InferenceBackend::outputTokenLimit(const QString &) const
{
    return 8192;
}

int InferenceBackend::packMemberOverheadTokens() const
{
    return 16;
}
