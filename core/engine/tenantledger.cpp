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

TenantLedger::Entry &TenantLedger::entry(const QString &tenant, SteadyTime now)
{
    auto it = m_entries.find(tenant);
    if (it == m_entries.end()) {
        if (m_entries.size() >= kMaxTracked)
            forgetIdle(now);
        it = m_entries.insert(tenant, Entry{});
    }
    it->lastActive = now;
    return *it;
}

void TenantLedger::forgetIdle(SteadyTime now)
{
    for (auto it = m_entries.begin(); it != m_entries.end();) {
        const bool idle = it->queued == 0 && it->inflight == 0 && now - it->lastActive > minutes(1);
        it = idle ? m_entries.erase(it) : std::next(it);
    }
}

Status TenantLedger::admit(const QString &tenant, int tokens, int maxQueue, SteadyTime now)
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
        return refusal;
    }
    if (p.rpm > 0)
        e.requests.record(now, 1);
    if (p.tpm > 0)
        e.tokens.record(now, std::max(1, tokens));
    ++e.queued;
    return {};
}

void TenantLedger::refused(const QString &tenant)
{
    auto it = m_entries.find(tenant);
    if (it != m_entries.end())
        ++it->rejected;
}

void TenantLedger::dispatched(const QString &tenant)
{
    auto it = m_entries.find(tenant);
    if (it == m_entries.end())
        return;
    it->queued = std::max(0, it->queued - 1);
    ++it->inflight;
}

void TenantLedger::requeued(const QString &tenant)
{
    auto it = m_entries.find(tenant);
    if (it == m_entries.end())
        return;
    it->inflight = std::max(0, it->inflight - 1);
    ++it->queued;
}

void TenantLedger::finished(const QString &tenant, bool wasQueued, bool ok, Nanos total)
{
    auto it = m_entries.find(tenant);
    if (it == m_entries.end())
        return;
    int &n = wasQueued ? it->queued : it->inflight;
    n = std::max(0, n - 1);
    if (ok) {
        ++it->completed;
        it->meanSeconds = 0.9 * it->meanSeconds + 0.1 * duration<double>(total).count();
    }
}

int TenantLedger::queued(const QString &tenant) const
{
    auto it = m_entries.constFind(tenant);
    return it == m_entries.constEnd() ? 0 : it->queued;
}

QList<TenantState> TenantLedger::top(int n) const
{
    QList<TenantState> all;
    all.reserve(m_entries.size());
    for (auto it = m_entries.begin(); it != m_entries.end(); ++it) {
        TenantState t;
        t.id = it.key().isEmpty() ? QStringLiteral("anonymous") : it.key();
        t.weight = m_config.policyFor(it.key()).weight;
        t.queued = it->queued;
        t.inflight = it->inflight;
        t.completed = it->completed;
        t.rejected = it->rejected;
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
