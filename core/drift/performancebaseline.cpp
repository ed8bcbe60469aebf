#include "core/drift/performancebaseline.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>

#include <cmath>
#include <initializer_list>
#include <limits>

namespace {

// Reads typed fields from one JSON object, naming `path.field` on error, and
// collects the fields it was not asked about into `extra`.
class Reader
{
public:
    Reader(const QJsonObject &obj, QString path, QString *error) : m_obj(obj), m_path(std::move(path)), m_error(error) {}

    bool ok() const { return m_error->isEmpty(); }

    double number(const char *name, double min = 0, bool required = true)
    {
        const QString key = QString::fromLatin1(name);
        m_seen << key;
        if (!ok())
            return 0;
        const QJsonValue v = m_obj.value(key);
        if (v.isUndefined()) {
            if (required)
                fail(key, QStringLiteral("is missing"));
            return 0;
        }
        if (!v.isDouble() || !std::isfinite(v.toDouble()) || v.toDouble() < min) {
            fail(key, min == 0 ? QStringLiteral("must be a non-negative number") : QStringLiteral("must be a number >= %1").arg(min));
            return 0;
        }
        return v.toDouble();
    }

    int integer(const char *name, int min = 0, bool required = true)
    {
        const double d = number(name, min, required);
        constexpr int kMax = std::numeric_limits<int>::max();
        // Converting a double beyond int's range is undefined behaviour: refused before it.
        if (ok() && (d != std::floor(d) || d > kMax))
            fail(QString::fromLatin1(name), QStringLiteral("must be an integer from %1 to %2").arg(min).arg(kMax));
        return ok() ? int(d) : 0;
    }

    QString string(const char *name, bool required = true)
    {
        const QString key = QString::fromLatin1(name);
        m_seen << key;
        if (!ok())
            return {};
        const QJsonValue v = m_obj.value(key);
        if (v.isUndefined()) {
            if (required)
                fail(key, QStringLiteral("is missing"));
            return {};
        }
        if (!v.isString()) {
            fail(key, QStringLiteral("must be a string"));
            return {};
        }
        return v.toString();
    }

    QJsonObject object(const char *name, bool required = true)
    {
        const QString key = QString::fromLatin1(name);
        m_seen << key;
        if (!ok())
            return {};
        const QJsonValue v = m_obj.value(key);
        if (v.isUndefined() || (v.isNull() && !required)) {
            if (required)
                fail(key, QStringLiteral("is missing"));
            return {};
        }
        if (!v.isObject()) {
            fail(key, QStringLiteral("must be an object"));
            return {};
        }
        return v.toObject();
    }

    bool boolean(const char *name)
    {
        const QString key = QString::fromLatin1(name);
        m_seen << key;
        if (!ok())
            return false;
        const QJsonValue v = m_obj.value(key);
        if (!v.isBool()) {
            fail(key, v.isUndefined() ? QStringLiteral("is missing") : QStringLiteral("must be true or false"));
            return false;
        }
        return v.toBool();
    }

    QJsonArray array(const char *name)
    {
        const QString key = QString::fromLatin1(name);
        m_seen << key;
        if (!ok())
            return {};
        const QJsonValue v = m_obj.value(key);
        if (!v.isArray()) {
            fail(key, v.isUndefined() ? QStringLiteral("is missing") : QStringLiteral("must be a list"));
            return {};
        }
        return v.toArray();
    }

    void fail(const QString &key, const QString &message)
    {
        if (ok())
            *m_error = QStringLiteral("%1: %2").arg(child(key), message);
    }

    QString child(const QString &key) const { return m_path.isEmpty() ? key : m_path + QLatin1Char('.') + key; }

    QJsonObject extra() const
    {
        QJsonObject e;
        for (auto it = m_obj.begin(); it != m_obj.end(); ++it)
            if (!m_seen.contains(it.key()))
                e.insert(it.key(), it.value());
        return e;
    }

private:
    const QJsonObject &m_obj;
    QString m_path;
    QString *m_error;
    QStringList m_seen;
};

QJsonObject withExtra(QJsonObject known, const QJsonObject &extra)
{
    for (auto it = extra.begin(); it != extra.end(); ++it)
        if (!known.contains(it.key()))
            known.insert(it.key(), it.value());
    return known;
}

QJsonArray toArray(const QList<double> &v)
{
    QJsonArray a;
    for (double d : v)
        a.append(d);
    return a;
}

} // namespace

