#include "ui/panels/quotapanel.h"

#include "ui/panels/levelmeter.h"
#include "ui/panels/panelparts.h"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QRegularExpression>
#include <QScrollArea>
#include <QVBoxLayout>

#include <algorithm>

using PanelParts::heading;
using PanelParts::muted;
using QuotaView::Level;

namespace {

// A chip (outlined) or a badge (filled), as the dashboard draws sources and blocks.
QLabel *chip(QWidget *parent)
{
    auto *l = new QLabel(parent);
    l->setAlignment(Qt::AlignCenter);
    l->setVisible(false);
    return l;
}

void setChipStyle(QLabel *l, const QString &color, bool filled, bool dashed = false)
{
    const QString style = filled ? QStringLiteral("QLabel { background: %1; color: white; border-radius: 7px; "
                                                  "padding: 0 7px; font-weight: 600; }")
                                       .arg(color)
                                 : QStringLiteral("QLabel { color: %1; border: 1px %2 %1; border-radius: 7px; "
                                                  "padding: 0 6px; font-weight: 600; }")
                                       .arg(color, dashed ? QStringLiteral("dashed") : QStringLiteral("solid"));
    if (l->styleSheet() != style)
        l->setStyleSheet(style);
}

QString sourceColor(const QString &source)
{
    if (source == QLatin1String("learned"))
        return QStringLiteral("#1565c0");
    if (source == QLatin1String("probe"))
        return QuotaView::levelColor(Level::Elevated);
    return QStringLiteral("#616161");
}

} // namespace

QuotaPanel::QuotaPanel(QWidget *parent)
    : QFrame(parent)
{
    QVBoxLayout *outer = PanelParts::frame(this, QStringLiteral("quotaPanel"));

    auto *columns = new QHBoxLayout;
    columns->setSpacing(18);
    outer->addLayout(columns, 1);

    // Efficiency: answers per call (large), the counts behind it beside it
    // (a column, so the budget keeps its width), its chart under them.
    auto *efficiency = new QVBoxLayout;
    efficiency->setSpacing(4);
    auto *figures = new QHBoxLayout;
    figures->setSpacing(24);
    auto *apc = new QVBoxLayout;
    apc->setSpacing(0);
    m_answersPerCall = new QLabel(QStringLiteral("—"), this);
    m_answersPerCall->setObjectName(QStringLiteral("quotaAnswersPerCall"));
    QFont big = m_answersPerCall->font();
    big.setPointSizeF(big.pointSizeF() * 1.9);
    big.setBold(true);
    m_answersPerCall->setFont(big);
    const QString apcTip = tr("Requests answered ok per HTTP call sent upstream over the last 60 s: "
                              "what a unit of quota buys (1 for fanout, the pack factor when packing)");
    m_answersPerCall->setToolTip(apcTip);
    apc->addWidget(m_answersPerCall);
    auto *apcCaption = muted(tr("answers per upstream call"), this);
    apcCaption->setToolTip(apcTip);
    apc->addWidget(apcCaption);
    m_answersPerCallNote = muted(QString(), this);
    QFont small = m_answersPerCallNote->font();
    small.setPointSizeF(small.pointSizeF() * 0.9);
    m_answersPerCallNote->setFont(small);
    apc->addWidget(m_answersPerCallNote);
    figures->addLayout(apc);
    auto *stats = new QGridLayout;
    stats->setHorizontalSpacing(6);
    stats->setVerticalSpacing(0);
    m_calls = addStat(stats, 0, tr("upstream calls"), tr("HTTP calls sent upstream in the last 60 s, every attempt"));
    m_calls.value->setObjectName(QStringLiteral("quotaUpstreamCalls"));
    m_429 = addStat(stats, 1, tr("upstream 429s"), tr("Calls the upstream refused with 429 in the last 60 s"));
    m_429.value->setObjectName(QStringLiteral("quotaUpstream429"));
    m_answers = addStat(stats, 2, tr("answers"), tr("Requests answered ok in the last 60 s"));
    m_answers.value->setObjectName(QStringLiteral("quotaAnswers"));
    figures->addLayout(stats);
    figures->addStretch(1);
    efficiency->addLayout(figures);
    // Answers that cost no upstream call of their own: a line under the
    // figures (beside them it would widen the column the budget needs).
    m_coalesced = new QLabel(this);
    m_coalesced->setObjectName(QStringLiteral("quotaCoalesced"));
    m_coalesced->setTextFormat(Qt::RichText);
    m_coalesced->setToolTip(tr("Requests answered by another identical request's upstream call (in-flight "
                               "coalescing): answers that cost no upstream call of their own, so they raise the "
                               "answers per upstream call. Per second over the last 10 s, and since start."));
    efficiency->addWidget(m_coalesced);
    m_chartSlot = new QVBoxLayout;
    efficiency->addLayout(m_chartSlot, 1);
    columns->addLayout(efficiency, 5);

    // Calls by kind and pack members.
    auto *calls = new QVBoxLayout;
    calls->setSpacing(4);
    calls->addWidget(heading(tr("Upstream calls by kind"), this));
    m_kindGrid = new QGridLayout;
    m_kindGrid->setHorizontalSpacing(8);
    m_kindGrid->setVerticalSpacing(3);
    m_kindGrid->setColumnStretch(1, 1);
    calls->addLayout(m_kindGrid);
    // The same attempts by how they ended: the failed ones, retries included
    // (a line, not a figure beside the 429s, so the panel keeps its height).
    m_failedAttempts = new QLabel(this);
    m_failedAttempts->setObjectName(QStringLiteral("quotaFailedAttempts"));
    m_failedAttempts->setTextFormat(Qt::RichText);
    m_failedAttempts->setWordWrap(true);
    calls->addWidget(m_failedAttempts);
    calls->addSpacing(6);
    calls->addWidget(heading(tr("Pack members"), this));
    m_packMembers = new QLabel(this);
    m_packMembers->setObjectName(QStringLiteral("quotaPackMembers"));
    m_packMembers->setToolTip(tr("Members of pack calls in the last 60 s: answered from a pack's answer, asked "
                                 "again (missing from it), or failed after the last repack"));
    calls->addWidget(m_packMembers);
    m_packing = muted(QString(), this);
    m_packing->setObjectName(QStringLiteral("quotaPacking"));
    m_packing->setWordWrap(true);
    m_packing->setFont(small);
    calls->addWidget(m_packing);
    calls->addStretch(1);
    columns->addLayout(calls, 3);

    // The budget per model.
    auto *budget = new QVBoxLayout;
    budget->setSpacing(4);
    budget->addWidget(heading(tr("Budget per model"), this));
    auto *list = new QWidget;
    m_modelList = new QVBoxLayout(list);
    m_modelList->setContentsMargins(0, 0, 0, 0);
    m_modelList->setSpacing(6);
    m_noModels = muted(tr("No model has been called yet."), list);
    m_noModels->setObjectName(QStringLiteral("quotaNoModels"));
    m_modelList->addWidget(m_noModels);
    m_modelList->addStretch(1);
    auto *scroll = new QScrollArea(this);
    scroll->setWidget(list);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    budget->addWidget(scroll, 1);
    columns->addLayout(budget, 5);

    showCallKinds({});
    showConfig(EngineConfig());
    showSnapshot(MetricsSnapshot());
}

