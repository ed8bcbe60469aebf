#pragma once

#include <QJsonObject>
#include <QMetaType>
#include <QString>

#include <optional>

// The engine's live knobs (DESIGN.md §8) as one validated value. A live change
// builds a whole new EngineConfig, validates it, and swaps it in atomically;
// nothing ever mutates the config in force.
//
// Defaults and allowed ranges are documented in exactly one place: the field
// table in engineconfig.cpp (kFields), which also drives validation, the JSON
// round trip and `sluice --help`.
//
// Thread: plain value type.

enum class PackingMode {
    Fanout, // each member of a batch is its own upstream call, concurrently
    Pack,   // compatible single-turn members go upstream as ONE JSON-mode call
    Auto,   // fanout while the upstream budget has room, packs as it runs short (PackPlanner)
};

struct RetryPolicy {
    int maxAttempts = 4;         // total attempts including the first, 1..10
    int initialBackoffMs = 250;  // first backoff, doubled each attempt, with jitter
    int maxBackoffMs = 8000;     // cap on one backoff

    bool operator==(const RetryPolicy &) const = default;
};

struct ConfigError {
    QString field;   // JSON path of the offending field, e.g. "retry.maxAttempts"
    QString message; // what is wrong and what is allowed

    bool isNull() const { return field.isEmpty() && message.isEmpty(); }
    QString toString() const; // "field: message"
};

struct EngineConfig {
    int maxBatchSize = 16;
    int maxWaitMs = 10;
    int maxQueue = 2048;
    int maxInflightBatches = 64;
    int requestTimeoutMs = 120000;
    // The upstream's quota per model (Gemini's are per project and model):
    // upstream calls per minute, input tokens per minute, calls per day;
    // 0 = not configured (then learned from the upstream's 429s).
    int rpmLimit = 0;
    int tpmLimit = 0;
    int rpdLimit = 0;
    // While a model's RPM is neither configured nor learned, calls are paced
    // at this many per minute, doubling every 2 s in which they are held
    // back, until a 429 teaches the real limit; 0 = an unknown quota is unlimited.
    int quotaProbeRpm = 60;
    int maxPackSize = 64; // members in one pack call (auto may exceed maxBatchSize up to it)
    RetryPolicy retry;
    PackingMode packing = PackingMode::Auto;
    bool adaptive = false;
    int targetP95Ms = 2000;

    bool operator==(const EngineConfig &) const = default;

    // Returns a null error when every field is within its range.
    ConfigError validate() const;

    QJsonObject toJson() const;

    // Applies the fields present in `json` on top of `base` (PATCH semantics:
    // absent fields keep base's value), then validates. Unknown fields, wrong
    // JSON types, non-integral numbers and out-of-range values are errors that
    // name the field; on error *out is untouched.
    static ConfigError fromJson(const QJsonObject &json, const EngineConfig &base, EngineConfig *out);

    // One line per knob: name, default, range, meaning. Used by --help and the README.
    static QString describeKnobs();
};

QString packingModeName(PackingMode mode);
std::optional<PackingMode> packingModeFromName(const QString &name);

Q_DECLARE_METATYPE(EngineConfig)
