#include "core/engine/engineconfig.h"

#include <QJsonValue>
#include <QStringList>

#include <array>
#include <cmath>
#include <limits>

namespace {

// The single table of integer knobs: name (JSON path), default, range, meaning.
struct IntField {
    const char *path;
    int EngineConfig::*member;
    int RetryPolicy::*retryMember;
    int min;
    int max;
    const char *meaning;
};

constexpr int kMaxInt = std::numeric_limits<int>::max();

const std::array<IntField, 13> kFields{{
    {"maxBatchSize", &EngineConfig::maxBatchSize, nullptr, 1, 1000,
     "requests per upstream batch; a batch is dispatched as soon as it is this full"},
    {"maxWaitMs", &EngineConfig::maxWaitMs, nullptr, 0, 60000,
     "longest time the oldest queued request waits for its batch to fill"},
    {"maxQueue", &EngineConfig::maxQueue, nullptr, 1, 1000000,
     "admitted-but-not-dispatched requests; beyond it new work gets 429 (the backpressure limit)"},
    {"maxInflightBatches", &EngineConfig::maxInflightBatches, nullptr, 1, 4096,
     "batches with the upstream at once (the async worker pool)"},
    {"requestTimeoutMs", &EngineConfig::requestTimeoutMs, nullptr, 100, 3600000,
     "default deadline of a request from admission to answer"},
    {"rpmLimit", &EngineConfig::rpmLimit, nullptr, 0, 10000000,
     "upstream calls per minute and model, every call counted (0 = learned from the upstream's 429s)"},
    {"tpmLimit", &EngineConfig::tpmLimit, nullptr, 0, kMaxInt,
     "upstream input tokens per minute and model (0 = learned from the upstream's 429s)"},
    {"rpdLimit", &EngineConfig::rpdLimit, nullptr, 0, kMaxInt,
     "upstream calls per day and model (0 = learned from the upstream's 429s)"},
    {"quotaProbeRpm", &EngineConfig::quotaProbeRpm, nullptr, 0, 10000000,
     "calls per minute assumed while a model's quota is unknown, doubled while they hold work back (0 = unlimited)"},
    {"maxPackSize", &EngineConfig::maxPackSize, nullptr, 2, 1000,
     "members in one pack call; under quota pressure auto packs beyond maxBatchSize up to this"},
    {"targetP95Ms", &EngineConfig::targetP95Ms, nullptr, 1, 600000,
     "adaptive mode: end-to-end p95 above which batches stop waiting to fill"},
    {"retry.maxAttempts", nullptr, &RetryPolicy::maxAttempts, 1, 10,
     "upstream attempts per call, including the first"},
    {"retry.initialBackoffMs", nullptr, &RetryPolicy::initialBackoffMs, 1, 60000,
     "first retry backoff (doubles per attempt, with jitter)"},
}};

const IntField kMaxBackoff{"retry.maxBackoffMs", nullptr, &RetryPolicy::maxBackoffMs, 1, 600000,
                           "cap on one retry backoff; at least retry.initialBackoffMs"};

int &fieldRef(EngineConfig &c, const IntField &f)
{
    return f.member ? c.*(f.member) : c.retry.*(f.retryMember);
}

int fieldValue(const EngineConfig &c, const IntField &f)
{
    return f.member ? c.*(f.member) : c.retry.*(f.retryMember);
}

template <typename Fn>
void forEachIntField(Fn &&fn)
{
    for (const auto &f : kFields)
        fn(f);
    fn(kMaxBackoff);
}

ConfigError rangeError(const IntField &f)
{
    return {QString::fromLatin1(f.path),
            QStringLiteral("must be an integer from %1 to %2").arg(f.min).arg(f.max)};
}

// Reads an integral JSON number into *out; returns an error naming `path` otherwise.
ConfigError readInt(const QJsonValue &v, const IntField &f, int *out)
{
    if (!v.isDouble())
        return {QString::fromLatin1(f.path), QStringLiteral("must be a number, got %1")
                                                 .arg(v.isString() ? QStringLiteral("a string")
                                                      : v.isBool() ? QStringLiteral("a boolean")
                                                      : v.isNull() ? QStringLiteral("null")
                                                                   : QStringLiteral("a structure"))};
    const double d = v.toDouble();
    if (!std::isfinite(d) || d != std::floor(d) || d < f.min || d > f.max)
        return rangeError(f);
    *out = static_cast<int>(d);
    return {};
}

} // namespace

QString ConfigError::toString() const
{
    return field.isEmpty() ? message : field + QStringLiteral(": ") + message;
}

