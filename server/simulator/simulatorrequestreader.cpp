#include "server/simulator/simulatorrequestreader.h"

#include "server/simulator/simulatorcontent.h"
#include "server/simulator/simulatorwire.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <cmath>

namespace {

using Failure = SimulatorRequestReader::Failure;
using Prompt = SimulatorRequestReader::Prompt;

Failure invalid(const QString &message)
{
    return {400, SimulatorWire::invalidArgument(message)};
}

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

// {"content": Content, "outputDimensionality": N}
QString parseEmbed(const QJsonObject &req, const QString &request, const QString &prefix,
                   SimulatorRequestReader::EmbedRequest *out)
{
    const QJsonValue content = req.value(QLatin1String("content"));
    if (content.isUndefined() || content.isNull())
        return notSpecified(request, prefix + QStringLiteral("content"), QStringLiteral("content"));
    const QString e = parseContent(content, request, prefix + QStringLiteral("content"), &out->prompt);
    if (!e.isEmpty())
        return e;
    const QJsonValue d = pick(req, "outputDimensionality", "output_dimensionality");
    out->dimensions = 768;
    if (!d.isUndefined() && !d.isNull()) {
        if (!readInt(d, &out->dimensions))
            return invalidValue(prefix + QStringLiteral("output_dimensionality"), "TYPE_INT32", d);
        if (out->dimensions < 1 || out->dimensions > 3072)
            return QStringLiteral("* %1.%2output_dimensionality: output_dimensionality must be in [1, 3072].\n")
                .arg(request, prefix);
    }
    return {};
}

// serviceTier: standard, flex, priority (unspecified = standard), any case,
// with or without the proto enum's SERVICE_TIER_ prefix.
QString readServiceTier(const QJsonObject &body, SimulatorRequestReader::ServiceTier *out)
{
    using Tier = SimulatorRequestReader::ServiceTier;
    *out = Tier::Standard;
    const QJsonValue v = pick(body, "serviceTier", "service_tier");
    if (v.isUndefined() || v.isNull())
        return {};
    QString name = v.isString() ? v.toString().toLower() : QString();
    if (name.startsWith(QLatin1String("service_tier_")))
        name = name.mid(13);
    if (v.isString()) {
        if (name == QLatin1String("standard") || name == QLatin1String("unspecified"))
            return {};
        if (name == QLatin1String("flex")) {
            *out = Tier::Flex;
            return {};
        }
        if (name == QLatin1String("priority")) {
            *out = Tier::Priority;
            return {};
        }
    }
    return invalidValue(QStringLiteral("serviceTier"), "type.googleapis.com/google.ai.generativelanguage.v1beta.ServiceTier", v)
        + QStringLiteral(": serviceTier must be one of \"standard\", \"flex\", \"priority\" "
                         "(or \"unspecified\", meaning standard)");
}

} // namespace

int SimulatorRequestReader::promptTokens(const Prompt &prompt, const Prompt &system)
{
    // An image or file part costs what Gemini charges for one image (258 tokens).
    int tokens = SimulatorContent::tokensFor(prompt.text) + 258 * prompt.nonTextParts;
    if (!system.text.isEmpty() || system.nonTextParts > 0)
        tokens += SimulatorContent::tokensFor(system.text) + 258 * system.nonTextParts;
    return tokens;
}

SimulatorRequestReader::Failure SimulatorRequestReader::parseObject(const QByteArray &body, QJsonObject *out)
{
    if (body.trimmed().isEmpty()) {
        *out = {};
        return {};
    }
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        const QString why = pe.error != QJsonParseError::NoError
            ? QStringLiteral("%1 at offset %2").arg(pe.errorString()).arg(pe.offset)
            : QStringLiteral("the body must be a JSON object");
        return invalid(QStringLiteral("Invalid JSON payload received. ") + why);
    }
    *out = doc.object();
    return {};
}

SimulatorRequestReader::Failure SimulatorRequestReader::readGenerate(const QByteArray &body, GenerateRequest *out)
{
    if (scanGenerate(body, out))
        return {};
    QJsonObject object;
    const Failure f = parseObject(body, &object);
    if (!f.isNull())
        return f;
    return readParsedGenerate(object, out);
}

