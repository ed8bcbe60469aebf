#pragma once

#include <QList>
#include <QPointF>

#include <vector>

// A bounded ring of (x, y) samples in increasing x: the chart history. Memory
// and per-update cost are bounded by the capacity, never by the run time.
//
// Thread: plain value type, used on the UI thread.
class TimeSeriesRing
{
public:
    explicit TimeSeriesRing(int capacity = 2400);

    void push(double x, double y);
    void clear();

    int size() const { return m_size; }
    int capacity() const { return int(m_buf.size()); }
    QPointF at(int i) const; // 0 = oldest

    // The samples with x >= xMin, shifted by -xOrigin (so the newest sample
    // can sit at 0 on a "seconds ago" axis), thinned by an even stride to at
    // most maxPoints. *maxY receives the largest y returned (0 when empty).
    QList<QPointF> window(double xMin, double xOrigin, int maxPoints, double *maxY = nullptr) const;

private:
    std::vector<QPointF> m_buf;
    int m_head = 0; // index of the oldest sample
    int m_size = 0;
};
