#include "tests/support/gatewaystack.h"
#include "tests/support/rawhttp.h"
#include "tests/support/streamclient.h"

#include <QProcess>
#include <QTemporaryFile>
#include <QtTest>

#include <memory>

// The load-test, baseline and drift parts of the operations API (DESIGN.md
// §7, §9, §10) and the dashboard files, over loopback against the real
// engine, GeminiClient, GeminiSimulator, DriftMonitor, LoadTestController
// and Debian's Locust.

namespace {

const QByteArray kToken = "s3cret";
const QList<QPair<QByteArray, QByteArray>> kAuthJson{{"Content-Type", "application/json"},
                                                     {"Authorization", "Bearer " + kToken}};


QJsonObject json(const QByteArray &body)
{
    return QJsonDocument::fromJson(body).object();
}

QString errorMessage(const RawHttp &r)
{
    return json(r.body).value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString();
}

} // namespace

class TestOpsRoutes : public QObject
{
    Q_OBJECT

private:
    GatewayStack m_stack;
    std::unique_ptr<GatewayServer> m_gateway;
    QUrl m_url;

    std::unique_ptr<RawHttp> call(const QByteArray &method, const QByteArray &path, const QByteArray &body = {},
                                  const QList<QPair<QByteArray, QByteArray>> &headers = kAuthJson)
    {
        auto r = std::make_unique<RawHttp>(m_url);
        r->request(method, path, body, headers);
        [&] { QTRY_VERIFY_WITH_TIMEOUT(r->complete, 20000); }();
        return r;
    }

    QByteArray metricsLine(const QByteArray &name)
    {
        const auto r = call("GET", "/metrics");
        for (const QByteArray &line : r->body.split('\n'))
            if (line.startsWith(name + ' '))
                return line.mid(name.size() + 1);
        return {};
    }

private slots:
    void initTestCase()
    {
        EngineConfig ec;
        ec.maxBatchSize = 16;
        ec.maxWaitMs = 5;
        QString error;
        QVERIFY2(m_stack.start(instantSimulator(8, 512), ec, &error), qPrintable(error));
        GatewayOptions o;
        o.port = 0;
        o.adminToken = kToken;
        m_gateway = m_stack.startGateway(o, &error);
        QVERIFY2(m_gateway, qPrintable(error));
        m_url = m_gateway->url();
    }

    void cleanupTestCase()
    {
        m_gateway.reset();
        m_stack.stop();
    }

    void dashboardFiles()
    {
        struct Want {
            QByteArray path, mime;
        };
        for (const Want &w : {Want{"/", "text/html; charset=utf-8"}, Want{"/index.html", "text/html; charset=utf-8"},
                              Want{"/assets/dashboard.js", "text/javascript; charset=utf-8"},
                              Want{"/assets/dashboard.css", "text/css; charset=utf-8"}}) {
            const auto r = call("GET", w.path, {}, {});
            QCOMPARE(r->status, 200);
            QCOMPARE(r->header("Content-Type"), w.mime);
            QCOMPARE(r->header("Cache-Control"), QByteArray("no-cache"));
            const QByteArray etag = r->header("ETag");
            QVERIFY2(etag.startsWith('"') && etag.endsWith('"') && etag.size() > 10, etag.constData());
            QVERIFY(r->body.size() > 100);
            const auto again = call("GET", w.path, {}, {{"If-None-Match", etag}});
            QCOMPARE(again->status, 304);
            QVERIFY(again->body.isEmpty());
            QCOMPARE(again->header("ETag"), etag);
            const auto stale = call("GET", w.path, {}, {{"If-None-Match", "\"other\""}});
            QCOMPARE(stale->status, 200);
        }
        QVERIFY(call("GET", "/", {}, {})->body.contains("./assets/dashboard.js"));
        const auto missing = call("GET", "/assets/nope.js", {}, {});
        QCOMPARE(missing->status, 404);
        QCOMPARE(json(missing->body).value(QStringLiteral("error")).toObject().value(QStringLiteral("status")).toString(),
                 QStringLiteral("NOT_FOUND"));
        QCOMPARE(call("POST", "/", "{}", {})->status, 405);
    }

