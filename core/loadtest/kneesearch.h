#pragma once

#include "core/loadtest/loadsamplelog.h"

#include <QJsonObject>
#include <QList>
#include <QString>

#include <optional>

// Finds the throughput knee of a gateway by choosing each load step from the
// ones before it (`sluice --capture-baseline` without step options, the
// console's "Find knee"). A pure state machine: KneeSearchDriver runs the
// steps with Locust and feeds their measurements in; the tests feed made-up
// ones.
//
// The search:
//  1. Ramp: users start at startUsers and grow x growth (2) per step while
//     achieved throughput keeps growing with them. It stops at the first step
//     where throughput grew less than plateauGain (10 %) per +100 % users
//     (plateau), p95 went over the limit, the error rate over maxErrorRate
//     (1 %; rejections are errors), or the load generator was saturated.
//  2. Bisect between the most users still below the knee and the fewest
//     already saturated (over a limit, or on the plateau: reaching
//     kneeFraction (95 %) of the best throughput measured with more users),
//     bisectSteps (2) times.
//  3. The knee is the step with the fewest users reaching kneeFraction of the
//     best trusted throughput while within the limits: where throughput
//     stops growing and latency starts to. When the limits come first, it
//     is the step with the highest throughput within them.
//
// Limits: p95LimitMs when set, else p95LimitRatio (1.5, the drift
// detector's driftRatio) x the first, lightest step's p95: a step whose p95
// the drift detector would call drift against light load is over the limit.
//
// Trust: a load-generator-bound step (LoadSampleLog::isBound) measured
// Locust, not the gateway: it ends the ramp, counts as saturated in a
// bisection, and never becomes the knee nor sets the best throughput. A step
// ended early for being far over a limit does not set the best either (a
// few seconds of throughput are too noisy).
//
// Step length, from the latency measured: warm-up (discarded: the users
// change and the queue settles) warmupLatencies (2) x the latest p95, at
// least minWarmupSeconds; then the measurement runs until it covers
// measureLatencies (8) x its own p95 and minSamples responses, at least
// minMeasureSeconds. Why 8: a window of W seconds at latency L counts about
// N*W/L requests of N users and misses at most one per user at its edges,
// so W >= 8 p95 (about 10 mean latencies) keeps that error under 10 % even
// with 4 users, and about 2 % at the knee's user counts. A step over a
// limit by a wide margin ends early (check(): Clear).
//
// Budget: maxSeconds for the whole search, reserveSeconds of it kept for
// stopping Locust and writing the result, stepOverheadSeconds per step for
// the user change and the counts to settle. next() plans a step only if its
// warm-up and minimum measurement still fit, and caps its measurement to
// what is left; when nothing fits the search ends with budgetExhausted.
//
// Thread: plain value; use from one thread.

struct KneeSearchConfig {
    int startUsers = 4;
    double growth = 2.0;
    int maxUsers = 20000;
    double plateauGain = 0.10;       // throughput gain per +100 % users below which it stopped growing
    double kneeFraction = 0.95;      // of the best throughput: reaching it means saturated
    double p95LimitMs = 0;           // 0 = p95LimitRatio x the first step's p95
    double p95LimitRatio = 1.5;      // DriftThresholds::driftRatio
    double maxErrorRate = 0.01;
    int bisectSteps = 2;
    double maxSeconds = 180;
    double reserveSeconds = 5;
    double stepOverheadSeconds = 2;
    double minWarmupSeconds = 2;
    double warmupLatencies = 2;
    double maxWarmupSeconds = 10;
    double minMeasureSeconds = 5;
    double measureLatencies = 8;
    double maxMeasureSeconds = 30;
    quint64 minSamples = 40;

    // The step overhead for a Locust with `workers` workers: the users
    // change within a second (the shape ticks once a second) and a step's
    // last second is final one second after it on a single Locust, two on a
    // master whose workers report every second.
    static double stepOverheadFor(int workers) { return workers > 0 ? 3 : 2; }

