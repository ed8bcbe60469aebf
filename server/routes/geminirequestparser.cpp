#include "server/routes/geminirequestparser.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

#include <algorithm>

namespace {

using Error = GeminiRequestParser::Error;

Error invalid(const QString &field, const QString &message)
{
    return Error{400, field, message};
}

QString typeName(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::Null: return QStringLiteral("null");
    case QJsonValue::Bool: return QStringLiteral("a boolean");
    case QJsonValue::Double: return QStringLiteral("a number");
    case QJsonValue::String: return QStringLiteral("a string");
    case QJsonValue::Array: return QStringLiteral("a list");
    case QJsonValue::Object: return QStringLiteral("an object");
    case QJsonValue::Undefined: break;
    }
    return QStringLiteral("missing");
}

bool isFreeFormMap(QStringView key)
{
    return key == u"properties" || key == u"args" || key == u"response" || key == u"labels"
        || key == u"responseJsonSchema" || key == u"parametersJsonSchema" || key == u"response_json_schema"
        || key == u"parameters_json_schema";
}

QString camel(const QString &key)
{
    QString out;
    out.reserve(key.size());
    bool upper = false;
    for (QChar ch : key) {
        if (ch == u'_' && !out.isEmpty()) {
            upper = true;
            continue;
        }
        out.append(upper ? ch.toUpper() : ch);
        upper = false;
    }
    return out;
}

bool needsNormalizing(const QJsonValue &v);

bool needsNormalizing(const QJsonObject &o)
{
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (it.key().contains(u'_'))
            return true;
        if (!isFreeFormMap(it.key()) && needsNormalizing(it.value()))
            return true;
    }
    return false;
}

bool needsNormalizing(const QJsonValue &v)
{
    if (v.isObject())
        return needsNormalizing(v.toObject());
    if (v.isArray()) {
        const QJsonArray a = v.toArray();
        for (const QJsonValue &e : a)
            if (needsNormalizing(e))
                return true;
    }
    return false;
}

QJsonValue normalizeValue(const QJsonValue &v)
{
    if (v.isObject())
        return GeminiRequestParser::normalizeKeys(v.toObject());
    if (v.isArray()) {
        QJsonArray out;
        const QJsonArray a = v.toArray();
        for (const QJsonValue &e : a)
            out.append(normalizeValue(e));
        return out;
    }
    return v;
}

// Where a Content sits in the body ("contents[2]", "requests[0].content",
// "systemInstruction"); spelled out only when there is an error to report,
// so a valid body costs no string building.
struct ContentPath {
    QLatin1StringView field;
    qsizetype index = -1;          // [index] after field, when >= 0
    QLatin1StringView suffix = {}; // e.g. ".content"

    QString str() const
    {
        QString out = field;
        if (index >= 0)
            out += u'[' + QString::number(index) + u']';
        out += suffix;
        return out;
    }
};

Error validateContent(const QJsonValue &value, const ContentPath &where)
{
    if (!value.isObject()) {
        const QString path = where.str();
        return invalid(path, QStringLiteral("%1 must be an object, not %2").arg(path, typeName(value)));
    }
    const QJsonObject content = value.toObject();
    const QJsonValue role = content.value(QLatin1String("role"));
    if (!role.isUndefined() && !role.isString()) {
        const QString path = where.str();
        return invalid(path + QStringLiteral(".role"), QStringLiteral("%1.role must be a string").arg(path));
    }
    const QJsonValue parts = content.value(QLatin1String("parts"));
    if (!parts.isArray()) {
        const QString path = where.str();
        return invalid(path + QStringLiteral(".parts"), QStringLiteral("%1.parts must be a list").arg(path));
    }
    const QJsonArray list = parts.toArray();
    if (list.isEmpty()) {
        const QString path = where.str();
        return invalid(path + QStringLiteral(".parts"), QStringLiteral("%1.parts must not be empty").arg(path));
    }
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QJsonValue part = list.at(i);
        if (!part.isObject()) {
            const QString partPath = QStringLiteral("%1.parts[%2]").arg(where.str()).arg(i);
            return invalid(partPath, QStringLiteral("%1 must be an object, not %2").arg(partPath, typeName(part)));
        }
        const QJsonValue text = part.toObject().value(QLatin1String("text"));
        if (!text.isUndefined() && !text.isString()) {
            const QString partPath = QStringLiteral("%1.parts[%2]").arg(where.str()).arg(i);
            return invalid(partPath + QStringLiteral(".text"), QStringLiteral("%1.text must be a string").arg(partPath));
        }
    }
    return {};
}

