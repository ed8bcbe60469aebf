#include "core/http/http1connectionpool.h"
#include "server/simulator/geminisimulator.h"

#include <QElapsedTimer>
#include <QtTest>

#include <memory>
#include <vector>

using namespace std::chrono_literals;

// Http1ConnectionPool (and the Http1Connections it runs) on the test's thread
// against the real GeminiSimulator over loopback: reuse, the connection cap
// and its FIFO, cancel, idle timeout, streaming, transport errors. The stale
// keep-alive resend needs a byte-exact peer and is covered in tst_geminiclient.

namespace {

struct TestExchange : Http1ConnectionPool::Exchange {
    int id = 0;
    std::vector<int> *order = nullptr;
    int callbacks = 0;
    int status = 0;
    QByteArray body;
    QByteArray streamed;
    QString error;

    void bodyReceived(QByteArray bytes) override { streamed += bytes; }
    void responseReceived(Http1Connection::Response r) override
    {
        ++callbacks;
        status = r.status;
        body = r.body;
        if (order)
            order->push_back(id);
    }
    void failed(const QString &message) override
    {
        ++callbacks;
        error = message;
        if (order)
            order->push_back(id);
    }
};

SimulatorConfig fastSim()
{
    SimulatorConfig c;
    c.baseLatencyMs = 0;
    c.tokensPerSecond = 0;
    c.jitterSigma = 0;
    c.maxConcurrent = 64;
    c.responseWords = 6;
    return c;
}

QByteArray generateRequest(quint16 port, bool stream = false)
{
    const QByteArray body = R"({"contents":[{"role":"user","parts":[{"text":"hello"}]}]})";
    return "POST /v1beta/models/gemini-2.0-flash:" + QByteArray(stream ? "streamGenerateContent?alt=sse" : "generateContent")
         + " HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(port)
         + "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
}

} // namespace

class TestHttp1ConnectionPool : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<GeminiSimulator> m_sim;

    Http1ConnectionPool::Config poolConfig(int maxConnections = 8) const
    {
        Http1ConnectionPool::Config c;
        c.host = QStringLiteral("127.0.0.1");
        c.port = m_sim->port();
        c.maxConnections = maxConnections;
        return c;
    }

