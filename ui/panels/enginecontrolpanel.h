#pragma once

#include "core/engine/engineconfig.h"

#include <QHash>
#include <QWidget>

class BatchInferenceEngine;
class QCheckBox;
class QComboBox;
class QLabel;
class QSpinBox;

// The live engine knobs (DESIGN.md §8): max batch size, max wait, max queue
// (the backpressure limit), max in-flight batches, packing (auto, pack,
// fanout) and the max pack size, adaptive mode and its p95 target, request
// timeout, the upstream budget's RPM/TPM/RPD limits (0: not configured, so
// learned from 429s) and the probe RPM for an unknown quota. Each control's
// tooltip is the knob's line of EngineConfig::describeKnobs().
//
// Every edit goes through the validated path: the one changed field is
// applied as a JSON patch with EngineConfig::fromJson on top of the engine's
// current config, then BatchInferenceEngine::setConfig. A refused value
// changes nothing in the engine and its reason ("maxQueue: must be an integer
// from 1 to 1000000") is shown under the control. The spin boxes deliberately
// accept any non-negative integer: the ranges live in one place, EngineConfig.
//
// Changes made elsewhere (PATCH /api/v1/config) arrive through the engine's
// configChanged() and are shown without being applied back.
//
// Thread: UI thread. Calls only the engine's thread-safe config()/setConfig().
class EngineControlPanel : public QWidget
{
    Q_OBJECT
public:
    explicit EngineControlPanel(BatchInferenceEngine *engine, QWidget *parent = nullptr);

    // JSON field names of the controls ("maxBatchSize", "packing", "adaptive", ...).
    static QStringList fieldNames();
    // The editor of a field (QSpinBox, QComboBox or QCheckBox), for tests.
    QWidget *editor(const QString &field) const;
    // The reason shown next to a field, empty when none.
    QString errorText(const QString &field) const;

public slots:
    // Shows `config` in the controls without applying anything, and clears
    // every shown error (the controls now show the config in force).
    void showConfig(const EngineConfig &config);

signals:
    void configApplied(const EngineConfig &config);
    void configRefused(const ConfigError &error);

private:
    void addSpin(class QFormLayout *form, const QString &field, const QString &label, const QString &suffix,
                 const QString &specialZero = {});
    void addErrorRow(class QFormLayout *form, const QString &field);
    void apply(const QString &field, const QJsonValue &value);
    void setError(const QString &field, const QString &message);
    void updateEnabled();

    BatchInferenceEngine *m_engine;
    QHash<QString, QSpinBox *> m_spins;
    QHash<QString, QLabel *> m_errors;
    QComboBox *m_packing = nullptr;
    QCheckBox *m_adaptive = nullptr;
};
