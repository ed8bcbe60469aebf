#pragma once

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <optional>

// Token usage as Gemini reports it (usageMetadata). Every count is optional:
// the API leaves out zero counts (e.g. no candidatesTokenCount on the first
// stream chunk).
struct UsageMetadata {
    std::optional<int> promptTokenCount;
    std::optional<int> candidatesTokenCount;
    std::optional<int> thoughtsTokenCount;
    std::optional<int> cachedContentTokenCount;
    std::optional<int> toolUsePromptTokenCount;
    std::optional<int> totalTokenCount;

    bool isEmpty() const { return !promptTokenCount && !candidatesTokenCount && !totalTokenCount; }
    int promptTokens() const { return promptTokenCount.value_or(0); }
    // What the model produced and is billed as output: candidates + thoughts.
    int outputTokens() const { return candidatesTokenCount.value_or(0) + thoughtsTokenCount.value_or(0); }

    static UsageMetadata fromJson(const QJsonObject &usageMetadata);
};

// A successful Gemini response body of any route (generateContent, one SSE
// chunk of streamGenerateContent, embedContent, batchEmbedContents,
// countTokens, models list/get), read through accessors.
//
// The upstream JSON object is kept verbatim and is what json() returns, so
// fields this class does not know (safetyRatings, avgLogprobs, turnToken,
// fields Google adds tomorrow) reach the agent unchanged. Every field is
// optional: an accessor returns an empty value when it is absent.
//
// Thread: plain value type (the JSON is implicitly shared).
class GeminiResponse
{
public:
    GeminiResponse() = default;
    explicit GeminiResponse(QJsonObject json) : m_json(std::move(json)) {}

    // Parses a body; nullopt (and *error set) when it is not a JSON object.
    static std::optional<GeminiResponse> parse(const QByteArray &body, QString *error = nullptr);

    const QJsonObject &json() const { return m_json; }
    QByteArray toJson() const; // compact

    bool hasError() const;       // an {"error":{...}} envelope (also seen inside SSE streams)
    QJsonArray candidates() const;
    // Concatenated text parts of one candidate; thought parts only when asked.
    QString text(int candidate = 0, bool includeThoughts = false) const;
    QString finishReason(int candidate = 0) const;
    UsageMetadata usage() const;
    QString modelVersion() const;
    QString responseId() const;

    std::optional<int> totalTokens() const; // countTokens
    QJsonObject embedding() const;          // embedContent: {"values":[...]}
    QJsonArray embeddings() const;          // batchEmbedContents

    // The non-streamed equivalent of a streamGenerateContent answer: the last
    // chunk's fields (usage is cumulative, finishReason arrives last), with
    // candidate 0's consecutive text parts of the same kind (thought or not)
    // concatenated in order, non-text parts kept in place. Empty input gives {}.
    static QJsonObject aggregateStream(const QList<QJsonObject> &chunks);

private:
    QJsonObject m_json;
};
