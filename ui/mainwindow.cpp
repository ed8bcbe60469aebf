#include "ui/mainwindow.h"

#include "core/drift/driftmonitor.h"
#include "core/engine/batchinferenceengine.h"
#include "core/loadtest/loadtestcontroller.h"
#include "core/metrics/inferencemetricscollector.h"
#include "ui/answercacheview.h"
#include "ui/charts/metricscharts.h"
#include "ui/flowlayout.h"
#include "ui/latencyview.h"
#include "ui/memorybudgetview.h"
#include "ui/panels/enginecontrolpanel.h"
#include "ui/panels/levelmeter.h"
#include "ui/panels/loadtestpanel.h"
#include "ui/panels/priorityclasspanel.h"
#include "ui/panels/quotapanel.h"
#include "ui/panels/tenantpanel.h"
#include "ui/panels/tiercostpanel.h"
#include "ui/panels/upstreamsettingsdialog.h"

#include <QAction>
#include <QApplication>
#include <QChartView>
#include <QCloseEvent>
#include <QDesktopServices>
#include <QDir>
#include <QFileDialog>
#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QProgressDialog>
#include <QScrollArea>
#include <QScrollBar>
#include <QSpinBox>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QThread>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>

namespace {

QString linkHtml(const QUrl &url)
{
    if (url.isEmpty())
        return QObject::tr("not listening");
    const QString s = url.toString().toHtmlEscaped();
    return QStringLiteral("<a href=\"%1\">%1</a>").arg(s);
}

QString formatDuration(qint64 seconds)
{
    const qint64 h = seconds / 3600, m = (seconds / 60) % 60, s = seconds % 60;
    return QStringLiteral("%1:%2:%3").arg(h).arg(m, 2, 10, QLatin1Char('0')).arg(s, 2, 10, QLatin1Char('0'));
}

// A tile's figure with `other` beside it (a meter, smaller figures), as the
// tile's first row: takes the figure out of the tile's column.
QHBoxLayout *beside(QLabel *figure, QWidget *other, Qt::Alignment alignment)
{
    auto *row = new QHBoxLayout;
    row->setSpacing(8);
    figure->parentWidget()->layout()->removeWidget(figure);
    row->addWidget(figure);
    row->addWidget(other, 1, alignment);
    return row;
}

// A tile's secondary figures, in the captions' colour.
QLabel *muted(QWidget *parent)
{
    auto *l = new QLabel(parent);
    l->setStyleSheet(QStringLiteral("color: palette(mid);"));
    return l;
}

QLabel *statusLabel(QWidget *parent)
{
    auto *l = new QLabel(parent);
    l->setContentsMargins(6, 0, 6, 0);
    return l;
}

} // namespace

