#include "core/loadtest/kneesearchdriver.h"

#include <QDateTime>
#include <QLoggingCategory>

#include <cmath>

Q_LOGGING_CATEGORY(lcKneeSearch, "sluice.kneesearch")

namespace {

double nowSeconds()
{
    return double(QDateTime::currentMSecsSinceEpoch()) / 1000.0;
}

// Locust applies a new user count within a second (its shape ticks once a
// second) and spawns them at once; this long without it means it is stuck.
constexpr double kUsersTimeoutSeconds = 15;
// Locust starts in 2-4 s here (a master waits for its workers); a search
// without a sample by then runs a locustfile that does not write them.
constexpr int kFirstSampleTimeoutMs = 30000;

} // namespace

KneeSearchDriver::KneeSearchDriver(LocustRunner *runner, QObject *parent) : QObject(parent), m_runner(runner)
{
    m_deadline.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, &KneeSearchDriver::onDeadline);
    m_noSamples.setSingleShot(true);
    connect(&m_noSamples, &QTimer::timeout, this, [this] {
        if (!m_running || !m_runner->samples().isEmpty() || m_state == StepState::Stopping)
            return;
        m_error = QStringLiteral("Locust wrote no per-second samples to %1 within %2 s: the knee search needs Sluice's "
                                 "locustfile (loadtest/locustfile.py) or one that writes SLUICE_SAMPLES_FILE the same way")
                      .arg(m_runner->samplesPath())
                      .arg(kFirstSampleTimeoutMs / 1000);
        m_search.stop(false);
        finishSearch();
    });
}

QString KneeSearchDriver::stepStateName(StepState s)
{
    switch (s) {
    case StepState::Idle: return QStringLiteral("idle");
    case StepState::Starting: return QStringLiteral("starting");
    case StepState::Warmup: return QStringLiteral("warmup");
    case StepState::Measuring: return QStringLiteral("measuring");
    case StepState::Stopping: return QStringLiteral("stopping");
    }
    return {};
}

double KneeSearchDriver::elapsedSeconds() const
{
    return m_clock.isValid() ? double(m_clock.elapsed()) / 1000.0 : 0.0;
}

bool KneeSearchDriver::start(const LoadTestPlan &plan, const KneeSearchConfig &config, QString *error)
{
    if (m_running || m_runner->isRunning()) {
        *error = QStringLiteral("a load test is already running");
        return false;
    }
    const QString invalid = config.validate();
    if (!invalid.isEmpty()) {
        *error = QStringLiteral("the knee search's settings: ") + invalid;
        return false;
    }
    m_search = KneeSearch(config);
    m_clock.start();
    const std::optional<KneeSearch::Plan> first = m_search.next(0);
    if (!first) {
        *error = QStringLiteral("the knee search has no time for a step within %1 s").arg(config.maxSeconds);
        return false;
    }
    m_step = *first;
    m_plan = plan;
    m_plan.driven = true;
    m_plan.startUsers = m_step.users;
    // The driven shape stops Locust within a second; what is left of the reserve covers the rest.
    m_plan.stopGraceMs = std::min(m_plan.stopGraceMs, 3000);
    m_sampledConnection = connect(m_runner, &LocustRunner::sampled, this, &KneeSearchDriver::onSampled);
    m_finishedConnection = connect(m_runner, &LocustRunner::finished, this, &KneeSearchDriver::onRunnerFinished);
    if (!m_runner->start(m_plan, error)) {
        disconnect(m_sampledConnection);
        disconnect(m_finishedConnection);
        return false;
    }
    m_running = true;
    m_error.clear();
    m_noSamples.start(kFirstSampleTimeoutMs);
    m_state = StepState::Starting;
    m_stepAskedAt = nowSeconds();
    m_deadline.start(int(std::max(0.0, config.maxSeconds - config.reserveSeconds) * 1000));
    qCInfo(lcKneeSearch) << "knee search: start at" << m_step.users << "users, budget" << config.maxSeconds << "s,"
                         << m_plan.workers << "Locust workers";
    emit stepStarted(0, m_step.users);
    return true;
}

