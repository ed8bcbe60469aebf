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
        QTest::addColumn<int>("inflight");
        QTest::addColumn<double>("waited"); // the oldest member's wait, seconds
        QTest::addColumn<int>("take");
        QTest::addColumn<int>("calls");
        QTest::addColumn<int>("packCalls");

        const PackingMode A = PackingMode::Auto, P = PackingMode::Pack, F = PackingMode::Fanout;
        const QString p16(16, u'p');
        const QString p200(200, u'p');
        // mode, queue, count, callsRoom, tokensRoom, maxPack, outPerMember, packOutputLimit, the budget's
        // calls per second (0: no limit; 0.01: a tight quota), members in flight, the oldest's wait
        // → take, calls, packCalls. Tags with "probing" mark a rate the budget assumes.
        QTest::newRow("no room: nothing") << A << p16 << 16 << 0 << -1 << 64 << 64 << 8192 << 0.01 << 0 << 10.0 << 0 << 0 << 0;
        QTest::newRow("auto, no limit: fanout") << A << p16 << 16 << 1000 << -1 << 64 << 64 << 8192 << 0.0 << 0 << 10.0 << 16 << 16 << 16;
        QTest::newRow("auto, probing with room for all: fanout")
            << A << p16 << 16 << 1000 << -1 << 64 << 64 << 8192 << 0.01 << 0 << 10.0 << 16 << 16 << 16;
        QTest::newRow("auto, known tight quota with room for all: calls are scarce, one pack")
            << A << p16 << 16 << 1000 << -1 << 64 << 64 << 8192 << 0.01 << 0 << 10.0 << 16 << 1 << 1;
        QTest::newRow("auto, probing a tight quota: packs as large as allowed, no call wasted")
            << A << p200 << 16 << 20 << -1 << 64 << 64 << 8192 << 0.01 << 0 << 10.0 << 200 << 4 << 4;
        QTest::newRow("auto, a known tight quota: packs as large as allowed too")
            << A << p200 << 16 << 20 << -1 << 64 << 64 << 8192 << 0.01 << 0 << 10.0 << 200 << 4 << 4;
        QTest::newRow("auto, one call: one pack of maxPackSize")
            << A << p200 << 16 << 1 << -1 << 64 << 64 << 8192 << 0.01 << 0 << 10.0 << 64 << 1 << 1;
        QTest::newRow("auto, packs bounded by the output limit")
            << A << p200 << 16 << 1 << -1 << 64 << 400 << 8192 << 0.01 << 0 << 10.0 << 19 << 1 << 1;
        QTest::newRow("auto, non-packables take their own calls")
            << A << QStringLiteral("pnpnpppp") << 8 << 3 << -1 << 64 << 64 << 8192 << 0.01 << 0 << 10.0 << 8 << 3 << 1;
        QTest::newRow("auto, a non-packable beyond the room stops the prefix")
            << A << QStringLiteral("pppnnnpp") << 8 << 3 << -1 << 64 << 64 << 8192 << 0.01 << 0 << 10.0 << 5 << 3 << 1;
        QTest::newRow("fanout: one call each, cut to the room") << F << p16 << 16 << 5 << -1 << 64 << 64 << 8192 << 0.01 << 0 << 10.0 << 5 << 5 << 5;
        QTest::newRow("fanout, enough room") << F << p16 << 8 << 100 << -1 << 64 << 64 << 8192 << 0.01 << 0 << 10.0 << 8 << 8 << 8;
        QTest::newRow("pack: the batch in one call") << P << p16 << 16 << 100 << -1 << 64 << 64 << 8192 << 0.01 << 0 << 10.0 << 16 << 1 << 1;
        QTest::newRow("pack: never beyond the batch") << P << p200 << 16 << 1 << -1 << 64 << 64 << 8192 << 0.01 << 0 << 10.0 << 16 << 1 << 1;
        QTest::newRow("pack: non-packables alone") << P << QStringLiteral("ppnpp") << 5 << 100 << -1 << 64 << 64 << 8192 << 0.01 << 0 << 10.0 << 5 << 2 << 1;
        QTest::newRow("pack: a lone packable is one call") << P << QStringLiteral("pn") << 2 << 100 << -1 << 64 << 64 << 8192 << 0.01 << 0 << 10.0 << 2 << 2 << 1;
        QTest::newRow("tokens room bounds the take") << A << p16 << 16 << 1000 << 350 << 64 << 64 << 8192 << 0.0 << 0 << 10.0 << 3 << 3 << 3;
        QTest::newRow("tokens room below the oldest: nothing") << A << p16 << 16 << 1000 << 50 << 64 << 64 << 8192 << 0.0 << 0 << 10.0 << 0 << 0 << 0;
        // The pack factor from the latency model, b = 0.3 s per member: ⌈√((queued + in flight) / rb)⌉;
        // the prefix is cut where round(n / f) exceeds the room.
        QTest::newRow("auto, a known budget that keeps up: fanout of the batch, cut to the room")
            << A << p200 << 16 << 10 << -1 << 64 << 64 << 8192 << 2000.0 << 0 << 10.0 << 10 << 10 << 10;
        QTest::newRow("auto, known 10 calls/s, 2 queued, 1 call now: f = 1, fanout, the other waits")
            << A << QStringLiteral("pp") << 2 << 1 << -1 << 64 << 64 << 8192 << 10.0 << 0 << 10.0 << 1 << 1 << 1;
        QTest::newRow("auto, probing at 1 call/s, 30 queued: packs of 10")
            << A << QString(30, u'p') << 16 << 10 << -1 << 64 << 64 << 8192 << 1.0 << 0 << 10.0 << 30 << 3 << 3;
        QTest::newRow("auto, probing at 1 call/s, 200 queued, 2 calls: packs of about 26")
            << A << p200 << 16 << 2 << -1 << 64 << 64 << 8192 << 1.0 << 0 << 10.0 << 64 << 2 << 2;
        QTest::newRow("auto, probing at 10 calls/s, 200 queued, 3 calls: packs of about 9")
            << A << p200 << 16 << 3 << -1 << 64 << 64 << 8192 << 10.0 << 0 << 10.0 << 31 << 3 << 3;
        QTest::newRow("auto, probing at 10 calls/s, 10 queued, 100 in flight, 3 calls: packs of about 7")
            << A << QString(10, u'p') << 10 << 3 << -1 << 64 << 64 << 8192 << 10.0 << 100 << 10.0 << 10 << 1 << 1;
        QTest::newRow("auto, known 1 call/s, 30 queued, 10 calls now: packs of 10, calls kept")
            << A << QString(30, u'p') << 16 << 10 << -1 << 64 << 64 << 8192 << 1.0 << 0 << 10.0 << 30 << 3 << 3;
        QTest::newRow("auto, known 1 call/s, 40 queued, 2 calls now: packs of about 12")
            << A << QString(40, u'p') << 16 << 2 << -1 << 64 << 64 << 8192 << 1.0 << 0 << 10.0 << 29 << 2 << 2;
        QTest::newRow("auto, known 1 call/s, 30 queued, 200 in flight, 1 call: one pack of all 30 (f = 28)")
            << A << QString(30, u'p') << 16 << 1 << -1 << 64 << 64 << 8192 << 1.0 << 200 << 10.0 << 30 << 1 << 1;
        // A known rate holds packs under half of f for one call interval (1/r, at most 2 s).
        QTest::newRow("auto, known 1 call/s, 2 queued, 198 in flight, just arrived: held")
            << A << QStringLiteral("pp") << 2 << 5 << -1 << 64 << 64 << 8192 << 1.0 << 198 << 0.25 << 0 << 0 << 0;
        QTest::newRow("auto, known 1 call/s, 2 queued, 198 in flight, waited a call interval: sent")
            << A << QStringLiteral("pp") << 2 << 5 << -1 << 64 << 64 << 8192 << 1.0 << 198 << 1.0 << 2 << 1 << 1;
        QTest::newRow("auto, known 0.01 calls/s, 2 queued, waited 2 s: the hold is at most 2 s")
            << A << QStringLiteral("pp") << 2 << 5 << -1 << 64 << 64 << 8192 << 0.01 << 0 << 2.0 << 2 << 1 << 1;
        QTest::newRow("auto, known 1 call/s, 8 queued of f = 14: over half, no hold")
            << A << QString(8, u'p') << 8 << 5 << -1 << 64 << 64 << 8192 << 1.0 << 50 << 0.0 << 8 << 1 << 1;
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
        QFETCH(int, inflight);
        QFETCH(double, waited);
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
        in.inflight = inflight;
        in.oldestWaitSeconds = waited;
        in.secondsPerMember = 0.3;
        const PackPlan p = PackPlanner::plan(in);
        // Taking nothing with room and a fitting oldest member is a hold, and says for how long.
        const bool held = take == 0 && callsRoom > 0 && (tokensRoom < 0 || tokensRoom >= 100);
        QCOMPARE(p.holdSeconds > 0, held);
        if (held)
            QCOMPARE(p.holdSeconds, std::min(1.0 / callsPerSecond, PackPlanner::kMaxHoldSeconds) - waited);
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

    // Members sharing a systemInstruction (80 of each one's 100 tokens): a
    // pack sends it once, so it costs 20 per member + 80; singles pay it each.
    void sharedTokensOncePerPack_data()
    {
        QTest::addColumn<PackingMode>("mode");
        QTest::addColumn<int>("tokensRoom");
        QTest::addColumn<int>("take");
        QTest::addColumn<int>("calls");
        QTest::addColumn<long long>("tokens");
        QTest::newRow("pack: 16 in one call") << PackingMode::Pack << 100000 << 16 << 1 << 16LL * 20 + 80;
        QTest::newRow("pack, tokens room 300: 11 fit") << PackingMode::Pack << 300 << 11 << 1 << 11LL * 20 + 80;
        QTest::newRow("fanout: each pays it") << PackingMode::Fanout << 100000 << 16 << 16 << 1600LL;
        QTest::newRow("fanout, tokens room 300: 3 fit") << PackingMode::Fanout << 300 << 3 << 3 << 300LL;
    }

    void sharedTokensOncePerPack()
    {
        QFETCH(PackingMode, mode);
        QFETCH(int, tokensRoom);
        QFETCH(int, take);
        QFETCH(int, calls);
        QFETCH(long long, tokens);
        const std::vector<PackCandidate> candidates(16, PackCandidate{true, 100, 64, 80});
        PackPlanInput in;
        in.mode = mode;
        in.queue = candidates;
        in.queued = 16;
        in.count = 16;
        in.callsRoom = 100;
        in.tokensRoom = tokensRoom;
        const PackPlan p = PackPlanner::plan(in);
        QCOMPARE(p.take, take);
        QCOMPARE(p.calls, calls);
        QCOMPARE(p.tokens, tokens);
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
