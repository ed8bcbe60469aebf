#include "server/routes/sharekey.h"

#include <QCryptographicHash>
#include <QJsonDocument>

namespace ShareKey {

Coalesce coalesceHeader(const QByteArray &value)
{
    const QByteArray v = value.trimmed().toLower();
    if (v == "on")
        return Coalesce::On;
    if (v == "off")
        return Coalesce::Off;
    return Coalesce::Default;
}

bool sharable(Operation op, const QJsonObject &body, Coalesce header)
{
    if (header == Coalesce::Off)
        return false;
    if (header == Coalesce::On)
        return true;
    switch (op) {
    case Operation::EmbedContent:
    case Operation::BatchEmbedContents:
    case Operation::CountTokens:
        return true;
    case Operation::GenerateContent:
    case Operation::StreamGenerateContent: {
        // Both spellings, as the parser accepts them.
        QJsonValue config = body.value(QLatin1String("generationConfig"));
        if (!config.isObject())
            config = body.value(QLatin1String("generation_config"));
        const QJsonObject c = config.toObject();
        const QJsonValue temperature = c.value(QLatin1String("temperature"));
        if (temperature.isDouble() && temperature.toDouble() == 0.0)
            return true;
        return c.value(QLatin1String("seed")).isDouble();
    }
    }
    return false;
}

QByteArray compute(const QString &model, Operation op, const QJsonObject &body, const QByteArray &scope)
{
    // The scope's digest (an API key is never kept in clear), remembered
    // per thread for the last scope seen: a fleet sends few keys, often one.
    thread_local QByteArray lastScope;
    thread_local QByteArray lastDigest = QCryptographicHash::hash(QByteArray(), QCryptographicHash::Sha256);
    if (scope != lastScope) {
        lastScope = scope;
        lastDigest = QCryptographicHash::hash(scope, QCryptographicHash::Sha256);
    }
    const QByteArray modelUtf8 = model.toUtf8();
    const QByteArray canonical = QJsonDocument(body).toJson(QJsonDocument::Compact);
    QByteArray key;
    const quint32 modelLength = quint32(modelUtf8.size()); // length-prefixed: model and body cannot run into each other
    key.reserve(32 + 1 + 4 + modelUtf8.size() + canonical.size());
    key += lastDigest;
    key += char(int(op));
    key.append(reinterpret_cast<const char *>(&modelLength), sizeof modelLength);
    key += modelUtf8;
    key += canonical;
    return key;
}

} // namespace ShareKey
