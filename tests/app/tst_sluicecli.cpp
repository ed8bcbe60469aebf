// The `sluice` executable as a user runs it: options, configuration layering,
// exit statuses, and SIGTERM under load. Real processes over loopback.
#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <array>
#include <csignal>

#include <unistd.h>

namespace {

const QString kSluice = QStringLiteral(SLUICE_BINARY_DIR "/app/sluice");

struct Run {
    int exitCode = -1;
    QString out;
    QString err;
};

Run runSluice(const QStringList &args, const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment())
{
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(kSluice, args);
    if (!p.waitForFinished(20000)) {
        p.kill();
        p.waitForFinished();
    }
    return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
}

QProcessEnvironment cleanEnv()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const QString &k : env.keys())
        if (k.startsWith(QLatin1String("SLUICE_")) || k == QLatin1String("GEMINI_API_KEY"))
            env.remove(k);
    return env;
}

// A running `sluice --server --port 0`, stopped (by PID, via QProcess) at scope exit.
class Server
{
public:
    bool start(const QStringList &extra, const QProcessEnvironment &env)
    {
        m_proc.setProcessEnvironment(env);
        m_proc.start(kSluice, QStringList{QStringLiteral("--server"), QStringLiteral("--port"), QStringLiteral("0")} + extra);
        if (!m_proc.waitForStarted(10000))
            return false;
        QDeadlineTimer deadline(20000);
        while (!deadline.hasExpired()) {
            m_proc.waitForReadyRead(100);
            m_stdout += m_proc.readAllStandardOutput();
            const int at = int(m_stdout.indexOf("listening on "));
            if (at >= 0) {
                const int eol = int(m_stdout.indexOf('\n', at));
                if (eol > 0) {
                    m_url = QUrl(QString::fromUtf8(m_stdout.mid(at + 13, eol - at - 13)).trimmed());
                    return true;
                }
            }
            if (m_proc.state() != QProcess::Running)
                return false;
        }
        return false;
    }
    ~Server()
    {
        if (m_proc.state() == QProcess::Running) {
            m_proc.kill();
            m_proc.waitForFinished(5000);
        }
    }
    QUrl url(const QString &path) const
    {
        QUrl u = m_url;
        u.setPath(path);
        return u;
    }
    QProcess &process() { return m_proc; }

private:
    QProcess m_proc;
    QByteArray m_stdout;
    QUrl m_url;
};

QJsonObject getJson(QNetworkAccessManager &nam, const QUrl &url)
{
    std::unique_ptr<QNetworkReply> reply(nam.get(QNetworkRequest(url)));
    QSignalSpy done(reply.get(), &QNetworkReply::finished);
    done.wait(10000);
    return QJsonDocument::fromJson(reply->readAll()).object();
}

} // namespace

class TestSluiceCli : public QObject
{
    Q_OBJECT
private slots:
    void helpListsEveryKnob()
    {
        const Run r = runSluice({QStringLiteral("--help")});
        QCOMPARE(r.exitCode, 0);
        for (const char *opt : {"--server", "--simulate-gemini", "--host", "--port", "--config", "--admin-token",
                                "--upstream", "--log-level", "--max-batch-size", "--max-wait-ms", "--max-queue",
                                "--max-inflight-batches", "--request-timeout-ms", "--rpm-limit", "--tpm-limit",
                                "--packing", "--adaptive", "--target-p95-ms", "--retry-max-attempts",
                                "--budget-store", "--budget-replicas"})
            QVERIFY2(r.out.contains(QLatin1String(opt)), opt);
        QVERIFY(r.out.contains(QStringLiteral("SLUICE_MAX_BATCH_SIZE")));
    }

