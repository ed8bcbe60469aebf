#include "core/loadtest/loadtestcontroller.h"

#include "core/drift/latencydriftsignal.h"
#include "core/metrics/inferencemetricscollector.h"

#include <QJsonArray>

#include <algorithm>
#include <cmath>

LoadTestController::LoadTestController(InferenceMetricsCollector *metrics, QObject *parent)
    : QObject(parent), m_metrics(metrics)
{
    m_status = {{QStringLiteral("state"), QStringLiteral("idle")}, {QStringLiteral("id"), 0}};
    connect(&m_runner, &LocustRunner::progressed, this, [this](const LoadTestProgress &p) {
        m_progress = p;
        if (m_searching) {
            m_progress.step = m_driver.currentOrder();
            m_progress.steps = m_driver.currentOrder() + 1;
        }
        publish();
    });
    connect(&m_runner, &LocustRunner::stepCompleted, this, &LoadTestController::onStep);
    connect(&m_runner, &LocustRunner::finished, this, &LoadTestController::onFinished);
    connect(&m_driver, &KneeSearchDriver::stepStarted, this, [this] { publish(); });
    connect(&m_driver, &KneeSearchDriver::measuring, this, [this](int, int users) {
        // The gateway's side of the step covers the measured window only, not the warm-up.
        m_monitor.stepStarted(users);
        publish();
    });
    connect(&m_driver, &KneeSearchDriver::stepMeasured, this, &LoadTestController::onSearchStep);
    connect(&m_driver, &KneeSearchDriver::finished, this, &LoadTestController::onSearchFinished);
    if (m_metrics)
        connect(m_metrics, &InferenceMetricsCollector::snapshotReady, this, &LoadTestController::observe);
}

bool LoadTestController::reset(const QJsonObject &engineConfig, const QJsonObject &environment, bool searching,
                               QString *error)
{
    if (m_runner.isRunning()) {
        *error = QStringLiteral("a load test is already running (id %1); stop it first").arg(id());
        return false;
    }
    m_monitor.reset();
    m_stepHistograms.clear();
    m_progress = {};
    m_engineConfig = engineConfig;
    m_environment = environment;
    m_searching = searching;
    return true;
}

quint64 LoadTestController::start(const LoadTestPlan &plan, const QJsonObject &engineConfig,
                                  const QJsonObject &environment, QString *error)
{
    if (!reset(engineConfig, environment, false, error))
        return 0;
    m_plan = plan;
    if (!m_runner.start(plan, error))
        return 0;
    m_monitor.stepStarted(plan.usersAt(0));
    {
        std::lock_guard lock(m_mutex);
        ++m_id;
        m_status = {};
    }
    publish();
    return id();
}

quint64 LoadTestController::startSearch(const LoadTestPlan &plan, const KneeSearchConfig &search,
                                        const QJsonObject &engineConfig, const QJsonObject &environment, QString *error)
{
    if (!reset(engineConfig, environment, true, error))
        return 0;
    if (!m_driver.start(plan, search, error)) {
        m_searching = false;
        return 0;
    }
    m_plan = m_driver.plan();
    {
        std::lock_guard lock(m_mutex);
        ++m_id;
        m_status = {};
    }
    publish();
    return id();
}

void LoadTestController::stop()
{
    if (m_searching)
        m_driver.stop();
    else
        m_runner.stop();
}

bool LoadTestController::isRunning() const
{
    return m_runner.isRunning();
}

quint64 LoadTestController::id() const
{
    std::lock_guard lock(m_mutex);
    return m_id;
}

QJsonObject LoadTestController::status() const
{
    std::lock_guard lock(m_mutex);
    return m_status;
}

std::optional<PerformanceBaseline> LoadTestController::lastBaseline() const
{
    std::lock_guard lock(m_mutex);
    return m_baseline;
}

void LoadTestController::observe(const MetricsSnapshot &snapshot)
{
    if (m_runner.isRunning())
        m_monitor.observe(snapshot);
}

void LoadTestController::recordStepHistogram(double seconds)
{
    if (m_metrics)
        m_stepHistograms << m_metrics->windowHistogram(InferenceMetricsCollector::Histogram::Latency,
                                                       std::clamp(int(std::lround(seconds)), 1, 59));
}

void LoadTestController::onStep(int, const BaselineStep &client)
{
    m_monitor.stepFinished(client);
    recordStepHistogram(m_plan.stepSeconds);
    publish();
}

