#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QString>

// Reads and validates the bodies of the GeminiSimulator's model routes, as
// Gemini does: a body is either a validated request value or a Failure,
// Gemini's 400 INVALID_ARGUMENT envelope whose message names the field in
// Gemini's words ("* GenerateContentRequest.contents[0].parts: ...",
// "Invalid value at 'generation_config.max_output_tokens' (TYPE_INT32), ...",
// "Invalid JSON payload received. ..."). lowerCamel and snake_case field
// names are both accepted; unknown fields are ignored.
//
// A generateContent body of the plain shape every client sends is read
// straight from its bytes (SimulatorWire::scanGenerateRequest), its prompt
// kept as UTF-8; any other body goes through QJsonDocument. Both readings
// give the same request.
//
// serviceTier / service_tier (generateContent only): see SimulatorConfig.
// A scanned body never has one (the plain shape has no such key): standard.
//
// batchGenerateContent: {"batch": {"displayName"?, "model"?, "inputConfig":
// {"requests": {"requests": [{"request": {...}, "metadata"?: {...}}, ...]}}}}
// (what @google/genai's batches.create() sends for inline requests). The
// envelope is checked here (a 400 names the field, e.g.
// batch.inputConfig.requests.requests[2].request); each member's
// GenerateContentRequest is read later, on its own, with readGenerateObject(),
// and a bad member fails alone, as in Gemini's Batch Mode.
//
// Prompt tokens: SimulatorContent::tokensFor() of the text parts joined with
// '\n', plus 258 per non-text part (what Gemini charges for an image); the
// system instruction, when present, counts the same way.
//
// Thread: not thread-safe (readGenerate() keeps the last generationConfig it
// read); owned by the simulator's server thread. The static functions are
// thread-safe.
class SimulatorRequestReader
{
public:
    // status 0: no failure; else the HTTP status (400) and the error body.
    struct Failure {
        int status = 0;
        QByteArray body;

        bool isNull() const { return status == 0; }
    };

    // The text of a Content ({"parts":[...], "role"}).
    struct Prompt {
        QString text;       // every text part, joined with '\n'
        int nonTextParts = 0;
    };

    // What a generateContent request's generationConfig asks for.
    struct GenerationSettings {
        int maxOutputTokens = 0;      // 0 = no limit
        int candidateCount = 1;       // 1..8
        bool jsonMode = false;        // responseMimeType application/json
        QJsonObject schema;           // responseSchema or responseJsonSchema, when set
        bool hasSchema = false;
        bool packSchema = false;      // schema is Sluice's pack schema (SimulatorContent::isPackSchema)
    };

    enum class ServiceTier { Standard, Flex, Priority };

    // A validated generateContent request. A scanned body's prompt stays
    // UTF-8 bytes, so the hot answer paths never build its UTF-16 copy; a
    // parsed body's prompt is the QString QJsonDocument gave.
    struct GenerateRequest {
        bool scanned = false;
        QByteArray promptUtf8; // scanned
        Prompt prompt;         // parsed
        int promptTokens = 0;
        GenerationSettings settings;
        ServiceTier tier = ServiceTier::Standard;
    };

    // One inline member of a batchGenerateContent request.
    struct BatchMember {
        QJsonObject request;  // a GenerateContentRequest, not yet validated
        QJsonValue metadata;  // as sent; undefined when absent
    };

    // A batchGenerateContent request whose envelope is valid.
    struct BatchRequest {
        QString displayName;  // may be empty
        QString model;        // batch.model as sent ("models/..."), may be empty
        QList<BatchMember> members;
    };

    // Bodies larger than this are refused by readBatch() (Gemini's limit for
    // inline batch requests).
    static constexpr qsizetype kMaxBatchBodyBytes = 20 * 1024 * 1024;

    // One embedContent request (also each member of batchEmbedContents).
    struct EmbedRequest {
        Prompt prompt;
        int dimensions = 768;  // outputDimensionality, 1..3072
    };

    // generateContent / streamGenerateContent. An empty body reads as {}.
    Failure readGenerate(const QByteArray &body, GenerateRequest *out);
    // embedContent (batch false: one request) or batchEmbedContents (at most
    // 100 requests; more is Gemini's own 400).
    static Failure readEmbed(const QByteArray &body, bool batch, QList<EmbedRequest> *out);
    // A GenerateContentRequest already parsed (a batch member).
    static Failure readGenerateObject(const QJsonObject &body, GenerateRequest *out);
    // batchGenerateContent's envelope.
    static Failure readBatch(const QByteArray &body, BatchRequest *out);
    // countTokens: {"contents": [...]} or {"generateContentRequest": {...}}.
    static Failure readCountTokens(const QByteArray &body, int *promptTokens);

    static int promptTokens(const Prompt &prompt, const Prompt &system);
    static int promptTokens(const Prompt &prompt) { return promptTokens(prompt, Prompt()); }

private:
    bool scanGenerate(const QByteArray &body, GenerateRequest *out);
    static Failure parseObject(const QByteArray &body, QJsonObject *out);
    static Failure readParsedGenerate(const QJsonObject &body, GenerateRequest *out);
    static Failure readGenerationConfig(const QJsonValue &value, GenerationSettings *out);

    // The generationConfig bytes of the last scanned request and what they
    // say: a packing gateway sends the very same bytes with every call.
    QByteArray m_lastGenerationConfig;
    GenerationSettings m_lastGenerationSettings;
};