QString QuotaPanel::subtitle()
{
    return tr("what a unit of quota buys, last 60 s; budget per model, now");
}

QuotaPanel::Stat QuotaPanel::addStat(QGridLayout *grid, int row, const QString &caption, const QString &tip)
{
    Stat s;
    s.value = new QLabel(QStringLiteral("—"), this);
    QFont f = s.value->font();
    f.setPointSizeF(f.pointSizeF() * 1.25);
    f.setBold(true);
    s.value->setFont(f);
    s.value->setToolTip(tip);
    s.caption = muted(caption, this);
    s.caption->setToolTip(tip);
    grid->addWidget(s.value, row, 0, Qt::AlignRight | Qt::AlignVCenter);
    grid->addWidget(s.caption, row, 1, Qt::AlignLeft | Qt::AlignVCenter);
    return s;
}

void QuotaPanel::setChart(QWidget *chart)
{
    m_chartSlot->addWidget(chart, 1);
    chart->show();
}

void QuotaPanel::showSnapshot(const MetricsSnapshot &s)
{
    const WindowStats &w = s.last60s;
    const std::optional<double> apc = QuotaView::answersPerCall(w);
    m_answersPerCall->setText(QuotaView::formatFactor(apc));
    m_answersPerCallNote->setText(apc ? tr("the pack factor: ok answers / upstream calls")
                                      : tr("no upstream calls in the last 60 s"));
    m_calls.value->setText(QuotaView::formatCount(double(w.upstreamCalls)));
    m_429.value->setText(QuotaView::formatCount(double(w.upstream429)));
    const QString red = w.upstream429 > 0 ? QStringLiteral("color: %1;").arg(QuotaView::levelColor(Level::Refusing))
                                          : QString();
    if (m_429.value->styleSheet() != red)
        m_429.value->setStyleSheet(red);
    // Every HTTP attempt that did not end ok, each retry counted: the
    // upstream's count of failed calls, not the requests that failed.
    const QString attempts = QuotaView::formatCount(double(w.upstreamAttemptsFailed));
    const QString outcomes = QuotaView::failedAttemptOutcomes(w.upstreamAttemptsByOutcome);
    const QString count = w.upstreamAttemptsFailed > 0
                              ? QStringLiteral("<b style=\"color:%1\">%2</b>").arg(QuotaView::levelColor(Level::Refusing), attempts)
                              : QStringLiteral("<b>%1</b>").arg(attempts);
    const QString line = outcomes.isEmpty()
                             ? tr("failed attempts, retries incl. %1").arg(count)
                             : tr("failed attempts, retries incl. %1 <span style=\"color: palette(mid)\">(%2)</span>")
                                   .arg(count, outcomes.toHtmlEscaped());
    if (m_failedAttempts->text() != line)
        m_failedAttempts->setText(line);
    m_failedAttempts->setToolTip(
        tr("HTTP attempts sent upstream in the last 60 s that did not end ok (429, other 4xx, 5xx, timeout, "
           "connection error, cancelled), each attempt counted, retries included: what the upstream counts as "
           "failed calls, so it can exceed the requests that failed.")
        + QLatin1Char('\n')
        + (outcomes.isEmpty() ? tr("None failed.") : tr("By outcome: %1").arg(outcomes)));
    m_answers.value->setText(QuotaView::formatCount(double(w.ok)));
    const QString coalesced =
        tr("coalesced <b>%1</b> (10 s) <span style=\"color: palette(mid)\">· %2 since start</span>")
            .arg(QuotaView::formatRate(QuotaView::coalescedPerSecond(s.last10s), tr("req")),
                 QuotaView::formatCount(double(s.total.coalesced)));
    if (m_coalesced->text() != coalesced)
        m_coalesced->setText(coalesced);
    const QString failed = QuotaView::formatCount(double(w.packFailed));
    m_packMembers->setText(tr("answered <b>%1</b> · repacked <b>%2</b> · failed %3")
                               .arg(QuotaView::formatCount(double(w.packAnswered)),
                                    QuotaView::formatCount(double(w.packRepacked)),
                                    w.packFailed > 0 ? QStringLiteral("<b style=\"color:%1\">%2</b>")
                                                           .arg(QuotaView::levelColor(Level::Refusing), failed)
                                                     : QStringLiteral("<b>%1</b>").arg(failed)));
    showCallKinds(w.upstreamCallsByKind);
    showModels(s.quota);
}