MainWindow::MainWindow(const ConsoleDeps &deps, const ConsoleInfo &info, QWidget *parent)
    : QMainWindow(parent)
    , m_engine(deps.engine)
    , m_metrics(deps.metrics)
    , m_loadTests(deps.loadTests)
    , m_drift(deps.drift)
    , m_info(info)
    , m_settings(std::make_unique<ConsoleSettings>())
{
    qRegisterMetaType<MetricsSnapshot>();
    qRegisterMetaType<EngineConfig>();
    m_started.start();
    setWindowTitle(tr("Sluice console"));
    setObjectName(QStringLiteral("SluiceMainWindow"));

    // Left: knobs and the load-test panel, scrollable on small screens.
    auto *left = new QWidget;
    auto *lv = new QVBoxLayout(left);
    lv->setContentsMargins(8, 8, 8, 8);
    lv->setSpacing(10);
    m_controls = new EngineControlPanel(m_engine, left);
    lv->addWidget(m_controls);
    m_loadTest = new LoadTestPanel(left);
    lv->addWidget(m_loadTest);
    lv->addStretch(1);
    auto *scroll = new QScrollArea;
    scroll->setWidget(left);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setMinimumWidth(left->minimumSizeHint().width() + scroll->verticalScrollBar()->sizeHint().width());
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);

    // Right: headline figures and the charts.
    auto *right = new QWidget;
    auto *rv = new QVBoxLayout(right);
    rv->setContentsMargins(4, 8, 8, 4);
    rv->setSpacing(8);
    rv->addWidget(buildSummary());
    // Under the charts, tabs: the upstream quota panel and the priority
    // classes panel each with its own chart (the charts' fifth and sixth, so
    // they follow their window, zoom and pause), tiers and cost, tenants.
    m_charts = new MetricsCharts;
    m_quota = new QuotaPanel;
    m_quota->setChart(m_charts->chartView(MetricsCharts::kQuotaChart));
    m_classes = new PriorityClassPanel;
    m_classes->setChart(m_charts->chartView(MetricsCharts::kClassChart));
    m_tiers = new TierCostPanel;
    m_tenants = new TenantPanel;
    m_detailTabs = new QTabWidget;
    m_detailTabs->setObjectName(QStringLiteral("detailTabs"));
    m_detailTabs->setDocumentMode(true);
    m_detailTabs->addTab(m_quota, tr("Upstream quota"));
    m_detailTabs->addTab(m_classes, tr("Priority classes"));
    m_detailTabs->addTab(m_tiers, tr("Tiers && cost"));
    m_detailTabs->addTab(m_tenants, tr("Tenants"));
    // The panels have no titles of their own: the tab names the open one,
    // and beside the tabs a line says what it shows.
    auto *tabNote = muted(m_detailTabs);
    tabNote->setObjectName(QStringLiteral("detailTabNote"));
    tabNote->setContentsMargins(12, 0, 6, 0);
    m_detailTabs->setCornerWidget(tabNote, Qt::TopRightCorner);
    const QStringList notes{QuotaPanel::subtitle(), PriorityClassPanel::subtitle(), TierCostPanel::subtitle(),
                            TenantPanel::subtitle()};
    int noteWidth = 0;
    for (const QString &n : notes)
        noteWidth = std::max(noteWidth, tabNote->fontMetrics().horizontalAdvance(n));
    tabNote->setMinimumWidth(noteWidth + 18); // the corner keeps its first width
    tabNote->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    const auto showNote = [tabNote, notes](int i) { tabNote->setText(notes.value(i)); };
    connect(m_detailTabs, &QTabWidget::currentChanged, this, showNote);
    showNote(0);
    m_rightSplitter = new QSplitter(Qt::Vertical);
    m_rightSplitter->addWidget(m_charts);
    m_rightSplitter->addWidget(m_detailTabs);
    m_rightSplitter->setStretchFactor(0, 1);
    m_rightSplitter->setStretchFactor(1, 0);
    m_rightSplitter->setSizes({496, 304}); // the quota panel's 280 and the tab bar
    m_rightSplitter->setChildrenCollapsible(false);
    rv->addWidget(m_rightSplitter, 1);

    m_splitter = new QSplitter(Qt::Horizontal);
    m_splitter->addWidget(scroll);
    m_splitter->addWidget(right);
    m_splitter->setStretchFactor(0, 0);
    m_splitter->setStretchFactor(1, 1);
    m_splitter->setSizes({390, 1010});
    m_splitter->setChildrenCollapsible(false);
    setCentralWidget(m_splitter);

    buildActions();
    buildStatusBar();

    if (m_engine) {
        onConfigChanged(m_engine->config());
        connect(m_engine, &BatchInferenceEngine::configChanged, this, &MainWindow::onConfigChanged);
        // drained() comes from the engine or an upstream thread.
        connect(m_engine, &BatchInferenceEngine::drained, this, [this] {
            if (m_draining)
                finishClose();
        }, Qt::QueuedConnection);
    }
    if (m_metrics)
        connect(m_metrics, &InferenceMetricsCollector::snapshotReady, this, &MainWindow::showSnapshot);

    if (m_loadTests) {
        m_loadTest->setAvailable(true);
        m_loadTest->setStatus(m_loadTests->status());
        connect(m_loadTest, &LoadTestPanel::startRequested, this, &MainWindow::startLoadTest);
        connect(m_loadTest, &LoadTestPanel::findKneeRequested, this, &MainWindow::findKnee);
        connect(m_loadTest, &LoadTestPanel::stopRequested, m_loadTests, &LoadTestController::stop);
        connect(m_loadTest, &LoadTestPanel::saveRequested, m_exportBaselineAction, &QAction::trigger);
        connect(m_loadTests, &LoadTestController::statusChanged, m_loadTest, &LoadTestPanel::setStatus);
        connect(m_loadTests, &LoadTestController::finished, this, [this] {
            // A failed run keeps the baseline of the last good one.
            setBaselineExportAvailable(m_loadTests->lastBaseline().has_value() || (m_drift && m_drift->hasBaseline()));
        });
    } else {
        m_loadTest->setAvailable(false, tr("the load test needs the embedded gateway"));
    }
    if (m_drift) {
        const auto show = [this](const DriftReading &r) {
            if (!m_drift->hasBaseline())
                setDriftState(QString(), 0);
            else
                setDriftState(driftStateName(r.state), r.score);
        };
        connect(m_drift, &DriftMonitor::evaluated, this, show);
        connect(m_drift, &DriftMonitor::stateChanged, this, show);
    }

    m_statusTimer = new QTimer(this);
    m_statusTimer->setInterval(1000);
    connect(m_statusTimer, &QTimer::timeout, this, [this] {
        updateUptime();
        if (!m_metrics)
            updateStatusBar(); // no snapshots: read the gauges ourselves
    });
    m_statusTimer->start();

    // Restore the previous session's layout; 1400x900 the first time.
    m_charts->setWindowSeconds(m_settings->chartWindowSeconds());
    connect(m_charts, &MetricsCharts::windowSecondsChanged, this,
            [this](int s) { m_settings->setChartWindowSeconds(s); });
    if (!restoreGeometry(m_settings->windowGeometry()))
        resize(1400, 900);
    restoreState(m_settings->windowState());
    m_splitter->restoreState(m_settings->splitterState());
    m_rightSplitter->restoreState(m_settings->chartsSplitterState());

    updateStatusBar();
    updateUptime();
}

