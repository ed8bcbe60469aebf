#pragma once

#include "server/simulator/simulatorconfig.h"

#include <QHash>
#include <QString>

#include <chrono>
#include <deque>

// Per-model quota of the GeminiSimulator, the three dimensions Gemini
// enforces per project and model:
//   RPM  requests per minute      quotaId GenerateRequestsPerMinutePerProjectPerModel
//   TPM  input tokens per minute  quotaId GenerateContentInputTokensPerModelPerMinute
//   RPD  requests per day         quotaId GenerateRequestsPerDayPerProjectPerModel
// TPM counts what its metric (generate_content_input_token_count) names:
// the request's input (prompt) tokens, never its output. RPM and TPM are
// sliding windows of one (scaled) minute; RPD is a fixed window, like
// Gemini's daily quota that resets at midnight Pacific: days of 1440 scaled
// minutes, the first starting at reset().
//
// Requests come from one of two pools: Standard (standard and flex tier) and
// Priority (priority tier). Each pool has its own RPM window, checked against
// the rpmLimit the caller passes for it (the priority tier passes
// priorityRpmLimit); TPM and RPD windows are the model's, shared by both.
//
// A request is checked against RPD, then RPM, then TPM; the first limit it
// would exceed refuses it, and that is the one reported (an exhausted day
// outlasts any minute). A refused request is not recorded in any window.
//
// A pure policy: the caller passes `now` and the length of the scaled minute
// (60 s * timeScale), so tests can drive it without waiting.
//
// Thread: not thread-safe; owned by the simulator's server thread.
class SimulatorQuota
{
public:
    using Clock = std::chrono::steady_clock;

    enum class Dimension { RequestsPerMinute, InputTokensPerMinute, RequestsPerDay };
    enum class Pool { Standard, Priority };

    struct Decision {
        bool allowed = true;
        Dimension dimension = Dimension::RequestsPerMinute; // when refused: the limit that refused
        int limit = 0;                                      // its value
        Clock::duration retryAfter{};                       // time until the request would fit that limit
    };

    static constexpr int kMinutesPerDay = 24 * 60;

    // Records the request when it fits; limits.rpmLimit applies to `pool`'s
    // own request window.
    Decision admit(const QString &model, int inputTokens, const SimulatorModelLimits &limits,
                   Clock::duration minute, Clock::time_point now, Pool pool = Pool::Standard);
    // Forgets every window; the first day starts at `now`.
    void reset(Clock::time_point now);

private:
    struct Entry {
        Clock::time_point at;
        int tokens;
    };
    struct Window {
        std::deque<Entry> entries; // the last minute's admitted requests, both pools
        qint64 tokens = 0;         // their input tokens
        std::deque<Clock::time_point> requests[2]; // the last minute's admitted requests, per Pool
        qint64 day = -1;           // index of the day `dayRequests` counts
        int dayRequests = 0;
    };
    QHash<QString, Window> m_windows;
    Clock::time_point m_dayStart{};
};
