#include "core/engine/tenantledger.h"

#include <algorithm>
#include <limits>
#include <cmath>

using namespace std::chrono;

namespace {

milliseconds until(SteadyTime at, SteadyTime now)
{
    return std::max(milliseconds(1), duration_cast<milliseconds>(at - now) + milliseconds(1));
}

} // namespace

void TenantLedger::setConfig(const TenantsConfig &config)
{
    m_config = config;
    for (auto &[tenant, e] : m_entries)
        e.weight = std::max(0.01, m_config.policyFor(tenant).weight);
}

TenantLedger::Entry &TenantLedger::entry(const QString &tenant, SteadyTime now)
{
    auto it = m_entries.find(tenant);
    if (it == m_entries.end()) {
        if (m_entries.size() >= kMaxTracked)
            forgetIdle(now);
        it = m_entries.try_emplace(tenant).first;
        it->second.weight = std::max(0.01, m_config.policyFor(tenant).weight);
    }
    it->second.lastActive = now;
    return it->second;
}

void TenantLedger::forgetIdle(SteadyTime now)
{
    for (auto it = m_entries.begin(); it != m_entries.end();) {
        const Entry &e = it->second;
        const bool idle = e.queued == 0 && e.inflight == 0 && now - e.lastActive > minutes(1);
        it = idle ? m_entries.erase(it) : std::next(it);
    }
}

TenantLedger::Entry *TenantLedger::admit(const QString &tenant, int tokens, int maxQueue, SteadyTime now,
                                         Status *result)
{
    const TenantPolicy &p = m_config.policyFor(tenant);
    Entry &e = entry(tenant, now);
    const QString who = tenant.isEmpty() ? QStringLiteral("the anonymous tenant") : QStringLiteral("tenant %1").arg(tenant);
    Status refusal;
    const int queueCap = p.maxQueued > 0 ? p.maxQueued : std::numeric_limits<int>::max();
    if (p.maxConcurrent > 0 && e.queued + e.inflight >= p.maxConcurrent) {
        const double secs = std::clamp(e.meanSeconds / std::max(1, p.maxConcurrent), 0.1, 600.0);
        refusal = Status::rejected(RejectReason::TenantLimit,
                                   QStringLiteral("%1 has %2 requests admitted and not yet answered, its limit "
                                                  "(maxConcurrent %3); retry after the indicated delay")
                                       .arg(who)
                                       .arg(e.queued + e.inflight)
                                       .arg(p.maxConcurrent),
                                   milliseconds(qint64(std::ceil(secs * 1000))));
    } else if (p.rpm > 0 && e.requests.availableAt(now, 1, p.rpm) > now) {
        refusal = Status::rejected(RejectReason::TenantLimit,
                                   QStringLiteral("%1 reached its limit of %2 requests per minute; retry after the "
                                                  "indicated delay")
                                       .arg(who)
                                       .arg(p.rpm),
                                   until(e.requests.availableAt(now, 1, p.rpm), now));
    } else if (p.tpm > 0 && e.tokens.availableAt(now, tokens, p.tpm) > now) {
        refusal = Status::rejected(RejectReason::TenantLimit,
                                   QStringLiteral("%1 reached its limit of %2 input tokens per minute (this request "
                                                  "is about %3); retry after the indicated delay")
                                       .arg(who)
                                       .arg(p.tpm)
                                       .arg(tokens),
                                   until(e.tokens.availableAt(now, tokens, p.tpm), now));
    } else if (e.queued >= queueCap) {
        const double secs = std::clamp(e.meanSeconds * std::max(1, e.queued) / std::max(1, e.inflight), 0.1, 600.0);
        refusal = Status::rejected(RejectReason::TenantLimit,
                                   QStringLiteral("%1 holds %2 places of Sluice's queue (of %3), its limit "
                                                  "(maxQueued %4); retry after the indicated delay")
                                       .arg(who)
                                       .arg(e.queued)
                                       .arg(maxQueue)
                                       .arg(queueCap),
                                   milliseconds(qint64(std::ceil(secs * 1000))));
    }
    if (!refusal.ok()) {
        ++e.rejected;
        *result = std::move(refusal);
        return nullptr;
    }
    if (p.rpm > 0)
        e.requests.record(now, 1);
    if (p.tpm > 0)
        e.tokens.record(now, std::max(1, tokens));
    ++e.queued;
    return &e;
}

void TenantLedger::refused(const QString &tenant)
{
    auto it = m_entries.find(tenant);
    if (it != m_entries.end())
        ++it->second.rejected;
}

void TenantLedger::dispatched(Entry *e)
{
    if (!e)
        return;
    e->queued = std::max(0, e->queued - 1);
    ++e->inflight;
}

void TenantLedger::requeued(Entry *e)
{
    if (!e)
        return;
    e->inflight = std::max(0, e->inflight - 1);
    ++e->queued;
}

void TenantLedger::finished(Entry *e, bool wasQueued, bool ok, Nanos total)
{
    if (!e)
        return;
    int &n = wasQueued ? e->queued : e->inflight;
    n = std::max(0, n - 1);
    if (ok) {
        ++e->completed;
        e->meanSeconds = 0.9 * e->meanSeconds + 0.1 * duration<double>(total).count();
    }
}

int TenantLedger::queued(const QString &tenant) const
{
    auto it = m_entries.find(tenant);
    return it == m_entries.end() ? 0 : it->second.queued;
}

QList<TenantState> TenantLedger::top(int n) const
{
    QList<TenantState> all;
    all.reserve(qsizetype(m_entries.size()));
    for (const auto &[tenant, e] : m_entries) {
        TenantState t;
        t.id = tenant.isEmpty() ? QStringLiteral("anonymous") : tenant;
        t.weight = e.weight;
        t.queued = e.queued;
        t.inflight = e.inflight;
        t.completed = e.completed;
        t.rejected = e.rejected;
        all.append(t);
    }
    std::sort(all.begin(), all.end(), [](const TenantState &a, const TenantState &b) {
        const int ea = a.queued + a.inflight, eb = b.queued + b.inflight;
        if (ea != eb)
            return ea > eb;
        if (a.completed + a.rejected != b.completed + b.rejected)
            return a.completed + a.rejected > b.completed + b.rejected;
        return a.id < b.id;
    });
    if (all.size() > n)
        all.resize(n);
    return all;
}
