#include "server/simulator/simulatorquota.h"

void SimulatorQuota::reset(Clock::time_point now)
{
    m_windows.clear();
    m_dayStart = now;
}

SimulatorQuota::Decision SimulatorQuota::admit(const QString &model, int inputTokens, const SimulatorModelLimits &limits,
                                               Clock::duration minute, Clock::time_point now, Pool pool)
{
    if (limits.rpmLimit <= 0 && limits.tpmLimit <= 0 && limits.rpdLimit <= 0)
        return {};
    Window &w = m_windows[model];
    while (!w.entries.empty() && w.entries.front().at + minute <= now) {
        w.tokens -= w.entries.front().tokens;
        w.entries.pop_front();
    }
    std::deque<Clock::time_point> &requests = w.requests[pool == Pool::Priority ? 1 : 0];
    while (!requests.empty() && requests.front() + minute <= now)
        requests.pop_front();
    Decision d;
    if (limits.rpdLimit > 0) {
        const Clock::duration day = minute * kMinutesPerDay;
        const qint64 index = day.count() > 0 ? qint64((now - m_dayStart) / day) : 0;
        if (index != w.day) {
            w.day = index;
            w.dayRequests = 0;
        }
        if (w.dayRequests >= limits.rpdLimit) {
            d.allowed = false;
            d.dimension = Dimension::RequestsPerDay;
            d.limit = limits.rpdLimit;
            d.retryAfter = m_dayStart + day * (index + 1) - now;
            return d;
        }
    }
    if (limits.rpmLimit > 0 && qint64(requests.size()) >= limits.rpmLimit) {
        d.allowed = false;
        d.dimension = Dimension::RequestsPerMinute;
        d.limit = limits.rpmLimit;
        // The request fits once enough of the oldest entries have left the window.
        const size_t mustLeave = requests.size() - size_t(limits.rpmLimit) + 1;
        d.retryAfter = requests[mustLeave - 1] + minute - now;
        return d;
    }
    if (limits.tpmLimit > 0 && w.tokens + inputTokens > limits.tpmLimit) {
        d.allowed = false;
        d.dimension = Dimension::InputTokensPerMinute;
        d.limit = limits.tpmLimit;
        if (inputTokens > limits.tpmLimit) {
            d.retryAfter = minute; // never fits; tell the client to wait a full window
            return d;
        }
        qint64 remaining = w.tokens;
        for (const Entry &e : w.entries) {
            remaining -= e.tokens;
            if (remaining + inputTokens <= limits.tpmLimit) {
                d.retryAfter = e.at + minute - now;
                break;
            }
        }
        return d;
    }
    w.entries.push_back({now, inputTokens});
    w.tokens += inputTokens;
    requests.push_back(now);
    ++w.dayRequests;
    return d;
}
