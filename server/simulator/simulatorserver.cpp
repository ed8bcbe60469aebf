#include "server/simulator/simulatorserver.h"

#include "core/json/jsonbytes.h"
#include "server/simulator/simulatorcontent.h"
#include "server/simulator/simulatorwire.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <cmath>

namespace {

using Failure = std::pair<int, QByteArray>;

QJsonValue pick(const QJsonObject &o, const char *camel, const char *snake)
{
    const QJsonValue v = o.value(QLatin1String(camel));
    return v.isUndefined() ? o.value(QLatin1String(snake)) : v;
}

QString repr(const QJsonValue &v)
{
    if (v.isString())
        return QLatin1Char('"') + v.toString() + QLatin1Char('"');
    if (v.isObject())
        return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
    if (v.isArray())
        return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
    if (v.isBool())
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    if (v.isNull())
        return QStringLiteral("null");
    return QString::number(v.toDouble(), 'g', 17);
}

QString invalidValue(const QString &path, const char *type, const QJsonValue &v)
{
    return QStringLiteral("Invalid value at '%1' (%2), %3").arg(path, QLatin1String(type), repr(v));
}

QString notSpecified(const QString &request, const QString &path, const QString &field)
{
    return QStringLiteral("* %1.%2: %3 is not specified\n").arg(request, path, field);
}

// The text of a Content ({"parts":[...], "role"}) and its validation.
struct Prompt {
    QString text;       // every text part, joined with '\n'
    int nonTextParts = 0;
};

QString parseContent(const QJsonValue &value, const QString &request, const QString &path, Prompt *prompt)
{
    if (!value.isObject())
        return invalidValue(path, "type.googleapis.com/google.ai.generativelanguage.v1beta.Content", value);
    const QJsonObject content = value.toObject();
    const QJsonValue role = content.value(QLatin1String("role"));
    if (!role.isUndefined() && !role.isString())
        return invalidValue(path + QStringLiteral(".role"), "TYPE_STRING", role);
    const QJsonValue parts = content.value(QLatin1String("parts"));
    if (!parts.isUndefined() && !parts.isArray())
        return invalidValue(path + QStringLiteral(".parts"), "type.googleapis.com/google.ai.generativelanguage.v1beta.Part", parts);
    const QJsonArray partArray = parts.toArray();
    if (partArray.isEmpty())
        return QStringLiteral("* %1.%2.parts: contents.parts must not be empty.\n").arg(request, path);
    for (qsizetype i = 0; i < partArray.size(); ++i) {
        const QString partPath = QStringLiteral("%1.parts[%2]").arg(path).arg(i);
        if (!partArray[i].isObject())
            return invalidValue(partPath, "type.googleapis.com/google.ai.generativelanguage.v1beta.Part", partArray[i]);
        const QJsonObject part = partArray[i].toObject();
        const QJsonValue text = part.value(QLatin1String("text"));
        if (!text.isUndefined()) {
            if (!text.isString())
                return invalidValue(partPath + QStringLiteral(".text"), "TYPE_STRING", text);
            if (!prompt->text.isEmpty())
                prompt->text += QLatin1Char('\n');
            prompt->text += text.toString();
            continue;
        }
        bool hasData = false;
        for (const char *k : {"inlineData", "inline_data", "fileData", "file_data", "functionCall", "function_call",
                              "functionResponse", "function_response", "executableCode", "codeExecutionResult"})
            hasData = hasData || part.contains(QLatin1String(k));
        if (!hasData)
            return QStringLiteral("* %1.%2.data: required oneof field 'data' must have one initialized field\n")
                .arg(request, partPath);
        ++prompt->nonTextParts;
    }
    return {};
}

// contents (required, non-empty array of Content) and systemInstruction (optional Content).
QString parseContents(const QJsonObject &body, const QString &request, Prompt *prompt, Prompt *system)
{
    const QJsonValue contents = body.value(QLatin1String("contents"));
    if (contents.isUndefined() || contents.isNull() || (contents.isArray() && contents.toArray().isEmpty()))
        return notSpecified(request, QStringLiteral("contents"), QStringLiteral("contents"));
    if (!contents.isArray())
        return invalidValue(QStringLiteral("contents"), "type.googleapis.com/google.ai.generativelanguage.v1beta.Content", contents);
    const QJsonArray array = contents.toArray();
    for (qsizetype i = 0; i < array.size(); ++i) {
        const QString e = parseContent(array[i], request, QStringLiteral("contents[%1]").arg(i), prompt);
        if (!e.isEmpty())
            return e;
    }
    const QJsonValue sys = pick(body, "systemInstruction", "system_instruction");
    if (!sys.isUndefined() && !sys.isNull()) {
        const QString e = parseContent(sys, request, QStringLiteral("system_instruction"), system);
        if (!e.isEmpty())
            return e;
    }
    return {};
}

int promptTokens(const Prompt &prompt, const Prompt &system)
{
    // An image or file part costs what Gemini charges for one image (258 tokens).
    int tokens = SimulatorContent::tokensFor(prompt.text) + 258 * prompt.nonTextParts;
    if (!system.text.isEmpty() || system.nonTextParts > 0)
        tokens += SimulatorContent::tokensFor(system.text) + 258 * system.nonTextParts;
    return tokens;
}

QJsonArray textDetails(int tokens)
{
    return QJsonArray{QJsonObject{{QStringLiteral("modality"), QStringLiteral("TEXT")},
                                  {QStringLiteral("tokenCount"), tokens}}};
}

bool readInt(const QJsonValue &v, int *out)
{
    // Integers may arrive as JSON strings (proto3 JSON mapping).
    bool ok = v.isDouble();
    double d = v.toDouble();
    if (v.isString())
        d = v.toString().toDouble(&ok);
    if (!ok || std::floor(d) != d || std::abs(d) > 2147483647.0)
        return false;
    *out = int(d);
    return true;
}

// Splits text into n pieces at spaces; the pieces concatenate to the text exactly.
QStringList splitText(const QString &text, int n)
{
    QStringList pieces;
    qsizetype start = 0;
    for (int i = 1; i < n && start < text.size(); ++i) {
        qsizetype cut = text.size() * i / n;
        if (cut <= start)
            continue;
        const qsizetype space = text.indexOf(QLatin1Char(' '), cut);
        if (space < 0)
            break;
        cut = space;
        pieces << text.mid(start, cut - start);
        start = cut;
    }
    pieces << text.mid(start);
    return pieces;
}

const QString kRouteGenerate = QStringLiteral("generateContent");
const QString kRouteStream = QStringLiteral("streamGenerateContent");
const QString kRouteEmbed = QStringLiteral("embedContent");
const QString kRouteBatchEmbed = QStringLiteral("batchEmbedContents");
const QString kRouteCount = QStringLiteral("countTokens");

} // namespace

