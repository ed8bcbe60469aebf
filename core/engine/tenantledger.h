#pragma once

#include "core/engine/scheduling.h"
#include "core/metrics/metricssnapshot.h"
#include "core/quota/ratewindow.h"
#include "core/util/clock.h"
#include "core/util/status.h"

#include <QList>
#include <QString>

#include <unordered_map>

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

    // One tenant's account. The engine keeps a pointer to it in each of the
    // tenant's requests: it stays valid while the tenant has a request
    // queued or in flight (only idle entries are ever forgotten).
    struct Entry {
        double weight = 1;      // its policy's, kept here: read per request
        int queued = 0;
        int inflight = 0;
        quint64 completed = 0;
        quint64 rejected = 0;
        RateWindow requests{std::chrono::minutes(1)};
        RateWindow tokens{std::chrono::minutes(1)};
        double meanSeconds = 1; // EWMA of admission to answer, for a concurrency refusal's Retry-After
        SteadyTime lastActive;
    };

    void setConfig(const TenantsConfig &config);
    const TenantsConfig &config() const { return m_config; }

    // Admits one request of `tenant` costing `tokens` (estimated input
    // tokens): its entry, or null with *refusal saying why not (a 429
    // TENANT_LIMIT with the tenant's own Retry-After). `maxQueue` is the
    // engine's, for the message. (Without a maxQueued of its own a tenant
    // may fill the whole queue; the engine keeps an eighth of maxQueue
    // beyond it for tenants that hold less than that, so one tenant's
    // flood cannot shut the others out.)
    Entry *admit(const QString &tenant, int tokens, int maxQueue, SteadyTime now, Status *refusal);
    void refused(const QString &tenant); // refused by the engine itself (queue full, budget)
    static void dispatched(Entry *e);
    static void requeued(Entry *e); // back from the upstream to the queue (flex fallback)
    // A request ended: still queued (expired, cancelled, refused later) or
    // from the upstream; `ok` when answered successfully.
    static void finished(Entry *e, bool wasQueued, bool ok, Nanos total);

    int queued(const QString &tenant) const;
    // The most active tenants: queued + in flight, then answered, at most `n`.
    QList<TenantState> top(int n) const;
    qsizetype tracked() const { return qsizetype(m_entries.size()); }

private:
    Entry &entry(const QString &tenant, SteadyTime now);
    void forgetIdle(SteadyTime now);

    TenantsConfig m_config;
    std::unordered_map<QString, Entry> m_entries; // node-based: entries do not move
};
