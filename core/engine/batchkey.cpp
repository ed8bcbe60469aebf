#include "core/engine/batchkey.h"

#include <QCryptographicHash>
#include <QJsonDocument>

#include <array>

namespace {

struct CompatField {
    const char *camel;
    const char *snake;
};

// Fields that change what the model does for every member of a call.
const std::array<CompatField, 7> kCompatFields{{
    {"generationConfig", "generation_config"},
    {"systemInstruction", "system_instruction"},
    {"tools", "tools"},
    {"toolConfig", "tool_config"},
    {"safetySettings", "safety_settings"},
    {"cachedContent", "cached_content"},
    {"serviceTier", "service_tier"}, // one call is served (and billed) on one tier
}};

} // namespace

QByteArray BatchKey::compute(const QString &model, Operation op, const QJsonObject &body)
{
    QByteArray key;
    key.reserve(model.size() + 48);
    key += model.toUtf8();
    key += ':';
    key += operationName(op).toLatin1();

    // Embedding requests carry their own taskType/title/outputDimensionality
    // per entry of batchEmbedContents, so model + operation is enough.
    if (op == Operation::EmbedContent || op == Operation::BatchEmbedContents)
        return key;

    QJsonObject compat;
    for (const auto &f : kCompatFields) {
        // Latin-1 views: no QString allocated per field looked up.
        const QLatin1StringView camel(f.camel);
        QJsonValue v = body.value(camel);
        if (v.isUndefined())
            v = body.value(QLatin1StringView(f.snake));
        if (!v.isUndefined() && !v.isNull())
            compat.insert(camel, v);
    }
    if (compat.isEmpty())
        return key;
    // QJsonObject keeps keys sorted, so the compact form is canonical for
    // equal objects; nested objects are sorted the same way.
    const QByteArray canonical = QJsonDocument(compat).toJson(QJsonDocument::Compact);
    key += ':';
    key += QCryptographicHash::hash(canonical, QCryptographicHash::Sha1).toHex().left(16);
    return key;
}
