#include "core/quota/upstreambudget.h"

#include <algorithm>

UpstreamBudget::UpstreamBudget(Clock &clock, ModelBudget::Settings settings) : m_clock(clock), m_settings(settings)
{
    updateMayHoldBack();
}

void UpstreamBudget::updateMayHoldBack()
{
    bool configured = false;
    for (int d = 0; d < kQuotaDimensions; ++d)
        configured = configured || m_settings.configured[QuotaDimension(d)] > 0;
    const bool probing = !m_settings.quotaKnown && m_settings.probeStartRpm > 0;
    m_mayHoldBack.store(configured || probing || m_exceeded, std::memory_order_relaxed);
}

ModelBudget &UpstreamBudget::budgetFor(const QString &model, SteadyTime now)
{
    const auto it = m_models.constFind(model);
    if (it != m_models.cend())
        return **it;
    m_storage.push_back(std::make_unique<ModelBudget>(m_settings, now));
    m_models.insert(model, m_storage.back().get());
    return *m_storage.back();
}

void UpstreamBudget::setSettings(const ModelBudget::Settings &settings)
{
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    m_settings = settings;
    for (auto &b : m_storage)
        b->setSettings(settings, now);
    updateMayHoldBack();
}

ModelBudget::Settings UpstreamBudget::settings() const
{
    std::lock_guard lock(m_mutex);
    return m_settings;
}

void UpstreamBudget::setConfigured(const QuotaLimits &limits)
{
    ModelBudget::Settings s = settings();
    if (s.configured == limits)
        return;
    s.configured = limits;
    setSettings(s);
}

ModelBudget::Room UpstreamBudget::room(const QString &model, int wantCalls)
{
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    return budgetFor(model, now).room(now, wantCalls);
}

ModelBudget::Grant UpstreamBudget::availableAt(const QString &model, int calls, long long tokens)
{
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    return budgetFor(model, now).availableAt(now, calls, tokens);
}

ModelBudget::Grant UpstreamBudget::acquire(const QString &model, int calls, long long tokens)
{
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    return budgetFor(model, now).acquire(now, calls, tokens);
}

void UpstreamBudget::charge(const QString &model, int calls, long long tokens)
{
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    budgetFor(model, now).charge(now, calls, tokens);
}

void UpstreamBudget::settleTokens(const QString &model, long long estimated, long long actual)
{
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    budgetFor(model, now).settleTokens(now, estimated, actual);
}

void UpstreamBudget::quotaExceeded(const QString &model, QuotaDimension dimension, std::optional<long long> quotaValue,
                                   std::optional<Nanos> retryDelay)
{
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    budgetFor(model, now).quotaExceeded(now, dimension, quotaValue, retryDelay);
    m_exceeded = true;
    updateMayHoldBack();
}

QList<UpstreamBudget::ModelState> UpstreamBudget::snapshot() const
{
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    QList<ModelState> out;
    for (auto it = m_models.cbegin(); it != m_models.cend(); ++it) {
        ModelState s;
        s.model = it.key();
        for (int d = 0; d < kQuotaDimensions; ++d)
            s.dimensions[size_t(d)] = it.value()->state(QuotaDimension(d), now);
        out.append(s);
    }
    std::sort(out.begin(), out.end(), [](const ModelState &a, const ModelState &b) { return a.model < b.model; });
    return out;
}

QString quotaSourceName(ModelBudget::Source source)
{
    switch (source) {
    case ModelBudget::Source::None: return QStringLiteral("none");
    case ModelBudget::Source::Config: return QStringLiteral("config");
    case ModelBudget::Source::Learned: return QStringLiteral("learned");
    case ModelBudget::Source::Probe: return QStringLiteral("probe");
    }
    return QStringLiteral("none");
}
