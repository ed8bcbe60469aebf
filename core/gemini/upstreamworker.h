#pragma once

#include "core/engine/engineconfig.h"
#include "core/engine/streamsink.h"
#include "core/gemini/circuitbreaker.h"
#include "core/gemini/upstreamtransport.h"
#include "core/metrics/inferencemetricscollector.h"
#include "core/quota/upstreambudget.h"
#include "core/util/clock.h"
#include "core/util/status.h"

#include <QBasicTimer>
#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QUrl>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <unordered_set>

class GeminiError;
class Http1ConnectionPool;
class QNetworkAccessManager;
class QNetworkReply;

// What one logical upstream call produced, after its retries.
struct UpstreamOutcome {
    Status status;
    QJsonObject body;           // the response object (SSE: the aggregate of the chunks)
    QList<QJsonObject> chunks;  // SSE routes: the events, in order
    QByteArray raw;             // the answer's bytes instead of `body`, when UpstreamCall::rawAnswer
    int httpStatus = 0;         // of the answer (2xx on success)
    QByteArray protocol;        // "h2" or "http/1.1" of the last attempt that got an answer
    int attempts = 0;           // HTTP attempts made (0: refused by the circuit breaker first)
    qint64 streamedBytes = 0;   // with UpstreamCall::sink: body bytes passed to it
    bool streamErrorSent = false; // ... among which the upstream's error event
};

// One logical upstream call: an HTTP request retried per `retry` until it
// succeeds, fails for good, or `deadline` passes.
struct UpstreamCall {
    QByteArray verb = "POST";   // "POST" or "GET"
    QString path;               // after the base URL, e.g. "/v1beta/models/gemini-2.0-flash:generateContent"
    QString query;              // without '?', e.g. "alt=sse"
    QByteArray body;            // JSON, for POST
    bool sse = false;           // parse the answer as text/event-stream
    bool rawAnswer = false;     // hand a 2xx answer over unparsed (UpstreamOutcome::raw); not with sse
    // With sse: every piece of a 2xx body goes here as it arrives. Once a
    // piece went, the call is never retried (the client has it); the
    // sink's cancel() aborts the call (outcome "cancelled", CANCELLED).
    std::shared_ptr<StreamSink> sink;
    SteadyTime deadline;
    RetryPolicy retry;
    // The upstream budget (UpstreamSettings::budget): every attempt is
    // charged to `budgetModel` (with `budgetTokens` input tokens) before it
    // is sent — but the first when `prepaid` (the engine charged it with its
    // dispatch). An empty model is not budgeted (GET models).
    QString budgetModel;
    long long budgetTokens = 0;
    bool prepaid = false;
    UpstreamCallKind kind = UpstreamCallKind::Single; // later attempts count as Retry
    std::function<void(UpstreamOutcome)> done; // exactly once, on the worker's thread
};

// Settings shared by all workers of one GeminiClient (immutable once built).
struct UpstreamSettings {
    QUrl baseUrl;              // scheme://host[:port][/prefix]
    QByteArray apiKey;         // sent as x-goog-api-key; never logged, never in a URL
    bool http2Direct = false;  // h2c with prior knowledge for http:// upstreams
    // Qnam or Native (already resolved from Auto: Native only for http://
    // without http2Direct).
    UpstreamTransport transport = UpstreamTransport::Qnam;
    int maxConnectionsPerWorker = 256;                         // Native only
    std::chrono::milliseconds idleConnectionTimeout{30000};    // Native only
    Clock *clock = nullptr;
    CircuitBreaker *breaker = nullptr;
    std::atomic<quint64> *attemptCounter = nullptr; // counts HTTP attempts sent, may be null
    UpstreamBudget *budget = nullptr;               // may be null: nothing is budgeted
    InferenceMetricsCollector *metrics = nullptr;   // every attempt and its outcome; may be null
};

