#include "server/simulator/simulatorquota.h"

SimulatorQuota::Decision SimulatorQuota::admit(const QString &model, int tokens, const SimulatorModelLimits &limits,
                                               Clock::duration window, Clock::time_point now)
{
    if (limits.rpmLimit <= 0 && limits.tpmLimit <= 0)
        return {};
    Window &w = m_windows[model];
    while (!w.entries.empty() && w.entries.front().at + window <= now) {
        w.tokens -= w.entries.front().tokens;
        w.entries.pop_front();
    }
    Decision d;
    if (limits.rpmLimit > 0 && qint64(w.entries.size()) >= limits.rpmLimit) {
        d.allowed = false;
        d.requestsExceeded = true;
        d.limit = limits.rpmLimit;
        // The request fits once enough of the oldest entries have left the window.
        const size_t mustLeave = w.entries.size() - size_t(limits.rpmLimit) + 1;
        d.retryAfter = w.entries[mustLeave - 1].at + window - now;
        return d;
    }
    if (limits.tpmLimit > 0 && w.tokens + tokens > limits.tpmLimit) {
        d.allowed = false;
        d.limit = limits.tpmLimit;
        if (tokens > limits.tpmLimit) {
            d.retryAfter = window; // never fits; tell the client to wait a full window
            return d;
        }
        qint64 remaining = w.tokens;
        for (const Entry &e : w.entries) {
            remaining -= e.tokens;
            if (remaining + tokens <= limits.tpmLimit) {
                d.retryAfter = e.at + window - now;
                break;
            }
        }
        return d;
    }
    w.entries.push_back({now, tokens});
    w.tokens += tokens;
    return d;
}
