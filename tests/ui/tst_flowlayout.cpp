// FlowLayout: the console's headline figures in one row while they fit,
// wrapped onto more rows instead of forcing a minimum width when they do not.

#include "ui/flowlayout.h"

#include <QTest>
#include <QWidget>

namespace {

// A widget of a fixed preferred size.
class Box : public QWidget
{
public:
    Box(QSize hint, QWidget *parent) : QWidget(parent), m_hint(hint) {}
    QSize sizeHint() const override { return m_hint; }
    QSize minimumSizeHint() const override { return m_hint; }

private:
    QSize m_hint;
};

struct Row {
    QWidget parent;
    FlowLayout *flow;
    QList<Box *> boxes;

    // Widths 100, 150, 120 and 80; heights 40, 50, 40, 30; 24 between, margins 12/6.
    Row()
        : flow(new FlowLayout(&parent, 24, 4))
    {
        flow->setContentsMargins(12, 6, 12, 6);
        const QSize sizes[] = {{100, 40}, {150, 50}, {120, 40}, {80, 30}};
        for (QSize s : sizes) {
            boxes.append(new Box(s, &parent));
            flow->addWidget(boxes.last());
        }
    }
    void layOut(int width)
    {
        flow->setGeometry(QRect(0, 0, width, flow->heightForWidth(width)));
    }
};

} // namespace

class TestFlowLayout : public QObject
{
    Q_OBJECT

private slots:
    void oneRowWhenItFits()
    {
        Row r;
        // 100 + 150 + 120 + 80 + 3 × 24 + 2 × 12 = 546 wide, 50 + 2 × 6 high.
        QCOMPARE(r.flow->sizeHint(), QSize(546, 62));
        r.layOut(546);
        QCOMPARE(r.flow->rows(), 1);
        QCOMPARE(r.flow->heightForWidth(546), 62);
        QCOMPARE(r.boxes[0]->geometry(), QRect(12, 6, 100, 40));
        QCOMPARE(r.boxes[1]->geometry(), QRect(136, 6, 150, 50));
        QCOMPARE(r.boxes[3]->geometry(), QRect(454, 6, 80, 30));
    }

    void wrapsWhenNarrow()
    {
        Row r;
        r.layOut(545); // one pixel short: the last one wraps
        QCOMPARE(r.flow->rows(), 2);
        QCOMPARE(r.boxes[3]->geometry(), QRect(12, 6 + 50 + 4, 80, 30));
        QCOMPARE(r.flow->heightForWidth(545), 6 + 50 + 4 + 30 + 6);
        r.layOut(300);
        QCOMPARE(r.flow->rows(), 2); // 100 + 24 + 150 fit in 276, so do 120 + 24 + 80
        QCOMPARE(r.boxes[2]->geometry().topLeft(), QPoint(12, 60));
        QCOMPARE(r.boxes[3]->geometry().topLeft(), QPoint(156, 60));
    }

    void minimumIsTheWidestItem()
    {
        Row r;
        QCOMPARE(r.flow->minimumSize(), QSize(150 + 24, 50 + 12));
        r.layOut(174); // one per row
        QCOMPARE(r.flow->rows(), 4);
        QCOMPARE(r.flow->heightForWidth(174), 6 + 40 + 4 + 50 + 4 + 40 + 4 + 30 + 6);
        // Hidden items take no place.
        r.boxes[1]->hide();
        QCOMPARE(r.flow->sizeHint(), QSize(546 - 150 - 24, 52));
        r.layOut(546);
        QCOMPARE(r.flow->rows(), 1);
        QCOMPARE(r.boxes[2]->geometry().topLeft(), QPoint(136, 6));
    }
};

QTEST_MAIN(TestFlowLayout)
#include "tst_flowlayout.moc"