bool SimulatorRequestReader::scanGenerate(const QByteArray &body, GenerateRequest *out)
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
                || !readGenerationConfig(doc.object(), &settings).isNull())
                return false;
            m_lastGenerationConfig = plain.generationConfig.toByteArray();
            m_lastGenerationSettings = settings;
        }
        out->settings = m_lastGenerationSettings;
    }
    out->scanned = true;
    out->tier = ServiceTier::Standard;
    out->promptUtf8 = std::move(plain.prompt);
    out->promptTokens = SimulatorContent::tokensForLength(plain.promptLength); // no system instruction
    return true;
}

SimulatorRequestReader::Failure SimulatorRequestReader::readGenerateObject(const QJsonObject &body, GenerateRequest *out)
{
    return readParsedGenerate(body, out);
}

SimulatorRequestReader::Failure SimulatorRequestReader::readParsedGenerate(const QJsonObject &body, GenerateRequest *out)
{
    Prompt system;
    const QString e = parseContents(body, QStringLiteral("GenerateContentRequest"), &out->prompt, &system);
    if (!e.isEmpty())
        return invalid(e);
    const QString tierError = readServiceTier(body, &out->tier);
    if (!tierError.isEmpty())
        return invalid(tierError);
    out->promptTokens = promptTokens(out->prompt, system);
    return readGenerationConfig(pick(body, "generationConfig", "generation_config"), &out->settings);
}

SimulatorRequestReader::Failure SimulatorRequestReader::readGenerationConfig(const QJsonValue &gcValue,
                                                                           GenerationSettings *out)
{
    const QString request = QStringLiteral("GenerateContentRequest");
    if (!gcValue.isUndefined() && !gcValue.isNull() && !gcValue.isObject())
        return invalid(invalidValue(QStringLiteral("generation_config"),
                                    "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig", gcValue));
    const QJsonObject gc = gcValue.toObject();
    int maxOutputTokens = 0;
    const QJsonValue mot = pick(gc, "maxOutputTokens", "max_output_tokens");
    if (!mot.isUndefined() && !mot.isNull()) {
        if (!readInt(mot, &maxOutputTokens))
            return invalid(invalidValue(QStringLiteral("generation_config.max_output_tokens"), "TYPE_INT32", mot));
        if (maxOutputTokens < 1)
            return invalid(QStringLiteral("* %1.generation_config.max_output_tokens: max_output_tokens must be positive.\n").arg(request));
    }
    int candidateCount = 1;
    const QJsonValue cc = pick(gc, "candidateCount", "candidate_count");
    if (!cc.isUndefined() && !cc.isNull()) {
        if (!readInt(cc, &candidateCount))
            return invalid(invalidValue(QStringLiteral("generation_config.candidate_count"), "TYPE_INT32", cc));
        if (candidateCount < 1 || candidateCount > 8)
            return invalid(QStringLiteral("* %1.generation_config.candidate_count: candidate_count must be in [1, 8].\n").arg(request));
    }
    for (const auto &[camel, snake] : {std::pair{"temperature", "temperature"}, std::pair{"topP", "top_p"}}) {
        const QJsonValue v = pick(gc, camel, snake);
        if (!v.isUndefined() && !v.isNull() && !v.isDouble())
            return invalid(invalidValue(QStringLiteral("generation_config.") + QLatin1String(snake), "TYPE_FLOAT", v));
    }
    const QJsonValue mime = pick(gc, "responseMimeType", "response_mime_type");
    if (!mime.isUndefined() && !mime.isNull() && !mime.isString())
        return invalid(invalidValue(QStringLiteral("generation_config.response_mime_type"), "TYPE_STRING", mime));
    const bool jsonMode = mime.toString() == QLatin1String("application/json");
    QJsonValue schema = pick(gc, "responseSchema", "response_schema");
    if (schema.isUndefined() || schema.isNull())
        schema = pick(gc, "responseJsonSchema", "response_json_schema");
    if (!schema.isUndefined() && !schema.isNull() && !schema.isObject())
        return invalid(invalidValue(QStringLiteral("generation_config.response_schema"),
                                    "type.googleapis.com/google.ai.generativelanguage.v1beta.Schema", schema));
    if (schema.isObject() && !jsonMode)
        return invalid(QStringLiteral("* %1.generation_config.response_mime_type: "
                                      "response_mime_type must be application/json when response_schema is set.\n").arg(request));

    out->maxOutputTokens = maxOutputTokens;
    out->candidateCount = candidateCount;
    out->jsonMode = jsonMode;
    out->hasSchema = schema.isObject();
    out->schema = schema.toObject();
    out->packSchema = jsonMode && out->hasSchema && SimulatorContent::isPackSchema(out->schema);
    return {};
}

