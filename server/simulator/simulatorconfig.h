#pragma once

#include "core/engine/engineconfig.h"

#include <QHash>
#include <QJsonObject>
#include <QMetaType>
#include <QString>
#include <QStringList>

// The GeminiSimulator's knobs as one validated value (latency model, capacity,
// per-model quota, fault injection, time scale). A live change (setConfig() or
// PATCH /sim/v1/config) builds a whole new value, validates it and swaps it in.
//
// Time scale: every duration the simulator waits for is multiplied by
// `timeScale` before it is scheduled: service time (baseLatencyMs + output
// tokens / tokensPerSecond), embedLatencyMs, timeoutHoldMs, the one-minute
// quota window (60 s * timeScale) and the quota day (24 h * timeScale).
// RetryInfo.retryDelay and the message of a 429 report the *real* (scaled)
// time left in the window, with millisecond precision when it is not a whole
// number of seconds ("0.412s") and in whole seconds (rounded up) when
// timeScale >= 1; Retry-After (integral seconds by RFC 9110) is that value
// rounded up, at least 1.
//
// Quota (SimulatorQuota): per model, requests per minute (rpmLimit), input
// tokens per minute (tpmLimit: prompt tokens only, what Gemini's
// generate_content_input_token_count metric counts) and requests per day
// (rpdLimit: a fixed day that starts when the config is applied and resets
// every 24 h * timeScale, as Gemini's resets at midnight Pacific). Every
// model route but countTokens is charged. A refused request gets Gemini's 429
// RESOURCE_EXHAUSTED with Help, QuotaFailure and RetryInfo details.
//
// Fault rates are disjoint probabilities drawn from one seeded RNG per
// request: dropRate + timeoutRate + http500Rate + http503Rate <= 1.
//
// Service tiers (generateContent / streamGenerateContent; the body's
// top-level "serviceTier" or "service_tier": "standard" (also "unspecified"
// or absent), "flex" or "priority", any case, with or without the proto's
// "SERVICE_TIER_" prefix; another value is a 400 INVALID_ARGUMENT that names
// serviceTier and the allowed values):
//   standard  the latency model and quota above.
//   flex      service time * flexLatencyFactor; before the quota is charged
//             the request is shed with probability flexShedRate: 503
//             UNAVAILABLE saying the flex tier had no capacity and that it may
//             be retried on the standard tier (the shed request is charged no
//             quota). Drawn apart from the other faults, like
//             midStreamErrorRate. Charged to rpm/tpm/rpd like standard.
//   priority  service time * priorityLatencyFactor. Its requests count
//             against priorityRpmLimit (per model, a window of its own that
//             replaces rpmLimit for them; 0 = unlimited) and the model's
//             shared tpm/rpd windows, never against rpmLimit; a refusal is the
//             same 429 as rpmLimit's, with priorityRpmLimit as the limit.
// The factors multiply the jittered, scaled service time (SSE chunk offsets
// too). countTokens and batch members ignore serviceTier.
//
// Batch Mode (POST /v1beta/models/{model}:batchGenerateContent, inline
// requests only): a job is PENDING for batchPendingMs, RUNNING for batchRunMs
// more (both * timeScale, fixed when the job is created), then SUCCEEDED
// with every member's answer. Batch jobs use neither the quota (Gemini's
// Batch Mode has quotas of its own, not modelled) nor maxConcurrent.
//
// Thread: plain value type.

struct SimulatorModelLimits {
    int rpmLimit = 0; // requests per (scaled) minute for this model, 0 = unlimited
    int tpmLimit = 0; // input (prompt) tokens per (scaled) minute, 0 = unlimited
    int rpdLimit = 0; // requests per (scaled) day, 0 = unlimited

    bool operator==(const SimulatorModelLimits &) const = default;
};

struct SimulatorConfig {
    // An empty key accepts every request; otherwise x-goog-api-key or ?key= must match.
    QString apiKey;

    double baseLatencyMs = 450;   // fixed part of one generation's service time
    double tokensPerSecond = 180; // decode speed; 0 = output tokens cost no time
    double jitterSigma = 0.2;     // lognormal sigma of the service time (mean-preserving)
    double embedLatencyMs = 60;   // service time of embedContent / batchEmbedContents
    int maxConcurrent = 32;       // generations served at once; the rest wait FIFO
    int responseWords = 48;       // words of every generated answer (before maxOutputTokens)

    int rpmLimit = 0;             // default per-model requests per minute, 0 = unlimited
    int tpmLimit = 0;             // default per-model input tokens per minute, 0 = unlimited
    int rpdLimit = 0;             // default per-model requests per day, 0 = unlimited
    // Per-model overrides (model id without "models/"); a model listed here
    // takes all three limits from its entry (an absent field is 0, unlimited).
    QHash<QString, SimulatorModelLimits> modelLimits;

    double http500Rate = 0;
    double http503Rate = 0;
    double timeoutRate = 0;       // request is held timeoutHoldMs, then the connection is closed unanswered
    double dropRate = 0;          // connection closed at once, without a response
    double packDropRate = 0;      // each pack-mode member is left out of the answer with this probability
    // An SSE stream fails halfway (after at least one event) with this
    // probability: a 503 UNAVAILABLE error event, then the end of the
    // stream, as Gemini ends a stream that fails after it began. Drawn apart
    // from the other faults.
    double midStreamErrorRate = 0;
    QStringList packDropIds;      // pack-mode members with these ids are always left out
    double timeoutHoldMs = 600000;

    // Service tiers (see above).
    double flexLatencyFactor = 4;       // > 0
    double flexShedRate = 0;            // [0, 1]
    double priorityLatencyFactor = 0.5; // > 0
    int priorityRpmLimit = 0;           // per-model priority requests per (scaled) minute, 0 = unlimited

    // Batch Mode (see above); unscaled milliseconds.
    double batchPendingMs = 2000;
    double batchRunMs = 5000;

    double timeScale = 1.0;       // multiplies every simulated duration (see above)
    qint64 seed = 42;             // RNG seed for jitter and faults; reseeded on every config change
    qint64 maxBodyBytes = 32 * 1024 * 1024;

    QStringList models;           // model ids served; defaultModels() when empty

    bool operator==(const SimulatorConfig &) const = default;

    // The same validation error as EngineConfig's: the field named, e.g. "dropRate".
    using Error = ConfigError;

    Error validate() const;
    QJsonObject toJson() const;
    // PATCH semantics: fields present in `json` replace base's, then validate.
    // Unknown fields, wrong types and out-of-range values name the field; on
    // error *out is untouched.
    static Error fromJson(const QJsonObject &json, const SimulatorConfig &base, SimulatorConfig *out);

    SimulatorModelLimits limitsFor(const QString &model) const;
    QStringList effectiveModels() const;
    static QStringList defaultModels();
};

Q_DECLARE_METATYPE(SimulatorConfig)
