#pragma once

#include "core/engine/engineconfig.h"

#include <span>

// How a dispatch goes upstream: which queued members it takes and into how
// many calls they go (DESIGN.md §6), a pure function of the queue, the
// upstream budget's room and the limits of a pack, like BatchPolicy.
//
// Costs: a non-packable member (X-Sluice-Pack: off, multi-turn, tools, ...)
// is one call; packable members share `packCalls` calls, split evenly in
// queue order (packCalls == packable: each alone). A pack holds at most
// maxPackSize members and at most packOutputLimit output tokens, counting
// each member's expected output plus memberOverheadTokens for the JSON
// around it.
//
// Rules, by mode:
//  - nothing fits (callsRoom == 0, or the oldest member's tokens exceed
//    tokensRoom) → take nothing: the engine waits for the budget;
//  - fanout: the first min(count, callsRoom) members, one call each;
//  - pack: the first `count` members, the packable ones in as few packs as
//    the pack limits allow (one, usually); the prefix is cut to the room;
//  - auto, the budget has room for one call per queued member (callsRoom ≥
//    queued): as fanout — one call per member is the lowest latency;
//  - auto, under quota pressure (callsRoom < queued): the longest prefix of
//    the whole queue (beyond `count`: the quota, not the batch window, binds
//    now) whose cost fits callsRoom with the fewest packs, then its
//    packables spread over every call left (smaller packs answer sooner).
// Every plan stays within tokensRoom (input tokens), taking at least the
// oldest member whenever its tokens fit.
//
// Thread: pure, thread-safe.

struct PackCandidate {
    bool packable = true;
    long long tokens = 0;    // estimated input tokens
    int outputTokens = 0;    // expected output: maxOutputTokens, or what answers have been taking
};

struct PackPlanInput {
    PackingMode mode = PackingMode::Auto;
    std::span<const PackCandidate> queue; // the key's live members, oldest first (or the first of them)
    int queued = 0;                       // the key's live members in all
    int count = 0;                        // what BatchPolicy dispatches now (≤ maxBatchSize)
    int callsRoom = 0;                    // the upstream budget's room now
    long long tokensRoom = 0;
    int maxPackSize = 64;
    int packOutputLimit = 8192;
    int memberOverheadTokens = 16;
};

struct PackPlan {
    int take = 0;          // members from the front of the queue
    int calls = 0;         // upstream calls they cost
    int packable = 0;      // packable members among them
    int packCalls = 0;     // calls the packable ones share
    long long tokens = 0;  // their estimated input tokens
};

namespace PackPlanner {
PackPlan plan(const PackPlanInput &in);
// Packs needed for `members` packable members with `outputTokens` expected
// output in all, under maxPackSize and packOutputLimit.
int packsFor(int members, long long outputTokens, const PackPlanInput &in);
}