QJsonObject BaselineStep::toJson() const
{
    QJsonObject known{{QStringLiteral("users"), users},
                      {QStringLiteral("offeredRps"), offeredRps},
                      {QStringLiteral("achievedRps"), achievedRps},
                      {QStringLiteral("p50Ms"), p50Ms},
                      {QStringLiteral("p95Ms"), p95Ms},
                      {QStringLiteral("p99Ms"), p99Ms},
                      {QStringLiteral("queueDepthMean"), queueDepthMean},
                      {QStringLiteral("queueDepthMax"), queueDepthMax},
                      {QStringLiteral("errorRate"), errorRate},
                      {QStringLiteral("tokensPerSecond"), tokensPerSecond}};
    if (generator)
        known.insert(QStringLiteral("generator"),
                     withExtra({{QStringLiteral("processes"), generator->processes},
                                {QStringLiteral("workers"), generator->workers},
                                {QStringLiteral("cpuCores"), generator->cpuCores},
                                {QStringLiteral("busiestCores"), generator->busiestCores},
                                {QStringLiteral("machineBusy"), generator->machineBusy},
                                {QStringLiteral("machineCores"), generator->machineCores},
                                {QStringLiteral("bound"), generator->bound}},
                               generator->extra));
    if (search)
        known.insert(QStringLiteral("search"),
                     withExtra({{QStringLiteral("order"), search->order},
                                {QStringLiteral("phase"), search->phase},
                                {QStringLiteral("warmupSeconds"), search->warmupSeconds},
                                {QStringLiteral("measureSeconds"), search->measureSeconds},
                                {QStringLiteral("verdict"), search->verdict},
                                {QStringLiteral("decision"), search->decision}},
                               search->extra));
    return withExtra(known, extra);
}

QJsonObject PerformanceBaseline::toJson() const
{
    QJsonArray stepArray;
    for (const BaselineStep &s : steps)
        stepArray.append(s.toJson());
    QJsonValue inflectionJson = QJsonValue::Null;
    if (inflection)
        inflectionJson = withExtra({{QStringLiteral("users"), inflection->users},
                                    {QStringLiteral("queueDepth"), inflection->queueDepth},
                                    {QStringLiteral("throughputRps"), inflection->throughputRps},
                                    {QStringLiteral("p95Ms"), inflection->p95Ms},
                                    {QStringLiteral("method"), inflection->method}},
                                   inflection->extra);
    const QJsonObject healthyJson = withExtra(
        {{QStringLiteral("p50Ms"), healthy.p50Ms},
         {QStringLiteral("p95Ms"), healthy.p95Ms},
         {QStringLiteral("p99Ms"), healthy.p99Ms},
         {QStringLiteral("histogram"), QJsonObject{{QStringLiteral("boundsMs"), toArray(healthy.histogram.boundsMs)},
                                                   {QStringLiteral("counts"), toArray(healthy.histogram.counts)}}},
         {QStringLiteral("tokensPerSecond"), healthy.tokensPerSecond}},
        healthy.extra);
    const QJsonObject driftJson = withExtra({{QStringLiteral("warnRatio"), drift.warnRatio},
                                             {QStringLiteral("driftRatio"), drift.driftRatio},
                                             {QStringLiteral("warnDistance"), drift.warnDistance},
                                             {QStringLiteral("driftDistance"), drift.driftDistance},
                                             {QStringLiteral("enterWindows"), drift.enterWindows},
                                             {QStringLiteral("exitWindows"), drift.exitWindows},
                                             {QStringLiteral("minSamples"), drift.minSamples}},
                                            drift.extra);
    QJsonObject known{{QStringLiteral("schema"), schema},
                      {QStringLiteral("createdAt"), createdAt.toUTC().toString(Qt::ISODateWithMs)},
                      {QStringLiteral("sluiceVersion"), sluiceVersion},
                      {QStringLiteral("environment"), environment},
                      {QStringLiteral("config"), config},
                      {QStringLiteral("loadProfile"), loadProfile},
                      {QStringLiteral("steps"), stepArray},
                      {QStringLiteral("inflection"), inflectionJson},
                      {QStringLiteral("healthy"), healthyJson},
                      {QStringLiteral("drift"), driftJson}};
    if (!search.isEmpty())
        known.insert(QStringLiteral("search"), search);
    return withExtra(known, extra);
}

