// SharedBudget: replicas spending one quota through a real redis-server of
// the test's own (127.0.0.1, a free port, no persistence), each "replica" an
// UpstreamBudget wired to its SharedBudget as GatewayRuntime wires them.
// What the cluster spent is read back from Redis directly, under the keys
// sharedbudget.lua documents (<prefix>{model}:rpm:a, field "sum").
//
// Every case uses a key prefix of its own, so no case sees another's
// windows, pacer or replicas. Skipped when /usr/bin/redis-server is missing
// (Debian package redis-server; packaging/install-deps.sh installs it).

#include "core/quota/redisconnection.h"
#include "core/quota/sharedbudget.h"
#include "core/quota/upstreambudget.h"
#include "tests/support/redisserver.h"

#include <QElapsedTimer>
#include <QFile>
#include <QPointer>
#include <QTcpSocket>
#include <QTest>
#include <QThread>
#include <QUrl>

#include <atomic>
#include <memory>

using namespace std::chrono_literals;

namespace {

const QString kRedisServer = QString::fromLatin1(RedisServer::kBinary);
const QString kModel = QStringLiteral("gemini-2.0-flash");

quint16 freePort()
{
    return RedisServer::freePort();
}

RedisUrl urlOf(quint16 port)
{
    RedisUrl url;
    url.host = QStringLiteral("127.0.0.1");
    url.port = port;
    return url;
}

// A loopback TCP relay in front of a Redis, on a thread of its own (so it
// relays while the test thread blocks): cut() closes every relayed
// connection and closes new ones at once (Redis unreachable, yet not
// restarted: its windows and run_id stay); restore() relays again.
// holdNextCharge(): the next EVALSHA of sharedbudget.lua's `charge` waits
// in the relay until releaseHeld() (heldCharge() says it is there).
class Relay : public QObject
{
public:
    explicit Relay(quint16 target) : m_target(target)
    {
        m_thread.setObjectName(QStringLiteral("Relay"));
        moveToThread(&m_thread);
        m_thread.start();
        QMetaObject::invokeMethod(
            this,
            [this] {
                m_server = new QTcpServer(this);
                QObject::connect(m_server, &QTcpServer::newConnection, this, [this] { accept(); });
                m_server->listen(QHostAddress::LocalHost, 0);
                m_port = m_server->serverPort();
            },
            Qt::BlockingQueuedConnection);
    }
    ~Relay() override
    {
        QMetaObject::invokeMethod(
            this,
            [this] {
                delete m_server;
                m_server = nullptr;
                dropAll();
            },
            Qt::BlockingQueuedConnection);
        m_thread.quit();
        m_thread.wait();
    }

    quint16 port() const { return m_port; }
    void cut()
    {
        QMetaObject::invokeMethod(this, [this] { m_cut = true; dropAll(); }, Qt::BlockingQueuedConnection);
    }
    void restore()
    {
        QMetaObject::invokeMethod(this, [this] { m_cut = false; }, Qt::BlockingQueuedConnection);
    }
    void holdNextCharge() { m_holdCharge = true; }
    bool heldCharge() const { return m_held.load(); }
    void releaseHeld()
    {
        QMetaObject::invokeMethod(
            this,
            [this] {
                if (m_heldTo)
                    m_heldTo->write(m_heldData);
                m_heldTo.clear();
            },
            Qt::BlockingQueuedConnection);
    }

private:
    void accept()
    {
        while (QTcpSocket *client = m_server->nextPendingConnection()) {
            client->setParent(nullptr);
            m_sockets << client;
            if (m_cut) {
                client->abort();
                continue;
            }
            auto *upstream = new QTcpSocket;
            m_sockets << upstream;
            upstream->connectToHost(QHostAddress::LocalHost, m_target);
            if (!upstream->waitForConnected(1000)) {
                client->abort();
                continue;
            }
            // Each connection's context is the other socket: deleting one drops them.
            QObject::connect(client, &QTcpSocket::readyRead, upstream, [this, client, upstream] { forward(client, upstream); });
            QObject::connect(upstream, &QTcpSocket::readyRead, client, [client, upstream] { client->write(upstream->readAll()); });
            QObject::connect(client, &QTcpSocket::disconnected, upstream, [upstream] { upstream->abort(); });
            QObject::connect(upstream, &QTcpSocket::disconnected, client, [client] { client->abort(); });
            if (client->bytesAvailable() > 0)
                forward(client, upstream);
        }
    }
    void forward(QTcpSocket *client, QTcpSocket *upstream)
    {
        QByteArray data = client->readAll();
        // RESP as hiredis writes it: the command, then its arguments (the
        // script's text, in SCRIPT LOAD, mentions both words too).
        if (m_holdCharge && data.contains("$7\r\nEVALSHA\r\n") && data.contains("$6\r\ncharge\r\n")) {
            m_holdCharge = false;
            m_heldTo = upstream;
            m_heldData = data;
            m_held = true;
            return;
        }
        upstream->write(data);
    }
    void dropAll()
    {
        for (QTcpSocket *s : std::as_const(m_sockets))
            s->abort();
        qDeleteAll(m_sockets);
        m_sockets.clear();
    }

