#pragma once

#include "server/simulator/simulatorcapacity.h"
#include "server/simulator/simulatorwork.h"

#include <QObject>
#include <QPointer>

#include <memory>

class SimHttpConnection;
struct SimulatorShared;

// One planned answer on its way to a client.
struct SimulatorJob {
    QPointer<SimHttpConnection> conn; // null once the client has gone
    SimulatorWork work;
    double scaledMs = 0;              // service time after jitter and timeScale, ms
    int next = 0;                     // the next piece to write (stream chunk, or 0 for a whole body)
};

// Serves planned answers under the GeminiSimulator's capacity model: the
// decision (at most maxConcurrent at once, the rest FIFO) is
// SimulatorCapacity's; this class adds the timers and the writes. A job's
// service lasts job.scaledMs from its start; a whole body is written at its
// end, SSE chunks at their offsets scaled alike. A job whose client left is
// written to no one but still holds its slot until its service ends (the
// simulated model still computes it); a waiting one is skipped.
// Keeps the inFlight/queued gauges and their high-water marks, completed and
// the token counters of SimulatorStats up to date.
//
// Thread: lives in and is used only from the simulator's server thread.
class SimulatorScheduler : public QObject
{
    Q_OBJECT
public:
    SimulatorScheduler(std::shared_ptr<SimulatorShared> shared, int maxConcurrent, QObject *parent = nullptr);

    // Takes effect at once: a higher limit starts waiting jobs.
    void setMaxConcurrent(int n);
    // Starts the job now when a slot is free and none waits, else queues it.
    // Its first write may happen before this returns (no service time).
    void submit(const std::shared_ptr<SimulatorJob> &job);
    // Forgets the waiting jobs (shutdown); jobs in service are left to their timers.
    void clearWaiting();

private:
    void pump();
    void start(const std::shared_ptr<SimulatorJob> &job);
    void step(const std::shared_ptr<SimulatorJob> &job);
    void write(const std::shared_ptr<SimulatorJob> &job);
    void release(const std::shared_ptr<SimulatorJob> &job);
    void publishGauges();

    std::shared_ptr<SimulatorShared> m_shared;
    SimulatorCapacity<std::shared_ptr<SimulatorJob>> m_capacity;
    // A synchronous answer releases its slot from inside pump(): the outer
    // loop picks up what it frees, and an arrival meanwhile waits its turn.
    bool m_pumping = false;
};
