#include "server/simulator/simulatorconfig.h"

#include <QJsonArray>
#include <QJsonValue>

#include <algorithm>
#include <array>
#include <cmath>

namespace {

struct DoubleField {
    const char *name;
    double SimulatorConfig::*member;
    double min;
    double max;
    bool minExclusive;
};

struct IntField {
    const char *name;
    int SimulatorConfig::*member;
    int min;
    int max;
};

const std::array<DoubleField, 17> kDoubles{{
    {"baseLatencyMs", &SimulatorConfig::baseLatencyMs, 0, 3600000, false},
    {"tokensPerSecond", &SimulatorConfig::tokensPerSecond, 0, 1e9, false},
    {"jitterSigma", &SimulatorConfig::jitterSigma, 0, 3, false},
    {"embedLatencyMs", &SimulatorConfig::embedLatencyMs, 0, 3600000, false},
    {"http500Rate", &SimulatorConfig::http500Rate, 0, 1, false},
    {"http503Rate", &SimulatorConfig::http503Rate, 0, 1, false},
    {"timeoutRate", &SimulatorConfig::timeoutRate, 0, 1, false},
    {"dropRate", &SimulatorConfig::dropRate, 0, 1, false},
    {"packDropRate", &SimulatorConfig::packDropRate, 0, 1, false},
    {"midStreamErrorRate", &SimulatorConfig::midStreamErrorRate, 0, 1, false},
    {"timeoutHoldMs", &SimulatorConfig::timeoutHoldMs, 0, 86400000, false},
    {"timeScale", &SimulatorConfig::timeScale, 0, 1000, true},
    {"flexLatencyFactor", &SimulatorConfig::flexLatencyFactor, 0, 1000, true},
    {"flexShedRate", &SimulatorConfig::flexShedRate, 0, 1, false},
    {"priorityLatencyFactor", &SimulatorConfig::priorityLatencyFactor, 0, 1000, true},
    {"batchPendingMs", &SimulatorConfig::batchPendingMs, 0, 86400000, false},
    {"batchRunMs", &SimulatorConfig::batchRunMs, 0, 86400000, false},
}};

const std::array<IntField, 6> kInts{{
    {"maxConcurrent", &SimulatorConfig::maxConcurrent, 1, 1000000},
    {"responseWords", &SimulatorConfig::responseWords, 1, 100000},
    {"rpmLimit", &SimulatorConfig::rpmLimit, 0, 1000000000},
    {"tpmLimit", &SimulatorConfig::tpmLimit, 0, 2000000000},
    {"rpdLimit", &SimulatorConfig::rpdLimit, 0, 2000000000},
    {"priorityRpmLimit", &SimulatorConfig::priorityRpmLimit, 0, 1000000000},
}};

// The fields of one modelLimits entry.
struct LimitField {
    const char *name;
    int SimulatorModelLimits::*member;
};

const std::array<LimitField, 3> kLimits{{
    {"rpmLimit", &SimulatorModelLimits::rpmLimit},
    {"tpmLimit", &SimulatorModelLimits::tpmLimit},
    {"rpdLimit", &SimulatorModelLimits::rpdLimit},
}};

QString name(const char *s) { return QString::fromLatin1(s); }

SimulatorConfig::Error err(const QString &field, const QString &message)
{
    return {field, message};
}

bool readInt(const QJsonValue &v, qint64 min, qint64 max, qint64 *out)
{
    if (!v.isDouble())
        return false;
    const double d = v.toDouble();
    if (std::floor(d) != d || d < double(min) || d > double(max))
        return false;
    *out = qint64(d);
    return true;
}

bool readStringList(const QJsonValue &v, QStringList *out)
{
    if (!v.isArray())
        return false;
    QStringList list;
    for (const QJsonValue &item : v.toArray()) {
        if (!item.isString())
            return false;
        list << item.toString();
    }
    *out = list;
    return true;
}

} // namespace

SimulatorConfig::Error SimulatorConfig::validate() const
{
    for (const DoubleField &f : kDoubles) {
        const double v = this->*(f.member);
        if (!std::isfinite(v) || v > f.max || (f.minExclusive ? v <= f.min : v < f.min))
            return err(name(f.name), QStringLiteral("must be %1 %2 and <= %3")
                                         .arg(f.minExclusive ? QStringLiteral(">") : QStringLiteral(">="))
                                         .arg(f.min).arg(f.max));
    }
    for (const IntField &f : kInts) {
        const int v = this->*(f.member);
        if (v < f.min || v > f.max)
            return err(name(f.name), QStringLiteral("must be an integer in %1..%2").arg(f.min).arg(f.max));
    }
    if (maxBodyBytes < 1024 || maxBodyBytes > (qint64(1) << 31))
        return err(QStringLiteral("maxBodyBytes"), QStringLiteral("must be an integer in 1024..2147483648"));
    // Fault rates are disjoint slices of one uniform draw.
    double sum = 0;
    for (const char *f : {"dropRate", "timeoutRate", "http500Rate", "http503Rate"}) {
        for (const DoubleField &d : kDoubles) {
            if (qstrcmp(d.name, f) == 0)
                sum += this->*(d.member);
        }
        if (sum > 1.0 + 1e-9)
            return err(name(f), QStringLiteral("dropRate + timeoutRate + http500Rate + http503Rate must be <= 1"));
    }
    for (auto it = modelLimits.cbegin(); it != modelLimits.cend(); ++it) {
        if (it.key().isEmpty())
            return err(QStringLiteral("modelLimits"), QStringLiteral("model names must not be empty"));
        for (const LimitField &f : kLimits) {
            if ((*it).*(f.member) < 0)
                return err(QStringLiteral("modelLimits.%1.%2").arg(it.key(), name(f.name)), QStringLiteral("must be >= 0"));
        }
    }
    for (const QString &m : models) {
        if (m.isEmpty() || m.contains(QLatin1Char('/')) || m.contains(QLatin1Char(':')))
            return err(QStringLiteral("models"), QStringLiteral("model ids must be non-empty and contain no '/' or ':'"));
    }
    return {};
}

