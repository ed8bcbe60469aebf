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

// The longest prefix of at most `limit` members whose cost fits the room,
// packables packed as tightly as the pack limits allow (`tight`) or one
// call each.
PackPlan prefix(const PackPlanInput &in, int limit, bool tight)
{
    PackPlan p;
    long long output = 0;
    for (int i = 0; i < std::min<int>(limit, int(in.queue.size())); ++i) {
        const PackCandidate &c = in.queue[size_t(i)];
        const int packable = p.packable + (c.packable ? 1 : 0);
        const long long out = output + (c.packable ? c.outputTokens : 0);
        const int packCalls = tight ? packsFor(packable, out, in) : packable;
        const int nonPackable = (p.take + 1) - packable;
        const int calls = nonPackable + packCalls;
        const long long tokens = p.tokens + c.tokens;
        if (calls > in.callsRoom || tokens > in.tokensRoom)
            break;
        p.take += 1;
        p.packable = packable;
        p.packCalls = packCalls;
        p.calls = calls;
        p.tokens = tokens;
        output = out;
    }
    return p;
}

} // namespace

int packFactor(const PackPlanInput &in)
{
    if (in.callsPerSecond <= 0 || in.secondsPerMember <= 0)
        return 1; // no rate limit: one call per member
    const double queued = std::max(1, in.queued);
    double f;
    if (in.rateAssumed) {
        f = std::sqrt(queued / (2.0 * in.callsPerSecond * in.secondsPerMember));
    } else {
        // The packables over the calls left for them: those the budget has
        // now, and what it adds within a moment.
        int nonPackable = 0;
        for (const PackCandidate &c : in.queue)
            nonPackable += c.packable ? 0 : 1;
        const double packable = std::max(1.0, queued - nonPackable);
        const double callsSoon = std::max(1.0, in.callsRoom - nonPackable + in.callsPerSecond * 0.1);
        f = packable / callsSoon;
    }
    return int(std::clamp(std::ceil(f), 1.0, double(std::max(1, in.maxPackSize))));
}

PackPlan plan(const PackPlanInput &in)
{
    if (in.callsRoom <= 0 || in.queue.empty() || in.count <= 0)
        return {};
    switch (in.mode) {
    case PackingMode::Fanout:
        return prefix(in, in.count, false);
    case PackingMode::Pack:
        return prefix(in, in.count, true);
    case PackingMode::Auto:
        break;
    }
    if (in.callsRoom >= std::max(in.count, in.queued))
        return prefix(in, in.count, false);
    const int f = packFactor(in);
    if (f <= 1)
        return prefix(in, in.count, false); // the rest wait for the budget's next calls
    PackPlanInput packed = in;
    packed.maxPackSize = std::min(in.maxPackSize, f);
    return prefix(packed, int(in.queue.size()), true);
}

} // namespace PackPlanner
