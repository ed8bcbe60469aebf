#include "core/engine/engineconfig.h"

#include <QJsonDocument>
#include <QTest>

class TestEngineConfig : public QObject
{
    Q_OBJECT
private slots:
    void defaultsAreValid()
    {
        const EngineConfig c;
        QVERIFY2(c.validate().isNull(), qPrintable(c.validate().toString()));
        QCOMPARE(c.packing, PackingMode::Auto);
    }

    void jsonRoundTrip()
    {
        EngineConfig c;
        c.maxBatchSize = 32;
        c.maxWaitMs = 0;
        c.maxQueue = 5;
        c.maxInflightBatches = 3;
        c.requestTimeoutMs = 1500;
        c.rpmLimit = 60;
        c.tpmLimit = 100000;
        c.retry = {7, 10, 20};
        c.packing = PackingMode::Fanout;
        c.adaptive = true;
        c.targetP95Ms = 700;

        const QByteArray text = QJsonDocument(c.toJson()).toJson();
        EngineConfig back;
        const ConfigError err = EngineConfig::fromJson(QJsonDocument::fromJson(text).object(), EngineConfig{}, &back);
        QVERIFY2(err.isNull(), qPrintable(err.toString()));
        QCOMPARE(back, c);
    }

    void patchKeepsAbsentFields()
    {
        EngineConfig base;
        base.maxQueue = 77;
        EngineConfig out;
        const ConfigError err = EngineConfig::fromJson(QJsonObject{{QStringLiteral("maxBatchSize"), 4},
                                                                   {QStringLiteral("retry"), QJsonObject{{QStringLiteral("maxAttempts"), 2}}}},
                                                       base, &out);
        QVERIFY(err.isNull());
        QCOMPARE(out.maxBatchSize, 4);
        QCOMPARE(out.maxQueue, 77);
        QCOMPARE(out.retry.maxAttempts, 2);
        QCOMPARE(out.retry.initialBackoffMs, base.retry.initialBackoffMs);
    }

    void invalidNamesTheField_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("messagePart");
        QTest::newRow("batch zero") << QByteArray(R"({"maxBatchSize":0})") << "maxBatchSize" << "from 1 to 1000";
        QTest::newRow("batch too big") << QByteArray(R"({"maxBatchSize":1001})") << "maxBatchSize" << "from 1 to 1000";
        QTest::newRow("batch fractional") << QByteArray(R"({"maxBatchSize":2.5})") << "maxBatchSize" << "integer";
        QTest::newRow("batch string") << QByteArray(R"({"maxBatchSize":"8"})") << "maxBatchSize" << "a string";
        QTest::newRow("wait negative") << QByteArray(R"({"maxWaitMs":-1})") << "maxWaitMs" << "from 0";
        QTest::newRow("queue zero") << QByteArray(R"({"maxQueue":0})") << "maxQueue" << "from 1";
        QTest::newRow("inflight null") << QByteArray(R"({"maxInflightBatches":null})") << "maxInflightBatches" << "null";
        QTest::newRow("timeout small") << QByteArray(R"({"requestTimeoutMs":5})") << "requestTimeoutMs" << "from 100";
        QTest::newRow("rpm negative") << QByteArray(R"({"rpmLimit":-5})") << "rpmLimit" << "from 0";
        QTest::newRow("tpm huge") << QByteArray(R"({"tpmLimit":1e12})") << "tpmLimit" << "from 0";
        QTest::newRow("packing bad") << QByteArray(R"({"packing":"zip"})") << "packing" << "\"pack\" or \"fanout\"";
        QTest::newRow("packing number") << QByteArray(R"({"packing":1})") << "packing" << "\"pack\"";
        QTest::newRow("adaptive string") << QByteArray(R"({"adaptive":"yes"})") << "adaptive" << "true or false";
        QTest::newRow("target zero") << QByteArray(R"({"targetP95Ms":0})") << "targetP95Ms" << "from 1";
        QTest::newRow("retry not object") << QByteArray(R"({"retry":3})") << "retry" << "object";
        QTest::newRow("retry attempts") << QByteArray(R"({"retry":{"maxAttempts":11}})") << "retry.maxAttempts" << "from 1 to 10";
        QTest::newRow("retry unknown") << QByteArray(R"({"retry":{"tries":3}})") << "retry.tries" << "unknown field";
        QTest::newRow("backoff order") << QByteArray(R"({"retry":{"initialBackoffMs":500,"maxBackoffMs":100}})")
                                       << "retry.maxBackoffMs" << "at least retry.initialBackoffMs";
        QTest::newRow("unknown top") << QByteArray(R"({"maxBatchSzie":3})") << "maxBatchSzie" << "unknown field";
    }

    void invalidNamesTheField()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, field);
        QFETCH(QString, messagePart);
        EngineConfig base;
        base.maxQueue = 99;
        EngineConfig out = base;
        out.maxBatchSize = 123; // sentinel: must stay untouched on error
        const EngineConfig before = out;
        const ConfigError err = EngineConfig::fromJson(QJsonDocument::fromJson(json).object(), base, &out);
        QVERIFY(!err.isNull());
        QCOMPARE(err.field, field);
        QVERIFY2(err.message.contains(messagePart), qPrintable(err.message));
        QCOMPARE(out, before);
    }

    void validateChecksEveryRange()
    {
        EngineConfig c;
        c.retry.maxAttempts = 0;
        QCOMPARE(c.validate().field, QStringLiteral("retry.maxAttempts"));
        c = EngineConfig{};
        c.maxInflightBatches = 5000;
        QCOMPARE(c.validate().field, QStringLiteral("maxInflightBatches"));
    }

    void describeKnobsListsEveryField()
    {
        const QString text = EngineConfig::describeKnobs();
        const QJsonObject json = EngineConfig{}.toJson();
        for (auto it = json.begin(); it != json.end(); ++it) {
            if (it.key() == QLatin1String("retry")) {
                for (const QString &k : it.value().toObject().keys())
                    QVERIFY2(text.contains(QStringLiteral("retry.") + k), qPrintable(k));
            } else {
                QVERIFY2(text.contains(it.key()), qPrintable(it.key()));
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestEngineConfig)
#include "tst_engineconfig.moc"