void LoadTestController::onSearchStep(const KneeSearch::Step &step)
{
    const WindowFigures &f = step.figures;
    BaselineStep s;
    s.users = step.users;
    s.offeredRps = f.offeredRps;
    s.achievedRps = f.achievedRps;
    s.p50Ms = f.p50Ms;
    s.p95Ms = f.p95Ms;
    s.p99Ms = f.p99Ms;
    s.errorRate = f.errorRate;
    s.generator = f.generator;
    BaselineStepSearch x;
    x.order = step.order;
    x.phase = KneeSearch::phaseName(step.phase);
    x.warmupSeconds = step.warmupSeconds;
    x.measureSeconds = f.seconds;
    x.verdict = KneeSearch::verdictName(step.verdict);
    x.decision = step.decision;
    s.search = x;
    m_monitor.stepFinished(s);
    // The gateway's latency over the same seconds: the step's load is still running.
    recordStepHistogram(f.seconds);
    publish();
}

QJsonObject LoadTestController::searchStatus() const
{
    QJsonArray lines;
    for (const KneeSearch::Step &s : m_driver.search().steps())
        lines.append(KneeSearch::describe(s));
    QJsonObject o{{QStringLiteral("phase"), KneeSearch::phaseName(m_driver.search().phase())},
                  {QStringLiteral("stepState"), KneeSearchDriver::stepStateName(m_driver.stepState())},
                  {QStringLiteral("stepUsers"), m_driver.currentStep().users},
                  {QStringLiteral("elapsedSeconds"), m_driver.elapsedSeconds()},
                  {QStringLiteral("maxSeconds"), m_driver.search().config().maxSeconds},
                  {QStringLiteral("workers"), m_plan.workers},
                  {QStringLiteral("p95LimitMs"), m_driver.search().p95LimitMs()},
                  {QStringLiteral("lines"), lines}};
    if (m_driver.search().done() && !m_runner.isRunning())
        o.insert(QStringLiteral("result"), m_driver.search().result().toJson());
    return o;
}

void LoadTestController::publish()
{
    QJsonArray curve;
    for (const BaselineStep &s : m_monitor.curve())
        curve.append(s.toJson());
    const int done = int(m_monitor.curve().size());
    QJsonObject st{{QStringLiteral("id"), double(id())},
                   {QStringLiteral("state"), m_runner.isRunning() ? QStringLiteral("running") : QStringLiteral("idle")},
                   // Steps completed so far (PROTOCOL.md); progress.step is the 0-based step running now.
                   {QStringLiteral("step"), done},
                   {QStringLiteral("steps"), m_searching ? done + (m_runner.isRunning() ? 1 : 0) : m_plan.steps},
                   {QStringLiteral("users"), m_progress.users},
                   {QStringLiteral("progress"), m_progress.toJson()},
                   {QStringLiteral("plan"), m_plan.toJson()},
                   {QStringLiteral("curve"), curve},
                   {QStringLiteral("inflection"), QJsonValue::Null}};
    if (m_searching)
        st.insert(QStringLiteral("search"), searchStatus());
    {
        std::lock_guard lock(m_mutex);
        // Keep the final fields (state, inflection, error) once the run has ended.
        for (const char *k : {"state", "inflection", "kneeReason", "error"})
            if (!m_runner.isRunning() && m_status.contains(QLatin1String(k)) && m_status.value(QLatin1String("id")) == st.value(QLatin1String("id")))
                st.insert(QLatin1String(k), m_status.value(QLatin1String(k)));
        m_status = st;
    }
    emit statusChanged(st);
}

void LoadTestController::fillHealthy(PerformanceBaseline *b, int nominal) const
{
    if (nominal < 0 || nominal >= m_monitor.curve().size())
        return;
    const BaselineStep &n = m_monitor.curve().at(nominal);
    b->healthy.p50Ms = n.p50Ms;
    b->healthy.p95Ms = n.p95Ms;
    b->healthy.p99Ms = n.p99Ms;
    b->healthy.tokensPerSecond = n.tokensPerSecond;
    if (nominal < m_stepHistograms.size() && m_stepHistograms.at(nominal).count() > 0) {
        // The gateway's own view of that step: what the drift detector compares with.
        const LatencyHistogram &h = m_stepHistograms.at(nominal);
        b->healthy.histogram = LatencyDriftSignal::histogramFrom(h);
        b->healthy.p50Ms = double(h.quantileNs(0.50)) / 1e6;
        b->healthy.p95Ms = double(h.quantileNs(0.95)) / 1e6;
        b->healthy.p99Ms = double(h.quantileNs(0.99)) / 1e6;
    }
}

namespace {

// The `inflection` of a finished run's status (PROTOCOL.md), either kind.
QJsonObject inflectionStatus(const BaselineInflection &k)
{
    return QJsonObject{{QStringLiteral("users"), k.users},
                       {QStringLiteral("queueDepth"), k.queueDepth},
                       {QStringLiteral("throughputRps"), k.throughputRps},
                       {QStringLiteral("p95Ms"), k.p95Ms},
                       {QStringLiteral("method"), k.method}};
}

} // namespace

