#include "ui/panels/loadtestpanel.h"

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
    form->addRow(tr("Users per step"), m_users);
    form->addRow(tr("Step duration"), m_stepSeconds);
    form->addRow(tr("Steps"), m_steps);
    v->addLayout(form);

    auto *buttons = new QHBoxLayout;
    m_start = new QPushButton(tr("Start"), box);
    m_stop = new QPushButton(tr("Stop"), box);
    m_start->setToolTip(tr("Run Locust against this gateway, step by step, and find the throughput knee"));
    buttons->addWidget(m_start);
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
    m_chart->addSeries(m_achieved);
    m_chart->addSeries(m_p95);
    m_chart->addSeries(m_knee);
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
    for (QXYSeries *s : {static_cast<QXYSeries *>(m_achieved), static_cast<QXYSeries *>(m_knee)}) {
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
    connect(m_stop, &QPushButton::clicked, this, &LoadTestPanel::stopRequested);
    setAvailable(false, tr("no gateway is running"));
}

int LoadTestPanel::curvePoints() const
{
    return int(m_achieved->count());
}

void LoadTestPanel::setAvailable(bool available, const QString &reason)
{
    m_available = available;
    for (QWidget *w : {static_cast<QWidget *>(m_users), static_cast<QWidget *>(m_stepSeconds),
                       static_cast<QWidget *>(m_steps), static_cast<QWidget *>(m_start)})
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
    if (m_running) {
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

    QList<QPointF> rps, p95;
    double maxRps = 0, maxMs = 0, maxUsers = 0;
    for (const QJsonValue &v : curve) {
        const QJsonObject s = v.toObject();
        const double users = s.value(QStringLiteral("users")).toDouble();
        const double r = s.value(QStringLiteral("achievedRps")).toDouble();
        const double ms = s.value(QStringLiteral("p95Ms")).toDouble();
        rps << QPointF(users, r);
        p95 << QPointF(users, ms);
        maxRps = std::max(maxRps, r);
        maxMs = std::max(maxMs, ms);
        maxUsers = std::max(maxUsers, users);
    }
    m_achieved->replace(rps);
    m_p95->replace(p95);
    m_axisUsers->setRange(0, niceMax(std::max(maxUsers, double(m_users->value()))));
    m_axisRps->setRange(0, niceMax(maxRps * 1.1));
    m_axisMs->setRange(0, niceMax(maxMs * 1.1));

    const QJsonObject inf = st.value(QStringLiteral("inflection")).toObject();
    m_knee->clear();
    if (!inf.isEmpty()) {
        m_knee->append(inf.value(QStringLiteral("users")).toDouble(), inf.value(QStringLiteral("throughputRps")).toDouble());
        m_result->setText(tr("<b>Knee</b> at %1 users: queue depth %2, %3 req/s, p95 %4 ms")
                              .arg(inf.value(QStringLiteral("users")).toInt())
                              .arg(inf.value(QStringLiteral("queueDepth")).toDouble(), 0, 'f', 1)
                              .arg(inf.value(QStringLiteral("throughputRps")).toDouble(), 0, 'f', 1)
                              .arg(inf.value(QStringLiteral("p95Ms")).toDouble(), 0, 'f', 0));
    } else if (state == QLatin1String("failed")) {
        showError(st.value(QStringLiteral("error")).toString());
    } else if (state == QLatin1String("finished")) {
        m_result->setText(st.value(QStringLiteral("kneeReason")).toString().toHtmlEscaped());
    } else if (m_running) {
        m_result->setText(tr("running: the knee is computed when the last step ends"));
    }
}
