#pragma once

#include "core/engine/engineconfig.h"
#include "core/metrics/metricssnapshot.h"
#include "ui/consoledeps.h"
#include "ui/consolesettings.h"

#include <QElapsedTimer>
#include <QMainWindow>

#include <memory>

class EngineControlPanel;
class FlowLayout;
class LoadTestPanel;
class MetricsCharts;
class PriorityClassPanel;
class QuotaPanel;
class QTabWidget;
class TenantPanel;
class TierCostPanel;
class QAction;
class QLabel;
class QProgressBar;
class QProgressDialog;
class QSplitter;
class QTimer;

// The Sluice console (DESIGN.md §1 ui/): live engine knobs, native charts of
// MetricsSnapshot values, headline figures over them (requests/s, p99; the
// time to first token of streams: p95, with p50 and p99 beside it, "—"
// without a stream; queue, batches in flight, failures, rejections; the
// memory budget: what admitted work holds against
// `server.memoryBudgetBytes`, with a meter and the refusals since start, "no
// budget" when its limit is 0; the answer cache: its hit ratio over 60 s and
// since start, the lookups, what it holds (bytes of its limit, entries),
// "off" when it is disabled), the
// tabs under the charts: the upstream quota panel (QuotaPanel: answers per
// upstream call, failed attempts, calls by kind, the budget per model), the
// priority classes (PriorityClassPanel, with its queue-depth chart), tiers
// and cost with Batch Mode (TierCostPanel), and the tenants (TenantPanel); the
// status bar (listening and dashboard URLs, upstream, backpressure, drift,
// uptime), the upstream settings dialog, and the load-test panel (fixed
// steps, or "Find knee": the knee search of `sluice --capture-baseline`)
// with the baseline export.
//
// Closing drains the gateway: the first close emits closeRequested(), calls
// engine->drain() and, while requests are queued or in flight, shows a
// progress dialog with the remaining counts and keeps the window open until
// the engine's drained() arrives ("Close now" gives up waiting). With nothing
// outstanding it closes at once. The window never stops the engine; app/ does
// that after the window has closed.
//
// Thread: UI thread. Uses only the engine's thread-safe config(), setConfig(),
// gauges(), counters() and drain(); never does server, engine or upstream work.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    MainWindow(const ConsoleDeps &deps, const ConsoleInfo &info, QWidget *parent = nullptr);
    ~MainWindow() override;

    ConsoleInfo consoleInfo() const { return m_info; }
    ConsoleSettings &settings() { return *m_settings; }

    EngineControlPanel *controls() const { return m_controls; }
    MetricsCharts *charts() const { return m_charts; }
    QuotaPanel *quotaPanel() const { return m_quota; }
    PriorityClassPanel *priorityClassPanel() const { return m_classes; }
    TierCostPanel *tierCostPanel() const { return m_tiers; }
    TenantPanel *tenantPanel() const { return m_tenants; }
    QTabWidget *detailTabs() const { return m_detailTabs; } // quota, classes, tiers & cost, tenants
    LoadTestPanel *loadTestPanel() const { return m_loadTest; }
    QAction *pauseAction() const { return m_pauseAction; }
    QAction *openDashboardAction() const { return m_openDashboardAction; }
    QAction *exportBaselineAction() const { return m_exportBaselineAction; }
    QAction *importBaselineAction() const { return m_importBaselineAction; }
    // File → Export/Import without the file dialogs (tests, scripting).
    bool exportBaselineTo(const QString &path, QString *error) { return exportBaseline(path, error); }
    QAction *upstreamSettingsAction() const { return m_upstreamSettingsAction; }
    QAction *quitAction() const { return m_quitAction; }
    // Status bar texts, for tests and the screenshot.
    QString backpressureText() const;
    QString driftText() const;
    QString upstreamText() const;
    QString uptimeText() const;
    // The memory budget tile (MemoryBudgetView), as shown.
    struct ShownMemoryBudget {
        QString used;        // the figure: "312 MiB"
        QString caption;     // "memory budget 1 024 MiB", "memory held, no budget"
        QString refusals;    // "3 refused"; empty when hidden (no budget, none refused)
        bool refusalsHighlighted = false; // in the refusing colour
        QString toolTip;
        bool meter = false;  // a meter is shown (there is a budget)
        int meterPermille = 0;
        QString level;       // QuotaView::levelName of the meter
    };
    ShownMemoryBudget memoryBudget() const;
    // The time-to-first-token tile (LatencyView::firstToken of last10s), as shown.
    struct ShownFirstToken {
        QString p95;         // the figure: "420 ms", "—" without a stream
        QString others;      // beside it: "p50 120 ms\np99 900 ms"; empty without a stream
        QString caption;     // "first token p95 (10 s) · 12 streams", "… · no stream"
        QString toolTip;
    };
    ShownFirstToken firstToken() const;
    // The answer cache tile (AnswerCacheView), as shown.
    struct ShownAnswerCache {
        QString hitRatio;    // the figure: "62.5 %", "—" without a lookup in 60 s, "off"
        QString size;        // beside it: "holds 12 MiB of 64 MiB · 1 234 entries"; empty when off
        QString caption;     // "cache hit ratio (60 s) · 58.1 % since start", "answer cache" when off
        QString lookups;     // "hits 30 · misses 10 · bypassed 8"; empty (hidden) when off
        QString toolTip;
    };
    ShownAnswerCache answerCache() const;
    // Rows the headline figures take (2 at the default width, more when narrow).
    int summaryRows() const;
    bool isDraining() const { return m_draining; }
    QProgressDialog *drainDialog() const { return m_drainDialog; }