// A generateContent request as planGenerate() reads it. A scanned body's
// prompt stays UTF-8 bytes, so the hot answer paths never build its UTF-16
// copy; a parsed body's prompt is the QString QJsonDocument gave.
struct SimulatorServer::GenerateRequest {
    bool scanned = false;
    QByteArray promptUtf8; // scanned
    Prompt prompt;         // parsed
    int promptTokens = 0;
    GenerationSettings settings;
};

SimulatorServer::SimulatorServer(std::shared_ptr<SimulatorShared> shared, QObject *parent)
    : QObject(parent), m_shared(std::move(shared))
{
    QMutexLocker lock(&m_shared->mutex);
    m_config = m_shared->config;
    m_rng.seed(quint64(m_config.seed));
    m_idState = quint64(m_config.seed) * 0x9e3779b97f4a7c15ULL;
}

SimulatorServer::~SimulatorServer()
{
    shutdown();
}

bool SimulatorServer::listen(const QHostAddress &address, quint16 port, QString *error, quint16 *boundPort)
{
    m_server = new QTcpServer(this);
    m_server->setMaxPendingConnections(1024);
    connect(m_server, &QTcpServer::pendingConnectionAvailable, this, &SimulatorServer::onNewConnection);
    if (!m_server->listen(address, port)) {
        *error = m_server->errorString();
        delete m_server;
        m_server = nullptr;
        return false;
    }
    *boundPort = m_server->serverPort();
    return true;
}

void SimulatorServer::shutdown()
{
    if (m_server) {
        m_server->close();
        delete m_server;
        m_server = nullptr;
    }
    const auto connections = m_connections;
    m_connections.clear();
    for (SimHttpConnection *c : connections) {
        c->setHandlers({}, {}, {});
        delete c;
    }
    m_queue.clear();
}

void SimulatorServer::applyConfig(const SimulatorConfig &config)
{
    m_config = config;
    m_rng.seed(quint64(config.seed));
    m_quota.clear();
    for (SimHttpConnection *c : std::as_const(m_connections))
        c->setMaxBodyBytes(config.maxBodyBytes);
    pump();
}

void SimulatorServer::onNewConnection()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        auto *conn = new SimHttpConnection(socket, m_config.maxBodyBytes, this);
        m_connections.insert(conn);
        conn->setHandlers(
            [this](SimHttpConnection *c, SimHttpConnection::Request &req) { onRequest(c, req); },
            [this](SimHttpConnection *) {
                stat([](SimulatorStats &s) { ++s.badRequests; });
            },
            [this](SimHttpConnection *c) {
                if (m_connections.remove(c)) {
                    stat([](SimulatorStats &s) { --s.openConnections; });
                    c->deleteLater();
                }
            });
        stat([](SimulatorStats &s) { ++s.openConnections; });
    }
}

void SimulatorServer::reply(SimHttpConnection *conn, int status, const QByteArray &body,
                            const SimHttpConnection::Headers &headers, bool eventStreamType)
{
    stat([status](SimulatorStats &s) { ++s.responsesPerStatus[status]; });
    conn->sendResponse(status, eventStreamType ? QByteArrayLiteral("text/event-stream")
                                               : QByteArrayLiteral("application/json; charset=UTF-8"),
                       body, headers);
}