MainWindow::~MainWindow() = default;

QWidget *MainWindow::buildSummary()
{
    auto *frame = new QFrame;
    frame->setObjectName(QStringLiteral("summary"));
    frame->setFrameShape(QFrame::StyledPanel);
    // A flow, not a row: the figures wrap at a narrow window instead of
    // setting its minimum width. Two rows at the default 1400 px: requests
    // and latencies, then what holds memory (the budget, the answer cache).
    m_summaryLayout = new FlowLayout(frame, 20, 4);
    m_summaryLayout->setContentsMargins(12, 6, 12, 6);
    const auto tile = [&](Tile &t, const QString &caption, const QString &tip) {
        auto *box = new QWidget(frame);
        auto *v = new QVBoxLayout(box);
        v->setContentsMargins(0, 0, 0, 0);
        v->setSpacing(0);
        t.value = new QLabel(QStringLiteral("–"), box);
        QFont f = t.value->font();
        f.setPointSizeF(f.pointSizeF() * 1.6);
        f.setBold(true);
        t.value->setFont(f);
        t.caption = new QLabel(caption, box);
        t.caption->setStyleSheet(QStringLiteral("color: palette(mid);"));
        t.value->setToolTip(tip);
        t.caption->setToolTip(tip);
        v->addWidget(t.value);
        v->addWidget(t.caption);
        m_summaryLayout->addWidget(box);
        return v;
    };
    tile(m_tileRps, tr("requests/s (last second)"), tr("Requests finished in the last complete second"));
    tile(m_tileP99, tr("p99 latency (10 s)"), tr("End-to-end p99 of successful requests over the last 10 s"));
    // Time to first token: the p95 as the figure (the chart's dashed line),
    // p50 over p99 beside it (stacked: narrower than a line).
    QVBoxLayout *firstToken = tile(m_tileFirstToken, QString(), QString());
    m_tileFirstToken.value->parentWidget()->setObjectName(QStringLiteral("firstToken"));
    m_tileFirstToken.value->setObjectName(QStringLiteral("firstTokenP95"));
    m_tileFirstToken.caption->setObjectName(QStringLiteral("firstTokenCaption"));
    m_firstTokenOthers = muted(m_tileFirstToken.value->parentWidget());
    m_firstTokenOthers->setObjectName(QStringLiteral("firstTokenOthers"));
    firstToken->insertLayout(0, beside(m_tileFirstToken.value, m_firstTokenOthers, Qt::AlignVCenter));
    tile(m_tileQueue, tr("queued / capacity"), tr("Requests admitted and waiting for a batch / maxQueue"));
    tile(m_tileInflight, tr("batches in flight"), tr("Upstream batches in flight / maxInflightBatches"));
    tile(m_tileErrors, tr("failed + expired (10 s)"), tr("Requests that failed upstream or expired in the queue, last 10 s"));
    tile(m_tileRejected, tr("rejected (10 s)"), tr("Requests refused at admission (429/503), last 10 s"));
    // The memory budget: what admitted work holds, with a meter of it against
    // the limit beside the figure (the backpressure meter's levels), the
    // limit, and the refusals on a line of their own (narrow, so the tiles
    // of a row fit a window of the default width).
    QVBoxLayout *memory = tile(m_tileMemory, QString(), QString());
    QWidget *memoryBox = m_tileMemory.value->parentWidget();
    memoryBox->setObjectName(QStringLiteral("memoryBudget"));
    m_tileMemory.value->setObjectName(QStringLiteral("memoryBudgetUsed"));
    m_tileMemory.caption->setObjectName(QStringLiteral("memoryBudgetCaption"));
    m_memoryRefusals = new QLabel(memoryBox);
    m_memoryRefusals->setObjectName(QStringLiteral("memoryBudgetRefusals"));
    memory->addWidget(m_memoryRefusals);
    m_memoryMeter = LevelMeter::create(memoryBox, 6);
    m_memoryMeter->setObjectName(QStringLiteral("memoryBudgetMeter"));
    // Fills what the caption leaves beside the figure; never widens the tile.
    m_memoryMeter->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);
    m_memoryMeter->setMinimumWidth(40);
    memory->insertLayout(0, beside(m_tileMemory.value, m_memoryMeter, Qt::AlignVCenter));
    // The answer cache: its hit ratio over 60 s as the figure, what it
    // holds beside it, the ratio since start in the caption, the lookups on
    // a line of their own (one tile: two rows of figures still fit the
    // window's minimum width).
    QVBoxLayout *cache = tile(m_tileCache, QString(), QString());
    QWidget *cacheBox = m_tileCache.value->parentWidget();
    cacheBox->setObjectName(QStringLiteral("answerCache"));
    m_tileCache.value->setObjectName(QStringLiteral("cacheHitRatio"));
    m_tileCache.caption->setObjectName(QStringLiteral("cacheCaption"));
    m_cacheSize = muted(cacheBox);
    m_cacheSize->setObjectName(QStringLiteral("cacheSize"));
    cache->insertLayout(0, beside(m_tileCache.value, m_cacheSize, Qt::AlignBottom));
    m_cacheLookups = muted(cacheBox);
    m_cacheLookups->setObjectName(QStringLiteral("cacheLookups"));
    cache->addWidget(m_cacheLookups);

    const MetricsSnapshot none;
    showMemoryBudget(none);
    showFirstToken(none);
    showAnswerCache(none);
    return frame;
}

