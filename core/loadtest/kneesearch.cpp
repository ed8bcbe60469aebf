#include "core/loadtest/kneesearch.h"

#include <QJsonArray>

#include <algorithm>
#include <cmath>
#include <limits>

namespace {

QString percent(double fraction, int decimals = 0)
{
    return QString::number(fraction * 100.0, 'f', decimals);
}

// Milliseconds as read: Locust keeps whole ms below 100, a limit derived from them may not be.
QString ms(double v)
{
    return QString::number(v, 'f', v < 100 ? 1 : 0);
}

QString generatorBottleneck(int users, const BaselineGenerator &g)
{
    return QStringLiteral("the load generator is the bottleneck at %1 users (busiest Locust process at %2 of a core, "
                          "Locust %3 cores of %4): add workers (--locust-workers) or a bigger machine")
        .arg(users)
        .arg(g.busiestCores, 0, 'f', 2)
        .arg(g.cpuCores, 0, 'f', 2)
        .arg(g.machineCores);
}

} // namespace

QString KneeSearchConfig::validate() const
{
    if (startUsers < 1)
        return QStringLiteral("startUsers: must be at least 1, got %1").arg(startUsers);
    if (!(growth >= 1.1 && growth <= 16))
        return QStringLiteral("growth: must be from 1.1 to 16, got %1").arg(growth);
    if (maxUsers < startUsers)
        return QStringLiteral("maxUsers: must be at least startUsers (%1), got %2").arg(startUsers).arg(maxUsers);
    if (!(plateauGain > 0 && plateauGain < 1))
        return QStringLiteral("plateauGain: must be between 0 and 1, got %1").arg(plateauGain);
    if (!(kneeFraction >= 0.5 && kneeFraction <= 1))
        return QStringLiteral("kneeFraction: must be from 0.5 to 1, got %1").arg(kneeFraction);
    if (!(p95LimitMs >= 0))
        return QStringLiteral("p95LimitMs: must be 0 (relative) or a positive number of ms, got %1").arg(p95LimitMs);
    if (!(p95LimitRatio > 1))
        return QStringLiteral("p95LimitRatio: must be above 1, got %1").arg(p95LimitRatio);
    if (!(maxErrorRate >= 0 && maxErrorRate < 1))
        return QStringLiteral("maxErrorRate: must be from 0 to below 1, got %1").arg(maxErrorRate);
    if (bisectSteps < 0 || bisectSteps > 20)
        return QStringLiteral("bisectSteps: must be from 0 to 20, got %1").arg(bisectSteps);
    if (!(minMeasureSeconds >= 1 && maxMeasureSeconds >= minMeasureSeconds))
        return QStringLiteral("minMeasureSeconds: must be at least 1 and at most maxMeasureSeconds (%1), got %2")
            .arg(maxMeasureSeconds).arg(minMeasureSeconds);
    if (!(minWarmupSeconds >= 0 && maxWarmupSeconds >= minWarmupSeconds))
        return QStringLiteral("minWarmupSeconds: must be from 0 to maxWarmupSeconds (%1), got %2")
            .arg(maxWarmupSeconds).arg(minWarmupSeconds);
    if (!(reserveSeconds >= 0 && stepOverheadSeconds >= 0 && warmupLatencies >= 0 && measureLatencies >= 0))
        return QStringLiteral("reserveSeconds, stepOverheadSeconds, warmupLatencies, measureLatencies: must not be negative");
    const double oneStep = reserveSeconds + stepOverheadSeconds + minWarmupSeconds + minMeasureSeconds;
    if (!(maxSeconds >= oneStep))
        return QStringLiteral("maxSeconds: must leave room for one step (at least %1 s), got %2").arg(oneStep).arg(maxSeconds);
    return {};
}