void SimulatorServer::onRequest(SimHttpConnection *conn, SimHttpConnection::Request &req)
{
    stat([](SimulatorStats &s) { ++s.requests; });
    if (req.path == "/sim/v1/config" || req.path == "/sim/v1/stats") {
        handleControl(conn, req, req.path == "/sim/v1/config");
        return;
    }
    if (req.path == "/v1beta/models" || req.path.startsWith("/v1beta/models/")) {
        handleModels(conn, req);
        return;
    }
    stat([](SimulatorStats &s) { ++s.callsPerRoute[QStringLiteral("unknown")]; });
    reply(conn, 404, SimulatorWire::error(404, QStringLiteral("NOT_FOUND"),
                                          QStringLiteral("The requested URL %1 was not found on this server.")
                                              .arg(QString::fromUtf8(req.path))));
}

void SimulatorServer::handleControl(SimHttpConnection *conn, SimHttpConnection::Request &req, bool configRoute)
{
    stat([configRoute](SimulatorStats &s) {
        ++s.callsPerRoute[configRoute ? QStringLiteral("simConfig") : QStringLiteral("simStats")];
    });
    if (!configRoute) {
        if (req.method != "GET") {
            reply(conn, 405, SimulatorWire::error(405, QStringLiteral("INVALID_ARGUMENT"), QStringLiteral("use GET")));
            return;
        }
        SimulatorStats copy;
        {
            QMutexLocker lock(&m_shared->mutex);
            copy = m_shared->stats;
        }
        reply(conn, 200, QJsonDocument(copy.toJson()).toJson(QJsonDocument::Compact));
        return;
    }
    if (req.method == "PATCH" || req.method == "PUT") {
        QJsonParseError pe;
        const QJsonDocument doc = QJsonDocument::fromJson(req.body, &pe);
        if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
            reply(conn, 400, SimulatorWire::invalidArgument(QStringLiteral("Invalid JSON payload received: expected an object")));
            return;
        }
        // PUT replaces the whole config; PATCH overlays the fields present.
        const SimulatorConfig base = req.method == "PUT" ? SimulatorConfig{} : m_config;
        SimulatorConfig next;
        const SimulatorConfig::Error e = SimulatorConfig::fromJson(doc.object(), base, &next);
        if (!e.isNull()) {
            reply(conn, 400, SimulatorWire::invalidArgument(e.toString()));
            return;
        }
        {
            QMutexLocker lock(&m_shared->mutex);
            m_shared->config = next;
        }
        applyConfig(next);
    } else if (req.method != "GET") {
        reply(conn, 405, SimulatorWire::error(405, QStringLiteral("INVALID_ARGUMENT"), QStringLiteral("use GET, PATCH or PUT")));
        return;
    }
    reply(conn, 200, QJsonDocument(m_config.toJson()).toJson(QJsonDocument::Compact));
}

void SimulatorServer::handleModels(SimHttpConnection *conn, SimHttpConnection::Request &req)
{
    const QString rest = QString::fromUtf8(req.path.mid(int(sizeof("/v1beta/models")) - 1));
    const qsizetype colon = rest.indexOf(QLatin1Char(':'));
    const QString model = rest.mid(1, colon < 0 ? -1 : colon - 1);
    const QString method = colon < 0 ? QString() : rest.mid(colon + 1);
    const bool isList = model.isEmpty() && colon < 0;

    const QString route = isList ? QStringLiteral("listModels")
        : colon < 0             ? QStringLiteral("getModel")
        : (method == kRouteGenerate || method == kRouteStream || method == kRouteEmbed
           || method == kRouteBatchEmbed || method == kRouteCount)
            ? method
            : QStringLiteral("unknown");
    stat([&](SimulatorStats &s) {
        ++s.callsPerRoute[route];
        if (!model.isEmpty())
            ++s.callsPerModel[model];
    });
    const bool streamRoute = route == kRouteStream;

    if (!m_config.apiKey.isEmpty()) {
        QByteArray key = req.header("x-goog-api-key");
        if (key.isEmpty())
            key = req.queryItem("key");
        if (QString::fromUtf8(key) != m_config.apiKey) {
            reply(conn, 400, SimulatorWire::apiKeyInvalid(QString::fromUtf8(key)), {}, streamRoute);
            return;
        }
    }

    const QStringList models = m_config.effectiveModels();
    if (colon < 0) {
        if (req.method != "GET") {
            reply(conn, 405, SimulatorWire::error(405, QStringLiteral("INVALID_ARGUMENT"), QStringLiteral("use GET")));
            return;
        }
        if (isList) {
            QJsonArray list;
            for (const QString &m : models)
                list.append(SimulatorWire::modelInfo(m));
            reply(conn, 200, SimulatorWire::compact(QJsonObject{{QStringLiteral("models"), list}}));
        } else if (!models.contains(model)) {
            reply(conn, 404, SimulatorWire::modelNotFound(model, QStringLiteral("generateContent")));
        } else {
            reply(conn, 200, SimulatorWire::compact(SimulatorWire::modelInfo(model)));
        }
        return;
    }
    if (route == QLatin1String("unknown")) {
        reply(conn, 404, SimulatorWire::error(404, QStringLiteral("NOT_FOUND"), QStringLiteral("Method not found.")));
        return;
    }
    if (req.method != "POST") {
        reply(conn, 405, SimulatorWire::error(405, QStringLiteral("INVALID_ARGUMENT"), QStringLiteral("use POST")),
              {}, streamRoute);
        return;
    }
    if (!models.contains(model) || !SimulatorWire::supports(model, method)) {
        reply(conn, 404, SimulatorWire::modelNotFound(model, streamRoute ? kRouteGenerate : method), {}, streamRoute);
        return;
    }
    handleModelCall(conn, req, model, method);
}

