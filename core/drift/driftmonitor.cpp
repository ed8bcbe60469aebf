#include "core/drift/driftmonitor.h"

#include "core/metrics/inferencemetricscollector.h"

#include <algorithm>

DriftMonitor::DriftMonitor(InferenceMetricsCollector *metrics, QObject *parent) : QObject(parent), m_metrics(metrics)
{
    qRegisterMetaType<DriftReading>();
    connect(&m_timer, &QTimer::timeout, this, &DriftMonitor::evaluateNow);
    m_timer.start(m_windowSeconds * 1000);
}

void DriftMonitor::setInterval(std::chrono::milliseconds interval)
{
    if (interval.count() <= 0) {
        m_timer.stop();
        return;
    }
    m_windowSeconds = std::clamp(int((interval.count() + 999) / 1000), 1, 59);
    m_timer.start(int(interval.count()));
}

void DriftMonitor::setBaseline(const PerformanceBaseline &baseline)
{
    m_signal.setBaseline(baseline);
    emit stateChanged(m_signal.last());
}

void DriftMonitor::clearBaseline()
{
    m_signal.clearBaseline();
    emit stateChanged(m_signal.last());
}

bool DriftMonitor::loadBaseline(const QString &path, QString *error)
{
    PerformanceBaseline b;
    if (!PerformanceBaseline::load(path, &b, error))
        return false;
    setBaseline(b);
    return true;
}

void DriftMonitor::evaluateNow()
{
    if (!m_metrics)
        return;
    const DriftReading r =
        m_signal.evaluate(m_metrics->windowHistogram(InferenceMetricsCollector::Histogram::Latency, m_windowSeconds));
    emit evaluated(r);
    if (r.changed)
        emit stateChanged(r);
}

QJsonObject DriftMonitor::toJson() const
{
    QJsonObject o = reading().toJson();
    o.insert(QStringLiteral("type"), QStringLiteral("drift"));
    const auto b = baseline();
    if (b)
        o.insert(QStringLiteral("baseline"), QJsonObject{{QStringLiteral("createdAt"), b->createdAt.toUTC().toString(Qt::ISODateWithMs)},
                                                          {QStringLiteral("sluiceVersion"), b->sluiceVersion},
                                                          {QStringLiteral("healthyP95Ms"), b->healthy.p95Ms}});
    else
        o.insert(QStringLiteral("baseline"), QJsonValue::Null);
    return o;
}