QJsonObject KneeSearchConfig::toJson() const
{
    return {{QStringLiteral("startUsers"), startUsers},
            {QStringLiteral("growth"), growth},
            {QStringLiteral("maxUsers"), maxUsers},
            {QStringLiteral("plateauGain"), plateauGain},
            {QStringLiteral("kneeFraction"), kneeFraction},
            {QStringLiteral("p95LimitMs"), p95LimitMs},
            {QStringLiteral("p95LimitRatio"), p95LimitRatio},
            {QStringLiteral("maxErrorRate"), maxErrorRate},
            {QStringLiteral("bisectSteps"), bisectSteps},
            {QStringLiteral("maxSeconds"), maxSeconds},
            {QStringLiteral("minWarmupSeconds"), minWarmupSeconds},
            {QStringLiteral("warmupLatencies"), warmupLatencies},
            {QStringLiteral("minMeasureSeconds"), minMeasureSeconds},
            {QStringLiteral("measureLatencies"), measureLatencies},
            {QStringLiteral("maxMeasureSeconds"), maxMeasureSeconds},
            {QStringLiteral("minSamples"), double(minSamples)}};
}

QJsonObject KneeSearch::Result::toJson() const
{
    QJsonObject o{{QStringLiteral("found"), found},
                  {QStringLiteral("reason"), reason},
                  {QStringLiteral("notes"), QJsonArray::fromStringList(notes)},
                  {QStringLiteral("bestRps"), bestRps},
                  {QStringLiteral("bestUsers"), bestUsers},
                  {QStringLiteral("p95LimitMs"), p95LimitMs},
                  {QStringLiteral("budgetExhausted"), budgetExhausted},
                  {QStringLiteral("generatorBound"), generatorBound},
                  {QStringLiteral("stoppedBy"), stoppedBy}};
    if (generatorBound)
        o.insert(QStringLiteral("generatorBoundUsers"), generatorBoundUsers);
    if (found) {
        o.insert(QStringLiteral("users"), users);
        o.insert(QStringLiteral("throughputRps"), throughputRps);
        o.insert(QStringLiteral("p95Ms"), p95Ms);
        o.insert(QStringLiteral("method"), method);
    }
    return o;
}

KneeSearch::KneeSearch(const KneeSearchConfig &config) : m_config(config), m_nextUsers(config.startUsers)
{
    if (m_config.p95LimitMs > 0)
        m_p95Limit = m_config.p95LimitMs;
}

QString KneeSearch::verdictName(Verdict v)
{
    switch (v) {
    case Verdict::Grows: return QStringLiteral("grows");
    case Verdict::Plateau: return QStringLiteral("plateau");
    case Verdict::OverP95: return QStringLiteral("p95");
    case Verdict::Errors: return QStringLiteral("errors");
    case Verdict::Generator: return QStringLiteral("generator");
    case Verdict::Below: return QStringLiteral("below");
    case Verdict::Saturated: return QStringLiteral("saturated");
    }
    return {};
}

QString KneeSearch::phaseName(Phase p)
{
    switch (p) {
    case Phase::Ramp: return QStringLiteral("ramp");
    case Phase::Bisect: return QStringLiteral("bisect");
    case Phase::Done: return QStringLiteral("done");
    }
    return {};
}

bool KneeSearch::trusted(const WindowFigures &f) const
{
    return !(f.generator && f.generator->bound);
}

bool KneeSearch::valid(const WindowFigures &f) const
{
    return trusted(f) && f.requests > 0 && f.errorRate <= m_config.maxErrorRate
           && (m_p95Limit <= 0 || f.p95Ms <= m_p95Limit);
}

bool KneeSearch::measuresThroughput(const Step &s) const
{
    // A step ended early (check(): Clear) was judged on its limits; a few
    // seconds of throughput are too noisy to set the best (one 3 s window at
    // 40 req/s measured 40.7 where its neighbours' 12 s ones gave 38-39).
    return trusted(s.figures) && s.figures.seconds >= m_config.minMeasureSeconds;
}

