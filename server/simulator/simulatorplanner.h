#pragma once

#include "server/simulator/simulatorcontent.h"
#include "server/simulator/simulatorrequestreader.h"
#include "server/simulator/simulatorwork.h"

#include <QString>

#include <random>

struct SimulatorConfig;

// Plans the GeminiSimulator's answer to a validated generateContent (or
// streamGenerateContent) request: the response bytes (or stream chunks and
// their offsets), the service time and the token counts (SimulatorWork).
//
// Answers (SimulatorContent): plain text is responseWords words chosen by a
// hash of the prompt, one variant per candidate; JSON mode without a schema
// is {"answer": text}; a schema gets a value valid against it; Sluice's pack
// schema with <request id="..."> blocks in the prompt (core/gemini/packcodec.h)
// gets the JSON array [{"id":..,"text":..},...] with, for each block, the
// answer its text alone would get, less the members the pack-drop fault
// leaves out.
//
// Token counting rule: a text of n UTF-16 code units is
// SimulatorContent::tokensForLength(n) = max(1, ceil(n / 4)) tokens. An
// answer is counted as the whole text of its candidate, the text Gemini
// would return in parts[0].text: for a JSON-mode answer (a pack answer too)
// that is the JSON text itself, brackets, ids, quotes and escapes included,
// never its members one by one.
// maxOutputTokens: when a candidate's answer is longer than the budget, its
// text is cut after 4 * budget code units (so it is exactly `budget` tokens;
// the cut may split a JSON value, a word or a surrogate pair), its
// finishReason is MAX_TOKENS, and it counts `budget` tokens; otherwise
// finishReason is STOP. candidatesTokenCount is the sum over the candidates.
// Service time: baseLatencyMs + outputTokens * 1000 / tokensPerSecond.
// Streaming serves candidate 0 in pieces of ~12 tokens cut at spaces, with
// cumulative usage; finishReason on the last chunk only.
//
// Thread: not thread-safe; owned by the simulator's server thread. It reads
// the config and draws from the RNG it was given at every call (their owner
// keeps both alive and may change the config between calls).
class SimulatorPlanner
{
public:
    using GenerateRequest = SimulatorRequestReader::GenerateRequest;

    // Response ids are a sequence seeded by config.seed at construction.
    SimulatorPlanner(const SimulatorConfig &config, std::mt19937_64 &rng);

    // Fills `work` (whose stream and sse flags the caller sets). Draws one
    // uniform number per pack member when packDropRate > 0.
    void planGenerate(const GenerateRequest &request, const QString &model, SimulatorWork *work);
    // The countTokens answer for a prompt of `promptTokens` tokens.
    static void planCountTokens(int promptTokens, SimulatorWork *work);

private:
    QByteArray packAnswers(const QList<SimulatorContent::PackMemberView> &members, int variant, int *dropped);
    QString nextResponseId();

    const SimulatorConfig &m_config;
    std::mt19937_64 &m_rng;
    quint64 m_idState = 0;
};
