#pragma once

#include "core/engine/scheduling.h"
#include "core/metrics/metricssnapshot.h"
#include "core/quota/ratewindow.h"
#include "core/util/clock.h"
#include "core/util/status.h"

#include <QHash>
#include <QList>
#include <QString>

// Per tenant: what it has queued and in flight, what it was answered and
// refused, and its own limits (TenantPolicy: rpm, tpm, maxConcurrent,
// maxQueued) checked at admission. A refusal is a 429 whose Retry-After is
// that tenant's own: when its per-minute window frees, when one of its
// requests in flight is expected to finish, or when its queue share drains.
//
// A tenant with nothing queued or in flight and nothing spent in the last
// minute is forgotten once more than kMaxTracked are known, so a client
// inventing tenant names cannot grow it without bound.
//
// Thread: not thread-safe; the engine calls it under its lock.
class TenantLedger
{
public:
    static constexpr int kMaxTracked = 4096;

    void setConfig(const TenantsConfig &config) { m_config = config; }
    const TenantsConfig &config() const { return m_config; }

    // Admits one request of `tenant` costing `tokens` (estimated input
    // tokens) or says why not. `maxQueue` is the engine's, for the message.
    // (Without a maxQueued of its own a tenant may fill the whole queue; the
    // engine keeps an eighth of maxQueue beyond it for tenants that hold
    // less than that, so one tenant's flood cannot shut the others out.)
    Status admit(const QString &tenant, int tokens, int maxQueue, SteadyTime now);
    void refused(const QString &tenant); // refused by the engine itself (queue full, budget)
    void dispatched(const QString &tenant);
    void requeued(const QString &tenant); // back from the upstream to the queue (flex fallback)
    // A request of `tenant` ended: still queued (expired, cancelled, refused
    // later) or from the upstream; `ok` when answered successfully.
    void finished(const QString &tenant, bool wasQueued, bool ok, Nanos total);

    int queued(const QString &tenant) const;
    // The most active tenants: queued + in flight, then answered, at most `n`.
    QList<TenantState> top(int n) const;
    qsizetype tracked() const { return m_entries.size(); }

private:
    struct Entry {
        int queued = 0;
        int inflight = 0;
        quint64 completed = 0;
        quint64 rejected = 0;
        RateWindow requests{std::chrono::minutes(1)};
        RateWindow tokens{std::chrono::minutes(1)};
        double meanSeconds = 1; // EWMA of admission to answer, for a concurrency refusal's Retry-After
        SteadyTime lastActive;
    };
    Entry &entry(const QString &tenant, SteadyTime now);
    void forgetIdle(SteadyTime now);

    TenantsConfig m_config;
    QHash<QString, Entry> m_entries;
};
