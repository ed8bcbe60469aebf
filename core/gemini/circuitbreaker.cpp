#include "core/gemini/circuitbreaker.h"

#include <algorithm>

using namespace std::chrono;

CircuitBreaker::CircuitBreaker(Config config, Clock &clock) : m_clock(clock), m_config(config)
{
    m_config.failureThreshold = std::max(1, m_config.failureThreshold);
}

bool CircuitBreaker::allowRequest()
{
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    switch (m_state) {
    case State::Closed:
        return true;
    case State::Open:
        if (now - m_openedAt < m_config.coolDown)
            return false;
        m_state = State::HalfOpen;
        m_probeInFlight = true;
        return true;
    case State::HalfOpen:
        if (m_probeInFlight)
            return false;
        m_probeInFlight = true;
        return true;
    }
    return false;
}

void CircuitBreaker::recordSuccess()
{
    std::lock_guard lock(m_mutex);
    m_failures = 0;
    m_probeInFlight = false;
    m_state = State::Closed;
}

void CircuitBreaker::recordFailure()
{
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    ++m_failures;
    if (m_state == State::HalfOpen) {
        m_probeInFlight = false;
        openLocked(now);
    } else if (m_state == State::Closed && m_failures >= m_config.failureThreshold) {
        openLocked(now);
    }
    // Already open: a straggler admitted before the breaker opened; keep the
    // original cool-down rather than extending it.
}

void CircuitBreaker::recordAbandoned()
{
    std::lock_guard lock(m_mutex);
    m_probeInFlight = false;
}

void CircuitBreaker::openLocked(SteadyTime now)
{
    m_state = State::Open;
    m_openedAt = now;
    ++m_timesOpened;
}

CircuitBreaker::State CircuitBreaker::stateLocked(SteadyTime now) const
{
    if (m_state == State::Open && now - m_openedAt >= m_config.coolDown)
        return State::HalfOpen;
    return m_state;
}

CircuitBreaker::State CircuitBreaker::state() const
{
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    return stateLocked(now);
}

CircuitBreaker::Snapshot CircuitBreaker::snapshot() const
{
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    Snapshot s;
    s.state = stateLocked(now);
    s.consecutiveFailures = m_failures;
    s.timesOpened = m_timesOpened;
    if (s.state == State::Open) {
        s.retryAfter = duration_cast<milliseconds>(m_openedAt + m_config.coolDown - now);
        s.retryAfter = std::max(s.retryAfter, milliseconds(1));
    }
    return s;
}

CircuitBreaker::Config CircuitBreaker::config() const
{
    std::lock_guard lock(m_mutex);
    return m_config;
}

void CircuitBreaker::setConfig(Config config)
{
    config.failureThreshold = std::max(1, config.failureThreshold);
    std::lock_guard lock(m_mutex);
    m_config = config;
}

QString circuitStateName(CircuitBreaker::State state)
{
    switch (state) {
    case CircuitBreaker::State::Closed: return QStringLiteral("closed");
    case CircuitBreaker::State::Open: return QStringLiteral("open");
    case CircuitBreaker::State::HalfOpen: return QStringLiteral("half_open");
    }
    return QStringLiteral("unknown");
}
