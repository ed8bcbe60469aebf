#include "server/simulator/simulatorscheduler.h"

#include "server/simulator/simhttpconnection.h"
#include "server/simulator/simulatorshared.h"
#include "server/simulator/simulatorwire.h"

#include <QTimer>

#include <cmath>

SimulatorScheduler::SimulatorScheduler(std::shared_ptr<SimulatorShared> shared, int maxConcurrent, QObject *parent)
    : QObject(parent), m_shared(std::move(shared)), m_capacity(maxConcurrent)
{
}

void SimulatorScheduler::setMaxConcurrent(int n)
{
    m_capacity.setMaxConcurrent(n);
    pump();
}

void SimulatorScheduler::clearWaiting()
{
    m_capacity.clearWaiting();
}

void SimulatorScheduler::publishGauges()
{
    const int inFlight = m_capacity.inFlight();
    const int queued = m_capacity.queued();
    QMutexLocker lock(&m_shared->mutex);
    SimulatorStats &s = m_shared->stats;
    s.inFlight = inFlight;
    s.queued = queued;
    s.maxInFlight = std::max(s.maxInFlight, inFlight);
    s.maxQueued = std::max(s.maxQueued, queued);
}

void SimulatorScheduler::submit(const std::shared_ptr<SimulatorJob> &job)
{
    if (!m_pumping && m_capacity.tryStart()) {
        publishGauges();
        start(job);
        return;
    }
    m_capacity.wait(job);
    publishGauges();
    pump();
}

void SimulatorScheduler::pump()
{
    if (m_pumping)
        return;
    m_pumping = true;
    bool dropped = false;
    auto gone = [this, &dropped](const std::shared_ptr<SimulatorJob> &job) {
        // The client left while waiting; the slot goes to the next one.
        const bool left = job->conn.isNull();
        dropped = dropped || left;
        if (left) {
            QMutexLocker lock(&m_shared->mutex);
            ++m_shared->stats.abandoned;
        }
        return left;
    };
    while (std::optional<std::shared_ptr<SimulatorJob>> job = m_capacity.next(gone)) {
        publishGauges();
        start(*job);
    }
    if (dropped)
        publishGauges();
    m_pumping = false;
}

void SimulatorScheduler::start(const std::shared_ptr<SimulatorJob> &job)
{
    job->work.serverTiming = QStringLiteral("gfet4t7; dur=%1").arg(qint64(std::llround(job->scaledMs)));
    step(job);
}

void SimulatorScheduler::step(const std::shared_ptr<SimulatorJob> &job)
{
    // Time from the previous write (or the start of service) to the next one.
    const SimulatorWork &w = job->work;
    const double scale = w.serviceMs > 0 ? job->scaledMs / w.serviceMs : 0.0;
    const bool chunked = w.stream && w.sse;
    const double prevAt = job->next == 0 ? 0.0 : (chunked ? w.chunkAtMs[job->next - 1] : 0.0);
    const double at = chunked ? w.chunkAtMs[job->next] : w.serviceMs;
    const double delayMs = (at - prevAt) * scale;
    if (delayMs < 0.5) {
        write(job);
        return;
    }
    QTimer::singleShot(std::chrono::milliseconds(qint64(std::llround(delayMs))), Qt::PreciseTimer, this,
                       [this, job] { write(job); });
}

void SimulatorScheduler::write(const std::shared_ptr<SimulatorJob> &job)
{
    SimHttpConnection *c = job->conn.data();
    const SimulatorWork &work = job->work;
    const bool chunked = work.stream && work.sse;
    const int total = chunked ? int(work.chunks.size()) : 1;
    if (chunked && work.failAfterChunk >= 0 && job->next == work.failAfterChunk) {
        // The injected mid-stream failure: an error event, then the end.
        if (c) {
            c->writeChunk("data: " + SimulatorWire::unavailable() + "\r\n\r\n");
            c->endStream();
        }
        release(job);
        return;
    }
    if (c && !chunked) {
        QByteArray body = work.body;
        if (work.stream) // streamGenerateContent without alt=sse: one JSON array of the chunks
            body = '[' + work.chunks.join(",\r\n") + ']';
        {
            QMutexLocker lock(&m_shared->mutex);
            ++m_shared->stats.responsesPerStatus[200];
        }
        c->sendResponse(200, SimulatorWire::jsonContentType(), body, {{"Server-Timing", work.serverTiming.toLatin1()}});
    } else if (c) {
        if (job->next == 0) {
            {
                QMutexLocker lock(&m_shared->mutex);
                ++m_shared->stats.responsesPerStatus[200];
            }
            c->beginStream(200, "text/event-stream",
                           {{"Content-Disposition", "attachment"}, {"Server-Timing", work.serverTiming.toLatin1()}});
        }
        c->writeChunk("data: " + work.chunks[job->next] + "\r\n\r\n");
        if (job->next == total - 1)
            c->endStream();
    }
    ++job->next;
    if (job->next >= total) {
        release(job);
        return;
    }
    step(job);
}

void SimulatorScheduler::release(const std::shared_ptr<SimulatorJob> &job)
{
    m_capacity.release();
    const bool delivered = !job->conn.isNull();
    const int inFlight = m_capacity.inFlight();
    {
        QMutexLocker lock(&m_shared->mutex);
        SimulatorStats &s = m_shared->stats;
        s.inFlight = inFlight;
        if (delivered)
            ++s.completed;
        else
            ++s.abandoned;
        s.promptTokens += job->work.promptTokens;
        s.outputTokens += job->work.outputTokens;
    }
    pump();
}
