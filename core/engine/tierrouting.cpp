#include "core/engine/tierrouting.h"

#include <QJsonValue>
#include <QStringList>

using namespace std::chrono;

ServiceTier TierRouting::choose(Operation op, std::optional<ServiceTier> bodyTier, std::optional<milliseconds> deadline,
                                const TierRoutingConfig &config, std::optional<double> observedFlexSeconds)
{
    if (bodyTier)
        return *bodyTier;
    if (!deadline)
        return ServiceTier::Standard;
    if (config.batch && op == Operation::GenerateContent && *deadline >= config.batchMinDeadline)
        return ServiceTier::Batch;
    const bool generates = op == Operation::GenerateContent || op == Operation::StreamGenerateContent;
    const double flexSeconds = observedFlexSeconds.value_or(config.flexAssumedSeconds);
    if (config.flex && generates && duration<double>(*deadline).count() >= config.flexDeadlineFactor * flexSeconds)
        return ServiceTier::Flex;
    return ServiceTier::Standard;
}

bool TierRoutingConfig::fromJson(const QJsonObject &json, TierRoutingConfig *out, QString *error)
{
    TierRoutingConfig c = *out;
    static const QStringList known{
        QStringLiteral("flex"),          QStringLiteral("batch"),           QStringLiteral("flexAssumedSeconds"),
        QStringLiteral("flexDeadlineFactor"), QStringLiteral("batchMinDeadline"), QStringLiteral("batchMaxRequests"),
        QStringLiteral("batchMaxBytes"), QStringLiteral("batchMaxAge"),     QStringLiteral("batchPollInterval"),
        QStringLiteral("batchMaxWaiting")};
    for (auto it = json.begin(); it != json.end(); ++it) {
        const QString path = QStringLiteral("tiers.") + it.key();
        const QJsonValue v = it.value();
        if (!known.contains(it.key())) {
            *error = QStringLiteral("%1: unknown key; known: %2").arg(path, known.join(QStringLiteral(", ")));
            return false;
        }
        if (it.key() == QLatin1StringView("flex") || it.key() == QLatin1StringView("batch")) {
            if (!v.isBool()) {
                *error = QStringLiteral("%1: expected true or false").arg(path);
                return false;
            }
            (it.key() == QLatin1StringView("flex") ? c.flex : c.batch) = v.toBool();
            continue;
        }
        if (it.key().startsWith(QLatin1StringView("batchM")) && it.key() != QLatin1StringView("batchMinDeadline")
            && it.key() != QLatin1StringView("batchMaxAge")) {
            const double lo = 1, hi = it.key() == QLatin1StringView("batchMaxBytes") ? 20.0 * 1024 * 1024 : 1e6;
            if (!v.isDouble() || v.toDouble() != double(qint64(v.toDouble())) || v.toDouble() < lo || v.toDouble() > hi) {
                *error = QStringLiteral("%1: expected an integer %2..%3").arg(path).arg(lo).arg(hi);
                return false;
            }
            if (it.key() == QLatin1StringView("batchMaxRequests"))
                c.batchMaxRequests = v.toInt();
            else if (it.key() == QLatin1StringView("batchMaxBytes"))
                c.batchMaxBytes = qint64(v.toDouble());
            else
                c.batchMaxWaiting = v.toInt();
            continue;
        }
        if (it.key() == QLatin1StringView("flexAssumedSeconds") || it.key() == QLatin1StringView("flexDeadlineFactor")) {
            if (!v.isDouble() || !(v.toDouble() > 0) || v.toDouble() > 86400) {
                *error = QStringLiteral("%1: expected a number > 0 (at most 86400)").arg(path);
                return false;
            }
            (it.key() == QLatin1StringView("flexAssumedSeconds") ? c.flexAssumedSeconds : c.flexDeadlineFactor) = v.toDouble();
            continue;
        }
        // Durations: batchMinDeadline, batchMaxAge, batchPollInterval.
        const std::optional<milliseconds> d = v.isString() ? parseDuration(v.toString()) : std::nullopt;
        if (!d || d->count() < 10) {
            *error = QStringLiteral("%1: expected a duration such as \"500ms\", \"30s\", \"1h\" (10ms..7d)").arg(path);
            return false;
        }
        if (it.key() == QLatin1StringView("batchMinDeadline"))
            c.batchMinDeadline = *d;
        else if (it.key() == QLatin1StringView("batchMaxAge"))
            c.batchMaxAge = *d;
        else
            c.batchPollInterval = *d;
    }
    *out = c;
    return true;
}

QJsonObject TierRoutingConfig::toJson() const
{
    return {{QStringLiteral("flex"), flex},
            {QStringLiteral("batch"), batch},
            {QStringLiteral("flexAssumedSeconds"), flexAssumedSeconds},
            {QStringLiteral("flexDeadlineFactor"), flexDeadlineFactor},
            {QStringLiteral("batchMinDeadline"), formatDuration(batchMinDeadline)},
            {QStringLiteral("batchMaxRequests"), batchMaxRequests},
            {QStringLiteral("batchMaxBytes"), double(batchMaxBytes)},
            {QStringLiteral("batchMaxAge"), formatDuration(batchMaxAge)},
            {QStringLiteral("batchPollInterval"), formatDuration(batchPollInterval)},
            {QStringLiteral("batchMaxWaiting"), batchMaxWaiting}};
}
