#include "core/engine/inferencebackend.h"
#include "core/engine/inferencerequest.h"

#include <array>
#include <utility>

namespace {
const std::array<std::pair<Operation, const char *>, 5> kOps{{
    {Operation::GenerateContent, "generateContent"},
    {Operation::StreamGenerateContent, "streamGenerateContent"},
    {Operation::EmbedContent, "embedContent"},
    {Operation::BatchEmbedContents, "batchEmbedContents"},
    {Operation::CountTokens, "countTokens"},
}};
} // namespace

QString operationName(Operation op)
{
    for (const auto &[o, name] : kOps)
        if (o == op)
            return QString::fromLatin1(name);
    return QStringLiteral("unknown");
}

std::optional<Operation> operationFromName(const QString &method)
{
    for (const auto &[o, name] : kOps)
        if (method == QLatin1String(name))
            return o;
    return std::nullopt;
}

int InferenceBackend::upstreamCallsFor(const Batch &batch) const
{
    return defaultUpstreamCalls(batch);
}

int defaultUpstreamCalls(const Batch &batch)
{
    const int n = int(batch.members.size());
    switch (batch.operation) {
    case Operation::EmbedContent:
    case Operation::BatchEmbedContents:
        return (n + 99) / 100;
    case Operation::CountTokens:
        return n;
    case Operation::GenerateContent:
    case Operation::StreamGenerateContent:
        if (batch.packing == PackingMode::Fanout)
            return n;
        int packable = 0;
        for (const auto &m : batch.members)
            packable += m.request.packable ? 1 : 0;
        return (packable > 0 ? 1 : 0) + (n - packable);
    }
    return n;
}