double KneeSearch::bestAbove(int users) const
{
    double best = 0;
    for (const Step &s : m_steps)
        if (s.users > users && measuresThroughput(s))
            best = std::max(best, s.figures.achievedRps);
    return best;
}

bool KneeSearch::saturated(const Step &s) const
{
    // Over a limit, or on the plateau: more users elsewhere gave no more than
    // 1/kneeFraction of this step's throughput. Without a step beyond it, a
    // step within the limits is not known to be saturated, even if it is the
    // best so far (throughput may still grow).
    if (!valid(s.figures))
        return true;
    const double above = bestAbove(s.users);
    return above > 0 && s.figures.achievedRps >= m_config.kneeFraction * above;
}

std::optional<KneeSearch::Plan> KneeSearch::next(double elapsedSeconds)
{
    if (m_phase == Phase::Done)
        return std::nullopt;
    const double lastP95 = m_steps.isEmpty() ? 0 : m_steps.constLast().figures.p95Ms / 1000.0;
    Plan p;
    p.users = m_nextUsers;
    p.phase = m_phase;
    p.warmupSeconds = std::clamp(m_config.warmupLatencies * lastP95, m_config.minWarmupSeconds, m_config.maxWarmupSeconds);
    p.minMeasureSeconds = m_config.minMeasureSeconds;
    const double left = m_config.maxSeconds - m_config.reserveSeconds - elapsedSeconds - m_config.stepOverheadSeconds
                        - p.warmupSeconds;
    // Windows are whole seconds (Locust's per-second counts).
    p.maxMeasureSeconds = std::min(m_config.maxMeasureSeconds, std::floor(left));
    if (p.maxMeasureSeconds < m_config.minMeasureSeconds) {
        stop(/*budgetExhausted=*/true);
        return std::nullopt;
    }
    return p;
}

KneeSearch::Check KneeSearch::check(const Plan &plan, const WindowFigures &partial) const
{
    if (partial.seconds >= plan.maxMeasureSeconds)
        return Check::Enough;
    // A verdict that more seconds cannot change: end the step and save the budget.
    if (partial.seconds >= 3 && partial.latencySamples >= 20) {
        if (!trusted(partial))
            return Check::Clear;
        if (partial.failures >= 10 && partial.errorRate > 3 * m_config.maxErrorRate)
            return Check::Clear;
        if (m_p95Limit > 0 && partial.p95Ms > 1.3 * m_p95Limit)
            return Check::Clear;
    }
    const double forLatency = std::min(m_config.maxMeasureSeconds, m_config.measureLatencies * partial.p95Ms / 1000.0);
    const double wanted = std::min(plan.maxMeasureSeconds, std::max(plan.minMeasureSeconds, forLatency));
    if (partial.seconds >= wanted && partial.latencySamples >= m_config.minSamples)
        return Check::Enough;
    return Check::Continue;
}

void KneeSearch::stop(bool budgetExhausted)
{
    if (m_phase != Phase::Done && budgetExhausted) {
        m_budgetExhausted = true;
        if (m_stoppedBy.isEmpty())
            m_stoppedBy = QStringLiteral("budget");
    }
    m_phase = Phase::Done;
}

void KneeSearch::finishWith(const QString &stoppedBy, QString *decision)
{
    if (m_stoppedBy.isEmpty())
        m_stoppedBy = stoppedBy;
    m_phase = Phase::Done;
    *decision += QStringLiteral("; search done");
}

