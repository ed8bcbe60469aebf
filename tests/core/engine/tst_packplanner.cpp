// PackPlanner: which members a dispatch takes and into how many calls, for
// each packing mode and budget room. A queue is written as a string, one
// letter per member, oldest first: 'p' packable, 'n' not packable.

#include "core/engine/packplanner.h"

#include <QTest>

#include <vector>

Q_DECLARE_METATYPE(PackingMode)

class TestPackPlanner : public QObject
{
    Q_OBJECT
private slots:
    void plan_data()
    {
        QTest::addColumn<PackingMode>("mode");
        QTest::addColumn<QString>("queue");
        QTest::addColumn<int>("count");
        QTest::addColumn<int>("callsRoom");
        QTest::addColumn<int>("tokensRoom"); // -1: unlimited
        QTest::addColumn<int>("maxPackSize");
        QTest::addColumn<int>("outputPerMember");
        QTest::addColumn<int>("packOutputLimit");
        QTest::addColumn<double>("callsPerSecond");
        QTest::addColumn<int>("take");
        QTest::addColumn<int>("calls");
        QTest::addColumn<int>("packCalls");

        const PackingMode A = PackingMode::Auto, P = PackingMode::Pack, F = PackingMode::Fanout;
        const QString p16(16, u'p');
        const QString p200(200, u'p');
        // mode, queue, count, callsRoom, tokensRoom, maxPack, outPerMember, packOutputLimit, the budget's
        // calls per second (0.01: a tight quota, packs as large as allowed) → take, calls, packCalls
        QTest::newRow("no room: nothing") << A << p16 << 16 << 0 << -1 << 64 << 64 << 8192 << 0.01 << 0 << 0 << 0;
        QTest::newRow("auto, room for all: fanout") << A << p16 << 16 << 1000 << -1 << 64 << 64 << 8192 << 0.01 << 16 << 16 << 16;
        QTest::newRow("auto, probing a tight quota: packs as large as allowed, no call wasted")
            << A << p200 << 16 << 20 << -1 << 64 << 64 << 8192 << 0.01 << 200 << 4 << 4;
        QTest::newRow("auto, a known tight quota: the queue spread over the calls it has")
            << A << p200 << 16 << 20 << -1 << 64 << 64 << 8192 << 0.01 << 200 << 20 << 20;
        QTest::newRow("auto, one call: one pack of maxPackSize")
            << A << p200 << 16 << 1 << -1 << 64 << 64 << 8192 << 0.01 << 64 << 1 << 1;
        QTest::newRow("auto, packs bounded by the output limit")
            << A << p200 << 16 << 1 << -1 << 64 << 400 << 8192 << 0.01 << 19 << 1 << 1;
        QTest::newRow("auto, probing at 1 call/s, 30 queued: packs of 8")
            << A << QString(30, u'p') << 16 << 10 << -1 << 64 << 64 << 8192 << 1.0 << 30 << 4 << 4;
        QTest::newRow("auto, known 1 call/s, 30 queued, 10 calls now: packs of 3")
            << A << QString(30, u'p') << 16 << 10 << -1 << 64 << 64 << 8192 << 1.0 << 30 << 10 << 10;
        QTest::newRow("auto, non-packables take their own calls")
            << A << QStringLiteral("pnpnpppp") << 8 << 3 << -1 << 64 << 64 << 8192 << 0.01 << 8 << 3 << 1;
        QTest::newRow("auto, a non-packable beyond the room stops the prefix")
            << A << QStringLiteral("pppnnnpp") << 8 << 3 << -1 << 64 << 64 << 8192 << 0.01 << 5 << 3 << 1;
        QTest::newRow("fanout: one call each, cut to the room") << F << p16 << 16 << 5 << -1 << 64 << 64 << 8192 << 0.01 << 5 << 5 << 5;
        QTest::newRow("fanout, enough room") << F << p16 << 8 << 100 << -1 << 64 << 64 << 8192 << 0.01 << 8 << 8 << 8;
        QTest::newRow("pack: the batch in one call") << P << p16 << 16 << 100 << -1 << 64 << 64 << 8192 << 0.01 << 16 << 1 << 1;
        QTest::newRow("pack: never beyond the batch") << P << p200 << 16 << 1 << -1 << 64 << 64 << 8192 << 0.01 << 16 << 1 << 1;
        QTest::newRow("pack: non-packables alone") << P << QStringLiteral("ppnpp") << 5 << 100 << -1 << 64 << 64 << 8192 << 0.01 << 5 << 2 << 1;
        QTest::newRow("pack: a lone packable is one call") << P << QStringLiteral("pn") << 2 << 100 << -1 << 64 << 64 << 8192 << 0.01 << 2 << 2 << 1;
        QTest::newRow("tokens room bounds the take") << A << p16 << 16 << 1000 << 350 << 64 << 64 << 8192 << 0.01 << 3 << 3 << 3;
        // The pack factor from the latency model: ⌈√(queued / 2·r·b)⌉ with b = 0.3 s.
        QTest::newRow("auto, a budget that keeps up: fanout of the batch")
            << A << p200 << 16 << 10 << -1 << 64 << 64 << 8192 << 2000.0 << 10 << 10 << 10;
        QTest::newRow("auto, probing at 1 call/s, 200 queued: packs of 19")
            << A << p200 << 16 << 2 << -1 << 64 << 64 << 8192 << 1.0 << 38 << 2 << 2;
        QTest::newRow("auto, probing at 10 calls/s, 200 queued: packs of 6")
            << A << p200 << 16 << 3 << -1 << 64 << 64 << 8192 << 10.0 << 18 << 3 << 3;
        QTest::newRow("auto, known 1 call/s, 40 queued, 2 calls now: all of it in 2 packs")
            << A << QString(40, u'p') << 16 << 2 << -1 << 64 << 64 << 8192 << 1.0 << 40 << 2 << 2;
        QTest::newRow("tokens room below the oldest: nothing") << A << p16 << 16 << 1000 << 50 << 64 << 64 << 8192 << 0.01 << 0 << 0 << 0;
    }