    QThread m_thread;
    QTcpServer *m_server = nullptr;
    QList<QTcpSocket *> m_sockets;
    const quint16 m_target;
    std::atomic<quint16> m_port{0};
    bool m_cut = false;
    std::atomic<bool> m_holdCharge{false};
    std::atomic<bool> m_held{false};
    QPointer<QTcpSocket> m_heldTo;
    QByteArray m_heldData;
};

// One gateway replica's budget: an UpstreamBudget on the steady clock with a
// SharedBudget wired in as GatewayRuntime does; the callbacks are counted.
struct Replica {
    UpstreamBudget budget;
    std::unique_ptr<SharedBudget> shared;
    std::atomic<int> adopted{0};
    std::atomic<int> roomChanges{0};

    Replica(const SharedBudget::Settings &settings, const QuotaLimits &limits)
        : budget(Clock::steady(), [&] {
              ModelBudget::Settings s;
              s.configured = limits;
              s.probeStartRpm = 0;
              return s;
          }())
    {
        SharedBudget::Callbacks cb = budget.sharedCallbacks([this] { ++roomChanges; });
        cb.learned = [this, adopt = cb.learned](const QString &model, QuotaDimension d, long long limit, Nanos blocked) {
            ++adopted;
            adopt(model, d, limit, blocked);
        };
        shared = std::make_unique<SharedBudget>(settings, cb);
        budget.setShared(shared.get());
        shared->start();
    }
    ~Replica()
    {
        budget.setShared(nullptr);
        shared.reset();
    }

    SharedBudget::State state() const { return shared->status().state; }
    ModelBudget::DimensionState rpm() const
    {
        for (const UpstreamBudget::ModelState &m : budget.snapshot())
            if (m.model == kModel)
                return m.dimensions[0];
        return {};
    }
};

SharedBudget::Settings fastSettings(const RedisUrl &url, const QByteArray &prefix)
{
    SharedBudget::Settings s;
    s.url = url;
    s.keyPrefix = prefix;
    s.retryEvery = 200ms;
    s.beatEvery = 200ms;
    s.replicaTtl = 1s;
    s.leaseIdle = 300ms;
    return s;
}

QByteArray prefixFor(const char *testFunction)
{
    return QByteArrayLiteral("sluice:test:") + testFunction + ':';
}

// The sum of one window in Redis ("rpm", "tpm", "rpd"), read directly;
// -1 when Redis does not answer.
long long windowSum(const RedisUrl &url, const QByteArray &prefix, const char *window)
{
    RedisConnection redis;
    QString error;
    if (!redis.connect(url, 1s, &error))
        return -1;
    const QByteArray key = prefix + '{' + kModel.toUtf8() + "}:" + window + ":a";
    const std::optional<RedisReply> r = redis.command({QByteArrayLiteral("HGET"), key, QByteArrayLiteral("sum")}, &error);
    return r ? r->toInteger() : -1;
}

QByteArray learnedField(const RedisUrl &url, const QByteArray &prefix, const QByteArray &field)
{
    RedisConnection redis;
    QString error;
    if (!redis.connect(url, 1s, &error))
        return {};
    const std::optional<RedisReply> r
        = redis.command({QByteArrayLiteral("HGET"), prefix + '{' + kModel.toUtf8() + "}:learned", field}, &error);
    return r ? r->text : QByteArray();
}

} // namespace