void KneeSearch::startBisection(QString *decision)
{
    int upper = std::numeric_limits<int>::max();
    for (const Step &s : m_steps)
        if (trusted(s.figures) && saturated(s))
            upper = std::min(upper, s.users);
    int lower = 0;
    for (const Step &s : m_steps)
        if (valid(s.figures) && s.users < upper && !saturated(s))
            lower = std::max(lower, s.users);
    const int mid = (lower + upper + 1) / 2;
    if (upper == std::numeric_limits<int>::max() || lower == 0 || m_config.bisectSteps == 0 || mid <= lower || mid >= upper) {
        finishWith(QString(), decision);
        return;
    }
    m_lower = lower;
    m_upper = upper;
    m_phase = Phase::Bisect;
    m_nextUsers = mid;
    *decision += QStringLiteral("; bisect between %1 and %2 users: next %3").arg(lower).arg(upper).arg(mid);
}

const KneeSearch::Step &KneeSearch::record(const Plan &plan, const WindowFigures &f)
{
    Step s;
    s.order = int(m_steps.size());
    s.users = plan.users;
    s.phase = plan.phase;
    s.warmupSeconds = plan.warmupSeconds;
    s.figures = f;
    const bool first = m_steps.isEmpty();
    QString limitNote;
    if (first && m_config.p95LimitMs <= 0 && f.p95Ms > 0 && trusted(f)) {
        m_p95Limit = m_config.p95LimitRatio * f.p95Ms;
        limitNote = QStringLiteral("p95 limit %1 ms (%2 x this step's p95)").arg(ms(m_p95Limit)).arg(m_config.p95LimitRatio);
    }
    QString decision;
    if (!trusted(f)) {
        s.verdict = Verdict::Generator;
        decision = generatorBottleneck(s.users, *f.generator);
    } else if (f.requests == 0) {
        s.verdict = Verdict::Errors;
        decision = QStringLiteral("no request was answered");
    } else if (f.errorRate > m_config.maxErrorRate) {
        s.verdict = Verdict::Errors;
        decision = QStringLiteral("errors %1 % over the limit %2 %").arg(percent(f.errorRate, 1), percent(m_config.maxErrorRate, 1));
    } else if (m_p95Limit > 0 && f.p95Ms > m_p95Limit) {
        s.verdict = Verdict::OverP95;
        decision = QStringLiteral("p95 %1 ms over the limit %2 ms").arg(ms(f.p95Ms), ms(m_p95Limit));
    }
    const bool overLimit = !valid(f);
    const std::optional<Step> prev = first ? std::nullopt : std::optional<Step>(m_steps.constLast());
    m_steps << s;
    Step &rec = m_steps.last();

    if (plan.phase == Phase::Ramp) {
        if (rec.verdict == Verdict::Generator) {
            finishWith(QStringLiteral("generator"), &decision);
        } else if (overLimit) {
            if (first) {
                decision = QStringLiteral("the lightest step is already over the limits: ") + decision;
                finishWith(verdictName(rec.verdict), &decision);
            } else {
                m_stoppedBy = verdictName(rec.verdict);
                startBisection(&decision);
            }
        } else if (first) {
            rec.verdict = Verdict::Grows;
            decision = QStringLiteral("first step");
            if (!limitNote.isEmpty())
                decision += QStringLiteral(": ") + limitNote;
        } else {
            const double ratio = double(rec.users) / double(prev->users) - 1.0;
            const double gain = prev->figures.achievedRps > 0 ? f.achievedRps / prev->figures.achievedRps - 1.0
                                                              : std::numeric_limits<double>::infinity();
            const QString growth = std::isfinite(gain)
                                       ? QStringLiteral("%1%2 % req/s for +%3 % users").arg(gain >= 0 ? QStringLiteral("+") : QString())
                                             .arg(percent(gain)).arg(percent(ratio))
                                       : QStringLiteral("req/s from none");
            if (gain < m_config.plateauGain * ratio) {
                rec.verdict = Verdict::Plateau;
                decision = QStringLiteral("plateau: %1 (under +%2 % per +100 %)").arg(growth, percent(m_config.plateauGain));
                m_stoppedBy = QStringLiteral("plateau");
                startBisection(&decision);
            } else {
                rec.verdict = Verdict::Grows;
                decision = QStringLiteral("grows: ") + growth;
            }
        }
        if (m_phase == Phase::Ramp) {
            if (rec.users >= m_config.maxUsers) {
                decision += QStringLiteral("; reached maxUsers %1").arg(m_config.maxUsers);
                finishWith(QStringLiteral("max-users"), &decision);
            } else {
                m_nextUsers = std::min(m_config.maxUsers, std::max(rec.users + 1, int(std::lround(rec.users * m_config.growth))));
                decision += QStringLiteral("; next %1 users").arg(m_nextUsers);
            }
        }
    } else if (plan.phase == Phase::Bisect) {
        const double above = bestAbove(rec.users);
        if (overLimit) {
            m_upper = std::min(m_upper, rec.users);
        } else if (saturated(rec)) {
            rec.verdict = Verdict::Saturated;
            decision = QStringLiteral("saturated: %1 req/s, at least %2 % of the %3 with more users")
                           .arg(f.achievedRps, 0, 'f', 1).arg(percent(m_config.kneeFraction)).arg(above, 0, 'f', 1);
            m_upper = std::min(m_upper, rec.users);
        } else {
            rec.verdict = Verdict::Below;
            decision = above > 0 ? QStringLiteral("below the knee: %1 req/s, under %2 % of the %3 with more users")
                                       .arg(f.achievedRps, 0, 'f', 1).arg(percent(m_config.kneeFraction)).arg(above, 0, 'f', 1)
                                 : QStringLiteral("below the limits: %1 req/s").arg(f.achievedRps, 0, 'f', 1);
            m_lower = std::max(m_lower, rec.users);
        }
        ++m_bisected;
        const int mid = (m_lower + m_upper + 1) / 2;
        if (m_bisected >= m_config.bisectSteps || mid <= m_lower || mid >= m_upper) {
            finishWith(QString(), &decision);
        } else {
            m_nextUsers = mid;
            decision += QStringLiteral("; next %1 users").arg(mid);
        }
    }
    rec.decision = decision;
    return rec;
}

