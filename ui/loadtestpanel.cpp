#include "loadtestpanel.h"

#include <QChart>
#include <QChartView>
#include <QColor>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

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
    buttons->addWidget(m_start);
    buttons->addWidget(m_stop);
    v->addLayout(buttons);
    m_progress = new QProgressBar(box);
    m_progress->setRange(0, 100);
    m_progress->setValue(0);
    m_progress->setFormat(tr("not running"));
    v->addWidget(m_progress);

    auto *chart = new QChart;
    chart->setTitle(tr("Throughput curve: arrives with the load-test feature"));
    chart->setBackgroundBrush(QColor(0xf3f3f3));
    chart->legend()->hide();
    chart->setMargins(QMargins(2, 2, 2, 2));
    chart->setBackgroundRoundness(0);
    m_curve = new QChartView(chart, box);
    m_curve->setMinimumHeight(120);
    m_curve->setMaximumHeight(240);
    v->addWidget(m_curve, 1);

    connect(m_start, &QPushButton::clicked, this,
            [this] { emit startRequested(m_users->value(), m_stepSeconds->value(), m_steps->value()); });
    connect(m_stop, &QPushButton::clicked, this, &LoadTestPanel::stopRequested);
    setAvailable(false);
}

QString LoadTestPanel::unavailableReason()
{
    return tr("arrives with the load-test feature");
}

void LoadTestPanel::setAvailable(bool available)
{
    const QString tip = available ? QString() : unavailableReason();
    for (QWidget *w : {static_cast<QWidget *>(m_users), static_cast<QWidget *>(m_stepSeconds),
                       static_cast<QWidget *>(m_steps), static_cast<QWidget *>(m_start),
                       static_cast<QWidget *>(m_stop), static_cast<QWidget *>(m_progress),
                       static_cast<QWidget *>(m_curve)}) {
        w->setEnabled(available);
        w->setToolTip(tip);
    }
    setToolTip(tip);
}