    void baselineMissingThenPutThenGet()
    {
        const auto none = call("GET", "/api/v1/baseline", {}, {});
        QCOMPARE(none->status, 404);
        QVERIFY2(errorMessage(*none).contains(QLatin1String("POST /api/v1/loadtests")), qPrintable(errorMessage(*none)));

        const PerformanceBaseline b = tinyBaseline();
        const QByteArray doc = QJsonDocument(b.toJson()).toJson(QJsonDocument::Compact);
        QCOMPARE(call("PUT", "/api/v1/baseline", doc, {{"Content-Type", "application/json"}})->status, 401);
        const auto put = call("PUT", "/api/v1/baseline", doc);
        QCOMPARE(put->status, 200);
        QVERIFY(m_stack.drift->hasBaseline());
        const auto got = call("GET", "/api/v1/baseline", {}, {});
        QCOMPARE(got->status, 200);
        PerformanceBaseline back;
        QString error;
        QVERIFY2(PerformanceBaseline::fromJson(json(got->body), &back, &error), qPrintable(error));
        QCOMPARE(back, b);
    }

    void badBaselineNamesTheField_data()
    {
        QTest::addColumn<QByteArray>("mutation");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("schema") << QByteArray("schema") << QStringLiteral("schema");
        QTest::newRow("step p95") << QByteArray("steps[0].p95Ms") << QStringLiteral("steps[0].p95Ms");
        QTest::newRow("createdAt") << QByteArray("createdAt") << QStringLiteral("createdAt");
        QTest::newRow("counts") << QByteArray("healthy.histogram.counts") << QStringLiteral("healthy.histogram.counts");
    }

    void badBaselineNamesTheField()
    {
        QFETCH(QByteArray, mutation);
        QFETCH(QString, mentions);
        QJsonObject o = tinyBaseline().toJson();
        if (mutation == "schema") {
            o[QStringLiteral("schema")] = QStringLiteral("something/v9");
        } else if (mutation == "createdAt") {
            o[QStringLiteral("createdAt")] = QStringLiteral("yesterday");
        } else if (mutation.startsWith("steps")) {
            QJsonArray steps = o.value(QStringLiteral("steps")).toArray();
            QJsonObject s = steps.at(0).toObject();
            s[QStringLiteral("p95Ms")] = QStringLiteral("fast");
            steps[0] = s;
            o[QStringLiteral("steps")] = steps;
        } else {
            QJsonObject healthy = o.value(QStringLiteral("healthy")).toObject();
            QJsonObject h = healthy.value(QStringLiteral("histogram")).toObject();
            h[QStringLiteral("counts")] = QJsonArray{1, 2};
            healthy[QStringLiteral("histogram")] = h;
            o[QStringLiteral("healthy")] = healthy;
        }
        const auto r = call("PUT", "/api/v1/baseline", QJsonDocument(o).toJson(QJsonDocument::Compact));
        QCOMPARE(r->status, 400);
        QVERIFY2(errorMessage(*r).contains(mentions), qPrintable(errorMessage(*r)));
        QCOMPARE(call("PUT", "/api/v1/baseline", "not json")->status, 400);
        QCOMPARE(call("PUT", "/api/v1/baseline", "{}", {{"Content-Type", "text/plain"}, {"Authorization", "Bearer " + kToken}})->status, 415);
    }

