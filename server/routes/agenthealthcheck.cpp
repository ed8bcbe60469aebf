#include "server/routes/agenthealthcheck.h"

AgentHealthCheck::Result AgentHealthCheck::evaluate(const Inputs &in)
{
    Result r;
    QString status = QStringLiteral("ok");
    if (in.gauges.draining) {
        status = QStringLiteral("draining");
        r.httpStatus = 503;
    } else if (in.circuit.state == CircuitBreaker::State::Open) {
        status = QStringLiteral("unavailable");
        r.httpStatus = 503;
    } else if (in.circuit.state == CircuitBreaker::State::HalfOpen || in.gauges.backpressure >= 0.9
               || in.driftState == u"drift" || in.budgetStore.value(QStringLiteral("state")).toString() == u"fallback") {
        status = QStringLiteral("degraded");
    }
    r.body = QJsonObject{
        {QStringLiteral("status"), status},
        {QStringLiteral("version"), in.version},
        {QStringLiteral("uptimeSeconds"), in.uptimeSeconds},
        {QStringLiteral("queue"), QJsonObject{{QStringLiteral("depth"), in.gauges.queueDepth},
                                              {QStringLiteral("capacity"), in.gauges.queueCapacity},
                                              {QStringLiteral("backpressure"), in.gauges.backpressure},
                                              {QStringLiteral("inflightBatches"), in.gauges.inflightBatches},
                                              {QStringLiteral("maxInflightBatches"), in.gauges.maxInflightBatches},
                                              {QStringLiteral("draining"), in.gauges.draining}}},
        {QStringLiteral("upstream"), QJsonObject{{QStringLiteral("kind"), in.upstreamKind},
                                                 {QStringLiteral("model"), in.model},
                                                 {QStringLiteral("circuit"), circuitStateName(in.circuit.state)},
                                                 {QStringLiteral("consecutiveFailures"), in.circuit.consecutiveFailures},
                                                 {QStringLiteral("retryAfterMs"), qint64(in.circuit.retryAfter.count())}}},
        {QStringLiteral("drift"), QJsonObject{{QStringLiteral("state"), in.driftState},
                                              {QStringLiteral("score"), in.driftScore}}},
        {QStringLiteral("requests"), QJsonObject{{QStringLiteral("admitted"), qint64(in.counters.admitted)},
                                                 {QStringLiteral("rejected"), qint64(in.counters.rejected)},
                                                 {QStringLiteral("completed"), qint64(in.counters.completed)},
                                                 {QStringLiteral("failed"), qint64(in.counters.failed)},
                                                 {QStringLiteral("expired"), qint64(in.counters.expired)},
                                                 {QStringLiteral("cancelled"), qint64(in.counters.cancelled)},
                                                 {QStringLiteral("invariantHolds"), in.counters.invariantHolds()}}},
    };
    if (!in.budgetStore.isEmpty())
        r.body.insert(QStringLiteral("budgetStore"), in.budgetStore);
    return r;
}
