#include "ui/panels/panelparts.h"

#include <QFrame>
#include <QLabel>
#include <QVBoxLayout>

namespace PanelParts {

QVBoxLayout *frame(QFrame *panel, const QString &objectName)
{
    panel->setObjectName(objectName);
    panel->setFrameShape(QFrame::StyledPanel);
    auto *outer = new QVBoxLayout(panel);
    outer->setContentsMargins(10, 6, 10, 6);
    outer->setSpacing(4);
    return outer;
}

QLabel *heading(const QString &text, QWidget *parent)
{
    auto *l = new QLabel(text, parent);
    QFont f = l->font();
    f.setBold(true);
    l->setFont(f);
    return l;
}

QLabel *muted(const QString &text, QWidget *parent)
{
    auto *l = new QLabel(text, parent);
    l->setStyleSheet(QStringLiteral("color: palette(mid);"));
    return l;
}

} // namespace PanelParts