#define REQUIRE_REDIS()                                                                                                \
    do {                                                                                                               \
        if (!m_haveRedis)                                                                                              \
            QSKIP("/usr/bin/redis-server is missing (Debian package redis-server; packaging/install-deps.sh "          \
                  "installs it): the shared budget needs a real Redis");                                               \
    } while (false)

class TestSharedBudget : public QObject
{
    Q_OBJECT

    RedisServer m_redis; // the one most cases share (each with its own key prefix)
    bool m_haveRedis = false;

private slots:
    void initTestCase()
    {
        if (!QFile::exists(kRedisServer))
            return;
        QString why;
        QVERIFY2(m_redis.start(freePort(), &why), qPrintable(why));
        m_haveRedis = true;
    }
    void cleanupTestCase() { m_redis.kill(); }

    void parseUrl_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<QString>("host");
        QTest::addColumn<int>("port");
        QTest::addColumn<int>("db");
        QTest::addColumn<QString>("user");
        QTest::addColumn<QString>("password");
        QTest::addColumn<QString>("shown"); // display() when ok, a part of the error otherwise

        const auto good = [](const char *name, const char *text, const char *host, int port, int db, const char *user,
                             const char *password, const char *shown) {
            QTest::newRow(name) << QString::fromUtf8(text) << true << QString::fromUtf8(host) << port << db
                                << QString::fromUtf8(user) << QString::fromUtf8(password) << QString::fromUtf8(shown);
        };
        const auto bad = [](const char *name, const char *text, const char *named) {
            QTest::newRow(name) << QString::fromUtf8(text) << false << QString() << 0 << 0 << QString() << QString()
                                << QString::fromUtf8(named);
        };
        good("host only: port 6379, db 0", "redis://redis", "redis", 6379, 0, "", "", "redis://redis:6379/0");
        good("host, port, db", "redis://10.0.0.7:6380/3", "10.0.0.7", 6380, 3, "", "", "redis://10.0.0.7:6380/3");
        good("trailing slash", "redis://127.0.0.1/", "127.0.0.1", 6379, 0, "", "", "redis://127.0.0.1:6379/0");
        good("db 15", "redis://h:1/15", "h", 1, 15, "", "", "redis://h:1/15");
        good("password: hidden", "redis://:s3cret@cache:7000/2", "cache", 7000, 2, "", "s3cret", "redis://***@cache:7000/2");
        good("ACL user and password: hidden", "redis://sluice:s3cret@cache/1", "cache", 6379, 1, "sluice", "s3cret",
             "redis://***@cache:6379/1");
        good("IPv6", "redis://[::1]:7001/4", "::1", 7001, 4, "", "", "redis://[::1]:7001/4");