Error validateGenerate(const QJsonObject &body, bool allowMissingContents)
{
    const QJsonValue contents = body.value(QLatin1String("contents"));
    if (contents.isUndefined() && allowMissingContents)
        return {};
    if (!contents.isArray())
        return invalid(QStringLiteral("contents"),
                       contents.isUndefined() ? QStringLiteral("contents is required")
                                              : QStringLiteral("contents must be a list, not %1").arg(typeName(contents)));
    const QJsonArray list = contents.toArray();
    if (list.isEmpty())
        return invalid(QStringLiteral("contents"), QStringLiteral("contents must not be empty"));
    for (qsizetype i = 0; i < list.size(); ++i) {
        const Error e = validateContent(list.at(i), {QLatin1StringView("contents"), i});
        if (!e.isNull())
            return e;
    }
    for (const char *name : {"generationConfig", "systemInstruction", "toolConfig"}) {
        const QJsonValue v = body.value(QLatin1String(name));
        if (!v.isUndefined() && !v.isObject())
            return invalid(QLatin1String(name), QStringLiteral("%1 must be an object, not %2").arg(QLatin1String(name), typeName(v)));
    }
    for (const char *name : {"tools", "safetySettings"}) {
        const QJsonValue v = body.value(QLatin1String(name));
        if (!v.isUndefined() && !v.isArray())
            return invalid(QLatin1String(name), QStringLiteral("%1 must be a list, not %2").arg(QLatin1String(name), typeName(v)));
    }
    const QJsonValue si = body.value(QLatin1String("systemInstruction"));
    if (si.isObject())
        return validateContent(si, {QLatin1StringView("systemInstruction")});
    return {};
}

} // namespace

GeminiRequestParser::Error GeminiRequestParser::parseDeadlineHeader(const QByteArray &value,
                                                                    std::chrono::milliseconds *out)
{
    const QByteArray digits = value.trimmed();
    const auto bad = [] {
        return invalid(QStringLiteral("X-Request-Deadline-Ms"),
                       QStringLiteral("X-Request-Deadline-Ms must be a positive integer (milliseconds)"));
    };
    if (digits.isEmpty())
        return bad();
    qint64 ms = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9')
            return bad();
        // Saturates instead of overflowing; the digits are still all checked.
        ms = std::min<qint64>(ms * 10 + (c - '0'), kMaxDeadline.count());
    }
    if (ms <= 0)
        return bad();
    *out = std::chrono::milliseconds(ms);
    return {};
}

bool GeminiRequestParser::isJsonContentType(const QByteArray &contentType)
{
    if (contentType.isEmpty())
        return true; // curl -d without -H, many scripts: the body decides
    qsizetype end = contentType.indexOf(';');
    const QByteArray mime = (end < 0 ? contentType : contentType.left(end)).trimmed().toLower();
    return mime == "application/json" || mime.endsWith("+json");
}

QJsonObject GeminiRequestParser::normalizeKeys(const QJsonObject &object)
{
    if (!needsNormalizing(object))
        return object;
    QJsonObject out;
    for (auto it = object.begin(); it != object.end(); ++it) {
        const QString key = it.key().contains(u'_') ? camel(it.key()) : it.key();
        // The lowerCamel spelling wins when an agent sent both.
        if (key != it.key() && object.contains(key))
            continue;
        out.insert(key, isFreeFormMap(it.key()) ? it.value() : normalizeValue(it.value()));
    }
    return out;
}