QJsonObject SimulatorConfig::toJson() const
{
    QJsonObject o;
    o.insert(QStringLiteral("apiKey"), apiKey);
    for (const DoubleField &f : kDoubles)
        o.insert(name(f.name), this->*(f.member));
    for (const IntField &f : kInts)
        o.insert(name(f.name), this->*(f.member));
    QJsonObject limits;
    for (auto it = modelLimits.cbegin(); it != modelLimits.cend(); ++it) {
        QJsonObject entry;
        for (const LimitField &f : kLimits)
            entry.insert(name(f.name), (*it).*(f.member));
        limits.insert(it.key(), entry);
    }
    o.insert(QStringLiteral("modelLimits"), limits);
    o.insert(QStringLiteral("packDropIds"), QJsonArray::fromStringList(packDropIds));
    o.insert(QStringLiteral("seed"), double(seed));
    o.insert(QStringLiteral("maxBodyBytes"), double(maxBodyBytes));
    o.insert(QStringLiteral("models"), QJsonArray::fromStringList(models));
    return o;
}

SimulatorConfig::Error SimulatorConfig::fromJson(const QJsonObject &json, const SimulatorConfig &base,
                                                 SimulatorConfig *out)
{
    SimulatorConfig c = base;
    for (auto it = json.begin(); it != json.end(); ++it) {
        const QString key = it.key();
        const QJsonValue v = it.value();
        bool known = false;
        for (const DoubleField &f : kDoubles) {
            if (key != name(f.name))
                continue;
            known = true;
            if (!v.isDouble())
                return err(key, QStringLiteral("must be a number"));
            c.*(f.member) = v.toDouble();
        }
        for (const IntField &f : kInts) {
            if (key != name(f.name))
                continue;
            known = true;
            qint64 n = 0;
            if (!readInt(v, f.min, f.max, &n))
                return err(key, QStringLiteral("must be an integer in %1..%2").arg(f.min).arg(f.max));
            c.*(f.member) = int(n);
        }
        if (known)
            continue;
        if (key == QLatin1String("apiKey")) {
            if (!v.isString())
                return err(key, QStringLiteral("must be a string"));
            c.apiKey = v.toString();
        } else if (key == QLatin1String("seed")) {
            qint64 n = 0;
            if (!readInt(v, -(qint64(1) << 53), qint64(1) << 53, &n))
                return err(key, QStringLiteral("must be an integer"));
            c.seed = n;
        } else if (key == QLatin1String("maxBodyBytes")) {
            qint64 n = 0;
            if (!readInt(v, 1024, qint64(1) << 31, &n))
                return err(key, QStringLiteral("must be an integer in 1024..2147483648"));
            c.maxBodyBytes = n;
        } else if (key == QLatin1String("packDropIds")) {
            if (!readStringList(v, &c.packDropIds))
                return err(key, QStringLiteral("must be an array of strings"));
        } else if (key == QLatin1String("models")) {
            if (!readStringList(v, &c.models))
                return err(key, QStringLiteral("must be an array of strings"));
        } else if (key == QLatin1String("modelLimits")) {
            if (!v.isObject())
                return err(key, QStringLiteral("must be an object {model: {rpmLimit, tpmLimit, rpdLimit}}"));
            QHash<QString, SimulatorModelLimits> limits;
            const QJsonObject lo = v.toObject();
            for (auto m = lo.begin(); m != lo.end(); ++m) {
                const QString path = QStringLiteral("modelLimits.") + m.key();
                if (!m.value().isObject())
                    return err(path, QStringLiteral("must be an object {rpmLimit, tpmLimit, rpdLimit}"));
                SimulatorModelLimits l;
                const QJsonObject mo = m.value().toObject();
                for (auto f = mo.begin(); f != mo.end(); ++f) {
                    const auto field = std::find_if(kLimits.begin(), kLimits.end(),
                                                    [&](const LimitField &lf) { return f.key() == name(lf.name); });
                    if (field == kLimits.end())
                        return err(path + QLatin1Char('.') + f.key(), QStringLiteral("unknown field"));
                    qint64 n = 0;
                    if (!readInt(f.value(), 0, 2000000000, &n))
                        return err(path + QLatin1Char('.') + f.key(), QStringLiteral("must be an integer >= 0"));
                    l.*(field->member) = int(n);
                }
                limits.insert(m.key(), l);
            }
            c.modelLimits = limits;
        } else {
            return err(key, QStringLiteral("unknown field"));
        }
    }
    const Error e = c.validate();
    if (!e.isNull())
        return e;
    *out = c;
    return {};
}

SimulatorModelLimits SimulatorConfig::limitsFor(const QString &model) const
{
    const auto it = modelLimits.constFind(model);
    if (it != modelLimits.cend())
        return *it;
    return {rpmLimit, tpmLimit, rpdLimit};
}

QStringList SimulatorConfig::effectiveModels() const
{
    return models.isEmpty() ? defaultModels() : models;
}

QStringList SimulatorConfig::defaultModels()
{
    return {QStringLiteral("gemini-2.5-flash"), QStringLiteral("gemini-2.5-flash-lite"),
            QStringLiteral("gemini-2.5-pro"), QStringLiteral("gemini-2.0-flash"),
            QStringLiteral("gemini-2.0-flash-lite"), QStringLiteral("gemini-embedding-001"),
            QStringLiteral("text-embedding-004")};
}
