#include "core/engine/scheduling.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonValue>

#include <cmath>

using namespace std::chrono;

namespace {

constexpr std::array<const char *, kPriorityClasses> kClassNames{"interactive", "standard", "background"};
constexpr std::array<const char *, kServiceTiers> kTierNames{"standard", "flex", "priority", "batch"};

bool readNumber(const QJsonObject &o, const char *key, double lo, double hi, bool integral, const QString &path,
                double *out, QString *error)
{
    const QJsonValue v = o.value(QLatin1StringView(key));
    if (v.isUndefined())
        return true;
    const QString where = path + QLatin1Char('.') + QLatin1StringView(key);
    if (!v.isDouble()) {
        *error = QStringLiteral("%1: expected a number").arg(where);
        return false;
    }
    const double d = v.toDouble();
    if (!(d >= lo && d <= hi) || (integral && d != std::floor(d))) {
        *error = QStringLiteral("%1: %2 is out of range; allowed: %3 %4..%5")
                     .arg(where)
                     .arg(d)
                     .arg(integral ? QStringLiteral("an integer") : QStringLiteral("a number"))
                     .arg(lo)
                     .arg(hi);
        return false;
    }
    *out = d;
    return true;
}

bool readDeadline(const QJsonValue &v, const QString &where, std::optional<milliseconds> *out, QString *error)
{
    if (v.isUndefined())
        return true;
    if (!v.isString() || !parseDuration(v.toString())) {
        *error = QStringLiteral("%1: expected a duration such as \"90s\", \"30m\" or \"6h\" (at most 7d)").arg(where);
        return false;
    }
    *out = parseDuration(v.toString());
    return true;
}

bool readPolicy(const QJsonValue &value, const QString &path, TenantPolicy base, TenantPolicy *out, QString *error)
{
    if (!value.isObject()) {
        *error = QStringLiteral("%1: expected an object").arg(path);
        return false;
    }
    const QJsonObject o = value.toObject();
    static const QStringList known{QStringLiteral("weight"),   QStringLiteral("priority"), QStringLiteral("deadline"),
                                   QStringLiteral("rpm"),      QStringLiteral("tpm"),      QStringLiteral("maxConcurrent"),
                                   QStringLiteral("maxQueued")};
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (!known.contains(it.key())) {
            *error = QStringLiteral("%1.%2: unknown key; known: %3").arg(path, it.key(), known.join(QStringLiteral(", ")));
            return false;
        }
    }
    double d = base.weight;
    if (!readNumber(o, "weight", 0.01, 1000, false, path, &d, error))
        return false;
    base.weight = d;
    const QJsonValue prio = o.value(QLatin1StringView("priority"));
    if (!prio.isUndefined()) {
        const auto c = prio.isString() ? priorityClassFromName(prio.toString()) : std::nullopt;
        if (!c) {
            *error = QStringLiteral("%1.priority: expected \"interactive\", \"standard\" or \"background\"").arg(path);
            return false;
        }
        base.priority = *c;
    }
    if (!readDeadline(o.value(QLatin1StringView("deadline")), path + QStringLiteral(".deadline"), &base.deadline, error))
        return false;
    struct IntField {
        const char *key;
        int *field;
    };
    for (const IntField &f : {IntField{"rpm", &base.rpm}, IntField{"tpm", &base.tpm},
                              IntField{"maxConcurrent", &base.maxConcurrent}, IntField{"maxQueued", &base.maxQueued}}) {
        double n = *f.field;
        if (!readNumber(o, f.key, 0, 1e9, true, path, &n, error))
            return false;
        *f.field = int(n);
    }
    *out = base;
    return true;
}

QJsonObject policyJson(const TenantPolicy &p)
{
    QJsonObject o{{QStringLiteral("weight"), p.weight},
                  {QStringLiteral("priority"), priorityClassName(p.priority)},
                  {QStringLiteral("rpm"), p.rpm},
                  {QStringLiteral("tpm"), p.tpm},
                  {QStringLiteral("maxConcurrent"), p.maxConcurrent},
                  {QStringLiteral("maxQueued"), p.maxQueued}};
    if (p.deadline)
        o.insert(QStringLiteral("deadline"), formatDuration(*p.deadline));
    return o;
}

} // namespace