void SimulatorServer::handleModelCall(SimHttpConnection *conn, SimHttpConnection::Request &req,
                                      const QString &model, const QString &method)
{
    const bool streamRoute = method == kRouteStream;
    const bool generateRoute = method == kRouteGenerate || streamRoute;
    // The plain generateContent body is read straight from its bytes; anything
    // else (and every other route) goes through QJsonDocument.
    GenerateRequest generate;
    const bool scanned = generateRoute && scanGenerate(req.body, &generate);
    QJsonObject body;
    if (!scanned && !req.body.trimmed().isEmpty()) {
        QJsonParseError pe;
        const QJsonDocument doc = QJsonDocument::fromJson(req.body, &pe);
        if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
            const QString why = pe.error != QJsonParseError::NoError
                ? QStringLiteral("%1 at offset %2").arg(pe.errorString()).arg(pe.offset)
                : QStringLiteral("the body must be a JSON object");
            reply(conn, 400, SimulatorWire::invalidArgument(QStringLiteral("Invalid JSON payload received. ") + why),
                  {}, streamRoute);
            return;
        }
        body = doc.object();
    }

    Work work;
    Failure failure;
    if (generateRoute) {
        work.stream = streamRoute;
        work.sse = req.queryItem("alt") == "sse";
        if (!scanned)
            failure = readGenerate(body, &generate);
        if (failure.status == 0)
            failure = planGenerate(generate, model, streamRoute, &work);
    } else if (method == kRouteEmbed || method == kRouteBatchEmbed) {
        failure = planEmbed(body, method == kRouteBatchEmbed, &work);
    } else {
        failure = planCountTokens(body, &work);
    }
    if (failure.status != 0) {
        reply(conn, failure.status, failure.body, {}, streamRoute);
        return;
    }

    if (method != kRouteCount) {
        const auto window = std::chrono::duration_cast<SimulatorQuota::Clock::duration>(
            std::chrono::duration<double>(60.0 * m_config.timeScale));
        const SimulatorQuota::Decision d = m_quota.admit(model, work.promptTokens + work.outputTokens,
                                                         m_config.limitsFor(model), window,
                                                         SimulatorQuota::Clock::now());
        if (!d.allowed) {
            auto ms = std::chrono::ceil<std::chrono::milliseconds>(d.retryAfter);
            if (m_config.timeScale >= 1.0)
                ms = std::chrono::ceil<std::chrono::seconds>(ms); // real-time quotas speak whole seconds
            const qint64 retrySeconds = std::max<qint64>(1, (ms.count() + 999) / 1000);
            stat([](SimulatorStats &s) { ++s.rateLimited; });
            reply(conn, 429, SimulatorWire::resourceExhausted(model, d.requestsExceeded, d.limit, ms),
                  {{"Retry-After", QByteArray::number(retrySeconds)}}, streamRoute);
            return;
        }
    }

    // One uniform draw decides the fault; the rates are disjoint slices of [0, 1).
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(m_rng);
    double edge = m_config.dropRate;
    if (u < edge) {
        stat([](SimulatorStats &s) { ++s.faults[QStringLiteral("drop")]; });
        conn->drop();
        return;
    }
    edge += m_config.timeoutRate;
    if (u < edge) {
        stat([](SimulatorStats &s) { ++s.faults[QStringLiteral("timeout")]; });
        QPointer<SimHttpConnection> held(conn);
        const auto hold = std::chrono::milliseconds(qint64(std::llround(m_config.timeoutHoldMs * m_config.timeScale)));
        QTimer::singleShot(hold, this, [held] {
            if (held)
                held->drop();
        });
        return;
    }
    edge += m_config.http500Rate;
    if (u < edge) {
        stat([](SimulatorStats &s) { ++s.faults[QStringLiteral("http500")]; });
        reply(conn, 500, SimulatorWire::internal(), {}, streamRoute);
        return;
    }
    edge += m_config.http503Rate;
    if (u < edge) {
        stat([](SimulatorStats &s) { ++s.faults[QStringLiteral("http503")]; });
        reply(conn, 503, SimulatorWire::unavailable(), {}, streamRoute);
        return;
    }

    if (method == kRouteCount) {
        reply(conn, 200, work.body);
        return;
    }
    auto job = std::make_shared<Job>();
    job->conn = conn;
    job->work = std::move(work);
    enqueue(job);
}

bool SimulatorServer::scanGenerate(const QByteArray &body, GenerateRequest *out)
{
    SimulatorWire::PlainGenerateRequest plain;
    if (!SimulatorWire::scanGenerateRequest(body, &plain))
        return false;
    if (plain.generationConfig.isEmpty()) {
        out->settings = {};
    } else {
        if (plain.generationConfig != QByteArrayView(m_lastGenerationConfig)) {
            // Invalid JSON or a refused config: the general path answers it, in its words.
            QJsonParseError pe;
            const QJsonDocument doc = QJsonDocument::fromJson(plain.generationConfig.toByteArray(), &pe);
            GenerationSettings settings;
            if (pe.error != QJsonParseError::NoError || !doc.isObject()
                || readGenerationConfig(doc.object(), &settings).status != 0)
                return false;
            m_lastGenerationConfig = plain.generationConfig.toByteArray();
            m_lastGenerationSettings = settings;
        }
        out->settings = m_lastGenerationSettings;
    }
    out->scanned = true;
    out->promptUtf8 = std::move(plain.prompt);
    out->promptTokens = SimulatorContent::tokensForLength(plain.promptLength); // no system instruction
    return true;
}

