#include "core/engine/packplanner.h"

#include <algorithm>

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
    PackPlan p = prefix(in, int(in.queue.size()), true);
    // Spread the packables over every call the room leaves them.
    const int nonPackable = p.take - p.packable;
    p.packCalls = std::clamp(in.callsRoom - nonPackable, std::min(p.packCalls, p.packable), p.packable);
    p.calls = nonPackable + p.packCalls;
    return p;
}

} // namespace PackPlanner
