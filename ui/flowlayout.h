#pragma once

#include <QLayout>
#include <QList>

// Lays its items out left to right at their size hints and wraps onto a new
// line when the next one does not fit (the console's headline figures: one
// row at the default width; at a narrow window the last figures wrap instead
// of forcing the window wider). Its minimum width is its widest item's;
// its height follows the width (heightForWidth). Items keep their size
// hints: a row is not stretched to fill.
//
// Thread: UI thread.
class FlowLayout : public QLayout
{
public:
    explicit FlowLayout(QWidget *parent = nullptr, int horizontalSpacing = 24, int verticalSpacing = 6);
    ~FlowLayout() override;

    void addItem(QLayoutItem *item) override;
    int count() const override;
    QLayoutItem *itemAt(int index) const override;
    QLayoutItem *takeAt(int index) override;

    Qt::Orientations expandingDirections() const override;
    bool hasHeightForWidth() const override;
    int heightForWidth(int width) const override;
    QSize minimumSize() const override;
    QSize sizeHint() const override; // every item in one row
    void setGeometry(const QRect &rect) override;

    // How many rows the items took at the last setGeometry (tests).
    int rows() const { return m_rows; }

private:
    int place(const QRect &rect, bool apply) const; // the height used; lays out when `apply`

    QList<QLayoutItem *> m_items;
    int m_hSpacing;
    int m_vSpacing;
    mutable int m_rows = 0;
};
