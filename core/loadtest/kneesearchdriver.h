#pragma once

#include "core/loadtest/kneesearch.h"
#include "core/loadtest/locustrunner.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

// Runs a KneeSearch with Locust: one driven Locust run (LocustRunner with
// plan.driven, the master and workers of plan.workers) whose users it sets
// step after step. For each step: set the users, wait until Locust runs them
// all, warm up for the planned seconds (not measured), then measure from
// the runner's per-second samples until KneeSearch::check() has enough,
// record the window and ask the search for the next step. When the search is
// done (or the budget is spent) it stops Locust; finished() follows once
// every Locust process has ended.
//
// Time: the budget (config.maxSeconds) counts from start(), Locust's own
// start included. A step still running at maxSeconds - reserveSeconds is
// recorded if it measured its minimum, dropped otherwise, and the search
// ends there.
//
// Thread: lives on the thread that created it, like the LocustRunner it
// drives (which must outlive it and run nothing else meanwhile).
class KneeSearchDriver : public QObject
{
    Q_OBJECT
public:
    enum class StepState { Idle, Starting, Warmup, Measuring, Stopping };

    explicit KneeSearchDriver(LocustRunner *runner, QObject *parent = nullptr);

    // plan: target, workers, model, mix, Locust's paths (its step fields are
    // not used). False with *error: a bad config, or Locust could not start.
    bool start(const LoadTestPlan &plan, const KneeSearchConfig &config, QString *error);
    // Ends the search now: the step running is dropped; finished() follows.
    void stop();
    bool isRunning() const { return m_running; }

    const KneeSearch &search() const { return m_search; }
    const LoadTestPlan &plan() const { return m_plan; }
    double elapsedSeconds() const;
    StepState stepState() const { return m_state; }
    static QString stepStateName(StepState s);
    // The step running (or the last one): users and phase.
    const KneeSearch::Plan &currentStep() const { return m_step; }
    int currentOrder() const { return int(m_search.steps().size()); }

signals:
    void stepStarted(int order, int users);     // users asked of Locust
    void measuring(int order, int users);       // warm-up over: the measured window starts now
    void stepMeasured(const KneeSearch::Step &step);
    void finished(bool ok, const QString &error);

private:
    void onSampled();
    void onRunnerFinished(bool ok, const QString &error);
    void onDeadline();
    void complete(const WindowFigures &figures);
    void planNext();
    void finishSearch();

    LocustRunner *m_runner;
    LoadTestPlan m_plan;
    KneeSearch m_search;
    KneeSearch::Plan m_step;
    StepState m_state = StepState::Idle;
    QElapsedTimer m_clock;
    QTimer m_deadline;
    QTimer m_noSamples;         // fails the search when Locust writes no samples
    QString m_error;            // why the search failed before Locust ended
    double m_stepAskedAt = 0;   // seconds since the epoch, when the users were asked for
    double m_warmupEnd = 0;     // whole seconds since the epoch
    bool m_running = false;
    QMetaObject::Connection m_sampledConnection;
    QMetaObject::Connection m_finishedConnection;
};
