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
//  - auto, no rate limit (callsPerSecond 0), or a probed one with room for
//    one call per queued member (callsRoom ≥ queued): as fanout — one call
//    per member is the lowest latency (a probe learns from calls it makes);
//  - auto otherwise, the pack factor f from a latency model: a pack of f
//    members takes about b·f seconds (b: secondsPerMember, what a pack's
//    answer has been taking per member, its fixed part included), and the
//    budget gives r calls per second (a probe: the rate it assumes, see
//    ModelBudget::Room). The members waiting for answers, P = queued + in
//    flight, come back for calls; by Little's law they see R = P / (r·f)
//    seconds per answer, and no less than their pack's b·f, so the largest
//    f that does not make the pack itself the wait, f = ⌈√(P / rb)⌉, gives
//    the most answers per minute at the lowest latency (in a closed loop of
//    P agents the two are the same thing; under open-loop demand d > r·f
//    the queue, hence P and f, grow until r·f keeps up). Bounded by
//    maxPackSize and the output limit. f = 1 (the budget keeps up) is
//    fanout of the batch, even when the room is short of the queue, the
//    others waiting for the budget's next calls; f > 1 takes the longest
//    prefix of the queue (beyond `count`: the quota, not the batch window,
//    binds now) that fits the calls the budget has now in packs of about f
//    (round(n / f) of them: 20 members for f = 18 are one pack, not 18 + 2);
//  - with a known rate, packs under half of f are held (take nothing,
//    holdSeconds > 0) until the oldest member has waited one call interval
//    1/r (at most kMaxHoldSeconds): the members in flight come back within
//    it, and a call spent on two of them now is one the rest wait for.
// Every plan stays within tokensRoom (input tokens), taking at least the
// oldest member whenever its tokens fit. A pack costs its members' tokens
// with their shared part (the systemInstruction they share) counted once.
//
// Thread: pure, thread-safe.

struct PackCandidate {
    bool packable = true;
    long long tokens = 0;    // estimated input tokens
    int outputTokens = 0;    // expected output: maxOutputTokens, or what answers have been taking
    long long sharedTokens = 0; // of tokens, what a pack sends once for all (the systemInstruction)
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
    int inflight = 0;              // the model's members with the upstream now (they come back for calls)
    double oldestWaitSeconds = 0;  // how long the oldest queued member has waited
    double secondsPerMember = 0.3; // what a pack's answer takes per member (the engine measures it)
};

struct PackPlan {
    int take = 0;          // members from the front of the queue
    int calls = 0;         // upstream calls they cost
    int packable = 0;      // packable members among them
    int packCalls = 0;     // calls the packable ones share
    long long tokens = 0;  // their estimated input tokens
    double holdSeconds = 0; // take == 0 by choice: plan again after this long (or when members arrive)
};

namespace PackPlanner {
// The longest a known-rate plan holds a small pack for company.
inline constexpr double kMaxHoldSeconds = 2.0;
PackPlan plan(const PackPlanInput &in);
// The pack factor of the auto rules above, within [1, maxPackSize]; 1 without a rate.
int packFactor(const PackPlanInput &in);
// Packs needed for `members` packable members with `outputTokens` expected
// output in all, under maxPackSize and packOutputLimit.
int packsFor(int members, long long outputTokens, const PackPlanInput &in);
}
