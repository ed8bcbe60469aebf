#include "server/routes/answercache.h"

#include <algorithm>

AnswerCache::AnswerCache(Config config, Clock &clock) : m_config(config), m_clock(clock)
{
    // Room for the entries a full cache of ~1 KiB answers holds, so that a
    // filling cache never rehashes under its lock (8 bytes per bucket).
    if (enabled())
        m_index.reserve(size_t(std::clamp<qint64>(m_config.maxBytes / 1024, 64, 1 << 20)));
}

std::optional<AnswerCache::Hit> AnswerCache::find(const QByteArray &key)
{
    if (!enabled())
        return std::nullopt;
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    const auto it = m_index.find(key);
    if (it == m_index.end())
        return std::nullopt;
    const List::iterator entry = it->second;
    if (now - entry->storedAt >= m_config.ttl) {
        eraseLocked(entry);
        return std::nullopt;
    }
    m_lru.splice(m_lru.begin(), m_lru, entry);
    return Hit{entry->body, std::chrono::duration_cast<std::chrono::seconds>(now - entry->storedAt)};
}

void AnswerCache::insert(const QByteArray &key, const QByteArray &body)
{
    const qint64 cost = key.size() + body.size() + kEntryOverhead;
    if (!enabled() || cost > m_config.maxBytes / 8)
        return;
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    if (const auto it = m_index.find(key); it != m_index.end())
        eraseLocked(it->second);
    while (!m_lru.empty() && m_used.load(std::memory_order_relaxed) + cost > m_config.maxBytes)
        eraseLocked(std::prev(m_lru.end()));
    m_lru.push_front(Entry{key, body, now, cost});
    m_index.emplace(key, m_lru.begin());
    m_used.fetch_add(cost, std::memory_order_relaxed);
    m_entries.fetch_add(1, std::memory_order_relaxed);
}

void AnswerCache::eraseLocked(List::iterator it)
{
    m_used.fetch_sub(it->cost, std::memory_order_relaxed);
    m_entries.fetch_sub(1, std::memory_order_relaxed);
    m_index.erase(it->key);
    m_lru.erase(it);
}
