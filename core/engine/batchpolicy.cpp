#include "core/engine/batchpolicy.h"

#include <algorithm>
#include <limits>

int BatchPolicy::backgroundSlots(int maxInflightBatches)
{
    return std::max(1, maxInflightBatches - maxInflightBatches / 4);
}

PolicyDecision BatchPolicy::decide(const PolicyInput &in)
{
    const EngineConfig &cfg = *in.config;
    PolicyDecision d;
    if (in.queues.empty())
        return d;

    bool anyQueued = false;
    for (const auto &q : in.queues)
        anyQueued = anyQueued || q.size > 0;
    if (!anyQueued)
        return d;

    if (in.inflightBatches >= cfg.maxInflightBatches) {
        d.kind = PolicyDecision::Kind::WaitForSlot;
        return d;
    }
    const Nanos maxWait = std::chrono::milliseconds(cfg.maxWaitMs);
    const bool overTarget = cfg.adaptive && in.liveP95 > std::chrono::milliseconds(cfg.targetP95Ms);

    int best = -1;
    double bestScore = -1;
    const bool backgroundFull = in.backgroundInflightBatches >= backgroundSlots(cfg.maxInflightBatches);
    Nanos soonest = Nanos::max();
    for (int i = 0; i < int(in.queues.size()); ++i) {
        const KeyQueueView &q = in.queues[size_t(i)];
        if (q.size <= 0 || (q.background && backgroundFull))
            continue; // a full background share: looked at again when a slot frees
        const Nanos age = in.now - q.oldestEnqueued;
        bool ready = in.draining || q.alone || q.size >= cfg.maxBatchSize || age >= maxWait || overTarget;
        if (!ready && cfg.adaptive) {
            // Waiting pays only if at least one more member is expected to
            // arrive before the oldest member's wait runs out.
            const double remainingSec = std::chrono::duration<double>(maxWait - age).count();
            ready = q.arrivalsPerSecond * remainingSec < 1.0;
        }
        const Nanos quotaIn = q.quotaAvailableAt - in.now;
        if (ready && quotaIn > Nanos(0)) {
            soonest = std::min(soonest, quotaIn);
            continue;
        }
        if (ready) {
            // Aging from a one-second base: a fresh interactive request
            // (weight 16) outranks background work (1) that waited less than
            // 15 s, and loses to background work that waited longer.
            constexpr double kBaseNs = 1e9;
            const double score = (double(std::max(age, Nanos(0)).count()) + kBaseNs) * q.weight;
            if (score > bestScore) {
                bestScore = score;
                best = i;
            }
        } else {
            soonest = std::min(soonest, std::max(maxWait - age, quotaIn));
        }
    }

    if (best >= 0) {
        d.kind = PolicyDecision::Kind::Dispatch;
        d.queueIndex = best;
        const KeyQueueView &q = in.queues[size_t(best)];
        d.count = q.alone ? 1 : std::min(q.size, cfg.maxBatchSize);
        return d;
    }
    if (soonest == Nanos::max()) { // only background queues, their slots all taken
        d.kind = PolicyDecision::Kind::WaitForSlot;
        return d;
    }
    d.kind = PolicyDecision::Kind::Wait;
    d.wait = std::max(soonest, Nanos(0));
    return d;
}
