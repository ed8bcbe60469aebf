// SimulatorCapacity: the simulator's capacity decisions (FIFO, slots, jobs
// whose client left) as event tables, without sockets or timers.
#include "server/simulator/simulatorcapacity.h"

#include <QSet>
#include <QStringList>
#include <QTest>

class TestSimulatorCapacity : public QObject
{
    Q_OBJECT
private slots:
    void decisions_data();
    void decisions();
};

void TestSimulatorCapacity::decisions_data()
{
    // Events, as SimulatorScheduler drives the policy:
    //   +   a job arrives (ids 1, 2, ...): starts at once or waits
    //   -   a started job finishes, then the waiting ones that fit start
    //   r   a started job finishes, nothing started yet (a release inside a pump)
    //   n   the waiting ones that fit start
    //   xN  job N's client leaves
    //   mN  maxConcurrent becomes N, then the waiting ones that fit start
    //   c   the waiting jobs are forgotten (shutdown)
    QTest::addColumn<int>("maxConcurrent");
    QTest::addColumn<QString>("events");
    QTest::addColumn<QString>("started"); // ids in the order they started
    QTest::addColumn<int>("inFlight");
    QTest::addColumn<int>("queued");

    QTest::newRow("free slots start at once") << 2 << "+ +" << "1 2" << 2 << 0;
    QTest::newRow("beyond the limit jobs wait") << 2 << "+ + + +" << "1 2" << 2 << 2;
    QTest::newRow("a release starts the oldest") << 2 << "+ + + + -" << "1 2 3" << 2 << 1;
    QTest::newRow("first in, first out") << 1 << "+ + + + - - -" << "1 2 3 4" << 1 << 0;
    QTest::newRow("all done") << 1 << "+ + - -" << "1 2" << 0 << 0;
    QTest::newRow("an arrival never overtakes a waiting job") << 1 << "+ + r + n" << "1 2" << 1 << 1;
    QTest::newRow("a waiting job whose client left is skipped") << 1 << "+ + + x2 -" << "1 3" << 1 << 0;
    QTest::newRow("every waiting job left") << 1 << "+ + + x2 x3 -" << "1" << 0 << 0;
    QTest::newRow("a started job keeps its slot when its client leaves") << 1 << "+ x1 +" << "1" << 1 << 1;
    QTest::newRow("a higher limit starts waiting jobs") << 1 << "+ + + m3" << "1 2 3" << 3 << 0;
    QTest::newRow("a lower limit lets started jobs finish") << 3 << "+ + + m1 + - -" << "1 2 3" << 1 << 1;
    QTest::newRow("then serves one at a time") << 3 << "+ + + m1 + - - -" << "1 2 3 4" << 1 << 0;
    QTest::newRow("shutdown forgets the waiting") << 1 << "+ + + c -" << "1" << 0 << 0;
}

void TestSimulatorCapacity::decisions()
{
    QFETCH(int, maxConcurrent);
    QFETCH(QString, events);
    QFETCH(QString, started);
    QFETCH(int, inFlight);
    QFETCH(int, queued);

    SimulatorCapacity<int> capacity(maxConcurrent);
    QSet<int> left;
    QStringList order;
    int nextId = 0;
    auto drain = [&] {
        while (std::optional<int> job = capacity.next([&left](int id) { return left.contains(id); }))
            order << QString::number(*job);
    };
    for (const QString &e : events.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
        if (e == QLatin1String("+")) {
            const int id = ++nextId;
            if (capacity.tryStart())
                order << QString::number(id);
            else
                capacity.wait(id);
        } else if (e == QLatin1String("-")) {
            capacity.release();
            drain();
        } else if (e == QLatin1String("r")) {
            capacity.release();
        } else if (e == QLatin1String("n")) {
            drain();
        } else if (e.startsWith(QLatin1Char('x'))) {
            left.insert(e.mid(1).toInt());
        } else if (e.startsWith(QLatin1Char('m'))) {
            capacity.setMaxConcurrent(e.mid(1).toInt());
            drain();
        } else if (e == QLatin1String("c")) {
            capacity.clearWaiting();
        } else {
            QFAIL(qPrintable(QStringLiteral("unknown event ") + e));
        }
        QVERIFY(capacity.inFlight() >= 0);
    }
    QCOMPARE(order.join(QLatin1Char(' ')), started);
    QCOMPARE(capacity.inFlight(), inFlight);
    QCOMPARE(capacity.queued(), queued);
}

QTEST_GUILESS_MAIN(TestSimulatorCapacity)
#include "tst_simulatorcapacity.moc"
