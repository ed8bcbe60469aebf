#include "ui/panels/loadtestpanel.h"

#include "core/loadtest/locustrunner.h"

#include <QChart>
#include <QChartView>
#include <QColor>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLabel>
#include <QLineSeries>
#include <QPen>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScatterSeries>
#include <QSpinBox>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace {
double niceMax(double v)
{
    if (v <= 0)
        return 1;
    const double p = std::pow(10.0, std::floor(std::log10(v)));
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (v <= m * p)
            return m * p;
    return 10 * p;
}
} // namespace

LoadTestPanel::LoadTestPanel(QWidget *parent)
    : QWidget(parent)
{
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    auto *box = new QGroupBox(tr("Load test (Locust)"), this);
    outer->addWidget(box);
    auto *v = new QVBoxLayout(box);
    auto *form = new QFormLayout;
    form->setLabelAlignment(Qt::AlignRight | Qt::AlignVCenter);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    const auto spin = [&](int lo, int hi, int value, const QString &suffix) {
        auto *s = new QSpinBox(box);
        s->setRange(lo, hi);
        s->setValue(value);
        s->setSuffix(suffix);
        s->setAlignment(Qt::AlignRight);
        return s;
    };
    m_users = spin(1, 100000, 10, tr(" users"));
    m_stepSeconds = spin(1, 3600, 20, tr(" s"));
    m_steps = spin(1, 100, 8, QString());
    // The knee search's validation (KneeSearchConfig) needs room for one step: 14 s.
    m_searchSeconds = spin(15, 3600, 180, tr(" s"));
    m_workers = spin(0, 64, LoadTestPlan::defaultWorkers(), QString());
    m_workers->setSpecialValueText(tr("none (one process)"));
    m_workers->setToolTip(tr("Locust worker processes under a Locust master. One Locust process drives about one "
                             "core; a run whose Locust processes are saturated is flagged load-generator-bound."));
    m_searchSeconds->setToolTip(tr("The knee search's time budget, Locust's start included"));
    form->addRow(tr("Users per step"), m_users);
    form->addRow(tr("Step duration"), m_stepSeconds);
    form->addRow(tr("Steps"), m_steps);
    form->addRow(tr("Knee search budget"), m_searchSeconds);
    form->addRow(tr("Locust workers"), m_workers);
    v->addLayout(form);

    auto *buttons = new QHBoxLayout;
    m_start = new QPushButton(tr("Start"), box);
    m_findKnee = new QPushButton(tr("Find knee"), box);
    m_stop = new QPushButton(tr("Stop"), box);
    m_start->setToolTip(tr("Run Locust against this gateway in the fixed steps above and find the throughput knee"));
    m_findKnee->setToolTip(tr("Search for the throughput knee: double the users until throughput stops growing, p95 "
                              "goes over its limit or errors start, then bisect; within the budget"));
    buttons->addWidget(m_start);
    buttons->addWidget(m_findKnee);
    buttons->addWidget(m_stop);
    v->addLayout(buttons);
    m_progress = new QProgressBar(box);
    m_progress->setRange(0, 100);
    m_progress->setValue(0);
    m_progress->setFormat(tr("not running"));
    v->addWidget(m_progress);
    m_result = new QLabel(box);
    m_result->setWordWrap(true);
    m_result->setTextInteractionFlags(Qt::TextSelectableByMouse);
    v->addWidget(m_result);
    m_log = new QPlainTextEdit(box);
    m_log->setObjectName(QStringLiteral("kneeSearchLog"));
    m_log->setReadOnly(true);
    m_log->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    m_log->setMaximumBlockCount(100);
    m_log->setFixedHeight(m_log->fontMetrics().lineSpacing() * 7);
    m_log->setVisible(false); // shown by a knee search
    v->addWidget(m_log);
    m_save = new QPushButton(tr("Save baseline…"), box);
    m_save->setToolTip(tr("Write the baseline of the last run to a JSON file (File → Export baseline…)"));
    m_save->setEnabled(false);
    v->addWidget(m_save, 0, Qt::AlignRight);

    m_chart = new QChart;
    m_chart->setTitle(tr("Throughput curve"));
    m_chart->setMargins(QMargins(2, 2, 2, 2));
    m_chart->setBackgroundRoundness(0);
    m_chart->legend()->setAlignment(Qt::AlignBottom);
    m_achieved = new QLineSeries;
    m_achieved->setName(tr("achieved req/s"));
    m_achieved->setPointsVisible(true);
    m_achieved->setPen(QPen(QColor(0x1f77b4), 2));
    m_p95 = new QLineSeries;
    m_p95->setName(tr("p95 ms"));
    m_p95->setPointsVisible(true);
    m_p95->setPen(QPen(QColor(0xe67e22), 2));
    m_knee = new QScatterSeries;
    m_knee->setName(tr("knee"));
    m_knee->setMarkerSize(14);
    m_knee->setColor(QColor(0xb3261e));
    m_bound = new QScatterSeries;
    m_bound->setName(tr("generator-bound"));
    m_bound->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
    m_bound->setMarkerSize(9);
    m_bound->setColor(QColor(0x9e9e9e));
    m_chart->addSeries(m_achieved);
    m_chart->addSeries(m_p95);
    m_chart->addSeries(m_knee);
    m_chart->addSeries(m_bound);
    m_axisUsers = new QValueAxis;
    m_axisUsers->setTitleText(tr("users"));
    m_axisUsers->setLabelFormat(QStringLiteral("%d"));
    m_axisRps = new QValueAxis;
    m_axisRps->setTitleText(tr("req/s"));
    m_axisRps->setLabelFormat(QStringLiteral("%.0f"));
    m_axisMs = new QValueAxis;
    m_axisMs->setTitleText(tr("ms"));
    m_axisMs->setLabelFormat(QStringLiteral("%.0f"));
    m_chart->addAxis(m_axisUsers, Qt::AlignBottom);
    m_chart->addAxis(m_axisRps, Qt::AlignLeft);
    m_chart->addAxis(m_axisMs, Qt::AlignRight);
    for (QXYSeries *s : {static_cast<QXYSeries *>(m_achieved), static_cast<QXYSeries *>(m_knee), static_cast<QXYSeries *>(m_bound)}) {
        s->attachAxis(m_axisUsers);
        s->attachAxis(m_axisRps);
    }
    m_p95->attachAxis(m_axisUsers);
    m_p95->attachAxis(m_axisMs);
    // Until a run reports: the planned users on x, placeholder ranges for the rest.
    m_axisUsers->setRange(0, niceMax(double(m_users->value() * m_steps->value())));
    m_axisRps->setRange(0, 10);
    m_axisMs->setRange(0, 1000);
    m_curveView = new QChartView(m_chart, box);
    m_curveView->setRenderHint(QPainter::Antialiasing);
    m_curveView->setMinimumHeight(200);
    v->addWidget(m_curveView, 1);

    connect(m_start, &QPushButton::clicked, this,
            [this] { emit startRequested(m_users->value(), m_stepSeconds->value(), m_steps->value()); });
    connect(m_findKnee, &QPushButton::clicked, this, [this] { emit findKneeRequested(m_searchSeconds->value()); });
    connect(m_stop, &QPushButton::clicked, this, &LoadTestPanel::stopRequested);
    connect(m_save, &QPushButton::clicked, this, &LoadTestPanel::saveRequested);
    setAvailable(false, tr("no gateway is running"));
}

