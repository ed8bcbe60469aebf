#pragma once

#include "core/util/clock.h"

#include <QByteArray>
#include <QHashFunctions>

#include <atomic>
#include <chrono>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>

// An exact-match cache of successful non-streaming answers (the bytes
// written to the client), keyed by ShareKey::compute(). Off unless
// maxBytes > 0. Bounded by bytes: each entry costs its key, its body and
// kEntryOverhead; the least recently used go first when a new one needs
// room, and an answer larger than maxBytes / 8 is not kept. Entries expire
// ttl after they were stored.
//
// Thread: thread-safe (one short lock per call); the gauges are atomics.
class AnswerCache
{
public:
    struct Config {
        qint64 maxBytes = 0; // 0: off
        std::chrono::seconds ttl{300};
    };
    struct Hit {
        QByteArray body;
        std::chrono::seconds age{0};
    };
    static constexpr qint64 kEntryOverhead = 160;

    explicit AnswerCache(Config config, Clock &clock = Clock::steady());

    bool enabled() const { return m_config.maxBytes > 0; }
    const Config &config() const { return m_config; }

    std::optional<Hit> find(const QByteArray &key);
    void insert(const QByteArray &key, const QByteArray &body);

    qint64 usedBytes() const { return m_used.load(std::memory_order_relaxed); }
    qint64 entries() const { return m_entries.load(std::memory_order_relaxed); }

private:
    struct Entry {
        QByteArray key;
        QByteArray body;
        SteadyTime storedAt;
        qint64 cost = 0;
    };
    using List = std::list<Entry>;
    struct KeyHash {
        size_t operator()(const QByteArray &k) const noexcept { return qHash(QByteArrayView(k)); }
    };
    void eraseLocked(List::iterator it);

    const Config m_config;
    Clock &m_clock;
    std::mutex m_mutex;
    List m_lru; // most recently used first
    std::unordered_map<QByteArray, List::iterator, KeyHash> m_index;
    std::atomic<qint64> m_used{0};
    std::atomic<qint64> m_entries{0};
};
