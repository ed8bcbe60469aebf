#include "core/engine/packplanner.h"

#include <algorithm>
#include <cmath>

namespace PackPlanner {

int packsFor(int members, long long outputTokens, const PackPlanInput &in)
{
    if (members <= 0)
        return 0;
    const int bySize = (members + std::max(1, in.maxPackSize) - 1) / std::max(1, in.maxPackSize);
    const long long perPackOutput = std::max(1, in.packOutputLimit);
    const long long total = outputTokens + (long long)members * in.memberOverheadTokens;
    const int byOutput = int(std::min<long long>(members, (total + perPackOutput - 1) / perPackOutput));
    return std::max({1, bySize, byOutput});
}

namespace {

// The longest prefix of at most `limit` members whose cost fits the room:
// packables one call each (`target` 0), or in as few packs as the pack
// limits allow (`target` 1), or in packs of about `target` members (a
// target, not a limit: 20 members for a target of 18 are one pack).
PackPlan prefix(const PackPlanInput &in, int limit, int target)
{
    PackPlan p;
    long long output = 0;
    long long ownTokens = 0;    // all members' tokens but the packables' shared part
    long long sharedTokens = 0; // the packables' shared part, once per pack call
    for (int i = 0; i < std::min<int>(limit, int(in.queue.size())); ++i) {
        const PackCandidate &c = in.queue[size_t(i)];
        const int packable = p.packable + (c.packable ? 1 : 0);
        const long long out = output + (c.packable ? c.outputTokens : 0);
        int packCalls = packable;
        if (target >= 1) {
            packCalls = packsFor(packable, out, in);
            if (target > 1)
                packCalls = std::max(packCalls, int(std::lround(double(packable) / target)));
            packCalls = std::min(packCalls, packable);
        }
        const int nonPackable = (p.take + 1) - packable;
        const int calls = nonPackable + packCalls;
        const long long shared = c.packable ? std::max(sharedTokens, c.sharedTokens) : sharedTokens;
        const long long own = ownTokens + c.tokens - (c.packable ? std::min(c.tokens, c.sharedTokens) : 0);
        const long long tokens = own + shared * packCalls;
        if (calls > in.callsRoom || tokens > in.tokensRoom)
            break;
        p.take += 1;
        p.packable = packable;
        p.packCalls = packCalls;
        p.calls = calls;
        p.tokens = tokens;
        output = out;
        ownTokens = own;
        sharedTokens = shared;
    }
    return p;
}

} // namespace

int packFactor(const PackPlanInput &in)
{
    if (in.callsPerSecond <= 0 || in.secondsPerMember <= 0)
        return 1; // no rate limit: one call per member
    const double f = std::sqrt(std::max(1, in.queued + in.inflight) / (in.callsPerSecond * in.secondsPerMember));
    return int(std::clamp(std::ceil(f), 1.0, double(std::max(1, in.maxPackSize))));
}

PackPlan plan(const PackPlanInput &in)
{
    if (in.callsRoom <= 0 || in.queue.empty() || in.count <= 0)
        return {};
    switch (in.mode) {
    case PackingMode::Fanout:
        return prefix(in, in.count, 0);
    case PackingMode::Pack:
        return prefix(in, in.count, 1);
    case PackingMode::Auto:
        break;
    }
    const bool rateKnown = in.callsPerSecond > 0 && !in.rateAssumed;
    if (!rateKnown && in.callsRoom >= std::max(in.count, in.queued))
        return prefix(in, in.count, 0);
    const int f = packFactor(in);
    if (f <= 1)
        return prefix(in, in.count, 0); // the rest wait for the budget's next calls
    PackPlan p = prefix(in, int(in.queue.size()), f);
    if (rateKnown && p.packCalls > 0 && 2 * p.packable < f * p.packCalls) {
        // Packs under half the target: a call spent on them now is one the
        // members coming back from the upstream will wait for. Hold them for
        // up to one call interval (at most kMaxHoldSeconds) for company.
        const double hold = std::min(1.0 / in.callsPerSecond, kMaxHoldSeconds) - in.oldestWaitSeconds;
        if (hold > 0) {
            PackPlan held;
            held.holdSeconds = hold;
            return held;
        }
    }
    return p;
}

} // namespace PackPlanner