void MainWindow::showMemoryBudget(const MetricsSnapshot &s)
{
    const MemoryBudgetView::Gauge g = MemoryBudgetView::gauge(s);
    m_tileMemory.value->setText(g.used);
    const QString refusalsStyle = g.refusals > 0 ? QStringLiteral("color: %1; font-weight: 600;")
                                                      .arg(QuotaView::levelColor(QuotaView::Level::Refusing))
                                                : QStringLiteral("color: palette(mid);");
    if (m_memoryRefusals->styleSheet() != refusalsStyle)
        m_memoryRefusals->setStyleSheet(refusalsStyle);
    m_memoryRefusals->setText(g.refusalsText);
    m_memoryRefusals->setVisible(g.limited || g.refusals > 0);
    QString caption, tip;
    if (g.limited) {
        caption = tr("memory budget %1").arg(MemoryBudgetView::formatBytes(double(s.memoryLimitBytes)));
        tip = tr("Memory that admitted work holds (request bodies with their parsing, answers not yet sent) against "
                 "the memory budget (--memory-budget-bytes, server.memoryBudgetBytes): %1. A request that does not "
                 "fit is answered 503 with Retry-After; %2 since start.")
                  .arg(g.text(), g.refusalsText);
    } else {
        caption = tr("memory held, no budget");
        tip = tr("Memory that admitted work holds (request bodies with their parsing, answers not yet sent): %1. "
                 "No memory budget is set (--memory-budget-bytes 0), so nothing is refused for memory.")
                  .arg(g.text());
    }
    if (m_tileMemory.caption->text() != caption)
        m_tileMemory.caption->setText(caption);
    m_tileMemory.value->setToolTip(tip);
    m_tileMemory.caption->setToolTip(tip);
    m_memoryRefusals->setToolTip(tip);
    m_memoryMeter->setToolTip(tip);
    m_memoryMeter->setVisible(g.limited);
    m_memoryMeter->setValue(int(std::clamp(g.ratio, 0.0, 1.0) * LevelMeter::kScale));
    m_memoryMeter->setProperty("level", QuotaView::levelName(g.level));
    LevelMeter::setColor(m_memoryMeter, QuotaView::levelColor(g.level));
}

void MainWindow::showFirstToken(const MetricsSnapshot &s)
{
    const LatencyView::FirstToken f = LatencyView::firstToken(s.last10s);
    m_tileFirstToken.value->setText(f.p95);
    const QString others = f.measured ? tr("p50 %1\np99 %2").arg(f.p50, f.p99) : QString();
    if (m_firstTokenOthers->text() != others)
        m_firstTokenOthers->setText(others);
    const QString caption = tr("first token p95 (10 s) · %1").arg(f.measured ? f.countText : tr("no stream"));
    if (m_tileFirstToken.caption->text() != caption)
        m_tileFirstToken.caption->setText(caption);
    const QString tip = tr("Time to first token of streamGenerateContent answers: from the request's arrival at the "
                           "gateway to the first SSE event written to the client, over the streams of the last 10 s "
                           "(plain generateContent answers are not in it): %1. The latency chart draws its p95 dashed.")
                            .arg(f.text());
    for (QWidget *part : {static_cast<QWidget *>(m_tileFirstToken.value), static_cast<QWidget *>(m_tileFirstToken.caption),
                          static_cast<QWidget *>(m_firstTokenOthers)})
        part->setToolTip(tip);
}

