#include "app/appconfig.h"

#include "core/quota/redisconnection.h"

#include <functional>
#include <QCommandLineParser>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <type_traits>

namespace {

bool parseTransport(const QString &text, UpstreamTransport *out)
{
    const QString t = text.trimmed().toLower();
    if (t == QLatin1String("auto"))
        *out = UpstreamTransport::Auto;
    else if (t == QLatin1String("qnam"))
        *out = UpstreamTransport::Qnam;
    else if (t == QLatin1String("native"))
        *out = UpstreamTransport::Native;
    else
        return false;
    return true;
}

const QString kTransportChoices = QStringLiteral("auto, qnam or native");

const QUrl kGoogleBaseUrl(QStringLiteral("https://generativelanguage.googleapis.com"));
const QStringList kLogLevels{QStringLiteral("debug"), QStringLiteral("info"), QStringLiteral("warning"),
                             QStringLiteral("error")};

// Every engine knob as a JSON path ("maxBatchSize", "retry.maxAttempts").
QStringList knobPaths()
{
    QStringList paths;
    const QJsonObject json = EngineConfig{}.toJson();
    for (auto it = json.begin(); it != json.end(); ++it) {
        if (it.value().isObject()) {
            const QJsonObject sub = it.value().toObject();
            for (auto s = sub.begin(); s != sub.end(); ++s)
                paths << it.key() + QLatin1Char('.') + s.key();
        } else {
            paths << it.key();
        }
    }
    return paths;
}

// Text from the environment or the command line as the JSON value a knob
// expects: numbers and booleans where the default is one, strings otherwise.
QJsonValue knobValue(const QString &path, const QString &text)
{
    const QJsonObject defaults = EngineConfig{}.toJson();
    const int dot = int(path.indexOf(QLatin1Char('.')));
    const QJsonValue def = dot < 0 ? defaults.value(path)
                                   : defaults.value(path.left(dot)).toObject().value(path.mid(dot + 1));
    if (def.isBool()) {
        if (text == QLatin1String("true") || text == QLatin1String("1") || text == QLatin1String("on"))
            return true;
        if (text == QLatin1String("false") || text == QLatin1String("0") || text == QLatin1String("off"))
            return false;
        return text; // wrong type: validation names the field
    }
    if (def.isDouble()) {
        bool ok = false;
        const double d = text.toDouble(&ok);
        return ok ? QJsonValue(d) : QJsonValue(text);
    }
    return text;
}

QJsonObject knobPatch(const QString &path, const QJsonValue &value)
{
    const int dot = int(path.indexOf(QLatin1Char('.')));
    if (dot < 0)
        return {{path, value}};
    return {{path.left(dot), QJsonObject{{path.mid(dot + 1), value}}}};
}

bool parsePort(const QString &text, int *port)
{
    bool ok = false;
    const int p = text.toInt(&ok);
    if (!ok || p < 0 || p > 65535)
        return false;
    *port = p;
    return true;
}

bool applyFile(const QString &path, AppConfig *c, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("--config: cannot read %1: %2").arg(path, file.errorString());
        return false;
    }
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        *error = QStringLiteral("--config: %1 is not a JSON object (%2 at offset %3)")
                     .arg(path, pe.error != QJsonParseError::NoError ? pe.errorString() : QStringLiteral("not an object"))
                     .arg(pe.offset);
        return false;
    }
    const QJsonObject root = doc.object();
    const auto fail = [&](const QString &field, const QString &message) {
        *error = QStringLiteral("--config %1: %2: %3").arg(path, field, message);
        return false;
    };
    static const QStringList known{QStringLiteral("listen"), QStringLiteral("adminToken"), QStringLiteral("upstream"),
                                   QStringLiteral("engine"), QStringLiteral("server"), QStringLiteral("simulator"),
                                   QStringLiteral("logLevel"), QStringLiteral("baseline"), QStringLiteral("cache"),
                                   QStringLiteral("tenants"), QStringLiteral("tiers"), QStringLiteral("prices"),
                                   QStringLiteral("budget")};
    for (const QString &k : root.keys())
        if (!known.contains(k))
            return fail(k, QStringLiteral("unknown field (known: %1)").arg(known.join(QStringLiteral(", "))));

    const QJsonObject listen = root.value(QStringLiteral("listen")).toObject();
    if (listen.contains(QStringLiteral("host"))) {
        if (!listen.value(QStringLiteral("host")).isString())
            return fail(QStringLiteral("listen.host"), QStringLiteral("must be a string"));
        c->host = listen.value(QStringLiteral("host")).toString();
    }
    if (listen.contains(QStringLiteral("port"))) {
        const QJsonValue v = listen.value(QStringLiteral("port"));
        if (!v.isDouble() || !parsePort(QString::number(v.toDouble()), &c->port))
            return fail(QStringLiteral("listen.port"), QStringLiteral("must be an integer from 0 to 65535"));
    }
    if (root.contains(QStringLiteral("adminToken")))
        c->adminToken = root.value(QStringLiteral("adminToken")).toString();
    if (root.contains(QStringLiteral("baseline")))
        c->baselinePath = root.value(QStringLiteral("baseline")).toString();
    if (root.contains(QStringLiteral("logLevel")))
        c->logLevel = root.value(QStringLiteral("logLevel")).toString();
    const QJsonObject upstream = root.value(QStringLiteral("upstream")).toObject();
    if (upstream.contains(QStringLiteral("url")))
        c->upstreamUrl = QUrl(upstream.value(QStringLiteral("url")).toString());
    if (upstream.contains(QStringLiteral("apiKey")))
        c->apiKey = upstream.value(QStringLiteral("apiKey")).toString().toUtf8();
    if (upstream.contains(QStringLiteral("transport"))
        && !parseTransport(upstream.value(QStringLiteral("transport")).toString(), &c->upstreamTransport))
        return fail(QStringLiteral("upstream.transport"), QStringLiteral("must be %1").arg(kTransportChoices));
    const QJsonObject server = root.value(QStringLiteral("server")).toObject();
    if (server.contains(QStringLiteral("maxBodyBytes"))) {
        const double v = server.value(QStringLiteral("maxBodyBytes")).toDouble(-1);
        if (v < 1024 || v > 1024.0 * 1024 * 1024)
            return fail(QStringLiteral("server.maxBodyBytes"), QStringLiteral("must be from 1024 to 1073741824"));
        c->maxBodyBytes = qint64(v);
    }
    if (server.contains(QStringLiteral("drainGraceMs"))) {
        const double v = server.value(QStringLiteral("drainGraceMs")).toDouble(-1);
        if (v < 0 || v > 3600000)
            return fail(QStringLiteral("server.drainGraceMs"), QStringLiteral("must be from 0 to 3600000"));
        c->drainGraceMs = int(v);
    }
    const auto intField = [&](const QString &key, int lo, int hi, int *out) {
        if (!server.contains(key))
            return true;
        const QJsonValue jv = server.value(key);
        const double v = jv.toDouble(-1);
        if (!jv.isDouble() || v < lo || v > hi || v != double(qint64(v)))
            return fail(QStringLiteral("server.") + key, QStringLiteral("must be an integer from %1 to %2").arg(lo).arg(hi));
        *out = int(v);
        return true;
    };
    if (!intField(QStringLiteral("maxConnections"), 1, 1000000, &c->maxConnections)
        || !intField(QStringLiteral("streamMaxClients"), 0, 100000, &c->streamMaxClients)
        || !intField(QStringLiteral("bodyTimeoutMs"), 100, 3600000, &c->bodyTimeoutMs)
        || !intField(QStringLiteral("minBodyBytesPerSecond"), 0, 1 << 30, &c->minBodyBytesPerSecond))
        return false;
    for (const auto &[key, field] : {std::pair<QString, QString *>{QStringLiteral("tlsCert"), &c->tlsCertificateFile},
                                     {QStringLiteral("tlsKey"), &c->tlsKeyFile}}) {
        if (!server.contains(key))
            continue;
        if (!server.value(key).isString())
            return fail(QStringLiteral("server.") + key, QStringLiteral("must be a file name"));
        *field = server.value(key).toString();
    }
    if (server.contains(QStringLiteral("insecurePlaintext"))) {
        if (!server.value(QStringLiteral("insecurePlaintext")).isBool())
            return fail(QStringLiteral("server.insecurePlaintext"), QStringLiteral("must be true or false"));
        c->insecurePlaintext = server.value(QStringLiteral("insecurePlaintext")).toBool();
    }
    if (server.contains(QStringLiteral("memoryBudgetBytes"))) {
        const QJsonValue jv = server.value(QStringLiteral("memoryBudgetBytes"));
        const double v = jv.toDouble(-1);
        if (!jv.isDouble() || v < 0 || v > 1e15 || v != double(qint64(v)))
            return fail(QStringLiteral("server.memoryBudgetBytes"), QStringLiteral("must be an integer from 0 (no limit) to 10^15"));
        c->memoryBudgetBytes = qint64(v);
    }
    const QJsonValue cacheValue = root.value(QStringLiteral("cache"));
    if (!cacheValue.isUndefined() && !cacheValue.isObject())
        return fail(QStringLiteral("cache"), QStringLiteral("must be an object: {\"maxBytes\": …, \"ttlSeconds\": …}"));
    const QJsonObject cacheObject = cacheValue.toObject();
    for (const QString &k : cacheObject.keys())
        if (k != QLatin1String("maxBytes") && k != QLatin1String("ttlSeconds"))
            return fail(QStringLiteral("cache.") + k, QStringLiteral("unknown field (known: maxBytes, ttlSeconds)"));
    if (cacheObject.contains(QStringLiteral("maxBytes"))) {
        const QJsonValue jv = cacheObject.value(QStringLiteral("maxBytes"));
        const double v = jv.toDouble(-1);
        if (!jv.isDouble() || v < 0 || v > 1e15 || v != double(qint64(v)))
            return fail(QStringLiteral("cache.maxBytes"), QStringLiteral("must be an integer from 0 (off) to 10^15"));
        c->cacheMaxBytes = qint64(v);
    }
    if (cacheObject.contains(QStringLiteral("ttlSeconds"))) {
        const QJsonValue jv = cacheObject.value(QStringLiteral("ttlSeconds"));
        const double v = jv.toDouble(-1);
        if (!jv.isDouble() || v < 1 || v > 30 * 86400 || v != double(qint64(v)))
            return fail(QStringLiteral("cache.ttlSeconds"), QStringLiteral("must be an integer from 1 to 2592000 (30 days)"));
        c->cacheTtlSeconds = int(v);
    }
    const QJsonValue budgetValue = root.value(QStringLiteral("budget"));
    if (!budgetValue.isUndefined() && !budgetValue.isObject())
        return fail(QStringLiteral("budget"), QStringLiteral("must be an object: {\"store\": \"redis://…\", \"replicas\": N}"));
    const QJsonObject budgetObject = budgetValue.toObject();
    for (const QString &k : budgetObject.keys())
        if (k != QLatin1String("store") && k != QLatin1String("replicas"))
            return fail(QStringLiteral("budget.") + k, QStringLiteral("unknown field (known: store, replicas)"));
    if (budgetObject.contains(QStringLiteral("store"))) {
        if (!budgetObject.value(QStringLiteral("store")).isString())
            return fail(QStringLiteral("budget.store"), QStringLiteral("must be a string: redis://HOST:PORT/DB, or \"\" for none"));
        c->budgetStore = budgetObject.value(QStringLiteral("store")).toString();
    }
    if (budgetObject.contains(QStringLiteral("replicas"))) {
        const QJsonValue jv = budgetObject.value(QStringLiteral("replicas"));
        const double v = jv.toDouble(-1);
        if (!jv.isDouble() || v < 0 || v > 1000 || v != double(int(v)))
            return fail(QStringLiteral("budget.replicas"), QStringLiteral("must be an integer from 0 (the count Redis last showed) to 1000"));
        c->budgetReplicas = int(v);
    }
    const auto listField = [&](const QString &key, QStringList *out) {
        if (!server.contains(key))
            return true;
        const QJsonValue jv = server.value(key);
        if (!jv.isArray())
            return fail(QStringLiteral("server.") + key, QStringLiteral("must be an array of strings"));
        QStringList list;
        for (const QJsonValue &e : jv.toArray()) {
            if (!e.isString() || e.toString().trimmed().isEmpty())
                return fail(QStringLiteral("server.") + key, QStringLiteral("must be an array of non-empty strings"));
            list.append(e.toString().trimmed());
        }
        *out = list;
        return true;
    };
    if (!listField(QStringLiteral("allowedHosts"), &c->allowedHosts)
        || !listField(QStringLiteral("allowedOrigins"), &c->allowedOrigins))
        return false;
    if (root.contains(QStringLiteral("engine"))) {
        const ConfigError e = EngineConfig::fromJson(root.value(QStringLiteral("engine")).toObject(), c->engine, &c->engine);
        if (!e.isNull())
            return fail(QStringLiteral("engine.") + e.field, e.message);
    }
    // The scheduling sections: their parsers name the path in front of the message.
    const auto section = [&](const char *key, const std::function<bool(const QJsonObject &, QString *)> &parse) {
        const QJsonValue v = root.value(QLatin1StringView(key));
        if (v.isUndefined())
            return true;
        if (!v.isObject())
            return fail(QString::fromLatin1(key), QStringLiteral("must be an object"));
        QString message;
        if (parse(v.toObject(), &message))
            return true;
        const qsizetype colon = message.indexOf(QLatin1StringView(": "));
        return fail(message.left(colon), message.mid(colon + 2));
    };
    if (!section("tenants", [&](const QJsonObject &o, QString *e) { return TenantsConfig::fromJson(o, &c->tenants, e); })
        || !section("tiers", [&](const QJsonObject &o, QString *e) { return TierRoutingConfig::fromJson(o, &c->tiers, e); })
        || !section("prices", [&](const QJsonObject &o, QString *e) { return PriceTable::fromJson(o, &c->prices, e); }))
        return false;
    if (root.contains(QStringLiteral("simulator"))) {
        const SimulatorConfig::Error e =
            SimulatorConfig::fromJson(root.value(QStringLiteral("simulator")).toObject(), c->simulator, &c->simulator);
        if (!e.isNull())
            return fail(QStringLiteral("simulator.") + e.field, e.message);
    }
    return true;
}

} // namespace