QByteArray PerformanceBaseline::toJsonBytes() const
{
    return QJsonDocument(toJson()).toJson(QJsonDocument::Indented);
}

bool PerformanceBaseline::fromJson(const QJsonObject &json, PerformanceBaseline *out, QString *error)
{
    error->clear();
    const QString schemaValue = json.value(QStringLiteral("schema")).toString();
    if (schemaValue != QLatin1String(kSchema)) {
        *error = json.contains(QStringLiteral("schema"))
                     ? QStringLiteral("not a Sluice performance baseline: schema is '%1', expected '%2'")
                           .arg(schemaValue, QLatin1String(kSchema))
                     : QStringLiteral("not a Sluice performance baseline: it has no \"schema\" field (expected '%1')")
                           .arg(QLatin1String(kSchema));
        return false;
    }
    PerformanceBaseline b;
    Reader top(json, {}, error);
    b.schema = top.string("schema");
    const QString created = top.string("createdAt");
    b.createdAt = QDateTime::fromString(created, Qt::ISODateWithMs);
    if (top.ok() && !b.createdAt.isValid())
        top.fail(QStringLiteral("createdAt"), QStringLiteral("must be an ISO 8601 date-time, got '%1'").arg(created));
    b.sluiceVersion = top.string("sluiceVersion");
    b.environment = top.object("environment");
    b.config = top.object("config");
    b.loadProfile = top.object("loadProfile");
    const QJsonArray stepArray = top.array("steps");
    for (int i = 0; top.ok() && i < stepArray.size(); ++i) {
        const QString path = QStringLiteral("steps[%1]").arg(i);
        if (!stepArray.at(i).isObject()) {
            *error = path + QStringLiteral(": must be an object");
            break;
        }
        const QJsonObject so = stepArray.at(i).toObject();
        Reader r(so, path, error);
        BaselineStep s;
        s.users = r.integer("users");
        s.offeredRps = r.number("offeredRps");
        s.achievedRps = r.number("achievedRps");
        s.p50Ms = r.number("p50Ms");
        s.p95Ms = r.number("p95Ms");
        s.p99Ms = r.number("p99Ms");
        s.queueDepthMean = r.number("queueDepthMean");
        s.queueDepthMax = r.number("queueDepthMax");
        s.errorRate = r.number("errorRate");
        if (r.ok() && s.errorRate > 1)
            r.fail(QStringLiteral("errorRate"), QStringLiteral("must be from 0 to 1"));
        s.tokensPerSecond = r.number("tokensPerSecond");
        // Optional: written since the load generator and the knee search were measured.
        const QJsonObject gen = r.object("generator", /*required=*/false);
        if (r.ok() && so.contains(QStringLiteral("generator"))) {
            Reader g(gen, path + QStringLiteral(".generator"), error);
            BaselineGenerator x;
            x.processes = g.integer("processes");
            x.workers = g.integer("workers");
            x.cpuCores = g.number("cpuCores");
            x.busiestCores = g.number("busiestCores");
            x.machineBusy = g.number("machineBusy");
            x.machineCores = g.integer("machineCores");
            x.bound = g.boolean("bound");
            x.extra = g.extra();
            s.generator = x;
        }
        const QJsonObject srch = r.object("search", /*required=*/false);
        if (r.ok() && error->isEmpty() && so.contains(QStringLiteral("search"))) {
            Reader g(srch, path + QStringLiteral(".search"), error);
            BaselineStepSearch x;
            x.order = g.integer("order");
            x.phase = g.string("phase");
            x.warmupSeconds = g.number("warmupSeconds");
            x.measureSeconds = g.number("measureSeconds");
            x.verdict = g.string("verdict");
            x.decision = g.string("decision");
            x.extra = g.extra();
            s.search = x;
        }
        s.extra = r.extra();
        b.steps << s;
    }
    const QJsonObject inf = top.object("inflection", /*required=*/false);
    if (top.ok() && !inf.isEmpty()) {
        Reader r(inf, QStringLiteral("inflection"), error);
        BaselineInflection x;
        x.users = r.integer("users");
        x.queueDepth = r.number("queueDepth");
        x.throughputRps = r.number("throughputRps");
        x.p95Ms = r.number("p95Ms");
        x.method = r.string("method");
        x.extra = r.extra();
        b.inflection = x;
    }
    const QJsonObject healthyObj = top.object("healthy");
    if (top.ok()) {
        Reader r(healthyObj, QStringLiteral("healthy"), error);
        b.healthy.p50Ms = r.number("p50Ms");
        b.healthy.p95Ms = r.number("p95Ms");
        b.healthy.p99Ms = r.number("p99Ms");
        b.healthy.tokensPerSecond = r.number("tokensPerSecond");
        const QJsonObject hist = r.object("histogram");
        b.healthy.extra = r.extra();
        if (r.ok()) {
            Reader h(hist, QStringLiteral("healthy.histogram"), error);
            const QJsonArray bounds = h.array("boundsMs");
            const QJsonArray counts = h.array("counts");
            double prev = -1;
            for (int i = 0; h.ok() && i < bounds.size(); ++i) {
                const double v = bounds.at(i).toDouble(-1);
                if (!bounds.at(i).isDouble() || v <= prev) {
                    h.fail(QStringLiteral("boundsMs[%1]").arg(i), QStringLiteral("must be a number greater than the previous bound"));
                    break;
                }
                prev = v;
                b.healthy.histogram.boundsMs << v;
            }
            // An empty histogram (no bounds, no counts) means "not measured",
            // e.g. a baseline captured against a gateway in another process.
            if (h.ok() && !(bounds.isEmpty() && counts.isEmpty()) && counts.size() != bounds.size() + 1)
                h.fail(QStringLiteral("counts"), QStringLiteral("must have one entry more than boundsMs (%1), has %2")
                                                     .arg(bounds.size() + 1).arg(counts.size()));
            for (int i = 0; h.ok() && i < counts.size(); ++i) {
                if (!counts.at(i).isDouble() || counts.at(i).toDouble() < 0) {
                    h.fail(QStringLiteral("counts[%1]").arg(i), QStringLiteral("must be a non-negative number"));
                    break;
                }
                b.healthy.histogram.counts << counts.at(i).toDouble();
            }
        }
    }
    const QJsonObject driftObj = top.object("drift");
    if (top.ok() && error->isEmpty()) {
        Reader r(driftObj, QStringLiteral("drift"), error);
        b.drift.warnRatio = r.number("warnRatio", 1.0);
        b.drift.driftRatio = r.number("driftRatio", 1.0);
        b.drift.warnDistance = r.number("warnDistance");
        b.drift.driftDistance = r.number("driftDistance");
        b.drift.enterWindows = r.integer("enterWindows", 1);
        b.drift.exitWindows = r.integer("exitWindows", 1);
        b.drift.minSamples = r.integer("minSamples", 1);
        if (r.ok() && b.drift.driftRatio < b.drift.warnRatio)
            r.fail(QStringLiteral("driftRatio"), QStringLiteral("must be at least warnRatio (%1)").arg(b.drift.warnRatio));
        if (r.ok() && b.drift.driftDistance < b.drift.warnDistance)
            r.fail(QStringLiteral("driftDistance"), QStringLiteral("must be at least warnDistance (%1)").arg(b.drift.warnDistance));
        b.drift.extra = r.extra();
    }
    if (top.ok() && error->isEmpty())
        b.search = top.object("search", /*required=*/false);
    b.extra = top.extra();
    if (!error->isEmpty())
        return false;
    *out = b;
    return true;
}

bool PerformanceBaseline::fromBytes(const QByteArray &bytes, PerformanceBaseline *out, QString *error)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &pe);
    if (pe.error != QJsonParseError::NoError) {
        *error = QStringLiteral("not valid JSON: %1 at offset %2").arg(pe.errorString()).arg(pe.offset);
        return false;
    }
    if (!doc.isObject()) {
        *error = QStringLiteral("not a Sluice performance baseline: the document is not a JSON object");
        return false;
    }
    return fromJson(doc.object(), out, error);
}

bool PerformanceBaseline::load(const QString &path, PerformanceBaseline *out, QString *error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("%1: cannot read: %2").arg(path, f.errorString());
        return false;
    }
    if (!fromBytes(f.readAll(), out, error)) {
        *error = QStringLiteral("%1: %2").arg(path, *error);
        return false;
    }
    return true;
}

bool PerformanceBaseline::save(const QString &path, QString *error) const
{
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(toJsonBytes()) < 0 || !f.commit()) {
        *error = QStringLiteral("%1: cannot write: %2").arg(path, f.errorString());
        return false;
    }
    return true;
}