void MainWindow::showAnswerCache(const MetricsSnapshot &s)
{
    const AnswerCacheView::Figures f = AnswerCacheView::figures(s);
    m_tileCache.value->setText(f.headline);
    const QString size = f.enabled ? tr("holds %1").arg(f.text) : QString();
    if (m_cacheSize->text() != size)
        m_cacheSize->setText(size);
    const QString caption = f.enabled ? tr("cache hit ratio (60 s) · %1 since start").arg(f.hitRatioTotalText)
                                      : tr("answer cache");
    if (m_tileCache.caption->text() != caption)
        m_tileCache.caption->setText(caption);
    // Off, "off" says it all (its lookups are all bypassed), in two lines.
    m_cacheLookups->setText(f.lookupsText);
    m_cacheLookups->setVisible(f.enabled);
    const QString tip =
        f.enabled ? tr("The answer cache: Gemini model calls answered from it, of those looked up in it (hits + misses): "
                       "%1 in the last 60 s (%2), %3 since start. Bypassed: not looked up (a stream, Cache-Control). "
                       "It holds %4 now.")
                        .arg(f.hitRatio60sText, f.headlineNote, f.hitRatioTotalText, f.text)
                  : tr("The answer cache is off: %1, every Gemini model call goes upstream (its lookups are all "
                       "bypassed).")
                        .arg(f.headlineNote);
    for (QWidget *part : {static_cast<QWidget *>(m_tileCache.value), static_cast<QWidget *>(m_tileCache.caption),
                          static_cast<QWidget *>(m_cacheSize), static_cast<QWidget *>(m_cacheLookups)})
        part->setToolTip(tip);
}

MainWindow::ShownFirstToken MainWindow::firstToken() const
{
    ShownFirstToken f;
    f.p95 = m_tileFirstToken.value->text();
    f.others = m_firstTokenOthers->text();
    f.caption = m_tileFirstToken.caption->text();
    f.toolTip = m_tileFirstToken.value->toolTip();
    return f;
}

MainWindow::ShownAnswerCache MainWindow::answerCache() const
{
    ShownAnswerCache c;
    c.hitRatio = m_tileCache.value->text();
    c.size = m_cacheSize->text();
    c.caption = m_tileCache.caption->text();
    c.lookups = m_cacheLookups->isHidden() ? QString() : m_cacheLookups->text();
    c.toolTip = m_tileCache.value->toolTip();
    return c;
}

int MainWindow::summaryRows() const
{
    return m_summaryLayout->rows();
}

MainWindow::ShownMemoryBudget MainWindow::memoryBudget() const
{
    ShownMemoryBudget m;
    m.used = m_tileMemory.value->text();
    m.caption = m_tileMemory.caption->text();
    m.refusals = m_memoryRefusals->isHidden() ? QString() : m_memoryRefusals->text();
    m.refusalsHighlighted = m_memoryRefusals->styleSheet().contains(QuotaView::levelColor(QuotaView::Level::Refusing));
    m.toolTip = m_tileMemory.value->toolTip();
    m.meter = !m_memoryMeter->isHidden();
    m.meterPermille = m_memoryMeter->value();
    m.level = m_memoryMeter->property("level").toString();
    return m;
}

void MainWindow::buildActions()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->setToolTipsVisible(true);
    m_exportBaselineAction = file->addAction(tr("&Export baseline…"));
    m_exportBaselineAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    connect(m_exportBaselineAction, &QAction::triggered, this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Export performance baseline"), QDir::home().filePath(QStringLiteral("sluice-baseline.json")),
            tr("Performance baseline (*.json)"));
        QString error;
        if (!path.isEmpty() && !exportBaseline(path, &error))
            QMessageBox::warning(this, tr("Export baseline"), error);
    });
    m_importBaselineAction = file->addAction(tr("&Import baseline…"));
    m_importBaselineAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
    m_importBaselineAction->setToolTip(tr("Load a PerformanceBaseline JSON as the drift detector's reference"));
    m_importBaselineAction->setEnabled(m_drift != nullptr);
    connect(m_importBaselineAction, &QAction::triggered, this, &MainWindow::importBaseline);
    m_upstreamSettingsAction = file->addAction(tr("&Upstream settings…"));
    m_upstreamSettingsAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Comma));
    connect(m_upstreamSettingsAction, &QAction::triggered, this, &MainWindow::showUpstreamSettings);
    file->addSeparator();
    m_quitAction = file->addAction(tr("&Quit"));
    m_quitAction->setShortcut(QKeySequence::Quit);
    m_quitAction->setToolTip(tr("Drain the gateway and quit"));
    connect(m_quitAction, &QAction::triggered, this, &QWidget::close);

    QMenu *view = menuBar()->addMenu(tr("&View"));
    m_pauseAction = view->addAction(tr("&Pause charts"));
    m_pauseAction->setCheckable(true);
    m_pauseAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_P));
    connect(m_pauseAction, &QAction::toggled, m_charts, &MetricsCharts::setPaused);
    connect(m_charts, &MetricsCharts::pausedChanged, m_pauseAction, &QAction::setChecked);
    m_resetZoomAction = view->addAction(tr("&Reset chart zoom"));
    m_resetZoomAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
    connect(m_resetZoomAction, &QAction::triggered, m_charts, &MetricsCharts::resetZoom);

    QMenu *gateway = menuBar()->addMenu(tr("&Gateway"));
    m_openDashboardAction = gateway->addAction(tr("Open &dashboard in browser"));
    m_openDashboardAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
    connect(m_openDashboardAction, &QAction::triggered, this, &MainWindow::openDashboard);

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Sluice"), this, [this] {
        QMessageBox::about(this, tr("About Sluice"),
                           tr("<b>Sluice %1</b><br>A batching gateway for the Gemini API with a live console.")
                               .arg(QStringLiteral(SLUICE_VERSION)));
    });

    // Window-wide shortcuts also when the menu bar is hidden.
    addActions({m_exportBaselineAction, m_importBaselineAction, m_upstreamSettingsAction, m_quitAction, m_pauseAction, m_resetZoomAction,
                m_openDashboardAction});
    setBaselineExportAvailable(m_drift && m_drift->hasBaseline());
}