int LoadTestPanel::curvePoints() const
{
    return int(m_achieved->count());
}

QList<QPointF> LoadTestPanel::curve() const
{
    return m_achieved->points();
}

int LoadTestPanel::generatorBoundPoints() const
{
    return int(m_bound->count());
}

void LoadTestPanel::setSaveAvailable(bool available)
{
    m_save->setEnabled(available);
}

void LoadTestPanel::setAvailable(bool available, const QString &reason)
{
    m_available = available;
    for (QWidget *w : {static_cast<QWidget *>(m_users), static_cast<QWidget *>(m_stepSeconds),
                       static_cast<QWidget *>(m_steps), static_cast<QWidget *>(m_start),
                       static_cast<QWidget *>(m_findKnee), static_cast<QWidget *>(m_searchSeconds),
                       static_cast<QWidget *>(m_workers)})
        w->setEnabled(available && !m_running);
    m_stop->setEnabled(available && m_running);
    setToolTip(available ? QString() : reason);
}

void LoadTestPanel::showError(const QString &message)
{
    m_result->setText(QStringLiteral("<span style=\"color:#b3261e\">%1</span>").arg(message.toHtmlEscaped()));
}

void LoadTestPanel::setStatus(const QJsonObject &st)
{
    const QString state = st.value(QStringLiteral("state")).toString();
    m_running = state == QLatin1String("running");
    setAvailable(m_available, toolTip());

    const int steps = std::max(1, st.value(QStringLiteral("steps")).toInt());
    const QJsonObject p = st.value(QStringLiteral("progress")).toObject();
    const QJsonArray curve = st.value(QStringLiteral("curve")).toArray();
    const QJsonObject search = st.value(QStringLiteral("search")).toObject();
    const bool searching = !search.isEmpty();
    m_log->setVisible(searching);
    if (searching) {
        const QJsonArray lines = search.value(QStringLiteral("lines")).toArray();
        if (m_log->blockCount() != lines.size() || lines.isEmpty()) {
            QStringList text;
            for (const QJsonValue &l : lines)
                text << l.toString();
            m_log->setPlainText(text.join(QLatin1Char('\n')));
        }
    }
    if (m_running && searching) {
        const double elapsed = search.value(QStringLiteral("elapsedSeconds")).toDouble();
        const double budget = std::max(1.0, search.value(QStringLiteral("maxSeconds")).toDouble());
        m_progress->setValue(int(std::min(100.0, 100 * elapsed / budget)));
        m_progress->setFormat(tr("knee search · step %1 (%2, %3) · %4 users · %5 of %6 s")
                                  .arg(st.value(QStringLiteral("step")).toInt() + 1)
                                  .arg(search.value(QStringLiteral("phase")).toString(),
                                       search.value(QStringLiteral("stepState")).toString())
                                  .arg(search.value(QStringLiteral("stepUsers")).toInt())
                                  .arg(elapsed, 0, 'f', 0)
                                  .arg(budget, 0, 'f', 0));
    } else if (m_running) {
        const int step = p.value(QStringLiteral("step")).toInt();
        m_progress->setValue(100 * step / steps);
        m_progress->setFormat(tr("step %1 of %2 · %3 users · %4 req/s")
                                  .arg(step + 1).arg(steps).arg(p.value(QStringLiteral("users")).toInt())
                                  .arg(p.value(QStringLiteral("requestsPerSecond")).toDouble(), 0, 'f', 1));
    } else if (state == QLatin1String("finished")) {
        m_progress->setValue(100);
        m_progress->setFormat(tr("finished: %1 steps").arg(curve.size()));
    } else if (state == QLatin1String("failed")) {
        m_progress->setFormat(tr("failed"));
    }

    // A search measures out of order (its bisection goes back down): lines need points sorted by users.
    QList<QJsonObject> points;
    for (const QJsonValue &v : curve)
        points << v.toObject();
    std::stable_sort(points.begin(), points.end(), [](const QJsonObject &a, const QJsonObject &b) {
        return a.value(QStringLiteral("users")).toDouble() < b.value(QStringLiteral("users")).toDouble();
    });
    QList<QPointF> rps, p95, bound;
    double maxRps = 0, maxMs = 0, maxUsers = 0;
    for (const QJsonObject &s : points) {
        const double users = s.value(QStringLiteral("users")).toDouble();
        const double r = s.value(QStringLiteral("achievedRps")).toDouble();
        const double ms = s.value(QStringLiteral("p95Ms")).toDouble();
        rps << QPointF(users, r);
        p95 << QPointF(users, ms);
        if (s.value(QStringLiteral("generator")).toObject().value(QStringLiteral("bound")).toBool())
            bound << QPointF(users, r);
        maxRps = std::max(maxRps, r);
        maxMs = std::max(maxMs, ms);
        maxUsers = std::max(maxUsers, users);
    }
    m_achieved->replace(rps);
    m_p95->replace(p95);
    m_bound->replace(bound);
    m_axisUsers->setRange(0, niceMax(std::max(maxUsers, double(m_users->value()))));
    m_axisRps->setRange(0, niceMax(maxRps * 1.1));
    m_axisMs->setRange(0, niceMax(maxMs * 1.1));

    const QJsonObject inf = st.value(QStringLiteral("inflection")).toObject();
    m_knee->clear();
    // What the search adds to its knee: the budget ran out, the generator was the bottleneck.
    QString notes;
    for (const QJsonValue &n : search.value(QStringLiteral("result")).toObject().value(QStringLiteral("notes")).toArray())
        notes += QStringLiteral("<br><span style=\"color:#b26a00\">%1</span>").arg(n.toString().toHtmlEscaped());
    if (!inf.isEmpty()) {
        m_knee->append(inf.value(QStringLiteral("users")).toDouble(), inf.value(QStringLiteral("throughputRps")).toDouble());
        m_result->setText(tr("<b>Knee</b> at %1 users: queue depth %2, %3 req/s, p95 %4 ms")
                              .arg(inf.value(QStringLiteral("users")).toInt())
                              .arg(inf.value(QStringLiteral("queueDepth")).toDouble(), 0, 'f', 1)
                              .arg(inf.value(QStringLiteral("throughputRps")).toDouble(), 0, 'f', 1)
                              .arg(inf.value(QStringLiteral("p95Ms")).toDouble(), 0, 'f', 0)
                          + notes);
    } else if (state == QLatin1String("failed")) {
        showError(st.value(QStringLiteral("error")).toString());
    } else if (state == QLatin1String("finished") && searching) {
        m_result->setText(search.value(QStringLiteral("result")).toObject().value(QStringLiteral("reason")).toString().toHtmlEscaped()
                          + notes);
    } else if (state == QLatin1String("finished")) {
        m_result->setText(st.value(QStringLiteral("kneeReason")).toString().toHtmlEscaped());
    } else if (m_running && searching) {
        m_result->setText(tr("searching: each step's verdict is below; the knee comes when the search ends"));
    } else if (m_running) {
        m_result->setText(tr("running: the knee is computed when the last step ends"));
    }
}