KneeSearch::Result KneeSearch::result() const
{
    Result r;
    r.p95LimitMs = m_p95Limit;
    r.budgetExhausted = m_budgetExhausted;
    r.stoppedBy = m_stoppedBy;
    bool sawSaturation = false;
    for (int i = 0; i < m_steps.size(); ++i) {
        const Step &s = m_steps.at(i);
        if (!trusted(s.figures)) {
            if (!r.generatorBound || s.users < r.generatorBoundUsers)
                r.generatorBoundUsers = s.users;
            r.generatorBound = true;
            continue;
        }
        if (measuresThroughput(s) && s.figures.achievedRps > r.bestRps) {
            r.bestRps = s.figures.achievedRps;
            r.bestUsers = s.users;
        }
        if (s.verdict != Verdict::Grows && s.verdict != Verdict::Below)
            sawSaturation = true;
    }
    const QString limits = QStringLiteral("p95 <= %1 ms, errors <= %2 %").arg(ms(m_p95Limit), percent(m_config.maxErrorRate, 1));
    int knee = -1;
    if (sawSaturation) {
        for (int i = 0; i < m_steps.size(); ++i) {
            const Step &s = m_steps.at(i);
            if (valid(s.figures) && s.figures.achievedRps >= m_config.kneeFraction * r.bestRps
                && (knee < 0 || s.users < m_steps.at(knee).users))
                knee = i;
        }
        if (knee < 0) // every step within the limits is well below the best: the limits came first
            for (int i = 0; i < m_steps.size(); ++i)
                if (valid(m_steps.at(i).figures) && (knee < 0 || m_steps.at(i).figures.achievedRps > m_steps.at(knee).figures.achievedRps))
                    knee = i;
        if (knee >= 0 && saturated(m_steps.at(knee)))
            r.method = QStringLiteral("knee search: the fewest users reaching %1 % of the best throughput (%2 req/s) within %3")
                           .arg(percent(m_config.kneeFraction)).arg(r.bestRps, 0, 'f', 1).arg(limits);
        else
            r.method = QStringLiteral("knee search: the highest throughput within %1 (the limits came before throughput stopped growing)")
                           .arg(limits);
    }
    if (knee >= 0) {
        const Step &k = m_steps.at(knee);
        r.found = true;
        r.stepIndex = knee;
        r.users = k.users;
        r.throughputRps = k.figures.achievedRps;
        r.p95Ms = k.figures.p95Ms;
        r.reason = QStringLiteral("knee at %1 users: %2 req/s, p95 %3 ms (%4)")
                       .arg(k.users).arg(k.figures.achievedRps, 0, 'f', 1).arg(k.figures.p95Ms, 0, 'f', 0).arg(r.method);
    } else if (m_steps.isEmpty()) {
        r.reason = QStringLiteral("no knee: no step was measured");
    } else if (r.generatorBound && !sawSaturation) {
        r.reason = QStringLiteral("no knee: the load generator is the bottleneck at %1 users: add workers (--locust-workers) "
                                  "or a bigger machine")
                       .arg(r.generatorBoundUsers);
        if (r.bestUsers > 0)
            r.reason += QStringLiteral(" (best measured %1 req/s at %2 users, a lower bound)").arg(r.bestRps, 0, 'f', 1).arg(r.bestUsers);
    } else if (sawSaturation) {
        r.reason = QStringLiteral("no knee: no step was within %1").arg(limits);
    } else if (m_stoppedBy == QLatin1String("max-users")) {
        r.reason = QStringLiteral("no knee up to %1 users: throughput still grows (best %2 req/s at %3 users)")
                       .arg(m_config.maxUsers).arg(r.bestRps, 0, 'f', 1).arg(r.bestUsers);
    } else {
        r.reason = QStringLiteral("no knee: throughput still grows at %1 users (best %2 req/s at %3 users, a lower bound)")
                       .arg(m_steps.constLast().users).arg(r.bestRps, 0, 'f', 1).arg(r.bestUsers);
    }
    if (m_budgetExhausted)
        r.notes << QStringLiteral("the time budget (%1 s) ran out %2; raise it (--max-seconds) for a complete search")
                       .arg(m_config.maxSeconds)
                       .arg(r.found ? QStringLiteral("during the bisection: the knee's users are approximate")
                                    : QStringLiteral("before throughput stopped growing"));
    if (r.generatorBound)
        r.notes << QStringLiteral("the load generator is the bottleneck at %1 users: add workers (--locust-workers) or a bigger machine")
                       .arg(r.generatorBoundUsers);
    return r;
}

QString KneeSearch::describe(const Step &s)
{
    const WindowFigures &f = s.figures;
    QString generator = QStringLiteral("generator not measured");
    if (f.generator)
        generator = QStringLiteral("generator %1 cores (busiest process %2, %3 %4)%5")
                        .arg(f.generator->cpuCores, 0, 'f', 2)
                        .arg(f.generator->busiestCores, 0, 'f', 2)
                        .arg(f.generator->processes)
                        .arg(f.generator->processes == 1 ? QStringLiteral("process") : QStringLiteral("processes"))
                        .arg(f.generator->bound ? QStringLiteral(", LOAD-GENERATOR-BOUND") : QString());
    return QStringLiteral("step %1 (%2): %3 users, %4 req/s, p95 %5 ms, errors %6 %, %7 over %8 s -> %9")
        .arg(s.order + 1)
        .arg(phaseName(s.phase))
        .arg(s.users)
        .arg(f.achievedRps, 0, 'f', 1)
        .arg(f.p95Ms, 0, 'f', 0)
        .arg(percent(f.errorRate, 1))
        .arg(generator)
        .arg(f.seconds, 0, 'f', 0)
        .arg(s.decision);
}
