#pragma once

#include "core/engine/engineconfig.h"
#include "core/util/clock.h"

#include <QByteArray>

#include <span>

// When to dispatch a batch: a pure function of its inputs (DESIGN.md §6,
// STYLE.md "split policy from machinery"). The engine thread calls decide()
// and either dispatches or sleeps for the returned wait; nothing here reads
// a clock or touches a queue.
//
// Rules, in order:
//  1. No in-flight slot free → wait until a batch completes.
//  2. Among key queues that are ready — full (size ≥ maxBatchSize), oldest
//     member waited ≥ maxWaitMs, draining, or (adaptive) predicted not to
//     gain a member before the wait runs out / live p95 over target — and
//     whose model's upstream budget has room for a call now, pick the one
//     whose next member's (wait + 1 s) times its class weight is largest
//     (weighted priority with aging: with weights 16/4/1 a fresh interactive
//     request goes before background work that waited up to 15 s, and
//     background work that waited longer goes first: never starved);
//     dispatch min(size, maxBatchSize) of it (PackPlanner may take more
//     under quota pressure). Background queues use at most 3/4 of the
//     in-flight slots, so interactive and standard work always finds one.
//  3. Otherwise wait until the earliest queue is both ready and has budget:
//     the later of its maxWaitMs and its quotaAvailableAt.
// A queue whose members never share an upstream call (`alone`: countTokens)
// is ready as soon as it holds a member, and dispatches one member per
// batch: waiting for company gains nothing, and each of its calls takes an
// in-flight slot of its own, so maxInflightBatches bounds them too.
//
// Thread: pure, thread-safe.

struct KeyQueueView {
    int size = 0;
    SteadyTime oldestEnqueued;
    double arrivalsPerSecond = 0; // recent arrival rate for this key (adaptive mode)
    SteadyTime quotaAvailableAt;  // ≤ now when the model's upstream budget allows a call
    bool alone = false;           // members never share a call: ready at once, one per batch
    double weight = 1;            // its priority class's weight
    bool background = false;      // background class: held to backgroundSlots()
};

struct PolicyInput {
    SteadyTime now;
    const EngineConfig *config = nullptr;
    int inflightBatches = 0;
    int backgroundInflightBatches = 0;
    bool draining = false;
    Nanos liveP95{0};              // recent end-to-end p95 (adaptive mode), 0 when unknown
    std::span<const KeyQueueView> queues;
};

struct PolicyDecision {
    enum class Kind {
        Idle,         // nothing queued
        Dispatch,     // dispatch `count` from queues[queueIndex]
        Wait,         // re-evaluate after `wait` (or earlier on new arrivals)
        WaitForSlot,  // all in-flight slots busy; re-evaluate when one frees
    };
    Kind kind = Kind::Idle;
    int queueIndex = -1;
    int count = 0;
    Nanos wait{0};
};

namespace BatchPolicy {
PolicyDecision decide(const PolicyInput &in);
// In-flight slots background batches may hold: 3/4 of maxInflightBatches, at least 1.
int backgroundSlots(int maxInflightBatches);
}
