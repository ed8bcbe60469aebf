// SimulatorBatches: the Batch Mode job store driven with explicit times (no
// waiting): PENDING -> RUNNING -> SUCCEEDED on schedule, cancel, delete, the
// bound on kept jobs, and the Operation JSON against the recorded fixtures
// (batch_operation_pending.json, batch_operation_succeeded.json).
#include "server/simulator/simulatorbatches.h"
#include "tests/support/fixtures.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTest>

using namespace std::chrono_literals;

namespace {

using Batches = SimulatorBatches;

QJsonObject fixture(const char *name)
{
    return QJsonDocument::fromJson(readFixture(QLatin1String(name))).object();
}

QJsonObject answer(const QString &text, int prompt, int output)
{
    return QJsonObject{
        {QStringLiteral("candidates"),
         QJsonArray{QJsonObject{{QStringLiteral("content"),
                                 QJsonObject{{QStringLiteral("parts"), QJsonArray{QJsonObject{{QStringLiteral("text"), text}}}},
                                             {QStringLiteral("role"), QStringLiteral("model")}}},
                                {QStringLiteral("finishReason"), QStringLiteral("STOP")},
                                {QStringLiteral("index"), 0}}}},
        {QStringLiteral("usageMetadata"),
         QJsonObject{{QStringLiteral("promptTokenCount"), prompt},
                     {QStringLiteral("candidatesTokenCount"), output},
                     {QStringLiteral("totalTokenCount"), prompt + output}}},
        {QStringLiteral("modelVersion"), QStringLiteral("gemini-2.5-flash-lite")},
    };
}

QList<Batches::Member> members(int n, int failed = 0)
{
    QList<Batches::Member> list;
    for (int i = 0; i < n; ++i) {
        Batches::Member m;
        if (i < n - failed)
            m.response = answer(QStringLiteral("answer %1").arg(i), 8, 8);
        else
            m.error = QJsonObject{{QStringLiteral("code"), 400},
                                  {QStringLiteral("message"), QStringLiteral("bad")},
                                  {QStringLiteral("status"), QStringLiteral("INVALID_ARGUMENT")}};
        if (i == 0)
            m.metadata = QJsonObject{{QStringLiteral("key"), QStringLiteral("first")}};
        list.append(m);
    }
    return list;
}

// Every key path of `v` ("metadata.batchStats.requestCount"; array elements as "[]").
QStringList keyPaths(const QJsonValue &v, const QString &prefix = {})
{
    QStringList paths;
    if (v.isObject()) {
        const QJsonObject o = v.toObject();
        for (auto it = o.begin(); it != o.end(); ++it) {
            const QString path = prefix.isEmpty() ? it.key() : prefix + QLatin1Char('.') + it.key();
            paths << path << keyPaths(it.value(), path);
        }
    } else if (v.isArray()) {
        for (const QJsonValue &e : v.toArray())
            paths << keyPaths(e, prefix + QStringLiteral("[]"));
    }
    paths.removeDuplicates();
    paths.sort();
    return paths;
}

const Batches::WallClock::time_point kWall{std::chrono::nanoseconds(1764782586004734302LL)};

} // namespace

class TestSimulatorBatches : public QObject
{
    Q_OBJECT
private slots:
    void timestampHasNanoseconds();
    void lifecycle();
    void pendingOperationMatchesFixture();
    void succeededOperationMatchesFixture();
    void failedMembersCarryTheirError();
    void cancelAndRemove();
    void keepsAtMostMaxJobs();
};

void TestSimulatorBatches::timestampHasNanoseconds()
{
    QCOMPARE(Batches::timestamp(kWall), QStringLiteral("2025-12-03T17:23:06.004734302Z"));
    QCOMPARE(Batches::timestamp(kWall + 95s), QStringLiteral("2025-12-03T17:24:41.004734302Z"));
    QCOMPARE(Batches::timestamp(Batches::WallClock::time_point{std::chrono::seconds(1764782586)}),
             QStringLiteral("2025-12-03T17:23:06.000000000Z"));
}

