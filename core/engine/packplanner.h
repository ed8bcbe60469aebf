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
//  - auto, under quota pressure, the pack factor f:
//    - the budget's rate is known (configured or learned): the whole queue
//      spread over the calls the budget has now and adds within 100 ms,
//      f = ⌈packables / (callsRoom − non-packables + r·0.1 s)⌉.
//      Under a binding quota the calls are what is scarce: every call takes
//      all that waits, so nobody waits for a later one (in a closed loop of
//      agents this is also the most answers per minute);
//    - the rate is assumed (the budget is probing an unknown quota, which is
//      likely to be larger): the f that minimises the expected latency of
//      the queued members, given the calls per second assumed (r) and what a
//      pack spends per member (b, seconds): the queue drains in q/(f·r)
//      seconds, a member waits half of that on average, and its pack takes
//      a + b·f, so f = ⌈√(q / 2rb)⌉;
//    bounded by maxPackSize and the output limit. f = 1 (the budget keeps
//    up) is fanout of the batch, the others waiting for the budget's next
//    calls; f > 1 takes the longest prefix of the queue (beyond `count`: the
//    quota, not the batch window, binds now) that fits the calls the budget
//    has now in packs of at most f.
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
    double callsPerSecond = 0;     // what the budget sustains (ModelBudget::Room); 0 = no limit
    bool rateAssumed = false;      // callsPerSecond is a probe's assumption (ModelBudget::Room::probing)
    double secondsPerMember = 0.3; // what a pack's answer takes per member (the engine measures it)
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
// The pack factor of the auto rules above, within [1, maxPackSize]; 1 without a rate.
int packFactor(const PackPlanInput &in);
// Packs needed for `members` packable members with `outputTokens` expected
// output in all, under maxPackSize and packOutputLimit.
int packsFor(int members, long long outputTokens, const PackPlanInput &in);
}
