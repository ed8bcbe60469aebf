#pragma once

#include <deque>
#include <optional>
#include <utility>

// The GeminiSimulator's capacity decision, a pure policy: at most
// maxConcurrent jobs are served at once (each holds a slot from its start to
// its release), the others wait in FIFO order. A job whose client left while
// it waited is dropped when it reaches the front, without taking a slot.
// No clock, no timers, no sockets: SimulatorScheduler serves what it decides.
//
// Job is a copyable handle (the scheduler's std::shared_ptr<SimulatorJob>;
// a test's int). A template because the scheduler's jobs hold connections a
// table test has no use for; the bodies are the few lines below.
//
// Thread: not thread-safe; owned by its scheduler.
template <typename Job>
class SimulatorCapacity
{
public:
    explicit SimulatorCapacity(int maxConcurrent = 1) : m_maxConcurrent(maxConcurrent) {}

    // A lower limit lets started jobs finish; a higher one lets next() start more.
    void setMaxConcurrent(int n) { m_maxConcurrent = n; }

    // An arriving job starts at once when a slot is free and no job waits:
    // true, and the slot is taken (the job never counts as queued). Else
    // false: the caller hands it to wait().
    bool tryStart()
    {
        if (!m_waiting.empty() || m_inFlight >= m_maxConcurrent)
            return false;
        ++m_inFlight;
        return true;
    }

    void wait(Job job) { m_waiting.push_back(std::move(job)); }

    // The job to start now, its slot taken: the front of the FIFO while a
    // slot is free. Waiting jobs for which gone(job) is true are dropped on
    // the way. Nothing when no slot is free or no job waits.
    template <typename Gone>
    std::optional<Job> next(Gone &&gone)
    {
        while (m_inFlight < m_maxConcurrent && !m_waiting.empty()) {
            Job job = std::move(m_waiting.front());
            m_waiting.pop_front();
            if (gone(job))
                continue;
            ++m_inFlight;
            return job;
        }
        return std::nullopt;
    }

    // A started job has finished: its slot is free.
    void release() { --m_inFlight; }

    // Forgets the waiting jobs; started ones keep their slots until released.
    void clearWaiting() { m_waiting.clear(); }

    int inFlight() const { return m_inFlight; }
    int queued() const { return int(m_waiting.size()); }
    int maxConcurrent() const { return m_maxConcurrent; }

private:
    std::deque<Job> m_waiting;
    int m_inFlight = 0;
    int m_maxConcurrent;
};
