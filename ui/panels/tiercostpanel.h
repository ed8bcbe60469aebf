#pragma once

#include "core/metrics/metricssnapshot.h"

#include <QFrame>
#include <QList>
#include <QStringList>

class FigureTable;
class QLabel;

// The console's tiers and cost panel: per upstream service tier (standard,
// flex, priority, batch) the requests answered OK through it, flex's shed
// answers, prompt and output tokens and their cost in USD, since start;
// beside it the total cost (large), what the same answers would have cost
// all on the standard tier, the saving (USD and %; green when positive, red
// when the tiers cost more), and the Batch Mode line (gathering, jobs
// running, clients waiting, jobs/requests submitted; "off" when it is not
// enabled). Every text comes from TierCostView; this class only puts them
// into widgets.
//
// Thread: UI thread.
class TierCostPanel : public QFrame
{
    Q_OBJECT
public:
    explicit TierCostPanel(QWidget *parent = nullptr);

    // What the panel shows, in a line, for its owner to place with its name (as QuotaPanel::subtitle).
    static QString subtitle();

    // What is shown (tests, scripting): per row tier, requests, shed, prompt
    // tokens, output tokens, cost.
    QList<QStringList> rows() const;
    QString highlightAt(int row, int column) const;
    QString costText() const;      // "$1.23"
    QString standardText() const;  // "all standard $2.00"
    QString savingText() const;    // "saving $0.77 (38.5 %)"
    QString savingColor() const;   // the saving's colour, empty when plain
    QString batchModeText() const; // "Batch Mode: off", "Batch Mode: gathering 3 · …"

public slots:
    void showSnapshot(const MetricsSnapshot &snapshot);

private:
    FigureTable *m_table = nullptr;
    QLabel *m_cost = nullptr;
    QLabel *m_standard = nullptr;
    QLabel *m_saving = nullptr;
    QLabel *m_batchMode = nullptr;
};
