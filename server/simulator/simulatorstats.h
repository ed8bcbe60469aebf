#pragma once

#include <QJsonObject>
#include <QMap>
#include <QMetaType>
#include <QString>

// Counters of one GeminiSimulator since start (or the last resetStats()).
// GeminiSimulator::stats() returns a consistent copy; GET /sim/v1/stats
// returns toJson().
//
// JSON: the fields below by name, except rateLimitedRpm/Tpm/Rpd, which are
// "rateLimitedPerReason": {"rpm": n, "tpm": n, "rpd": n} (every key, also 0;
// a priorityRpmLimit refusal counts as rpm), callsPerTier, which always has
// "standard", "flex" and "priority", and the batch* job counters, which are
// "batchJobs": {"created", "pending", "running", "succeeded", "cancelled"}.
//
// callsPerTier counts the generateContent / streamGenerateContent calls
// admitted to service (past validation, flex shedding and the quota; the
// fault dice come after) per service tier; flexShed the flex calls shed
// with a 503. Batch jobs: created, succeeded and cancelled count events;
// pending and running are gauges (jobs in that state now); batchRequests
// counts the inline requests of the jobs created.
//
// Routes are named generateContent, streamGenerateContent, embedContent,
// batchEmbedContents, countTokens, listModels, getModel, simConfig, simStats,
// batchGenerateContent, getBatch, listBatches, cancelBatch, deleteBatch,
// unknown. Faults are named drop, timeout, http500, http503, packDrop,
// midStreamError.
//
// Thread: plain value type.
struct SimulatorStats {
    qint64 requests = 0;                 // HTTP requests parsed (every route)
    qint64 badRequests = 0;              // malformed HTTP (request line, headers, size)
    QMap<QString, qint64> callsPerRoute;
    QMap<QString, qint64> callsPerModel; // model routes only
    QMap<int, qint64> responsesPerStatus;
    QMap<QString, qint64> faults;
    qint64 rateLimited = 0;              // 429s sent by the quota model, all reasons
    qint64 rateLimitedRpm = 0;           // of which refused by requests per minute
    qint64 rateLimitedTpm = 0;           // by input tokens per minute
    qint64 rateLimitedRpd = 0;           // by requests per day
    int inFlight = 0;                    // generations being served now
    int queued = 0;                      // generations waiting for a slot now
    int maxInFlight = 0;                 // high-water mark of inFlight
    int maxQueued = 0;                   // high-water mark of queued
    qint64 completed = 0;                // generations whose answer was written in full
    qint64 abandoned = 0;                // generations whose client left before the answer was written in full
    qint64 promptTokens = 0;
    qint64 outputTokens = 0;
    int openConnections = 0;
    QMap<QString, qint64> callsPerTier;  // "standard", "flex", "priority"
    qint64 flexShed = 0;
    qint64 batchJobsCreated = 0;
    int batchJobsPending = 0;            // gauge
    int batchJobsRunning = 0;            // gauge
    qint64 batchJobsSucceeded = 0;
    qint64 batchJobsCancelled = 0;
    qint64 batchRequests = 0;

    qint64 route(const QString &name) const { return callsPerRoute.value(name); }
    qint64 fault(const QString &name) const { return faults.value(name); }
    qint64 tier(const QString &name) const { return callsPerTier.value(name); }
    QJsonObject toJson() const;
};

Q_DECLARE_METATYPE(SimulatorStats)
