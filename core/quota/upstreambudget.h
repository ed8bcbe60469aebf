#pragma once

#include "core/quota/modelbudget.h"
#include "core/quota/sharedbudget.h"
#include "core/util/clock.h"

#include <QHash>
#include <QList>
#include <QString>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

// The upstream budget of one Gemini upstream: a ModelBudget per model (a
// project's quota is per model), shared by everything that sends upstream
// calls. The engine plans its dispatches with room() and charges them when
// it hands them over; the client charges every other call — retries,
// re-asks of pack members, repacks — with acquire() right before it is
// sent, and reports each 429 with quotaExceeded(). So every upstream HTTP
// call is charged exactly once, before it is sent (DESIGN.md §6).
//
// Models are the bare ids ("gemini-2.0-flash"); a model gets its budget the
// first time it is named, with the configured limits (the same for every
// model: Gemini's limits are per model).
//
// Replicas that share one project's quota (`--budget-store redis://…`) add
// a SharedBudget: a dispatch then also needs calls and tokens reserved in
// Redis (see SharedBudget), and while Redis is unreachable every limit is
// divided by the replica count (setShareOf).
//
// Thread: every method is thread-safe (one short lock); the clock is the one
// passed in, so tests drive it with a ManualClock.
class UpstreamBudget
{
public:
    explicit UpstreamBudget(Clock &clock = Clock::steady(), ModelBudget::Settings settings = {});

    void setSettings(const ModelBudget::Settings &settings);
    ModelBudget::Settings settings() const;
    void setConfigured(const QuotaLimits &limits);

    // The shared half of the budget (outlives this one, or is unset first);
    // null: this process's budget is the whole quota.
    void setShared(SharedBudget *shared);
    // SharedBudget's callbacks: on our own with 1/n of every limit (1: the
    // whole, shared through Redis); a limit another replica learned.
    void setShareOf(int n);
    void adoptLearned(const QString &model, QuotaDimension dimension, long long limit, Nanos blocked);
    // The callbacks a SharedBudget of this budget needs (setShareOf,
    // adoptLearned), with `roomChanged` (e.g. the engine's budgetChanged).
    SharedBudget::Callbacks sharedCallbacks(std::function<void()> roomChanged);

    // Whether any call may be held back: a limit is configured, an unknown
    // quota is probed, or a 429 has been reported (for good, then). When
    // false, room() is unlimited for every model and availableAt() grants
    // at once, so the engine's hot path skips them (charge() still counts).
    bool mayHoldBack() const { return m_mayHoldBack.load(std::memory_order_relaxed); }

    ModelBudget::Room room(const QString &model, int wantCalls = 1);
    ModelBudget::Grant availableAt(const QString &model, int calls, long long tokens);
    ModelBudget::Grant acquire(const QString &model, int calls, long long tokens);
    void charge(const QString &model, int calls, long long tokens);
    void settleTokens(const QString &model, long long estimated, long long actual);
    void quotaExceeded(const QString &model, QuotaDimension dimension, std::optional<long long> quotaValue,
                       std::optional<Nanos> retryDelay);

    struct ModelState {
        QString model;
        std::array<ModelBudget::DimensionState, kQuotaDimensions> dimensions;
    };
    // Every model named so far, by name.
    QList<ModelState> snapshot() const;
    SteadyTime now() const { return m_clock.now(); }

private:
    ModelBudget &budgetFor(const QString &model, SteadyTime now);
    // The limits to reserve against in Redis: configured and learned ones
    // (a probe is this replica's own). Under m_mutex.
    static QuotaLimits sharedLimits(const ModelBudget &budget);
    void updateMayHoldBack(); // under m_mutex

    Clock &m_clock;
    mutable std::mutex m_mutex;
    ModelBudget::Settings m_settings;
    QHash<QString, ModelBudget *> m_models; // into m_storage
    std::vector<std::unique_ptr<ModelBudget>> m_storage;
    SharedBudget *m_shared = nullptr;
    int m_shareOf = 1;
    bool m_exceeded = false; // a 429 was reported
    std::atomic<bool> m_mayHoldBack{true};
};

QString quotaSourceName(ModelBudget::Source source); // "none", "config", "learned", "probe"
