#include "core/quota/quotalimits.h"

QString quotaDimensionName(QuotaDimension d)
{
    switch (d) {
    case QuotaDimension::Rpm: return QStringLiteral("rpm");
    case QuotaDimension::Tpm: return QStringLiteral("tpm");
    case QuotaDimension::Rpd: return QStringLiteral("rpd");
    }
    return QStringLiteral("rpm");
}

std::optional<QuotaDimension> quotaDimensionFor(const QString &quotaId, const QString &quotaMetric)
{
    // quotaId names both what is counted and the period:
    // GenerateRequestsPerMinutePerProjectPerModel[-FreeTier],
    // GenerateRequestsPerDayPerProjectPerModel[-FreeTier],
    // GenerateContentInputTokensPerModelPerMinute[-FreeTier]. The metric
    // (.../generate_content_requests, .../generate_content_input_token_count)
    // says what is counted but not the period: alone, it is taken per minute.
    const bool tokens = quotaId.contains(QLatin1String("Tokens")) || quotaMetric.endsWith(QLatin1String("token_count"));
    const bool requests = quotaId.contains(QLatin1String("Requests")) || quotaMetric.endsWith(QLatin1String("requests"));
    const bool perDay = quotaId.contains(QLatin1String("PerDay"));
    if (tokens)
        return perDay ? std::nullopt : std::optional(QuotaDimension::Tpm); // tokens per day: not budgeted
    if (requests)
        return perDay ? QuotaDimension::Rpd : QuotaDimension::Rpm;
    return std::nullopt;
}