// One upstream worker: runs calls, retries and deadlines on its thread,
// through one of two transports (UpstreamSettings::transport):
// - Qnam: its own QNetworkAccessManager (hence up to 6 HTTP/1.1 connections
//   per host, or one multiplexed HTTP/2 connection), a timer per attempt;
// - Native: its own Http1ConnectionPool (up to maxConnectionsPerWorker
//   keep-alive HTTP/1.1 connections; calls beyond wait in the worker, FIFO),
//   one timer for the earliest deadline of the attempts in flight.
// Both give the same outcomes: attempts, circuit breaker records, errors
// (a transport error is UNAVAILABLE and retried; the message names the
// upstream), DEADLINE_EXCEEDED, and "http/1.1" or "h2" as the protocol.
//
// Metrics: every attempt that goes on the wire is recorded once when it
// ends (InferenceMetricsCollector::recordUpstreamAttempt), retries included:
// its kind (a second or later attempt is a Retry), its model and its
// outcome — the HTTP status of an answer, or a timeout (our deadline), a
// connection error, or a cancellation at shutdown. One gap: the native
// transport resends a request once, unseen, when a reused keep-alive
// connection fails before any answer byte (Http1ConnectionPool); when the
// upstream had read the first copy (it dropped the connection after
// reading), it counts two calls where this counts one attempt.
//
// The upstream budget: before each attempt the worker charges it (unless
// prepaid). When the budget has no room yet the call waits for it (not an
// attempt); when the room comes only after the call's deadline, it ends at
// once with 429 RESOURCE_EXHAUSTED and the budget's time as Retry-After.
// An upstream 429 teaches the budget (its QuotaFailure dimension and
// quotaValue, its RetryInfo), and the call goes back to the budget for its
// next attempt instead of sleeping through the RetryInfo delay blindly.
//
// Thread: lives on one "sluice-upstream-N" thread. post() and load() are
// thread-safe; shutdown() must run on the worker's thread.
class UpstreamWorker : public QObject
{
    Q_OBJECT
public:
    explicit UpstreamWorker(std::shared_ptr<const UpstreamSettings> settings, QObject *parent = nullptr);
    ~UpstreamWorker() override;

    // Queues a call onto this worker's thread.
    void post(UpstreamCall call);
    // Calls posted and not yet completed.
    int load() const { return m_load.load(std::memory_order_relaxed); }

    // Aborts everything in flight or waiting to retry; each call completes with
    // UNAVAILABLE and `reason`. Later posts complete the same way. Only the
    // first call acts.
    void shutdown(const QString &reason = QStringLiteral("upstream client shutting down"));

    // The INTERNAL status of a 2xx answer that is not a JSON object (`why`
    // from GeminiResponse::parse()); not retried.
    static Status unparseableAnswer(const QString &why, int http);

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    struct Active;

    void start(std::shared_ptr<Active> a);
    void attempt(const std::shared_ptr<Active> &a);
    void sendQnam(const std::shared_ptr<Active> &a, SteadyTime now);
    void sendNative(const std::shared_ptr<Active> &a);
    void onFinished(const std::shared_ptr<Active> &a, QNetworkReply *reply);
    // A piece of a 2xx event-stream body: parsed, and passed to the call's sink.
    void streamBody(Active *a, const QByteArray &bytes);
    // The call's sink was cancelled: abort what is on the wire, end the call CANCELLED.
    void cancelForClient(const std::shared_ptr<Active> &a);
    // The attempt's outcome, whichever transport carried it.
    void onAbandoned(const std::shared_ptr<Active> &a);
    void onTransportError(const std::shared_ptr<Active> &a, const QString &why);
    void onAnswer(const std::shared_ptr<Active> &a, int http, const QByteArray &body, const QByteArray &retryAfter);
    void fail(const std::shared_ptr<Active> &a, Status status, bool retryable);
    // The budget's say on the next attempt: true to send it now; false when
    // it waits (a timer calls attempt() again) or has ended the call.
    bool admittedByBudget(const std::shared_ptr<Active> &a, SteadyTime now);
    void learnQuota(const Active &a, const GeminiError &error);
    // The attempt in flight ended: counted once, with its outcome and HTTP status (0: no answer).
    void recordCall(const Active &a, UpstreamAttemptOutcome outcome, int httpStatus);
    void complete(const std::shared_ptr<Active> &a, Status status);
    QNetworkAccessManager *nam();
    Http1ConnectionPool *pool();
    QUrl callUrl(const UpstreamCall &call) const;
    QByteArray requestTarget(const UpstreamCall &call) const;
    QByteArray nativeRequest(const UpstreamCall &call) const;
    void watchDeadline(Active *a);
    void unwatchDeadline(Active *a);
    void armDeadlineTimer();

    std::shared_ptr<const UpstreamSettings> m_settings;
    QNetworkAccessManager *m_nam = nullptr;
    Http1ConnectionPool *m_pool = nullptr;
    QByteArray m_hostHeader;       // Native: Host header value
    QByteArray m_pathPrefix;       // Native: the base URL's path without a trailing '/', when m_verbatimPrefix
    bool m_verbatimPrefix = false; // Native: the prefix needs no encoding (else targets are built with QUrl)
    std::multimap<SteadyTime, Active *> m_deadlines; // Native attempts in flight
    QBasicTimer m_deadlineTimer;
    SteadyTime m_deadlineTimerAt;
    std::atomic<int> m_load{0};
    bool m_shutdown = false;
    QString m_shutdownReason; // what calls completed by or after shutdown() are told
    std::unordered_set<std::shared_ptr<Active>> m_active;
};
