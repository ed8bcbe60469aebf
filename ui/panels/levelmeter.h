#pragma once

#include <QString>

class QProgressBar;
class QWidget;

// The console's thin meters (the quota gauges, calls by kind, the memory
// budget): a textless QProgressBar over 0..kScale, a rounded bar in a level
// colour (QuotaView::levelColor), as the dashboard draws its meters.
//
// Thread: UI thread.
namespace LevelMeter {

inline constexpr int kScale = 1000;

QProgressBar *create(QWidget *parent, int height);
// Restyles only when the colour changes (a style sheet repolishes).
void setColor(QProgressBar *bar, const QString &color);

} // namespace LevelMeter
