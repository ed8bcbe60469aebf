#include "core/util/clock.h"
#include "server/routes/answercache.h"
#include "server/routes/sharekey.h"

#include <QJsonDocument>
#include <QtTest>

using namespace std::chrono_literals;

namespace {
QJsonObject json(const char *text)
{
    return QJsonDocument::fromJson(text).object();
}
} // namespace

// The answer cache's bounds (bytes, LRU, TTL) and the key and rule that
// decide which requests may share an answer.
class TestAnswerCache : public QObject
{
    Q_OBJECT

private slots:
    void offByDefault()
    {
        AnswerCache cache(AnswerCache::Config{});
        QVERIFY(!cache.enabled());
        cache.insert("k", "answer");
        QVERIFY(!cache.find("k"));
        QCOMPARE(cache.entries(), 0);
    }

    void keepsBytesUnderItsBoundLeastRecentlyUsedFirst()
    {
        ManualClock clock;
        const QByteArray body(1000, 'x');
        const qint64 cost = 1 + body.size() + AnswerCache::kEntryOverhead;
        AnswerCache cache(AnswerCache::Config{cost * 10, 60s}, clock);
        for (char k = 'a'; k < 'a' + 10; ++k)
            cache.insert(QByteArray(1, k), body);
        QCOMPARE(cache.entries(), 10);
        QCOMPARE(cache.usedBytes(), cost * 10);
        QVERIFY(cache.find("a")); // now the most recent: 'b' is the oldest
        cache.insert("z", body);
        QCOMPARE(cache.entries(), 10);
        QVERIFY(cache.usedBytes() <= cost * 10);
        QVERIFY(!cache.find("b"));
        QVERIFY(cache.find("a"));
        QCOMPARE(cache.find("z")->body, body);
        // One answer may take at most an eighth of the cache.
        cache.insert("big", QByteArray(int(cost * 10 / 8), 'y'));
        QVERIFY(!cache.find("big"));
        // Replacing an entry does not count it twice.
        const qint64 before = cache.usedBytes();
        cache.insert("z", body);
        QCOMPARE(cache.usedBytes(), before);
    }

    void entriesExpire()
    {
        ManualClock clock;
        AnswerCache cache(AnswerCache::Config{1 << 20, 10s}, clock);
        cache.insert("k", "answer");
        clock.advance(9s);
        const auto hit = cache.find("k");
        QVERIFY(hit);
        QCOMPARE(hit->age, 9s);
        clock.advance(1s);
        QVERIFY(!cache.find("k"));
        QCOMPARE(cache.entries(), 0);
        QCOMPARE(cache.usedBytes(), 0);
    }

    void keyIgnoresKeyOrderAndSpacingButNotScope()
    {
        const QJsonObject a = json(R"({"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"temperature":0,"topK":1}})");
        const QJsonObject b = json(R"({ "generationConfig": {"topK": 1, "temperature": 0.0},  "contents": [{"parts": [{"text": "hi"}]}] })");
        const QString m = QStringLiteral("gemini-2.5-flash");
        const QByteArray k = ShareKey::compute(m, Operation::GenerateContent, a, "key-1");
        QVERIFY(!k.contains("key-1"));
        QCOMPARE(ShareKey::compute(m, Operation::GenerateContent, b, "key-1"), k);
        QVERIFY(ShareKey::compute(m, Operation::GenerateContent, a, "key-2") != k);
        QVERIFY(ShareKey::compute(m, Operation::StreamGenerateContent, a, "key-1") != k);
        QVERIFY(ShareKey::compute(QStringLiteral("gemini-2.0-flash"), Operation::GenerateContent, a, "key-1") != k);
        QVERIFY(ShareKey::compute(m, Operation::GenerateContent, json(R"({"contents":[{"parts":[{"text":"hi!"}]}]})"), "key-1") != k);
    }

    void sharableOnlyWhenSafe_data()
    {
        QTest::addColumn<int>("op");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("header");
        QTest::addColumn<bool>("sharable");
        const int gen = int(Operation::GenerateContent);
        const int def = int(ShareKey::Coalesce::Default);
        QTest::newRow("sampling") << gen << QByteArray(R"({"contents":[]})") << def << false;
        QTest::newRow("temperature 0.7") << gen << QByteArray(R"({"generationConfig":{"temperature":0.7}})") << def << false;
        QTest::newRow("temperature 0") << gen << QByteArray(R"({"generationConfig":{"temperature":0}})") << def << true;
        QTest::newRow("snake case") << gen << QByteArray(R"({"generation_config":{"temperature":0}})") << def << true;
        QTest::newRow("seed") << gen << QByteArray(R"({"generationConfig":{"temperature":1,"seed":7}})") << def << true;
        QTest::newRow("stream, temperature 0") << int(Operation::StreamGenerateContent)
                                               << QByteArray(R"({"generationConfig":{"temperature":0}})") << def << true;
        QTest::newRow("embed") << int(Operation::EmbedContent) << QByteArray("{}") << def << true;
        QTest::newRow("countTokens") << int(Operation::CountTokens) << QByteArray("{}") << def << true;
        QTest::newRow("opt in") << gen << QByteArray("{}") << int(ShareKey::Coalesce::On) << true;
        QTest::newRow("opt out") << gen << QByteArray(R"({"generationConfig":{"temperature":0}})")
                                 << int(ShareKey::Coalesce::Off) << false;
    }

    void sharableOnlyWhenSafe()
    {
        QFETCH(int, op);
        QFETCH(QByteArray, body);
        QFETCH(int, header);
        QFETCH(bool, sharable);
        QCOMPARE(ShareKey::sharable(Operation(op), json(body.constData()), ShareKey::Coalesce(header)), sharable);
    }

    void coalesceHeader()
    {
        QCOMPARE(ShareKey::coalesceHeader(" ON "), ShareKey::Coalesce::On);
        QCOMPARE(ShareKey::coalesceHeader("off"), ShareKey::Coalesce::Off);
        QCOMPARE(ShareKey::coalesceHeader("maybe"), ShareKey::Coalesce::Default);
        QCOMPARE(ShareKey::coalesceHeader({}), ShareKey::Coalesce::Default);
    }
};

QTEST_GUILESS_MAIN(TestAnswerCache)
#include "tst_answercache.moc"
