#pragma once

#include <QHash>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QString>

#include <chrono>
#include <deque>
#include <optional>
#include <random>

// The GeminiSimulator's Batch Mode jobs (batchGenerateContent with inline
// requests): the store, the state machine and the Operation JSON, in the
// shapes of ../shared/fixtures/gemini/batch_operation_{pending,succeeded}.json.
//
// A job's answers are computed when it is created (the caller plans every
// member as generateContent would answer it); time only decides when they
// are shown. States: PENDING from creation until runAt, RUNNING until
// doneAt, then SUCCEEDED; cancel() ends a PENDING or RUNNING job as
// CANCELLED at once. Jobs move only in advance(now) (and cancel()), so a
// caller that advances before it reads sees states and gauges agree.
// Timestamps: createTime is the wall time of create(); a state change's
// updateTime (and endTime) is createTime plus its scheduled offset, so they
// do not depend on when advance() runs; RFC 3339 UTC with nanoseconds.
//
// Operation JSON (google.longrunning.Operation): name "batches/<id>",
// metadata {"@type" ...GenerateContentBatch, model, displayName (when not
// empty), createTime, updateTime, endTime (when finished), batchStats, state
// BATCH_STATE_*, name}; when SUCCEEDED also done: true and response
// {"@type" ...GenerateContentBatchOutput, inlinedResponses: {inlinedResponses:
// [...]}} in request order, each {response} or {error: {code, message,
// status}}, plus metadata when the request had some. The same output is in
// metadata.output (GenerateContentBatch.output, where @google/genai reads
// a job's dest; the recorded fixture leaves it out). CANCELLED has done: true
// and no response. batchStats counts are int64, so JSON strings, and like
// every proto3 JSON field they are left out when 0: PENDING and RUNNING have
// requestCount and pendingRequestCount, SUCCEEDED requestCount,
// successfulRequestCount and failedRequestCount, CANCELLED requestCount.
//
// At most kMaxJobs jobs are kept: creating one more first forgets the
// oldest finished job; when every kept job is unfinished, create() refuses.
//
// Thread: not thread-safe; owned by the simulator's server thread. A pure
// policy: the caller passes the times.
class SimulatorBatches
{
public:
    using Clock = std::chrono::steady_clock;
    using WallClock = std::chrono::system_clock;

    enum class State { Pending, Running, Succeeded, Cancelled };

    struct Member {
        QJsonObject response; // the GenerateContentResponse; empty when `error` is set
        QJsonObject error;    // {code, message, status} of an invalid request
        QJsonValue metadata;  // as sent; null or undefined when absent
    };

    struct Job {
        QString id;           // the name is "batches/" + id
        QString model;        // model id, without "models/"
        QString displayName;
        QList<Member> members;
        State state = State::Pending;
        Clock::time_point createdAt;
        Clock::time_point runAt;
        Clock::time_point doneAt;
        WallClock::time_point createTime;
        WallClock::time_point updateTime;            // set by cancel(); scheduled changes derive theirs
        std::optional<WallClock::time_point> endTime; // set by cancel()

        bool finished() const { return state == State::Succeeded || state == State::Cancelled; }
    };

    struct Transitions {
        int started = 0;   // PENDING -> RUNNING
        int succeeded = 0; // RUNNING -> SUCCEEDED
    };

    enum class CancelResult { Cancelled, NotFound, AlreadyFinished };

    static constexpr int kMaxJobs = 1000;

    // Ids come from an RNG seeded at random: they stay unique across
    // config changes (which reseed the simulator's own RNG).
    SimulatorBatches();

    // The new job (valid until the next call that changes the store), or
    // nullptr when kMaxJobs unfinished jobs are kept.
    const Job *create(const QString &model, const QString &displayName, QList<Member> members,
                      Clock::duration pending, Clock::duration run, Clock::time_point now,
                      WallClock::time_point wallNow);
    // Moves every job whose time has come (a job may pass RUNNING in one call).
    Transitions advance(Clock::time_point now);
    // When the next job moves; nullopt when none will.
    std::optional<Clock::time_point> nextDeadline() const;
    const Job *find(const QString &id) const;
    CancelResult cancel(const QString &id, WallClock::time_point wallNow);
    bool remove(const QString &id);
    // Newest first.
    QList<const Job *> list() const;
    int count(State state) const;
    int size() const { return int(m_jobs.size()); }

    static QJsonObject operationJson(const Job &job);
    static QString stateName(State state);
    // RFC 3339 in UTC with nine fractional digits: "2025-12-03T17:23:06.004734302Z".
    static QString timestamp(WallClock::time_point t);

private:
    QString newId();

    QHash<QString, Job> m_jobs;
    std::deque<QString> m_order; // ids, oldest first
    std::mt19937_64 m_idRng;
};