void QuotaPanel::showConfig(const EngineConfig &config)
{
    m_packing->setText(QuotaView::packingNote(config));
}

void QuotaPanel::showCallKinds(const QMap<QString, quint64> &byKind)
{
    const QList<QuotaView::CallKindRow> rows = QuotaView::callKindRows(byKind);
    bool same = rows.size() == m_kindRows.size();
    for (qsizetype i = 0; same && i < rows.size(); ++i)
        same = rows[i].key == m_kindRows[i].key;
    if (!same) {
        for (const KindRow &r : std::as_const(m_kindRows)) {
            delete r.label;
            delete r.bar;
            delete r.value;
        }
        m_kindRows.clear();
        for (qsizetype i = 0; i < rows.size(); ++i) {
            KindRow r;
            r.key = rows[i].key;
            r.label = new QLabel(rows[i].label, this);
            r.bar = LevelMeter::create(this, 8);
            LevelMeter::setColor(r.bar, QStringLiteral("#1565c0"));
            r.value = new QLabel(this);
            r.value->setObjectName(QStringLiteral("quotaCalls_") + r.key);
            r.value->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
            r.value->setMinimumWidth(r.value->fontMetrics().horizontalAdvance(QStringLiteral("00000")));
            m_kindGrid->addWidget(r.label, int(i), 0);
            m_kindGrid->addWidget(r.bar, int(i), 1);
            m_kindGrid->addWidget(r.value, int(i), 2);
            m_kindRows.append(r);
        }
    }
    quint64 top = 1;
    for (const auto &r : rows)
        top = std::max(top, r.calls);
    for (qsizetype i = 0; i < rows.size(); ++i) {
        KindRow &r = m_kindRows[i];
        r.value->setText(QuotaView::formatCount(double(rows[i].calls)));
        r.bar->setValue(int(double(rows[i].calls) / double(top) * LevelMeter::kScale));
    }
}

void QuotaPanel::showModels(const QList<ModelQuotaState> &quota)
{
    QStringList order;
    for (const ModelQuotaState &m : quota)
        order << m.model;
    if (order != m_modelOrder)
        rebuildModels(quota);
    for (const ModelQuotaState &m : quota) {
        ModelWidgets &mw = m_models[m.model];
        for (QuotaView::Dimension d : QuotaView::kDimensions)
            showGauge(mw.dimensions[size_t(d)], QuotaView::gauge(QuotaView::dimensionOf(m, d)));
    }
}