void LoadTestController::onFinished(bool ok, const QString &error)
{
    if (m_searching)
        return; // the driver ends the search once Locust has ended: onSearchFinished
    const QList<BaselineStep> curve = m_monitor.curve();
    QJsonObject st = status();
    if (!ok) {
        st.insert(QStringLiteral("state"), QStringLiteral("failed"));
        st.insert(QStringLiteral("error"), error);
    } else {
        const KneeResult knee = ThroughputMonitor::findInflection(curve);
        PerformanceBaseline b;
        b.createdAt = QDateTime::currentDateTimeUtc();
        b.sluiceVersion = QStringLiteral(SLUICE_VERSION);
        b.environment = m_environment;
        b.config = m_engineConfig;
        b.loadProfile = m_plan.toJson();
        b.steps = curve;
        if (knee.found)
            b.inflection = knee.inflection;
        // Healthy = nominal load: the step before the knee, or the last step without one.
        fillHealthy(&b, knee.found ? std::max(0, knee.index - 1) : int(curve.size()) - 1);
        st.insert(QStringLiteral("state"), QStringLiteral("finished"));
        st.insert(QStringLiteral("kneeReason"), knee.reason);
        if (knee.found)
            st.insert(QStringLiteral("inflection"), inflectionStatus(knee.inflection));
        std::lock_guard lock(m_mutex);
        m_baseline = b;
    }
    {
        std::lock_guard lock(m_mutex);
        m_status = st;
    }
    emit statusChanged(st);
    emit finished(ok, error);
}

void LoadTestController::onSearchFinished(bool ok, const QString &error)
{
    const KneeSearch &search = m_driver.search();
    const QList<BaselineStep> curve = m_monitor.curve(); // in the order measured, as search.steps()
    publish();
    QJsonObject st = status();
    if (!ok) {
        st.insert(QStringLiteral("state"), QStringLiteral("failed"));
        st.insert(QStringLiteral("error"), error);
    } else {
        const KneeSearch::Result result = search.result();
        PerformanceBaseline b;
        b.createdAt = QDateTime::currentDateTimeUtc();
        b.sluiceVersion = QStringLiteral(SLUICE_VERSION);
        b.environment = m_environment;
        b.config = m_engineConfig;
        b.loadProfile = m_plan.toJson();
        // steps[] sorted by users (each keeps its search.order), as a stepped run's are.
        QList<int> byUsers;
        for (int i = 0; i < curve.size(); ++i)
            byUsers << i;
        std::stable_sort(byUsers.begin(), byUsers.end(), [&](int a, int c) { return curve.at(a).users < curve.at(c).users; });
        for (int i : byUsers)
            b.steps << curve.at(i);
        QJsonObject summary = result.toJson();
        summary.insert(QStringLiteral("config"), search.config().toJson());
        summary.insert(QStringLiteral("elapsedSeconds"), m_driver.elapsedSeconds());
        summary.insert(QStringLiteral("workers"), m_plan.workers);
        summary.insert(QStringLiteral("steps"), int(curve.size()));
        b.search = summary;
        int nominal = -1;
        if (result.found && result.stepIndex < curve.size()) {
            const BaselineStep &k = curve.at(result.stepIndex);
            BaselineInflection x;
            x.users = k.users;
            x.queueDepth = k.queueDepthMean;
            x.throughputRps = k.achievedRps;
            x.p95Ms = k.p95Ms;
            x.method = result.method;
            b.inflection = x;
            // Healthy = nominal load: the step within the limits with the most users below the knee.
            for (int i = 0; i < curve.size(); ++i) {
                const KneeSearch::Step &s = search.steps().at(i);
                const bool withinLimits = s.verdict == KneeSearch::Verdict::Grows || s.verdict == KneeSearch::Verdict::Below
                                          || s.verdict == KneeSearch::Verdict::Saturated || s.verdict == KneeSearch::Verdict::Plateau;
                if (withinLimits && s.users < k.users && (nominal < 0 || s.users > curve.at(nominal).users))
                    nominal = i;
            }
            if (nominal < 0)
                nominal = result.stepIndex;
        } else {
            // No knee: the trusted step with the most users, or the last one.
            for (int i = 0; i < curve.size(); ++i)
                if (search.steps().at(i).verdict != KneeSearch::Verdict::Generator && (nominal < 0 || curve.at(i).users > curve.at(nominal).users))
                    nominal = i;
            if (nominal < 0)
                nominal = int(curve.size()) - 1;
        }
        fillHealthy(&b, nominal);
        QString reason = result.reason;
        for (const QString &note : result.notes)
            reason += QStringLiteral("; ") + note;
        st.insert(QStringLiteral("state"), QStringLiteral("finished"));
        st.insert(QStringLiteral("kneeReason"), reason);
        if (b.inflection)
            st.insert(QStringLiteral("inflection"), inflectionStatus(*b.inflection));
        std::lock_guard lock(m_mutex);
        m_baseline = b;
    }
    {
        std::lock_guard lock(m_mutex);
        m_status = st;
    }
    emit statusChanged(st);
    emit finished(ok, error);
}
