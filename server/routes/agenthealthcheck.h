#pragma once

#include "core/engine/batchinferenceengine.h"
#include "core/gemini/circuitbreaker.h"
#include "core/metrics/inferencemetricscollector.h"

#include <QJsonObject>
#include <QString>

// GET /health (DESIGN.md §2, §7). A pure decision over values the gateway
// reads at request time:
//   503 {"status":"draining"}     the engine is draining for shutdown
//   503 {"status":"unavailable"}  the upstream circuit is open
//   200 {"status":"degraded"}     circuit half-open (probing), backpressure >= 0.9,
//                                 latency drift state "drift" (DESIGN.md §10), or
//                                 the shared budget's Redis unreachable (this
//                                 replica spends 1/N of the quota on its own)
//   200 {"status":"ok"}           otherwise
// The body also carries queue, in-flight batches, the circuit state, the
// upstream kind and model, uptime, the accounting invariant, drift {state, score}
// and, with --budget-store, budgetStore (sharedBudgetStatusJson).
//
// Thread: pure function, thread-safe.
class AgentHealthCheck
{
public:
    struct Inputs {
        EngineGauges gauges;
        EngineCounters counters;
        CircuitBreaker::Snapshot circuit;
        QString upstreamKind;   // "simulator" or the upstream base URL kind ("gemini")
        QString model;
        double uptimeSeconds = 0;
        QString version;
        QString driftState = QStringLiteral("unknown"); // DriftMonitor reading: ok/warn/drift/unknown
        double driftScore = 0;
        QJsonObject budgetStore; // empty: no shared budget
    };
    struct Result {
        int httpStatus = 200;
        QJsonObject body;
    };

    static Result evaluate(const Inputs &in);
};