private slots:
    void init()
    {
        m_sim = std::make_unique<GeminiSimulator>(fastSim());
        QVERIFY2(m_sim->start(), qPrintable(m_sim->errorString()));
    }

    void cleanup() { m_sim.reset(); }

    void sequentialExchangesShareOneConnection()
    {
        Http1ConnectionPool pool(poolConfig());
        for (int i = 0; i < 5; ++i) {
            TestExchange e;
            pool.start(&e, generateRequest(m_sim->port()), false);
            QVERIFY(e.isPending());
            QTRY_COMPARE_WITH_TIMEOUT(e.callbacks, 1, 5000);
            QVERIFY(!e.isPending());
            QCOMPARE(e.status, 200);
            QVERIFY2(e.body.contains("\"candidates\""), e.body.constData());
            QCOMPARE(pool.connectionCount(), 1);
            QCOMPARE(pool.idleCount(), 1);
        }
        QCOMPARE(m_sim->stats().requests, qint64(5));
        QCOMPARE(m_sim->stats().openConnections, 1);
    }

    void concurrentExchangesOpenConnectionsUpToTheCap()
    {
        SimulatorConfig sc = fastSim();
        sc.baseLatencyMs = 100;
        QVERIFY(m_sim->setConfig(sc).isNull());
        Http1ConnectionPool pool(poolConfig(3));
        std::vector<int> order;
        std::vector<std::unique_ptr<TestExchange>> exchanges;
        for (int i = 0; i < 7; ++i) {
            exchanges.push_back(std::make_unique<TestExchange>());
            exchanges.back()->id = i;
            exchanges.back()->order = &order;
            pool.start(exchanges.back().get(), generateRequest(m_sim->port()), false);
        }
        QCOMPARE(pool.connectionCount(), 3);
        QCOMPARE(pool.queuedCount(), 4);
        QTRY_COMPARE_WITH_TIMEOUT(order.size(), size_t(7), 5000);
        for (const auto &e : exchanges)
            QCOMPARE(e->status, 200);
        // The queue is FIFO: the waiting four go out in the order they came.
        const std::vector<int> waited(order.begin() + 3, order.end());
        QCOMPARE(waited, (std::vector<int>{3, 4, 5, 6}));
        QCOMPARE(m_sim->stats().maxInFlight, 3);
        QCOMPARE(pool.connectionCount(), 3);
        QCOMPARE(pool.idleCount(), 3);
        QCOMPARE(pool.queuedCount(), 0);
    }

    void streamingDeliversTheBodyAsItArrives()
    {
        SimulatorConfig sc = fastSim();
        sc.tokensPerSecond = 200; // several timed chunks
        QVERIFY(m_sim->setConfig(sc).isNull());
        Http1ConnectionPool pool(poolConfig());
        TestExchange e;
        pool.start(&e, generateRequest(m_sim->port(), true), true);
        QTRY_VERIFY_WITH_TIMEOUT(!e.streamed.isEmpty(), 5000);
        QTRY_COMPARE_WITH_TIMEOUT(e.callbacks, 1, 5000);
        QCOMPARE(e.status, 200);
        QVERIFY(e.streamed.startsWith("data: "));
        QVERIFY(e.streamed.count("data: ") >= 2);
        QVERIFY(e.body.isEmpty()); // nothing left over: it was all streamed
        QCOMPARE(pool.idleCount(), 1);
    }

    void errorAnswersAreReadWholeEvenWhenStreaming()
    {
        Http1ConnectionPool pool(poolConfig());
        TestExchange e;
        QByteArray request = generateRequest(m_sim->port(), true);
        request.replace("gemini-2.0-flash", "no-such-model");
        pool.start(&e, request, true);
        QTRY_COMPARE_WITH_TIMEOUT(e.callbacks, 1, 5000);
        QCOMPARE(e.status, 404);
        QVERIFY(e.streamed.isEmpty());
        QVERIFY2(e.body.contains("NOT_FOUND"), e.body.constData());
    }

    void cancelForgetsQueuedAndRunningExchanges()
    {
        SimulatorConfig sc = fastSim();
        sc.baseLatencyMs = 300;
        QVERIFY(m_sim->setConfig(sc).isNull());
        Http1ConnectionPool pool(poolConfig(1));
        TestExchange running, queued, next;
        pool.start(&running, generateRequest(m_sim->port()), false);
        pool.start(&queued, generateRequest(m_sim->port()), false);
        pool.start(&next, generateRequest(m_sim->port()), false);
        QCOMPARE(pool.queuedCount(), 2);

        pool.cancel(&queued);
        QVERIFY(!queued.isPending());
        QCOMPARE(pool.queuedCount(), 1);

        QTRY_COMPARE_WITH_TIMEOUT(m_sim->stats().inFlight, 1, 5000);
        pool.cancel(&running); // its connection is closed; `next` gets a new one
        QVERIFY(!running.isPending());
        QCOMPARE(pool.queuedCount(), 0);
        QCOMPARE(pool.connectionCount(), 1);
        QTRY_COMPARE_WITH_TIMEOUT(next.callbacks, 1, 5000);
        QCOMPARE(next.status, 200);
        QCOMPARE(running.callbacks, 0);
        QCOMPARE(queued.callbacks, 0);
    }

    void idleConnectionsCloseAfterTheTimeout()
    {
        Http1ConnectionPool::Config c = poolConfig();
        c.idleTimeout = 100ms;
        Http1ConnectionPool pool(c);
        TestExchange e;
        pool.start(&e, generateRequest(m_sim->port()), false);
        QTRY_COMPARE_WITH_TIMEOUT(e.callbacks, 1, 5000);
        QCOMPARE(pool.idleCount(), 1);
        QElapsedTimer t;
        t.start();
        QTRY_COMPARE_WITH_TIMEOUT(pool.connectionCount(), 0, 3000);
        QVERIFY2(t.elapsed() >= 90, qPrintable(QString::number(t.elapsed())));
        QTRY_COMPARE_WITH_TIMEOUT(m_sim->stats().openConnections, 0, 3000);
    }

    void peerClosingAnIdleConnectionRemovesIt()
    {
        Http1ConnectionPool pool(poolConfig());
        TestExchange e;
        pool.start(&e, generateRequest(m_sim->port()), false);
        QTRY_COMPARE_WITH_TIMEOUT(e.callbacks, 1, 5000);
        QCOMPARE(pool.idleCount(), 1);
        m_sim->stop();
        QTRY_COMPARE_WITH_TIMEOUT(pool.connectionCount(), 0, 3000);
        QCOMPARE(pool.idleCount(), 0);
    }

    void transportErrorsNameTheUpstream()
    {
        Http1ConnectionPool pool(poolConfig());
        const quint16 port = m_sim->port();
        m_sim->stop();
        TestExchange e;
        pool.start(&e, generateRequest(port), false);
        QTRY_COMPARE_WITH_TIMEOUT(e.callbacks, 1, 5000);
        QCOMPARE(e.error, QStringLiteral("connection refused by 127.0.0.1:%1").arg(port));
        QCOMPARE(pool.connectionCount(), 0);

        // The simulator drops the connection without answering.
        QVERIFY(m_sim->start(QHostAddress::LocalHost, port));
        SimulatorConfig sc = fastSim();
        sc.dropRate = 1;
        QVERIFY(m_sim->setConfig(sc).isNull());
        TestExchange dropped;
        pool.start(&dropped, generateRequest(port), false);
        QTRY_COMPARE_WITH_TIMEOUT(dropped.callbacks, 1, 5000);
        QCOMPARE(dropped.error, QStringLiteral("connection closed by 127.0.0.1:%1 without a response").arg(port));
        QCOMPARE(pool.connectionCount(), 0);
    }

    void closeAllForgetsEverything()
    {
        SimulatorConfig sc = fastSim();
        sc.baseLatencyMs = 300;
        QVERIFY(m_sim->setConfig(sc).isNull());
        Http1ConnectionPool pool(poolConfig(1));
        TestExchange a, b;
        pool.start(&a, generateRequest(m_sim->port()), false);
        pool.start(&b, generateRequest(m_sim->port()), false);
        pool.closeAll();
        QVERIFY(!a.isPending());
        QVERIFY(!b.isPending());
        QCOMPARE(pool.connectionCount(), 0);
        QCOMPARE(pool.queuedCount(), 0);
        QTRY_COMPARE_WITH_TIMEOUT(m_sim->stats().openConnections, 0, 3000);
        QCOMPARE(a.callbacks + b.callbacks, 0);
    }
};

QTEST_GUILESS_MAIN(TestHttp1ConnectionPool)
#include "tst_http1connectionpool.moc"
