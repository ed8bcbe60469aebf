#pragma once

#include "core/util/clock.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

struct redisContext;

// Where a Redis server is: `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`
// (port 6379, database 0 by default). parse() names what is wrong.
struct RedisUrl {
    QString host;
    int port = 6379;
    int db = 0;
    QString user;
    QString password;

    static std::optional<RedisUrl> parse(const QString &text, QString *error);
    // For logs, /health and metrics: never the password.
    QString display() const;
};

// One value of a Redis reply (RESP2): nested for arrays.
struct RedisReply {
    enum class Type { Nil, Integer, String, Status, Error, Array };
    Type type = Type::Nil;
    long long integer = 0;
    QByteArray text; // String, Status, Error
    QList<RedisReply> elements;

    bool isError() const { return type == Type::Error; }
    // An integer, or a string holding one (Lua numbers come back as either).
    long long toInteger() const;
};

// A blocking connection to one Redis server over hiredis's synchronous API,
// with a timeout on connecting and on every command, so a Redis that stops
// answering costs at most that long. Sluice talks to Redis from one thread
// of its own (SharedBudget's), where blocking is harmless: the engine and
// the upstream workers never wait on it. hiredis's async API (its Qt adapter
// included) would put the calls on an event loop Sluice's hot paths run
// on, for no gain at a few reservations per upstream call.
//
// After any transport error (refused, reset, timed out) the connection is
// closed; connect() again.
//
// Thread: not thread-safe; one owner thread.
class RedisConnection
{
public:
    RedisConnection() = default;
    ~RedisConnection();
    RedisConnection(const RedisConnection &) = delete;
    RedisConnection &operator=(const RedisConnection &) = delete;

    // Connects, authenticates and selects the database. False with `error`
    // set when any of it fails.
    bool connect(const RedisUrl &url, Nanos timeout, QString *error);
    bool isConnected() const { return m_context != nullptr; }
    void close();

    // One command. nullopt with `error` set on a transport error (the
    // connection is then closed); a Redis error reply is a RedisReply of
    // Type::Error, the connection stays usable.
    std::optional<RedisReply> command(const QList<QByteArray> &args, QString *error);

private:
    redisContext *m_context = nullptr;
    QString m_display; // of the server connected to, for errors
    Nanos m_timeout{};
};
