#include "core/quota/upstreambudget.h"

#include "core/quota/sharedbudget.h"

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
    m_storage.back()->setShareOf(m_shareOf, now);
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

void UpstreamBudget::setShared(SharedBudget *shared)
{
    std::lock_guard lock(m_mutex);
    m_shared = shared;
}

void UpstreamBudget::setShareOf(int n)
{
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    m_shareOf = std::max(1, n);
    for (auto &b : m_storage)
        b->setShareOf(m_shareOf, now);
}

void UpstreamBudget::adoptLearned(const QString &model, QuotaDimension dimension, long long limit, Nanos blocked)
{
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    budgetFor(model, now).quotaExceeded(now, dimension, limit, blocked);
    m_exceeded = true;
    updateMayHoldBack();
}

SharedBudget::Callbacks UpstreamBudget::sharedCallbacks(std::function<void()> roomChanged)
{
    SharedBudget::Callbacks cb;
    cb.shareChanged = [this](int n) { setShareOf(n); };
    cb.learned = [this](const QString &model, QuotaDimension d, long long limit, Nanos blocked) {
        adoptLearned(model, d, limit, blocked);
    };
    cb.roomChanged = std::move(roomChanged);
    return cb;
}

QuotaLimits UpstreamBudget::sharedLimits(const ModelBudget &budget)
{
    QuotaLimits limits;
    for (int d = 0; d < kQuotaDimensions; ++d) {
        ModelBudget::Source source;
        const long long l = budget.limit(QuotaDimension(d), &source);
        if (source == ModelBudget::Source::Config || source == ModelBudget::Source::Learned)
            limits[QuotaDimension(d)] = l;
    }
    return limits;
}

ModelBudget::Room UpstreamBudget::room(const QString &model, int wantCalls)
{
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    ModelBudget &b = budgetFor(model, now);
    ModelBudget::Room r = b.room(now, wantCalls);
    if (m_shared && m_shared->shared())
        m_shared->clampRoom(model, sharedLimits(b), wantCalls, r, now);
    return r;
}

ModelBudget::Grant UpstreamBudget::availableAt(const QString &model, int calls, long long tokens)
{
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    ModelBudget &b = budgetFor(model, now);
    ModelBudget::Grant g = b.availableAt(now, calls, tokens);
    if (g.granted && m_shared && m_shared->shared())
        m_shared->covers(model, sharedLimits(b), calls, tokens, g, now);
    return g;
}

ModelBudget::Grant UpstreamBudget::acquire(const QString &model, int calls, long long tokens)
{
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    ModelBudget &b = budgetFor(model, now);
    if (m_shared && m_shared->shared()) {
        ModelBudget::Grant g = b.availableAt(now, calls, tokens);
        if (g.granted && !m_shared->covers(model, sharedLimits(b), calls, tokens, g, now))
            return g;
    }
    const ModelBudget::Grant g = b.acquire(now, calls, tokens);
    if (g.granted && m_shared)
        m_shared->spend(model, sharedLimits(b), calls, tokens, now);
    return g;
}

void UpstreamBudget::charge(const QString &model, int calls, long long tokens)
{
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    ModelBudget &b = budgetFor(model, now);
    b.charge(now, calls, tokens);
    if (m_shared)
        m_shared->spend(model, sharedLimits(b), calls, tokens, now);
}

void UpstreamBudget::settleTokens(const QString &model, long long estimated, long long actual)
{
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    budgetFor(model, now).settleTokens(now, estimated, actual);
    if (m_shared && actual > estimated)
        m_shared->addTokens(model, actual - estimated, now);
}

void UpstreamBudget::quotaExceeded(const QString &model, QuotaDimension dimension, std::optional<long long> quotaValue,
                                   std::optional<Nanos> retryDelay)
{
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    const bool shared = m_shared && m_shared->shared();
    // Without a quotaValue the limit is what was spent in the window: the
    // cluster's, when the window is shared.
    if (shared && !quotaValue) {
        if (const long long used = m_shared->clusterUsed(model, dimension); used > 0)
            quotaValue = used;
    }
    ModelBudget &b = budgetFor(model, now);
    b.quotaExceeded(now, dimension, quotaValue, retryDelay);
    m_exceeded = true;
    updateMayHoldBack();
    if (shared)
        m_shared->publishLearned(model, dimension, b.limit(dimension), retryDelay.value_or(Nanos(0)));
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