void TestSimulatorBatches::lifecycle()
{
    Batches batches;
    const auto t0 = Batches::Clock::now();
    const Batches::Job *job = batches.create(QStringLiteral("gemini-2.5-flash"), QStringLiteral("caps"), members(3),
                                             100ms, 200ms, t0, kWall);
    QVERIFY(job);
    const QString id = job->id;
    QVERIFY2(QRegularExpression(QStringLiteral("^[a-z0-9]{36}$")).match(id).hasMatch(), qPrintable(id));
    QCOMPARE(job->state, Batches::State::Pending);
    QCOMPARE(batches.nextDeadline(), std::optional(t0 + 100ms));

    Batches::Transitions t = batches.advance(t0 + 99ms);
    QCOMPARE(t.started, 0);
    QCOMPARE(batches.find(id)->state, Batches::State::Pending);
    t = batches.advance(t0 + 100ms);
    QCOMPARE(t.started, 1);
    QCOMPARE(batches.find(id)->state, Batches::State::Running);
    QCOMPARE(batches.count(Batches::State::Running), 1);
    QCOMPARE(batches.nextDeadline(), std::optional(t0 + 300ms));
    QJsonObject op = Batches::operationJson(*batches.find(id));
    QCOMPARE(op[u"metadata"][u"state"].toString(), QStringLiteral("BATCH_STATE_RUNNING"));
    QCOMPARE(op[u"metadata"][u"updateTime"].toString(), Batches::timestamp(kWall + 100ms));
    QVERIFY(!op.contains(QLatin1String("done")));

    t = batches.advance(t0 + 1s);
    QCOMPARE(t.succeeded, 1);
    QCOMPARE(batches.find(id)->state, Batches::State::Succeeded);
    QCOMPARE(batches.nextDeadline(), std::nullopt);
    op = Batches::operationJson(*batches.find(id));
    QCOMPARE(op[u"done"].toBool(), true);
    // The schedule, not the moment advance() ran, gives the times.
    QCOMPARE(op[u"metadata"][u"endTime"].toString(), Batches::timestamp(kWall + 300ms));
    QCOMPARE(op[u"metadata"][u"updateTime"].toString(), Batches::timestamp(kWall + 300ms));
    const QJsonArray responses = op[u"response"][u"inlinedResponses"][u"inlinedResponses"].toArray();
    QCOMPARE(responses.size(), 3);
    for (int i = 0; i < 3; ++i)
        QCOMPARE(responses[i][u"response"][u"candidates"][0][u"content"][u"parts"][0][u"text"].toString(),
                 QStringLiteral("answer %1").arg(i));
    QCOMPARE(responses[0][u"metadata"].toObject(), (QJsonObject{{QStringLiteral("key"), QStringLiteral("first")}}));
    QVERIFY(!responses[1].toObject().contains(QLatin1String("metadata")));
    // @google/genai reads a job's dest from metadata.output.
    QCOMPARE(op[u"metadata"][u"output"][u"inlinedResponses"][u"inlinedResponses"].toArray(), responses);

    // A job with no waiting passes both states in one advance().
    const Batches::Job *quick = batches.create(QStringLiteral("m"), {}, members(1), 0ms, 0ms, t0 + 2s, kWall);
    QVERIFY(quick);
    const QString quickId = quick->id;
    t = batches.advance(t0 + 2s);
    QCOMPARE(t.started, 1);
    QCOMPARE(t.succeeded, 1);
    QCOMPARE(batches.list().size(), 2);
    QCOMPARE(batches.list().first()->id, quickId); // newest first
}

void TestSimulatorBatches::pendingOperationMatchesFixture()
{
    const QJsonObject ref = fixture("batch_operation_pending.json");
    Batches batches;
    const Batches::Job *job = batches.create(QStringLiteral("gemini-2.5-flash-lite"), QStringLiteral("capitals-batch"),
                                             members(3), 1s, 1s, Batches::Clock::now(), kWall);
    QVERIFY(job);
    const QJsonObject op = Batches::operationJson(*job);
    QCOMPARE(keyPaths(op), keyPaths(ref));
    QJsonObject expected = ref;
    QJsonObject metadata = ref[u"metadata"].toObject();
    const QString name = QStringLiteral("batches/") + job->id;
    expected[QStringLiteral("name")] = name;
    metadata[QStringLiteral("name")] = name;
    expected[QStringLiteral("metadata")] = metadata;
    // The fixture's own createTime is kWall: everything but the id is the recorded answer.
    QCOMPARE(op, expected);
}

void TestSimulatorBatches::succeededOperationMatchesFixture()
{
    const QJsonObject ref = fixture("batch_operation_succeeded.json");
    Batches batches;
    const auto t0 = Batches::Clock::now();
    const Batches::Job *job = batches.create(QStringLiteral("gemini-2.5-flash-lite"), QStringLiteral("capitals-batch"),
                                             members(3), 1s, 94s, t0, kWall);
    QVERIFY(job);
    const QString id = job->id;
    batches.advance(t0 + 95s);
    QJsonObject op = Batches::operationJson(*batches.find(id));
    // The recorded body leaves out GenerateContentBatch.output, which the
    // SDK reads; everything else has exactly the recorded keys.
    QStringList ours = keyPaths(op);
    const QStringList output = ours.filter(QRegularExpression(QStringLiteral("^metadata\\.output(\\.|$)")));
    QVERIFY(!output.isEmpty());
    for (const QString &p : output)
        ours.removeAll(p);
    QStringList refPaths = keyPaths(ref);
    // Our inlined members carry metadata (sent with the first request); the recording sent none.
    ours.removeAll(QStringLiteral("response.inlinedResponses.inlinedResponses[].metadata"));
    ours.removeAll(QStringLiteral("response.inlinedResponses.inlinedResponses[].metadata.key"));
    QCOMPARE(ours, refPaths);
    QCOMPARE(op[u"response"][u"@type"], ref[u"response"][u"@type"]);
    QCOMPARE(op[u"metadata"][u"@type"], ref[u"metadata"][u"@type"]);
    QCOMPARE(op[u"metadata"][u"state"], ref[u"metadata"][u"state"]);
    QCOMPARE(op[u"metadata"][u"batchStats"], ref[u"metadata"][u"batchStats"]);
    QCOMPARE(op[u"metadata"][u"createTime"], ref[u"metadata"][u"createTime"]);
    QCOMPARE(op[u"metadata"][u"endTime"].toString(), QStringLiteral("2025-12-03T17:24:41.004734302Z"));
    QCOMPARE(op[u"done"], ref[u"done"]);
}