SimulatorServer::Failure SimulatorServer::readGenerate(const QJsonObject &body, GenerateRequest *out)
{
    Prompt system;
    const QString e = parseContents(body, QStringLiteral("GenerateContentRequest"), &out->prompt, &system);
    if (!e.isEmpty())
        return {400, SimulatorWire::invalidArgument(e)};
    out->promptTokens = promptTokens(out->prompt, system);
    return readGenerationConfig(pick(body, "generationConfig", "generation_config"), &out->settings);
}

SimulatorServer::Failure SimulatorServer::readGenerationConfig(const QJsonValue &gcValue, GenerationSettings *out)
{
    const QString request = QStringLiteral("GenerateContentRequest");
    if (!gcValue.isUndefined() && !gcValue.isNull() && !gcValue.isObject())
        return {400, SimulatorWire::invalidArgument(invalidValue(QStringLiteral("generation_config"),
            "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig", gcValue))};
    const QJsonObject gc = gcValue.toObject();
    int maxOutputTokens = 0;
    const QJsonValue mot = pick(gc, "maxOutputTokens", "max_output_tokens");
    if (!mot.isUndefined() && !mot.isNull()) {
        if (!readInt(mot, &maxOutputTokens))
            return {400, SimulatorWire::invalidArgument(invalidValue(QStringLiteral("generation_config.max_output_tokens"), "TYPE_INT32", mot))};
        if (maxOutputTokens < 1)
            return {400, SimulatorWire::invalidArgument(QStringLiteral("* %1.generation_config.max_output_tokens: max_output_tokens must be positive.\n").arg(request))};
    }
    int candidateCount = 1;
    const QJsonValue cc = pick(gc, "candidateCount", "candidate_count");
    if (!cc.isUndefined() && !cc.isNull()) {
        if (!readInt(cc, &candidateCount))
            return {400, SimulatorWire::invalidArgument(invalidValue(QStringLiteral("generation_config.candidate_count"), "TYPE_INT32", cc))};
        if (candidateCount < 1 || candidateCount > 8)
            return {400, SimulatorWire::invalidArgument(QStringLiteral("* %1.generation_config.candidate_count: candidate_count must be in [1, 8].\n").arg(request))};
    }
    for (const auto &[camel, snake] : {std::pair{"temperature", "temperature"}, std::pair{"topP", "top_p"}}) {
        const QJsonValue v = pick(gc, camel, snake);
        if (!v.isUndefined() && !v.isNull() && !v.isDouble())
            return {400, SimulatorWire::invalidArgument(invalidValue(QStringLiteral("generation_config.") + QLatin1String(snake), "TYPE_FLOAT", v))};
    }
    const QJsonValue mime = pick(gc, "responseMimeType", "response_mime_type");
    if (!mime.isUndefined() && !mime.isNull() && !mime.isString())
        return {400, SimulatorWire::invalidArgument(invalidValue(QStringLiteral("generation_config.response_mime_type"), "TYPE_STRING", mime))};
    const bool jsonMode = mime.toString() == QLatin1String("application/json");
    QJsonValue schema = pick(gc, "responseSchema", "response_schema");
    if (schema.isUndefined() || schema.isNull())
        schema = pick(gc, "responseJsonSchema", "response_json_schema");
    if (!schema.isUndefined() && !schema.isNull() && !schema.isObject())
        return {400, SimulatorWire::invalidArgument(invalidValue(QStringLiteral("generation_config.response_schema"),
            "type.googleapis.com/google.ai.generativelanguage.v1beta.Schema", schema))};
    if (schema.isObject() && !jsonMode)
        return {400, SimulatorWire::invalidArgument(QStringLiteral("* %1.generation_config.response_mime_type: "
            "response_mime_type must be application/json when response_schema is set.\n").arg(request))};

    out->maxOutputTokens = maxOutputTokens;
    out->candidateCount = candidateCount;
    out->jsonMode = jsonMode;
    out->hasSchema = schema.isObject();
    out->schema = schema.toObject();
    out->packSchema = jsonMode && out->hasSchema && SimulatorContent::isPackSchema(out->schema);
    return {};
}

namespace {

// The pack writer's helpers for both kinds of members: QString (parsed body)
// and UTF-8 views (scanned body).
void appendJson(QByteArray &out, const QString &s)
{
    JsonBytes::appendString(out, s);
}

void appendJson(QByteArray &out, QByteArrayView utf8)
{
    JsonBytes::appendUtf8String(out, utf8);
}

QByteArray toUtf8(const QString &s)
{
    return s.toUtf8(); // what SimulatorContent::hash(QString) hashes, also for a lone surrogate
}

QByteArrayView toUtf8(QByteArrayView utf8)
{
    return utf8;
}

bool listed(const QStringList &ids, const QString &id)
{
    return ids.contains(id);
}

bool listed(const QStringList &ids, QByteArrayView utf8)
{
    return !ids.isEmpty() && ids.contains(QString::fromUtf8(utf8));
}

} // namespace

