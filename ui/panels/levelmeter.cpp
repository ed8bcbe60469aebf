#include "ui/panels/levelmeter.h"

#include <QProgressBar>
#include <QVariant>

namespace LevelMeter {

QProgressBar *create(QWidget *parent, int height)
{
    auto *bar = new QProgressBar(parent);
    bar->setTextVisible(false);
    bar->setFixedHeight(height);
    bar->setRange(0, kScale);
    bar->setMinimumWidth(60);
    return bar;
}

void setColor(QProgressBar *bar, const QString &color)
{
    if (bar->property("color").toString() == color)
        return;
    bar->setProperty("color", color);
    bar->setStyleSheet(QStringLiteral("QProgressBar { border: none; border-radius: 3px; background: palette(midlight); }"
                                      "QProgressBar::chunk { border-radius: 3px; background: %1; }")
                           .arg(color));
}

} // namespace LevelMeter