    void badInputExitsTwoAndNamesIt_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QStringList>("env");
        QTest::addColumn<QString>("named");
        QTest::newRow("unknown option") << QStringList{QStringLiteral("--server"), QStringLiteral("--bogus")} << QStringList{} << "bogus";
        QTest::newRow("knob out of range") << QStringList{QStringLiteral("--server"), QStringLiteral("--max-batch-size"), QStringLiteral("0")}
                                           << QStringList{} << "--max-batch-size: must be an integer from 1 to 1000";
        QTest::newRow("knob not a number") << QStringList{QStringLiteral("--server"), QStringLiteral("--max-queue"), QStringLiteral("lots")}
                                           << QStringList{} << "--max-queue";
        QTest::newRow("bad packing") << QStringList{QStringLiteral("--server"), QStringLiteral("--packing"), QStringLiteral("zip")}
                                     << QStringList{} << "--packing: must be \"auto\", \"pack\" or \"fanout\"";
        QTest::newRow("env knob") << QStringList{QStringLiteral("--server")} << QStringList{QStringLiteral("SLUICE_MAX_WAIT_MS=-3")}
                                  << "SLUICE_MAX_WAIT_MS";
        QTest::newRow("bad port") << QStringList{QStringLiteral("--server"), QStringLiteral("--port"), QStringLiteral("70000")}
                                  << QStringList{} << "--port";
        QTest::newRow("public host without token") << QStringList{QStringLiteral("--server"), QStringLiteral("--host"), QStringLiteral("0.0.0.0")}
                                                   << QStringList{} << "requires an admin token";
        QTest::newRow("host not an address") << QStringList{QStringLiteral("--server"), QStringLiteral("--host"), QStringLiteral("nowhere")}
                                             << QStringList{} << "not an IP address";
        QTest::newRow("missing config file") << QStringList{QStringLiteral("--server"), QStringLiteral("--config"), QStringLiteral("/nonexistent/sluice.json")}
                                             << QStringList{} << "/nonexistent/sluice.json";
        QTest::newRow("bad upstream transport") << QStringList{QStringLiteral("--server"), QStringLiteral("--upstream-transport"), QStringLiteral("carrier-pigeon")}
                                                << QStringList{} << "--upstream-transport: must be auto, qnam or native";
        QTest::newRow("bad upstream transport (env)") << QStringList{QStringLiteral("--server")} << QStringList{QStringLiteral("SLUICE_UPSTREAM_TRANSPORT=h3")}
                                                      << "SLUICE_UPSTREAM_TRANSPORT: must be auto, qnam or native";
        QTest::newRow("bad log level") << QStringList{QStringLiteral("--server"), QStringLiteral("--log-level"), QStringLiteral("loud")}
                                       << QStringList{} << "log level";
        QTest::newRow("stray argument") << QStringList{QStringLiteral("--server"), QStringLiteral("extra")} << QStringList{} << "extra";
        QTest::newRow("budget store not redis://") << QStringList{QStringLiteral("--server"), QStringLiteral("--budget-store"), QStringLiteral("http://x")}
                                                   << QStringList{} << "budget store (--budget-store, SLUICE_BUDGET_STORE or budget.store): http://x is not a Redis address: the scheme must be redis://";
        QTest::newRow("budget store TLS (env)") << QStringList{QStringLiteral("--server")} << QStringList{QStringLiteral("SLUICE_BUDGET_STORE=rediss://cache:6380/0")}
                                                << "rediss://cache:6380/0 is not a Redis address: the scheme must be redis://";
        QTest::newRow("budget store db 16") << QStringList{QStringLiteral("--server"), QStringLiteral("--budget-store"), QStringLiteral("redis://cache/16")}
                                            << QStringList{} << "budget store (--budget-store, SLUICE_BUDGET_STORE or budget.store): redis://cache/16 is not a Redis address: the database must be a number 0..15";
        QTest::newRow("budget replicas not a number") << QStringList{QStringLiteral("--server"), QStringLiteral("--budget-replicas"), QStringLiteral("abc")}
                                                      << QStringList{} << "--budget-replicas: must be an integer from 0 (the count Redis last showed) to 1000, got 'abc'";
        QTest::newRow("budget replicas out of range (env)") << QStringList{QStringLiteral("--server")} << QStringList{QStringLiteral("SLUICE_BUDGET_REPLICAS=1001")}
                                                            << "SLUICE_BUDGET_REPLICAS: must be an integer from 0";
    }
    void badInputExitsTwoAndNamesIt()
    {
        QFETCH(QStringList, args);
        QFETCH(QStringList, env);
        QFETCH(QString, named);
        QProcessEnvironment e = cleanEnv();
        for (const QString &kv : env)
            e.insert(kv.section(QLatin1Char('='), 0, 0), kv.section(QLatin1Char('='), 1));
        const Run r = runSluice(args, e);
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains(named), qPrintable(r.err));
    }

    void badConfigFileNamesTheField_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("named");
        QTest::newRow("engine") << QByteArray(R"({"engine": {"maxBatchSize": 5000}})") << "engine.maxBatchSize";
        QTest::newRow("tenants") << QByteArray(R"({"tenants": {"byId": {"evals": {"weight": -1}}}})")
                                 << "tenants.byId.evals.weight: -1 is out of range";
        QTest::newRow("tiers") << QByteArray(R"({"tiers": {"batchMaxAge": "soon"}})") << "tiers.batchMaxAge: expected a duration";
        QTest::newRow("prices") << QByteArray(R"({"prices": {"gemini-2.5-pro": {"flex": {"input": "cheap"}}}})")
                                << "prices.gemini-2.5-pro.flex.input";
        QTest::newRow("section type") << QByteArray(R"({"tenants": []})") << "tenants: must be an object";
        // Rows whose JSON holds "//" are plain literals: moc (Qt 6.4) reads "//" inside a raw string as a comment
        // and then finds no class here.
        QTest::newRow("budget section type") << QByteArray("{\"budget\": \"redis://cache\"}") << "budget: must be an object";
        QTest::newRow("budget.store not a string") << QByteArray(R"({"budget": {"store": 6379}})") << "budget.store: must be a string";
        QTest::newRow("budget.store not redis://") << QByteArray("{\"budget\": {\"store\": \"http://cache:6379\"}}")
                                                   << "budget store (--budget-store, SLUICE_BUDGET_STORE or budget.store): http://cache:6379 is not a Redis address: the scheme must be redis://";
        QTest::newRow("budget.replicas negative") << QByteArray(R"({"budget": {"replicas": -1}})") << "budget.replicas: must be an integer from 0";
        QTest::newRow("budget.replicas fraction") << QByteArray(R"({"budget": {"replicas": 1.5}})") << "budget.replicas: must be an integer from 0";
        QTest::newRow("budget.replicas a string") << QByteArray(R"({"budget": {"replicas": "3"}})") << "budget.replicas: must be an integer from 0";
        QTest::newRow("budget unknown field") << QByteArray("{\"budget\": {\"stor\": \"redis://cache\"}}") << "budget.stor: unknown field (known: store, replicas)";
    }
    void badConfigFileNamesTheField()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, named);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("bad.json"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(json);
        f.close();
        const Run r = runSluice({QStringLiteral("--server"), QStringLiteral("--config"), path}, cleanEnv());
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains(named), qPrintable(r.err));
    }

    // The tenant id of an API key, read from standard input: "key-" + 16
    // hex digits of its SHA-256, what tenants.byId and the metrics use; the
    // key itself is never printed.
    void tenantIdOfAKey()
    {
        QProcess p;
        p.setProcessEnvironment(cleanEnv());
        p.start(kSluice, {QStringLiteral("--tenant-id")});
        QVERIFY(p.waitForStarted());
        p.write("agent-secret\n");
        p.closeWriteChannel();
        QVERIFY(p.waitForFinished(10000));
        QCOMPARE(p.exitCode(), 0);
        const QString expected = QStringLiteral("key-")
            + QString::fromLatin1(QCryptographicHash::hash("agent-secret", QCryptographicHash::Sha256).toHex().left(16));
        QCOMPARE(QString::fromLatin1(p.readAllStandardOutput()).trimmed(), expected);
        QVERIFY(!p.readAllStandardError().contains("agent-secret"));
    }

    void layersApplyInOrder_data()
    {
        QTest::addColumn<bool>("withEnv");
        QTest::addColumn<bool>("withCli");
        QTest::addColumn<int>("expected");
        QTest::newRow("file only") << false << false << 5;
        QTest::newRow("env over file") << true << false << 6;
        QTest::newRow("command line over env") << true << true << 7;
    }
    void layersApplyInOrder()
    {
        QFETCH(bool, withEnv);
        QFETCH(bool, withCli);
        QFETCH(int, expected);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("sluice.json"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"engine": {"maxBatchSize": 5, "maxQueue": 321}})");
        f.close();
        QProcessEnvironment env = cleanEnv();
        if (withEnv)
            env.insert(QStringLiteral("SLUICE_MAX_BATCH_SIZE"), QStringLiteral("6"));
        QStringList args{QStringLiteral("--config"), path};
        if (withCli)
            args << QStringLiteral("--max-batch-size") << QStringLiteral("7");
        Server server;
        QVERIFY(server.start(args, env));
        QNetworkAccessManager nam;
        const QJsonObject cfg = getJson(nam, server.url(QStringLiteral("/api/v1/config")));
        QCOMPARE(cfg.value(QStringLiteral("maxBatchSize")).toInt(), expected);
        QCOMPARE(cfg.value(QStringLiteral("maxQueue")).toInt(), 321); // untouched by later layers
    }

    void sigtermUnderLoadAnswersEverythingAndExitsZero()
    {
        // A slow simulator (≈150 ms per call) so work is in flight when SIGTERM arrives.
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("sluice.json"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"simulator": {"baseLatencyMs": 150, "tokensPerSecond": 0, "jitterSigma": 0},
                    "engine": {"maxBatchSize": 8, "maxWaitMs": 20}})");
        f.close();
        Server server;
        QVERIFY(server.start({QStringLiteral("--config"), path}, cleanEnv()));

        // Five managers: 30 connections at once (one manager opens only 6).
        std::array<QNetworkAccessManager, 5> managers;
        constexpr int kRequests = 120;
        int finished = 0;
        int ok = 0;
        int refused = 0;
        int closed = 0;
        QList<int> others;
        const auto send = [&](int i) {
            QNetworkRequest req(server.url(QStringLiteral("/v1beta/models/gemini-2.0-flash:generateContent")));
            req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
            const QJsonObject body{{QStringLiteral("contents"),
                                    QJsonArray{QJsonObject{{QStringLiteral("parts"),
                                                            QJsonArray{QJsonObject{{QStringLiteral("text"), QStringLiteral("question %1").arg(i)}}}}}}}};
            QNetworkReply *reply = managers[size_t(i) % managers.size()].post(req, QJsonDocument(body).toJson(QJsonDocument::Compact));
            QObject::connect(reply, &QNetworkReply::finished, reply, [&, reply] {
                const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
                if (status == 200)
                    ++ok;
                else if (status == 503)
                    ++refused;
                else if (reply->error() == QNetworkReply::ConnectionRefusedError)
                    ++closed; // sent after the gateway had exited
                else
                    others << status;
                ++finished;
                reply->deleteLater();
            });
        };
        for (int i = 0; i < kRequests; ++i)
            send(i);
        // Let the first batches reach the upstream, then ask for a graceful stop.
        // (A second manager: the first one's 6 connections are busy with the load.)
        QNetworkAccessManager probe;
        QTRY_VERIFY_WITH_TIMEOUT(getJson(probe, server.url(QStringLiteral("/api/v1/stats"))).value(QStringLiteral("inflightBatches")).toInt() > 0, 10000);
        ::kill(pid_t(server.process().processId()), SIGTERM);
        QTRY_COMPARE_WITH_TIMEOUT(finished, kRequests, 30000);
        QTRY_COMPARE_WITH_TIMEOUT(server.process().state(), QProcess::NotRunning, 20000);
        qInfo("after SIGTERM: %d answered 200, %d refused with 503, %d found the port closed, %d other",
              ok, refused, closed, int(others.size()));
        QCOMPARE(server.process().exitStatus(), QProcess::NormalExit);
        QCOMPARE(server.process().exitCode(), 0);
        // Everything admitted was answered 200; whatever arrived after the
        // signal was refused with 503 or found the port closed. Nothing was
        // cut off (a dropped connection would land in `others`).
        QVERIFY2(ok > 0, qPrintable(QStringLiteral("ok %1, 503 %2, refused %3, other %4").arg(ok).arg(refused).arg(closed).arg(others.size())));
        QVERIFY2(others.isEmpty(), qPrintable(QStringLiteral("%1 requests failed otherwise").arg(others.size())));
        QCOMPARE(ok + refused + closed, kRequests);
    }

    // The grace period runs out with slow upstream calls in flight and more
    // queued: every admitted request still gets an HTTP answer (503 in the
    // Gemini envelope), upstream calls are aborted, and the process exits 0
    // right after the grace period (issue: 17–32 s, 96 of 100 dropped, exit 1).
    void graceRunsOutAnswersEverythingAndExitsZero()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("sluice.json"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"simulator": {"baseLatencyMs": 30000, "tokensPerSecond": 0, "jitterSigma": 0},
                    "engine": {"maxBatchSize": 4, "maxWaitMs": 5, "maxInflightBatches": 8, "packing": "pack"}})");
        f.close();
        constexpr int kGraceMs = 1500;
        Server server;
        QVERIFY(server.start({QStringLiteral("--config"), path, QStringLiteral("--drain-grace-ms"), QString::number(kGraceMs)},
                             cleanEnv()));

        // 17 managers of 6 connections: ~100 requests with the gateway at once.
        std::array<QNetworkAccessManager, 17> managers;
        constexpr int kRequests = 100;
        int finished = 0;
        int unavailable = 0;
        int closed = 0;
        int namesGrace = 0; // answers whose message says why: the grace period ran out
        QList<int> others;
        for (int i = 0; i < kRequests; ++i) {
            QNetworkRequest req(server.url(QStringLiteral("/v1beta/models/gemini-2.0-flash:generateContent")));
            req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
            const QJsonObject body{{QStringLiteral("contents"),
                                    QJsonArray{QJsonObject{{QStringLiteral("parts"),
                                                            QJsonArray{QJsonObject{{QStringLiteral("text"), QStringLiteral("slow %1").arg(i)}}}}}}}};
            QNetworkReply *reply = managers[size_t(i) % managers.size()].post(req, QJsonDocument(body).toJson(QJsonDocument::Compact));
            QObject::connect(reply, &QNetworkReply::finished, reply, [&, reply] {
                const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
                const QJsonObject error = QJsonDocument::fromJson(reply->readAll()).object().value(QStringLiteral("error")).toObject();
                if (status == 503 && error.value(QStringLiteral("status")).toString() == QLatin1String("UNAVAILABLE")) {
                    ++unavailable;
                    if (error.value(QStringLiteral("message")).toString().contains(QLatin1String("grace period")))
                        ++namesGrace;
                } else if (reply->error() == QNetworkReply::ConnectionRefusedError) {
                    ++closed;
                } else {
                    others << status;
                }
                ++finished;
                reply->deleteLater();
            });
        }
        QNetworkAccessManager probe;
        QTRY_VERIFY_WITH_TIMEOUT(getJson(probe, server.url(QStringLiteral("/api/v1/stats"))).value(QStringLiteral("inflightBatches")).toInt() >= 8, 10000);
        QTest::qWait(300); // the rest reach the queue
        QElapsedTimer sinceSignal;
        sinceSignal.start();
        ::kill(pid_t(server.process().processId()), SIGTERM);
        QTRY_COMPARE_WITH_TIMEOUT(server.process().state(), QProcess::NotRunning, 20000);
        const qint64 exitMs = sinceSignal.elapsed();
        QTRY_COMPARE_WITH_TIMEOUT(finished, kRequests, 10000);
        qInfo("grace %d ms: exited after %lld ms; %d answered 503, %d found the port closed, %d other",
              kGraceMs, exitMs, unavailable, closed, int(others.size()));
        QCOMPARE(server.process().exitStatus(), QProcess::NormalExit);
        QCOMPARE(server.process().exitCode(), 0);
        QVERIFY2(others.isEmpty(), qPrintable(QStringLiteral("%1 requests got no answer or another one").arg(others.size())));
        QVERIFY(unavailable > 0);
        // Queued or on the wire, each one is told the same reason.
        QCOMPARE(namesGrace, unavailable);
        QCOMPARE(unavailable + closed, kRequests);
        // Bounded, not a performance figure: 30 s upstream calls were abandoned.
        QVERIFY2(exitMs < kGraceMs + 5000, qPrintable(QString::number(exitMs)));
    }

    // After a burst of large bodies, the idle gateway returns the freed heap
    // to the system (malloc_trim): RSS follows load instead of staying at
    // the burst's peak.
    void idleGatewayReturnsFreedMemory()
    {
        Server server;
        QVERIFY(server.start({}, cleanEnv()));
        const auto rssMiB = [&] {
            QFile statm(QStringLiteral("/proc/%1/statm").arg(server.process().processId()));
            if (!statm.open(QIODevice::ReadOnly))
                return qint64(-1);
            return statm.readAll().split(' ').value(1).toLongLong() * ::sysconf(_SC_PAGESIZE) / (1024 * 1024);
        };
        const QByteArray body = QJsonDocument(QJsonObject{
            {QStringLiteral("contents"),
             QJsonArray{QJsonObject{{QStringLiteral("parts"),
                                     QJsonArray{QJsonObject{{QStringLiteral("text"), QString(QStringLiteral("word ")).repeated(400000)}}}}}}}})
                                    .toJson(QJsonDocument::Compact);
        std::array<QNetworkAccessManager, 7> managers;
        int finished = 0;
        int ok = 0;
        qint64 peak = 0;
        constexpr int kRequests = 40;
        for (int i = 0; i < kRequests; ++i) {
            QNetworkRequest req(server.url(QStringLiteral("/v1beta/models/gemini-2.0-flash:countTokens")));
            req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
            QNetworkReply *reply = managers[size_t(i) % managers.size()].post(req, body);
            QObject::connect(reply, &QNetworkReply::finished, reply, [&, reply] {
                ok += reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() == 200;
                peak = std::max(peak, rssMiB());
                ++finished;
                reply->deleteLater();
            });
        }
        QTRY_COMPARE_WITH_TIMEOUT(finished, kRequests, 60000);
        QCOMPARE(ok, kRequests);
        peak = std::max(peak, rssMiB());
        // The memory budget the runtime wires in is reported (default 1 GiB).
        QNetworkAccessManager probe;
        const QJsonObject memory = getJson(probe, server.url(QStringLiteral("/api/v1/stats"))).value(QStringLiteral("memoryBudget")).toObject();
        QCOMPARE(memory.value(QStringLiteral("limitBytes")).toDouble(), 1024.0 * 1024 * 1024);
        QVERIFY(memory.contains(QStringLiteral("usedBytes")));
        // Idle now: within two trim checks RSS falls well below the peak.
        QTRY_VERIFY2_WITH_TIMEOUT(rssMiB() < peak - 16, qPrintable(QStringLiteral("RSS %1 MiB, peak %2 MiB").arg(rssMiB()).arg(peak)), 10000);
        qInfo("40 bodies of %lld KiB: RSS peak %lld MiB, idle %lld MiB", qint64(body.size() / 1024), peak, rssMiB());
    }
};

QTEST_GUILESS_MAIN(TestSluiceCli)
#include "tst_sluicecli.moc"
