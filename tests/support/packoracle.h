#pragma once

// The test oracle of PackCodec::readAnswer(), shared by its Qt Test
// (tests/core/gemini/tst_packcodec.cpp) and its fuzz target
// (tests/fuzz/fuzz_packcodec.cpp).
#include "core/gemini/geminiresponse.h"
#include "core/gemini/packcodec.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>

#include <algorithm>
#include <optional>

// The test oracle of PackCodec::readAnswer(): the same answer built the slow
// way, as production once did — QJsonDocument over the whole body, the
// answer text read as one JSON array (from its first '[', after a fence),
// each member's GenerateContentResponse built as a QJsonObject. readAnswer()
// must equal it byte for byte wherever it answers.
namespace Oracle {

inline std::optional<QList<std::optional<QJsonObject>>> answer(const QByteArray &body, const QList<PackCodec::Member> &members)
{
    const std::optional<GeminiResponse> pack = GeminiResponse::parse(body);
    if (!pack)
        return std::nullopt;
    QString text = pack->text().trimmed();
    if (text.startsWith(QLatin1String("```"))) {
        const qsizetype nl = text.indexOf(QLatin1Char('\n'));
        text = nl < 0 ? QString() : text.mid(nl + 1);
    }
    const qsizetype bracket = text.indexOf(QLatin1Char('['));
    text = bracket < 0 ? QString() : text.mid(bracket);
    if (text.endsWith(QLatin1String("```")))
        text.chop(3);
    QHash<QString, QString> textById;
    for (const QJsonValue &v : QJsonDocument::fromJson(text.toUtf8()).array()) {
        const QJsonObject o = v.toObject();
        const QJsonValue id = o.value(QLatin1String("id"));
        const QJsonValue t = o.value(QLatin1String("text"));
        if (!t.isString())
            continue;
        QString key;
        if (id.isString())
            key = id.toString();
        else if (id.isDouble())
            key = QString::number(id.toInteger());
        else
            continue;
        if (!textById.contains(key))
            textById.insert(key, t.toString());
    }

    QList<std::optional<QJsonObject>> out(members.size());
    QList<qsizetype> answered;
    QList<qint64> promptW, outputW;
    for (qsizetype i = 0; i < members.size(); ++i) {
        if (!textById.contains(members[i].id))
            continue;
        answered.append(i);
        promptW.append(members[i].text.size());
        outputW.append(textById.value(members[i].id).size());
    }
    const UsageMetadata u = pack->usage();
    const QList<int> prompt = PackCodec::apportion(u.promptTokenCount.value_or(0), promptW);
    const QList<int> candTok = PackCodec::apportion(u.candidatesTokenCount.value_or(0), outputW);
    const QList<int> thoughts = PackCodec::apportion(u.thoughtsTokenCount.value_or(0), outputW);
    const int known = u.promptTokens() + u.outputTokens();
    const QList<int> extra = PackCodec::apportion(std::max(0, u.totalTokenCount.value_or(known) - known), promptW);
    const QJsonValue finishReason = pack->candidates().at(0).toObject().value(QLatin1String("finishReason"));
    for (qsizetype k = 0; k < answered.size(); ++k) {
        const qsizetype i = answered[k];
        QJsonObject cand{
            {QStringLiteral("content"), QJsonObject{
                {QStringLiteral("parts"), QJsonArray{QJsonObject{{QStringLiteral("text"), textById.value(members[i].id)}}}},
                {QStringLiteral("role"), QStringLiteral("model")}}},
            {QStringLiteral("index"), 0},
        };
        cand.insert(QStringLiteral("finishReason"), finishReason.isUndefined() ? QJsonValue(QStringLiteral("STOP")) : finishReason);
        QJsonObject usage{
            {QStringLiteral("promptTokenCount"), prompt[k]},
            {QStringLiteral("candidatesTokenCount"), candTok[k]},
            {QStringLiteral("totalTokenCount"), prompt[k] + candTok[k] + thoughts[k] + extra[k]},
        };
        if (u.thoughtsTokenCount)
            usage.insert(QStringLiteral("thoughtsTokenCount"), thoughts[k]);
        QJsonObject member{{QStringLiteral("candidates"), QJsonArray{cand}}, {QStringLiteral("usageMetadata"), usage}};
        for (const char *key : {"modelVersion", "responseId"}) {
            const QJsonValue v = pack->json().value(QLatin1String(key));
            if (!v.isUndefined())
                member.insert(QLatin1String(key), v);
        }
        out[i] = member;
    }
    return out;
}

} // namespace Oracle
