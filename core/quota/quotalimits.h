#pragma once

#include <QString>

#include <optional>

// The three dimensions of a Gemini project's quota, per model: requests per
// minute, input tokens per minute (what Gemini's TPM metric counts:
// generate_content_input_token_count) and requests per day.
//
// Thread: plain values and pure functions.

enum class QuotaDimension { Rpm, Tpm, Rpd };
constexpr int kQuotaDimensions = 3;

// "rpm", "tpm", "rpd": the label in metrics, the stats API and logs.
QString quotaDimensionName(QuotaDimension d);

// Which dimension a Gemini QuotaFailure violation names, from its quotaId
// (e.g. "GenerateRequestsPerMinutePerProjectPerModel-FreeTier") or, failing
// that, its quotaMetric (".../generate_content_input_token_count"); nullopt
// for a quota Sluice does not budget.
std::optional<QuotaDimension> quotaDimensionFor(const QString &quotaId, const QString &quotaMetric);

// Limits per model; 0 = none.
struct QuotaLimits {
    long long rpm = 0;
    long long tpm = 0;
    long long rpd = 0;

    long long &operator[](QuotaDimension d) { return d == QuotaDimension::Rpm ? rpm : d == QuotaDimension::Tpm ? tpm : rpd; }
    long long operator[](QuotaDimension d) const { return d == QuotaDimension::Rpm ? rpm : d == QuotaDimension::Tpm ? tpm : rpd; }
    bool operator==(const QuotaLimits &) const = default;
};
