#include "core/quota/modelbudget.h"

#include <algorithm>
#include <cmath>

using namespace std::chrono;

namespace {

int index(QuotaDimension d)
{
    return int(d);
}

constexpr std::array<QuotaDimension, kQuotaDimensions> kDimensions{QuotaDimension::Rpm, QuotaDimension::Tpm,
                                                                   QuotaDimension::Rpd};

} // namespace

ModelBudget::ModelBudget(const Settings &settings, SteadyTime now)
    : m_settings(settings), m_probeRpm(settings.probeStartRpm), m_probeStepEnd(now + settings.probeStep),
      m_bucketAt(now)
{
    m_bucket = bucketCapacity();
}

void ModelBudget::setSettings(const Settings &settings, SteadyTime now)
{
    maintain(now);
    const bool probeRestart = settings.probeStartRpm != m_settings.probeStartRpm;
    m_settings = settings;
    if (probeRestart)
        m_probeRpm = settings.probeStartRpm;
    for (QuotaDimension d : kDimensions) {
        const long long configured = m_settings.configured[d];
        if (configured > 0 && m_learned[index(d)] >= configured)
            m_learned[index(d)] = 0; // the configured limit is the lower one now
    }
    m_bucket = std::min(m_bucket, bucketCapacity());
}

void ModelBudget::setShareOf(int n, SteadyTime now)
{
    maintain(now);
    m_shareOf = std::max(1, n);
    m_bucket = std::min(m_bucket, bucketCapacity());
}

RateWindow &ModelBudget::window(QuotaDimension d)
{
    switch (d) {
    case QuotaDimension::Rpm: return m_minuteCalls;
    case QuotaDimension::Tpm: return m_minuteTokens;
    case QuotaDimension::Rpd: return m_dayCalls;
    }
    return m_minuteCalls;
}

long long ModelBudget::limit(QuotaDimension d, Source *source) const
{
    const long long configured = m_settings.configured[d];
    const long long learned = m_learned[index(d)];
    Source s = Source::None;
    long long l = 0;
    if (configured > 0) {
        l = configured;
        s = Source::Config;
    }
    if (learned > 0 && (l == 0 || learned < l)) {
        l = learned;
        s = Source::Learned;
    }
    if (l > 0 && m_shareOf > 1)
        l = std::max<long long>(1, l / m_shareOf);
    if (l == 0 && d == QuotaDimension::Rpm && m_probeRpm > 0 && !m_settings.quotaKnown) {
        l = m_probeRpm;
        s = Source::Probe;
    }
    if (source)
        *source = s;
    return l;
}

double ModelBudget::bucketCapacity() const
{
    Source source;
    const long long rpm = limit(QuotaDimension::Rpm, &source);
    if (rpm <= 0)
        return 0;
    // A probe's calls go one at a time, evenly spread: the 429 that ends it
    // is learned from before the next call goes, not after a burst of them.
    if (source == Source::Probe)
        return 1.0;
    return std::max(1.0, double(rpm) * m_settings.burstFraction);
}

double ModelBudget::bucketRate() const
{
    return double(limit(QuotaDimension::Rpm)) / 60.0;
}

void ModelBudget::maintain(SteadyTime now)
{
    // The pacing bucket refills with the time since it was last looked at.
    if (now > m_bucketAt) {
        const double capacity = bucketCapacity();
        if (capacity > 0)
            m_bucket = std::min(capacity, m_bucket + duration<double>(now - m_bucketAt).count() * bucketRate());
        m_bucketAt = now;
    }
    // The probe grows step by step while it holds calls back.
    Source rpmSource;
    limit(QuotaDimension::Rpm, &rpmSource);
    while (now >= m_probeStepEnd) {
        if (rpmSource == Source::Probe && m_heldBack) {
            m_probeRpm = (long long)std::ceil(double(m_probeRpm) * m_settings.probeGrowth);
            m_bucket = std::min(bucketCapacity(), m_bucket + 1.0); // the new pace starts now
        }
        m_heldBack = false;
        m_probeStepEnd += m_settings.probeStep;
        if (now - m_probeStepEnd > m_settings.probeStep * 4)
            m_probeStepEnd = now + m_settings.probeStep; // idle for a while: no catching up
    }
    // Learned limits rise again when their dimension has been quiet.
    for (QuotaDimension d : kDimensions) {
        long long &learned = m_learned[index(d)];
        SteadyTime &quietSince = m_lastExceeded[index(d)];
        while (learned > 0 && now - quietSince >= m_settings.learnedRaiseAfter) {
            learned = std::max(learned + 1, std::llround(double(learned) * (1.0 + m_settings.learnedRaise)));
            quietSince += m_settings.learnedRaiseAfter;
            const long long configured = m_settings.configured[d];
            if (configured > 0 && learned >= configured)
                learned = 0;
        }
    }
}

void ModelBudget::noteHeldBack(SteadyTime now, Source rpmSource)
{
    m_heldBack = true;
    if (rpmSource == Source::Probe && !m_probeConfirmed && !m_probeLoadedSince)
        m_probeLoadedSince = now;
}