public slots:
    // E.g. once the server has bound its port.
    void setConsoleInfo(const ConsoleInfo &info);
    // Connected to the collector's snapshotReady; callable directly.
    void showSnapshot(const MetricsSnapshot &snapshot);
    // Enables File → Export baseline… once PerformanceBaseline exists.
    void setBaselineExportAvailable(bool available);
    // Drift state from LatencyDriftSignal ("ok"/"warn"/"drift") and its score;
    // until that feature lands the status bar shows "no baseline".
    void setDriftState(const QString &state, double score);
    void openDashboard();
    void showUpstreamSettings();

signals:
    // The user closed the window: the engine is draining (the server should
    // stop accepting work too). The window closes when drained.
    void closeRequested();
    // The upstream choice was saved (the key, if any, is in ConsoleSettings);
    // it applies at the next start.
    void upstreamSettingsChanged(const UpstreamChoice &choice);
    // File → Export baseline… chose `path`; app/ writes the PerformanceBaseline there.
    void exportBaselineRequested(const QString &path); // after the file was written

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildActions();
    void buildStatusBar();
    QWidget *buildSummary();
    void showMemoryBudget(const MetricsSnapshot &snapshot);
    void showFirstToken(const MetricsSnapshot &snapshot);
    void showAnswerCache(const MetricsSnapshot &snapshot);
    void updateStatusBar();
    void updateUptime();
    void updateDrainProgress();
    void finishClose();
    void saveSettings();
    void onConfigChanged(const EngineConfig &config);
    void startLoadTest(int usersPerStep, int stepSeconds, int steps);
    void findKnee(int maxSeconds);
    QJsonObject loadTestEnvironment() const;
    bool exportBaseline(const QString &path, QString *error);
    void importBaseline();

    BatchInferenceEngine *m_engine;
    InferenceMetricsCollector *m_metrics;
    LoadTestController *m_loadTests;
    DriftMonitor *m_drift;
    ConsoleInfo m_info;
    std::unique_ptr<ConsoleSettings> m_settings;

    EngineControlPanel *m_controls = nullptr;
    MetricsCharts *m_charts = nullptr;
    QuotaPanel *m_quota = nullptr;
    PriorityClassPanel *m_classes = nullptr;
    TierCostPanel *m_tiers = nullptr;
    TenantPanel *m_tenants = nullptr;
    QTabWidget *m_detailTabs = nullptr;   // the panels under the charts
    LoadTestPanel *m_loadTest = nullptr;
    QSplitter *m_splitter = nullptr;      // knobs | charts
    QSplitter *m_rightSplitter = nullptr; // charts over the detail tabs

    QAction *m_pauseAction = nullptr;
    QAction *m_resetZoomAction = nullptr;
    QAction *m_openDashboardAction = nullptr;
    QAction *m_exportBaselineAction = nullptr;
    QAction *m_importBaselineAction = nullptr;
    QAction *m_upstreamSettingsAction = nullptr;
    QAction *m_quitAction = nullptr;

    QLabel *m_listenLabel = nullptr;
    QLabel *m_dashboardLabel = nullptr;
    QLabel *m_upstreamLabel = nullptr;
    QLabel *m_backpressureLabel = nullptr;
    QLabel *m_driftLabel = nullptr;
    QLabel *m_uptimeLabel = nullptr;

    struct Tile {
        QLabel *value = nullptr;
        QLabel *caption = nullptr;
    };
    Tile m_tileRps, m_tileP99, m_tileFirstToken, m_tileQueue, m_tileInflight, m_tileErrors, m_tileRejected,
        m_tileMemory, m_tileCache;
    QLabel *m_firstTokenOthers = nullptr;
    QProgressBar *m_memoryMeter = nullptr;
    QLabel *m_memoryRefusals = nullptr;
    QLabel *m_cacheSize = nullptr;
    QLabel *m_cacheLookups = nullptr;
    FlowLayout *m_summaryLayout = nullptr; // the headline figures' tiles

    QTimer *m_statusTimer = nullptr;
    QElapsedTimer m_started;
    double m_uptimeSeconds = -1; // from the latest snapshot
    bool m_haveSnapshot = false;
    MetricsSnapshot m_last;

    bool m_draining = false;
    bool m_closeAllowed = false;
    quint64 m_drainTotal = 0;
    QProgressDialog *m_drainDialog = nullptr;
    QTimer *m_drainTimer = nullptr;
};
