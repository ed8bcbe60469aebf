#include "server/stream/metricsstream.h"
#include "tests/support/gatewaystack.h"
#include "tests/support/rawhttp.h"
#include "tests/support/streamclient.h"

#include <QFile>
#include <QNetworkRequest>
#include <QtEndian>
#include <QtTest>

#include <memory>
#include <utility>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

// GET /api/v1/stream (MetricsStream, PROTOCOL.md) over loopback against the
// real engine, GeminiClient, GeminiSimulator, DriftMonitor and
// LoadTestController: a small hello and paged history, snapshot rate,
// config/loadtest/drift events, slow and non-reading clients, the client
// cap, the admin token, Origin, plain GET, refused and misplaced upgrades,
// control messages, WebSocket protocol errors, shutdown.

namespace {

constexpr double kRateHz = 20;


QByteArray generateBody(int n)
{
    return "{\"contents\":[{\"parts\":[{\"text\":\"hi " + QByteArray::number(n) + "\"}]}]}";
}

// A WebSocket opening handshake for `path`; `extra` header lines (CRLF-terminated) come last.
QByteArray upgradeRequest(const QByteArray &method, const QByteArray &path, quint16 port, const QByteArray &extra = {},
                          const QByteArray &connection = "Connection: Upgrade\r\n")
{
    return method + ' ' + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(port) + "\r\nUpgrade: websocket\r\n"
        + connection + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" + extra + "\r\n";
}

// One masked client frame (RFC 6455 §5.2); `fin` false starts or continues a fragmented message.
QByteArray clientFrame(quint8 opcode, const QByteArray &payload, bool fin = true)
{
    QByteArray f;
    f += char((fin ? 0x80 : 0) | opcode);
    if (payload.size() < 126) {
        f += char(0x80 | payload.size());
    } else {
        f += char(0x80 | 126);
        f += char(payload.size() >> 8);
        f += char(payload.size() & 0xFF);
    }
    const char mask[4] = {0x21, 0x43, 0x65, 0x07};
    f += QByteArray(mask, 4);
    for (qsizetype i = 0; i < payload.size(); ++i)
        f += char(payload.at(i) ^ mask[i % 4]);
    return f;
}

struct ServerFrame {
    quint8 opcode;
    QByteArray payload;
};

// The complete server frames at the start of `bytes` (unmasked, as a server sends them).
QList<ServerFrame> serverFrames(QByteArray bytes)
{
    QList<ServerFrame> out;
    for (;;) {
        if (bytes.size() < 2)
            return out;
        const auto *p = reinterpret_cast<const uchar *>(bytes.constData());
        quint64 len = p[1] & 0x7F;
        qsizetype pos = 2;
        if (len == 126) {
            if (bytes.size() < 4)
                return out;
            len = qFromBigEndian<quint16>(p + 2);
            pos = 4;
        } else if (len == 127) {
            if (bytes.size() < 10)
                return out;
            len = qFromBigEndian<quint64>(p + 2);
            pos = 10;
        }
        if (bytes.size() < pos + qsizetype(len))
            return out;
        out.append({quint8(p[0] & 0x0F), bytes.mid(pos, qsizetype(len))});
        bytes.remove(0, pos + qsizetype(len));
    }
}

// The process's resident set (Linux), for the figures a test prints.
qint64 residentKiB()
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    return -1;
}

// A QWebSocket client that records each text message as it came (size
// included) and can ask for history pages.
class PagingClient : public QObject
{
public:
    PagingClient(const QUrl &httpBase, const QByteArray &authorization = {})
    {
        QObject::connect(&ws, &QWebSocket::textMessageReceived, this, [this](const QString &text) {
            sizes << text.toUtf8().size();
            messages << QJsonDocument::fromJson(text.toUtf8()).object();
        });
        QObject::connect(&ws, &QWebSocket::connected, this, [this] { connected = true; });
        QObject::connect(&ws, &QWebSocket::disconnected, this, [this] { closed = true; });
        QUrl u = httpBase;
        u.setScheme(QStringLiteral("ws"));
        u.setPath(QStringLiteral("/api/v1/stream"));
        QNetworkRequest request(u);
        if (!authorization.isEmpty())
            request.setRawHeader("Authorization", authorization);
        ws.open(request);
    }

    qsizetype indexOf(const QString &type, qsizetype from = 0) const
    {
        for (qsizetype i = from; i < messages.size(); ++i)
            if (messages.at(i).value(QStringLiteral("type")).toString() == type)
                return i;
        return -1;
    }
    int count(const QString &type) const
    {
        int n = 0;
        for (const QJsonObject &m : messages)
            n += m.value(QStringLiteral("type")).toString() == type ? 1 : 0;
        return n;
    }
    void requestHistory(const QJsonValue &before, int limit = 1000)
    {
        QJsonObject r{{QStringLiteral("type"), QStringLiteral("history")}, {QStringLiteral("limit"), limit}};
        if (!before.isUndefined())
            r.insert(QStringLiteral("before"), before);
        ws.sendTextMessage(QString::fromUtf8(QJsonDocument(r).toJson(QJsonDocument::Compact)));
    }

    QWebSocket ws;
    QList<QJsonObject> messages;
    QList<qsizetype> sizes; // UTF-8 bytes of each message
    bool connected = false;
    bool closed = false;
};

// Every history page from `before` back to the oldest entry, pages in the
// order received; false when a page did not come (the caller QVERIFYs).
bool pageAll(PagingClient &c, double before, QList<QJsonObject> *pages, QList<qsizetype> *pageSizes)
{
    QJsonValue next(before);
    for (int i = 0; i < 1000; ++i) {
        const int had = c.count(QStringLiteral("history"));
        c.requestHistory(next);
        if (!QTest::qWaitFor([&] { return c.count(QStringLiteral("history")) > had; }, 5000))
            return false;
        qsizetype at = -1;
        for (int k = 0; k <= had; ++k)
            at = c.indexOf(QStringLiteral("history"), at + 1);
        pages->append(c.messages.at(at));
        pageSizes->append(c.sizes.at(at));
        const QJsonArray points = c.messages.at(at).value(QStringLiteral("points")).toArray();
        if (!c.messages.at(at).value(QStringLiteral("more")).toBool() || points.isEmpty())
            return true;
        next = points.first().toObject().value(QStringLiteral("timestampMs"));
    }
    return false;
}

