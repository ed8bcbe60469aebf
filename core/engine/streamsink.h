#pragma once

#include <QByteArray>

#include <functional>
#include <mutex>

// The live side of a streaming request (streamGenerateContent): the
// upstream hands each piece of its text/event-stream body here as it
// arrives, byte for byte, and the consumer (the gateway) forwards it; the
// consumer cancels when its client leaves, which aborts the upstream call.
// The end of the stream (success or error) still arrives as the request's
// InferenceResult, after every piece.
//
// Thread: data() is called on the producer's (upstream) thread, pieces in
// order; cancel(), isCancelled() and setAbort() are thread-safe.
class StreamSink
{
public:
    virtual ~StreamSink() = default;

    // A piece of a 2xx event-stream body, as received. Never empty.
    virtual void data(const QByteArray &bytes) = 0;

    // Consumer: nobody wants the rest. Runs the producer's abort (once).
    void cancel()
    {
        std::function<void()> abort;
        {
            std::lock_guard lock(m_mutex);
            if (m_cancelled)
                return;
            m_cancelled = true;
            abort = std::move(m_abort);
            m_abort = nullptr;
        }
        if (abort)
            abort();
    }
    bool isCancelled() const
    {
        std::lock_guard lock(m_mutex);
        return m_cancelled;
    }
    // Producer: what cancel() does (run at once when already cancelled); an
    // empty function clears it. The abort must be thread-safe (it runs on
    // the consumer's thread) and cheap (post, do not block).
    void setAbort(std::function<void()> abort)
    {
        {
            std::lock_guard lock(m_mutex);
            if (!m_cancelled) {
                m_abort = std::move(abort);
                return;
            }
        }
        if (abort)
            abort();
    }

private:
    mutable std::mutex m_mutex;
    bool m_cancelled = false;
    std::function<void()> m_abort;
};