QString packingModeName(PackingMode mode)
{
    switch (mode) {
    case PackingMode::Pack: return QStringLiteral("pack");
    case PackingMode::Fanout: return QStringLiteral("fanout");
    case PackingMode::Auto: return QStringLiteral("auto");
    }
    return QStringLiteral("auto");
}

std::optional<PackingMode> packingModeFromName(const QString &name)
{
    if (name == QLatin1String("auto"))
        return PackingMode::Auto;
    if (name == QLatin1String("pack"))
        return PackingMode::Pack;
    if (name == QLatin1String("fanout"))
        return PackingMode::Fanout;
    return std::nullopt;
}

ConfigError EngineConfig::validate() const
{
    ConfigError err;
    forEachIntField([&](const IntField &f) {
        const int v = fieldValue(*this, f);
        if (err.isNull() && (v < f.min || v > f.max))
            err = rangeError(f);
    });
    if (err.isNull() && retry.maxBackoffMs < retry.initialBackoffMs)
        err = {QStringLiteral("retry.maxBackoffMs"),
               QStringLiteral("must be at least retry.initialBackoffMs (%1)").arg(retry.initialBackoffMs)};
    return err;
}

QJsonObject EngineConfig::toJson() const
{
    QJsonObject o;
    QJsonObject r;
    forEachIntField([&](const IntField &f) {
        const QString path = QString::fromLatin1(f.path);
        if (f.member)
            o.insert(path, fieldValue(*this, f));
        else
            r.insert(path.mid(6), fieldValue(*this, f)); // strip "retry."
    });
    o.insert(QStringLiteral("retry"), r);
    o.insert(QStringLiteral("packing"), packingModeName(packing));
    o.insert(QStringLiteral("adaptive"), adaptive);
    return o;
}

ConfigError EngineConfig::fromJson(const QJsonObject &json, const EngineConfig &base, EngineConfig *out)
{
    EngineConfig c = base;
    ConfigError err;

    const auto findField = [](const QString &path) -> const IntField * {
        const IntField *found = nullptr;
        forEachIntField([&](const IntField &f) {
            if (path == QLatin1String(f.path))
                found = &f;
        });
        return found;
    };

    for (auto it = json.begin(); it != json.end() && err.isNull(); ++it) {
        const QString key = it.key();
        if (key == QLatin1String("packing")) {
            const auto mode = packingModeFromName(it.value().toString());
            if (!it.value().isString() || !mode)
                err = {key, QStringLiteral("must be \"auto\", \"pack\" or \"fanout\"")};
            else
                c.packing = *mode;
        } else if (key == QLatin1String("adaptive")) {
            if (!it.value().isBool())
                err = {key, QStringLiteral("must be true or false")};
            else
                c.adaptive = it.value().toBool();
        } else if (key == QLatin1String("retry")) {
            if (!it.value().isObject()) {
                err = {key, QStringLiteral("must be an object with maxAttempts, initialBackoffMs, maxBackoffMs")};
                break;
            }
            const QJsonObject r = it.value().toObject();
            for (auto rit = r.begin(); rit != r.end() && err.isNull(); ++rit) {
                const QString path = QStringLiteral("retry.") + rit.key();
                if (const IntField *f = findField(path))
                    err = readInt(rit.value(), *f, &fieldRef(c, *f));
                else
                    err = {path, QStringLiteral("unknown field")};
            }
        } else if (const IntField *f = findField(key); f && f->member) {
            err = readInt(it.value(), *f, &fieldRef(c, *f));
        } else {
            err = {key, QStringLiteral("unknown field")};
        }
    }
    if (err.isNull())
        err = c.validate();
    if (err.isNull())
        *out = c;
    return err;
}

QString EngineConfig::describeKnobs()
{
    const EngineConfig d;
    QStringList lines;
    forEachIntField([&](const IntField &f) {
        lines << QStringLiteral("  %1  default %2, range %3..%4: %5")
                     .arg(QString::fromLatin1(f.path), -24)
                     .arg(fieldValue(d, f))
                     .arg(f.min)
                     .arg(f.max)
                     .arg(QString::fromLatin1(f.meaning));
    });
    lines << QStringLiteral("  %1  default %2: auto (fanout while the upstream budget keeps up, packs sized by a latency model when it binds), "
                            "pack (compatible requests in one JSON-mode call) or fanout (one call per request)")
                 .arg(QStringLiteral("packing"), -24)
                 .arg(packingModeName(d.packing));
    lines << QStringLiteral("  %1  default %2: dispatch early when waiting is predicted not to pay")
                 .arg(QStringLiteral("adaptive"), -24)
                 .arg(d.adaptive ? QStringLiteral("true") : QStringLiteral("false"));
    return lines.join(QLatin1Char('\n'));
}
