#include "server/simulator/simulatorstats.h"

namespace {

template <typename Map>
QJsonObject toObject(const Map &map)
{
    QJsonObject o;
    for (auto it = map.cbegin(); it != map.cend(); ++it) {
        if constexpr (std::is_same_v<typename Map::key_type, int>)
            o.insert(QString::number(it.key()), double(it.value()));
        else
            o.insert(it.key(), double(it.value()));
    }
    return o;
}

} // namespace

QJsonObject SimulatorStats::toJson() const
{
    QJsonObject tiers;
    for (const char *t : {"standard", "flex", "priority"})
        tiers.insert(QLatin1String(t), double(callsPerTier.value(QLatin1String(t))));
    return QJsonObject{
        {QStringLiteral("requests"), double(requests)},
        {QStringLiteral("badRequests"), double(badRequests)},
        {QStringLiteral("callsPerRoute"), toObject(callsPerRoute)},
        {QStringLiteral("callsPerModel"), toObject(callsPerModel)},
        {QStringLiteral("responsesPerStatus"), toObject(responsesPerStatus)},
        {QStringLiteral("faults"), toObject(faults)},
        {QStringLiteral("rateLimited"), double(rateLimited)},
        {QStringLiteral("rateLimitedPerReason"),
         QJsonObject{{QStringLiteral("rpm"), double(rateLimitedRpm)},
                     {QStringLiteral("tpm"), double(rateLimitedTpm)},
                     {QStringLiteral("rpd"), double(rateLimitedRpd)}}},
        {QStringLiteral("inFlight"), inFlight},
        {QStringLiteral("queued"), queued},
        {QStringLiteral("maxInFlight"), maxInFlight},
        {QStringLiteral("maxQueued"), maxQueued},
        {QStringLiteral("completed"), double(completed)},
        {QStringLiteral("abandoned"), double(abandoned)},
        {QStringLiteral("promptTokens"), double(promptTokens)},
        {QStringLiteral("outputTokens"), double(outputTokens)},
        {QStringLiteral("openConnections"), openConnections},
        {QStringLiteral("callsPerTier"), tiers},
        {QStringLiteral("flexShed"), double(flexShed)},
        {QStringLiteral("batchJobs"),
         QJsonObject{{QStringLiteral("created"), double(batchJobsCreated)},
                     {QStringLiteral("pending"), batchJobsPending},
                     {QStringLiteral("running"), batchJobsRunning},
                     {QStringLiteral("succeeded"), double(batchJobsSucceeded)},
                     {QStringLiteral("cancelled"), double(batchJobsCancelled)}}},
        {QStringLiteral("batchRequests"), double(batchRequests)},
    };
}
