#include "ui/panels/enginecontrolpanel.h"

#include "core/engine/batchinferenceengine.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QJsonObject>
#include <QLabel>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QVBoxLayout>

#include <limits>

namespace {

// The knob's line from EngineConfig::describeKnobs() (default, range,
// meaning), so tooltips never restate ranges the config already owns.
QString knobHelp(const QString &field)
{
    static const QStringList lines = EngineConfig::describeKnobs().split(QLatin1Char('\n'));
    for (const QString &line : lines) {
        const QString t = line.trimmed();
        if (t.startsWith(field + QLatin1Char(' ')))
            return field + QStringLiteral(": ") + t.mid(field.size()).trimmed();
    }
    return field;
}

} // namespace

EngineControlPanel::EngineControlPanel(BatchInferenceEngine *engine, QWidget *parent)
    : QWidget(parent)
    , m_engine(engine)
{
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->setSpacing(10);

    const auto makeGroup = [&](const QString &title) {
        auto *box = new QGroupBox(title, this);
        auto *form = new QFormLayout(box);
        form->setLabelAlignment(Qt::AlignRight | Qt::AlignVCenter);
        form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
        form->setHorizontalSpacing(10);
        form->setVerticalSpacing(6);
        outer->addWidget(box);
        return form;
    };

    QFormLayout *batching = makeGroup(tr("Batching"));
    addSpin(batching, QStringLiteral("maxBatchSize"), tr("Max batch size"), tr(" requests"));
    addSpin(batching, QStringLiteral("maxWaitMs"), tr("Max wait"), tr(" ms"));
    m_packing = new QComboBox(this);
    m_packing->addItem(tr("auto: packs near the quota"), QStringLiteral("auto"));
    m_packing->addItem(tr("pack: one JSON-mode call"), QStringLiteral("pack"));
    m_packing->addItem(tr("fanout: one call per request"), QStringLiteral("fanout"));
    m_packing->setToolTip(knobHelp(QStringLiteral("packing")));
    batching->addRow(tr("Packing"), m_packing);
    addErrorRow(batching, QStringLiteral("packing"));
    connect(m_packing, &QComboBox::activated, this, [this] {
        updateEnabled();
        apply(QStringLiteral("packing"), m_packing->currentData().toString());
    });
    addSpin(batching, QStringLiteral("maxPackSize"), tr("Max pack size"), tr(" requests"));
    m_adaptive = new QCheckBox(tr("early dispatch toward a p95 target"), this);
    m_adaptive->setToolTip(knobHelp(QStringLiteral("adaptive")));
    batching->addRow(tr("Adaptive"), m_adaptive);
    addErrorRow(batching, QStringLiteral("adaptive"));
    connect(m_adaptive, &QCheckBox::toggled, this, [this](bool on) {
        updateEnabled();
        apply(QStringLiteral("adaptive"), on);
    });
    addSpin(batching, QStringLiteral("targetP95Ms"), tr("Target p95"), tr(" ms"));

    QFormLayout *admission = makeGroup(tr("Admission"));
    addSpin(admission, QStringLiteral("maxQueue"), tr("Max queue"), tr(" requests"));
    m_spins.value(QStringLiteral("maxQueue"))->setToolTip(
        tr("The backpressure limit: beyond it new requests get 429 RESOURCE_EXHAUSTED.\n")
        + knobHelp(QStringLiteral("maxQueue")));
    addSpin(admission, QStringLiteral("requestTimeoutMs"), tr("Request timeout"), tr(" ms"));

    QFormLayout *upstream = makeGroup(tr("Upstream"));
    addSpin(upstream, QStringLiteral("maxInflightBatches"), tr("Max in-flight"), tr(" batches"));
    // 0 is "not configured": the budget then learns the limit from the
    // upstream's 429s (or probes it), so "unlimited" would be wrong.
    addSpin(upstream, QStringLiteral("rpmLimit"), tr("RPM limit"), tr(" calls/min"), tr("not configured"));
    addSpin(upstream, QStringLiteral("tpmLimit"), tr("TPM limit"), tr(" tokens/min"), tr("not configured"));
    addSpin(upstream, QStringLiteral("rpdLimit"), tr("RPD limit"), tr(" calls/day"), tr("not configured"));
    addSpin(upstream, QStringLiteral("quotaProbeRpm"), tr("Probe RPM"), tr(" calls/min"), tr("off (unlimited)"));

    if (m_engine) {
        showConfig(m_engine->config());
        // Emitted by the caller of setConfig(): directly for our own edits (the
        // controls already show the value; showConfig is idempotent and blocks
        // signals, so nothing echoes back), queued for PATCH on the server thread.
        connect(m_engine, &BatchInferenceEngine::configChanged, this, &EngineControlPanel::showConfig);
    }
}