        bad("TLS scheme", "rediss://cache:6380/0", "the scheme must be redis://");
        bad("http scheme", "http://cache:6379", "the scheme must be redis://");
        bad("no scheme", "cache:6379", "the scheme must be redis://");
        bad("no host", "redis://:6379/0", "no host");
        bad("nothing after the scheme", "redis://", "no host");
        bad("db 16", "redis://cache/16", "the database must be a number 0..15, not \"16\"");
        bad("db not a number", "redis://cache/zero", "the database must be a number 0..15, not \"zero\"");
        bad("port 0", "redis://cache:0/0", "the port must be 1..65535");
        bad("port 70000", "redis://cache:70000/0", "port");
        bad("query string", "redis://cache/0?timeout=5", "no query or fragment");
        bad("fragment", "redis://cache/0#x", "no query or fragment");
        bad("db 16, with a password", "redis://:s3cret@cache/16", "the database must be a number 0..15");
    }
    void parseUrl()
    {
        QFETCH(QString, text);
        QFETCH(bool, ok);
        QFETCH(QString, shown);
        QString error;
        const std::optional<RedisUrl> url = RedisUrl::parse(text, &error);
        if (!ok) {
            QVERIFY2(!url, qPrintable(text));
            QVERIFY2(error.contains(shown), qPrintable(error));
            const QString password = QUrl(text).password();
            if (password.isEmpty()) {
                QVERIFY2(error.contains(text), qPrintable(error)); // the operator sees which value was wrong
            } else {
                // sluice prints this error on stderr, into the logs.
                QVERIFY2(!error.contains(password), qPrintable(error));
            }
            return;
        }
        QVERIFY2(url, qPrintable(error));
        QTEST(url->host, "host");
        QTEST(url->port, "port");
        QTEST(url->db, "db");
        QTEST(url->user, "user");
        QTEST(url->password, "password");
        QCOMPARE(url->display(), shown);
        if (!url->password.isEmpty())
            QVERIFY(!url->display().contains(url->password));
    }

    // Two replicas behind one quota of 6 calls a minute: the cluster's burst
    // (a sixth of a minute's calls, at least one) is one call, and the shared
    // pacer spreads the minute's calls over it. Trying for 1.5 s from both,
    // alternately, the two together get exactly that one call; one replica
    // alone would get it too, so without sharing they would get two.
    void twoReplicasShareOneBurst_data()
    {
        QTest::addColumn<bool>("planned"); // room() + charge() as the engine does; else acquire() as retries do
        QTest::newRow("acquire") << false;
        QTest::newRow("room and charge") << true;
    }
    void twoReplicasShareOneBurst()
    {
        REQUIRE_REDIS();
        QFETCH(bool, planned);
        const QByteArray prefix = prefixFor(QTest::currentTestFunction()) + QTest::currentDataTag() + ':';
        Replica a(fastSettings(m_redis.url(), prefix), {6, 0, 0});
        Replica b(fastSettings(m_redis.url(), prefix), {6, 0, 0});
        QTRY_COMPARE_WITH_TIMEOUT(a.state(), SharedBudget::State::Shared, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(b.state(), SharedBudget::State::Shared, 5000);

        const auto attempt = [&](Replica &r) {
            if (!planned)
                return r.budget.acquire(kModel, 1, 0).granted ? 1 : 0;
            const ModelBudget::Room room = r.budget.room(kModel, 1);
            if (room.calls <= 0)
                return 0;
            r.budget.charge(kModel, room.calls, 0);
            return room.calls;
        };
        int grantedA = 0;
        int grantedB = 0;
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 1500) {
            grantedA += attempt(a);
            grantedB += attempt(b);
            QTest::qWait(5); // a dispatch loop's pace, not a wait for a result
        }
        QCOMPARE(grantedA + grantedB, 1);

        // The other one was told no by Redis, and when: the pacer's next slot,
        // a tenth of a minute on.
        Replica &loser = grantedA == 0 ? a : b;
        QVERIFY(loser.shared->status().denials >= 1);
        const ModelBudget::Grant g = loser.budget.availableAt(kModel, 1, 0);
        QVERIFY(!g.granted);
        QCOMPARE(g.binding, QuotaDimension::Rpm);
        const auto nextMs = std::chrono::duration_cast<std::chrono::milliseconds>(g.at - loser.budget.now()).count();
        QVERIFY2(nextMs > 5000, qPrintable(QStringLiteral("next call in %1 ms").arg(nextMs)));

        // Redis's windows hold what the cluster spent: one call.
        QCOMPARE(windowSum(m_redis.url(), prefix, "rpm"), 1LL);
        QCOMPARE(windowSum(m_redis.url(), prefix, "rpd"), 1LL);
        QCOMPARE(a.shared->status().reservations + b.shared->status().reservations, quint64(1));
    }

    // A lease nobody spends goes back after leaseIdle (300 ms here): Redis's
    // window forgets it, and so does the pacer, so another replica gets the
    // call at once rather than a tenth of a minute later.
    void unspentLeaseGoesBack()
    {
        REQUIRE_REDIS();
        const QByteArray prefix = prefixFor(QTest::currentTestFunction());
        Replica a(fastSettings(m_redis.url(), prefix), {6, 0, 0});
        QTRY_COMPARE_WITH_TIMEOUT(a.state(), SharedBudget::State::Shared, 5000);
        const int woken = a.roomChanges;
        QCOMPARE(a.budget.room(kModel, 1).calls, 0); // no lease yet: one is asked for
        QTRY_VERIFY_WITH_TIMEOUT(a.roomChanges > woken, 5000); // the engine is woken when it lands
        QCOMPARE(a.budget.room(kModel, 1).calls, 1);
        QCOMPARE(windowSum(m_redis.url(), prefix, "rpm"), 1LL); // reserved = spent, for the cluster
        QTRY_COMPARE_WITH_TIMEOUT(windowSum(m_redis.url(), prefix, "rpm"), 0LL, 5000);
        QCOMPARE(windowSum(m_redis.url(), prefix, "rpd"), 0LL);

        Replica b(fastSettings(m_redis.url(), prefix), {6, 0, 0});
        QTRY_COMPARE_WITH_TIMEOUT(b.state(), SharedBudget::State::Shared, 5000);
        bool granted = false; // QTRY_* evaluates its expression once more at the end: acquire only until granted
        QTRY_VERIFY_WITH_TIMEOUT(granted = granted || b.budget.acquire(kModel, 1, 0).granted, 3000);
        QCOMPARE(windowSum(m_redis.url(), prefix, "rpm"), 1LL);
    }

    // A 429 that taught one replica a limit is adopted by the others at
    // their next reservation, once; the one that published it does not
    // adopt it again.
    void learnedLimitsAreShared()
    {
        REQUIRE_REDIS();
        const QByteArray prefix = prefixFor(QTest::currentTestFunction());
        Replica a(fastSettings(m_redis.url(), prefix), {60, 0, 0});
        Replica b(fastSettings(m_redis.url(), prefix), {60, 0, 0});
        QTRY_COMPARE_WITH_TIMEOUT(a.state(), SharedBudget::State::Shared, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(b.state(), SharedBudget::State::Shared, 5000);
        QCOMPARE(b.budget.room(kModel, 1).calls, 0); // b holds its first lease before the 429: no lesson yet
        QTRY_COMPARE_WITH_TIMEOUT(b.budget.room(kModel, 1).calls, 1, 5000);
        QCOMPARE(b.rpm().limit, 60LL);

        a.budget.quotaExceeded(kModel, QuotaDimension::Rpm, 30, Nanos(2s));
        QCOMPARE(a.rpm().limit, 30LL);
        QTRY_COMPARE_WITH_TIMEOUT(learnedField(m_redis.url(), prefix, "rpm:limit"), QByteArray("30"), 5000);

        // b's next reservation brings the lesson.
        b.budget.charge(kModel, 1, 0); // spends its lease; the next one is reserved at once
        QTRY_COMPARE_WITH_TIMEOUT(b.rpm().limit, 30LL, 5000);
        QCOMPARE(b.rpm().source, ModelBudget::Source::Learned);
        QCOMPARE(b.adopted.load(), 1);

        // More reservations on both sides: nobody adopts it (again).
        const quint64 aBefore = a.shared->status().reservations + a.shared->status().denials;
        a.budget.room(kModel, 1);
        QTRY_VERIFY_WITH_TIMEOUT(a.shared->status().reservations + a.shared->status().denials > aBefore, 5000);
        const quint64 bBefore = b.shared->status().reservations + b.shared->status().denials;
        b.budget.charge(kModel, 1, 0);
        QTRY_VERIFY_WITH_TIMEOUT(b.shared->status().reservations + b.shared->status().denials > bBefore, 5000);
        QCOMPARE(a.adopted.load(), 0);
        QCOMPARE(b.adopted.load(), 1);
        QCOMPARE(a.rpm().limit, 30LL);
        QCOMPARE(a.rpm().source, ModelBudget::Source::Learned);
        QCOMPARE(b.rpm().limit, 30LL);
    }

    // Redis dies (SIGKILL): within a few beats both replicas are on their own
    // with half of every limit (two replicas were seen), keep granting, and
    // when a new Redis answers on the same address they share again and
    // record there everything of their last day (its windows are empty):
    // what was spent before the outage and during it.
    void fallbackAndRecoveryOnANewRedis()
    {
        REQUIRE_REDIS();
        RedisServer redis;
        QString why;
        QVERIFY2(redis.start(freePort(), &why), qPrintable(why));
        const QByteArray prefix = prefixFor(QTest::currentTestFunction());
        Replica a(fastSettings(redis.url(), prefix), {60, 0, 0});
        Replica b(fastSettings(redis.url(), prefix), {60, 0, 0});
        QTRY_COMPARE_WITH_TIMEOUT(a.shared->status().replicas, 2, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(b.shared->status().replicas, 2, 5000);
        QCOMPARE(a.state(), SharedBudget::State::Shared);
        QCOMPARE(b.state(), SharedBudget::State::Shared);

        spendBeforeOutage(a, b, redis.url(), prefix);
        if (QTest::currentTestFailed())
            return;

        QElapsedTimer t;
        t.start();
        redis.kill();
        QTRY_COMPARE_WITH_TIMEOUT(a.state(), SharedBudget::State::Fallback, 2000);
        QTRY_COMPARE_WITH_TIMEOUT(b.state(), SharedBudget::State::Fallback, 2000);
        qInfo("both on their own %lld ms after Redis was killed", t.elapsed());
        checkOnTheirOwn(a, b);
        if (QTest::currentTestFailed())
            return;
        spendDuringOutage(a, b);
        if (QTest::currentTestFailed())
            return;

        QVERIFY2(redis.start(redis.port(), &why), qPrintable(why));
        QTRY_COMPARE_WITH_TIMEOUT(a.state(), SharedBudget::State::Shared, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(b.state(), SharedBudget::State::Shared, 5000);
        checkSharedAgain(a, b);
        if (QTest::currentTestFailed())
            return;
        // 5 before + 6 during, each replica's own, recorded once.
        QCOMPARE(windowSum(redis.url(), prefix, "rpm"), 11LL);
        QCOMPARE(windowSum(redis.url(), prefix, "rpd"), 11LL);
    }

    // Redis unreachable but not restarted (the network between, here a
    // relay that is cut): when it answers again its windows still hold what
    // was spent before, so only what was spent meanwhile is added.
    void fallbackAndRecoveryOnTheSameRedis()
    {
        REQUIRE_REDIS();
        Relay relay(m_redis.port());
        QVERIFY(relay.port() != 0);
        const QByteArray prefix = prefixFor(QTest::currentTestFunction());
        Replica a(fastSettings(urlOf(relay.port()), prefix), {60, 0, 0});
        Replica b(fastSettings(urlOf(relay.port()), prefix), {60, 0, 0});
        QTRY_COMPARE_WITH_TIMEOUT(a.shared->status().replicas, 2, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(b.shared->status().replicas, 2, 5000);

        spendBeforeOutage(a, b, m_redis.url(), prefix);
        if (QTest::currentTestFailed())
            return;

        relay.cut();
        QTRY_COMPARE_WITH_TIMEOUT(a.state(), SharedBudget::State::Fallback, 2000);
        QTRY_COMPARE_WITH_TIMEOUT(b.state(), SharedBudget::State::Fallback, 2000);
        checkOnTheirOwn(a, b);
        if (QTest::currentTestFailed())
            return;
        spendDuringOutage(a, b);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(windowSum(m_redis.url(), prefix, "rpm"), 5LL); // Redis itself saw nothing of it

        relay.restore();
        QTRY_COMPARE_WITH_TIMEOUT(a.state(), SharedBudget::State::Shared, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(b.state(), SharedBudget::State::Shared, 5000);
        checkSharedAgain(a, b);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(windowSum(m_redis.url(), prefix, "rpm"), 11LL);
        QCOMPARE(windowSum(m_redis.url(), prefix, "rpd"), 11LL);
    }

    // What a replica spends while it records its outage's spending (the
    // round trip before it shares again) counts too. Here the recording is
    // held in the relay while 3 more calls go; all 8 must reach the windows.
    void spendingWhileRecoveringIsRecorded()
    {
        REQUIRE_REDIS();
        Relay relay(m_redis.port());
        const QByteArray prefix = prefixFor(QTest::currentTestFunction());
        SharedBudget::Settings s = fastSettings(urlOf(relay.port()), prefix);
        s.timeout = 5s; // the relay holds a command as long as the test needs, not as long as a timeout allows
        Replica a(s, {60, 0, 0});
        QTRY_COMPARE_WITH_TIMEOUT(a.state(), SharedBudget::State::Shared, 5000);
        relay.cut();
        QTRY_COMPARE_WITH_TIMEOUT(a.state(), SharedBudget::State::Fallback, 2000);
        a.budget.charge(kModel, 5, 0);
        relay.holdNextCharge();
        relay.restore();
        QTRY_VERIFY_WITH_TIMEOUT(relay.heldCharge(), 5000);
        QCOMPARE(a.state(), SharedBudget::State::Fallback); // not shared until that is recorded
        a.budget.charge(kModel, 3, 0);
        relay.releaseHeld();
        QTRY_COMPARE_WITH_TIMEOUT(a.state(), SharedBudget::State::Shared, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(windowSum(m_redis.url(), prefix, "rpm"), 8LL, 2000);
    }

    // A store that never answers (nothing listens there): the replica says
    // why, naming the address, and spends 1/N on its own, N the configured
    // replica count; with none configured (and none ever seen) the whole.
    void unreachableStoreFallsBackToAShare_data()
    {
        QTest::addColumn<int>("replicas");
        QTest::addColumn<long long>("limit"); // rpm in force, of 60 configured
        QTest::addColumn<int>("burst");       // calls granted at once: a sixth of the limit
        QTest::newRow("3 replicas configured") << 3 << 20LL << 3;
        QTest::newRow("none configured or seen") << 0 << 60LL << 10;
    }
    void unreachableStoreFallsBackToAShare()
    {
        QFETCH(int, replicas);
        QFETCH(long long, limit);
        QFETCH(int, burst);
        const quint16 closed = freePort();
        SharedBudget::Settings s = fastSettings(urlOf(closed), prefixFor(QTest::currentTestFunction()));
        s.replicas = replicas;
        Replica a(s, {60, 0, 0});
        QTRY_COMPARE_WITH_TIMEOUT(a.state(), SharedBudget::State::Fallback, 2000);
        const SharedBudget::Status status = a.shared->status();
        QCOMPARE(status.shareOf, std::max(1, replicas));
        QCOMPARE(status.url, QStringLiteral("redis://127.0.0.1:%1/0").arg(closed));
        QVERIFY2(status.lastError.contains(QStringLiteral("127.0.0.1:%1").arg(closed)), qPrintable(status.lastError));
        QVERIFY(status.errors >= 1);

        int granted = 0;
        for (int i = 0; i < 20; ++i)
            granted += a.budget.acquire(kModel, 1, 0).granted ? 1 : 0;
        QCOMPARE(granted, burst);
        QCOMPARE(a.rpm().limit, limit);
        QCOMPARE(a.rpm().source, ModelBudget::Source::Config);
    }

private:
    // Shared: a spends 4 calls, b 1, none of them reserved first (charged,
    // as a dispatch planned on the local budget alone is). Each then reserves
    // one call ahead, unspent: it goes back after leaseIdle, and the windows
    // hold the 5.
    void spendBeforeOutage(Replica &a, Replica &b, const RedisUrl &direct, const QByteArray &prefix)
    {
        a.budget.charge(kModel, 4, 0);
        b.budget.charge(kModel, 1, 0);
        QTRY_VERIFY_WITH_TIMEOUT(a.shared->status().reservations >= 1 && b.shared->status().reservations >= 1
                                     && windowSum(direct, prefix, "rpm") == 5,
                                 5000);
    }

    void checkOnTheirOwn(Replica &a, Replica &b)
    {
        for (Replica *r : {&a, &b}) {
            const SharedBudget::Status s = r->shared->status();
            QCOMPARE(s.shareOf, 2); // the two replicas Redis showed
            QVERIFY(!s.lastError.isEmpty());
            QCOMPARE(s.fallbacks, quint64(1));
            QTRY_COMPARE_WITH_TIMEOUT(r->rpm().limit, 30LL, 2000);
            QCOMPARE(r->rpm().source, ModelBudget::Source::Config);
        }
    }

    // On their own: a spends 4 (3 planned, 1 acquired), b 2.
    void spendDuringOutage(Replica &a, Replica &b)
    {
        a.budget.charge(kModel, 3, 0);
        QVERIFY(a.budget.acquire(kModel, 1, 0).granted); // its own half of the burst still has room
        b.budget.charge(kModel, 2, 0);
    }

    void checkSharedAgain(Replica &a, Replica &b)
    {
        for (Replica *r : {&a, &b}) {
            QCOMPARE(r->shared->status().shareOf, 1);
            QTRY_COMPARE_WITH_TIMEOUT(r->rpm().limit, 60LL, 2000);
        }
    }
};

QTEST_GUILESS_MAIN(TestSharedBudget)
#include "tst_sharedbudget.moc"