void TestSimulatorBatches::failedMembersCarryTheirError()
{
    Batches batches;
    const auto t0 = Batches::Clock::now();
    const Batches::Job *job = batches.create(QStringLiteral("m"), QStringLiteral("d"), members(3, 1), 0ms, 0ms, t0, kWall);
    const QString id = job->id;
    batches.advance(t0);
    const QJsonObject op = Batches::operationJson(*batches.find(id));
    const QJsonObject stats = op[u"metadata"][u"batchStats"].toObject();
    QCOMPARE(stats, (QJsonObject{{QStringLiteral("requestCount"), QStringLiteral("3")},
                                 {QStringLiteral("successfulRequestCount"), QStringLiteral("2")},
                                 {QStringLiteral("failedRequestCount"), QStringLiteral("1")}}));
    const QJsonObject last = op[u"response"][u"inlinedResponses"][u"inlinedResponses"][2].toObject();
    QCOMPARE(last.keys(), QStringList{QStringLiteral("error")});
    QCOMPARE(last[u"error"][u"status"].toString(), QStringLiteral("INVALID_ARGUMENT"));
}

void TestSimulatorBatches::cancelAndRemove()
{
    Batches batches;
    const auto t0 = Batches::Clock::now();
    const QString a = batches.create(QStringLiteral("m"), {}, members(1), 1s, 1s, t0, kWall)->id;
    const QString b = batches.create(QStringLiteral("m"), {}, members(1), 0ms, 0ms, t0, kWall)->id;
    batches.advance(t0);
    QCOMPARE(batches.cancel(a, kWall + 5s), Batches::CancelResult::Cancelled);
    QCOMPARE(batches.cancel(a, kWall + 6s), Batches::CancelResult::AlreadyFinished);
    QCOMPARE(batches.cancel(b, kWall), Batches::CancelResult::AlreadyFinished);
    QCOMPARE(batches.cancel(QStringLiteral("nope"), kWall), Batches::CancelResult::NotFound);
    const QJsonObject op = Batches::operationJson(*batches.find(a));
    QCOMPARE(op[u"metadata"][u"state"].toString(), QStringLiteral("BATCH_STATE_CANCELLED"));
    QCOMPARE(op[u"metadata"][u"endTime"].toString(), Batches::timestamp(kWall + 5s));
    QCOMPARE(op[u"done"].toBool(), true);
    QVERIFY(!op.contains(QLatin1String("response")));
    // A cancelled job never moves again.
    batches.advance(t0 + 10s);
    QCOMPARE(batches.find(a)->state, Batches::State::Cancelled);
    QVERIFY(batches.remove(a));
    QVERIFY(!batches.remove(a));
    QVERIFY(!batches.find(a));
    QCOMPARE(batches.size(), 1);
}

void TestSimulatorBatches::keepsAtMostMaxJobs()
{
    Batches batches;
    const auto t0 = Batches::Clock::now();
    QStringList ids;
    for (int i = 0; i < Batches::kMaxJobs; ++i)
        ids << batches.create(QStringLiteral("m"), {}, members(1), i < 3 ? 0ms : 1h, 0ms, t0, kWall)->id;
    // Every job unfinished but the first three... which have not been advanced yet.
    QVERIFY(!batches.create(QStringLiteral("m"), {}, members(1), 0ms, 0ms, t0, kWall));
    batches.advance(t0);
    QCOMPARE(batches.count(Batches::State::Succeeded), 3);
    // The oldest finished job makes room.
    const Batches::Job *next = batches.create(QStringLiteral("m"), {}, members(1), 1h, 0ms, t0, kWall);
    QVERIFY(next);
    QCOMPARE(batches.size(), Batches::kMaxJobs);
    QVERIFY(!batches.find(ids[0]));
    QVERIFY(batches.find(ids[1]));
    QVERIFY(batches.find(ids[3]));
}

QTEST_GUILESS_MAIN(TestSimulatorBatches)
#include "tst_simulatorbatches.moc"