// A client on a plain blocking socket with a 4 KiB receive buffer that never
// reads: the kernel holds little for it, so the server's own queue (the
// counted backlog) grows at once.
class NonReadingClient
{
public:
    explicit NonReadingClient(quint16 port) : m_fd(::socket(AF_INET, SOCK_STREAM, 0))
    {
        const int size = 4096;
        ::setsockopt(m_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        m_connected = ::connect(m_fd, reinterpret_cast<const sockaddr *>(&a), sizeof a) == 0;
    }
    NonReadingClient(NonReadingClient &&o) noexcept : m_fd(std::exchange(o.m_fd, -1)), m_connected(o.m_connected) {}
    NonReadingClient(const NonReadingClient &) = delete;
    NonReadingClient &operator=(const NonReadingClient &) = delete;
    NonReadingClient &operator=(NonReadingClient &&) = delete;
    ~NonReadingClient()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    bool connected() const { return m_connected; }
    bool write(const QByteArray &bytes) { return ::send(m_fd, bytes.constData(), size_t(bytes.size()), MSG_NOSIGNAL) == bytes.size(); }
    // Reads (blocking, at most 5 s) until the answer's head is in; returns it
    // and whatever came with it.
    QByteArray readHead()
    {
        const timeval timeout{5, 0};
        ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        QByteArray in;
        char chunk[1024];
        while (!in.contains("\r\n\r\n")) {
            const ssize_t n = ::recv(m_fd, chunk, sizeof chunk, 0);
            if (n <= 0)
                break;
            in.append(chunk, n);
        }
        return in;
    }

private:
    int m_fd;
    bool m_connected = false;
};

} // namespace

class TestMetricsStream : public QObject
{
    Q_OBJECT

private:
    GatewayStack m_stack;
    std::unique_ptr<GatewayServer> m_gateway;
    EngineConfig m_baseConfig;
    QUrl m_url;

    std::unique_ptr<GatewayServer> startGateway(const std::function<void(GatewayOptions &)> &change)
    {
        GatewayOptions o;
        o.port = 0;
        o.streamRateHz = kRateHz;
        change(o);
        QString error;
        auto g = m_stack.startGateway(o, &error);
        if (!g)
            qFatal("gateway: %s", qPrintable(error));
        return g;
    }

private slots:
    void initTestCase()
    {
        m_baseConfig.maxBatchSize = 16;
        m_baseConfig.maxWaitMs = 5;
        QString error;
        QVERIFY2(m_stack.start(instantSimulator(8), m_baseConfig, &error), qPrintable(error));
        m_gateway = startGateway([](GatewayOptions &o) { o.allowedOrigins = {QStringLiteral("http://allowed.example")}; });
        m_url = m_gateway->url();
    }

    void cleanupTestCase()
    {
        m_gateway.reset();
        m_stack.stop();
    }