QJsonObject MainWindow::loadTestEnvironment() const
{
    return {{QStringLiteral("cpus"), QThread::idealThreadCount()},
            {QStringLiteral("upstreamKind"), m_info.upstreamKind},
            {QStringLiteral("model"), m_info.model},
            {QStringLiteral("sluiceVersion"), QStringLiteral(SLUICE_VERSION)},
            {QStringLiteral("target"), m_info.listeningUrl.toString()}};
}

void MainWindow::startLoadTest(int usersPerStep, int stepSeconds, int steps)
{
    if (!m_loadTests)
        return;
    LoadTestPlan plan;
    plan.target = m_info.listeningUrl;
    plan.usersPerStep = usersPerStep;
    plan.stepSeconds = stepSeconds;
    plan.steps = steps;
    plan.workers = m_loadTest->workers()->value();
    QString error;
    if (!m_loadTests->start(plan, m_engine ? m_engine->config().toJson() : QJsonObject(), loadTestEnvironment(), &error))
        m_loadTest->showError(error);
}

void MainWindow::findKnee(int maxSeconds)
{
    if (!m_loadTests)
        return;
    LoadTestPlan plan;
    plan.target = m_info.listeningUrl;
    plan.workers = m_loadTest->workers()->value();
    // The same search as `sluice --capture-baseline FILE` (app/capturemode.cpp).
    KneeSearchConfig search;
    search.maxSeconds = maxSeconds;
    search.stepOverheadSeconds = KneeSearchConfig::stepOverheadFor(plan.workers);
    QString error;
    if (!m_loadTests->startSearch(plan, search, m_engine ? m_engine->config().toJson() : QJsonObject(),
                                  loadTestEnvironment(), &error))
        m_loadTest->showError(error);
}

bool MainWindow::exportBaseline(const QString &path, QString *error)
{
    std::optional<PerformanceBaseline> b = m_loadTests ? m_loadTests->lastBaseline() : std::nullopt;
    if (!b && m_drift)
        b = m_drift->baseline();
    if (!b) {
        *error = tr("There is no baseline yet: run a load test first (the panel on the left), or import one.");
        return false;
    }
    if (!b->save(path, error))
        return false;
    statusBar()->showMessage(tr("Baseline written to %1").arg(path), 5000);
    emit exportBaselineRequested(path);
    return true;
}

