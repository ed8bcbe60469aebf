#pragma once

#include "core/engine/inferencerequest.h"
#include "core/engine/tierrouting.h"
#include "core/metrics/metricssnapshot.h"
#include "core/util/clock.h"

#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QUrl>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

class BatchInferenceEngine;
class InferenceMetricsCollector;
class QNetworkReply;
class MemoryBudget;
class ServerThreadPoster;

// What BatchModeCollector is doing, for the metrics snapshot (read from any
// thread while the collector updates it on the server thread).
struct BatchModeStats {
    mutable std::mutex mutex;
    BatchModeState state;
};

// Gathers generateContent requests that can wait hours (TierRouting: Batch)
// into inline Gemini Batch Mode jobs — one per model, sent when it holds
// batchMaxRequests requests or batchMaxBytes of bodies, or its first request
// waited batchMaxAge — as `POST models/{m}:batchGenerateContent`, then polls
// `GET batches/{id}` every batchPollInterval and hands each request its
// answer from the job's inlinedResponses (matched by the metadata key Sluice
// gave it, or by position).
//
// Each request is also an operation of its own, `batches/sluice-<hex>`,
// in Gemini's operation shape (GenerateContentBatch metadata with
// BATCH_STATE_*, a GenerateContentBatchOutput with one inlined response when
// done), which GET /v1beta/batches/{id} returns to the API key that made it
// (`owner`: a digest of it) — what a client that asked `Prefer:
// respond-async` got in its 202 reads, with the official SDK's
// batches.get() too. A client waiting on the open connection gets the
// answer itself.
//
// Nothing accepted is lost: a job the upstream refuses, fails, cancels or
// loses sends its requests on as standard calls through the engine (while
// their deadline allows; otherwise they end DEADLINE_EXCEEDED); a request
// whose deadline passes before its job finishes ends DEADLINE_EXCEEDED.
// Operations are kept 24 h after they end (at most kMaxOperations), in
// this process only: when the gateway stops, clients still waiting for a
// job's answer lose their connection and pending operations are gone.
//
// Thread: the server thread (it owns a QNetworkAccessManager); stats() is
// shared with the metrics.
class BatchModeCollector : public QObject
{
    Q_OBJECT
public:
    static constexpr int kMaxOperations = 20000;

    // `poster` brings the engine's answers of fallen-back requests to this
    // thread; `memory` (may be null) is charged what the requests held for
    // jobs take (their bodies, twice: as received and as the job's JSON)
    // until they are answered.
    BatchModeCollector(QUrl upstream, QByteArray apiKey, BatchInferenceEngine *engine,
                       InferenceMetricsCollector *metrics, std::shared_ptr<BatchModeStats> stats,
                       std::shared_ptr<ServerThreadPoster> poster, MemoryBudget *memory = nullptr,
                       QObject *parent = nullptr);
    ~BatchModeCollector() override;

    void setConfig(const TierRoutingConfig &config);

    struct Admission {
        QString operation;  // "batches/sluice-…"; empty when refused
        Status refusal;
    };
    // `done` (may be empty: an asynchronous client) is called once on this
    // thread with the answer.
    Admission submit(InferenceRequest request, const QByteArray &owner, SteadyTime deadline,
                     std::function<void(InferenceResult)> done);
    // The waiting client left: its answer is not delivered (the operation stays).
    void detach(const QString &operation);
    // The operation in Gemini's shape, or nullopt when unknown or not `owner`'s.
    std::optional<QJsonObject> operation(const QString &name, const QByteArray &owner) const;

private:
    struct Operation {
        QString name;
        QByteArray owner;
        QString model;
        QDateTime created;
        QDateTime updated;
        QDateTime ended;
        QString state = QStringLiteral("BATCH_STATE_PENDING");
        QJsonObject inlined;     // {"response": …} or {"error": …} when done
        bool done = false;
        qint64 charged = 0;      // held in the memory budget until answered
        std::function<void(InferenceResult)> deliver;
    };
    struct Member {
        QString operation;
        InferenceRequest request;
        SteadyTime deadline;
        bool answered = false;
    };
    struct Job {
        quint64 serial = 0;
        QString model;
        std::vector<Member> members;
        qint64 bytes = 0;
        QString upstreamName;    // "batches/…" once created
        QTimer timer;            // age flush, then polls
        bool sent = false;
    };

    void flush(const std::shared_ptr<Job> &job);
    void created(const std::shared_ptr<Job> &job, QNetworkReply *reply);
    // The job's unfinished operations were just heard of: their updateTime,
    // and their state when the upstream gave one.
    void setState(const Job &job, const QString &state);
    void poll(const std::shared_ptr<Job> &job);
    void polled(const std::shared_ptr<Job> &job, QNetworkReply *reply);
    void expireMembers(const std::shared_ptr<Job> &job);
    void fallBack(const std::shared_ptr<Job> &job, const QString &why);
    void finishJob(const std::shared_ptr<Job> &job);
    void answer(Member &m, InferenceResult result, const QJsonObject &inlined);
    void updateStats();
    void prune();
    QNetworkReply *send(const QString &path, const QByteArray &body);

    QUrl m_upstream;
    QByteArray m_apiKey;
    BatchInferenceEngine *m_engine;
    InferenceMetricsCollector *m_metrics;
    std::shared_ptr<BatchModeStats> m_stats;
    std::shared_ptr<ServerThreadPoster> m_poster;
    MemoryBudget *m_memory;
    TierRoutingConfig m_config;
    QNetworkAccessManager m_net;
    QHash<QString, std::shared_ptr<Job>> m_open; // by model, gathering
    std::vector<std::shared_ptr<Job>> m_running;
    QHash<QString, Operation> m_operations;      // by name
    std::deque<QString> m_operationOrder;        // oldest first
    int m_waiting = 0;
    quint64 m_nextSerial = 1;
};
