#pragma once

#include "core/engine/engineconfig.h"
#include "core/util/clock.h"

#include <chrono>
#include <optional>

// When to retry a failed upstream attempt (DESIGN.md §6). Pure functions of
// their inputs; the random draw is a parameter so tests choose it.
//
// Backoff is exponential with full jitter: after the n-th failed attempt the
// wait is uniform in [0, min(maxBackoffMs, initialBackoffMs * 2^(n-1))]. A
// server-sent RetryInfo.retryDelay (or Retry-After) wins when it is larger.
// A retry is only made when it can start before the deadline.
//
// Thread: stateless, thread-safe.
class RetryBackoff
{
public:
    struct Decision {
        bool retry = false;
        std::chrono::milliseconds delay{0}; // wait before the next attempt when retry
    };

    // `failedAttempts` >= 1; `unit` is a uniform draw in [0, 1).
    static std::chrono::milliseconds backoff(const RetryPolicy &policy, int failedAttempts, double unit,
                                             std::optional<std::chrono::milliseconds> serverDelay = std::nullopt);

    // Decides after `failedAttempts` attempts have failed, the last one with a
    // retryable (true) or final (false) error.
    static Decision decide(const RetryPolicy &policy, int failedAttempts, bool retryable,
                           std::optional<std::chrono::milliseconds> serverDelay,
                           SteadyTime now, SteadyTime deadline, double unit);

    static double randomUnit(); // thread-safe uniform [0, 1) draw for production use
};
