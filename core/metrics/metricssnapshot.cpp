#include "core/metrics/metricssnapshot.h"

#include <QJsonArray>

#include <bit>

QJsonObject LatencySummary::toJson() const
{
    return {
        {QStringLiteral("count"), double(count)},
        {QStringLiteral("meanMs"), meanMs},
        {QStringLiteral("p50Ms"), p50Ms},
        {QStringLiteral("p95Ms"), p95Ms},
        {QStringLiteral("p99Ms"), p99Ms},
        {QStringLiteral("p999Ms"), p999Ms},
        {QStringLiteral("maxMs"), maxMs},
    };
}

int batchSizeBucket(int size)
{
    if (size <= 1)
        return 0;
    const int b = 31 - std::countl_zero(unsigned(size));
    return std::min(b, kBatchSizeBuckets - 1);
}

QString batchSizeBucketLabel(int bucket)
{
    if (bucket <= 0)
        return QStringLiteral("1");
    if (bucket >= kBatchSizeBuckets - 1)
        return QStringLiteral("%1+").arg(1 << bucket);
    return QStringLiteral("%1-%2").arg(1 << bucket).arg((1 << (bucket + 1)) - 1);
}

QJsonObject WindowStats::toJson() const
{
    QJsonObject rej;
    for (auto it = rejections.begin(); it != rejections.end(); ++it)
        rej.insert(it.key(), double(it.value()));
    QJsonObject byKind;
    for (auto it = upstreamCallsByKind.begin(); it != upstreamCallsByKind.end(); ++it)
        byKind.insert(it.key(), double(it.value()));
    QJsonObject byOutcome;
    for (auto it = upstreamAttemptsByOutcome.begin(); it != upstreamAttemptsByOutcome.end(); ++it)
        byOutcome.insert(it.key(), double(it.value()));
    QJsonArray sizes;
    for (int i = 0; i < kBatchSizeBuckets; ++i)
        sizes.append(QJsonObject{{QStringLiteral("size"), batchSizeBucketLabel(i)},
                                 {QStringLiteral("batches"), double(batchSizeBuckets[size_t(i)])}});
    return {
        {QStringLiteral("seconds"), seconds},
        {QStringLiteral("requests"), double(requests)},
        {QStringLiteral("ok"), double(ok)},
        {QStringLiteral("failed"), double(failed)},
        {QStringLiteral("expired"), double(expired)},
        {QStringLiteral("cancelled"), double(cancelled)},
        {QStringLiteral("requestsPerSecond"), requestsPerSecond},
        {QStringLiteral("latency"), latency.toJson()},
        {QStringLiteral("queueWait"), queueWait.toJson()},
        {QStringLiteral("upstream"), upstream.toJson()},
        {QStringLiteral("firstToken"), firstToken.toJson()},
        {QStringLiteral("coalesced"), double(coalesced)},
        {QStringLiteral("cache"), QJsonObject{{QStringLiteral("hits"), double(cacheHits)},
                                              {QStringLiteral("misses"), double(cacheMisses)},
                                              {QStringLiteral("bypassed"), double(cacheBypassed)},
                                              {QStringLiteral("hitRatio"), cacheHitRatio}}},
        {QStringLiteral("promptTokens"), double(promptTokens)},
        {QStringLiteral("outputTokens"), double(outputTokens)},
        {QStringLiteral("promptTokensPerSecond"), promptTokensPerSecond},
        {QStringLiteral("outputTokensPerSecond"), outputTokensPerSecond},
        {QStringLiteral("batches"), double(batches)},
        {QStringLiteral("meanBatchSize"), meanBatchSize},
        {QStringLiteral("batchSizes"), sizes},
        {QStringLiteral("upstreamCalls"), double(upstreamCalls)},
        {QStringLiteral("upstreamCallsByKind"), byKind},
        {QStringLiteral("upstream429"), double(upstream429)},
        {QStringLiteral("upstreamAttemptsByOutcome"), byOutcome},
        {QStringLiteral("upstreamAttemptsFailed"), double(upstreamAttemptsFailed)},
        {QStringLiteral("upstreamErrors"), double(upstreamErrors)},
        {QStringLiteral("packMembers"), QJsonObject{{QStringLiteral("answered"), double(packAnswered)},
                                                    {QStringLiteral("repacked"), double(packRepacked)},
                                                    {QStringLiteral("failed"), double(packFailed)}}},
        {QStringLiteral("answersPerUpstreamCall"), answersPerUpstreamCall},
        {QStringLiteral("rejected"), double(rejected)},
        {QStringLiteral("rejections"), rej},
    };
}

namespace {
QJsonObject dimensionJson(const QuotaDimensionState &d)
{
    return {{QStringLiteral("limit"), double(d.limit)},
            {QStringLiteral("source"), d.source},
            {QStringLiteral("used"), double(d.used)},
            {QStringLiteral("usedRatio"), d.usedRatio},
            {QStringLiteral("blockedForMs"), double(d.blockedForMs)}};
}
} // namespace