QUrl AppConfig::effectiveUpstreamUrl() const
{
    if (!upstreamUrl.isEmpty())
        return upstreamUrl;
    return apiKey.isEmpty() ? QUrl() : kGoogleBaseUrl;
}

QString AppConfig::upstreamKind() const
{
    if (usesEmbeddedSimulator())
        return QStringLiteral("simulator");
    return effectiveUpstreamUrl().host() == kGoogleBaseUrl.host() ? QStringLiteral("gemini") : QStringLiteral("custom");
}

QString AppConfig::envNameForKnob(const QString &path)
{
    QString out = QStringLiteral("SLUICE_");
    for (const QChar ch : path) {
        if (ch == QLatin1Char('.'))
            out += QLatin1Char('_');
        else if (ch.isUpper())
            out += QLatin1Char('_') + ch;
        else
            out += ch.toUpper();
    }
    return out;
}

QString AppConfig::optionNameForKnob(const QString &path)
{
    QString out;
    for (const QChar ch : path) {
        if (ch == QLatin1Char('.'))
            out += QLatin1Char('-');
        else if (ch.isUpper())
            out += QLatin1Char('-') + ch.toLower();
        else
            out += ch;
    }
    return out;
}

void AppConfig::addOptions(QCommandLineParser &parser)
{
    const AppConfig d;
    parser.addOption({QStringLiteral("host"), QStringLiteral("Address to listen on (default 127.0.0.1; env SLUICE_HOST). A non-loopback address needs an admin token."), QStringLiteral("ADDR")});
    parser.addOption({QStringLiteral("port"), QStringLiteral("Port to listen on (default 8080; 0 picks a free port; env SLUICE_PORT)."), QStringLiteral("N")});
    parser.addOption({QStringLiteral("config"), QStringLiteral("JSON configuration file (env SLUICE_CONFIG); see README."), QStringLiteral("FILE")});
    parser.addOption({QStringLiteral("admin-token"), QStringLiteral("Bearer token required by control routes (env SLUICE_ADMIN_TOKEN)."), QStringLiteral("TOKEN")});
    parser.addOption({QStringLiteral("upstream"), QStringLiteral("Gemini-compatible base URL (env SLUICE_UPSTREAM). Default: Google's when GEMINI_API_KEY is set, else the embedded GeminiSimulator."), QStringLiteral("URL")});
    parser.addOption({QStringLiteral("upstream-transport"), QStringLiteral("How to speak HTTP upstream: auto (Sluice's own HTTP/1.1 client for http://, QNetworkAccessManager for https://), qnam (always QNetworkAccessManager; needed behind a proxy) or native (default auto; env SLUICE_UPSTREAM_TRANSPORT)."), QStringLiteral("MODE")});
    parser.addOption({QStringLiteral("log-level"), QStringLiteral("debug, info, warning or error (default info; env SLUICE_LOG_LEVEL)."), QStringLiteral("LEVEL")});
    parser.addOption({QStringLiteral("baseline"), QStringLiteral("PerformanceBaseline JSON the drift detector watches (env SLUICE_BASELINE)."), QStringLiteral("FILE")});
    parser.addOption({QStringLiteral("drain-grace-ms"), QStringLiteral("On SIGTERM, how long admitted work may take to finish (default %1; env SLUICE_DRAIN_GRACE_MS).").arg(d.drainGraceMs), QStringLiteral("MS")});
    parser.addOption({QStringLiteral("max-body-bytes"), QStringLiteral("Largest request body accepted; larger gets 413 (default %1; env SLUICE_MAX_BODY_BYTES).").arg(d.maxBodyBytes), QStringLiteral("BYTES")});
    parser.addOption({QStringLiteral("allowed-hosts"), QStringLiteral("Host names requests may carry besides loopback names and the bound address, comma-separated; '*' turns the DNS-rebinding check off (env SLUICE_ALLOWED_HOSTS)."), QStringLiteral("NAMES")});
    parser.addOption({QStringLiteral("allowed-origins"), QStringLiteral("Browser origins (scheme://host[:port]) allowed to call control routes and open the stream besides the gateway's own, comma-separated (env SLUICE_ALLOWED_ORIGINS)."), QStringLiteral("ORIGINS")});
    parser.addOption({QStringLiteral("tls-cert"), QStringLiteral("PEM certificate chain to serve HTTPS with (the server's certificate first; env SLUICE_TLS_CERT). SIGHUP reloads it."), QStringLiteral("FILE")});
    parser.addOption({QStringLiteral("tls-key"), QStringLiteral("PEM private key of --tls-cert, RSA or EC, unencrypted (env SLUICE_TLS_KEY)."), QStringLiteral("FILE")});
    parser.addOption({QStringLiteral("insecure-plaintext"), QStringLiteral("Allow plain HTTP on a non-loopback address (TLS ends at a proxy in front; env SLUICE_INSECURE_PLAINTEXT=1).")});
    parser.addOption({QStringLiteral("cache-max-bytes"), QStringLiteral("Memory for the answer cache of identical non-streaming requests (default 0: off; env SLUICE_CACHE_MAX_BYTES)."), QStringLiteral("BYTES")});
    parser.addOption({QStringLiteral("budget-store"), QStringLiteral("Share the upstream budget (RPM/TPM/RPD) with the other replicas through this Redis: redis://[:PASSWORD@]HOST[:PORT][/DB] (env SLUICE_BUDGET_STORE; default: none, this process spends the whole quota)."), QStringLiteral("URL")});
    parser.addOption({QStringLiteral("budget-replicas"), QStringLiteral("While the budget store is unreachable each replica spends 1/N of every limit: N (env SLUICE_BUDGET_REPLICAS; default 0: the replica count Redis last showed)."), QStringLiteral("N")});
    parser.addOption({QStringLiteral("cache-ttl-seconds"), QStringLiteral("How long a cached answer is served (default %1; env SLUICE_CACHE_TTL_SECONDS).").arg(d.cacheTtlSeconds), QStringLiteral("SECONDS")});
    parser.addOption({QStringLiteral("memory-budget-bytes"), QStringLiteral("Memory admitted work may hold (request bodies with their parsing, answers not yet sent); beyond it new requests get 503 (default %1; 0: no limit; env SLUICE_MEMORY_BUDGET_BYTES).").arg(d.memoryBudgetBytes), QStringLiteral("BYTES")});
    parser.addOption({QStringLiteral("max-connections"), QStringLiteral("Open client connections at most; beyond it new ones get 503 and are closed (default %1; env SLUICE_MAX_CONNECTIONS).").arg(d.maxConnections), QStringLiteral("N")});
    for (const QString &path : knobPaths())
        parser.addOption({optionNameForKnob(path),
                          QStringLiteral("Engine knob %1 (env %2); see 'Engine knobs' below.").arg(path, envNameForKnob(path)),
                          QStringLiteral("VALUE")});
}

