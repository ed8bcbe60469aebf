#pragma once

#include <QString>

class QLabel;
class QWidget;

// The pieces the console's panels share: a bold heading and a muted (caption
// coloured) label.
//
// Thread: UI thread.
namespace PanelParts {

QLabel *heading(const QString &text, QWidget *parent);
QLabel *muted(const QString &text, QWidget *parent);

} // namespace PanelParts