    // Empty when usable, else "field: what is wrong".
    QString validate() const;
    QJsonObject toJson() const;
};

class KneeSearch
{
public:
    enum class Phase { Ramp, Bisect, Done };
    // Grows/Plateau: a ramp step against the one before; Below/Saturated: a
    // bisection step against the best throughput; the rest: over a limit or
    // untrusted.
    enum class Verdict { Grows, Plateau, OverP95, Errors, Generator, Below, Saturated };

    struct Plan {
        int users = 0;
        Phase phase = Phase::Ramp;
        double warmupSeconds = 0;
        double minMeasureSeconds = 0;
        double maxMeasureSeconds = 0; // the step's share of what is left of the budget
    };

    struct Step {
        int order = 0;
        int users = 0;
        Phase phase = Phase::Ramp;
        double warmupSeconds = 0;
        WindowFigures figures;
        Verdict verdict = Verdict::Grows;
        QString decision;              // what the search concluded and does next
    };

    struct Result {
        bool found = false;
        int stepIndex = -1;            // into steps(), the knee's step
        int users = 0;
        double throughputRps = 0;
        double p95Ms = 0;
        QString method;                // how this knee was chosen
        QString reason;                // one sentence: the knee, or why there is none
        QStringList notes;             // the budget ran out, the generator was the bottleneck
        double bestRps = 0;            // the best trusted throughput measured
        int bestUsers = 0;
        double p95LimitMs = 0;
        bool budgetExhausted = false;
        bool generatorBound = false;   // a step was load-generator-bound
        int generatorBoundUsers = 0;   // the fewest users at which it was
        QString stoppedBy;             // plateau, p95, errors, generator, max-users, budget, ""

        QJsonObject toJson() const;    // the baseline's "search" summary (steps not included)
    };

    explicit KneeSearch(const KneeSearchConfig &config = {});

    const KneeSearchConfig &config() const { return m_config; }
    Phase phase() const { return m_phase; }
    bool done() const { return m_phase == Phase::Done; }

    // The next step, `elapsedSeconds` after the search started; nullopt when
    // the search is over (also when the budget has no room for another step).
    std::optional<Plan> next(double elapsedSeconds);

    // Whether the step running has measured enough. `partial` is its window
    // so far (warm-up excluded). Enough: long enough for its latency and
    // samples, or its budget is used up; Clear: over a limit by a wide
    // margin or the generator saturated: the verdict cannot change.
    enum class Check { Continue, Enough, Clear };
    Check check(const Plan &plan, const WindowFigures &partial) const;

    // Records the step `plan` asked for and decides what follows.
    const Step &record(const Plan &plan, const WindowFigures &figures);
    // Ends the search without another step (the budget ran out mid-step, or
    // the load test failed).
    void stop(bool budgetExhausted);

    const QList<Step> &steps() const { return m_steps; }
    double p95LimitMs() const { return m_p95Limit; }
    Result result() const;

    static QString verdictName(Verdict v);
    static QString phaseName(Phase p);
    // One line per step, as progress: users, req/s, p95, errors, generator CPU, decision.
    static QString describe(const Step &step);

private:
    bool trusted(const WindowFigures &f) const;
    bool valid(const WindowFigures &f) const;
    void startBisection(QString *decision);
    void finishWith(const QString &stoppedBy, QString *decision);
    bool measuresThroughput(const Step &s) const;
    double bestAbove(int users) const;
    bool saturated(const Step &s) const;

    KneeSearchConfig m_config;
    Phase m_phase = Phase::Ramp;
    QList<Step> m_steps;
    int m_nextUsers = 0;
    int m_lower = 0;             // bisection: most users known below the knee
    int m_upper = 0;             // bisection: fewest users known saturated
    int m_bisected = 0;
    double m_p95Limit = 0;
    bool m_budgetExhausted = false;
    QString m_stoppedBy;
};