bool AppConfig::resolve(const QCommandLineParser &parser, const QProcessEnvironment &env, AppConfig *out, QString *error)
{
    AppConfig c;

    // 1. file
    QString file = env.value(QStringLiteral("SLUICE_CONFIG"));
    if (parser.isSet(QStringLiteral("config")))
        file = parser.value(QStringLiteral("config"));
    if (!file.isEmpty() && !applyFile(file, &c, error))
        return false;

    // 2. environment, then 3. command line: the same setters, different names.
    struct Source {
        QString label;
        std::function<bool(const QString &, const QString &, QString *)> get; // (option, env) → value
    };
    const Source envSource{QStringLiteral("environment"), [&](const QString &, const QString &envName, QString *v) {
                               if (!env.contains(envName))
                                   return false;
                               *v = env.value(envName);
                               return true;
                           }};
    const Source cliSource{QStringLiteral("command line"), [&](const QString &opt, const QString &, QString *v) {
                               if (!parser.isSet(opt))
                                   return false;
                               *v = parser.value(opt);
                               return true;
                           }};
    if (env.contains(QStringLiteral("GEMINI_API_KEY")))
        c.apiKey = env.value(QStringLiteral("GEMINI_API_KEY")).toUtf8();

    for (const Source *src : {&envSource, &cliSource}) {
        const bool isEnv = src == &envSource;
        const auto name = [&](const QString &opt, const QString &envName) {
            return isEnv ? envName : QStringLiteral("--") + opt;
        };
        QString v;
        // An integer option (or variable) from lo to hi, into *out; `range`
        // words the bounds for the error ("from 0 to 3600000").
        const auto integer = [&](const QString &opt, const QString &envName, qint64 lo, qint64 hi, const QString &range,
                                 auto *out) {
            if (!src->get(opt, envName, &v))
                return true;
            bool ok = false;
            const qint64 n = v.toLongLong(&ok);
            if (!ok || n < lo || n > hi) {
                *error = QStringLiteral("%1: must be an integer %2, got '%3'").arg(name(opt, envName), range, v);
                return false;
            }
            *out = std::remove_pointer_t<decltype(out)>(n);
            return true;
        };
        if (src->get(QStringLiteral("host"), QStringLiteral("SLUICE_HOST"), &v))
            c.host = v;
        if (src->get(QStringLiteral("port"), QStringLiteral("SLUICE_PORT"), &v) && !parsePort(v, &c.port)) {
            *error = QStringLiteral("%1: must be an integer from 0 to 65535, got '%2'").arg(name(QStringLiteral("port"), QStringLiteral("SLUICE_PORT")), v);
            return false;
        }
        if (src->get(QStringLiteral("admin-token"), QStringLiteral("SLUICE_ADMIN_TOKEN"), &v))
            c.adminToken = v;
        if (src->get(QStringLiteral("upstream"), QStringLiteral("SLUICE_UPSTREAM"), &v))
            c.upstreamUrl = QUrl(v);
        if (src->get(QStringLiteral("upstream-transport"), QStringLiteral("SLUICE_UPSTREAM_TRANSPORT"), &v)
            && !parseTransport(v, &c.upstreamTransport)) {
            *error = QStringLiteral("%1: must be %2, got '%3'")
                         .arg(name(QStringLiteral("upstream-transport"), QStringLiteral("SLUICE_UPSTREAM_TRANSPORT")), kTransportChoices, v);
            return false;
        }
        if (src->get(QStringLiteral("log-level"), QStringLiteral("SLUICE_LOG_LEVEL"), &v))
            c.logLevel = v;
        if (src->get(QStringLiteral("baseline"), QStringLiteral("SLUICE_BASELINE"), &v))
            c.baselinePath = v;
        if (!integer(QStringLiteral("drain-grace-ms"), QStringLiteral("SLUICE_DRAIN_GRACE_MS"), 0, 3600000,
                     QStringLiteral("from 0 to 3600000"), &c.drainGraceMs))
            return false;
        if (!integer(QStringLiteral("max-body-bytes"), QStringLiteral("SLUICE_MAX_BODY_BYTES"), 1024, qint64(1024) * 1024 * 1024,
                     QStringLiteral("from 1024 to 1073741824"), &c.maxBodyBytes))
            return false;
        const auto splitList = [](const QString &text) {
            QStringList list;
            for (const QString &e : text.split(QLatin1Char(','), Qt::SkipEmptyParts))
                if (!e.trimmed().isEmpty())
                    list.append(e.trimmed());
            return list;
        };
        if (src->get(QStringLiteral("allowed-hosts"), QStringLiteral("SLUICE_ALLOWED_HOSTS"), &v))
            c.allowedHosts = splitList(v);
        if (src->get(QStringLiteral("allowed-origins"), QStringLiteral("SLUICE_ALLOWED_ORIGINS"), &v))
            c.allowedOrigins = splitList(v);
        if (src->get(QStringLiteral("tls-cert"), QStringLiteral("SLUICE_TLS_CERT"), &v))
            c.tlsCertificateFile = v;
        if (src->get(QStringLiteral("tls-key"), QStringLiteral("SLUICE_TLS_KEY"), &v))
            c.tlsKeyFile = v;
        if (isEnv && env.contains(QStringLiteral("SLUICE_INSECURE_PLAINTEXT"))) {
            const QString flag = env.value(QStringLiteral("SLUICE_INSECURE_PLAINTEXT")).trimmed().toLower();
            if (flag == u"1" || flag == u"true" || flag == u"yes")
                c.insecurePlaintext = true;
            else if (flag == u"0" || flag == u"false" || flag == u"no" || flag.isEmpty())
                c.insecurePlaintext = false;
            else {
                *error = QStringLiteral("SLUICE_INSECURE_PLAINTEXT: must be 1 or 0, got '%1'").arg(flag);
                return false;
            }
        }
        if (!isEnv && parser.isSet(QStringLiteral("insecure-plaintext")))
            c.insecurePlaintext = true;
        if (!integer(QStringLiteral("memory-budget-bytes"), QStringLiteral("SLUICE_MEMORY_BUDGET_BYTES"), 0, qint64(1000000000000000),
                     QStringLiteral("from 0 (no limit) to 10^15"), &c.memoryBudgetBytes))
            return false;
        if (!integer(QStringLiteral("cache-max-bytes"), QStringLiteral("SLUICE_CACHE_MAX_BYTES"), 0, qint64(1000000000000000),
                     QStringLiteral("from 0 (off) to 10^15"), &c.cacheMaxBytes))
            return false;
        if (!integer(QStringLiteral("cache-ttl-seconds"), QStringLiteral("SLUICE_CACHE_TTL_SECONDS"), 1, 30 * 86400,
                     QStringLiteral("from 1 to 2592000 (30 days)"), &c.cacheTtlSeconds))
            return false;
        if (!integer(QStringLiteral("max-connections"), QStringLiteral("SLUICE_MAX_CONNECTIONS"), 1, 1000000,
                     QStringLiteral("from 1 to 1000000"), &c.maxConnections))
            return false;
        if (src->get(QStringLiteral("budget-store"), QStringLiteral("SLUICE_BUDGET_STORE"), &v))
            c.budgetStore = v.trimmed();
        if (!integer(QStringLiteral("budget-replicas"), QStringLiteral("SLUICE_BUDGET_REPLICAS"), 0, 1000,
                     QStringLiteral("from 0 (the count Redis last showed) to 1000"), &c.budgetReplicas))
            return false;
        for (const QString &path : knobPaths()) {
            const QString opt = optionNameForKnob(path);
            const QString envName = envNameForKnob(path);
            if (!src->get(opt, envName, &v))
                continue;
            const ConfigError e = EngineConfig::fromJson(knobPatch(path, knobValue(path, v)), c.engine, &c.engine);
            if (!e.isNull()) {
                *error = QStringLiteral("%1: %2 (got '%3')").arg(name(opt, envName), e.message, v);
                return false;
            }
        }
    }

    if (!kLogLevels.contains(c.logLevel)) {
        *error = QStringLiteral("log level: must be one of %1, got '%2'").arg(kLogLevels.join(QStringLiteral(", ")), c.logLevel);
        return false;
    }
    if (QHostAddress(c.host).isNull()) {
        *error = QStringLiteral("host: '%1' is not an IP address (use 127.0.0.1, 0.0.0.0, ::1 …)").arg(c.host);
        return false;
    }
    if (!c.upstreamUrl.isEmpty() && (!c.upstreamUrl.isValid() || !(c.upstreamUrl.scheme() == QLatin1String("http") || c.upstreamUrl.scheme() == QLatin1String("https")))) {
        *error = QStringLiteral("upstream: '%1' is not an http(s) URL").arg(c.upstreamUrl.toString());
        return false;
    }
    if (!c.budgetStore.isEmpty()) {
        QString why;
        if (!RedisUrl::parse(c.budgetStore, &why)) {
            *error = QStringLiteral("budget store (--budget-store, SLUICE_BUDGET_STORE or budget.store): %1").arg(why);
            return false;
        }
    }
    const QHostAddress addr(c.host);
    if (!addr.isLoopback() && c.adminToken.isEmpty()) {
        *error = QStringLiteral("host: listening on %1 (not loopback) requires an admin token (--admin-token or SLUICE_ADMIN_TOKEN)").arg(c.host);
        return false;
    }
    *out = c;
    return true;
}
