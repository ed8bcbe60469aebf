#pragma once

#include "core/metrics/metricssnapshot.h"
#include "ui/charts/timeseriesring.h"

#include <QWidget>

#include <array>

class QChart;
class QChartView;
class QComboBox;
class QLabel;
class QLineSeries;
class QToolButton;
class QValueAxis;

// The console's live charts, fed with MetricsSnapshot values (4 Hz by default):
// - Latency: end-to-end p50/p95/p99 of successful requests over the
//   snapshot's last10s window (smooth; a 1 s window has too few samples at low load),
//   and dashed, the p95 time to first token of streamGenerateContent answers
//   over the same window (no point while the window has no stream: the
//   snapshot's 0 ms there would read as an instant first token);
// - Queue: queue depth and queue capacity (requests, left axis), backpressure
//   (%, right axis), instantaneous gauges;
// - Throughput: requests/s and tokens/s (prompt + output) of the last complete second (last1s);
// - Batch size: mean batch size over last10s, and the maxBatchSize in force;
// - Answers per upstream call (chart 4): ok answers per upstream HTTP call
//   over last10s (no point while the window has no call: the snapshot's 0
//   there would read as "calls buy nothing"), and upstream 429s per second
//   (last10s, right axis). This chart is not in the widget's own grid: its
//   view, chartView(4), is placed by the owner (the console's QuotaPanel);
//   it follows the window, zoom and pause like the other four.
// - Queued per priority class (chart 5): requests of each class
//   (interactive, standard, background) waiting in the queue now, an
//   instantaneous gauge; no point while the snapshot does not carry the
//   class. Like chart 4, its view, chartView(5), is placed by the owner (the
//   console's PriorityClassPanel).
//
// History: every series keeps a bounded ring (TimeSeriesRing, 6000 samples:
// 10 minutes at 10 Hz); a redraw replaces each series with the visible window
// thinned to at most 800 points (QLineSeries::replace), so the cost of an
// update does not grow with the run time. X axes are "seconds before the
// newest sample". Zoom: drag a horizontal rubber band on any chart (all four
// follow and live scrolling pauses), right-click zooms out, "Reset zoom" (or
// Ctrl+0) returns to the live window. The window length selector picks 30 s
// to 10 min. Pause stops redrawing; samples keep being recorded.
//
// Thread: UI thread.
class MetricsCharts : public QWidget
{
    Q_OBJECT
public:
    enum class Series {
        LatencyP50, LatencyP95, LatencyP99, FirstTokenP95,
        QueueDepth, QueueCapacity, Backpressure,
        RequestsPerSecond, TokensPerSecond,
        MeanBatchSize, MaxBatchSize,
        AnswersPerCall, Upstream429PerSecond,
        QueuedInteractive, QueuedStandard, QueuedBackground,
    };
    static constexpr int kSeriesCount = 16;
    static constexpr int kChartCount = 6;
    static constexpr int kQuotaChart = 4; // not in the grid: see above
    static constexpr int kClassChart = 5; // not in the grid: see above
    static constexpr int kHistoryCapacity = 6000;
    static constexpr int kMaxPointsPerSeries = 800;

    explicit MetricsCharts(QWidget *parent = nullptr);

    QLineSeries *series(Series s) const { return m_series[size_t(s)]; }
    const TimeSeriesRing &history(Series s) const { return m_history[size_t(s)]; }
    QChartView *chartView(int index) const { return m_views[size_t(index)]; } // 0..kChartCount-1
    bool isPaused() const { return m_paused; }
    bool isZoomed() const { return m_zoomed; }
    int windowSeconds() const { return m_windowSeconds; }
    quint64 snapshotsReceived() const { return m_received; }
    quint64 redraws() const { return m_redraws; }

public slots:
    void addSnapshot(const MetricsSnapshot &snapshot);
    void setPaused(bool paused);
    void setWindowSeconds(int seconds);
    void resetZoom();
    // The engine's maxBatchSize, drawn as a reference line on the batch chart.
    void setBatchSizeLimit(int maxBatchSize);

signals:
    void pausedChanged(bool paused);
    void windowSecondsChanged(int seconds);

private:
    struct ChartParts {
        QChart *chart = nullptr;
        QValueAxis *x = nullptr;
        QValueAxis *y = nullptr;
        QValueAxis *y2 = nullptr;
    };
    ChartParts makeChart(const QString &title, const QString &yTitle, const QString &y2Title = {});
    QLineSeries *addSeries(const ChartParts &parts, Series id, const QString &name, const QColor &color,
                           bool secondAxis = false, bool dashed = false);
    void redraw();
    void onXRangeChanged(QValueAxis *source, qreal min, qreal max);

    std::array<TimeSeriesRing, kSeriesCount> m_history;
    std::array<QLineSeries *, kSeriesCount> m_series{};
    std::array<QChartView *, kChartCount> m_views{};
    std::array<ChartParts, kChartCount> m_charts;
    QToolButton *m_pauseButton = nullptr;
    QComboBox *m_windowBox = nullptr;
    QToolButton *m_resetZoomButton = nullptr;
    QLabel *m_stateLabel = nullptr;
    int m_windowSeconds = 120;
    int m_batchSizeLimit = 0;
    double m_lastX = -1;
    bool m_paused = false;
    bool m_pausedByZoom = false;
    bool m_zoomed = false;
    bool m_settingRanges = false;
    quint64 m_received = 0;
    quint64 m_redraws = 0;
};