    void plan()
    {
        QFETCH(PackingMode, mode);
        QFETCH(QString, queue);
        QFETCH(int, count);
        QFETCH(int, callsRoom);
        QFETCH(int, tokensRoom);
        QFETCH(int, maxPackSize);
        QFETCH(int, outputPerMember);
        QFETCH(int, packOutputLimit);
        QFETCH(double, callsPerSecond);
        const bool rateAssumed = QByteArray(QTest::currentDataTag()).contains("probing");
        QFETCH(int, take);
        QFETCH(int, calls);
        QFETCH(int, packCalls);

        std::vector<PackCandidate> candidates;
        for (QChar c : queue)
            candidates.push_back({c == u'p', 100, outputPerMember});
        PackPlanInput in;
        in.mode = mode;
        in.queue = candidates;
        in.queued = int(candidates.size());
        in.count = count;
        in.callsRoom = callsRoom;
        in.tokensRoom = tokensRoom < 0 ? std::numeric_limits<long long>::max() : tokensRoom;
        in.maxPackSize = maxPackSize;
        in.packOutputLimit = packOutputLimit;
        in.memberOverheadTokens = 16;
        in.callsPerSecond = callsPerSecond;
        in.rateAssumed = rateAssumed;
        in.secondsPerMember = 0.3;
        const PackPlan p = PackPlanner::plan(in);
        QCOMPARE(p.take, take);
        QCOMPARE(p.calls, calls);
        QCOMPARE(p.packCalls, packCalls);
        QCOMPARE(p.tokens, 100LL * take);
        // The plan never costs more calls than the room.
        QVERIFY(p.calls <= std::max(0, callsRoom));
        // Every pack stays within the limits: the largest of packCalls even packs.
        if (p.packCalls > 0) {
            const int largest = (p.packable + p.packCalls - 1) / p.packCalls;
            if (mode != PackingMode::Fanout && p.packCalls < p.packable) {
                QVERIFY(largest <= maxPackSize);
                QVERIFY(largest * (outputPerMember + 16) <= packOutputLimit);
            }
        }
    }

    void packsFor_data()
    {
        QTest::addColumn<int>("members");
        QTest::addColumn<int>("outputTokens");
        QTest::addColumn<int>("packs");
        QTest::newRow("none") << 0 << 0 << 0;
        QTest::newRow("one") << 1 << 64 << 1;
        QTest::newRow("by size") << 130 << 0 << 3;
        QTest::newRow("by output") << 10 << 10000 << 2;
        QTest::newRow("by output, with the overhead") << 100 << 7000 << 2;
    }

    void packsFor()
    {
        QFETCH(int, members);
        QFETCH(int, outputTokens);
        QFETCH(int, packs);
        PackPlanInput in;
        in.maxPackSize = 64;
        in.packOutputLimit = 8192;
        in.memberOverheadTokens = 16;
        QCOMPARE(PackPlanner::packsFor(members, outputTokens, in), packs);
    }
};

QTEST_GUILESS_MAIN(TestPackPlanner)
#include "tst_packplanner.moc"
