#pragma once

#include "server/simulator/simulatorconfig.h"

#include <QHash>
#include <QString>

#include <chrono>
#include <deque>

// Per-model sliding-window quota of the GeminiSimulator (RPM and TPM). A pure
// policy: the caller passes `now` and the window length (60 s * timeScale),
// so tests can drive it without waiting.
//
// Thread: not thread-safe; owned by the simulator's server thread.
class SimulatorQuota
{
public:
    using Clock = std::chrono::steady_clock;

    struct Decision {
        bool allowed = true;
        bool requestsExceeded = false; // true: RPM; false (when refused): TPM
        int limit = 0;                 // the limit that refused
        Clock::duration retryAfter{};  // time until the request would fit
    };

    // Records the request when it fits; a refused request is not recorded.
    Decision admit(const QString &model, int tokens, const SimulatorModelLimits &limits,
                   Clock::duration window, Clock::time_point now);
    void clear() { m_windows.clear(); }

private:
    struct Entry {
        Clock::time_point at;
        int tokens;
    };
    struct Window {
        std::deque<Entry> entries;
        qint64 tokens = 0;
    };
    QHash<QString, Window> m_windows;
};
