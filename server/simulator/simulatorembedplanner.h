#pragma once

#include "server/simulator/simulatorrequestreader.h"
#include "server/simulator/simulatorwork.h"

#include <QList>

// Plans the GeminiSimulator's embedContent and batchEmbedContents answers:
// for each validated request a unit-length vector of its outputDimensionality
// derived from its text (SimulatorContent::embeddingFor), in request order,
// served after embedLatencyMs (unscaled) whatever the batch size. Prompt
// tokens are summed over the requests (SimulatorRequestReader::promptTokens);
// an embedding has no output tokens.
//
// Thread: stateless; thread-safe.
class SimulatorEmbedPlanner
{
public:
    using EmbedRequest = SimulatorRequestReader::EmbedRequest;

    // batch false: `requests` holds the one request of embedContent, answered
    // as {"embedding": {...}}; true: {"embeddings": [...]}.
    static void plan(const QList<EmbedRequest> &requests, bool batch, double embedLatencyMs, SimulatorWork *work);
};