QString priorityClassName(PriorityClass c)
{
    return QString::fromLatin1(kClassNames[size_t(c)]);
}

std::optional<PriorityClass> priorityClassFromName(QStringView name)
{
    for (int i = 0; i < kPriorityClasses; ++i)
        if (name.compare(QLatin1StringView(kClassNames[size_t(i)]), Qt::CaseInsensitive) == 0)
            return PriorityClass(i);
    return std::nullopt;
}

QString serviceTierName(ServiceTier t)
{
    return QString::fromLatin1(kTierNames[size_t(t)]);
}

std::optional<ServiceTier> serviceTierFromName(QStringView name)
{
    // The proto enum's spelling ("SERVICE_TIER_FLEX") is Gemini's too.
    if (name.startsWith(QLatin1StringView("SERVICE_TIER_"), Qt::CaseInsensitive))
        name = name.sliced(13);
    if (name.compare(QLatin1StringView("unspecified"), Qt::CaseInsensitive) == 0)
        return ServiceTier::Standard;
    for (int i = 0; i < kServiceTiers; ++i)
        if (name.compare(QLatin1StringView(kTierNames[size_t(i)]), Qt::CaseInsensitive) == 0)
            return ServiceTier(i);
    return std::nullopt;
}

std::optional<milliseconds> parseDuration(QStringView text)
{
    text = text.trimmed();
    qsizetype digits = 0;
    while (digits < text.size() && (text[digits].isDigit() || text[digits] == QLatin1Char('.')))
        ++digits;
    if (digits == 0 || digits > 12)
        return std::nullopt;
    bool ok = false;
    const double n = text.left(digits).toDouble(&ok);
    if (!ok || !(n >= 0))
        return std::nullopt;
    const QStringView unit = text.mid(digits);
    double ms = 0;
    if (unit.isEmpty() || unit == QLatin1StringView("s"))
        ms = n * 1000;
    else if (unit == QLatin1StringView("ms"))
        ms = n;
    else if (unit == QLatin1StringView("m"))
        ms = n * 60'000;
    else if (unit == QLatin1StringView("h"))
        ms = n * 3'600'000;
    else if (unit == QLatin1StringView("d"))
        ms = n * 86'400'000;
    else
        return std::nullopt;
    if (ms > 7.0 * 86'400'000)
        return std::nullopt;
    return milliseconds(qint64(std::llround(ms)));
}

