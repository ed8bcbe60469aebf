#pragma once

#include "core/engine/engineconfig.h"
#include "core/metrics/metricssnapshot.h"
#include "ui/quotaview.h"

#include <QFrame>
#include <QList>
#include <QMap>
#include <QStringList>

#include <array>
#include <optional>

class QGridLayout;
class QLabel;
class QProgressBar;
class QVBoxLayout;

// The console's upstream quota panel (the dashboard's QuotaPanel): what a
// unit of quota buys over the snapshot's last60s window — answers per
// upstream call (large, with its chart placed under it), upstream calls and
// 429s, answers, the coalesced requests under them (answers without a call
// of their own: per second over last10s, and since start), calls by kind
// with the failed attempts under them (every attempt not ok, retries
// included, and their outcomes), pack members answered/repacked/failed, the
// packing knobs in force — and each model's upstream budget now: per
// dimension (RPM, TPM, RPD) used/limit with a meter coloured by level, the
// limit's source (config/learned/probe) and "blocked for N s" while a 429
// holds it. Every text and threshold comes from QuotaView; this class only
// puts them into widgets.
//
// Thread: UI thread.
class QuotaPanel : public QFrame
{
    Q_OBJECT
public:
    explicit QuotaPanel(QWidget *parent = nullptr);

    // What the panel shows, in a line; its owner places it with the panel's
    // name (the console: beside the tabs), the panel has no title of its own.
    static QString subtitle();

    // Places `chart` (the console passes MetricsCharts::chartView(kQuotaChart))
    // under the figures, and shows it. The panel takes it as a child.
    void setChart(QWidget *chart);

    // What is shown, read back from the widgets (tests, scripting).
    QString answersPerCallText() const;
    QString upstreamCallsText() const;
    QString upstream429Text() const;
    // The line of upstream HTTP attempts that did not end ok, every retry
    // counted, with their outcomes: "failed attempts, retries incl. 7 (429 3 · 5xx 4)".
    QString failedAttemptsText() const;
    QString answersText() const;
    // The coalesced requests under the figures: "coalesced 0.5 req/s (10 s) · 1 234 since start".
    QString coalescedText() const;
    QString callsOfKindText(const QString &kind) const; // empty when the kind has no row
    QString packMembersText() const;                    // "answered 12 · repacked 0 · failed 0"
    QString packingText() const;
    QStringList models() const; // the models with gauges, in the snapshot's order
    struct ShownGauge {
        QString text;    // "30 of 120 · 25.0 %", "20 used, no limit"
        QString source;  // the chip's text; empty when hidden (source "none")
        QString blocked; // the badge's text; empty when hidden
        QString level;   // QuotaView::levelName of the meter
        bool meter = false;  // a meter is shown (the dimension has a limit)
        int meterPermille = 0;
    };
    std::optional<ShownGauge> gauge(const QString &model, QuotaView::Dimension dimension) const;

public slots:
    void showSnapshot(const MetricsSnapshot &snapshot);
    void showConfig(const EngineConfig &config);

private:
    struct Stat {
        QLabel *value = nullptr;
        QLabel *caption = nullptr;
    };
    struct GaugeWidgets {
        QLabel *name = nullptr;
        QLabel *text = nullptr;
        QProgressBar *meter = nullptr;
        QLabel *source = nullptr;
        QLabel *blocked = nullptr;
    };
    struct ModelWidgets {
        QWidget *box = nullptr;
        std::array<GaugeWidgets, 3> dimensions;
    };
    struct KindRow {
        QString key;
        QLabel *label = nullptr;
        QProgressBar *bar = nullptr;
        QLabel *value = nullptr;
    };

    Stat addStat(QGridLayout *grid, int row, const QString &caption, const QString &tip);
    void showCallKinds(const QMap<QString, quint64> &byKind);
    void showModels(const QList<ModelQuotaState> &quota);
    void rebuildModels(const QList<ModelQuotaState> &quota);
    static void showGauge(GaugeWidgets &w, const QuotaView::Gauge &g);

    QLabel *m_answersPerCall = nullptr;
    QLabel *m_answersPerCallNote = nullptr;
    Stat m_calls, m_429, m_answers;
    QLabel *m_coalesced = nullptr;
    QLabel *m_failedAttempts = nullptr;
    QVBoxLayout *m_chartSlot = nullptr;
    QGridLayout *m_kindGrid = nullptr;
    QList<KindRow> m_kindRows;
    QLabel *m_packMembers = nullptr;
    QLabel *m_packing = nullptr;
    QLabel *m_noModels = nullptr;
    QVBoxLayout *m_modelList = nullptr;
    QStringList m_modelOrder;
    QMap<QString, ModelWidgets> m_models;
};
