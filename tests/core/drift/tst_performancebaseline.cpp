#include "core/drift/performancebaseline.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

namespace {
PerformanceBaseline sample()
{
    PerformanceBaseline b;
    b.createdAt = QDateTime::fromString(QStringLiteral("2026-11-26T20:00:00.123Z"), Qt::ISODateWithMs);
    b.sluiceVersion = QStringLiteral("0.1.0");
    b.environment = {{QStringLiteral("cpus"), 2}, {QStringLiteral("upstreamKind"), QStringLiteral("simulator")},
                     {QStringLiteral("model"), QStringLiteral("gemini-2.0-flash")}};
    b.config = EngineConfig{}.toJson();
    b.loadProfile = {{QStringLiteral("tool"), QStringLiteral("locust")}, {QStringLiteral("version"), QStringLiteral("2.12.1")},
                     {QStringLiteral("steps"), 3}, {QStringLiteral("stepSeconds"), 10}};
    for (int i = 1; i <= 3; ++i) {
        BaselineStep s;
        s.users = 10 * i;
        s.offeredRps = 20.5 * i;
        s.achievedRps = 20.25 * i;
        s.p50Ms = 100.125 * i;
        s.p95Ms = 200.5 * i;
        s.p99Ms = 300.75 * i;
        s.queueDepthMean = 1.5 * i;
        s.queueDepthMax = 4.0 * i;
        s.errorRate = 0.01 * i;
        s.tokensPerSecond = 1234.5 * i;
        b.steps << s;
    }
    BaselineInflection inf;
    inf.users = 20;
    inf.queueDepth = 3;
    inf.throughputRps = 40.5;
    inf.p95Ms = 401;
    inf.method = QStringLiteral("kneedle");
    b.inflection = inf;
    b.healthy.p50Ms = 100;
    b.healthy.p95Ms = 200;
    b.healthy.p99Ms = 300;
    b.healthy.histogram.boundsMs = {1, 10, 100, 1000};
    b.healthy.histogram.counts = {0, 5, 90, 5, 0};
    b.healthy.tokensPerSecond = 999.5;
    return b;
}
} // namespace

class TestPerformanceBaseline : public QObject
{
    Q_OBJECT
private slots:
    void roundTripsExactly()
    {
        const PerformanceBaseline b = sample();
        PerformanceBaseline back;
        QString error;
        QVERIFY2(PerformanceBaseline::fromBytes(b.toJsonBytes(), &back, &error), qPrintable(error));
        QCOMPARE(back, b);
        QCOMPARE(back.toJson(), b.toJson());
    }

    void fileRoundTrip()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("baseline.json"));
        QString error;
        QVERIFY(sample().save(path, &error));
        PerformanceBaseline back;
        QVERIFY2(PerformanceBaseline::load(path, &back, &error), qPrintable(error));
        QCOMPARE(back, sample());
    }

    void unknownFieldsAreKept()
    {
        QJsonObject json = sample().toJson();
        json.insert(QStringLiteral("futureTopLevel"), QJsonArray{1, 2, 3});
        QJsonObject healthy = json.value(QStringLiteral("healthy")).toObject();
        healthy.insert(QStringLiteral("p999Ms"), 512.0);
        json.insert(QStringLiteral("healthy"), healthy);
        QJsonArray steps = json.value(QStringLiteral("steps")).toArray();
        QJsonObject s0 = steps.at(0).toObject();
        s0.insert(QStringLiteral("gpuUtil"), 0.5);
        steps.replace(0, s0);
        json.insert(QStringLiteral("steps"), steps);

        PerformanceBaseline b;
        QString error;
        QVERIFY2(PerformanceBaseline::fromJson(json, &b, &error), qPrintable(error));
        QCOMPARE(b.toJson(), json);
    }

    void emptyHistogramMeansNotMeasured()
    {
        PerformanceBaseline b = sample();
        b.healthy.histogram = {};
        PerformanceBaseline back;
        QString error;
        QVERIFY2(PerformanceBaseline::fromBytes(b.toJsonBytes(), &back, &error), qPrintable(error));
        QCOMPARE(back, b);
    }

    void nullInflectionRoundTrips()
    {
        PerformanceBaseline b = sample();
        b.inflection.reset();
        PerformanceBaseline back;
        QString error;
        QVERIFY(PerformanceBaseline::fromJson(b.toJson(), &back, &error));
        QVERIFY(!back.inflection);
    }

    void badDocumentsNameTheProblem_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expected");
        const QJsonObject good = sample().toJson();
        const auto with = [&](const QString &key, const QJsonValue &v) {
            QJsonObject o = good;
            o.insert(key, v);
            return QJsonDocument(o).toJson();
        };
        const auto without = [&](const QString &key) {
            QJsonObject o = good;
            o.remove(key);
            return QJsonDocument(o).toJson();
        };
        QJsonArray steps = good.value(QStringLiteral("steps")).toArray();
        QJsonObject s2 = steps.at(2).toObject();
        s2.insert(QStringLiteral("p95Ms"), -4);
        steps.replace(2, s2);
        // Found by tests/fuzz/fuzz_performancebaseline: int(3e9) was undefined behaviour.
        QJsonArray hugeUsers = good.value(QStringLiteral("steps")).toArray();
        QJsonObject s1 = hugeUsers.at(1).toObject();
        s1.insert(QStringLiteral("users"), 3e9);
        hugeUsers.replace(1, s1);
        QJsonObject healthy = good.value(QStringLiteral("healthy")).toObject();
        healthy.insert(QStringLiteral("histogram"), QJsonObject{{QStringLiteral("boundsMs"), QJsonArray{1, 2}},
                                                                {QStringLiteral("counts"), QJsonArray{1, 2}}});

        QTest::newRow("not json") << QByteArray("{oops") << "not valid JSON";
        QTest::newRow("array") << QByteArray("[1,2]") << "not a JSON object";
        QTest::newRow("foreign schema") << with(QStringLiteral("schema"), QStringLiteral("k6.summary/v2")) << "schema is 'k6.summary/v2'";
        QTest::newRow("no schema") << without(QStringLiteral("schema")) << "no \"schema\" field";
        QTest::newRow("bad date") << with(QStringLiteral("createdAt"), QStringLiteral("yesterday")) << "createdAt: must be an ISO 8601";
        QTest::newRow("steps missing") << without(QStringLiteral("steps")) << "steps: is missing";
        QTest::newRow("negative p95") << with(QStringLiteral("steps"), steps) << "steps[2].p95Ms: must be a non-negative number";
        QTest::newRow("users beyond int") << with(QStringLiteral("steps"), hugeUsers)
                                          << "steps[1].users: must be an integer from 0 to 2147483647";
        QTest::newRow("histogram counts") << with(QStringLiteral("healthy"), healthy) << "healthy.histogram.counts: must have one entry more";
        QTest::newRow("healthy missing") << without(QStringLiteral("healthy")) << "healthy: is missing";
    }
    void badDocumentsNameTheProblem()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expected);
        PerformanceBaseline b;
        QString error;
        QVERIFY(!PerformanceBaseline::fromBytes(bytes, &b, &error));
        QVERIFY2(error.contains(expected), qPrintable(error));
    }

    void missingFileNamesThePath()
    {
        PerformanceBaseline b;
        QString error;
        QVERIFY(!PerformanceBaseline::load(QStringLiteral("/nonexistent/base.json"), &b, &error));
        QVERIFY(error.contains(QStringLiteral("/nonexistent/base.json")));
    }
};

QTEST_GUILESS_MAIN(TestPerformanceBaseline)
#include "tst_performancebaseline.moc"
