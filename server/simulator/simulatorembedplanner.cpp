#include "server/simulator/simulatorembedplanner.h"

#include "server/simulator/simulatorcontent.h"
#include "server/simulator/simulatorwire.h"

#include <QJsonArray>
#include <QJsonObject>

namespace {

QJsonObject embedding(const SimulatorEmbedPlanner::EmbedRequest &request)
{
    QJsonArray values;
    for (double v : SimulatorContent::embeddingFor(request.prompt.text, request.dimensions))
        values.append(v);
    return QJsonObject{{QStringLiteral("values"), values}};
}

} // namespace

void SimulatorEmbedPlanner::plan(const QList<EmbedRequest> &requests, bool batch, double embedLatencyMs,
                                 SimulatorWork *work)
{
    work->serviceMs = embedLatencyMs;
    if (!batch) {
        const EmbedRequest &one = requests.constFirst();
        work->promptTokens = SimulatorRequestReader::promptTokens(one.prompt);
        work->body = SimulatorWire::compact(QJsonObject{{QStringLiteral("embedding"), embedding(one)}});
        return;
    }
    QJsonArray embeddings;
    for (const EmbedRequest &r : requests) {
        work->promptTokens += SimulatorRequestReader::promptTokens(r.prompt);
        embeddings.append(embedding(r));
    }
    work->body = SimulatorWire::compact(QJsonObject{{QStringLiteral("embeddings"), embeddings}});
}