SimulatorRequestReader::Failure SimulatorRequestReader::readEmbed(const QByteArray &body, bool batch,
                                                                 QList<EmbedRequest> *out)
{
    QJsonObject object;
    const Failure f = parseObject(body, &object);
    if (!f.isNull())
        return f;
    out->clear();
    if (!batch) {
        EmbedRequest one;
        const QString e = parseEmbed(object, QStringLiteral("EmbedContentRequest"), QString(), &one);
        if (!e.isEmpty())
            return invalid(e);
        out->append(std::move(one));
        return {};
    }
    const QString request = QStringLiteral("BatchEmbedContentsRequest");
    const QJsonValue requests = object.value(QLatin1String("requests"));
    if (requests.isUndefined() || requests.isNull() || (requests.isArray() && requests.toArray().isEmpty()))
        return invalid(notSpecified(request, QStringLiteral("requests"), QStringLiteral("requests")));
    if (!requests.isArray())
        return invalid(invalidValue(QStringLiteral("requests"),
                                    "type.googleapis.com/google.ai.generativelanguage.v1beta.EmbedContentRequest", requests));
    const QJsonArray list = requests.toArray();
    if (list.size() > 100)
        return {400, SimulatorWire::batchEmbedOver100()};
    out->reserve(list.size());
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QString prefix = QStringLiteral("requests[%1].").arg(i);
        if (!list[i].isObject())
            return invalid(invalidValue(prefix.chopped(1),
                                        "type.googleapis.com/google.ai.generativelanguage.v1beta.EmbedContentRequest", list[i]));
        EmbedRequest member;
        const QString e = parseEmbed(list[i].toObject(), request, prefix, &member);
        if (!e.isEmpty())
            return invalid(e);
        out->append(std::move(member));
    }
    return {};
}

SimulatorRequestReader::Failure SimulatorRequestReader::readCountTokens(const QByteArray &body, int *promptTokensOut)
{
    QJsonObject object;
    const Failure f = parseObject(body, &object);
    if (!f.isNull())
        return f;
    const QJsonValue inner = pick(object, "generateContentRequest", "generate_content_request");
    const QJsonObject req = inner.isObject() ? inner.toObject() : object;
    Prompt prompt;
    Prompt system;
    const QString e = parseContents(req, QStringLiteral("CountTokensRequest"), &prompt, &system);
    if (!e.isEmpty())
        return invalid(e);
    *promptTokensOut = promptTokens(prompt, system);
    return {};
}

