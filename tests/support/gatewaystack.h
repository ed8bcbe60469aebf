#pragma once

// The gateway as app/ wires it, for tests: a real GeminiSimulator on
// loopback, GeminiClient, InferenceMetricsCollector, BatchInferenceEngine,
// DriftMonitor and LoadTestController, and GatewayServers started over them.
// Header-only test support (shared by the gateway, ops-route and stream tests).

#include "core/drift/driftmonitor.h"
#include "core/engine/batchinferenceengine.h"
#include "core/gemini/geminiclient.h"
#include "core/loadtest/loadtestcontroller.h"
#include "core/metrics/inferencemetricscollector.h"
#include "server/gatewayserver.h"
#include "server/simulator/geminisimulator.h"

#include <chrono>
#include <memory>

// A simulator that answers at once: the tests measure the gateway, not the model.
inline SimulatorConfig instantSimulator(int responseWords, int maxConcurrent = 256)
{
    SimulatorConfig c;
    c.baseLatencyMs = 0;
    c.tokensPerSecond = 0;
    c.jitterSigma = 0;
    c.embedLatencyMs = 0;
    c.maxConcurrent = maxConcurrent;
    c.responseWords = responseWords;
    return c;
}

struct GatewayStack {
    std::unique_ptr<GeminiSimulator> sim;
    // Shared by engine, client and metrics, as GatewayRuntime wires it. The
    // simulator's quota is known (nothing probed) unless a test says otherwise.
    std::unique_ptr<UpstreamBudget> budget;
    std::unique_ptr<GeminiClient> client;
    std::unique_ptr<InferenceMetricsCollector> metrics;
    std::unique_ptr<BatchInferenceEngine> engine;
    std::unique_ptr<DriftMonitor> drift;
    std::unique_ptr<LoadTestController> loadTests;

    // Starts everything but the gateway. The DriftMonitor does not evaluate
    // on its own timer: the tests call evaluateNow().
    bool start(const SimulatorConfig &sc, const EngineConfig &ec, QString *error, int clientMaxAttempts = 0,
               bool quotaKnown = true)
    {
        sim = std::make_unique<GeminiSimulator>(sc);
        if (!sim->start()) {
            *error = sim->errorString();
            return false;
        }
        ModelBudget::Settings bs;
        bs.quotaKnown = quotaKnown;
        budget = std::make_unique<UpstreamBudget>(Clock::steady(), bs);
        metrics = std::make_unique<InferenceMetricsCollector>();
        metrics->setBudget(budget.get());
        GeminiClientConfig cc;
        cc.baseUrl = sim->baseUrl();
        cc.concurrency = 64;
        cc.budget = budget.get();
        cc.metrics = metrics.get();
        if (clientMaxAttempts > 0)
            cc.retry.maxAttempts = clientMaxAttempts;
        client = std::make_unique<GeminiClient>(cc);
        engine = std::make_unique<BatchInferenceEngine>(client.get(), ec, Clock::steady(), metrics.get(), budget.get());
        metrics->setGaugeSource([e = engine.get()] { return e->gauges(); });
        engine->start();
        drift = std::make_unique<DriftMonitor>(metrics.get());
        drift->setInterval(std::chrono::milliseconds(0));
        loadTests = std::make_unique<LoadTestController>(metrics.get());
        return true;
    }

    GatewayDeps deps() const
    {
        GatewayDeps d{engine.get(), client.get(), metrics.get()};
        d.drift = drift.get();
        d.loadTests = loadTests.get();
        return d;
    }

    // A gateway over this stack; null with *error when it cannot listen.
    std::unique_ptr<GatewayServer> startGateway(const GatewayOptions &options, QString *error) const
    {
        auto g = std::make_unique<GatewayServer>(deps(), options);
        if (!g->start(error))
            return nullptr;
        return g;
    }

    // Reverse order of start; gateways must be gone first.
    void stop()
    {
        if (engine)
            engine->stop();
        loadTests.reset();
        drift.reset();
        if (metrics) {
            metrics->setGaugeSource({});
            metrics->setBudget(nullptr);
        }
        engine.reset();
        client.reset();
        sim.reset();
        budget.reset();
        metrics.reset();
    }
    ~GatewayStack() { stop(); }
};