QJsonObject PriorityClassState::toJson() const
{
    return {{QStringLiteral("name"), name},
            {QStringLiteral("queued"), queued},
            {QStringLiteral("completed"), double(completed)},
            {QStringLiteral("failed"), double(failed)},
            {QStringLiteral("rejected"), double(rejected)},
            {QStringLiteral("latency"), latency.toJson()},
            {QStringLiteral("queueWait"), queueWait.toJson()}};
}

QJsonObject TierState::toJson() const
{
    return {{QStringLiteral("name"), name},
            {QStringLiteral("requests"), double(requests)},
            {QStringLiteral("shed"), double(shed)},
            {QStringLiteral("promptTokens"), double(promptTokens)},
            {QStringLiteral("outputTokens"), double(outputTokens)},
            {QStringLiteral("costUsd"), costUsd}};
}

QJsonObject BatchModeState::toJson() const
{
    return {{QStringLiteral("enabled"), enabled},
            {QStringLiteral("gathering"), gathering},
            {QStringLiteral("jobsRunning"), jobsRunning},
            {QStringLiteral("waiting"), waiting},
            {QStringLiteral("jobsSubmitted"), double(jobsSubmitted)},
            {QStringLiteral("requestsSubmitted"), double(requestsSubmitted)}};
}

QJsonObject TenantState::toJson() const
{
    return {{QStringLiteral("id"), id},
            {QStringLiteral("weight"), weight},
            {QStringLiteral("queued"), queued},
            {QStringLiteral("inflight"), inflight},
            {QStringLiteral("completed"), double(completed)},
            {QStringLiteral("rejected"), double(rejected)}};
}

QJsonObject MetricsSnapshot::toJson() const
{
    QJsonArray classList;
    for (const PriorityClassState &c : classes)
        classList.append(c.toJson());
    QJsonArray tierList;
    for (const TierState &t : tiers)
        tierList.append(t.toJson());
    QJsonArray tenantList;
    for (const TenantState &t : tenants)
        tenantList.append(t.toJson());
    const double saving = costStandardUsd - costUsd;
    QJsonArray models;
    for (const ModelQuotaState &m : quota)
        models.append(QJsonObject{{QStringLiteral("model"), m.model},
                                  {QStringLiteral("rpm"), dimensionJson(m.rpm)},
                                  {QStringLiteral("tpm"), dimensionJson(m.tpm)},
                                  {QStringLiteral("rpd"), dimensionJson(m.rpd)}});
    QJsonArray attempts;
    for (const UpstreamAttemptCount &a : upstreamAttempts)
        attempts.append(QJsonObject{{QStringLiteral("model"), a.model},
                                    {QStringLiteral("outcome"), a.outcome},
                                    {QStringLiteral("attempts"), double(a.attempts)}});
    return {
        {QStringLiteral("quota"), models},
        {QStringLiteral("upstreamAttempts"), attempts},
        {QStringLiteral("timestampMs"), double(timestampMs)},
        {QStringLiteral("uptimeSeconds"), uptimeSeconds},
        {QStringLiteral("queueDepth"), queueDepth},
        {QStringLiteral("queueCapacity"), queueCapacity},
        {QStringLiteral("inflightBatches"), inflightBatches},
        {QStringLiteral("maxInflightBatches"), maxInflightBatches},
        {QStringLiteral("backpressure"), backpressure},
        {QStringLiteral("draining"), draining},
        {QStringLiteral("memoryBudget"), QJsonObject{{QStringLiteral("usedBytes"), double(memoryUsedBytes)},
                                                     {QStringLiteral("limitBytes"), double(memoryLimitBytes)},
                                                     {QStringLiteral("refusals"), double(memoryRefusals)}}},
        {QStringLiteral("answerCache"), QJsonObject{{QStringLiteral("enabled"), cacheEnabled},
                                                    {QStringLiteral("usedBytes"), double(cacheUsedBytes)},
                                                    {QStringLiteral("maxBytes"), double(cacheMaxBytes)},
                                                    {QStringLiteral("entries"), double(cacheEntries)}}},
        {QStringLiteral("classes"), classList},
        {QStringLiteral("tiers"), tierList},
        {QStringLiteral("cost"), QJsonObject{{QStringLiteral("usd"), costUsd},
                                             {QStringLiteral("standardUsd"), costStandardUsd},
                                             {QStringLiteral("savingUsd"), saving},
                                             {QStringLiteral("savingRatio"), costStandardUsd > 0 ? saving / costStandardUsd : 0.0}}},
        {QStringLiteral("tenants"), tenantList},
        {QStringLiteral("batchMode"), batchMode.toJson()},
        {QStringLiteral("last1s"), last1s.toJson()},
        {QStringLiteral("last10s"), last10s.toJson()},
        {QStringLiteral("last60s"), last60s.toJson()},
        {QStringLiteral("total"), total.toJson()},
    };
}
