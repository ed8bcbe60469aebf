#include "core/gemini/retrybackoff.h"

#include <QRandomGenerator>

#include <algorithm>
#include <cmath>

using namespace std::chrono;

milliseconds RetryBackoff::backoff(const RetryPolicy &policy, int failedAttempts, double unit,
                                   std::optional<milliseconds> serverDelay)
{
    const double exp = std::ldexp(double(std::max(0, policy.initialBackoffMs)),
                                  std::clamp(failedAttempts - 1, 0, 30));
    const double cap = std::min(double(std::max(0, policy.maxBackoffMs)), exp);
    milliseconds delay(std::llround(std::clamp(unit, 0.0, 1.0) * cap));
    if (serverDelay && *serverDelay > delay)
        delay = *serverDelay;
    return delay;
}

RetryBackoff::Decision RetryBackoff::decide(const RetryPolicy &policy, int failedAttempts, bool retryable,
                                            std::optional<milliseconds> serverDelay,
                                            SteadyTime now, SteadyTime deadline, double unit)
{
    Decision d;
    if (!retryable || failedAttempts >= policy.maxAttempts || now >= deadline)
        return d;
    d.delay = backoff(policy, failedAttempts, unit, serverDelay);
    d.retry = now + d.delay < deadline;
    return d;
}

double RetryBackoff::randomUnit()
{
    return QRandomGenerator::global()->generateDouble();
}
