#pragma once

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QString>
#include <QStringView>

#include <array>
#include <chrono>
#include <optional>

// Who is served first and on which upstream tier (issue 15): the priority
// classes a request declares (X-Sluice-Priority), the tenants requests are
// attributed to, their configured shares and limits, and the upstream
// service tiers a request can be sent to.
//
// Thread: plain value types and pure functions.

enum class PriorityClass {
    Interactive, // a person or an agent in a loop waits for it
    Standard,    // the default
    Background,  // can wait: batch windows, cheaper tiers
};
constexpr int kPriorityClasses = 3;
QString priorityClassName(PriorityClass c); // "interactive", "standard", "background"
std::optional<PriorityClass> priorityClassFromName(QStringView name); // case-insensitive

// The upstream tier a call goes to. Standard, Flex and Priority are
// synchronous (the request body's `serviceTier`); Batch is Gemini's
// asynchronous Batch Mode (`models/{m}:batchGenerateContent`).
enum class ServiceTier { Standard, Flex, Priority, Batch };
constexpr int kServiceTiers = 4;
QString serviceTierName(ServiceTier t); // "standard", "flex", "priority", "batch"
// Case-insensitive, with or without the proto's "SERVICE_TIER_" prefix; "unspecified" = standard.
std::optional<ServiceTier> serviceTierFromName(QStringView name);

// "90s", "30m", "6h", "1d", "1500ms" or a bare number of seconds; at most
// 7 days. Null on anything else.
std::optional<std::chrono::milliseconds> parseDuration(QStringView text);
QString formatDuration(std::chrono::milliseconds d); // the largest unit that divides it: "90s", "30m", "6h"

// One tenant's share and limits (`tenants` in the config file). A limit of 0
// is no limit.
struct TenantPolicy {
    double weight = 1;                   // share of the upstream within a class, relative to other tenants
    PriorityClass priority = PriorityClass::Standard; // when the request declares none
    std::optional<std::chrono::milliseconds> deadline; // when the request declares none (X-Sluice-Deadline)
    int rpm = 0;                         // requests admitted per minute
    int tpm = 0;                         // estimated input tokens admitted per minute
    int maxConcurrent = 0;               // admitted and not yet answered
    int maxQueued = 0;                   // queued at once; 0 = no limit of its own (maxQueue applies)

    bool operator==(const TenantPolicy &) const = default;
};

// The `tenants` section: defaults for every tenant, and per tenant id
// overrides (an id is "key-" + the first 16 hex digits of the SHA-256 of
// its API key, which `sluice --tenant-id KEY` prints, or an X-Sluice-Tenant
// name). Per class: the weight of each class in the engine's choice between
// ready queues (a queue's oldest wait times its class's weight; background
// is never starved, only served later) and the default deadline of each class.
struct TenantsConfig {
    TenantPolicy defaults;
    QHash<QString, TenantPolicy> byId;
    std::array<double, kPriorityClasses> classWeights{16, 4, 1};
    std::array<std::optional<std::chrono::milliseconds>, kPriorityClasses> classDeadlines{};

    bool operator==(const TenantsConfig &) const = default;

    const TenantPolicy &policyFor(const QString &tenant) const;

    // Parses the section; unknown keys, wrong types and out-of-range values
    // are errors naming the path ("tenants.byId.key-…​.rpm"). *out untouched on error.
    static bool fromJson(const QJsonObject &json, TenantsConfig *out, QString *error);
    QJsonObject toJson() const;
};

// A tenant id from an API key: "key-" + 16 lowercase hex digits of its SHA-256.
// The key itself is never kept.
QString tenantIdForKey(QByteArrayView apiKey);
// Whether an X-Sluice-Tenant value is acceptable: 1..64 of [A-Za-z0-9._-],
// not starting with "key-" (those name API keys).
bool isValidTenantName(QStringView name);