QString formatDuration(milliseconds d)
{
    const qint64 ms = d.count();
    if (ms > 0 && ms % 86'400'000 == 0)
        return QStringLiteral("%1d").arg(ms / 86'400'000);
    if (ms > 0 && ms % 3'600'000 == 0)
        return QStringLiteral("%1h").arg(ms / 3'600'000);
    if (ms > 0 && ms % 60'000 == 0)
        return QStringLiteral("%1m").arg(ms / 60'000);
    if (ms % 1000 == 0)
        return QStringLiteral("%1s").arg(ms / 1000);
    return QStringLiteral("%1ms").arg(ms);
}

const TenantPolicy &TenantsConfig::policyFor(const QString &tenant) const
{
    auto it = byId.constFind(tenant);
    return it == byId.constEnd() ? defaults : *it;
}

bool TenantsConfig::fromJson(const QJsonObject &json, TenantsConfig *out, QString *error)
{
    TenantsConfig c;
    static const QStringList known{QStringLiteral("defaults"), QStringLiteral("byId"), QStringLiteral("classes")};
    for (auto it = json.begin(); it != json.end(); ++it) {
        if (!known.contains(it.key())) {
            *error = QStringLiteral("tenants.%1: unknown key; known: %2").arg(it.key(), known.join(QStringLiteral(", ")));
            return false;
        }
    }
    if (json.contains(QLatin1StringView("defaults"))
        && !readPolicy(json.value(QLatin1StringView("defaults")), QStringLiteral("tenants.defaults"), c.defaults,
                       &c.defaults, error))
        return false;
    const QJsonValue byId = json.value(QLatin1StringView("byId"));
    if (!byId.isUndefined()) {
        if (!byId.isObject()) {
            *error = QStringLiteral("tenants.byId: expected an object of tenant id → settings");
            return false;
        }
        const QJsonObject ids = byId.toObject();
        for (auto it = ids.begin(); it != ids.end(); ++it) {
            const QString path = QStringLiteral("tenants.byId.") + it.key();
            const bool keyId = it.key().startsWith(QLatin1StringView("key-")) && it.key().size() == 20;
            if (!keyId && !isValidTenantName(it.key())) {
                *error = QStringLiteral("%1: not a tenant id; use \"key-\" + 16 hex digits (sluice --tenant-id KEY) "
                                        "or an X-Sluice-Tenant name of 1..64 letters, digits, '.', '_' or '-'")
                             .arg(path);
                return false;
            }
            TenantPolicy p;
            if (!readPolicy(it.value(), path, c.defaults, &p, error))
                return false;
            c.byId.insert(it.key(), p);
        }
    }
    const QJsonValue classes = json.value(QLatin1StringView("classes"));
    if (!classes.isUndefined()) {
        if (!classes.isObject()) {
            *error = QStringLiteral("tenants.classes: expected an object with interactive, standard, background");
            return false;
        }
        const QJsonObject o = classes.toObject();
        for (auto it = o.begin(); it != o.end(); ++it) {
            const auto cls = priorityClassFromName(it.key());
            const QString path = QStringLiteral("tenants.classes.") + it.key();
            if (!cls || !it.value().isObject()) {
                *error = QStringLiteral("%1: expected one of interactive, standard, background, each an object "
                                        "{\"weight\", \"deadline\"}")
                             .arg(path);
                return false;
            }
            const QJsonObject co = it.value().toObject();
            for (auto k = co.begin(); k != co.end(); ++k) {
                if (k.key() != QLatin1StringView("weight") && k.key() != QLatin1StringView("deadline")) {
                    *error = QStringLiteral("%1.%2: unknown key; known: weight, deadline").arg(path, k.key());
                    return false;
                }
            }
            double w = c.classWeights[size_t(*cls)];
            if (!readNumber(co, "weight", 0.01, 10000, false, path, &w, error))
                return false;
            c.classWeights[size_t(*cls)] = w;
            if (!readDeadline(co.value(QLatin1StringView("deadline")), path + QStringLiteral(".deadline"),
                              &c.classDeadlines[size_t(*cls)], error))
                return false;
        }
    }
    *out = c;
    return true;
}

QJsonObject TenantsConfig::toJson() const
{
    QJsonObject ids;
    for (auto it = byId.begin(); it != byId.end(); ++it)
        ids.insert(it.key(), policyJson(*it));
    QJsonObject classes;
    for (int i = 0; i < kPriorityClasses; ++i) {
        QJsonObject o{{QStringLiteral("weight"), classWeights[size_t(i)]}};
        if (classDeadlines[size_t(i)])
            o.insert(QStringLiteral("deadline"), formatDuration(*classDeadlines[size_t(i)]));
        classes.insert(priorityClassName(PriorityClass(i)), o);
    }
    return {{QStringLiteral("defaults"), policyJson(defaults)},
            {QStringLiteral("byId"), ids},
            {QStringLiteral("classes"), classes}};
}

QString tenantIdForKey(QByteArrayView apiKey)
{
    return QStringLiteral("key-")
        + QString::fromLatin1(QCryptographicHash::hash(apiKey, QCryptographicHash::Sha256).toHex().left(16));
}

bool isValidTenantName(QStringView name)
{
    if (name.isEmpty() || name.size() > 64 || name.startsWith(QLatin1StringView("key-")))
        return false;
    for (QChar ch : name) {
        const char16_t u = ch.unicode();
        const bool ok = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '.'
                     || u == '_' || u == '-';
        if (!ok)
            return false;
    }
    return true;
}
