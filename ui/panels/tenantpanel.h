#pragma once

#include "core/metrics/metricssnapshot.h"

#include <QFrame>
#include <QList>
#include <QStringList>

class FigureTable;
class QLabel;

// The console's tenants panel: the most active tenants (at most 20, as the
// snapshot lists them, most active first) in a table of id (an API key's
// digest or the X-Sluice-Tenant name, shown as given), weight, queued and in
// flight now, completed and rejected since start (rejections in amber).
// Without a tenant the table is empty and a note says so. Every text comes
// from TenantView.
//
// Thread: UI thread.
class TenantPanel : public QFrame
{
    Q_OBJECT
public:
    explicit TenantPanel(QWidget *parent = nullptr);

    // What the panel shows, in a line, for its owner to place with its name (as QuotaPanel::subtitle).
    static QString subtitle();

    // What is shown (tests, scripting): per row id, weight, queued, in flight, completed, rejected.
    QList<QStringList> rows() const;
    QString highlightAt(int row, int column) const;
    QString summaryText() const;

public slots:
    void showSnapshot(const MetricsSnapshot &snapshot);

private:
    FigureTable *m_table = nullptr;
    QLabel *m_summary = nullptr;
};