    void healthAndMetricsCarryDrift()
    {
        m_stack.drift->setBaseline(tinyBaseline());
        auto health = call("GET", "/health", {}, {});
        QCOMPARE(health->status, 200);
        QVERIFY(json(health->body).value(QStringLiteral("drift")).isObject());
        QCOMPARE(metricsLine("sluice_latency_drift_state"), QByteArray("-1")); // not judged yet

        std::vector<std::unique_ptr<RawHttp>> calls;
        for (int i = 0; i < 10; ++i) {
            calls.push_back(std::make_unique<RawHttp>(m_url));
            calls.back()->request("POST", "/v1beta/models/gemini-2.0-flash:generateContent",
                                  "{\"contents\":[{\"parts\":[{\"text\":\"hi\"}]}]}");
        }
        for (auto &r : calls)
            QTRY_VERIFY_WITH_TIMEOUT(r->complete, 10000);
        // The window may not include the current second yet: evaluate until it is judged.
        QTRY_VERIFY_WITH_TIMEOUT((m_stack.drift->evaluateNow(), m_stack.drift->reading().state == DriftState::Drift), 5000);

        health = call("GET", "/health", {}, {});
        QCOMPARE(health->status, 200); // degraded, still serving
        const QJsonObject h = json(health->body);
        QCOMPARE(h.value(QStringLiteral("status")).toString(), QStringLiteral("degraded"));
        QCOMPARE(h.value(QStringLiteral("drift")).toObject().value(QStringLiteral("state")).toString(), QStringLiteral("drift"));
        QVERIFY(h.value(QStringLiteral("drift")).toObject().value(QStringLiteral("score")).toDouble() >= 1.0);
        QCOMPARE(metricsLine("sluice_latency_drift_state"), QByteArray("2"));
        QVERIFY(metricsLine("sluice_latency_drift_score").toDouble() >= 1.0);

        // promtool still accepts the exposition.
        QTemporaryFile file;
        QVERIFY(file.open());
        file.write(call("GET", "/metrics", {}, {})->body);
        file.close();
        QProcess promtool;
        promtool.setStandardInputFile(file.fileName());
        promtool.start(QStringLiteral(SLUICE_PROMTOOL), {QStringLiteral("check"), QStringLiteral("metrics")});
        QVERIFY(promtool.waitForFinished(30000));
        QVERIFY2(promtool.exitCode() == 0, promtool.readAllStandardOutput() + promtool.readAllStandardError());

        m_stack.drift->clearBaseline();
        QCOMPARE(json(call("GET", "/health", {}, {})->body).value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
    }

    void loadTestValidation_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("field");
        QTest::newRow("not json") << QByteArray("steps=2") << 400 << QString();
        QTest::newRow("array") << QByteArray("[]") << 400 << QString();
        QTest::newRow("steps missing") << QByteArray(R"({"stepSeconds":4,"usersPerStep":5})") << 400 << QStringLiteral("steps");
        QTest::newRow("steps zero") << QByteArray(R"({"steps":0,"stepSeconds":4,"usersPerStep":5})") << 400 << QStringLiteral("steps");
        QTest::newRow("steps fraction") << QByteArray(R"({"steps":1.5,"stepSeconds":4,"usersPerStep":5})") << 400 << QStringLiteral("steps");
        QTest::newRow("stepSeconds string") << QByteArray(R"({"steps":2,"stepSeconds":"4","usersPerStep":5})") << 400 << QStringLiteral("stepSeconds");
        QTest::newRow("usersPerStep negative") << QByteArray(R"({"steps":2,"stepSeconds":4,"usersPerStep":-1})") << 400 << QStringLiteral("usersPerStep");
        QTest::newRow("startUsers") << QByteArray(R"({"steps":2,"stepSeconds":4,"usersPerStep":5,"startUsers":-3})") << 400 << QStringLiteral("startUsers");
        QTest::newRow("spawnRate") << QByteArray(R"({"steps":2,"stepSeconds":4,"usersPerStep":5,"spawnRate":"fast"})") << 400 << QStringLiteral("spawnRate");
        QTest::newRow("mix not object") << QByteArray(R"({"steps":2,"stepSeconds":4,"usersPerStep":5,"mix":3})") << 400 << QStringLiteral("mix");
        QTest::newRow("mix bad name") << QByteArray(R"({"steps":2,"stepSeconds":4,"usersPerStep":5,"mix":{"PATH":1}})") << 400 << QStringLiteral("mix.PATH");
        QTest::newRow("mix bad value") << QByteArray(R"({"steps":2,"stepSeconds":4,"usersPerStep":5,"mix":{"SLUICE_MIX_EMBED":"x"}})") << 400 << QStringLiteral("mix.SLUICE_MIX_EMBED");
        QTest::newRow("unknown field") << QByteArray(R"({"steps":2,"stepSeconds":4,"usersPerStep":5,"stepz":1})") << 400 << QStringLiteral("stepz");
    }

    void loadTestValidation()
    {
        QFETCH(QByteArray, body);
        QFETCH(int, status);
        QFETCH(QString, field);
        const auto r = call("POST", "/api/v1/loadtests", body);
        QCOMPARE(r->status, status);
        if (!field.isEmpty()) {
            const QJsonArray details = json(r->body).value(QStringLiteral("error")).toObject().value(QStringLiteral("details")).toArray();
            QString named;
            for (const QJsonValue &d : details)
                for (const QJsonValue &v : d.toObject().value(QStringLiteral("fieldViolations")).toArray())
                    named = v.toObject().value(QStringLiteral("field")).toString();
            QCOMPARE(named, field);
            QVERIFY2(errorMessage(*r).startsWith(field), qPrintable(errorMessage(*r)));
        }
        QVERIFY(!m_stack.loadTests->isRunning());
    }

