#include "ui/tiercostview.h"

#include "ui/quotaview.h"

#include <QCoreApplication>

#include <algorithm>
#include <cmath>

namespace TierCostView {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("TierCostView", text);
}

const QString kDash = QStringLiteral("—");

QString count(quint64 v)
{
    return QuotaView::formatCount(double(v));
}

// "1234.50" → "1 234.50", with QuotaView::formatCount's narrow space.
QString grouped(const QString &number)
{
    const qsizetype dot = number.indexOf(QLatin1Char('.'));
    QString whole = dot < 0 ? number : number.left(dot);
    const QString rest = dot < 0 ? QString() : number.mid(dot);
    for (qsizetype i = whole.size() - 3; i > 0; i -= 3)
        whole.insert(i, QChar(0x202f));
    return whole + rest;
}

Row rowOf(const TierState &t)
{
    Row r;
    r.name = t.name;
    r.reported = true;
    r.requests = count(t.requests);
    const bool flex = t.name == QLatin1String("flex");
    r.shed = flex || t.shed > 0 ? count(t.shed) : kDash;
    r.shedHighlighted = t.shed > 0;
    r.promptTokens = count(t.promptTokens);
    r.outputTokens = count(t.outputTokens);
    r.costUsd = formatUsd(t.costUsd);
    r.toolTip = tr("%1 tier, since start: %2 answered OK, %3 prompt and %4 output tokens, %5")
                    .arg(t.name, r.requests, r.promptTokens, r.outputTokens, r.costUsd);
    if (flex)
        r.toolTip += QLatin1Char('\n')
                     + tr("shed: %1 answers the upstream shed (503) on flex, then sent on as standard").arg(r.shed);
    return r;
}

Row missingRow(const QString &name)
{
    Row r;
    r.name = name;
    r.requests = r.shed = r.promptTokens = r.outputTokens = r.costUsd = kDash;
    r.toolTip = tr("%1 tier: not reported by the gateway").arg(name);
    return r;
}

} // namespace

QList<QString> knownTiers()
{
    return {QStringLiteral("standard"), QStringLiteral("flex"), QStringLiteral("priority"), QStringLiteral("batch")};
}

QString formatUsd(double usd)
{
    if (!std::isfinite(usd))
        return kDash;
    const QString sign = usd < 0 ? QStringLiteral("-") : QString();
    const double a = std::abs(usd);
    if (a == 0)
        return QStringLiteral("$0.00");
    if (a < 0.0001)
        return QStringLiteral("< $0.0001");
    if (a < 1)
        return sign + QLatin1Char('$') + QString::number(a, 'f', 4);
    return sign + QLatin1Char('$') + grouped(QString::number(a, 'f', 2));
}

QList<Row> rows(const QList<TierState> &tiers)
{
    QList<Row> out;
    const QList<QString> known = knownTiers();
    for (const QString &name : known) {
        const auto it = std::find_if(tiers.begin(), tiers.end(), [&](const TierState &t) { return t.name == name; });
        out.append(it == tiers.end() ? missingRow(name) : rowOf(*it));
    }
    for (const TierState &t : tiers)
        if (!known.contains(t.name))
            out.append(rowOf(t));
    return out;
}

QString Cost::text() const
{
    return tr("cost %1 · all standard %2 · saving %3 (%4)").arg(actual, standard, saving, savingPercent);
}

Cost cost(const MetricsSnapshot &s)
{
    Cost c;
    c.actual = formatUsd(s.costUsd);
    c.standard = formatUsd(s.costStandardUsd);
    c.savingUsd = s.costStandardUsd - s.costUsd;
    c.anything = s.costStandardUsd > 0;
    c.savingRatio = c.anything ? c.savingUsd / s.costStandardUsd : 0;
    c.saving = formatUsd(c.savingUsd);
    c.savingPercent = c.anything ? QuotaView::formatPercent(c.savingRatio) : kDash;
    return c;
}

BatchMode batchMode(const MetricsSnapshot &s)
{
    BatchMode b;
    b.enabled = s.batchMode.enabled;
    b.toolTip = tr("Batch Mode: requests sent upstream as Gemini batch jobs, at the batch tier's price; a job can take hours. "
                   "Gathering: requests collected for the next job; jobs running: submitted and not finished; "
                   "clients waiting: connections or operations still waiting for a job's answer.");
    if (!b.enabled) {
        b.text = tr("off");
        return b;
    }
    const QString jobs = (s.batchMode.jobsSubmitted == 1 ? tr("%1 job") : tr("%1 jobs")).arg(count(s.batchMode.jobsSubmitted));
    const QString requests = (s.batchMode.requestsSubmitted == 1 ? tr("%1 request") : tr("%1 requests"))
                                 .arg(count(s.batchMode.requestsSubmitted));
    b.text = tr("gathering %1 · jobs running %2 · clients waiting %3 · submitted %4, %5")
                 .arg(count(quint64(std::max(s.batchMode.gathering, 0))), count(quint64(std::max(s.batchMode.jobsRunning, 0))),
                      count(quint64(std::max(s.batchMode.waiting, 0))), jobs, requests);
    return b;
}

} // namespace TierCostView