SimulatorRequestReader::Failure SimulatorRequestReader::readBatch(const QByteArray &body, BatchRequest *out)
{
    if (body.size() > kMaxBatchBodyBytes)
        return invalid(QStringLiteral("Request payload size exceeds the limit: %1 bytes. Inline batch requests are "
                                      "limited to 20 MB; larger batches need an input file, which the simulator "
                                      "does not support.").arg(kMaxBatchBodyBytes));
    QJsonObject object;
    const Failure f = parseObject(body, &object);
    if (!f.isNull())
        return f;
    const QString request = QStringLiteral("BatchGenerateContentRequest");
    const QJsonValue batchValue = object.value(QLatin1String("batch"));
    if (batchValue.isUndefined() || batchValue.isNull())
        return invalid(notSpecified(request, QStringLiteral("batch"), QStringLiteral("batch")));
    if (!batchValue.isObject())
        return invalid(invalidValue(QStringLiteral("batch"),
                                    "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch", batchValue));
    const QJsonObject batch = batchValue.toObject();

    const QJsonValue displayName = pick(batch, "displayName", "display_name");
    if (!displayName.isUndefined() && !displayName.isNull() && !displayName.isString())
        return invalid(invalidValue(QStringLiteral("batch.displayName"), "TYPE_STRING", displayName));
    const QJsonValue model = batch.value(QLatin1String("model"));
    if (!model.isUndefined() && !model.isNull() && !model.isString())
        return invalid(invalidValue(QStringLiteral("batch.model"), "TYPE_STRING", model));

    const QJsonValue inputValue = pick(batch, "inputConfig", "input_config");
    if (inputValue.isUndefined() || inputValue.isNull())
        return invalid(notSpecified(request, QStringLiteral("batch.inputConfig"), QStringLiteral("inputConfig")));
    if (!inputValue.isObject())
        return invalid(invalidValue(QStringLiteral("batch.inputConfig"),
                                    "type.googleapis.com/google.ai.generativelanguage.v1beta.InputConfig", inputValue));
    const QJsonObject input = inputValue.toObject();
    if (input.contains(QLatin1String("fileName")) || input.contains(QLatin1String("file_name")))
        return invalid(QStringLiteral("* %1.batch.inputConfig.fileName: the simulator supports inline requests only "
                                      "(batch.inputConfig.requests.requests); input files are not supported.\n").arg(request));
    const QJsonValue requestsValue = input.value(QLatin1String("requests"));
    if (requestsValue.isUndefined() || requestsValue.isNull())
        return invalid(notSpecified(request, QStringLiteral("batch.inputConfig.requests"), QStringLiteral("requests")));
    if (!requestsValue.isObject())
        return invalid(invalidValue(QStringLiteral("batch.inputConfig.requests"),
                                    "type.googleapis.com/google.ai.generativelanguage.v1beta.InlinedRequests", requestsValue));
    const QJsonValue list = requestsValue.toObject().value(QLatin1String("requests"));
    const QString listPath = QStringLiteral("batch.inputConfig.requests.requests");
    if (list.isUndefined() || list.isNull() || (list.isArray() && list.toArray().isEmpty()))
        return invalid(notSpecified(request, listPath, QStringLiteral("requests")));
    if (!list.isArray())
        return invalid(invalidValue(listPath, "type.googleapis.com/google.ai.generativelanguage.v1beta.InlinedRequest", list));

    BatchRequest result;
    result.displayName = displayName.toString();
    result.model = model.toString();
    const QJsonArray members = list.toArray();
    result.members.reserve(members.size());
    for (qsizetype i = 0; i < members.size(); ++i) {
        const QString path = QStringLiteral("%1[%2]").arg(listPath).arg(i);
        if (!members[i].isObject())
            return invalid(invalidValue(path, "type.googleapis.com/google.ai.generativelanguage.v1beta.InlinedRequest", members[i]));
        const QJsonObject member = members[i].toObject();
        const QJsonValue req = member.value(QLatin1String("request"));
        if (req.isUndefined() || req.isNull())
            return invalid(notSpecified(request, path + QStringLiteral(".request"), QStringLiteral("request")));
        if (!req.isObject())
            return invalid(invalidValue(path + QStringLiteral(".request"),
                                        "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentRequest", req));
        const QJsonValue metadata = member.value(QLatin1String("metadata"));
        if (!metadata.isUndefined() && !metadata.isNull() && !metadata.isObject())
            return invalid(invalidValue(path + QStringLiteral(".metadata"), "type.googleapis.com/google.protobuf.Struct", metadata));
        result.members.append({req.toObject(), metadata.isObject() ? metadata : QJsonValue(QJsonValue::Undefined)});
    }
    *out = std::move(result);
    return {};
}