template <typename Members>
QByteArray SimulatorServer::packAnswers(const Members &members, int variant, int *dropped)
{
    // [{"id":..,"text":..},...] written directly, as QJsonDocument would
    // (keys sorted): this is the hot path of every packed call.
    const int words = m_config.responseWords;
    QByteArray answers;
    answers.reserve(2 + members.size() * (32 + qsizetype(words) * 9));
    answers += '[';
    for (const auto &m : members) {
        const bool drop = listed(m_config.packDropIds, m.id)
            || (m_config.packDropRate > 0
                && std::uniform_real_distribution<double>(0.0, 1.0)(m_rng) < m_config.packDropRate);
        if (drop) {
            ++*dropped;
            continue;
        }
        if (answers.size() > 1)
            answers += ',';
        answers += "{\"id\":";
        appendJson(answers, m.id);
        // An answer is letters, spaces and full stops: nothing to escape.
        answers += ",\"text\":\"";
        SimulatorContent::appendAnswer(answers, toUtf8(m.text), words, variant);
        answers += "\"}";
    }
    answers += ']';
    return answers;
}

SimulatorServer::Failure SimulatorServer::planGenerate(const GenerateRequest &request, const QString &model,
                                                      bool stream, Work *work)
{
    const GenerationSettings &settings = request.settings;
    work->promptTokens = request.promptTokens;
    const int words = m_config.responseWords;

    QList<SimulatorContent::PackMember> members;
    QList<SimulatorContent::PackMemberView> memberViews;
    if (settings.packSchema) {
        if (request.scanned)
            memberViews = SimulatorContent::parsePack(QByteArrayView(request.promptUtf8));
        else
            members = SimulatorContent::parsePack(request.prompt.text);
    }
    const bool packed = !members.isEmpty() || !memberViews.isEmpty();
    // The rarer answers are made from the prompt as a QString.
    QString promptText = request.prompt.text;
    if (request.scanned && settings.jsonMode && !packed)
        promptText = QString::fromUtf8(request.promptUtf8);

    QList<QByteArray> texts; // each candidate's text as a JSON string literal
    QStringList finishReasons;
    QString streamText;      // candidate 0's text, when streaming
    int packDropped = 0;
    for (int i = 0; i < settings.candidateCount; ++i) {
        // The hot paths write the answer as UTF-8 bytes, the others as a QString.
        QByteArray utf8;
        QString text;
        bool isUtf8 = true;
        if (packed) {
            utf8 = request.scanned ? packAnswers(memberViews, i, &packDropped) : packAnswers(members, i, &packDropped);
        } else if (settings.packSchema) {
            text = QString::fromUtf8(QJsonDocument(SimulatorContent::valueForSchema(settings.schema, promptText)
                                                       .toArray()).toJson(QJsonDocument::Compact));
            isUtf8 = false;
        } else if (settings.jsonMode) {
            const QJsonValue v = settings.hasSchema
                ? SimulatorContent::valueForSchema(settings.schema, promptText + QString::number(i))
                : QJsonValue(QJsonObject{{QStringLiteral("answer"), SimulatorContent::answerFor(promptText, words, i)}});
            QJsonArray wrapper{v};
            QByteArray compact = QJsonDocument(wrapper).toJson(QJsonDocument::Compact);
            text = QString::fromUtf8(compact.mid(1, compact.size() - 2)); // a scalar has no document of its own
            isUtf8 = false;
        } else if (request.scanned) {
            SimulatorContent::appendAnswer(utf8, request.promptUtf8, words, i);
        } else {
            text = SimulatorContent::answerFor(request.prompt.text, words, i);
            isUtf8 = false;
        }
        qsizetype length = isUtf8 ? SimulatorWire::utf16Length(utf8) : text.size();
        QString reason = QStringLiteral("STOP");
        // Like Gemini, a JSON answer cut by maxOutputTokens is cut mid-value
        // (in UTF-16 code units, so the cut may split a surrogate pair).
        if (settings.maxOutputTokens > 0 && SimulatorContent::tokensForLength(length) > settings.maxOutputTokens) {
            if (isUtf8)
                text = QString::fromUtf8(utf8);
            isUtf8 = false;
            text.truncate(qsizetype(settings.maxOutputTokens) * 4);
            length = text.size();
            reason = QStringLiteral("MAX_TOKENS");
        }
        if (stream) {
            if (i == 0)
                streamText = isUtf8 ? QString::fromUtf8(utf8) : text;
        } else {
            QByteArray literal;
            if (isUtf8)
                JsonBytes::appendUtf8String(literal, utf8);
            else
                JsonBytes::appendString(literal, text);
            texts << literal;
        }
        finishReasons << reason;
        work->outputTokens += SimulatorContent::tokensForLength(length);
    }
    if (packDropped > 0)
        stat([packDropped](SimulatorStats &s) { s.faults[QStringLiteral("packDrop")] += packDropped; });

    const double tokenMs = m_config.tokensPerSecond > 0 ? 1000.0 / m_config.tokensPerSecond : 0.0;
    work->serviceMs = m_config.baseLatencyMs + work->outputTokens * tokenMs;
    const QString responseId = nextResponseId();
    const QString &version = model;
    if (!stream) {
        work->body = SimulatorWire::generateResponse(texts, finishReasons, version, responseId, work->promptTokens,
                                                     work->outputTokens);
        return {};
    }
    // Streaming serves candidate 0 in pieces of ~12 tokens; usage is cumulative.
    const QString &text = streamText;
    const int pieces = std::clamp(SimulatorContent::tokensFor(text) / 12, 2, 32);
    const QStringList parts = splitText(text, pieces);
    QString sent;
    for (qsizetype i = 0; i < parts.size(); ++i) {
        sent += parts[i];
        const bool last = i == parts.size() - 1;
        const int soFar = last ? work->outputTokens : SimulatorContent::tokensFor(sent);
        work->chunks << SimulatorWire::generateResponse({parts[i]}, {last ? finishReasons.first() : QString()},
                                                        version, responseId, work->promptTokens, soFar);
        work->chunkAtMs << m_config.baseLatencyMs + (last ? work->outputTokens : soFar) * tokenMs;
    }
    return {};
}