    void loadTestNeedsTokenAndKnownIds()
    {
        const QByteArray plan = R"({"steps":2,"stepSeconds":4,"usersPerStep":5})";
        QCOMPARE(call("POST", "/api/v1/loadtests", plan, {{"Content-Type", "application/json"}})->status, 401);
        QCOMPARE(call("GET", "/api/v1/loadtests/12345", {}, {})->status, 404);
        QCOMPARE(call("GET", "/api/v1/loadtests/abc", {}, {})->status, 404);
        QCOMPARE(call("DELETE", "/api/v1/loadtests/12345")->status, 404);
        QCOMPARE(call("GET", "/api/v1/loadtests", {}, {})->status, 405);
        QVERIFY(!m_stack.loadTests->isRunning());
    }

    void realLocustRunProducesABaseline()
    {
        if (!QFileInfo::exists(QStringLiteral("/usr/bin/locust")))
            QSKIP("Debian's python3-locust is not installed");
        StreamClient stream(m_url, {}, kToken);
        QTRY_VERIFY_WITH_TIMEOUT(stream.count(QStringLiteral("hello")) == 1, 5000);

        QElapsedTimer t;
        t.start();
        const auto started = call("POST", "/api/v1/loadtests", R"({"steps":2,"stepSeconds":4,"usersPerStep":4,"spawnRate":50})");
        QVERIFY2(started->status == 201, started->body.constData());
        const QJsonObject s = json(started->body);
        const QString id = s.value(QStringLiteral("id")).toString();
        QVERIFY(!id.isEmpty());
        QCOMPARE(started->header("Location"), "/api/v1/loadtests/" + id.toLatin1());
        QCOMPARE(s.value(QStringLiteral("state")).toString(), QStringLiteral("running"));

        const auto again = call("POST", "/api/v1/loadtests", R"({"steps":2,"stepSeconds":4,"usersPerStep":4})");
        QCOMPARE(again->status, 409);
        QCOMPARE(json(call("GET", "/api/v1/loadtests/" + id.toLatin1(), {}, {})->body).value(QStringLiteral("state")).toString(),
                 QStringLiteral("running"));

        QTRY_VERIFY_WITH_TIMEOUT(!m_stack.loadTests->isRunning(), 40000);
        const auto done = call("GET", "/api/v1/loadtests/" + id.toLatin1(), {}, {});
        const QJsonObject finished = json(done->body);
        QVERIFY2(finished.value(QStringLiteral("state")).toString() == QStringLiteral("finished"), done->body.constData());
        QCOMPARE(finished.value(QStringLiteral("curve")).toArray().size(), 2);
        qInfo("Locust run of 2 x 4 s took %lld ms end to end", t.elapsed());

        const auto baseline = call("GET", "/api/v1/baseline", {}, {});
        QCOMPARE(baseline->status, 200);
        PerformanceBaseline b;
        QString error;
        QVERIFY2(PerformanceBaseline::fromJson(json(baseline->body), &b, &error), qPrintable(error));
        QCOMPARE(b.steps.size(), 2);
        QCOMPARE(b.environment.value(QStringLiteral("upstreamKind")).toString(), QStringLiteral("simulator"));
        QVERIFY(b.steps.first().achievedRps > 0);

        // The stream carried the run live, ending in "finished".
        QTRY_VERIFY_WITH_TIMEOUT(!stream.ofType(QStringLiteral("loadtest")).isEmpty()
                                     && stream.ofType(QStringLiteral("loadtest")).last().value(QStringLiteral("state")).toString()
                                            == QStringLiteral("finished"),
                                 5000);
        QVERIFY(stream.count(QStringLiteral("loadtest")) >= 2);
    }

    void deleteStopsARun()
    {
        if (!QFileInfo::exists(QStringLiteral("/usr/bin/locust")))
            QSKIP("Debian's python3-locust is not installed");
        const auto started = call("POST", "/api/v1/loadtests", R"({"steps":3,"stepSeconds":10,"usersPerStep":2})");
        QVERIFY2(started->status == 201, started->body.constData());
        const QByteArray id = json(started->body).value(QStringLiteral("id")).toString().toLatin1();
        QCOMPARE(call("DELETE", "/api/v1/loadtests/" + id, {}, {{"Content-Type", "application/json"}})->status, 401);
        const auto stopped = call("DELETE", "/api/v1/loadtests/" + id);
        QCOMPARE(stopped->status, 200);
        QTRY_VERIFY_WITH_TIMEOUT(!m_stack.loadTests->isRunning(), 15000);
        const QString state = json(call("GET", "/api/v1/loadtests/" + id, {}, {})->body).value(QStringLiteral("state")).toString();
        QVERIFY2(state != QStringLiteral("running"), qPrintable(state));
    }
};

QTEST_GUILESS_MAIN(TestOpsRoutes)
#include "tst_opsroutes.moc"
