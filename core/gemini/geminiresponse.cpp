#include "core/gemini/geminiresponse.h"

#include <QJsonDocument>

namespace {
std::optional<int> optInt(const QJsonObject &o, QLatin1StringView key)
{
    const QJsonValue v = o.value(key);
    if (v.isDouble())
        return v.toInt();
    if (v.isString()) { // int64 fields may arrive as strings in proto3 JSON
        bool ok = false;
        const int n = v.toString().toInt(&ok);
        if (ok)
            return n;
    }
    return std::nullopt;
}
} // namespace

UsageMetadata UsageMetadata::fromJson(const QJsonObject &u)
{
    UsageMetadata m;
    m.promptTokenCount = optInt(u, QLatin1StringView("promptTokenCount"));
    m.candidatesTokenCount = optInt(u, QLatin1StringView("candidatesTokenCount"));
    m.thoughtsTokenCount = optInt(u, QLatin1StringView("thoughtsTokenCount"));
    m.cachedContentTokenCount = optInt(u, QLatin1StringView("cachedContentTokenCount"));
    m.toolUsePromptTokenCount = optInt(u, QLatin1StringView("toolUsePromptTokenCount"));
    m.totalTokenCount = optInt(u, QLatin1StringView("totalTokenCount"));
    return m;
}

std::optional<GeminiResponse> GeminiResponse::parse(const QByteArray &body, QString *error)
{
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &err);
    if (err.error != QJsonParseError::NoError) {
        if (error)
            *error = err.errorString();
        return std::nullopt;
    }
    if (!doc.isObject()) {
        if (error)
            *error = QStringLiteral("not a JSON object");
        return std::nullopt;
    }
    return GeminiResponse(doc.object());
}

QByteArray GeminiResponse::toJson() const
{
    return QJsonDocument(m_json).toJson(QJsonDocument::Compact);
}

bool GeminiResponse::hasError() const
{
    return m_json.value(QLatin1StringView("error")).isObject();
}

QJsonArray GeminiResponse::candidates() const
{
    return m_json.value(QLatin1StringView("candidates")).toArray();
}

QString GeminiResponse::text(int candidate, bool includeThoughts) const
{
    const QJsonArray parts = candidates().at(candidate).toObject()
                                 .value(QLatin1StringView("content")).toObject()
                                 .value(QLatin1StringView("parts")).toArray();
    QString out;
    for (const QJsonValue &p : parts) {
        const QJsonObject part = p.toObject();
        if (!includeThoughts && part.value(QLatin1StringView("thought")).toBool())
            continue;
        out += part.value(QLatin1StringView("text")).toString();
    }
    return out;
}

QString GeminiResponse::finishReason(int candidate) const
{
    return candidates().at(candidate).toObject().value(QLatin1StringView("finishReason")).toString();
}

UsageMetadata GeminiResponse::usage() const
{
    return UsageMetadata::fromJson(m_json.value(QLatin1StringView("usageMetadata")).toObject());
}

QString GeminiResponse::modelVersion() const
{
    return m_json.value(QLatin1StringView("modelVersion")).toString();
}

QString GeminiResponse::responseId() const
{
    return m_json.value(QLatin1StringView("responseId")).toString();
}

std::optional<int> GeminiResponse::totalTokens() const
{
    return optInt(m_json, QLatin1StringView("totalTokens"));
}

QJsonObject GeminiResponse::embedding() const
{
    return m_json.value(QLatin1StringView("embedding")).toObject();
}

QJsonArray GeminiResponse::embeddings() const
{
    return m_json.value(QLatin1StringView("embeddings")).toArray();
}

QJsonObject GeminiResponse::aggregateStream(const QList<QJsonObject> &chunks)
{
    if (chunks.isEmpty())
        return {};
    QJsonObject out = chunks.last();

    QJsonArray parts;
    QJsonObject cand0;
    QString finishReason;
    for (const QJsonObject &chunk : chunks) {
        const QJsonObject c = chunk.value(QLatin1StringView("candidates")).toArray().at(0).toObject();
        if (c.isEmpty())
            continue;
        // Later chunks win for per-candidate fields (finishReason, safetyRatings, ...).
        for (auto it = c.begin(); it != c.end(); ++it)
            cand0.insert(it.key(), it.value());
        for (const QJsonValue &pv : c.value(QLatin1StringView("content")).toObject()
                                        .value(QLatin1StringView("parts")).toArray()) {
            const QJsonObject p = pv.toObject();
            const bool isText = p.contains(QLatin1StringView("text"));
            if (isText && !parts.isEmpty()) {
                QJsonObject prev = parts.last().toObject();
                const bool prevText = prev.contains(QLatin1StringView("text"));
                const bool sameKind = prev.value(QLatin1StringView("thought")).toBool()
                                      == p.value(QLatin1StringView("thought")).toBool();
                if (prevText && sameKind) {
                    prev.insert(QLatin1StringView("text"),
                                prev.value(QLatin1StringView("text")).toString()
                                    + p.value(QLatin1StringView("text")).toString());
                    parts.replace(parts.size() - 1, prev);
                    continue;
                }
            }
            parts.append(p);
        }
    }
    if (!cand0.isEmpty()) {
        QJsonObject content = cand0.value(QLatin1StringView("content")).toObject();
        content.insert(QLatin1StringView("parts"), parts);
        cand0.insert(QLatin1StringView("content"), content);
        QJsonArray cands = out.value(QLatin1StringView("candidates")).toArray();
        if (cands.isEmpty())
            cands.append(cand0);
        else
            cands.replace(0, cand0);
        out.insert(QLatin1StringView("candidates"), cands);
    }
    // usageMetadata is cumulative: the last chunk that has it is the total.
    for (auto it = chunks.crbegin(); it != chunks.crend(); ++it) {
        const QJsonValue u = it->value(QLatin1StringView("usageMetadata"));
        if (u.isObject()) {
            out.insert(QLatin1StringView("usageMetadata"), u);
            break;
        }
    }
    return out;
}