SimulatorServer::Failure SimulatorServer::planEmbed(const QJsonObject &body, bool batch, Work *work)
{
    // One embedContent request: {"content": Content, "outputDimensionality": N}.
    auto embedOne = [](const QJsonObject &req, const QString &request, const QString &prefix, Prompt *prompt,
                       int *dims) -> QString {
        const QJsonValue content = req.value(QLatin1String("content"));
        if (content.isUndefined() || content.isNull())
            return notSpecified(request, prefix + QStringLiteral("content"), QStringLiteral("content"));
        const QString e = parseContent(content, request, prefix + QStringLiteral("content"), prompt);
        if (!e.isEmpty())
            return e;
        const QJsonValue d = pick(req, "outputDimensionality", "output_dimensionality");
        *dims = 768;
        if (!d.isUndefined() && !d.isNull()) {
            if (!readInt(d, dims))
                return invalidValue(prefix + QStringLiteral("output_dimensionality"), "TYPE_INT32", d);
            if (*dims < 1 || *dims > 3072)
                return QStringLiteral("* %1.%2output_dimensionality: output_dimensionality must be in [1, 3072].\n")
                    .arg(request, prefix);
        }
        return {};
    };
    auto embedding = [](const Prompt &p, int dims) {
        QJsonArray values;
        for (double v : SimulatorContent::embeddingFor(p.text, dims))
            values.append(v);
        return QJsonObject{{QStringLiteral("values"), values}};
    };

    work->serviceMs = m_config.embedLatencyMs;
    if (!batch) {
        Prompt prompt;
        int dims = 0;
        const QString e = embedOne(body, QStringLiteral("EmbedContentRequest"), QString(), &prompt, &dims);
        if (!e.isEmpty())
            return {400, SimulatorWire::invalidArgument(e)};
        work->promptTokens = promptTokens(prompt, {});
        work->body = SimulatorWire::compact(QJsonObject{{QStringLiteral("embedding"), embedding(prompt, dims)}});
        return {};
    }
    const QString request = QStringLiteral("BatchEmbedContentsRequest");
    const QJsonValue requests = body.value(QLatin1String("requests"));
    if (requests.isUndefined() || requests.isNull() || (requests.isArray() && requests.toArray().isEmpty()))
        return {400, SimulatorWire::invalidArgument(notSpecified(request, QStringLiteral("requests"), QStringLiteral("requests")))};
    if (!requests.isArray())
        return {400, SimulatorWire::invalidArgument(invalidValue(QStringLiteral("requests"),
            "type.googleapis.com/google.ai.generativelanguage.v1beta.EmbedContentRequest", requests))};
    const QJsonArray list = requests.toArray();
    if (list.size() > 100)
        return {400, SimulatorWire::batchEmbedOver100()};
    QJsonArray embeddings;
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QString prefix = QStringLiteral("requests[%1].").arg(i);
        if (!list[i].isObject())
            return {400, SimulatorWire::invalidArgument(invalidValue(prefix.chopped(1),
                "type.googleapis.com/google.ai.generativelanguage.v1beta.EmbedContentRequest", list[i]))};
        Prompt prompt;
        int dims = 0;
        const QString e = embedOne(list[i].toObject(), request, prefix, &prompt, &dims);
        if (!e.isEmpty())
            return {400, SimulatorWire::invalidArgument(e)};
        work->promptTokens += promptTokens(prompt, {});
        embeddings.append(embedding(prompt, dims));
    }
    work->body = SimulatorWire::compact(QJsonObject{{QStringLiteral("embeddings"), embeddings}});
    return {};
}

