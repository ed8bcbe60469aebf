#pragma once

#include "core/quota/quotalimits.h"
#include "core/quota/ratewindow.h"
#include "core/util/clock.h"

#include <array>
#include <limits>
#include <optional>

// One model's share of a Gemini project's quota, as Sluice spends it: the
// requests per minute (RPM), input tokens per minute (TPM) and requests per
// day (RPD) of every upstream HTTP call, and the limits they are held to.
//
// Limits, per dimension, the lowest of:
// - configured (EngineConfig rpmLimit/tpmLimit/rpdLimit, per model);
// - learned: a 429 whose QuotaFailure names the dimension sets it to its
//   quotaValue (to what was spent in the window when the 429 gave none),
//   and its RetryInfo blocks the dimension until the delay has passed. A
//   learned limit rises by `learnedRaise` every `learnedRaiseAfter` without
//   another 429 of its dimension, so a raised quota is found again (one 429
//   per period at most); it is dropped once it reaches the configured one;
// - probed (RPM only, when nothing is configured or learned): an assumed
//   limit starting at `probeStartRpm` that grows by `probeGrowth` every
//   `probeStep` in which the budget held calls back, until a 429 teaches the
//   real one, its calls one at a time (no burst). So a fleet behind an
//   unknown quota meets its first 429 with one call in flight, not a burst. Not when the quota is
//   known (`quotaKnown`: the embedded simulator).
// With no limit at all, every call goes at once.
//
// Pacing: calls per minute are spread out by a bucket that refills at
// limit/60 per second and holds `burstFraction` of a minute's calls, so a
// sliding one-minute window is not spent in the first seconds and then
// closed for the rest of the minute; the window itself is the hard limit.
// Tokens are charged as estimated when a call is sent and settled when its
// usage is known (an underestimate is charged on top; an overestimate is
// kept, erring on the safe side). RPD is a sliding 24 h window.
//
// A pure value: every method takes `now`; nothing reads a clock.
// Thread: not thread-safe; UpstreamBudget guards one per model.
class ModelBudget
{
public:
    static constexpr int kUnlimitedCalls = std::numeric_limits<int>::max();
    static constexpr long long kUnlimitedTokens = std::numeric_limits<long long>::max();

    struct Settings {
        QuotaLimits configured;
        long long probeStartRpm = 60;     // 0: no probing, an unknown RPM is unlimited
        // The upstream's quota is known in full, as the embedded simulator's
        // is (its limits, if any, are the configured ones): nothing is probed.
        bool quotaKnown = false;
        double probeGrowth = 2.0;
        Nanos probeStep = std::chrono::seconds(2);
        // Room::callsPerSecond of an unconfirmed probe doubles this often
        // from the probe's start (see Room).
        Nanos probeSizingDoubling = std::chrono::seconds(15);
        Nanos learnedRaiseAfter = std::chrono::minutes(5);
        double learnedRaise = 0.10;
        double burstFraction = 1.0 / 6.0; // of a minute's calls (10 s worth)

        bool operator==(const Settings &) const = default;
    };

    enum class Source { None, Config, Learned, Probe };

    struct DimensionState {
        long long limit = 0;           // in force; 0 = none
        Source source = Source::None;
        long long used = 0;            // in the current window
        SteadyTime blockedUntil{};     // by a 429's RetryInfo; <= now when not blocked
    };

    struct Room {
        int calls = kUnlimitedCalls;         // calls that may start now
        long long tokens = kUnlimitedTokens; // input tokens they may carry now
        SteadyTime nextCallAt{};             // when one more call fits (now when calls > 0)
        // Calls per second the budget sustains (its RPM / 60); 0 = no limit.
        // While probing, until probeStartRpm calls in a minute went through
        // without a 429: the probe's start, doubling every
        // probeSizingDoubling since the probe first held calls back (at most
        // the probe's own rate). A quota that may be that small is spent as
        // if it were (packs sized for it), yet a fleet that packing keeps
        // under probeStartRpm calls a minute still confirms a larger quota
        // within a few doublings instead of never.
        double callsPerSecond = 0;
        bool probing = false; // callsPerSecond is an assumption (no limit configured or learned yet)
        QuotaDimension binding = QuotaDimension::Rpm; // what holds calls back, when calls == 0
    };

    struct Grant {
        bool granted = false;
        SteadyTime at{};               // when it would fit (now when granted)
        QuotaDimension binding = QuotaDimension::Rpm;
        long long limit = 0;           // of the binding dimension
        Source source = Source::None;
    };

    ModelBudget(const Settings &settings, SteadyTime now);

    // Live change (e.g. PATCH rpmLimit): windows and learned limits are kept.
    void setSettings(const Settings &settings, SteadyTime now);
    const Settings &settings() const { return m_settings; }

    // What may go now. `wantCalls`: how many calls the caller would like to
    // send now; wanting more than the room is what makes a probe grow.
    Room room(SteadyTime now, int wantCalls = 1);
    // When `calls` calls carrying `tokens` input tokens fit (now, or later).
    Grant availableAt(SteadyTime now, int calls, long long tokens);
    // Charges them when they fit now; otherwise charges nothing and says when.
    Grant acquire(SteadyTime now, int calls, long long tokens);
    // Charges unconditionally (a dispatch planned with room() just now).
    void charge(SteadyTime now, int calls, long long tokens);
    // A call's real input tokens, known from its usageMetadata.
    void settleTokens(SteadyTime now, long long estimated, long long actual);
    // The upstream answered 429 for this model: see the class comment.
    void quotaExceeded(SteadyTime now, QuotaDimension dimension, std::optional<long long> quotaValue,
                       std::optional<Nanos> retryDelay);

    // While replicas that share one quota cannot reach their shared budget,
    // each spends 1/`n` of every configured and learned limit (n >= 1; a
    // probe is this replica's own and stays whole).
    void setShareOf(int n, SteadyTime now);
    int shareOf() const { return m_shareOf; }

    DimensionState state(QuotaDimension dimension, SteadyTime now);
    long long limit(QuotaDimension dimension, Source *source = nullptr) const;

private:
    void maintain(SteadyTime now);
    // The budget held calls back: a probe grows at its next step, and an unconfirmed one starts its sizing clock.
    void noteHeldBack(SteadyTime now, Source rpmSource);
    RateWindow &window(QuotaDimension d);
    double bucketCapacity() const;
    double bucketRate() const; // calls per second

    Settings m_settings;
    // A call is charged when it is dispatched; the upstream counts it when it
    // arrives, a little later, and lets it go a little later too: the
    // minute windows hold calls half a second longer than the upstream's.
    static constexpr Nanos kWindowMargin = std::chrono::milliseconds(500);
    RateWindow m_minuteCalls{std::chrono::minutes(1) + kWindowMargin};
    RateWindow m_minuteTokens{std::chrono::minutes(1) + kWindowMargin};
    RateWindow m_dayCalls{std::chrono::hours(24), std::chrono::seconds(1)};
    std::array<long long, kQuotaDimensions> m_learned{};
    std::array<SteadyTime, kQuotaDimensions> m_lastExceeded{};
    std::array<SteadyTime, kQuotaDimensions> m_blockedUntil{};
    long long m_probeRpm = 0;
    SteadyTime m_probeStepEnd{};
    bool m_heldBack = false;   // the budget held calls back during this probe step
    bool m_probeConfirmed = false; // probeStartRpm calls in a minute went through
    std::optional<SteadyTime> m_probeLoadedSince; // the probe first held calls back (unconfirmed)
    int m_shareOf = 1;
    double m_bucket = 0;       // pacing tokens (calls)
    SteadyTime m_bucketAt{};
};