void MainWindow::importBaseline()
{
    if (!m_drift)
        return;
    const QString path = QFileDialog::getOpenFileName(this, tr("Import performance baseline"), QDir::homePath(),
                                                      tr("Performance baseline (*.json)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!m_drift->loadBaseline(path, &error)) {
        QMessageBox::warning(this, tr("Import baseline"), error);
        return;
    }
    setBaselineExportAvailable(true);
    statusBar()->showMessage(tr("Drift reference loaded from %1").arg(path), 5000);
}

void MainWindow::buildStatusBar()
{
    QStatusBar *bar = statusBar();
    const auto sep = [bar] {
        auto *line = new QFrame(bar);
        line->setFrameShape(QFrame::VLine);
        line->setFrameShadow(QFrame::Sunken);
        return line;
    };
    const auto openLink = [](const QString &link) { QDesktopServices::openUrl(QUrl(link)); };
    m_listenLabel = statusLabel(bar);
    m_listenLabel->setTextFormat(Qt::RichText);
    m_listenLabel->setTextInteractionFlags(Qt::LinksAccessibleByMouse | Qt::LinksAccessibleByKeyboard);
    m_listenLabel->setToolTip(tr("Gemini-compatible endpoint: point an SDK's base URL here"));
    connect(m_listenLabel, &QLabel::linkActivated, this, openLink);
    m_dashboardLabel = statusLabel(bar);
    m_dashboardLabel->setTextFormat(Qt::RichText);
    m_dashboardLabel->setTextInteractionFlags(Qt::LinksAccessibleByMouse | Qt::LinksAccessibleByKeyboard);
    m_dashboardLabel->setToolTip(tr("Open the web dashboard (Ctrl+D)"));
    connect(m_dashboardLabel, &QLabel::linkActivated, this, openLink);
    m_upstreamLabel = statusLabel(bar);
    m_backpressureLabel = statusLabel(bar);
    m_backpressureLabel->setToolTip(tr("How close admission is to refusing (queue depth / maxQueue)"));
    m_driftLabel = statusLabel(bar);
    m_driftLabel->setToolTip(tr("Latency drift against a performance baseline; shows \"no baseline\" until a "
                                "baseline is captured (arrives with the load-test feature)"));
    m_uptimeLabel = statusLabel(bar);

    bar->addWidget(m_listenLabel);
    bar->addWidget(sep());
    bar->addWidget(m_dashboardLabel);
    bar->addWidget(sep());
    bar->addWidget(m_upstreamLabel, 1);
    bar->addPermanentWidget(m_backpressureLabel);
    bar->addPermanentWidget(sep());
    bar->addPermanentWidget(m_driftLabel);
    bar->addPermanentWidget(sep());
    bar->addPermanentWidget(m_uptimeLabel);
    setDriftState(QString(), 0);
    setConsoleInfo(m_info);
}

void MainWindow::setConsoleInfo(const ConsoleInfo &info)
{
    m_info = info;
    m_listenLabel->setText(tr("Listening %1").arg(linkHtml(info.listeningUrl)));
    m_dashboardLabel->setText(tr("Dashboard %1").arg(linkHtml(info.dashboardUrl)));
    m_openDashboardAction->setEnabled(!info.dashboardUrl.isEmpty());
    m_upstreamLabel->setText(upstreamText());
}

QString MainWindow::upstreamText() const
{
    const bool gemini = m_info.upstreamKind.compare(QLatin1String("gemini"), Qt::CaseInsensitive) == 0;
    const QString kind = gemini ? tr("Gemini API") : tr("GeminiSimulator");
    return m_info.model.isEmpty() ? tr("Upstream: %1").arg(kind) : tr("Upstream: %1 (%2)").arg(kind, m_info.model);
}

void MainWindow::showSnapshot(const MetricsSnapshot &s)
{
    m_haveSnapshot = true;
    m_last = s;
    m_uptimeSeconds = s.uptimeSeconds;
    m_charts->addSnapshot(s);
    m_quota->showSnapshot(s);
    m_classes->showSnapshot(s);
    m_tiers->showSnapshot(s);
    m_tenants->showSnapshot(s);

    m_tileRps.value->setText(QString::number(s.last1s.requestsPerSecond, 'f', 0));
    m_tileP99.value->setText(LatencyView::formatMs(s.last10s.latency.p99Ms));
    m_tileQueue.value->setText(QStringLiteral("%1 / %2").arg(s.queueDepth).arg(s.queueCapacity));
    m_tileInflight.value->setText(QStringLiteral("%1 / %2").arg(s.inflightBatches).arg(s.maxInflightBatches));
    m_tileErrors.value->setText(QString::number(s.last10s.failed + s.last10s.expired));
    m_tileRejected.value->setText(QString::number(s.last10s.rejected));
    showMemoryBudget(s);
    showFirstToken(s);
    showAnswerCache(s);
    updateStatusBar();
}

QString MainWindow::backpressureText() const
{
    return m_backpressureLabel->text();
}

QString MainWindow::driftText() const
{
    return m_driftLabel->text();
}

QString MainWindow::uptimeText() const
{
    return m_uptimeLabel->text();
}

void MainWindow::updateStatusBar()
{
    EngineGauges g;
    quint64 rejectedLastSecond = 0;
    if (m_haveSnapshot) {
        g.queueDepth = m_last.queueDepth;
        g.queueCapacity = m_last.queueCapacity;
        g.backpressure = m_last.backpressure;
        g.draining = m_last.draining;
        rejectedLastSecond = m_last.last1s.rejections.value(QStringLiteral("queue_full"));
    } else if (m_engine) {
        g = m_engine->gauges();
    }
    QString state;
    QString color;
    if (g.draining) {
        state = tr("draining");
        color = QStringLiteral("#b26a00");
    } else if (rejectedLastSecond > 0 || g.backpressure >= 1.0) {
        state = tr("refusing (429)");
        color = QStringLiteral("#b3261e");
    } else if (g.backpressure >= 0.8) {
        state = tr("high");
        color = QStringLiteral("#b26a00");
    } else {
        state = tr("ok");
        color = QStringLiteral("#2e7d32");
    }
    m_backpressureLabel->setText(tr("Backpressure %1 % <span style=\"color:%2; font-weight:600\">%3</span>")
                                     .arg(qRound(g.backpressure * 100))
                                     .arg(color, state));
}

void MainWindow::updateUptime()
{
    const qint64 secs = m_uptimeSeconds >= 0 ? qint64(m_uptimeSeconds) : m_started.elapsed() / 1000;
    m_uptimeLabel->setText(tr("Uptime %1").arg(formatDuration(secs)));
}

void MainWindow::setDriftState(const QString &state, double score)
{
    if (state.isEmpty()) {
        m_driftLabel->setText(tr("Drift: no baseline"));
        return;
    }
    const QString color = state == QLatin1String("drift") ? QStringLiteral("#b3261e")
                          : state == QLatin1String("warn") ? QStringLiteral("#b26a00")
                                                           : QStringLiteral("#2e7d32");
    m_driftLabel->setText(tr("Drift: <span style=\"color:%1; font-weight:600\">%2</span> (%3)")
                              .arg(color, state.toHtmlEscaped())
                              .arg(score, 0, 'f', 2));
}

void MainWindow::setBaselineExportAvailable(bool available)
{
    m_exportBaselineAction->setEnabled(available);
    if (m_loadTest)
        m_loadTest->setSaveAvailable(available);
    m_exportBaselineAction->setToolTip(available ? tr("Write the current PerformanceBaseline to a JSON file")
                                                 : tr("Run a load test or import a baseline first"));
    m_exportBaselineAction->setStatusTip(m_exportBaselineAction->toolTip());
}

void MainWindow::openDashboard()
{
    if (!m_info.dashboardUrl.isEmpty())
        QDesktopServices::openUrl(m_info.dashboardUrl);
}

void MainWindow::showUpstreamSettings()
{
    UpstreamSettingsDialog dialog(m_settings.get(), this);
    connect(&dialog, &UpstreamSettingsDialog::upstreamSaved, this, [this](const UpstreamChoice &c) {
        statusBar()->showMessage(tr("Upstream saved: %1. Restart Sluice to apply.").arg(upstreamKindName(c.kind)), 10000);
        emit upstreamSettingsChanged(c);
    });
    dialog.exec();
}

void MainWindow::onConfigChanged(const EngineConfig &config)
{
    m_charts->setBatchSizeLimit(config.maxBatchSize);
    m_quota->showConfig(config);
}

void MainWindow::saveSettings()
{
    m_settings->setWindowGeometry(saveGeometry());
    m_settings->setWindowState(saveState());
    m_settings->setSplitterState(m_splitter->saveState());
    m_settings->setChartsSplitterState(m_rightSplitter->saveState());
    m_settings->setChartWindowSeconds(m_charts->windowSeconds());
    m_settings->sync();
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (m_closeAllowed) {
        event->accept();
        return;
    }
    if (m_draining) { // a second close while draining: keep waiting (the dialog offers "Close now")
        event->ignore();
        return;
    }
    m_draining = true;
    saveSettings();
    emit closeRequested();
    if (!m_engine) {
        m_closeAllowed = true;
        event->accept();
        return;
    }
    m_engine->drain();
    const EngineCounters c = m_engine->counters();
    m_drainTotal = c.queued + c.inflight;
    if (m_drainTotal == 0) {
        m_closeAllowed = true;
        event->accept();
        return;
    }
    event->ignore();
    m_drainDialog = new QProgressDialog(this);
    m_drainDialog->setWindowTitle(tr("Draining Sluice"));
    m_drainDialog->setCancelButtonText(tr("Close now"));
    m_drainDialog->setRange(0, int(m_drainTotal));
    m_drainDialog->setMinimumDuration(0);
    m_drainDialog->setAutoClose(false);
    m_drainDialog->setAutoReset(false);
    m_drainDialog->setWindowModality(Qt::WindowModal);
    m_drainDialog->setMinimumWidth(420);
    connect(m_drainDialog, &QProgressDialog::canceled, this, &MainWindow::finishClose);
    m_drainTimer = new QTimer(this);
    m_drainTimer->setInterval(100);
    connect(m_drainTimer, &QTimer::timeout, this, &MainWindow::updateDrainProgress);
    m_drainTimer->start();
    updateDrainProgress();
    m_drainDialog->show();
}

void MainWindow::updateDrainProgress()
{
    if (!m_engine || !m_drainDialog)
        return;
    const EngineCounters c = m_engine->counters();
    const quint64 left = c.queued + c.inflight;
    m_drainDialog->setLabelText(tr("Finishing the work already admitted before closing:\n"
                                   "%1 queued, %2 in flight (%3 batches). New requests get 503.")
                                    .arg(c.queued)
                                    .arg(c.inflight)
                                    .arg(c.inflightBatches));
    m_drainDialog->setValue(int(m_drainTotal - std::min(left, m_drainTotal)));
    // drained() is the signal we wait for; this also covers an engine that is
    // not running (it never emits) once nothing is outstanding.
    if (left == 0)
        finishClose();
}

void MainWindow::finishClose()
{
    if (m_closeAllowed)
        return;
    m_closeAllowed = true;
    if (m_drainTimer)
        m_drainTimer->stop();
    if (m_drainDialog) {
        m_drainDialog->disconnect(this);
        m_drainDialog->hide();
        m_drainDialog->deleteLater();
        m_drainDialog = nullptr;
    }
    close();
}
