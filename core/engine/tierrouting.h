#pragma once

#include "core/engine/inferencerequest.h"
#include "core/engine/scheduling.h"

#include <QJsonObject>
#include <QString>

#include <chrono>
#include <optional>

// Which upstream tier a request that declared how long it can wait goes to
// (issue 15, the `tiers` section of the config file): the cheapest one that
// meets its deadline.
//
//   - A request with no declared deadline, or whose body names a
//     `serviceTier` itself, is left as it is (standard unless it says so).
//   - generateContent that can wait at least batchMinDeadline → Batch Mode:
//     gathered with others into one inline `batchGenerateContent` job.
//   - generateContent / streamGenerateContent whose deadline is at least
//     flexDeadlineFactor times the flex latency (observed, or
//     flexAssumedSeconds until a flex call answered) → flex, falling back
//     to standard when flex sheds it or the deadline runs short.
//   - Everything else → standard.
//
// Thread: plain value type and pure function.
struct TierRoutingConfig {
    bool flex = true;
    bool batch = true;
    double flexAssumedSeconds = 120;    // Gemini's flex target is 1..15 minutes
    double flexDeadlineFactor = 2;
    std::chrono::milliseconds batchMinDeadline{std::chrono::hours(1)};
    int batchMaxRequests = 1000;        // a job is sent when it holds this many requests...
    qint64 batchMaxBytes = 16 * 1024 * 1024; // ...or this many body bytes (Gemini: inline under 20 MB)...
    std::chrono::milliseconds batchMaxAge{std::chrono::seconds(60)}; // ...or its first request waited this long
    std::chrono::milliseconds batchPollInterval{std::chrono::seconds(30)}; // GET batches/{id} this often
    int batchMaxWaiting = 10000;        // requests gathered or in jobs at once; beyond, 429

    bool operator==(const TierRoutingConfig &) const = default;

    // Errors name the path ("tiers.batchMaxAge"); *out untouched on error.
    static bool fromJson(const QJsonObject &json, TierRoutingConfig *out, QString *error);
    QJsonObject toJson() const;
};

namespace TierRouting {
// `bodyTier`: the tier the body names (nullopt: none). `observedFlexSeconds`:
// what flex calls took, nullopt until one answered.
ServiceTier choose(Operation op, std::optional<ServiceTier> bodyTier, std::optional<std::chrono::milliseconds> deadline,
                   const TierRoutingConfig &config, std::optional<double> observedFlexSeconds);
}
