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
    QCryptographicHash h(QCryptographicHash::Sha256);
    // Length-prefixed parts: no two different tuples hash the same bytes.
    const auto part = [&h](QByteArrayView bytes) {
        const quint64 n = quint64(bytes.size());
        h.addData(QByteArrayView(reinterpret_cast<const char *>(&n), sizeof n));
        h.addData(bytes);
    };
    part(QCryptographicHash::hash(scope, QCryptographicHash::Sha256));
    part(model.toUtf8());
    part(operationName(op).toLatin1());
    part(QJsonDocument(body).toJson(QJsonDocument::Compact));
    return h.result();
}

} // namespace ShareKey