void KneeSearchDriver::stop()
{
    if (!m_running || m_state == StepState::Stopping)
        return;
    m_search.stop(/*budgetExhausted=*/false);
    finishSearch();
}

void KneeSearchDriver::finishSearch()
{
    m_state = StepState::Stopping;
    m_deadline.stop();
    m_runner->stop();
}

void KneeSearchDriver::onSampled()
{
    if (m_state == StepState::Idle || m_state == StepState::Stopping)
        return;
    const LoadSampleLog &log = m_runner->samples();
    const LocustSample &latest = log.latest();
    if (m_state == StepState::Starting) {
        const bool running = latest.users == m_step.users && latest.targetUsers == m_step.users;
        const bool stuck = latest.time - m_stepAskedAt > kUsersTimeoutSeconds;
        if (!running && !stuck)
            return;
        if (!running)
            qCWarning(lcKneeSearch) << "Locust runs" << latest.users << "users," << m_step.users << "asked for"
                                    << kUsersTimeoutSeconds << "s ago; measuring anyway";
        // Whole seconds: the window's counts are Locust's per-second ones.
        m_warmupEnd = std::ceil(latest.time + m_step.warmupSeconds);
        m_state = StepState::Warmup;
    }
    if (m_state == StepState::Warmup) {
        if (latest.time < m_warmupEnd)
            return;
        m_state = StepState::Measuring;
        emit measuring(currentOrder(), m_step.users);
    }
    const WindowFigures partial = log.window(m_warmupEnd, log.settledUntil());
    if (m_search.check(m_step, partial) != KneeSearch::Check::Continue)
        complete(partial);
}

void KneeSearchDriver::complete(const WindowFigures &figures)
{
    const KneeSearch::Step &step = m_search.record(m_step, figures);
    qCInfo(lcKneeSearch).noquote() << KneeSearch::describe(step);
    emit stepMeasured(step);
    planNext();
}

void KneeSearchDriver::planNext()
{
    const std::optional<KneeSearch::Plan> next = m_search.next(elapsedSeconds());
    if (!next) {
        finishSearch();
        return;
    }
    m_step = *next;
    QString error;
    if (!m_runner->setUsers(m_step.users, &error)) {
        qCWarning(lcKneeSearch).noquote() << error;
        m_search.stop(false);
        finishSearch();
        return;
    }
    m_state = StepState::Starting;
    m_stepAskedAt = nowSeconds();
    emit stepStarted(currentOrder(), m_step.users);
}

void KneeSearchDriver::onDeadline()
{
    if (!m_running || m_state == StepState::Stopping)
        return;
    if (m_state == StepState::Measuring) {
        const LoadSampleLog &log = m_runner->samples();
        const WindowFigures partial = log.window(m_warmupEnd, log.settledUntil());
        if (partial.seconds >= m_step.minMeasureSeconds) {
            m_search.record(m_step, partial);
            qCInfo(lcKneeSearch).noquote() << KneeSearch::describe(m_search.steps().constLast());
            emit stepMeasured(m_search.steps().constLast());
        }
    }
    qCInfo(lcKneeSearch) << "knee search: the budget of" << m_search.config().maxSeconds << "s is spent";
    m_search.stop(/*budgetExhausted=*/true);
    finishSearch();
}

void KneeSearchDriver::onRunnerFinished(bool ok, const QString &error)
{
    disconnect(m_sampledConnection);
    disconnect(m_finishedConnection);
    m_deadline.stop();
    m_noSamples.stop();
    const bool early = m_state != StepState::Stopping;
    m_state = StepState::Idle;
    m_running = false;
    if (early) {
        // Locust ended on its own before the search was done: whatever it said is the error.
        m_search.stop(false);
        emit finished(false, ok ? QStringLiteral("Locust ended before the knee search was done") : error);
        return;
    }
    if (!m_error.isEmpty()) {
        emit finished(false, m_error);
        return;
    }
    emit finished(ok, error);
}