void QuotaPanel::rebuildModels(const QList<ModelQuotaState> &quota)
{
    for (const ModelWidgets &mw : std::as_const(m_models))
        delete mw.box;
    m_models.clear();
    m_modelOrder.clear();
    QWidget *list = m_noModels->parentWidget();
    for (const ModelQuotaState &m : quota) {
        ModelWidgets mw;
        mw.box = new QWidget(list);
        mw.box->setObjectName(QStringLiteral("quotaModel_") + m.model);
        auto *grid = new QGridLayout(mw.box);
        grid->setContentsMargins(0, 0, 0, 0);
        grid->setHorizontalSpacing(8);
        grid->setVerticalSpacing(2);
        grid->addWidget(heading(m.model, mw.box), 0, 0, 1, 5);
        // Two rows per dimension, the dashboard's cell: the figures and the
        // chips, then the meter under them, so a blocked dimension's badge
        // still fits the column.
        for (QuotaView::Dimension d : QuotaView::kDimensions) {
            const int row = 1 + 2 * int(d);
            const QuotaView::DimensionInfo info = QuotaView::dimensionInfo(d);
            GaugeWidgets &g = mw.dimensions[size_t(d)];
            g.name = new QLabel(info.name, mw.box);
            g.name->setToolTip(tr("%1 (%2): %3").arg(info.name, info.unit, info.meaning));
            g.text = new QLabel(mw.box);
            g.text->setToolTip(g.name->toolTip());
            g.meter = LevelMeter::create(mw.box, 7);
            g.source = chip(mw.box);
            g.blocked = chip(mw.box);
            setChipStyle(g.blocked, QuotaView::levelColor(Level::Refusing), true);
            grid->addWidget(g.name, row, 0);
            grid->addWidget(g.text, row, 1);
            grid->addWidget(g.source, row, 3);
            grid->addWidget(g.blocked, row, 4);
            grid->addWidget(g.meter, row + 1, 1, 1, 4);
        }
        grid->setColumnStretch(2, 1);
        m_modelList->insertWidget(m_modelList->count() - 1, mw.box);
        m_models.insert(m.model, mw);
        m_modelOrder << m.model;
    }
    m_noModels->setVisible(quota.isEmpty());
}

void QuotaPanel::showGauge(GaugeWidgets &w, const QuotaView::Gauge &g)
{
    w.text->setText(g.text());
    w.meter->setVisible(g.limited);
    w.meter->setValue(int(std::clamp(g.ratio, 0.0, 1.0) * LevelMeter::kScale));
    w.meter->setProperty("level", QuotaView::levelName(g.level));
    LevelMeter::setColor(w.meter, QuotaView::levelColor(g.level));
    const bool showSource = g.source != QLatin1String("none");
    w.source->setVisible(showSource);
    if (showSource) {
        w.source->setText(g.source);
        w.source->setToolTip(g.sourceTitle);
        setChipStyle(w.source, sourceColor(g.source), false, g.source == QLatin1String("probe"));
    }
    w.blocked->setVisible(!g.blocked.isEmpty());
    w.blocked->setText(g.blocked);
}

QString QuotaPanel::answersPerCallText() const
{
    return m_answersPerCall->text();
}

QString QuotaPanel::upstreamCallsText() const
{
    return m_calls.value->text();
}

QString QuotaPanel::upstream429Text() const
{
    return m_429.value->text();
}

QString QuotaPanel::failedAttemptsText() const
{
    static const QRegularExpression tags(QStringLiteral("<[^>]*>"));
    return QString(m_failedAttempts->text()).remove(tags);
}

QString QuotaPanel::coalescedText() const
{
    static const QRegularExpression tags(QStringLiteral("<[^>]*>"));
    return QString(m_coalesced->text()).remove(tags);
}

QString QuotaPanel::answersText() const
{
    return m_answers.value->text();
}

QString QuotaPanel::callsOfKindText(const QString &kind) const
{
    for (const KindRow &r : m_kindRows)
        if (r.key == kind)
            return r.value->text();
    return {};
}

QString QuotaPanel::packMembersText() const
{
    QString t = m_packMembers->text();
    static const QRegularExpression tags(QStringLiteral("<[^>]*>"));
    return t.remove(tags);
}

QString QuotaPanel::packingText() const
{
    return m_packing->text();
}

QStringList QuotaPanel::models() const
{
    return m_modelOrder;
}

std::optional<QuotaPanel::ShownGauge> QuotaPanel::gauge(const QString &model, QuotaView::Dimension dimension) const
{
    const auto it = m_models.find(model);
    if (it == m_models.end())
        return std::nullopt;
    const GaugeWidgets &w = it->dimensions[size_t(dimension)];
    ShownGauge g;
    g.text = w.text->text();
    g.source = w.source->isHidden() ? QString() : w.source->text();
    g.blocked = w.blocked->isHidden() ? QString() : w.blocked->text();
    g.level = w.meter->property("level").toString();
    g.meter = !w.meter->isHidden();
    g.meterPermille = w.meter->value();
    return g;
}
