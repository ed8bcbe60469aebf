#pragma once

#include <QString>

class QFrame;
class QLabel;
class QVBoxLayout;
class QWidget;

// The pieces the console's panels share: their frame, a bold heading and a
// muted (caption coloured) label.
//
// Thread: UI thread.
namespace PanelParts {

// Names `panel`, gives it the panels' frame and returns its outer layout
// (the panels' margins and spacing).
QVBoxLayout *frame(QFrame *panel, const QString &objectName);
QLabel *heading(const QString &text, QWidget *parent);
QLabel *muted(const QString &text, QWidget *parent);

} // namespace PanelParts