GeminiRequestParser::Error GeminiRequestParser::validate(Operation op, const QJsonObject &body)
{
    switch (op) {
    case Operation::GenerateContent:
    case Operation::StreamGenerateContent:
        return validateGenerate(body, false);
    case Operation::CountTokens: {
        const QJsonValue gcr = body.value(QLatin1String("generateContentRequest"));
        if (!gcr.isUndefined()) {
            if (!gcr.isObject())
                return invalid(QStringLiteral("generateContentRequest"), QStringLiteral("generateContentRequest must be an object"));
            const Error e = validateGenerate(gcr.toObject(), false);
            if (!e.isNull())
                return invalid(QStringLiteral("generateContentRequest.") + e.field, QStringLiteral("generateContentRequest.") + e.message);
            return {};
        }
        return validateGenerate(body, false);
    }
    case Operation::EmbedContent: {
        const QJsonValue content = body.value(QLatin1String("content"));
        if (content.isUndefined())
            return invalid(QStringLiteral("content"), QStringLiteral("content is required"));
        return validateContent(content, {QLatin1StringView("content")});
    }
    case Operation::BatchEmbedContents: {
        const QJsonValue requests = body.value(QLatin1String("requests"));
        if (!requests.isArray())
            return invalid(QStringLiteral("requests"), requests.isUndefined() ? QStringLiteral("requests is required")
                                                                               : QStringLiteral("requests must be a list"));
        const QJsonArray list = requests.toArray();
        if (list.isEmpty())
            return invalid(QStringLiteral("requests"), QStringLiteral("requests must not be empty"));
        if (list.size() > kMaxBatchEmbedRequests)
            // Gemini's own limit and wording (a 101-member call is refused
            // upstream the same way).
            return invalid(QStringLiteral("requests"),
                           QStringLiteral("* BatchEmbedContentsRequest.requests: at most %1 requests can be in one batch\n")
                               .arg(kMaxBatchEmbedRequests));
        for (qsizetype i = 0; i < list.size(); ++i) {
            const QString path = QStringLiteral("requests[%1]").arg(i);
            if (!list.at(i).isObject())
                return invalid(path, QStringLiteral("%1 must be an object").arg(path));
            const QJsonValue content = list.at(i).toObject().value(QLatin1String("content"));
            if (content.isUndefined())
                return invalid(path + QStringLiteral(".content"), QStringLiteral("%1.content is required").arg(path));
            const Error e = validateContent(content, {QLatin1StringView("requests"), i, QLatin1StringView(".content")});
            if (!e.isNull())
                return e;
        }
        return {};
    }
    }
    return {};
}

GeminiRequestParser::Error GeminiRequestParser::parseBody(Operation op, const QByteArray &contentType,
                                                          const QByteArray &body, QJsonObject *out)
{
    if (!isJsonContentType(contentType))
        return Error{415, QString(), QStringLiteral("Content-Type must be application/json, not %1")
                                         .arg(QString::fromLatin1(contentType))};
    if (body.trimmed().isEmpty())
        return invalid(QString(), QStringLiteral("request body is empty; expected a JSON object"));
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (pe.error == QJsonParseError::IllegalUTF8String)
        return invalid(QString(), QStringLiteral("request body is not valid UTF-8 (at byte %1)").arg(pe.offset));
    if (pe.error != QJsonParseError::NoError)
        return invalid(QString(), QStringLiteral("invalid JSON at byte %1: %2").arg(pe.offset).arg(pe.errorString()));
    if (!doc.isObject())
        return invalid(QString(), QStringLiteral("request body must be a JSON object"));
    // snake_case keys are rare; a body without a single '_' byte (nor an
    // escaped one, \u005f) has none, and skips the walk over every key that
    // would find that out.
    const bool mayHaveSnakeKeys = body.contains('_') || body.contains("\\u005");
    QJsonObject obj = mayHaveSnakeKeys ? normalizeKeys(doc.object()) : doc.object();
    Error e = validate(op, obj);
    if (!e.isNull())
        return e;
    *out = std::move(obj);
    return {};
}
