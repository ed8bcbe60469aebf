#include "ui/charts/timeseriesring.h"

#include <algorithm>

TimeSeriesRing::TimeSeriesRing(int capacity)
    : m_buf(size_t(std::max(1, capacity)))
{
}

void TimeSeriesRing::push(double x, double y)
{
    const int cap = capacity();
    if (m_size < cap) {
        m_buf[size_t((m_head + m_size) % cap)] = QPointF(x, y);
        ++m_size;
    } else {
        m_buf[size_t(m_head)] = QPointF(x, y);
        m_head = (m_head + 1) % cap;
    }
}

void TimeSeriesRing::clear()
{
    m_head = 0;
    m_size = 0;
}

QPointF TimeSeriesRing::at(int i) const
{
    return m_buf[size_t((m_head + i) % capacity())];
}

QList<QPointF> TimeSeriesRing::window(double xMin, double xOrigin, int maxPoints, double *maxY) const
{
    // Samples are in increasing x: binary-search the first one in the window.
    int lo = 0, hi = m_size;
    while (lo < hi) {
        const int mid = (lo + hi) / 2;
        if (at(mid).x() < xMin)
            lo = mid + 1;
        else
            hi = mid;
    }
    const int n = m_size - lo;
    const int stride = maxPoints > 0 && n > maxPoints ? (n + maxPoints - 1) / maxPoints : 1;
    QList<QPointF> out;
    out.reserve(n / stride + 1);
    double top = 0;
    // Thinning keeps the highest sample of each group, so a latency spike is
    // never thinned away; the newest sample always ends the line.
    for (int i = lo; i < m_size; i += stride) {
        const int end = std::min(m_size, i + stride);
        QPointF best = at(i);
        for (int j = i + 1; j < end; ++j)
            if (at(j).y() > best.y())
                best = at(j);
        if (end == m_size)
            best.setX(at(m_size - 1).x());
        top = std::max(top, best.y());
        out.append(QPointF(best.x() - xOrigin, best.y()));
    }
    if (maxY)
        *maxY = top;
    return out;
}
