#include "core/loadtest/loadtestcontroller.h"

#include "core/drift/latencydriftsignal.h"
#include "core/metrics/inferencemetricscollector.h"

#include <QJsonArray>


LoadTestController::LoadTestController(InferenceMetricsCollector *metrics, QObject *parent)
    : QObject(parent), m_metrics(metrics)
{
    m_status = {{QStringLiteral("state"), QStringLiteral("idle")}, {QStringLiteral("id"), 0}};
    connect(&m_runner, &LocustRunner::progressed, this, [this](const LoadTestProgress &p) {
        m_progress = p;
        publish();
    });
    connect(&m_runner, &LocustRunner::stepCompleted, this, &LoadTestController::onStep);
    connect(&m_runner, &LocustRunner::finished, this, &LoadTestController::onFinished);
    if (m_metrics)
        connect(m_metrics, &InferenceMetricsCollector::snapshotReady, this, &LoadTestController::observe);
}

quint64 LoadTestController::start(const LoadTestPlan &plan, const QJsonObject &engineConfig,
                                  const QJsonObject &environment, QString *error)
{
    if (m_runner.isRunning()) {
        *error = QStringLiteral("a load test is already running (id %1); stop it first").arg(id());
        return 0;
    }
    m_monitor.reset();
    m_stepHistograms.clear();
    m_progress = {};
    m_plan = plan;
    m_engineConfig = engineConfig;
    m_environment = environment;
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

void LoadTestController::stop()
{
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

void LoadTestController::onStep(int, const BaselineStep &client)
{
    m_monitor.stepFinished(client);
    if (m_metrics)
        m_stepHistograms << m_metrics->windowHistogram(InferenceMetricsCollector::Histogram::Latency,
                                                       std::min(m_plan.stepSeconds, 59));
    publish();
}

void LoadTestController::publish()
{
    QJsonArray curve;
    for (const BaselineStep &s : m_monitor.curve())
        curve.append(s.toJson());
    QJsonObject st{{QStringLiteral("id"), double(id())},
                   {QStringLiteral("state"), m_runner.isRunning() ? QStringLiteral("running") : QStringLiteral("idle")},
                   // Steps completed so far (PROTOCOL.md); progress.step is the 0-based step running now.
                   {QStringLiteral("step"), int(m_monitor.curve().size())},
                   {QStringLiteral("steps"), m_plan.steps},
                   {QStringLiteral("users"), m_progress.users},
                   {QStringLiteral("progress"), m_progress.toJson()},
                   {QStringLiteral("plan"), m_plan.toJson()},
                   {QStringLiteral("curve"), curve},
                   {QStringLiteral("inflection"), QJsonValue::Null}};
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

void LoadTestController::onFinished(bool ok, const QString &error)
{
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
        const int nominal = knee.found ? std::max(0, knee.index - 1) : int(curve.size()) - 1;
        const BaselineStep &n = curve.at(nominal);
        b.healthy.p50Ms = n.p50Ms;
        b.healthy.p95Ms = n.p95Ms;
        b.healthy.p99Ms = n.p99Ms;
        b.healthy.tokensPerSecond = n.tokensPerSecond;
        if (nominal < m_stepHistograms.size() && m_stepHistograms.at(nominal).count() > 0) {
            // The gateway's own view of that step: what the drift detector compares with.
            const LatencyHistogram &h = m_stepHistograms.at(nominal);
            b.healthy.histogram = LatencyDriftSignal::histogramFrom(h);
            b.healthy.p50Ms = double(h.quantileNs(0.50)) / 1e6;
            b.healthy.p95Ms = double(h.quantileNs(0.95)) / 1e6;
            b.healthy.p99Ms = double(h.quantileNs(0.99)) / 1e6;
        }
        st.insert(QStringLiteral("state"), QStringLiteral("finished"));
        st.insert(QStringLiteral("kneeReason"), knee.reason);
        if (knee.found)
            st.insert(QStringLiteral("inflection"), QJsonObject{{QStringLiteral("users"), knee.inflection.users},
                                                                {QStringLiteral("queueDepth"), knee.inflection.queueDepth},
                                                                {QStringLiteral("throughputRps"), knee.inflection.throughputRps},
                                                                {QStringLiteral("p95Ms"), knee.inflection.p95Ms},
                                                                {QStringLiteral("method"), knee.inflection.method}});
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
