#pragma once

#include <QtGlobal>

#include <atomic>

// The process-wide budget for memory that admitted work holds (issue 17):
// request bodies with what parsing and queueing them costs, and answers
// not yet taken by their client. The HTTP front charges a request before
// its body is read (tryCharge) and releases it when the answer has left;
// work that does not fit is refused with 503 + Retry-After instead of
// being allocated. A limit of 0 charges and counts but never refuses.
//
// Thread: every member is thread-safe (atomics); the gateway's server
// thread charges and releases, metrics read from any thread.
class MemoryBudget
{
public:
    explicit MemoryBudget(qint64 limitBytes) : m_limit(limitBytes) {}

    // Charges `bytes` when they fit under the limit (always when the limit
    // is 0); false, counted as a refusal, when they do not.
    bool tryCharge(qint64 bytes)
    {
        qint64 used = m_used.load(std::memory_order_relaxed);
        do {
            if (m_limit > 0 && used + bytes > m_limit) {
                m_refusals.fetch_add(1, std::memory_order_relaxed);
                return false;
            }
        } while (!m_used.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
        return true;
    }
    // Charges what is already allocated and cannot be refused (an answer).
    void charge(qint64 bytes) { m_used.fetch_add(bytes, std::memory_order_relaxed); }
    void release(qint64 bytes) { m_used.fetch_sub(bytes, std::memory_order_relaxed); }

    qint64 used() const { return m_used.load(std::memory_order_relaxed); }
    qint64 limit() const { return m_limit; }
    quint64 refusals() const { return m_refusals.load(std::memory_order_relaxed); }

private:
    const qint64 m_limit;
    std::atomic<qint64> m_used{0};
    std::atomic<quint64> m_refusals{0};
};
