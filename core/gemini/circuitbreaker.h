#pragma once

#include "core/util/clock.h"

#include <QString>

#include <chrono>
#include <mutex>

// The upstream circuit breaker (DESIGN.md §6). Pure logic: it never reads the
// wall clock directly (time comes from the injected Clock) and never does I/O.
//
//   Closed   --N consecutive failures-->  Open
//   Open     --coolDown elapsed-------->  HalfOpen (exactly one probe admitted)
//   HalfOpen --probe succeeds---------->  Closed
//   HalfOpen --probe fails------------->  Open (cool-down restarts)
//
// A "failure" is an attempt that says the upstream is unhealthy (5xx, 408,
// transport error, timeout); the caller decides and reports it. An answer that
// proves the upstream is reachable (2xx, 4xx including 429) is a success.
//
// Thread: all methods are thread-safe (one short mutex). The clock must
// outlive the breaker.
struct CircuitBreakerConfig {
    int failureThreshold = 5;                  // consecutive failures that open it, >= 1
    std::chrono::milliseconds coolDown{5000};  // open → half-open
};

class CircuitBreaker
{
public:
    enum class State { Closed, Open, HalfOpen };

    using Config = CircuitBreakerConfig;

    // An immutable view for /health, metrics and 503 Retry-After.
    struct Snapshot {
        State state = State::Closed;
        int consecutiveFailures = 0;
        quint64 timesOpened = 0;
        std::chrono::milliseconds retryAfter{0};   // until the next probe is allowed; 0 unless open
    };

    explicit CircuitBreaker(Config config = Config(), Clock &clock = Clock::steady());

    // Asks permission for one upstream attempt. Closed: always true. Open: false
    // until the cool-down has elapsed, then the breaker turns half-open and the
    // first caller gets true (the probe); everyone else gets false until the
    // probe's outcome is recorded.
    bool allowRequest();

    // Report the outcome of an attempt allowRequest() admitted.
    void recordSuccess();
    void recordFailure();
    // The admitted attempt ended without saying anything about the upstream's
    // health (cancelled, or cut short by the caller's own deadline): a
    // half-open probe slot is released, nothing else changes.
    void recordAbandoned();

    State state() const;     // Open is reported as HalfOpen once the cool-down has elapsed
    Snapshot snapshot() const;
    Config config() const;
    void setConfig(Config config);

private:
    State stateLocked(SteadyTime now) const;
    void openLocked(SteadyTime now);

    Clock &m_clock;
    mutable std::mutex m_mutex;
    Config m_config;
    State m_state = State::Closed;
    int m_failures = 0;
    bool m_probeInFlight = false;
    SteadyTime m_openedAt;
    quint64 m_timesOpened = 0;
};

QString circuitStateName(CircuitBreaker::State state); // "closed", "open", "half_open"