QStringList EngineControlPanel::fieldNames()
{
    return {QStringLiteral("maxBatchSize"), QStringLiteral("maxWaitMs"), QStringLiteral("packing"),
            QStringLiteral("maxPackSize"), QStringLiteral("adaptive"), QStringLiteral("targetP95Ms"),
            QStringLiteral("maxQueue"), QStringLiteral("requestTimeoutMs"), QStringLiteral("maxInflightBatches"),
            QStringLiteral("rpmLimit"), QStringLiteral("tpmLimit"), QStringLiteral("rpdLimit"),
            QStringLiteral("quotaProbeRpm")};
}

void EngineControlPanel::addSpin(QFormLayout *form, const QString &field, const QString &label,
                                 const QString &suffix, const QString &specialZero)
{
    auto *spin = new QSpinBox(this);
    spin->setObjectName(field);
    spin->setRange(0, std::numeric_limits<int>::max());
    spin->setSuffix(suffix);
    spin->setKeyboardTracking(false); // apply on Enter, focus-out or a step, not per keystroke
    spin->setAccelerated(true);
    spin->setGroupSeparatorShown(true);
    spin->setAlignment(Qt::AlignRight);
    // The full int range would make the spin box as wide as "2,147,483,647"; the
    // real ranges are EngineConfig's.
    spin->setMinimumWidth(130);
    if (!specialZero.isEmpty())
        spin->setSpecialValueText(specialZero);
    spin->setToolTip(knobHelp(field));
    form->addRow(label, spin);
    m_spins.insert(field, spin);
    addErrorRow(form, field);
    connect(spin, &QSpinBox::valueChanged, this, [this, field](int v) { apply(field, v); });
}

void EngineControlPanel::addErrorRow(QFormLayout *form, const QString &field)
{
    auto *err = new QLabel(this);
    err->setObjectName(field + QStringLiteral("Error"));
    err->setWordWrap(true);
    err->setStyleSheet(QStringLiteral("color: #b3261e;"));
    err->setVisible(false);
    form->addRow(QString(), err);
    m_errors.insert(field, err);
}

QWidget *EngineControlPanel::editor(const QString &field) const
{
    if (field == QLatin1String("packing"))
        return m_packing;
    if (field == QLatin1String("adaptive"))
        return m_adaptive;
    return m_spins.value(field);
}

QString EngineControlPanel::errorText(const QString &field) const
{
    const QLabel *l = m_errors.value(field);
    return l && !l->isHidden() ? l->text() : QString();
}

void EngineControlPanel::showConfig(const EngineConfig &c)
{
    const QHash<QString, int> values{
        {QStringLiteral("maxBatchSize"), c.maxBatchSize},   {QStringLiteral("maxWaitMs"), c.maxWaitMs},
        {QStringLiteral("targetP95Ms"), c.targetP95Ms},     {QStringLiteral("maxQueue"), c.maxQueue},
        {QStringLiteral("requestTimeoutMs"), c.requestTimeoutMs},
        {QStringLiteral("maxInflightBatches"), c.maxInflightBatches},
        {QStringLiteral("rpmLimit"), c.rpmLimit},           {QStringLiteral("tpmLimit"), c.tpmLimit},
        {QStringLiteral("rpdLimit"), c.rpdLimit},           {QStringLiteral("quotaProbeRpm"), c.quotaProbeRpm},
        {QStringLiteral("maxPackSize"), c.maxPackSize}};
    for (auto it = values.begin(); it != values.end(); ++it) {
        QSpinBox *spin = m_spins.value(it.key());
        const QSignalBlocker block(spin);
        spin->setValue(it.value());
    }
    {
        const QSignalBlocker block(m_packing);
        m_packing->setCurrentIndex(m_packing->findData(packingModeName(c.packing)));
    }
    {
        const QSignalBlocker block(m_adaptive);
        m_adaptive->setChecked(c.adaptive);
    }
    for (QLabel *l : std::as_const(m_errors))
        l->setVisible(false);
    updateEnabled();
}

void EngineControlPanel::apply(const QString &field, const QJsonValue &value)
{
    if (!m_engine)
        return;
    EngineConfig next;
    ConfigError err = EngineConfig::fromJson(QJsonObject{{field, value}}, m_engine->config(), &next);
    if (err.isNull())
        err = m_engine->setConfig(next);
    if (!err.isNull()) {
        // The reason names the offending field; show it under the control edited.
        setError(field, err.toString());
        emit configRefused(err);
        return;
    }
    setError(field, QString());
    emit configApplied(next);
}

void EngineControlPanel::setError(const QString &field, const QString &message)
{
    if (QLabel *l = m_errors.value(field)) {
        l->setText(message);
        l->setVisible(!message.isEmpty());
    }
}

void EngineControlPanel::updateEnabled()
{
    if (QSpinBox *s = m_spins.value(QStringLiteral("targetP95Ms")))
        s->setEnabled(m_adaptive->isChecked());
    // Fanout never packs.
    if (QSpinBox *s = m_spins.value(QStringLiteral("maxPackSize")))
        s->setEnabled(m_packing->currentData().toString() != QLatin1String("fanout"));
}
