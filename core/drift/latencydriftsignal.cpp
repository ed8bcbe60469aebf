#include "core/drift/latencydriftsignal.h"

#include <algorithm>
#include <cmath>

QString driftStateName(DriftState s)
{
    switch (s) {
    case DriftState::Unknown: return QStringLiteral("unknown");
    case DriftState::Ok: return QStringLiteral("ok");
    case DriftState::Warn: return QStringLiteral("warn");
    case DriftState::Drift: return QStringLiteral("drift");
    }
    return QStringLiteral("unknown");
}

QJsonObject DriftReading::toJson() const
{
    return {{QStringLiteral("state"), driftStateName(state)},
            {QStringLiteral("level"), driftStateName(level)},
            {QStringLiteral("score"), score},
            {QStringLiteral("ratioP50"), ratioP50},
            {QStringLiteral("ratioP95"), ratioP95},
            {QStringLiteral("ratioP99"), ratioP99},
            {QStringLiteral("distance"), distance},
            {QStringLiteral("samples"), double(samples)},
            {QStringLiteral("judged"), judged}};
}

void LatencyDriftSignal::setBaseline(const PerformanceBaseline &baseline)
{
    std::lock_guard lock(m_mutex);
    m_baseline = baseline;
    m_last = {};
    m_upCount = m_downCount = 0;
}

void LatencyDriftSignal::clearBaseline()
{
    std::lock_guard lock(m_mutex);
    m_baseline.reset();
    m_last = {};
    m_upCount = m_downCount = 0;
}

bool LatencyDriftSignal::hasBaseline() const
{
    std::lock_guard lock(m_mutex);
    return m_baseline.has_value();
}

std::optional<PerformanceBaseline> LatencyDriftSignal::baseline() const
{
    std::lock_guard lock(m_mutex);
    return m_baseline;
}

DriftReading LatencyDriftSignal::last() const
{
    std::lock_guard lock(m_mutex);
    return m_last;
}

double LatencyDriftSignal::distance(const BaselineHistogram &healthy, const LatencyHistogram &live)
{
    double total = 0;
    for (double c : healthy.counts)
        total += c;
    if (total <= 0 || live.count() == 0)
        return 0;
    double cum = 0;
    double d = 0;
    for (int i = 0; i < healthy.boundsMs.size(); ++i) {
        cum += healthy.counts.value(i);
        const double base = cum / total;
        const double liveCdf = live.countBelow(uint64_t(healthy.boundsMs.at(i) * 1e6)) / double(live.count());
        // One-sided: only where the live window is slower (its CDF lags the
        // baseline's). A faster window is not a degradation, and a two-sided
        // distance flags every small shift of a narrow distribution.
        d = std::max(d, base - liveCdf);
    }
    return d;
}

BaselineHistogram LatencyDriftSignal::histogramFrom(const LatencyHistogram &h)
{
    // 1 ms .. 100 s, 10 buckets per decade: fine enough for KS, small in JSON.
    BaselineHistogram out;
    for (int i = 0; i <= 50; ++i)
        out.boundsMs << std::round(std::pow(10.0, i / 10.0) * 1000.0) / 1000.0;
    double prev = 0;
    for (double b : out.boundsMs) {
        const double below = h.countBelow(uint64_t(b * 1e6));
        out.counts << std::max(0.0, below - prev);
        prev = below;
    }
    out.counts << std::max(0.0, double(h.count()) - prev);
    return out;
}

DriftReading LatencyDriftSignal::evaluate(const LatencyHistogram &window)
{
    std::lock_guard lock(m_mutex);
    const DriftState previous = m_last.state;
    DriftReading r;
    r.state = previous;
    r.samples = window.count();
    if (!m_baseline) {
        r.state = DriftState::Unknown;
        r.changed = previous != r.state;
        m_last = r;
        return r;
    }
    const BaselineHealthy &h = m_baseline->healthy;
    const DriftThresholds &t = m_baseline->drift;
    if (window.count() < quint64(std::max(1, t.minSamples))) {
        r.level = m_last.level;
        r.score = m_last.score;
        m_last = r;
        return r;
    }
    const auto ratio = [](double live, double base) { return base > 0 ? live / base : 1.0; };
    r.ratioP50 = ratio(double(window.quantileNs(0.50)) / 1e6, h.p50Ms);
    r.ratioP95 = ratio(double(window.quantileNs(0.95)) / 1e6, h.p95Ms);
    r.ratioP99 = ratio(double(window.quantileNs(0.99)) / 1e6, h.p99Ms);
    r.distance = distance(h.histogram, window);
    const double maxRatio = std::max({r.ratioP50, r.ratioP95, r.ratioP99});
    r.score = std::max(t.driftRatio > 1 ? (maxRatio - 1.0) / (t.driftRatio - 1.0) : 0.0,
                       t.driftDistance > 0 ? r.distance / t.driftDistance : 0.0);
    r.score = std::max(0.0, r.score);
    r.judged = true;
    if (maxRatio >= t.driftRatio || r.distance >= t.driftDistance)
        r.level = DriftState::Drift;
    else if (maxRatio >= t.warnRatio || r.distance >= t.warnDistance)
        r.level = DriftState::Warn;
    else
        r.level = DriftState::Ok;

    if (previous == DriftState::Unknown && r.level == DriftState::Ok) {
        r.state = DriftState::Ok;
        m_upCount = m_downCount = 0;
    } else if (r.level > previous) {
        m_downCount = 0;
        if (++m_upCount >= t.enterWindows) {
            r.state = r.level;
            m_upCount = 0;
        }
    } else if (r.level < previous) {
        m_upCount = 0;
        if (++m_downCount >= t.exitWindows) {
            r.state = r.level;
            m_downCount = 0;
        }
    } else {
        m_upCount = m_downCount = 0;
    }
    r.changed = r.state != previous;
    m_last = r;
    return r;
}