ModelBudget::Room ModelBudget::room(SteadyTime now, int wantCalls)
{
    maintain(now);
    Room r;
    r.nextCallAt = now;
    Source rpmSource;
    const long long rpmLimit = limit(QuotaDimension::Rpm, &rpmSource);
    if (rpmSource == Source::Probe && !m_probeConfirmed && m_minuteCalls.used(now) >= m_settings.probeStartRpm)
        m_probeConfirmed = true;
    if (rpmLimit > 0) {
        double rpm = double(rpmLimit);
        if (rpmSource == Source::Probe && !m_probeConfirmed) {
            const double doublings = m_probeLoadedSince
                ? duration<double>(now - *m_probeLoadedSince) / duration<double>(m_settings.probeSizingDoubling)
                : 0.0;
            rpm = std::min(rpm, double(m_settings.probeStartRpm) * std::exp2(std::min(doublings, 30.0)));
        }
        r.callsPerSecond = rpm / 60.0;
    }
    r.probing = rpmSource == Source::Probe;
    const Grant one = availableAt(now, 1, 1); // a call carries at least one token
    if (!one.granted) {
        r.calls = 0;
        r.tokens = 0;
        r.nextCallAt = one.at;
        r.binding = one.binding;
        if (wantCalls > 0)
            noteHeldBack(now, rpmSource);
        return r;
    }
    const long long rpm = limit(QuotaDimension::Rpm);
    if (rpm > 0) {
        const long long windowRoom = rpm - m_minuteCalls.used(now);
        r.calls = int(std::clamp<long long>(std::min<long long>(windowRoom, (long long)std::floor(m_bucket)), 1, kUnlimitedCalls));
    }
    const long long rpd = limit(QuotaDimension::Rpd);
    if (rpd > 0)
        r.calls = int(std::min<long long>(r.calls, std::max<long long>(1, rpd - m_dayCalls.used(now))));
    const long long tpm = limit(QuotaDimension::Tpm);
    if (tpm > 0)
        r.tokens = std::max<long long>(0, tpm - m_minuteTokens.used(now));
    if (wantCalls > r.calls)
        noteHeldBack(now, rpmSource);
    return r;
}

ModelBudget::Grant ModelBudget::availableAt(SteadyTime now, int calls, long long tokens)
{
    maintain(now);
    Grant g;
    g.at = now;
    const auto later = [&](SteadyTime t, QuotaDimension d) {
        if (t > g.at) {
            g.at = t;
            g.binding = d;
            g.limit = limit(d, &g.source);
        }
    };
    for (QuotaDimension d : kDimensions)
        later(m_blockedUntil[index(d)], d);

    if (const long long rpm = limit(QuotaDimension::Rpm); rpm > 0 && calls > 0) {
        later(m_minuteCalls.availableAt(now, calls, rpm), QuotaDimension::Rpm);
        // The pacing bucket: a call needs a whole token (a larger request
        // waits for as many, up to a full bucket).
        const double need = std::min<double>(calls, bucketCapacity());
        if (m_bucket < need) {
            const double seconds = (need - m_bucket) / bucketRate();
            later(now + duration_cast<Nanos>(duration<double>(seconds)), QuotaDimension::Rpm);
        }
    }
    if (const long long tpm = limit(QuotaDimension::Tpm); tpm > 0 && tokens > 0)
        later(m_minuteTokens.availableAt(now, tokens, tpm), QuotaDimension::Tpm);
    if (const long long rpd = limit(QuotaDimension::Rpd); rpd > 0 && calls > 0)
        later(m_dayCalls.availableAt(now, calls, rpd), QuotaDimension::Rpd);

    g.granted = g.at <= now;
    if (g.granted)
        g.limit = 0;
    return g;
}

ModelBudget::Grant ModelBudget::acquire(SteadyTime now, int calls, long long tokens)
{
    Grant g = availableAt(now, calls, tokens);
    if (g.granted)
        charge(now, calls, tokens);
    else
        m_heldBack = true;
    return g;
}

void ModelBudget::charge(SteadyTime now, int calls, long long tokens)
{
    maintain(now);
    m_minuteCalls.record(now, calls);
    m_dayCalls.record(now, calls);
    m_minuteTokens.record(now, tokens);
    if (bucketCapacity() > 0)
        m_bucket -= calls; // may go below zero: a planned burst is paid back by waiting
}

void ModelBudget::settleTokens(SteadyTime now, long long estimated, long long actual)
{
    if (actual > estimated)
        m_minuteTokens.record(now, actual - estimated);
}

void ModelBudget::quotaExceeded(SteadyTime now, QuotaDimension d, std::optional<long long> quotaValue,
                                std::optional<Nanos> retryDelay)
{
    maintain(now);
    long long learned = quotaValue.value_or(0);
    if (learned <= 0)
        learned = std::max<long long>(1, window(d).used(now));
    m_learned[index(d)] = learned;
    m_lastExceeded[index(d)] = now;
    if (retryDelay && *retryDelay > Nanos(0))
        m_blockedUntil[index(d)] = std::max(m_blockedUntil[index(d)], now + *retryDelay);
    m_bucket = std::min(m_bucket, bucketCapacity());
}

ModelBudget::DimensionState ModelBudget::state(QuotaDimension d, SteadyTime now)
{
    maintain(now);
    DimensionState s;
    s.limit = limit(d, &s.source);
    s.used = window(d).used(now);
    s.blockedUntil = m_blockedUntil[index(d)];
    return s;
}