    // hello carries the newest snapshot and the config, not the history;
    // the client pages the history back from the hello's snapshot.
    void helloThenHistoryPages()
    {
        PagingClient first(m_url);
        QTRY_VERIFY_WITH_TIMEOUT(first.count(QStringLiteral("snapshot")) >= 4, 5000);
        PagingClient c(m_url);
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("snapshot")) >= 1, 5000);
        const QJsonObject hello = c.messages.first();
        QCOMPARE(hello.value(QStringLiteral("type")).toString(), QStringLiteral("hello"));
        QCOMPARE(c.count(QStringLiteral("hello")), 1);
        QCOMPARE(hello.value(QStringLiteral("version")).toString(), QStringLiteral(SLUICE_VERSION));
        QCOMPARE(hello.value(QStringLiteral("rateHz")).toDouble(), kRateHz);
        QCOMPARE(hello.value(QStringLiteral("config")).toObject(), m_stack.engine->config().toJson());
        QCOMPARE(hello.value(QStringLiteral("upstream")).toObject().value(QStringLiteral("kind")).toString(), QStringLiteral("simulator"));
        QVERIFY(!hello.contains(QStringLiteral("history")));
        const QJsonObject current = hello.value(QStringLiteral("snapshot")).toObject();
        for (const char *w : {"last1s", "last10s", "last60s", "total"})
            QVERIFY2(current.value(QLatin1String(w)).isObject(), w);
        const double helloMs = current.value(QStringLiteral("timestampMs")).toDouble();
        const int held = hello.value(QStringLiteral("historyPoints")).toInt();
        QVERIFY2(held >= 4 && held <= qCeil(300 * kRateHz), qPrintable(QString::number(held)));
        // The first snapshot is newer than the hello's; a fresh process has no
        // load test yet, and the drift state follows hello.
        QVERIFY(c.messages.at(c.indexOf(QStringLiteral("snapshot"))).value(QStringLiteral("snapshot")).toObject()
                    .value(QStringLiteral("timestampMs")).toDouble() > helloMs);
        QCOMPARE(c.messages.at(1).value(QStringLiteral("type")).toString(), QStringLiteral("drift"));

        // Paged back from the hello's snapshot: every older entry the ring
        // held at hello, once, trimmed, in time order.
        QList<QJsonObject> pages;
        QList<qsizetype> sizes;
        QVERIFY(pageAll(c, helloMs, &pages, &sizes));
        QCOMPARE(pages.first().value(QStringLiteral("before")).toDouble(), helloMs);
        QList<QJsonObject> points;
        for (auto page = pages.crbegin(); page != pages.crend(); ++page)
            for (const QJsonValue &v : page->value(QStringLiteral("points")).toArray())
                points << v.toObject();
        QCOMPARE(points.size(), held - 1);
        for (qsizetype i = 0; i < points.size(); ++i) {
            const double t = points.at(i).value(QStringLiteral("timestampMs")).toDouble();
            QVERIFY(t < helloMs);
            if (i > 0)
                QVERIFY(t > points.at(i - 1).value(QStringLiteral("timestampMs")).toDouble());
            QVERIFY(points.at(i).value(QStringLiteral("last10s")).isObject());
            QVERIFY(points.at(i).contains(QStringLiteral("queueDepth")));
            QVERIFY(points.at(i).value(QStringLiteral("quota")).isArray());
            for (const char *w : {"last1s", "last60s", "total"}) // trimmed entries (PROTOCOL.md)
                QVERIFY2(!points.at(i).contains(QLatin1String(w)), w);
        }
        QVERIFY(!pages.last().value(QStringLiteral("more")).toBool());
        // Later snapshots keep flowing while history is paged.
        QVERIFY(c.count(QStringLiteral("snapshot")) >= 1);
    }

    // A page's bounds: newest first without `before`, `limit` clamped to at
    // least 1, nothing before the oldest entry, junk read as "from the newest".
    void historyPageBounds()
    {
        PagingClient c(m_url);
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("snapshot")) >= 3, 5000);
        const auto page = [&c](const QJsonObject &request) {
            const int had = c.count(QStringLiteral("history"));
            c.ws.sendTextMessage(QString::fromUtf8(QJsonDocument(request).toJson(QJsonDocument::Compact)));
            if (!QTest::qWaitFor([&] { return c.count(QStringLiteral("history")) > had; }, 5000))
                return QJsonObject();
            qsizetype at = -1;
            for (int k = 0; k <= had; ++k)
                at = c.indexOf(QStringLiteral("history"), at + 1);
            return c.messages.at(at);
        };
        const QString history = QStringLiteral("history");
        const QJsonObject newest = page({{QStringLiteral("type"), history}, {QStringLiteral("limit"), 2}});
        QCOMPARE(newest.value(QStringLiteral("points")).toArray().size(), 2);
        QVERIFY(newest.value(QStringLiteral("more")).toBool());
        QVERIFY(newest.value(QStringLiteral("before")).isNull());
        // The newest entry is the latest snapshot sent (or one tick newer).
        const double newestMs = newest.value(QStringLiteral("points")).toArray().last().toObject()
                                    .value(QStringLiteral("timestampMs")).toDouble();
        QVERIFY(newestMs >= c.messages.at(c.indexOf(QStringLiteral("snapshot"))).value(QStringLiteral("snapshot")).toObject()
                                .value(QStringLiteral("timestampMs")).toDouble());

        const QJsonObject one = page({{QStringLiteral("type"), history}, {QStringLiteral("limit"), 0},
                                      {QStringLiteral("before"), newestMs}});
        QCOMPARE(one.value(QStringLiteral("points")).toArray().size(), 1);
        QVERIFY(one.value(QStringLiteral("points")).toArray().first().toObject().value(QStringLiteral("timestampMs")).toDouble()
                < newestMs);

        const QJsonObject none = page({{QStringLiteral("type"), history}, {QStringLiteral("before"), 1}});
        QCOMPARE(none.value(QStringLiteral("points")).toArray().size(), 0);
        QVERIFY(!none.value(QStringLiteral("more")).toBool());

        const QJsonObject junk = page({{QStringLiteral("type"), history}, {QStringLiteral("before"), QStringLiteral("soon")},
                                       {QStringLiteral("limit"), QStringLiteral("many")}});
        QVERIFY(!junk.value(QStringLiteral("points")).toArray().isEmpty());
        QVERIFY(junk.value(QStringLiteral("before")).isNull());
        QCOMPARE(c.count(QStringLiteral("error")), 0);
    }

    // The hello stays a few KB however long the history is; each history
    // page is at most kHistoryPageBytes of points.
    void helloSizeDoesNotGrowWithHistory()
    {
        auto gateway = startGateway([](GatewayOptions &o) { o.streamRateHz = 50; });
        PagingClient early(gateway->url());
        QTRY_VERIFY_WITH_TIMEOUT(early.count(QStringLiteral("hello")) == 1, 5000);
        // 250 ticks: about 250 KB of history entries.
        QTRY_VERIFY_WITH_TIMEOUT(early.count(QStringLiteral("snapshot")) >= 250, 20000);
        PagingClient late(gateway->url());
        QTRY_VERIFY_WITH_TIMEOUT(late.count(QStringLiteral("snapshot")) >= 1, 5000);
        const QJsonObject hello = late.messages.first();
        QCOMPARE(hello.value(QStringLiteral("type")).toString(), QStringLiteral("hello"));
        QVERIFY(hello.value(QStringLiteral("historyPoints")).toInt() >= 250);

        QList<QJsonObject> pages;
        QList<qsizetype> sizes;
        QVERIFY(pageAll(late, hello.value(QStringLiteral("snapshot")).toObject().value(QStringLiteral("timestampMs")).toDouble(),
                        &pages, &sizes));
        qsizetype historyBytes = 0;
        int points = 0;
        for (qsizetype i = 0; i < pages.size(); ++i) {
            historyBytes += sizes.at(i);
            points += int(pages.at(i).value(QStringLiteral("points")).toArray().size());
            // Points of at most kHistoryPageBytes, plus the envelope.
            QVERIFY2(sizes.at(i) <= MetricsStream::kHistoryPageBytes + 128, qPrintable(QString::number(sizes.at(i))));
        }
        QCOMPARE(points, hello.value(QStringLiteral("historyPoints")).toInt() - 1);
        QVERIFY2(pages.size() >= 3, qPrintable(QString::number(pages.size())));
        qInfo("hello %lld bytes at %d history entries (%lld bytes in %lld pages); the first hello was %lld bytes",
              qint64(late.sizes.first()), points + 1, qint64(historyBytes), qint64(pages.size()), qint64(early.sizes.first()));
        QVERIFY2(late.sizes.first() <= 16 * 1024, qPrintable(QString::number(late.sizes.first())));
        QVERIFY(historyBytes > 12 * late.sizes.first());
    }

    void snapshotsAtTheConfiguredRate()
    {
        StreamClient c(m_url);
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("snapshot")) >= 1, 5000);
        const int start = c.count(QStringLiteral("snapshot"));
        QElapsedTimer t;
        t.start();
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("snapshot")) >= start + int(2 * kRateHz), 5000);
        const double seconds = double(t.elapsed()) / 1000.0;
        const double rate = (c.count(QStringLiteral("snapshot")) - start) / seconds;
        QVERIFY2(rate > 0.75 * kRateHz && rate < 1.25 * kRateHz, qPrintable(QString::number(rate)));
        // Timestamps strictly increase.
        const QList<QJsonObject> snaps = c.ofType(QStringLiteral("snapshot"));
        for (qsizetype i = 1; i < snaps.size(); ++i)
            QVERIFY(snaps.at(i).value(QStringLiteral("snapshot")).toObject().value(QStringLiteral("timestampMs")).toDouble()
                    > snaps.at(i - 1).value(QStringLiteral("snapshot")).toObject().value(QStringLiteral("timestampMs")).toDouble());
    }

    void snapshotsCarryLiveTraffic()
    {
        StreamClient c(m_url);
        QTRY_VERIFY_WITH_TIMEOUT(c.connected, 5000);
        std::vector<std::unique_ptr<RawHttp>> calls;
        for (int i = 0; i < 20; ++i) {
            calls.push_back(std::make_unique<RawHttp>(m_url));
            calls.back()->request("POST", "/v1beta/models/gemini-2.0-flash:generateContent", generateBody(i));
        }
        for (auto &r : calls)
            QTRY_VERIFY_WITH_TIMEOUT(r->complete, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(!c.ofType(QStringLiteral("snapshot")).isEmpty()
                                     && c.ofType(QStringLiteral("snapshot")).last().value(QStringLiteral("snapshot")).toObject()
                                                .value(QStringLiteral("last10s")).toObject().value(QStringLiteral("ok")).toDouble() >= 20,
                                 5000);
    }

    void configAfterSetConfig()
    {
        StreamClient c(m_url);
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("hello")) == 1, 5000);
        EngineConfig next = m_stack.engine->config();
        next.maxBatchSize = 7;
        QVERIFY(m_stack.engine->setConfig(next).isNull());
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("config")) >= 1, 5000);
        const QJsonObject cfg = c.ofType(QStringLiteral("config")).last().value(QStringLiteral("config")).toObject();
        QCOMPARE(cfg.value(QStringLiteral("maxBatchSize")).toInt(), 7);
        QCOMPARE(cfg, m_stack.engine->config().toJson());
        QVERIFY(m_stack.engine->setConfig(m_baseConfig).isNull());
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("config")) >= 2, 5000);
    }

    void driftAndLoadTestEvents()
    {
        StreamClient c(m_url);
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("hello")) == 1, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("drift")) == 1, 5000); // the state right after hello
        QVERIFY(c.ofType(QStringLiteral("drift")).first().value(QStringLiteral("baseline")).isNull());

        m_stack.drift->setBaseline(tinyBaseline());
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("drift")) >= 2, 5000);
        QCOMPARE(c.ofType(QStringLiteral("drift")).last().value(QStringLiteral("baseline")).toObject()
                     .value(QStringLiteral("createdAt")).toString(),
                 QStringLiteral("2026-01-01T12:00:00.000Z"));
        // Traffic far slower than the tiny baseline: one judged window says drift.
        std::vector<std::unique_ptr<RawHttp>> calls;
        for (int i = 0; i < 10; ++i) {
            calls.push_back(std::make_unique<RawHttp>(m_url));
            calls.back()->request("POST", "/v1beta/models/gemini-2.0-flash:generateContent", generateBody(i));
        }
        for (auto &r : calls)
            QTRY_VERIFY_WITH_TIMEOUT(r->complete, 10000);
        QTRY_VERIFY_WITH_TIMEOUT((m_stack.drift->evaluateNow(), m_stack.drift->reading().state == DriftState::Drift), 5000);
        QTRY_VERIFY_WITH_TIMEOUT(c.ofType(QStringLiteral("drift")).last().value(QStringLiteral("state")).toString()
                                     == QStringLiteral("drift"), 5000);
        QVERIFY(c.ofType(QStringLiteral("drift")).last().value(QStringLiteral("score")).toDouble() >= 1.0);

        // A page opened now gets the drift state right after hello.
        StreamClient late(m_url);
        QTRY_VERIFY_WITH_TIMEOUT(late.messages.size() >= 2, 5000);
        QCOMPARE(late.messages.at(1).value(QStringLiteral("type")).toString(), QStringLiteral("drift"));
        QCOMPARE(late.messages.at(1).value(QStringLiteral("state")).toString(), QStringLiteral("drift"));
        m_stack.drift->clearBaseline();

        // loadtest: whatever LoadTestController publishes is forwarded whole.
        // (A real Locust run through the stream is in tst_opsroutes.)
        emit m_stack.loadTests->statusChanged(m_stack.loadTests->status());
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("loadtest")) == 1, 5000);
        const QJsonObject lt = c.ofType(QStringLiteral("loadtest")).first();
        QCOMPARE(lt.value(QStringLiteral("state")).toString(), m_stack.loadTests->status().value(QStringLiteral("state")).toString());
    }

    void stalledClientDoesNotDelayOthers()
    {
        // 50 Hz and a 32 KB backlog limit so a stalled reader backs up within seconds.
        auto gateway = startGateway([](GatewayOptions &o) {
            o.streamRateHz = 50;
            o.streamMaxBacklogBytes = 32 * 1024;
        });
        const auto counters = gateway->streamCounters();
        RawStreamClient stalled(gateway->url());
        QTRY_COMPARE_WITH_TIMEOUT(stalled.status, 101, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(stalled.ofType(QStringLiteral("snapshot")).size() >= 2, 5000);
        stalled.stall();
        StreamClient healthy(gateway->url());
        QTRY_VERIFY_WITH_TIMEOUT(counters->snapshotFramesDropped.load() > 0, 60000);

        // While the stalled client is being dropped, the healthy one gets every tick.
        const int before = healthy.count(QStringLiteral("snapshot"));
        QElapsedTimer t;
        t.start();
        QTRY_VERIFY_WITH_TIMEOUT(t.elapsed() >= 2000, 3000);
        const double rate = (healthy.count(QStringLiteral("snapshot")) - before) / (double(t.elapsed()) / 1000.0);
        QVERIFY2(rate >= 40, qPrintable(QStringLiteral("healthy client got %1 snapshots/s while another stalled").arg(rate)));
        QCOMPARE(healthy.count(QStringLiteral("dropped")), 0);
        // Bounded: only while under the limit is anything queued for the stalled client.
        QVERIFY2(counters->maxBacklogBytes.load() <= 32 * 1024 + 64 * 1024,
                 qPrintable(QString::number(counters->maxBacklogBytes.load())));
        QCOMPARE(counters->clientsAborted.load(), quint64(0));

        qInfo("stalled after %lld ms: dropped %llu, max backlog %lld, %lld messages",
              qint64(t.elapsed()), counters->snapshotFramesDropped.load(), qint64(counters->maxBacklogBytes.load()),
              qint64(stalled.messages.size()));
        stalled.resume();
        QTRY_VERIFY_WITH_TIMEOUT(stalled.messages.size() > 100 || stalled.closed, 20000);
        qInfo("resumed: %lld messages, closed %d, buffer %lld, state %d", qint64(stalled.messages.size()), stalled.closed,
              qint64(stalled.buffer.size()), int(stalled.socket.state()));
        QTRY_VERIFY_WITH_TIMEOUT(!stalled.ofType(QStringLiteral("dropped")).isEmpty(), 20000);
        double told = 0;
        for (const QJsonObject &d : stalled.ofType(QStringLiteral("dropped")))
            told += d.value(QStringLiteral("count")).toDouble();
        QVERIFY(told > 0);
        QVERIFY(told <= double(counters->snapshotFramesDropped.load()));
        QVERIFY(!stalled.closed);
    }

    void hardBacklogAbortsTheClient()
    {
        // Snapshots are never dropped here (1 MiB), so a stalled client's
        // backlog grows until the 64 KiB hard limit aborts it.
        auto gateway = startGateway([](GatewayOptions &o) {
            o.streamRateHz = 50;
            o.streamMaxBacklogBytes = 1024 * 1024;
            o.streamHardBacklogBytes = 64 * 1024;
        });
        const auto counters = gateway->streamCounters();
        RawStreamClient stalled(gateway->url());
        QTRY_VERIFY_WITH_TIMEOUT(!stalled.ofType(QStringLiteral("hello")).isEmpty(), 5000);
        stalled.stall();
        StreamClient healthy(gateway->url());
        QTRY_VERIFY_WITH_TIMEOUT(healthy.count(QStringLiteral("hello")) == 1, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(counters->clientsAborted.load(), quint64(1), 60000);
        QTRY_COMPARE_WITH_TIMEOUT(counters->clients.load(), 1, 5000);
        stalled.resume(); // a socket that does not read cannot see the reset
        QTRY_VERIFY_WITH_TIMEOUT(stalled.closed, 10000);
        // The other client keeps its stream.
        const int before = healthy.count(QStringLiteral("snapshot"));
        QTRY_VERIFY_WITH_TIMEOUT(healthy.count(QStringLiteral("snapshot")) > before + 10, 5000);
        QVERIFY(!healthy.closed);
    }

    void originChecked()
    {
        const QByteArray served = "http://127.0.0.1:" + QByteArray::number(m_url.port());
        RawStreamClient bad(m_url, {{"Origin", "http://evil.example"}});
        QTRY_COMPARE_WITH_TIMEOUT(bad.status, 403, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(bad.closed, 5000);
        QCOMPARE(QJsonDocument::fromJson(bad.body).object().value(QStringLiteral("error")).toObject()
                     .value(QStringLiteral("status")).toString(), QStringLiteral("PERMISSION_DENIED"));
        RawStreamClient otherPort(m_url, {{"Origin", "http://127.0.0.1:1"}});
        QTRY_COMPARE_WITH_TIMEOUT(otherPort.status, 403, 5000);

        RawStreamClient same(m_url, {{"Origin", served}});
        QTRY_COMPARE_WITH_TIMEOUT(same.status, 101, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(!same.ofType(QStringLiteral("hello")).isEmpty(), 5000);
        RawStreamClient listed(m_url, {{"Origin", "http://allowed.example"}});
        QTRY_COMPARE_WITH_TIMEOUT(listed.status, 101, 5000);

        StreamClient browserLike(m_url, QStringLiteral("http://evil.example"));
        QTRY_VERIFY_WITH_TIMEOUT(browserLike.failed || browserLike.closed, 5000);
        QVERIFY(!browserLike.connected);
        QVERIFY(browserLike.messages.isEmpty());
    }

    void plainGetIs426()
    {
        RawStreamClient plain(m_url, {}, /*upgrade=*/false);
        QTRY_COMPARE_WITH_TIMEOUT(plain.status, 426, 5000);
        QVERIFY(plain.head.toLower().contains("upgrade: websocket"));
        QTRY_VERIFY_WITH_TIMEOUT(QJsonDocument::fromJson(plain.body).isObject(), 5000);
        QCOMPARE(QJsonDocument::fromJson(plain.body).object().value(QStringLiteral("error")).toObject()
                     .value(QStringLiteral("code")).toInt(), 426);
        // On a keep-alive connection that served another request first, the router answers 426 too.
        RawHttp keepAlive(m_url);
        keepAlive.request("GET", "/health");
        QTRY_VERIFY_WITH_TIMEOUT(keepAlive.complete, 5000);
        keepAlive.request("GET", "/api/v1/stream");
        QTRY_VERIFY_WITH_TIMEOUT(keepAlive.complete, 5000);
        QCOMPARE(keepAlive.status, 426);
        // A path that only starts like the stream is an ordinary 404.
        RawHttp other(m_url);
        other.request("GET", "/api/v1/streams");
        QTRY_VERIFY_WITH_TIMEOUT(other.complete, 5000);
        QCOMPARE(other.status, 404);
    }

    // Every refusal is ONE complete answer in the Gemini envelope with the
    // common headers, then the connection closes: for requests Qt reads as
    // upgrades, handleRequest() answers and returns false, and Qt's
    // missingHandler() call that follows must add nothing.
    void refusedUpgradesGetOneAnswer_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<QByteArray>("extra");
        QTest::addColumn<QByteArray>("connection");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("header"); // lower-case name, or empty
        QTest::addColumn<QByteArray>("value");
        const QByteArray stream = "/api/v1/stream";
        const QByteArray upgrade = "Connection: Upgrade\r\n";
        QTest::newRow("bad Origin") << QByteArray("GET") << stream << QByteArray("Origin: http://evil.example\r\n") << upgrade
                                    << 403 << QByteArray() << QByteArray();
        // Two Version fields: Qt combines them into "13, 8".
        QTest::newRow("versions 13, 8") << QByteArray("GET") << stream << QByteArray("Sec-WebSocket-Version: 8\r\n") << upgrade
                                        << 426 << QByteArray("sec-websocket-version") << QByteArray("13");
        QTest::newRow("a second key") << QByteArray("GET") << stream << QByteArray("Sec-WebSocket-Key: c2hvcnQ=\r\n") << upgrade
                                 << 400 << QByteArray() << QByteArray();
        // Qt's HTTP parser reads this as an upgrade, Qt's WebSocket server would not.
        QTest::newRow("upgrade in a second Connection field") << QByteArray("GET") << stream << QByteArray()
                                                              << QByteArray("Connection: keep-alive\r\nConnection: Upgrade\r\n")
                                                              << 426 << QByteArray("upgrade") << QByteArray("websocket");
        QTest::newRow("POST") << QByteArray("POST") << stream << QByteArray() << upgrade << 405 << QByteArray("allow")
                              << QByteArray("GET");
        QTest::newRow("upgrade to /health") << QByteArray("GET") << QByteArray("/health") << QByteArray() << upgrade << 404
                                            << QByteArray() << QByteArray();
        QTest::newRow("upgrade to a Gemini route") << QByteArray("POST")
                                                   << QByteArray("/v1beta/models/gemini-2.0-flash:generateContent")
                                                   << QByteArray("Content-Length: 0\r\n") << upgrade << 404 << QByteArray()
                                                   << QByteArray();
    }

    void refusedUpgradesGetOneAnswer()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, path);
        QFETCH(QByteArray, extra);
        QFETCH(QByteArray, connection);
        QFETCH(int, status);
        QFETCH(QByteArray, header);
        QFETCH(QByteArray, value);
        const quint64 refusedBefore = m_gateway->streamCounters()->connectionsRefused.load();
        RawHttp r(m_url);
        QTRY_VERIFY_WITH_TIMEOUT(r.socket.state() == QAbstractSocket::ConnectedState, 5000);
        r.send(upgradeRequest(method, path, quint16(m_url.port()), extra, connection));
        QTRY_VERIFY_WITH_TIMEOUT(r.complete, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(r.closed, 5000);
        QCOMPARE(r.status, status);
        QVERIFY2(r.buffer.isEmpty(), r.buffer.constData()); // nothing after the one answer
        const QJsonObject error = QJsonDocument::fromJson(r.body).object().value(QStringLiteral("error")).toObject();
        QCOMPARE(error.value(QStringLiteral("code")).toInt(), status);
        QCOMPARE(r.header("connection").toLower(), QByteArray("close"));
        QVERIFY(!r.header("x-queue-depth").isEmpty());
        if (!header.isEmpty())
            QCOMPARE(r.header(header), value);
        if (path == "/api/v1/stream")
            QCOMPARE(m_gateway->streamCounters()->connectionsRefused.load(), refusedBefore + 1);
    }

    // Browsers open a new connection for a WebSocket, but an upgrade after
    // another request on the same connection is accepted too.
    void upgradeOnAKeepAliveConnection()
    {
        RawHttp r(m_url);
        r.request("GET", "/health");
        QTRY_VERIFY_WITH_TIMEOUT(r.complete, 5000);
        QCOMPARE(r.status, 200);
        r.send(upgradeRequest("GET", "/api/v1/stream", quint16(m_url.port())));
        QTRY_VERIFY_WITH_TIMEOUT(r.complete, 5000);
        QCOMPARE(r.status, 101);
        QCOMPARE(r.header("upgrade").toLower(), QByteArray("websocket"));
        QCOMPARE(r.header("sec-websocket-accept"), QByteArray("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")); // RFC 6455 §1.3
        // The first frame is hello: one unfragmented text frame (0x81).
        QTRY_VERIFY_WITH_TIMEOUT(r.buffer.contains("\"type\":\"hello\""), 5000);
        QCOMPARE(quint8(r.buffer.at(0)), quint8(0x81));
        QVERIFY(!r.closed);
    }

    void controlMessagesNeedTheToken()
    {
        auto gateway = startGateway([](GatewayOptions &o) { o.adminToken = "s3cret"; });
        RawStreamClient c(gateway->url(), {{"Authorization", "Bearer s3cret"}});
        QTRY_VERIFY_WITH_TIMEOUT(!c.ofType(QStringLiteral("hello")).isEmpty(), 5000);
        c.sendFrame(0x1, "not json at all");
        c.sendFrame(0x1, "[1,2,3]");
        c.sendFrame(0x2, QByteArray(10, '\0'));
        c.sendFrame(0x1, R"({"type":"rate","rateHz":1})");
        QTRY_COMPARE_WITH_TIMEOUT(c.ofType(QStringLiteral("error")).size(), 1, 5000);
        QCOMPARE(c.ofType(QStringLiteral("error")).first().value(QStringLiteral("code")).toInt(), 401);
        c.sendFrame(0x1, R"({"type":"rate","rateHz":1,"token":"s3cret"})");
        QTRY_COMPARE_WITH_TIMEOUT(c.ofType(QStringLiteral("error")).size(), 2, 5000);
        QCOMPARE(c.ofType(QStringLiteral("error")).last().value(QStringLiteral("code")).toInt(), 400);
        // Ping is answered with pong; the stream keeps going.
        c.sendFrame(0x9, "are you there");
        QTRY_VERIFY_WITH_TIMEOUT(c.opcodes.contains(0xA), 5000);
        const qsizetype snaps = c.ofType(QStringLiteral("snapshot")).size();
        QTRY_VERIFY_WITH_TIMEOUT(c.ofType(QStringLiteral("snapshot")).size() > snaps + 2, 5000);
        // Close handshake: the server echoes the close and ends the connection.
        c.sendFrame(0x8, QByteArray("\x03\xe8", 2));
        QTRY_VERIFY_WITH_TIMEOUT(c.closed, 5000);
        QVERIFY(c.opcodes.contains(0x8));
        QTRY_COMPARE_WITH_TIMEOUT(gateway->streamCounters()->clients.load(), 0, 5000);
    }

    // With an admin token configured the upgrade needs it: the dashboard's
    // cookie or a Bearer header; anything else is 401 in the Gemini envelope.
    void tokenRequiredWhenSet()
    {
        auto gateway = startGateway([](GatewayOptions &o) { o.adminToken = "s3cret"; });
        const QUrl url = gateway->url();
        const auto counters = gateway->streamCounters();

        RawStreamClient none(url);
        QTRY_COMPARE_WITH_TIMEOUT(none.status, 401, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(none.closed, 5000);
        const QJsonObject error = QJsonDocument::fromJson(none.body).object().value(QStringLiteral("error")).toObject();
        QCOMPARE(error.value(QStringLiteral("code")).toInt(), 401);
        QCOMPARE(error.value(QStringLiteral("status")).toString(), QStringLiteral("UNAUTHENTICATED"));
        QVERIFY(none.head.toLower().contains("www-authenticate: bearer realm=\"sluice\""));
        RawStreamClient wrongCookie(url, {{"Cookie", "sluice_token=s3creT"}});
        QTRY_COMPARE_WITH_TIMEOUT(wrongCookie.status, 401, 5000);
        RawStreamClient wrongBearer(url, {{"Authorization", "Bearer nope"}});
        QTRY_COMPARE_WITH_TIMEOUT(wrongBearer.status, 401, 5000);
        QCOMPARE(counters->refusedUnauthorized.load(), quint64(3));

        // The dashboard's way: the cookie it sets before connecting.
        RawStreamClient cookie(url, {{"Cookie", "theme=dark; sluice_token=s3cret"}, {"Origin", "http://127.0.0.1:" + QByteArray::number(url.port())}});
        QTRY_COMPARE_WITH_TIMEOUT(cookie.status, 101, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(!cookie.ofType(QStringLiteral("hello")).isEmpty(), 5000);
        // A program's way.
        PagingClient bearer(url, "Bearer s3cret");
        QTRY_VERIFY_WITH_TIMEOUT(bearer.count(QStringLiteral("hello")) == 1, 5000);
        QCOMPARE(counters->refusedUnauthorized.load(), quint64(3));
        QTRY_COMPARE_WITH_TIMEOUT(counters->clients.load(), 2, 5000);

        // The dashboard's probe: a plain GET tells a missing token (401) from a good one (426).
        RawStreamClient probe(url, {}, /*upgrade=*/false);
        QTRY_COMPARE_WITH_TIMEOUT(probe.status, 401, 5000);
        RawStreamClient probeWithCookie(url, {{"Cookie", "sluice_token=s3cret"}}, /*upgrade=*/false);
        QTRY_COMPARE_WITH_TIMEOUT(probeWithCookie.status, 426, 5000);
    }

    // Beyond streamMaxClients streams (open or being opened) an upgrade gets
    // 503 + Retry-After; a place frees up when a client leaves.
    void clientCapRefusedWith503()
    {
        auto gateway = startGateway([](GatewayOptions &o) { o.streamMaxClients = 2; });
        const QUrl url = gateway->url();
        const auto counters = gateway->streamCounters();
        // A burst: all five handshakes may be read before Qt writes any 101.
        std::vector<std::unique_ptr<RawStreamClient>> burst;
        for (int i = 0; i < 5; ++i)
            burst.push_back(std::make_unique<RawStreamClient>(url));
        QTRY_VERIFY_WITH_TIMEOUT(std::all_of(burst.begin(), burst.end(), [](const auto &c) { return c->status != 0; }), 5000);
        int upgraded = 0;
        for (const auto &c : burst) {
            if (c->status == 101) {
                ++upgraded;
                continue;
            }
            QCOMPARE(c->status, 503);
            QVERIFY2(c->head.toLower().contains("retry-after: 5\r\n"), c->head.constData());
            QTRY_VERIFY_WITH_TIMEOUT(QJsonDocument::fromJson(c->body).isObject(), 5000);
            const QJsonObject error = QJsonDocument::fromJson(c->body).object().value(QStringLiteral("error")).toObject();
            QCOMPARE(error.value(QStringLiteral("code")).toInt(), 503);
            QCOMPARE(error.value(QStringLiteral("status")).toString(), QStringLiteral("UNAVAILABLE"));
            QTRY_VERIFY_WITH_TIMEOUT(c->closed, 5000);
        }
        QCOMPARE(upgraded, 2);
        QCOMPARE(counters->refusedFull.load(), quint64(3));
        QTRY_COMPARE_WITH_TIMEOUT(counters->clients.load(), 2, 5000);

        // One leaves: the next one gets in, the one after that does not.
        for (auto &c : burst)
            if (c->status == 101) {
                c->socket.disconnectFromHost();
                break;
            }
        QTRY_COMPARE_WITH_TIMEOUT(counters->clients.load(), 1, 5000);
        PagingClient next(url);
        QTRY_VERIFY_WITH_TIMEOUT(next.count(QStringLiteral("hello")) == 1, 5000);
        RawStreamClient over(url);
        QTRY_COMPARE_WITH_TIMEOUT(over.status, 503, 5000);
        QCOMPARE(counters->refusedFull.load(), quint64(4));
        QCOMPARE(counters->connectionsAccepted.load(), quint64(3));
    }

    // streamMaxClients 0: no stream at all, and no snapshots taken for it.
    void streamOffIs404()
    {
        auto gateway = startGateway([](GatewayOptions &o) { o.streamMaxClients = 0; });
        RawStreamClient upgrade(gateway->url());
        QTRY_COMPARE_WITH_TIMEOUT(upgrade.status, 404, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(upgrade.closed, 5000);
        QCOMPARE(QJsonDocument::fromJson(upgrade.body).object().value(QStringLiteral("error")).toObject()
                     .value(QStringLiteral("status")).toString(), QStringLiteral("NOT_FOUND"));
        RawStreamClient plain(gateway->url(), {}, /*upgrade=*/false);
        QTRY_COMPARE_WITH_TIMEOUT(plain.status, 404, 5000);
        QCOMPARE(gateway->streamCounters()->connectionsAccepted.load(), quint64(0));
    }

    // RFC 6455 errors in what a client sends, over a raw socket: the close
    // code Qt 6.4.2's QWebSocket answers with, and that the close frame is
    // the last frame and the connection then ends.
    void protocolErrorsClose_data()
    {
        QTest::addColumn<QByteArray>("frames");
        QTest::addColumn<int>("closeCode");
        QTest::addColumn<QByteArray>("closePayload"); // the whole close payload expected, or empty: just check the code
        const auto text = [](const QByteArray &p, bool fin = true) { return clientFrame(0x1, p, fin); };
        QTest::newRow("invalid UTF-8 (0xFF)") << text("{\"type\":\"x\xff\"}") << 1007 << QByteArray();
        QTest::newRow("overlong UTF-8") << text("\xc0\xaf") << 1007 << QByteArray();
        QTest::newRow("UTF-16 surrogate in UTF-8") << text("\xed\xa0\x80") << 1007 << QByteArray();
        QTest::newRow("truncated UTF-8 at the end") << text("ok \xe2\x82") << 1007 << QByteArray();
        QTest::newRow("invalid UTF-8 in a later fragment") << text("{\"a\":", false) + clientFrame(0x0, "\xff}") << 1007
                                                           << QByteArray();
        QTest::newRow("continuation with nothing started") << clientFrame(0x0, "{}") << 1002 << QByteArray();
        QTest::newRow("non-final continuation with nothing started") << clientFrame(0x0, "{", false) << 1002 << QByteArray();
        QTest::newRow("new text frame inside a fragmented message") << text("{", false) + text("}") << 1002 << QByteArray();
        QTest::newRow("reserved opcode") << clientFrame(0x3, "x") << 1002 << QByteArray();
        QTest::newRow("fragmented ping") << clientFrame(0x9, "x", false) << 1002 << QByteArray();
        // RFC 6455 §7.4.1: 1005 is never sent; an empty close is answered with 1000.
        QTest::newRow("close without a code") << clientFrame(0x8, {}) << 1000 << QByteArray("\x03\xe8", 2);
        QTest::newRow("close with code 1005 on the wire") << clientFrame(0x8, QByteArray("\x03\xed", 2)) << 1002 << QByteArray();
        QTest::newRow("close with a 1-byte payload") << clientFrame(0x8, QByteArray("\x03", 1)) << 1002 << QByteArray();
        QTest::newRow("close 1000 is echoed") << clientFrame(0x8, QByteArray("\x03\xe8" "bye", 5)) << 1000 << QByteArray();
        QTest::newRow("close with invalid UTF-8 reason") << clientFrame(0x8, QByteArray("\x03\xe8\xff", 3)) << 1007 << QByteArray();
    }

    void protocolErrorsClose()
    {
        QFETCH(QByteArray, frames);
        QFETCH(int, closeCode);
        QFETCH(QByteArray, closePayload);
        const auto counters = m_gateway->streamCounters();
        const int clientsBefore = counters->clients.load();
        RawHttp r(m_url);
        QTRY_VERIFY_WITH_TIMEOUT(r.socket.state() == QAbstractSocket::ConnectedState, 5000);
        r.send(upgradeRequest("GET", "/api/v1/stream", quint16(m_url.port())));
        QTRY_VERIFY_WITH_TIMEOUT(r.complete, 5000);
        QCOMPARE(r.status, 101);
        QTRY_VERIFY_WITH_TIMEOUT(!serverFrames(r.buffer).isEmpty(), 5000); // hello
        r.socket.write(frames);
        QTRY_VERIFY_WITH_TIMEOUT(r.closed, 10000);
        const QList<ServerFrame> got = serverFrames(r.buffer);
        QVERIFY(!got.isEmpty());
        QCOMPARE(got.first().opcode, quint8(0x1));
        QCOMPARE(got.last().opcode, quint8(0x8)); // nothing after the close frame
        for (qsizetype i = 0; i + 1 < got.size(); ++i)
            QVERIFY(got.at(i).opcode != 0x8);
        const QByteArray close = got.last().payload;
        QVERIFY2(close.size() >= 2, close.toHex().constData());
        QCOMPARE(int(qFromBigEndian<quint16>(close.constData())), closeCode);
        if (!closePayload.isEmpty())
            QCOMPARE(close, closePayload);
        QTRY_COMPARE_WITH_TIMEOUT(counters->clients.load(), clientsBefore, 5000);
    }

    // Clients that never read, and even send requests they never read the
    // answers to: each one's queued bytes stay near maxBacklogBytes (its
    // snapshots are dropped, its requests ignored), so the server's memory
    // is bounded by maxClients x that, and nobody needs aborting.
    void nonReadingClientsStayBounded()
    {
        constexpr int kClients = 16;
        constexpr qint64 kMaxBacklog = 32 * 1024;
        auto gateway = startGateway([](GatewayOptions &o) {
            o.streamRateHz = 50;
            o.streamMaxBacklogBytes = kMaxBacklog;
            o.streamHardBacklogBytes = 4 * 1024 * 1024;
        });
        const auto counters = gateway->streamCounters();
        // History first (about 1 KB an entry), so that its pages are full.
        PagingClient reader(gateway->url());
        QTRY_VERIFY_WITH_TIMEOUT(reader.count(QStringLiteral("snapshot")) >= 80, 20000);
        const qint64 rssBefore = residentKiB();
        QByteArray requests;
        for (int k = 0; k < 100; ++k)
            requests += clientFrame(0x1, R"({"type":"history","limit":1000})");
        std::vector<NonReadingClient> stalled;
        for (int i = 0; i < kClients; ++i) {
            stalled.emplace_back(quint16(gateway->url().port()));
            QVERIFY(stalled.back().connected());
            QVERIFY(stalled.back().write(upgradeRequest("GET", "/api/v1/stream", quint16(gateway->url().port()))));
            QVERIFY(stalled.back().readHead().startsWith("HTTP/1.1 101 "));
            QVERIFY(stalled.back().write(requests)); // then never reads again
        }
        QTRY_COMPARE_WITH_TIMEOUT(counters->clients.load(), kClients + 1, 5000);
        // Until every stalled client has had snapshots dropped for a while
        // (seconds: first the kernel's send buffer for each fills, which
        // Linux autotunes up to net.ipv4.tcp_wmem's maximum).
        QTRY_VERIFY_WITH_TIMEOUT(counters->snapshotFramesDropped.load() >= quint64(kClients) * 25, 60000);
        const qint64 rssAfter = residentKiB();
        // The largest message a client can be sent: a history page (at most
        // kHistoryPageBytes of points, one entry beyond when one alone is larger).
        const qint64 largest = MetricsStream::kHistoryPageBytes + 8 * 1024;
        QVERIFY2(counters->maxBacklogBytes.load() <= kMaxBacklog + largest,
                 qPrintable(QString::number(counters->maxBacklogBytes.load())));
        QVERIFY2(counters->backlogBytes.load() <= kClients * (kMaxBacklog + largest),
                 qPrintable(QString::number(counters->backlogBytes.load())));
        QVERIFY(counters->requestsIgnored.load() > 0);
        QCOMPARE(counters->clientsAborted.load(), quint64(0));
        // The reader is unaffected.
        const int before = reader.count(QStringLiteral("snapshot"));
        QTRY_VERIFY_WITH_TIMEOUT(reader.count(QStringLiteral("snapshot")) > before + 10, 5000);
        QCOMPARE(reader.count(QStringLiteral("dropped")), 0);
        qInfo("%d non-reading clients: queued %lld bytes in all (max %lld for one), %llu snapshots dropped, "
              "%llu requests ignored, %llu history pages sent; RSS %lld -> %lld KiB (the gateway and one reading client)",
              kClients, qint64(counters->backlogBytes.load()), qint64(counters->maxBacklogBytes.load()),
              counters->snapshotFramesDropped.load(), counters->requestsIgnored.load(), counters->historyPagesSent.load(),
              rssBefore, rssAfter);
    }

    void shutdownClosesWith1001()
    {
        auto gateway = startGateway([](GatewayOptions &) {});
        StreamClient c(gateway->url());
        QTRY_VERIFY_WITH_TIMEOUT(c.count(QStringLiteral("hello")) == 1, 5000);
        gateway->stop();
        QTRY_VERIFY_WITH_TIMEOUT(c.closed, 5000);
        QCOMPARE(int(c.ws.closeCode()), 1001);
    }
};

QTEST_GUILESS_MAIN(TestMetricsStream)
#include "tst_metricsstream.moc"
