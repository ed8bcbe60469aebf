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