SimulatorServer::Failure SimulatorServer::planCountTokens(const QJsonObject &body, Work *work)
{
    // Either {"contents": [...]} or {"generateContentRequest": {"model", "contents", ...}}.
    const QJsonValue inner = pick(body, "generateContentRequest", "generate_content_request");
    const QJsonObject req = inner.isObject() ? inner.toObject() : body;
    Prompt prompt;
    Prompt system;
    const QString e = parseContents(req, QStringLiteral("CountTokensRequest"), &prompt, &system);
    if (!e.isEmpty())
        return {400, SimulatorWire::invalidArgument(e)};
    work->promptTokens = promptTokens(prompt, system);
    work->body = SimulatorWire::compact(QJsonObject{{QStringLiteral("totalTokens"), work->promptTokens},
                                                    {QStringLiteral("promptTokensDetails"), textDetails(work->promptTokens)}});
    return {};
}

double SimulatorServer::jitter()
{
    const double sigma = m_config.jitterSigma;
    if (sigma <= 0)
        return 1.0;
    // exp(N(-sigma^2/2, sigma)) has mean 1, so the mean service time is the configured one.
    return std::exp(std::normal_distribution<double>(-sigma * sigma / 2, sigma)(m_rng));
}

QString SimulatorServer::nextResponseId()
{
    quint64 z = (m_idState += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    const quint64 parts[2] = {z, z * 0xd1b54a32d192ed03ULL};
    return QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(parts), 16)
                                   .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

void SimulatorServer::enqueue(const std::shared_ptr<Job> &job)
{
    job->scaledMs = job->work.serviceMs * jitter() * m_config.timeScale;
    if (m_queue.empty() && m_inFlight < m_config.maxConcurrent && !m_pumping) {
        // A free slot: served at once, never counted as queued.
        ++m_inFlight;
        stat([this](SimulatorStats &s) {
            s.inFlight = m_inFlight;
            s.maxInFlight = std::max(s.maxInFlight, s.inFlight);
        });
        start(job);
        return;
    }
    m_queue.push_back(job);
    stat([this](SimulatorStats &s) {
        s.queued = int(m_queue.size());
        s.maxQueued = std::max(s.maxQueued, s.queued);
    });
    pump();
}

void SimulatorServer::pump()
{
    // A synchronous answer releases its slot from inside this loop; the outer loop picks up.
    if (m_pumping)
        return;
    m_pumping = true;
    while (m_inFlight < m_config.maxConcurrent && !m_queue.empty()) {
        std::shared_ptr<Job> job = m_queue.front();
        m_queue.pop_front();
        const bool alive = !job->conn.isNull();
        stat([this, alive](SimulatorStats &s) {
            s.queued = int(m_queue.size());
            if (alive) {
                s.inFlight = m_inFlight + 1;
                s.maxInFlight = std::max(s.maxInFlight, s.inFlight);
            }
        });
        if (!alive)
            continue; // the client left while waiting; the slot goes to the next one
        ++m_inFlight;
        start(job);
    }
    m_pumping = false;
}

void SimulatorServer::start(const std::shared_ptr<Job> &job)
{
    job->work.serverTiming = QStringLiteral("gfet4t7; dur=%1").arg(qint64(std::llround(job->scaledMs)));
    step(job);
}

void SimulatorServer::step(const std::shared_ptr<Job> &job)
{
    // Time from the start of service to the job's next write.
    const Work &w = job->work;
    const double scale = w.serviceMs > 0 ? job->scaledMs / w.serviceMs : 0.0;
    const bool chunked = w.stream && w.sse;
    const int total = chunked ? int(w.chunks.size()) : 1;
    const double prevAt = job->next == 0 ? 0.0 : (chunked ? w.chunkAtMs[job->next - 1] : 0.0);
    const double at = chunked ? w.chunkAtMs[job->next] : w.serviceMs;
    const double delayMs = (at - prevAt) * scale;

    auto write = [this, job, total, chunked] {
        SimHttpConnection *c = job->conn.data();
        const Work &work = job->work;
        if (c && !chunked) {
            QByteArray body = work.body;
            if (work.stream) // streamGenerateContent without alt=sse: one JSON array of the chunks
                body = '[' + work.chunks.join(",\r\n") + ']';
            reply(c, 200, body, {{"Server-Timing", work.serverTiming.toLatin1()}});
        } else if (c) {
            if (job->next == 0) {
                stat([](SimulatorStats &s) { ++s.responsesPerStatus[200]; });
                c->beginStream(200, "text/event-stream",
                               {{"Content-Disposition", "attachment"}, {"Server-Timing", work.serverTiming.toLatin1()}});
            }
            c->writeChunk("data: " + work.chunks[job->next] + "\r\n\r\n");
            if (job->next == total - 1)
                c->endStream();
        }
        ++job->next;
        if (job->next >= total) {
            release(job);
            return;
        }
        step(job);
    };
    if (delayMs < 0.5) {
        write();
        return;
    }
    QTimer::singleShot(std::chrono::milliseconds(qint64(std::llround(delayMs))), Qt::PreciseTimer, this, write);
}

void SimulatorServer::release(const std::shared_ptr<Job> &job)
{
    --m_inFlight;
    const bool delivered = !job->conn.isNull();
    const int prompt = job->work.promptTokens;
    const int output = job->work.outputTokens;
    stat([this, delivered, prompt, output](SimulatorStats &s) {
        s.inFlight = m_inFlight;
        if (delivered)
            ++s.completed;
        s.promptTokens += prompt;
        s.outputTokens += output;
    });
    pump();
}
