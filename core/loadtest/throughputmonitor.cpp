#include "core/loadtest/throughputmonitor.h"

#include <algorithm>

KneeResult ThroughputMonitor::findInflection(const QList<BaselineStep> &steps, double latencyRise)
{
    KneeResult r;
    if (steps.size() < 3) {
        r.reason = QStringLiteral("no knee: %1 steps, at least 3 are needed").arg(steps.size());
        return r;
    }
    double xMin = steps.front().users, xMax = xMin, yMin = steps.front().achievedRps, yMax = yMin;
    for (const BaselineStep &s : steps) {
        xMin = std::min<double>(xMin, s.users);
        xMax = std::max<double>(xMax, s.users);
        yMin = std::min(yMin, s.achievedRps);
        yMax = std::max(yMax, s.achievedRps);
    }
    if (xMax <= xMin || yMax <= yMin) {
        r.reason = QStringLiteral("no knee: users or throughput do not vary across the steps");
        return r;
    }
    int best = -1;
    double bestDiff = -1;
    for (int i = 0; i < steps.size(); ++i) {
        const double xn = (steps[i].users - xMin) / (xMax - xMin);
        const double yn = (steps[i].achievedRps - yMin) / (yMax - yMin);
        const double diff = yn - xn;
        if (diff > bestDiff) {
            bestDiff = diff;
            best = i;
        }
    }
    if (bestDiff < 0.05) {
        r.reason = QStringLiteral("no knee: throughput still grows in proportion to load (largest Kneedle difference %1 < 0.05)")
                       .arg(bestDiff, 0, 'f', 3);
        return r;
    }
    // Throughput also flattens when Locust saturates: a knee whose step, or
    // the step that shows the flattening after it, was load-generator-bound
    // is the generator's, not the gateway's.
    for (int i = best; i < std::min<int>(best + 2, int(steps.size())); ++i) {
        if (steps[i].generator && steps[i].generator->bound) {
            r.reason = QStringLiteral("no knee: the load generator is the bottleneck at %1 users (busiest Locust process at %2 "
                                      "of a core): add workers (--locust-workers) or a bigger machine")
                           .arg(steps[i].users)
                           .arg(steps[i].generator->busiestCores, 0, 'f', 2);
            return r;
        }
    }
    double p95After = 0;
    for (int i = best; i < steps.size(); ++i)
        p95After = std::max(p95After, steps[i].p95Ms);
    const double p95First = steps.front().p95Ms;
    if (p95First <= 0 || p95After < latencyRise * p95First) {
        r.reason = QStringLiteral("no knee: throughput flattens at %1 users but p95 rose only from %2 to %3 ms (< %4x)")
                       .arg(steps[best].users)
                       .arg(p95First, 0, 'f', 1)
                       .arg(p95After, 0, 'f', 1)
                       .arg(latencyRise);
        return r;
    }
    r.found = true;
    r.index = best;
    r.inflection.users = steps[best].users;
    r.inflection.queueDepth = steps[best].queueDepthMean;
    r.inflection.throughputRps = steps[best].achievedRps;
    r.inflection.p95Ms = steps[best].p95Ms;
    r.inflection.method = QStringLiteral("kneedle(achievedRps vs users, min difference 0.05) + p95 rise >= %1x").arg(latencyRise);
    r.reason = r.inflection.method;
    return r;
}

void ThroughputMonitor::stepStarted(int users)
{
    m_users = users;
    m_depthSum = m_depthMax = m_tokensSum = 0;
    m_samples = 0;
}

void ThroughputMonitor::observe(const MetricsSnapshot &s)
{
    m_depthSum += s.queueDepth;
    m_depthMax = std::max<double>(m_depthMax, s.queueDepth);
    m_tokensSum += s.last1s.promptTokensPerSecond + s.last1s.outputTokensPerSecond;
    ++m_samples;
}

BaselineStep ThroughputMonitor::stepFinished(BaselineStep step)
{
    if (step.users == 0)
        step.users = m_users;
    if (m_samples > 0) {
        step.queueDepthMean = m_depthSum / m_samples;
        step.queueDepthMax = m_depthMax;
        step.tokensPerSecond = m_tokensSum / m_samples;
    }
    m_curve << step;
    stepStarted(m_users);
    return step;
}

void ThroughputMonitor::reset()
{
    m_curve.clear();
    stepStarted(0);
}
