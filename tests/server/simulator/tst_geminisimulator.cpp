// GeminiSimulator over real loopback: every route against the recorded
// fixtures' shapes (SLUICE_FIXTURES_DIR), SSE framing bytes, JSON pack mode,
// embeddings, key checks, quota 429s (RPM, TPM, RPD), MAX_TOKENS cuts,
// capacity, faults and bad input, service tiers (flex, priority) and Batch
// Mode over HTTP.
#include "server/simulator/geminisimulator.h"
#include "server/simulator/simulatorrequestreader.h"
#include "server/simulator/simulatorcontent.h"
#include "server/simulator/simulatorwire.h"
#include "tests/support/fixtures.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QSet>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <cmath>
#include <memory>

namespace {

struct Reply {
    int status = 0;
    QNetworkReply::NetworkError error = QNetworkReply::NoError;
    QByteArray body;
    QJsonObject json;
    QHash<QByteArray, QByteArray> headers; // lower-case names
};

QJsonObject fixture(const char *name)
{
    return QJsonDocument::fromJson(readFixture(QLatin1String(name))).object();
}

// A quota 429's body against the recorded one
// (error_429_resource_exhausted_quota_retryinfo.json): the same keys, code
// and status, the same details in the same order with the same keys, Help
// word for word, one QuotaFailure violation with the recorded keys (and
// dimension keys). Hands back that violation and RetryInfo's retryDelay for
// the caller's own checks; the caller returns when a check here failed.
void verifyRecordedQuota429(const QJsonObject &json, QJsonObject *violation, QString *retryDelay)
{
    const QJsonObject ref = fixture("error_429_resource_exhausted_quota_retryinfo.json");
    QCOMPARE(json.keys(), ref.keys());
    QCOMPARE(json[u"error"].toObject().keys(), ref[u"error"].toObject().keys());
    QCOMPARE(json[u"error"][u"code"], ref[u"error"][u"code"]);
    QCOMPARE(json[u"error"][u"status"], ref[u"error"][u"status"]);
    const QJsonArray details = json[u"error"][u"details"].toArray();
    const QJsonArray refDetails = ref[u"error"][u"details"].toArray();
    QCOMPARE(details.size(), refDetails.size());
    for (int i = 0; i < details.size(); ++i) {
        QCOMPARE(details[i][u"@type"], refDetails[i][u"@type"]);
        QCOMPARE(details[i].toObject().keys(), refDetails[i].toObject().keys());
    }
    QCOMPARE(details[0], refDetails[0]); // Help
    const QJsonArray violations = details[1][u"violations"].toArray();
    QCOMPARE(violations.size(), 1);
    *violation = violations[0].toObject();
    const QJsonObject refViolation = refDetails[1][u"violations"][0].toObject();
    QCOMPARE(violation->keys(), refViolation.keys());
    QCOMPARE((*violation)[u"quotaDimensions"].toObject().keys(), refViolation[u"quotaDimensions"].toObject().keys());
    *retryDelay = details[2][u"retryDelay"].toString();
}

// The response body of a js-genai recording (first interaction, segment i).
QJsonObject recordedBody(const char *name, int segment = 0)
{
    return fixture(name)[u"interactions"][0][u"response"][u"bodySegments"][segment].toObject();
}

QJsonObject recordedRequest(const char *name)
{
    return fixture(name)[u"interactions"][0][u"request"][u"bodySegments"][0].toObject();
}

// Every key of `ours` exists in `ref` with the same JSON type, recursively
// (arrays compared element-wise against ref's first element).
void expectShapeWithin(const QJsonValue &ours, const QJsonValue &ref, const QString &path, QStringList *problems)
{
    if (ours.type() != ref.type()) {
        problems->append(path + QStringLiteral(": type differs"));
        return;
    }
    if (ours.isObject()) {
        const QJsonObject o = ours.toObject();
        const QJsonObject r = ref.toObject();
        for (auto it = o.begin(); it != o.end(); ++it) {
            if (!r.contains(it.key()))
                problems->append(path + QLatin1Char('.') + it.key() + QStringLiteral(": not in the fixture"));
            else
                expectShapeWithin(it.value(), r.value(it.key()), path + QLatin1Char('.') + it.key(), problems);
        }
    } else if (ours.isArray() && !ref.toArray().isEmpty()) {
        for (const QJsonValue &v : ours.toArray())
            expectShapeWithin(v, ref.toArray().first(), path + QStringLiteral("[]"), problems);
    }
}

QJsonObject mergeObjects(QJsonObject a, const QJsonObject &b)
{
    for (auto it = b.begin(); it != b.end(); ++it) {
        if (a.value(it.key()).isObject() && it.value().isObject())
            a.insert(it.key(), mergeObjects(a.value(it.key()).toObject(), it.value().toObject()));
        else if (a.value(it.key()).isArray() && it.value().isArray() && !a.value(it.key()).toArray().isEmpty()
                 && a.value(it.key()).toArray().first().isObject() && !it.value().toArray().isEmpty())
            a.insert(it.key(), QJsonArray{mergeObjects(a.value(it.key()).toArray().first().toObject(),
                                                       it.value().toArray().first().toObject())});
        else if (!a.contains(it.key()))
            a.insert(it.key(), it.value());
    }
    return a;
}

QJsonObject textRequest(const QString &text, const QJsonObject &generationConfig = {})
{
    QJsonObject o{{QStringLiteral("contents"),
                   QJsonArray{QJsonObject{{QStringLiteral("parts"), QJsonArray{QJsonObject{{QStringLiteral("text"), text}}}},
                                          {QStringLiteral("role"), QStringLiteral("user")}}}}};
    if (!generationConfig.isEmpty())
        o.insert(QStringLiteral("generationConfig"), generationConfig);
    return o;
}

QString firstText(const QJsonObject &response)
{
    return response[u"candidates"][0][u"content"][u"parts"][0][u"text"].toString();
}

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace

class TestGeminiSimulator : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanupTestCase();

    void configJsonRoundTrip();
    void configValidationNamesField_data();
    void configValidationNamesField();

    void generateResponseBytesEqualQtWriter_data();
    void generateResponseBytesEqualQtWriter();
    void answersAreStable();
    void utf8PromptsAnswerLikeQStrings_data();
    void utf8PromptsAnswerLikeQStrings();
    void generateContentMatchesFixtureShape();
    void generateContentIsDeterministic();
    void colonMayBePercentEncoded();
    void maxOutputTokens_data();
    void maxOutputTokens();
    void streamSseFraming();
    void streamErrorIsPlainJson();
    void streamWithoutAltSseIsJsonArray();
    void candidateCount();
    void jsonModeFollowsSchema();
    void packModeAnswersEveryId();
    void packModeDrops();
    void maxOutputTokensCutsTheWholeCandidate_data();
    void maxOutputTokensCutsTheWholeCandidate();
    void scannedBodiesAnswerLikeParsedOnes_data();
    void scannedBodiesAnswerLikeParsedOnes();
    void embedContent();
    void batchEmbedContents();
    void batchEmbedOver100();
    void countTokens();
    void models();
    void apiKey_data();
    void apiKey();
    void rpmQuota();
    void tpmQuota();
    void quotaRefusalsMatchGemini_data();
    void quotaRefusalsMatchGemini();
    void rpdResetsAtTheEndOfTheScaledDay();
    void capacityQueuesBeyondMaxConcurrent();
    void faults_data();
    void faults();
    void timeoutFaultHoldsUntilClientGivesUp();
    void badInput_data();
    void badInput();
    void controlRoutes();
    void garbageDoesNotCrash_data();
    void garbageDoesNotCrash();
    void keepAliveAndConnectionClose();
    void headLinesAreReadLeniently();
    void serviceTierScalesServiceTime();
    void serviceTierRefusesUnknownValues();
    void flexIsShed();
    void priorityHasItsOwnRequestLimit();
    void batchJobLifecycle();
    void batchRoutes();

private:
    Reply call(const QByteArray &verb, const QString &path, const QByteArray &body = {},
               const QList<QPair<QByteArray, QByteArray>> &headers = {}, int transferTimeoutMs = 0);
    Reply post(const QString &path, const QJsonObject &body) { return call("POST", path, compact(body)); }
    QByteArray raw(const QByteArray &bytes, bool expectClose);
    void configure(const std::function<void(SimulatorConfig &)> &change);

    SimulatorConfig m_base;
    std::unique_ptr<GeminiSimulator> m_sim;
    QNetworkAccessManager m_nam;
};

void TestGeminiSimulator::initTestCase()
{
    // 0.01: a 450 ms generation takes 4.5 ms and a quota minute lasts 0.6 s.
    m_base.timeScale = 0.01;
    m_sim = std::make_unique<GeminiSimulator>(m_base);
    QVERIFY2(m_sim->start(), qPrintable(m_sim->errorString()));
    QVERIFY(m_sim->port() != 0);
    QCOMPARE(m_sim->baseUrl().toString(), QStringLiteral("http://127.0.0.1:%1").arg(m_sim->port()));
}

void TestGeminiSimulator::init()
{
    QVERIFY(m_sim->setConfig(m_base).isNull());
    m_sim->resetStats();
}

void TestGeminiSimulator::cleanupTestCase()
{
    m_sim->stop();
    QVERIFY(!m_sim->isRunning());
}

void TestGeminiSimulator::configure(const std::function<void(SimulatorConfig &)> &change)
{
    SimulatorConfig c = m_base;
    change(c);
    const SimulatorConfig::Error e = m_sim->setConfig(c);
    QVERIFY2(e.isNull(), qPrintable(e.toString()));
}

Reply TestGeminiSimulator::call(const QByteArray &verb, const QString &path, const QByteArray &body,
                                const QList<QPair<QByteArray, QByteArray>> &headers, int transferTimeoutMs)
{
    QNetworkRequest req(QUrl(m_sim->baseUrl().toString() + path));
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    for (const auto &h : headers)
        req.setRawHeader(h.first, h.second);
    if (transferTimeoutMs > 0)
        req.setTransferTimeout(transferTimeoutMs);
    QNetworkReply *reply = m_nam.sendCustomRequest(req, verb, body);
    QEventLoop loop;
    connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(15000, &loop, &QEventLoop::quit); // a hung server fails the test, not the run
    if (!reply->isFinished())
        loop.exec();
    Reply r;
    if (!reply->isFinished()) {
        reply->abort();
        r.error = QNetworkReply::TimeoutError;
    } else {
        r.error = reply->error();
    }
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.body = reply->readAll();
    r.json = QJsonDocument::fromJson(r.body).object();
    for (const auto &h : reply->rawHeaderPairs())
        r.headers.insert(h.first.toLower(), h.second);
    reply->deleteLater();
    return r;
}

QByteArray TestGeminiSimulator::raw(const QByteArray &bytes, bool expectClose)
{
    QTcpSocket s;
    s.connectToHost(QHostAddress::LocalHost, m_sim->port());
    if (!s.waitForConnected(5000))
        return "no connection";
    s.write(bytes);
    QByteArray got;
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < 5000) {
        if (s.state() != QAbstractSocket::ConnectedState && s.bytesAvailable() == 0)
            break;
        if (s.waitForReadyRead(expectClose ? 1000 : 300))
            got += s.readAll();
        else if (!expectClose && !got.isEmpty())
            break;
    }
    got += s.readAll();
    return got;
}

void TestGeminiSimulator::configJsonRoundTrip()
{
    SimulatorConfig c;
    c.apiKey = QStringLiteral("k");
    c.rpmLimit = 7;
    c.rpdLimit = 900;
    c.modelLimits.insert(QStringLiteral("gemini-2.5-pro"), {2, 1000, 50});
    c.modelLimits.insert(QStringLiteral("gemini-2.5-flash"), {0, 0, 3});
    c.packDropIds = {QStringLiteral("a"), QStringLiteral("b")};
    c.models = {QStringLiteral("gemini-2.5-flash")};
    c.seed = 1234567;
    c.http503Rate = 0.25;
    c.flexLatencyFactor = 6;
    c.flexShedRate = 0.3;
    c.priorityLatencyFactor = 0.25;
    c.priorityRpmLimit = 12;
    c.batchPendingMs = 10;
    c.batchRunMs = 20;
    SimulatorConfig back;
    const SimulatorConfig::Error e = SimulatorConfig::fromJson(c.toJson(), SimulatorConfig{}, &back);
    QVERIFY2(e.isNull(), qPrintable(e.toString()));
    QCOMPARE(back, c);
    QVERIFY(SimulatorConfig{}.validate().isNull());
}

void TestGeminiSimulator::configValidationNamesField_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("field");
    QTest::newRow("maxConcurrent 0") << QByteArray(R"({"maxConcurrent":0})") << "maxConcurrent";
    QTest::newRow("rate > 1") << QByteArray(R"({"dropRate":1.5})") << "dropRate";
    QTest::newRow("rates sum > 1") << QByteArray(R"({"dropRate":0.6,"http503Rate":0.6})") << "http503Rate";
    QTest::newRow("timeScale 0") << QByteArray(R"({"timeScale":0})") << "timeScale";
    QTest::newRow("wrong type") << QByteArray(R"({"baseLatencyMs":"fast"})") << "baseLatencyMs";
    QTest::newRow("non-integer") << QByteArray(R"({"rpmLimit":1.5})") << "rpmLimit";
    QTest::newRow("unknown") << QByteArray(R"({"latencyMs":3})") << "latencyMs";
    QTest::newRow("model limit") << QByteArray(R"({"modelLimits":{"m":{"rpmLimit":-1}}})") << "modelLimits.m.rpmLimit";
    QTest::newRow("rpdLimit negative") << QByteArray(R"({"rpdLimit":-1})") << "rpdLimit";
    QTest::newRow("rpdLimit string") << QByteArray(R"({"rpdLimit":"1000"})") << "rpdLimit";
    QTest::newRow("model rpd limit") << QByteArray(R"({"modelLimits":{"m":{"rpdLimit":1.5}}})") << "modelLimits.m.rpdLimit";
    QTest::newRow("model limit unknown") << QByteArray(R"({"modelLimits":{"m":{"rpsLimit":1}}})") << "modelLimits.m.rpsLimit";
    QTest::newRow("packDropIds") << QByteArray(R"({"packDropIds":[1]})") << "packDropIds";
    QTest::newRow("flexLatencyFactor 0") << QByteArray(R"({"flexLatencyFactor":0})") << "flexLatencyFactor";
    QTest::newRow("priorityLatencyFactor < 0") << QByteArray(R"({"priorityLatencyFactor":-0.5})") << "priorityLatencyFactor";
    QTest::newRow("flexShedRate > 1") << QByteArray(R"({"flexShedRate":1.01})") << "flexShedRate";
    QTest::newRow("flexShedRate < 0") << QByteArray(R"({"flexShedRate":-0.1})") << "flexShedRate";
    QTest::newRow("priorityRpmLimit < 0") << QByteArray(R"({"priorityRpmLimit":-1})") << "priorityRpmLimit";
    QTest::newRow("priorityRpmLimit fraction") << QByteArray(R"({"priorityRpmLimit":0.5})") << "priorityRpmLimit";
    QTest::newRow("batchPendingMs < 0") << QByteArray(R"({"batchPendingMs":-1})") << "batchPendingMs";
    QTest::newRow("batchRunMs string") << QByteArray(R"({"batchRunMs":"5s"})") << "batchRunMs";
}

void TestGeminiSimulator::configValidationNamesField()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, field);
    SimulatorConfig out;
    out.rpmLimit = 99;
    const SimulatorConfig::Error e = SimulatorConfig::fromJson(QJsonDocument::fromJson(json).object(), SimulatorConfig{}, &out);
    QCOMPARE(e.field, field);
    QCOMPARE(out.rpmLimit, 99); // untouched on error
}

void TestGeminiSimulator::generateResponseBytesEqualQtWriter_data()
{
    QTest::addColumn<QStringList>("texts");
    QTest::addColumn<QStringList>("reasons");
    QTest::newRow("one candidate") << QStringList{QStringLiteral("Plain answer.")} << QStringList{QStringLiteral("STOP")};
    QTest::newRow("stream chunk, no reason") << QStringList{QStringLiteral("piece ")} << QStringList{QString()};
    QTest::newRow("escapes and non-ASCII")
        << QStringList{QStringLiteral("[{\"id\":\"0\",\"text\":\"a\\nb\"}]\t\u00e9\u4e2d\U0001F600\x01")}
        << QStringList{QStringLiteral("MAX_TOKENS")};
    QTest::newRow("three candidates") << QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}
                                      << QStringList{QStringLiteral("STOP"), QStringLiteral("STOP"), QStringLiteral("MAX_TOKENS")};
}

void TestGeminiSimulator::generateResponseBytesEqualQtWriter()
{
    // The simulator writes its answers directly; they must be exactly what
    // QJsonDocument writes for the same GenerateContentResponse.
    QFETCH(QStringList, texts);
    QFETCH(QStringList, reasons);
    const int prompt = 7;
    const int output = 23;
    QJsonArray candidates;
    for (qsizetype i = 0; i < texts.size(); ++i) {
        QJsonObject c{{QStringLiteral("content"),
                       QJsonObject{{QStringLiteral("parts"), QJsonArray{QJsonObject{{QStringLiteral("text"), texts[i]}}}},
                                   {QStringLiteral("role"), QStringLiteral("model")}}},
                      {QStringLiteral("index"), int(i)}};
        if (!reasons[i].isEmpty())
            c.insert(QStringLiteral("finishReason"), reasons[i]);
        candidates.append(c);
    }
    const QJsonObject expected{
        {QStringLiteral("candidates"), candidates},
        {QStringLiteral("modelVersion"), QStringLiteral("gemini-2.0-flash")},
        {QStringLiteral("responseId"), QStringLiteral("sim-abc")},
        {QStringLiteral("usageMetadata"),
         QJsonObject{{QStringLiteral("promptTokenCount"), prompt},
                     {QStringLiteral("candidatesTokenCount"), output},
                     {QStringLiteral("totalTokenCount"), prompt + output},
                     {QStringLiteral("promptTokensDetails"),
                      QJsonArray{QJsonObject{{QStringLiteral("modality"), QStringLiteral("TEXT")},
                                             {QStringLiteral("tokenCount"), prompt}}}}}}};
    QCOMPARE(SimulatorWire::generateResponse(texts, reasons, QStringLiteral("gemini-2.0-flash"), QStringLiteral("sim-abc"),
                                             prompt, output),
             QJsonDocument(expected).toJson(QJsonDocument::Compact));
}

void TestGeminiSimulator::answersAreStable()
{
    // Clients, tests and benchmarks predict answers from their prompts: the
    // words are part of the contract, pinned here.
    QCOMPARE(SimulatorContent::answerFor(QStringLiteral("hi"), 20),
             QStringLiteral("Useful stream therefore over signal request channel. Token future water agent common token "
                            "question rare within measure history. Under pressure."));
    QCOMPARE(SimulatorContent::answerFor(QStringLiteral("hi"), 20, 3),
             QStringLiteral("Stream quiet rare agent shape under detail within reason northern. Agent steady between token "
                            "system system pattern pressure. Closed steady."));
    QCOMPARE(SimulatorContent::answerFor(QStringLiteral("caf\u00e9 \U0001F600"), 20),
             QStringLiteral("History moment large result question every across rapid pattern engine question rare. Large "
                            "green through across flow green. Under rapid."));
    QCOMPARE(SimulatorContent::hash(QStringLiteral("caf\u00e9 \U0001F600")), 0x6787a27c3bc30e12ULL);
}

void TestGeminiSimulator::utf8PromptsAnswerLikeQStrings_data()
{
    QTest::addColumn<QString>("prompt");
    QTest::newRow("empty") << QString();
    QTest::newRow("ASCII") << QStringLiteral("why is the sky blue?");
    QTest::newRow("non-ASCII") << QStringLiteral("caf\u00e9 \u4e2d\u6587 \U0001F600");
    QTest::newRow("escapes") << QStringLiteral("quote \" backslash \\ nl \n ctl \x01");
    QTest::newRow("pack") << QStringLiteral("Answer.\n\n<request id=\"0\">\nq 1\n</request>\n<request id=\"\u00e9\">\n\U0001F600\n</request>\n");
    QTest::newRow("pack, odd blocks")
        << QStringLiteral("<request id=\"a\"></request><request id=\"\">\n\n</request> <request id=\"b\"x>no <request id=\"c\">open");
    QTest::newRow("pack, unclosed") << QStringLiteral("<request id=\"a\">\nno close tag");
    QTest::newRow("pack, nested") << QStringLiteral("<request id=\"q\">\ninner <request id=\"z\">nested</request>\n</request>");
}

// The test oracle of SimulatorContent::parsePack(): the same reading of a
// packed prompt on its QString (id, text) — the simulator's production path
// before it read UTF-8 bytes only.
static QList<QPair<QString, QString>> packMembersOracle(const QString &prompt)
{
    const QString open = QStringLiteral("<request id=\"");
    const QString close = QStringLiteral("</request>");
    QList<QPair<QString, QString>> members;
    qsizetype pos = 0;
    while ((pos = prompt.indexOf(open, pos)) >= 0) {
        const qsizetype idStart = pos + open.size();
        const qsizetype idEnd = prompt.indexOf(QLatin1Char('"'), idStart);
        if (idEnd < 0 || idEnd + 1 >= prompt.size() || prompt.at(idEnd + 1) != QLatin1Char('>'))
            break;
        qsizetype textStart = idEnd + 2;
        const qsizetype end = prompt.indexOf(close, textStart);
        if (end < 0)
            break;
        qsizetype textEnd = end;
        if (textStart < textEnd && prompt.at(textStart) == QLatin1Char('\n'))
            ++textStart;
        if (textEnd > textStart && prompt.at(textEnd - 1) == QLatin1Char('\n'))
            --textEnd;
        members.append({prompt.mid(idStart, idEnd - idStart), prompt.mid(textStart, textEnd - textStart)});
        pos = end + close.size();
    }
    return members;
}

void TestGeminiSimulator::utf8PromptsAnswerLikeQStrings()
{
    // The hot path reads prompts as UTF-8 bytes; what it derives from them
    // must be what the QString functions derive.
    QFETCH(QString, prompt);
    const QByteArray utf8 = prompt.toUtf8();
    QCOMPARE(SimulatorContent::hash(QByteArrayView(utf8)), SimulatorContent::hash(prompt));
    for (int words : {0, 1, 48, 200}) {
        for (int variant : {0, 5}) {
            QByteArray out = "prefix ";
            SimulatorContent::appendAnswer(out, utf8, words, variant);
            QCOMPARE(out, "prefix " + SimulatorContent::answerFor(prompt, words, variant).toLatin1());
        }
    }
    // parsePack() on the bytes against its oracle on the QString.
    const QList<QPair<QString, QString>> members = packMembersOracle(prompt);
    const auto views = SimulatorContent::parsePack(QByteArrayView(utf8));
    QCOMPARE(views.size(), members.size());
    for (qsizetype i = 0; i < members.size(); ++i) {
        QCOMPARE(QString::fromUtf8(views[i].id), members[i].first);
        QCOMPARE(QString::fromUtf8(views[i].text), members[i].second);
    }
}

void TestGeminiSimulator::generateContentMatchesFixtureShape()
{
    const Reply r = post(QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent"),
                         recordedRequest("recording_generateContent_gemini-2.5-flash_maxtokens.json"));
    QCOMPARE(r.status, 200);
    QVERIFY(r.headers.value("content-type").startsWith("application/json"));
    const QJsonObject ref = mergeObjects(fixture("generateContent_basic_gemini-2.0-flash.json"),
                                         recordedBody("recording_generateContent_gemini-2.5-flash_maxtokens.json"));
    QStringList problems;
    expectShapeWithin(r.json, ref, QStringLiteral("$"), &problems);
    QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));

    const QJsonObject c = r.json[u"candidates"][0].toObject();
    QCOMPARE(c[u"content"][u"role"].toString(), QStringLiteral("model"));
    QCOMPARE(c[u"finishReason"].toString(), QStringLiteral("STOP"));
    QCOMPARE(c[u"index"].toInt(-1), 0);
    QVERIFY(!firstText(r.json).isEmpty());
    QCOMPARE(r.json[u"modelVersion"].toString(), QStringLiteral("gemini-2.5-flash"));
    QVERIFY(!r.json[u"responseId"].toString().isEmpty());
    const QJsonObject u = r.json[u"usageMetadata"].toObject();
    const int prompt = u[u"promptTokenCount"].toInt();
    const int out = u[u"candidatesTokenCount"].toInt();
    QCOMPARE(prompt, 5); // "why is the sky blue?" is 20 characters, ~4 per token
    QCOMPARE(out, SimulatorContent::tokensFor(firstText(r.json)));
    QCOMPARE(u[u"totalTokenCount"].toInt(), prompt + out + u[u"thoughtsTokenCount"].toInt());
    QCOMPARE(u[u"promptTokensDetails"][0][u"modality"].toString(), QStringLiteral("TEXT"));
    QCOMPARE(u[u"promptTokensDetails"][0][u"tokenCount"].toInt(), prompt);
    QCOMPARE(m_sim->stats().route(QStringLiteral("generateContent")), 1);
    QCOMPARE(m_sim->stats().callsPerModel.value(QStringLiteral("gemini-2.5-flash")), 1);
}

void TestGeminiSimulator::generateContentIsDeterministic()
{
    const QString path = QStringLiteral("/v1beta/models/gemini-2.0-flash:generateContent");
    const Reply a = post(path, textRequest(QStringLiteral("capital of Wyoming?")));
    const Reply b = post(path, textRequest(QStringLiteral("capital of Wyoming?")));
    const Reply c = post(path, textRequest(QStringLiteral("capital of Utah?")));
    QCOMPARE(a.status, 200);
    QCOMPARE(firstText(a.json), firstText(b.json));
    QCOMPARE(firstText(a.json), SimulatorContent::answerFor(QStringLiteral("capital of Wyoming?"), m_base.responseWords));
    QVERIFY(firstText(a.json) != firstText(c.json));
}

void TestGeminiSimulator::colonMayBePercentEncoded()
{
    const Reply r = post(QStringLiteral("/v1beta/models/gemini-2.5-flash%3AgenerateContent"), textRequest(QStringLiteral("hi")));
    QCOMPARE(r.status, 200);
    QCOMPARE(firstText(r.json), SimulatorContent::answerFor(QStringLiteral("hi"), m_base.responseWords));
}

void TestGeminiSimulator::maxOutputTokens_data()
{
    QTest::addColumn<int>("maxTokens");
    QTest::addColumn<QString>("finishReason");
    QTest::newRow("cut") << 5 << "MAX_TOKENS";
    QTest::newRow("roomy") << 10000 << "STOP";
}

void TestGeminiSimulator::maxOutputTokens()
{
    QFETCH(int, maxTokens);
    QFETCH(QString, finishReason);
    const Reply r = post(QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent"),
                         textRequest(QStringLiteral("why is the sky blue?"),
                                     {{QStringLiteral("maxOutputTokens"), maxTokens}}));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json[u"candidates"][0][u"finishReason"].toString(), finishReason);
    QVERIFY(r.json[u"usageMetadata"][u"candidatesTokenCount"].toInt() <= maxTokens);
    QVERIFY(SimulatorContent::answerFor(QStringLiteral("why is the sky blue?"), m_base.responseWords).startsWith(firstText(r.json)));
}

void TestGeminiSimulator::streamSseFraming()
{
    // The recorded fixture itself is framed the way we assert below.
    const QByteArray recorded = readFixture(QStringLiteral("streamGenerateContent_sse_gemini-2.0-flash.txt"));
    QVERIFY(recorded.startsWith("data: ") && recorded.endsWith("\r\n\r\n"));

    const QJsonObject request = textRequest(QStringLiteral("why is the sky blue?"));
    const Reply r = call("POST", QStringLiteral("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"), compact(request));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.headers.value("content-type"), QByteArray("text/event-stream"));
    QVERIFY(r.body.startsWith("data: "));
    QVERIFY(r.body.endsWith("\r\n\r\n"));
    QVERIFY(!r.body.contains("[DONE]"));
    QList<QByteArray> events;
    qsizetype pos = 0;
    while (pos < r.body.size()) {
        const qsizetype end = r.body.indexOf("\r\n\r\n", pos);
        QVERIFY(end > pos);
        events << r.body.mid(pos, end - pos);
        pos = end + 4;
    }
    QVERIFY2(events.size() > 1, "expected several chunks");
    const QJsonObject ref = mergeObjects(recordedBody("recording_streamGenerateContent_gemini-2.5-flash.json", 2),
                                         recordedBody("recording_streamGenerateContent_gemini-2.5-flash.json", 0));
    QString text;
    int lastCount = 0;
    for (qsizetype i = 0; i < events.size(); ++i) {
        QVERIFY(events[i].startsWith("data: "));
        QVERIFY(!events[i].contains('\n'));
        QJsonParseError pe;
        const QJsonObject chunk = QJsonDocument::fromJson(events[i].mid(6), &pe).object();
        QCOMPARE(pe.error, QJsonParseError::NoError);
        QStringList problems;
        expectShapeWithin(chunk, ref, QStringLiteral("$"), &problems);
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
        const bool last = i == events.size() - 1;
        QCOMPARE(chunk[u"candidates"][0].toObject().contains(QStringLiteral("finishReason")), last);
        const int count = chunk[u"usageMetadata"][u"candidatesTokenCount"].toInt();
        QVERIFY(count >= lastCount);
        lastCount = count;
        QCOMPARE(chunk[u"usageMetadata"][u"totalTokenCount"].toInt(), count + chunk[u"usageMetadata"][u"promptTokenCount"].toInt());
        text += firstText(chunk);
    }
    const Reply unary = post(QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent"), request);
    QCOMPARE(text, firstText(unary.json));
    QCOMPARE(lastCount, unary.json[u"usageMetadata"][u"candidatesTokenCount"].toInt());
}

void TestGeminiSimulator::streamErrorIsPlainJson()
{
    const QJsonObject recorded = recordedBody("recording_error_404_streamGenerateContent.json");
    const Reply r = post(QStringLiteral("/v1beta/models/custom-gemini-2.0-flash:streamGenerateContent?alt=sse"),
                         recordedRequest("recording_error_404_streamGenerateContent.json"));
    QCOMPARE(r.status, 404);
    QVERIFY(!r.body.startsWith("data:"));
    QCOMPARE(r.json, recorded); // same model name, so the very same body
}

void TestGeminiSimulator::streamWithoutAltSseIsJsonArray()
{
    const QJsonObject request = textRequest(QStringLiteral("why is the sky blue?"));
    const Reply r = call("POST", QStringLiteral("/v1beta/models/gemini-2.5-flash:streamGenerateContent"), compact(request));
    QCOMPARE(r.status, 200);
    const QJsonArray chunks = QJsonDocument::fromJson(r.body).array();
    QVERIFY(chunks.size() > 1);
    QString text;
    for (const QJsonValue &c : chunks)
        text += firstText(c.toObject());
    QCOMPARE(text, SimulatorContent::answerFor(QStringLiteral("why is the sky blue?"), m_base.responseWords));
}

void TestGeminiSimulator::candidateCount()
{
    const Reply r = post(QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent"),
                         textRequest(QStringLiteral("hi"), {{QStringLiteral("candidateCount"), 3}}));
    QCOMPARE(r.status, 200);
    const QJsonArray candidates = r.json[u"candidates"].toArray();
    QCOMPARE(candidates.size(), 3);
    int tokens = 0;
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(candidates[i][u"index"].toInt(), i);
        tokens += SimulatorContent::tokensFor(candidates[i][u"content"][u"parts"][0][u"text"].toString());
    }
    QVERIFY(candidates[0][u"content"][u"parts"][0][u"text"] != candidates[1][u"content"][u"parts"][0][u"text"]);
    QCOMPARE(r.json[u"usageMetadata"][u"candidatesTokenCount"].toInt(), tokens);
}

void TestGeminiSimulator::jsonModeFollowsSchema()
{
    const QJsonObject request = recordedRequest("recording_generateContent_jsonschema_gemini-2.5-flash.json");
    const Reply r = post(QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent"), request);
    QCOMPARE(r.status, 200);
    QJsonParseError pe;
    const QJsonObject value = QJsonDocument::fromJson(firstText(r.json).toUtf8(), &pe).object();
    QCOMPARE(pe.error, QJsonParseError::NoError);
    const QJsonObject props = request[u"generationConfig"][u"responseJsonSchema"][u"properties"].toObject();
    QCOMPARE(value.keys(), props.keys());
    QVERIFY(value[u"inner"][u"innerString"].isString());
    QVERIFY(value[u"inner"][u"innerNumber"].isDouble());
    QVERIFY(value[u"arrayFiled"].isArray());
    QVERIFY(value[u"arrayFiled"][0].isString());
    // The recorded answer has the same top-level keys.
    const QJsonObject recordedValue = QJsonDocument::fromJson(
        firstText(recordedBody("recording_generateContent_jsonschema_gemini-2.5-flash.json")).toUtf8()).object();
    QCOMPARE(value.keys(), recordedValue.keys());
}

static QJsonObject packRequest(const QStringList &ids, const QStringList &texts)
{
    QString prompt = QStringLiteral("Answer each request separately.\n");
    for (qsizetype i = 0; i < ids.size(); ++i)
        prompt += QStringLiteral("<request id=\"%1\">\n%2\n</request>\n").arg(ids[i], texts[i]);
    const QJsonObject schema{
        {QStringLiteral("type"), QStringLiteral("ARRAY")},
        {QStringLiteral("items"),
         QJsonObject{{QStringLiteral("type"), QStringLiteral("OBJECT")},
                     {QStringLiteral("properties"), QJsonObject{{QStringLiteral("id"), QJsonObject{{QStringLiteral("type"), QStringLiteral("STRING")}}},
                                                                {QStringLiteral("text"), QJsonObject{{QStringLiteral("type"), QStringLiteral("STRING")}}}}},
                     {QStringLiteral("required"), QJsonArray{QStringLiteral("id"), QStringLiteral("text")}}}}};
    return textRequest(prompt, {{QStringLiteral("responseMimeType"), QStringLiteral("application/json")},
                                {QStringLiteral("responseSchema"), schema}});
}

void TestGeminiSimulator::packModeAnswersEveryId()
{
    const QStringList ids{QStringLiteral("a"), QStringLiteral("req-2"), QStringLiteral("3")};
    const QStringList texts{QStringLiteral("why is the sky blue?"), QStringLiteral("two\nlines"), QStringLiteral("capital of Utah?")};
    const Reply r = post(QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent"), packRequest(ids, texts));
    QCOMPARE(r.status, 200);
    const QJsonArray answers = QJsonDocument::fromJson(firstText(r.json).toUtf8()).array();
    QCOMPARE(answers.size(), 3);
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(answers[i][u"id"].toString(), ids[i]);
        // The same answer generateContent gives for that text alone.
        const Reply single = post(QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent"), textRequest(texts[i]));
        QCOMPARE(answers[i][u"text"].toString(), firstText(single.json));
    }
    QCOMPARE(r.json[u"usageMetadata"][u"candidatesTokenCount"].toInt(), SimulatorContent::tokensFor(firstText(r.json)));

    // No blocks: still a schema-valid array of {id, text}.
    const Reply none = post(QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent"), packRequest({}, {}));
    const QJsonArray generic = QJsonDocument::fromJson(firstText(none.json).toUtf8()).array();
    QVERIFY(!generic.isEmpty());
    QVERIFY(generic[0][u"id"].isString() && generic[0][u"text"].isString());
}

void TestGeminiSimulator::packModeDrops()
{
    const QStringList ids{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")};
    const QStringList texts{QStringLiteral("one"), QStringLiteral("two"), QStringLiteral("three")};
    configure([](SimulatorConfig &c) { c.packDropIds = {QStringLiteral("b")}; });
    Reply r = post(QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent"), packRequest(ids, texts));
    QJsonArray answers = QJsonDocument::fromJson(firstText(r.json).toUtf8()).array();
    QCOMPARE(answers.size(), 2);
    QCOMPARE(answers[0][u"id"].toString(), QStringLiteral("a"));
    QCOMPARE(answers[1][u"id"].toString(), QStringLiteral("c"));
    QCOMPARE(m_sim->stats().fault(QStringLiteral("packDrop")), 1);

    configure([](SimulatorConfig &c) { c.packDropRate = 1.0; });
    r = post(QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent"), packRequest(ids, texts));
    answers = QJsonDocument::fromJson(firstText(r.json).toUtf8()).array();
    QCOMPARE(r.status, 200);
    QCOMPARE(answers.size(), 0);
}

static QJsonObject withGenerationConfig(QJsonObject request, const QString &key, const QJsonValue &value)
{
    QJsonObject gc = request.value(QLatin1String("generationConfig")).toObject();
    gc.insert(key, value);
    request.insert(QStringLiteral("generationConfig"), gc);
    return request;
}

// Each candidate's text, finishReason and the usage of a generateContent
// answer; for an SSE body, candidate 0's chunks joined and the last chunk's.
struct Answer {
    QStringList texts;
    QStringList finishReasons;
    int candidatesTokenCount = -1;
};

static Answer answerOf(const QByteArray &body, bool sse)
{
    Answer a;
    if (!sse) {
        const QJsonObject o = QJsonDocument::fromJson(body).object();
        for (const QJsonValue &c : o[u"candidates"].toArray()) {
            a.texts << c[u"content"][u"parts"][0][u"text"].toString();
            a.finishReasons << c[u"finishReason"].toString();
        }
        a.candidatesTokenCount = o[u"usageMetadata"][u"candidatesTokenCount"].toInt(-1);
        return a;
    }
    a.texts << QString();
    a.finishReasons << QString();
    for (const QByteArray &event : body.split('\n')) {
        if (!event.startsWith("data: "))
            continue;
        const QJsonObject chunk = QJsonDocument::fromJson(event.mid(6).trimmed()).object();
        a.texts[0] += firstText(chunk);
        a.finishReasons[0] = chunk[u"candidates"][0][u"finishReason"].toString();
        a.candidatesTokenCount = chunk[u"usageMetadata"][u"candidatesTokenCount"].toInt(-1);
    }
    return a;
}

void TestGeminiSimulator::maxOutputTokensCutsTheWholeCandidate_data()
{
    // budget -1: the sum of the pack members' own tokens, which the whole
    // JSON text exceeds; -2: exactly the whole text's tokens.
    QTest::addColumn<QString>("route");
    QTest::addColumn<QJsonObject>("request");
    QTest::addColumn<int>("budget");
    QTest::addColumn<bool>("cut");
    QTest::addColumn<bool>("json");
    const QString generate = QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent");
    const QString sse = QStringLiteral("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
    const QJsonObject pack = packRequest({QStringLiteral("a"), QStringLiteral("q\"2"), QStringLiteral("\u00e9")},
                                         {QStringLiteral("why is the sky blue?"), QStringLiteral("two\nlines"), QStringLiteral("x")});
    QJsonObject parsedPack = pack;
    parsedPack.insert(QStringLiteral("safetySettings"), QJsonArray()); // the general reading path
    const QJsonObject jsonMode = textRequest(QStringLiteral("caf\u00e9"), {{QStringLiteral("responseMimeType"), QStringLiteral("application/json")}});

    QTest::newRow("plain") << generate << textRequest(QStringLiteral("why is the sky blue?")) << 5 << true << false;
    QTest::newRow("plain, roomy") << generate << textRequest(QStringLiteral("why is the sky blue?")) << 10000 << false << false;
    QTest::newRow("two candidates")
        << generate << textRequest(QStringLiteral("hi"), {{QStringLiteral("candidateCount"), 2}}) << 7 << true << false;
    QTest::newRow("json mode") << generate << jsonMode << 4 << true << true;
    QTest::newRow("pack") << generate << pack << 30 << true << true;
    QTest::newRow("pack, parsed body") << generate << parsedPack << 30 << true << true;
    QTest::newRow("pack, whole text counted") << generate << pack << -1 << true << true;
    QTest::newRow("pack, exactly the budget") << generate << pack << -2 << false << true;
    QTest::newRow("pack, sse") << sse << pack << 30 << true << true;
}

void TestGeminiSimulator::maxOutputTokensCutsTheWholeCandidate()
{
    // As Gemini does: a candidate longer than maxOutputTokens is cut at the
    // budget, finishReason MAX_TOKENS, candidatesTokenCount the budget; a
    // JSON answer (a pack's array too) is counted as its whole text and cut
    // mid-value, so it no longer parses.
    QFETCH(QString, route);
    QFETCH(QJsonObject, request);
    QFETCH(int, budget);
    QFETCH(bool, cut);
    QFETCH(bool, json);
    const bool sse = route.endsWith(QLatin1String("alt=sse"));
    const Reply whole = call("POST", route, compact(request));
    QCOMPARE(whole.status, 200);
    const Answer full = answerOf(whole.body, sse);
    QVERIFY(!full.texts.isEmpty());
    if (budget < 0) {
        int members = 0;
        for (const QJsonValue &m : QJsonDocument::fromJson(full.texts[0].toUtf8()).array())
            members += SimulatorContent::tokensFor(m[u"text"].toString());
        const int wholeTokens = SimulatorContent::tokensFor(full.texts[0]);
        QVERIFY2(members < wholeTokens, qPrintable(QStringLiteral("%1 %2").arg(members).arg(wholeTokens)));
        budget = budget == -1 ? members : wholeTokens;
    }

    const Reply limited = call("POST", route, compact(withGenerationConfig(request, QStringLiteral("maxOutputTokens"), budget)));
    QCOMPARE(limited.status, 200);
    const Answer got = answerOf(limited.body, sse);
    QCOMPARE(got.texts.size(), full.texts.size());
    int tokens = 0;
    for (qsizetype i = 0; i < full.texts.size(); ++i) {
        QCOMPARE(full.finishReasons[i], QStringLiteral("STOP"));
        if (json)
            QVERIFY(!QJsonDocument::fromJson(full.texts[i].toUtf8()).isNull());
        QCOMPARE(SimulatorContent::tokensFor(full.texts[i]) > budget, cut);
        if (cut) {
            QCOMPARE(got.texts[i], full.texts[i].left(qsizetype(budget) * 4));
            QCOMPARE(got.finishReasons[i], QStringLiteral("MAX_TOKENS"));
            QCOMPARE(SimulatorContent::tokensFor(got.texts[i]), budget);
            if (json) {
                QJsonParseError pe;
                QJsonDocument::fromJson(got.texts[i].toUtf8(), &pe);
                QVERIFY(pe.error != QJsonParseError::NoError);
            }
            tokens += budget;
        } else {
            QCOMPARE(got.texts[i], full.texts[i]);
            QCOMPARE(got.finishReasons[i], QStringLiteral("STOP"));
            tokens += SimulatorContent::tokensFor(full.texts[i]);
        }
    }
    QCOMPARE(got.candidatesTokenCount, tokens);
}

static QByteArray withoutResponseIds(QByteArray body)
{
    // Every answer has its own id; the rest of two answers may be compared.
    static const QByteArray key = "\"responseId\":\"";
    for (qsizetype at = body.indexOf(key); at >= 0; at = body.indexOf(key, at + key.size())) {
        const qsizetype end = body.indexOf('"', at + key.size());
        body.remove(at + key.size(), end - at - key.size());
    }
    return body;
}

void TestGeminiSimulator::scannedBodiesAnswerLikeParsedOnes_data()
{
    QTest::addColumn<QString>("route");
    QTest::addColumn<QJsonObject>("request");
    QTest::addColumn<QStringList>("dropIds");
    const QString generate = QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent");
    const QString sse = QStringLiteral("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
    const QString array = QStringLiteral("/v1beta/models/gemini-2.5-flash:streamGenerateContent");
    const QJsonObject json{{QStringLiteral("responseMimeType"), QStringLiteral("application/json")}};
    auto with = [](QJsonObject request, const QJsonObject &generationConfig) {
        QJsonObject gc = request.value(QLatin1String("generationConfig")).toObject();
        for (auto it = generationConfig.begin(); it != generationConfig.end(); ++it)
            gc.insert(it.key(), it.value());
        request.insert(QStringLiteral("generationConfig"), gc);
        return request;
    };
    const QJsonObject pack = packRequest({QStringLiteral("a"), QStringLiteral("req-2"), QStringLiteral("3")},
                                         {QStringLiteral("why is the sky blue?"), QStringLiteral("two\nlines"), QString()});
    // A quote ends an id, and the reading of blocks with it: last.
    const QJsonObject oddIds = packRequest(
        {QStringLiteral("\u00e9"), QStringLiteral("back\\slash"), QStringLiteral("tab\tid"), QStringLiteral("\U0001F600"),
         QStringLiteral("ctl\x01"), QStringLiteral("a\"b")},
        {QStringLiteral("caf\u00e9"), QStringLiteral("\"quoted\""), QStringLiteral("\n\nblank lines\n\n"), QStringLiteral("x"),
         QStringLiteral("\u4e2d"), QStringLiteral("y")});
    // Cut after 12 UTF-16 units: `[{"id":"x` and one and a half emoji.
    const QJsonObject splitPair = with(packRequest({QStringLiteral("x\U0001F600\U0001F600\U0001F600")}, {QStringLiteral("q")}),
                                       {{QStringLiteral("maxOutputTokens"), 3}});

    QTest::newRow("plain") << generate << textRequest(QStringLiteral("why is the sky blue?")) << QStringList();
    QTest::newRow("non-ASCII prompt") << generate << textRequest(QStringLiteral("caf\u00e9 \u4e2d \U0001F600 \x01")) << QStringList();
    QTest::newRow("candidates, cut")
        << generate << textRequest(QStringLiteral("hi"), {{QStringLiteral("candidateCount"), 3}, {QStringLiteral("maxOutputTokens"), 7}})
        << QStringList();
    QTest::newRow("json mode") << generate << textRequest(QStringLiteral("caf\u00e9"), json) << QStringList();
    QTest::newRow("json schema")
        << generate
        << textRequest(QStringLiteral("caf\u00e9"),
                       {{QStringLiteral("responseMimeType"), QStringLiteral("application/json")},
                        {QStringLiteral("responseSchema"),
                         QJsonObject{{QStringLiteral("type"), QStringLiteral("OBJECT")},
                                     {QStringLiteral("properties"),
                                      QJsonObject{{QStringLiteral("n"), QJsonObject{{QStringLiteral("type"), QStringLiteral("INTEGER")}}}}}}}})
        << QStringList();
    QTest::newRow("pack") << generate << pack << QStringList();
    QTest::newRow("pack, two candidates") << generate << with(pack, {{QStringLiteral("candidateCount"), 2}}) << QStringList();
    QTest::newRow("pack, cut") << generate << with(pack, {{QStringLiteral("maxOutputTokens"), 20}}) << QStringList();
    QTest::newRow("pack, odd ids") << generate << oddIds << QStringList();
    QTest::newRow("pack, odd ids dropped")
        << generate << oddIds << QStringList{QStringLiteral("\u00e9"), QStringLiteral("tab\tid"), QStringLiteral("none")};
    QTest::newRow("pack, cut in a surrogate pair") << generate << splitPair << QStringList();
    QTest::newRow("pack, no blocks") << generate << packRequest({}, {}) << QStringList();
    QTest::newRow("pack, sse") << sse << oddIds << QStringList();
    QTest::newRow("pack, array stream") << array << pack << QStringList();
    QTest::newRow("plain, sse") << sse << textRequest(QStringLiteral("caf\u00e9")) << QStringList();
}

void TestGeminiSimulator::scannedBodiesAnswerLikeParsedOnes()
{
    // The simulator reads the plain body shape straight from its bytes and any
    // other through QJsonDocument; both must answer alike. An extra key the
    // simulator ignores sends the same request down the general path.
    QFETCH(QString, route);
    QFETCH(QJsonObject, request);
    QFETCH(QStringList, dropIds);
    configure([&](SimulatorConfig &c) { c.packDropIds = dropIds; });
    const QByteArray plain = compact(request);
    SimulatorWire::PlainGenerateRequest scanned;
    QVERIFY(SimulatorWire::scanGenerateRequest(plain, &scanned));
    request.insert(QStringLiteral("safetySettings"), QJsonArray());
    const QByteArray general = compact(request);
    QVERIFY(!SimulatorWire::scanGenerateRequest(general, &scanned));

    const Reply fast = call("POST", route, plain);
    const Reply slow = call("POST", route, general);
    QCOMPARE(fast.status, 200);
    QCOMPARE(slow.status, 200);
    QCOMPARE(withoutResponseIds(fast.body), withoutResponseIds(slow.body));
}

static double norm(const QJsonArray &values)
{
    double s = 0;
    for (const QJsonValue &v : values)
        s += v.toDouble() * v.toDouble();
    return std::sqrt(s);
}

static QJsonObject embedRequest(const QString &text, int dims = 0)
{
    QJsonObject o{{QStringLiteral("content"), QJsonObject{{QStringLiteral("parts"), QJsonArray{QJsonObject{{QStringLiteral("text"), text}}}}}}};
    if (dims > 0)
        o.insert(QStringLiteral("outputDimensionality"), dims);
    return o;
}

void TestGeminiSimulator::embedContent()
{
    const QString path = QStringLiteral("/v1beta/models/gemini-embedding-001:embedContent");
    const Reply a = post(path, embedRequest(QStringLiteral("hello")));
    const Reply b = post(path, embedRequest(QStringLiteral("hello")));
    const Reply c = post(path, embedRequest(QStringLiteral("goodbye")));
    QCOMPARE(a.status, 200);
    const QJsonArray va = a.json[u"embedding"][u"values"].toArray();
    QCOMPARE(va.size(), 768);
    QCOMPARE(va, b.json[u"embedding"][u"values"].toArray());
    QVERIFY(va != c.json[u"embedding"][u"values"].toArray());
    QVERIFY(std::abs(norm(va) - 1.0) < 1e-6);
    const Reply small = post(path, embedRequest(QStringLiteral("hello"), 16));
    QCOMPARE(small.json[u"embedding"][u"values"].toArray().size(), 16);
    QVERIFY(std::abs(norm(small.json[u"embedding"][u"values"].toArray()) - 1.0) < 1e-6);
    // Generation methods are refused on an embedding model and vice versa.
    QCOMPARE(post(QStringLiteral("/v1beta/models/gemini-embedding-001:generateContent"), textRequest(QStringLiteral("x"))).status, 404);
    QCOMPARE(post(QStringLiteral("/v1beta/models/gemini-2.5-flash:embedContent"), embedRequest(QStringLiteral("x"))).status, 404);
}

void TestGeminiSimulator::batchEmbedContents()
{
    const QStringList texts{QStringLiteral("one"), QStringLiteral("two"), QStringLiteral("three")};
    QJsonArray requests;
    for (const QString &t : texts) {
        QJsonObject r = embedRequest(t, 32);
        r.insert(QStringLiteral("model"), QStringLiteral("models/gemini-embedding-001"));
        requests.append(r);
    }
    const Reply r = post(QStringLiteral("/v1beta/models/gemini-embedding-001:batchEmbedContents"),
                         {{QStringLiteral("requests"), requests}});
    QCOMPARE(r.status, 200);
    const QJsonArray embeddings = r.json[u"embeddings"].toArray();
    QCOMPARE(embeddings.size(), 3);
    for (int i = 0; i < 3; ++i) {
        const Reply single = post(QStringLiteral("/v1beta/models/gemini-embedding-001:embedContent"), embedRequest(texts[i], 32));
        QCOMPARE(embeddings[i][u"values"].toArray(), single.json[u"embedding"][u"values"].toArray());
    }
}

void TestGeminiSimulator::batchEmbedOver100()
{
    QJsonArray requests;
    for (int i = 0; i < 101; ++i)
        requests.append(embedRequest(QString::number(i)));
    const Reply r = post(QStringLiteral("/v1beta/models/gemini-embedding-001:batchEmbedContents"),
                         {{QStringLiteral("requests"), requests}});
    QCOMPARE(r.status, 400);
    QCOMPARE(r.json, fixture("error_400_batchEmbedContents_over_100.json"));
}

void TestGeminiSimulator::countTokens()
{
    const QJsonObject request = recordedRequest("recording_countTokens_gemini-2.5-flash.json");
    const Reply r = post(QStringLiteral("/v1beta/models/gemini-2.5-flash:countTokens"), request);
    QCOMPARE(r.status, 200);
    QStringList problems;
    expectShapeWithin(r.json, recordedBody("recording_countTokens_gemini-2.5-flash.json"), QStringLiteral("$"), &problems);
    QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
    const int total = r.json[u"totalTokens"].toInt();
    QCOMPARE(total, 11); // 44 characters
    QCOMPARE(r.json[u"promptTokensDetails"][0][u"tokenCount"].toInt(), total);
    const Reply gen = post(QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent"), request);
    QCOMPARE(gen.json[u"usageMetadata"][u"promptTokenCount"].toInt(), total);
    QCOMPARE(m_sim->stats().route(QStringLiteral("countTokens")), 1);
}

void TestGeminiSimulator::models()
{
    const Reply list = call("GET", QStringLiteral("/v1beta/models"));
    QCOMPARE(list.status, 200);
    const QJsonArray models = list.json[u"models"].toArray();
    QCOMPARE(models.size(), SimulatorConfig::defaultModels().size());
    for (const QJsonValue &m : models) {
        QVERIFY(m[u"name"].toString().startsWith(QLatin1String("models/")));
        QVERIFY(m[u"displayName"].isString());
        QVERIFY(m[u"inputTokenLimit"].toInt() > 0);
        QVERIFY(m[u"outputTokenLimit"].toInt() > 0);
        QVERIFY(!m[u"supportedGenerationMethods"].toArray().isEmpty());
    }
    const Reply one = call("GET", QStringLiteral("/v1beta/models/gemini-2.5-flash"));
    QCOMPARE(one.status, 200);
    QCOMPARE(one.json[u"name"].toString(), QStringLiteral("models/gemini-2.5-flash"));
    QVERIFY(one.json[u"supportedGenerationMethods"].toArray().contains(QStringLiteral("generateContent")));
    const Reply missing = call("GET", QStringLiteral("/v1beta/models/gemini-9"));
    QCOMPARE(missing.status, 404);
    QCOMPARE(missing.json[u"error"][u"status"].toString(), QStringLiteral("NOT_FOUND"));
    QCOMPARE(missing.json[u"error"][u"code"].toInt(), 404);
}

void TestGeminiSimulator::apiKey_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<QString>("query");
    QTest::addColumn<int>("status");
    QTest::newRow("missing") << QByteArray() << QString() << 400;
    QTest::newRow("wrong header") << QByteArray("nope") << QString() << 400;
    QTest::newRow("wrong query") << QByteArray() << QStringLiteral("?key=nope") << 400;
    QTest::newRow("right header") << QByteArray("sekrit") << QString() << 200;
    QTest::newRow("right query") << QByteArray() << QStringLiteral("?key=sekrit") << 200;
}

void TestGeminiSimulator::apiKey()
{
    QFETCH(QByteArray, header);
    QFETCH(QString, query);
    QFETCH(int, status);
    configure([](SimulatorConfig &c) { c.apiKey = QStringLiteral("sekrit"); });
    QList<QPair<QByteArray, QByteArray>> headers;
    if (!header.isEmpty())
        headers.append({"x-goog-api-key", header});
    const Reply r = call("POST", QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent") + query,
                         compact(textRequest(QStringLiteral("hi"))), headers);
    QCOMPARE(r.status, status);
    if (status == 400) {
        const QJsonObject ref = fixture("error_400_api_key_invalid.json");
        QCOMPARE(r.json[u"error"][u"message"], ref[u"error"][u"message"]);
        QCOMPARE(r.json[u"error"][u"status"], ref[u"error"][u"status"]);
        QCOMPARE(r.json[u"error"][u"code"], ref[u"error"][u"code"]);
        const QJsonArray details = r.json[u"error"][u"details"].toArray();
        const QJsonArray refDetails = ref[u"error"][u"details"].toArray();
        QCOMPARE(details.size(), refDetails.size());
        for (int i = 0; i < details.size(); ++i)
            QCOMPARE(details[i][u"@type"], refDetails[i][u"@type"]);
        QCOMPARE(details[0], refDetails[0]); // ErrorInfo API_KEY_INVALID
        QCOMPARE(details[1], refDetails[1]); // LocalizedMessage
    }
}

void TestGeminiSimulator::rpmQuota()
{
    configure([](SimulatorConfig &c) { c.rpmLimit = 2; }); // window 60 s * 0.01 = 600 ms
    const QString path = QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent");
    QCOMPARE(post(path, textRequest(QStringLiteral("a"))).status, 200);
    QCOMPARE(post(path, textRequest(QStringLiteral("b"))).status, 200);
    const Reply r = post(path, textRequest(QStringLiteral("c")));
    QCOMPARE(r.status, 429);
    QCOMPARE(r.headers.value("retry-after"), QByteArray("1"));
    // Other models have their own window.
    QCOMPARE(post(QStringLiteral("/v1beta/models/gemini-2.0-flash:generateContent"), textRequest(QStringLiteral("c"))).status, 200);

    QJsonObject violation;
    QString delay;
    verifyRecordedQuota429(r.json, &violation, &delay);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(violation[u"quotaValue"].toString(), QStringLiteral("2"));
    QCOMPARE(violation[u"quotaDimensions"][u"model"].toString(), QStringLiteral("gemini-2.5-flash"));
    QVERIFY2(delay.endsWith(QLatin1Char('s')), qPrintable(delay));
    const double seconds = delay.chopped(1).toDouble();
    QVERIFY2(seconds > 0 && seconds <= 0.6, qPrintable(delay)); // what is left of the 0.6 s window
    QVERIFY(r.json[u"error"][u"message"].toString().contains(QStringLiteral("Please retry in ") + delay));
    QCOMPARE(m_sim->stats().rateLimited, 1);
    // Once the window has moved on, the request goes through again.
    // (QTRY re-evaluates its expression once more at the end; `passed` keeps that from posting again.)
    bool passed = false;
    QTRY_VERIFY_WITH_TIMEOUT(passed || (passed = post(path, textRequest(QStringLiteral("d"))).status == 200), 3000);
}

void TestGeminiSimulator::tpmQuota()
{
    // TPM counts what Gemini's metric names, the input tokens
    // (generate_content_input_token_count); the answers here are ~600 tokens
    // each and count nothing. Real time (a 60 s window), no service time.
    configure([](SimulatorConfig &c) {
        c.modelLimits.insert(QStringLiteral("gemini-2.5-flash"), {0, 150, 0});
        c.responseWords = 400;
        c.timeScale = 1;
        c.baseLatencyMs = 0;
        c.tokensPerSecond = 0;
    });
    const QString path = QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent");
    const QString prompt40 = QString(160, QLatin1Char('a')); // 40 tokens
    int ok = 0;
    Reply r;
    for (int i = 0; i < 10; ++i) {
        r = post(path, textRequest(prompt40));
        if (r.status != 200)
            break;
        QVERIFY(r.json[u"usageMetadata"][u"candidatesTokenCount"].toInt() > 150);
        ++ok;
    }
    QCOMPARE(ok, 3); // 120 tokens; a fourth would make 160 > 150
    QCOMPARE(r.status, 429);
    const QJsonObject violation = r.json[u"error"][u"details"][1][u"violations"][0].toObject();
    QCOMPARE(violation[u"quotaValue"].toString(), QStringLiteral("150"));
    QCOMPARE(violation[u"quotaId"].toString(), QStringLiteral("GenerateContentInputTokensPerModelPerMinute"));
    // A shorter prompt still fits.
    QCOMPARE(post(path, textRequest(QString(120, QLatin1Char('b')))).status, 200);

    // A prompt larger than the whole limit never fits: wait a full window.
    configure([](SimulatorConfig &c) {
        c.modelLimits.insert(QStringLiteral("gemini-2.5-flash"), {0, 150, 0});
        c.timeScale = 1;
    });
    const Reply big = post(path, textRequest(QString(604, QLatin1Char('c')))); // 151 tokens
    QCOMPARE(big.status, 429);
    QCOMPARE(big.json[u"error"][u"details"][2][u"retryDelay"].toString(), QStringLiteral("60s"));
    QCOMPARE(big.headers.value("retry-after"), QByteArray("60"));
}

void TestGeminiSimulator::quotaRefusalsMatchGemini_data()
{
    QTest::addColumn<QString>("reason");
    QTest::addColumn<QString>("quotaMetric");
    QTest::addColumn<QString>("quotaId");
    QTest::addColumn<int>("limit");
    QTest::addColumn<int>("admitted");       // requests of 4 input tokens that pass first
    QTest::addColumn<double>("windowSeconds"); // the scaled minute, or day
    const QString requests = QStringLiteral("generativelanguage.googleapis.com/generate_content_requests");
    // timeScale 0.1: a 6 s minute and an 8640 s day.
    QTest::newRow("rpm") << "rpm" << requests << "GenerateRequestsPerMinutePerProjectPerModel" << 2 << 2 << 6.0;
    QTest::newRow("tpm") << "tpm" << QStringLiteral("generativelanguage.googleapis.com/generate_content_input_token_count")
                         << "GenerateContentInputTokensPerModelPerMinute" << 10 << 2 << 6.0;
    QTest::newRow("rpd") << "rpd" << requests << "GenerateRequestsPerDayPerProjectPerModel" << 3 << 3 << 8640.0;
}

void TestGeminiSimulator::quotaRefusalsMatchGemini()
{
    QFETCH(QString, reason);
    QFETCH(QString, quotaMetric);
    QFETCH(QString, quotaId);
    QFETCH(int, limit);
    QFETCH(int, admitted);
    QFETCH(double, windowSeconds);
    QElapsedTimer sinceConfig;
    sinceConfig.start();
    configure([&](SimulatorConfig &c) {
        c.timeScale = 0.1;
        c.baseLatencyMs = 0;
        c.tokensPerSecond = 0;
        // The default limits, and a model's own (which replace all three).
        if (reason == QLatin1String("rpm"))
            c.rpmLimit = limit;
        else if (reason == QLatin1String("tpm"))
            c.modelLimits.insert(QStringLiteral("gemini-2.5-flash"), {0, limit, 0});
        else
            c.modelLimits.insert(QStringLiteral("gemini-2.5-flash"), {0, 0, limit});
    });
    const QString path = QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent");
    for (int i = 0; i < admitted; ++i)
        QCOMPARE(post(path, textRequest(QStringLiteral("sixteen chars %1").arg(i))).status, 200);
    const Reply r = post(path, textRequest(QStringLiteral("sixteen chars x")));
    const double elapsed = sinceConfig.elapsed() / 1000.0;
    QCOMPARE(r.status, 429);

    // Exactly the recorded shape: the same details in the same order, with
    // the same keys; Help word for word.
    QJsonObject violation;
    QString delay;
    verifyRecordedQuota429(r.json, &violation, &delay);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(violation[u"quotaMetric"].toString(), quotaMetric);
    QCOMPARE(violation[u"quotaId"].toString(), quotaId);
    QCOMPARE(violation[u"quotaDimensions"][u"model"].toString(), QStringLiteral("gemini-2.5-flash"));
    QCOMPARE(violation[u"quotaDimensions"][u"location"].toString(), QStringLiteral("global"));
    QVERIFY(violation[u"quotaValue"].isString());
    QCOMPARE(violation[u"quotaValue"].toString(), QString::number(limit));

    // RetryInfo: what is left of the window (of the day, counted from the
    // config change), as the message and Retry-After also say.
    QVERIFY2(delay.endsWith(QLatin1Char('s')), qPrintable(delay));
    const double seconds = delay.chopped(1).toDouble();
    QVERIFY2(seconds > 0 && seconds <= windowSeconds, qPrintable(delay));
    if (reason == QLatin1String("rpd"))
        QVERIFY2(seconds >= windowSeconds - elapsed, qPrintable(delay));
    QCOMPARE(r.headers.value("retry-after"), QByteArray::number(qint64(std::ceil(seconds))));
    const QString message = r.json[u"error"][u"message"].toString();
    QVERIFY2(message.contains(QStringLiteral("* Quota exceeded for metric: %1, limit: %2, model: gemini-2.5-flash\nPlease retry in %3.")
                                  .arg(quotaMetric).arg(limit).arg(delay)),
             qPrintable(message));

    // Counted per reason, for benchmarks reading /sim/v1/stats.
    const SimulatorStats stats = m_sim->stats();
    QCOMPARE(stats.rateLimited, 1);
    QCOMPARE(stats.rateLimitedRpm, reason == QLatin1String("rpm") ? 1 : 0);
    QCOMPARE(stats.rateLimitedTpm, reason == QLatin1String("tpm") ? 1 : 0);
    QCOMPARE(stats.rateLimitedRpd, reason == QLatin1String("rpd") ? 1 : 0);
    QCOMPARE(stats.responsesPerStatus.value(429), 1);
    QCOMPARE(stats.route(QStringLiteral("generateContent")), admitted + 1);
    const QJsonObject json = call("GET", QStringLiteral("/sim/v1/stats")).json;
    QCOMPARE(json[u"rateLimited"].toInt(), 1);
    const QJsonObject perReason = json[u"rateLimitedPerReason"].toObject();
    QCOMPARE(perReason.keys(), (QStringList{QStringLiteral("rpd"), QStringLiteral("rpm"), QStringLiteral("tpm")}));
    for (const QString &key : perReason.keys())
        QCOMPARE(perReason[key].toInt(-1), key == reason ? 1 : 0);
    // countTokens is never charged.
    QCOMPARE(post(QStringLiteral("/v1beta/models/gemini-2.5-flash:countTokens"), textRequest(QStringLiteral("x"))).status, 200);
}

void TestGeminiSimulator::rpdResetsAtTheEndOfTheScaledDay()
{
    // timeScale 0.00005: a day lasts 86400 s * 0.00005 = 4.32 s and starts
    // when the config is applied; it is a fixed window, not a sliding one.
    const double daySeconds = 4.32;
    QElapsedTimer sinceConfig;
    sinceConfig.start();
    configure([](SimulatorConfig &c) {
        c.timeScale = 0.00005;
        c.rpdLimit = 2;
    });
    const QString path = QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent");
    QCOMPARE(post(path, textRequest(QStringLiteral("a"))).status, 200);
    QCOMPARE(post(path, textRequest(QStringLiteral("b"))).status, 200);
    const Reply refused = post(path, textRequest(QStringLiteral("c")));
    const double elapsed = double(sinceConfig.nsecsElapsed()) / 1e9;
    QCOMPARE(refused.status, 429);
    const QString delay = refused.json[u"error"][u"details"][2][u"retryDelay"].toString();
    const double seconds = delay.chopped(1).toDouble();
    // The delay is written to the millisecond: 1 ms of slack either way.
    QVERIFY2(seconds <= daySeconds + 0.001 && seconds >= daySeconds - elapsed - 0.001,
             qPrintable(QStringLiteral("%1 after %2 s").arg(delay).arg(elapsed)));
    // Other models have their own day.
    QCOMPARE(post(QStringLiteral("/v1beta/models/gemini-2.0-flash:generateContent"), textRequest(QStringLiteral("c"))).status, 200);

    // The next day admits rpdLimit requests again.
    bool passed = false;
    QTRY_VERIFY_WITH_TIMEOUT(passed || (passed = post(path, textRequest(QStringLiteral("d"))).status == 200), 10000);
    QCOMPARE(post(path, textRequest(QStringLiteral("e"))).status, 200);
    QCOMPARE(post(path, textRequest(QStringLiteral("f"))).status, 429);
    QVERIFY(m_sim->stats().rateLimitedRpd >= 2);
    QCOMPARE(m_sim->stats().rateLimitedRpm + m_sim->stats().rateLimitedTpm, 0);
}

void TestGeminiSimulator::capacityQueuesBeyondMaxConcurrent()
{
    // K = 4, service time 200 ms (20 s * 0.01), no jitter: 16 calls take ~4 service times.
    configure([](SimulatorConfig &c) {
        c.maxConcurrent = 4;
        c.baseLatencyMs = 20000;
        c.tokensPerSecond = 0;
        c.jitterSigma = 0;
    });
    // QNetworkAccessManager opens at most 6 connections per host: use 4 of them.
    std::vector<std::unique_ptr<QNetworkAccessManager>> nams;
    for (int i = 0; i < 4; ++i)
        nams.push_back(std::make_unique<QNetworkAccessManager>());
    int done = 0;
    int ok = 0;
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < 16; ++i) {
        QNetworkRequest req(QUrl(m_sim->baseUrl().toString() + QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent")));
        req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        QNetworkReply *reply = nams[i % 4]->post(req, compact(textRequest(QString::number(i))));
        connect(reply, &QNetworkReply::finished, this, [&, reply] {
            ++done;
            ok += reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() == 200;
            reply->deleteLater();
        });
    }
    QTRY_COMPARE_WITH_TIMEOUT(done, 16, 10000);
    const qint64 elapsed = timer.elapsed();
    QCOMPARE(ok, 16);
    const SimulatorStats s = m_sim->stats();
    QCOMPARE(s.maxInFlight, 4);
    QVERIFY2(s.maxQueued >= 8, qPrintable(QString::number(s.maxQueued)));
    QCOMPARE(s.completed, 16);
    QCOMPARE(s.inFlight, 0);
    QCOMPARE(s.queued, 0);
    QVERIFY2(elapsed >= 750 && elapsed < 5000, qPrintable(QString::number(elapsed)));
}

void TestGeminiSimulator::faults_data()
{
    QTest::addColumn<QString>("fault");
    QTest::addColumn<int>("status");
    QTest::newRow("http500") << "http500" << 500;
    QTest::newRow("http503") << "http503" << 503;
    QTest::newRow("drop") << "drop" << 0;
}

void TestGeminiSimulator::faults()
{
    QFETCH(QString, fault);
    QFETCH(int, status);
    configure([&](SimulatorConfig &c) {
        if (fault == QLatin1String("http500"))
            c.http500Rate = 1.0;
        else if (fault == QLatin1String("http503"))
            c.http503Rate = 1.0;
        else
            c.dropRate = 1.0;
    });
    const Reply r = post(QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent"), textRequest(QStringLiteral("x")));
    QCOMPARE(r.status, status);
    QVERIFY(m_sim->stats().fault(fault) >= 1);
    if (fault == QLatin1String("http503"))
        QCOMPARE(r.json, fixture("error_503_unavailable.json"));
    else if (fault == QLatin1String("http500"))
        QCOMPARE(r.json[u"error"][u"status"].toString(), QStringLiteral("INTERNAL"));
    else
        QVERIFY(r.error != QNetworkReply::NoError && r.body.isEmpty());
    // Reproducible: the same seed gives the same fault sequence at any rate.
    configure([](SimulatorConfig &c) { c.http503Rate = 0.5; });
    QList<int> first;
    for (int i = 0; i < 8; ++i)
        first << post(QStringLiteral("/v1beta/models/gemini-2.5-flash:countTokens"), textRequest(QStringLiteral("x"))).status;
    configure([](SimulatorConfig &c) { c.http503Rate = 0.5; });
    QList<int> second;
    for (int i = 0; i < 8; ++i)
        second << post(QStringLiteral("/v1beta/models/gemini-2.5-flash:countTokens"), textRequest(QStringLiteral("x"))).status;
    QCOMPARE(first, second);
    QVERIFY(first.contains(200) && first.contains(503));
}

void TestGeminiSimulator::timeoutFaultHoldsUntilClientGivesUp()
{
    configure([](SimulatorConfig &c) { c.timeoutRate = 1.0; }); // held 600 s * 0.01 = 6 s
    QElapsedTimer t;
    t.start();
    const Reply r = call("POST", QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent"),
                         compact(textRequest(QStringLiteral("x"))), {}, 300);
    QVERIFY(t.elapsed() >= 250);
    QCOMPARE(r.status, 0);
    QVERIFY(r.error == QNetworkReply::OperationCanceledError || r.error == QNetworkReply::TimeoutError);
    QCOMPARE(m_sim->stats().fault(QStringLiteral("timeout")), 1);
    // A short hold closes the connection unanswered.
    configure([](SimulatorConfig &c) { c.timeoutRate = 1.0; c.timeoutHoldMs = 100; c.timeScale = 1; });
    const Reply closed = post(QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent"), textRequest(QStringLiteral("y")));
    QCOMPARE(closed.status, 0);
    QVERIFY(closed.error != QNetworkReply::NoError);
}

void TestGeminiSimulator::badInput_data()
{
    QTest::addColumn<QString>("method");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("field");
    QTest::newRow("invalid json") << "generateContent" << QByteArray("{\"contents\": [") << "Invalid JSON payload";
    QTest::newRow("not an object") << "generateContent" << QByteArray("[1,2]") << "Invalid JSON payload";
    QTest::newRow("no contents") << "generateContent" << QByteArray("{}") << "contents";
    QTest::newRow("contents string") << "generateContent" << QByteArray(R"({"contents":"hi"})") << "'contents'";
    QTest::newRow("empty parts") << "generateContent" << QByteArray(R"({"contents":[{"parts":[]}]})") << "contents[0].parts";
    QTest::newRow("text number") << "generateContent" << QByteArray(R"({"contents":[{"parts":[{"text":123}]}]})")
                                 << "contents[0].parts[0].text";
    QTest::newRow("empty part") << "streamGenerateContent" << QByteArray(R"({"contents":[{"parts":[{}]}]})")
                                << "contents[0].parts[0].data";
    QTest::newRow("maxOutputTokens string") << "generateContent"
        << QByteArray(R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"maxOutputTokens":"many"}})")
        << "generation_config.max_output_tokens";
    QTest::newRow("generationConfig array") << "generateContent"
        << QByteArray(R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":[]})") << "generation_config";
    QTest::newRow("embed no content") << "embedContent" << QByteArray("{}") << "content";
    QTest::newRow("embed bad dims") << "embedContent"
        << QByteArray(R"({"content":{"parts":[{"text":"x"}]},"outputDimensionality":0})") << "output_dimensionality";
    QTest::newRow("batch no requests") << "batchEmbedContents" << QByteArray("{}") << "requests";
    QTest::newRow("batch bad member") << "batchEmbedContents" << QByteArray(R"({"requests":[{"content":{}}]})")
                                      << "requests[0].content";
    QTest::newRow("count no contents") << "countTokens" << QByteArray("{}") << "contents";
}

void TestGeminiSimulator::badInput()
{
    QFETCH(QString, method);
    QFETCH(QByteArray, body);
    QFETCH(QString, field);
    const QString model = method.contains(QLatin1String("mbed")) ? QStringLiteral("gemini-embedding-001") : QStringLiteral("gemini-2.5-flash");
    const Reply r = call("POST", QStringLiteral("/v1beta/models/%1:%2").arg(model, method), body);
    QCOMPARE(r.status, 400);
    QCOMPARE(r.json[u"error"][u"code"].toInt(), 400);
    QCOMPARE(r.json[u"error"][u"status"].toString(), QStringLiteral("INVALID_ARGUMENT"));
    const QString message = r.json[u"error"][u"message"].toString();
    QVERIFY2(message.contains(field), qPrintable(message));
}

void TestGeminiSimulator::controlRoutes()
{
    Reply r = call("GET", QStringLiteral("/sim/v1/config"));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json, m_sim->config().toJson());
    r = call("PATCH", QStringLiteral("/sim/v1/config"), R"({"maxConcurrent":0})");
    QCOMPARE(r.status, 400);
    QVERIFY(r.json[u"error"][u"message"].toString().contains(QLatin1String("maxConcurrent")));
    QCOMPARE(m_sim->config().maxConcurrent, m_base.maxConcurrent);
    r = call("PATCH", QStringLiteral("/sim/v1/config"), R"({"rpmLimit":5,"http503Rate":0.1})");
    QCOMPARE(r.status, 200);
    QCOMPARE(m_sim->config().rpmLimit, 5);
    QCOMPARE(m_sim->config().http503Rate, 0.1);
    QCOMPARE(m_sim->config().timeScale, m_base.timeScale); // PATCH keeps the other fields
    post(QStringLiteral("/v1beta/models/gemini-2.5-flash:countTokens"), textRequest(QStringLiteral("x")));
    r = call("GET", QStringLiteral("/sim/v1/stats"));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json[u"callsPerRoute"][u"countTokens"].toInt(), 1);
    QCOMPARE(r.json[u"callsPerRoute"][u"simConfig"].toInt(), 3);
    QCOMPARE(r.json[u"callsPerModel"][u"gemini-2.5-flash"].toInt(), 1);
    for (const char *key : {"inFlight", "queued", "rateLimited", "faults", "maxInFlight", "responsesPerStatus"})
        QVERIFY2(r.json.contains(QLatin1String(key)), key);
}

void TestGeminiSimulator::garbageDoesNotCrash_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QByteArray>("statusLine");
    QTest::newRow("garbage") << QByteArray("\x01\x02 nonsense\r\n\r\n", 15) << QByteArray("HTTP/1.1 400");
    QTest::newRow("bad version") << QByteArray("GET / HTTP/9\r\n\r\n") << QByteArray("HTTP/1.1 400");
    QTest::newRow("bad header") << QByteArray("GET / HTTP/1.1\r\nno colon\r\n\r\n") << QByteArray("HTTP/1.1 400");
    QTest::newRow("huge request line") << QByteArray("GET /") + QByteArray(200000, 'a') << QByteArray("HTTP/1.1 414");
    QTest::newRow("huge body") << QByteArray("POST /v1beta/models/x:generateContent HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n")
                               << QByteArray("HTTP/1.1 413");
    QTest::newRow("bad length") << QByteArray("POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n") << QByteArray("HTTP/1.1 400");
    // Found by tests/fuzz/fuzz_simhttpconnection: the last of two lengths was taken.
    QTest::newRow("two different lengths")
        << QByteArray("GET /v1beta/models/gemini-2.5-flash HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 2\r\n\r\nxx")
        << QByteArray("HTTP/1.1 400");
    QTest::newRow("two spaces") << QByteArray("GET  / HTTP/1.1\r\n\r\n") << QByteArray("HTTP/1.1 400");
    QTest::newRow("four parts") << QByteArray("GET / x HTTP/1.1\r\n\r\n") << QByteArray("HTTP/1.1 400");
    QTest::newRow("lower-case method") << QByteArray("get / HTTP/1.1\r\n\r\n") << QByteArray("HTTP/1.1 400");
    QTest::newRow("space in header name") << QByteArray("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n") << QByteArray("HTTP/1.1 400");
    QTest::newRow("folded header line") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\n  y\r\n\r\n") << QByteArray("HTTP/1.1 400");
    QTest::newRow("control character in a header") << QByteArray("GET / HTTP/1.1\r\nHost: x\x01\r\n\r\n") << QByteArray("HTTP/1.1 400");
}

void TestGeminiSimulator::garbageDoesNotCrash()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QByteArray, statusLine);
    const QByteArray got = raw(bytes, true);
    QVERIFY2(got.startsWith(statusLine), got.left(80).constData());
    QVERIFY(got.contains("Connection: close"));
    QVERIFY(m_sim->stats().badRequests >= 1);
    QCOMPARE(call("GET", QStringLiteral("/v1beta/models/gemini-2.5-flash")).status, 200);
}

void TestGeminiSimulator::keepAliveAndConnectionClose()
{
    // Two pipelined requests on one connection, both answered in order; the
    // second asks to close, and the server closes after answering.
    const QByteArray get = "GET /v1beta/models/gemini-2.5-flash HTTP/1.1\r\nHost: x\r\n\r\n";
    const QByteArray getClose = "GET /v1beta/models/gemini-2.0-flash HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    const int before = m_sim->stats().openConnections; // m_nam keeps its own connections open
    const QByteArray got = raw(get + getClose, true);
    QCOMPARE(got.count("HTTP/1.1 200 OK"), 2);
    QVERIFY(got.indexOf("gemini-2.5-flash") < got.indexOf("gemini-2.0-flash"));
    QCOMPARE(got.count("Connection: close"), 1);
    QTRY_COMPARE(m_sim->stats().openConnections, before);
}

void TestGeminiSimulator::headLinesAreReadLeniently()
{
    // Bare '\n' line ends, whitespace around the request line and header
    // values, and stray CRLFs before a request are all accepted.
    const QByteArray got = raw("\r\n\r\n GET /v1beta/models/gemini-2.5-flash HTTP/1.1 \nHost:x\nX-A: \t v \t\r\n"
                               "Content-Length:  0  \r\nConnection: Close\r\n\r\n", true);
    QVERIFY2(got.startsWith("HTTP/1.1 200 OK"), got.left(80).constData());
    QVERIFY(got.contains("gemini-2.5-flash"));
    QVERIFY(got.contains("Connection: close"));
}

namespace {

QJsonObject withTier(QJsonObject request, const char *key, const QJsonValue &tier)
{
    request.insert(QLatin1String(key), tier);
    return request;
}

// "gfet4t7; dur=N" -> N, the scaled service time of the answer.
int serverTimingMs(const Reply &r)
{
    const QByteArray v = r.headers.value("server-timing");
    const qsizetype at = v.indexOf("dur=");
    return at < 0 ? -1 : v.mid(at + 4).toInt();
}

QStringList keyPathsOf(const QJsonValue &v, const QString &prefix = {})
{
    QStringList paths;
    if (v.isObject()) {
        const QJsonObject o = v.toObject();
        for (auto it = o.begin(); it != o.end(); ++it) {
            const QString path = prefix.isEmpty() ? it.key() : prefix + QLatin1Char('.') + it.key();
            paths << path << keyPathsOf(it.value(), path);
        }
    } else if (v.isArray()) {
        for (const QJsonValue &e : v.toArray())
            paths << keyPathsOf(e, prefix + QStringLiteral("[]"));
    }
    paths.removeDuplicates();
    paths.sort();
    return paths;
}

QJsonObject batchBody(const QJsonArray &members, const QString &displayName = QStringLiteral("capitals-batch"))
{
    return QJsonObject{{QStringLiteral("batch"),
                        QJsonObject{{QStringLiteral("displayName"), displayName},
                                    {QStringLiteral("inputConfig"),
                                     QJsonObject{{QStringLiteral("requests"),
                                                  QJsonObject{{QStringLiteral("requests"), members}}}}}}}};
}

} // namespace

void TestGeminiSimulator::serviceTierScalesServiceTime()
{
    // No jitter and no decode time: Server-Timing reports the tier's exact
    // service time (baseLatencyMs * timeScale * factor).
    configure([](SimulatorConfig &c) {
        c.jitterSigma = 0;
        c.tokensPerSecond = 0;
        c.baseLatencyMs = 2000; // 20 ms at timeScale 0.01
        c.flexLatencyFactor = 4;
        c.priorityLatencyFactor = 0.5;
    });
    const QString path = QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent");
    const QJsonObject request = textRequest(QStringLiteral("tiers"));
    const Reply standard = post(path, request);
    const Reply unspecified = post(path, withTier(request, "serviceTier", QStringLiteral("unspecified")));
    const Reply flex = post(path, withTier(request, "serviceTier", QStringLiteral("flex")));
    const Reply priority = post(path, withTier(request, "service_tier", QStringLiteral("priority")));
    for (const Reply *r : {&standard, &unspecified, &flex, &priority})
        QCOMPARE(r->status, 200);
    QCOMPARE(serverTimingMs(standard), 20);
    QCOMPARE(serverTimingMs(unspecified), 20);
    QCOMPARE(serverTimingMs(flex), 80);
    QCOMPARE(serverTimingMs(priority), 10);
    // The tier changes when, never what.
    QCOMPARE(firstText(flex.json), firstText(standard.json));
    QCOMPARE(flex.json[u"usageMetadata"], standard.json[u"usageMetadata"]);

    // Streaming too.
    const Reply stream = post(QStringLiteral("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"),
                              withTier(request, "serviceTier", QStringLiteral("flex")));
    QCOMPARE(stream.status, 200);
    QCOMPARE(serverTimingMs(stream), 80);

    const Reply stats = call("GET", QStringLiteral("/sim/v1/stats"));
    QCOMPARE(stats.json[u"callsPerTier"].toObject(),
             (QJsonObject{{QStringLiteral("standard"), 2}, {QStringLiteral("flex"), 2}, {QStringLiteral("priority"), 1}}));
    QCOMPARE(stats.json[u"flexShed"].toInt(), 0);
    QCOMPARE(m_sim->stats().tier(QStringLiteral("flex")), 2);
    // countTokens has no tier.
    QCOMPARE(post(QStringLiteral("/v1beta/models/gemini-2.5-flash:countTokens"),
                  withTier(request, "serviceTier", QStringLiteral("flex"))).status, 200);
    QCOMPARE(m_sim->stats().tier(QStringLiteral("flex")), 2);
}

void TestGeminiSimulator::serviceTierRefusesUnknownValues()
{
    for (const QString &route : {QStringLiteral("generateContent"), QStringLiteral("streamGenerateContent?alt=sse")}) {
        const Reply r = post(QStringLiteral("/v1beta/models/gemini-2.5-flash:") + route,
                             withTier(textRequest(QStringLiteral("x")), "serviceTier", QStringLiteral("turbo")));
        QCOMPARE(r.status, 400);
        QCOMPARE(r.json[u"error"][u"status"].toString(), QStringLiteral("INVALID_ARGUMENT"));
        const QString message = r.json[u"error"][u"message"].toString();
        for (const char *word : {"serviceTier", "\"turbo\"", "\"standard\"", "\"flex\"", "\"priority\""})
            QVERIFY2(message.contains(QLatin1String(word)), qPrintable(message));
    }
    QCOMPARE(m_sim->stats().callsPerTier.value(QStringLiteral("standard")), 0);
}

void TestGeminiSimulator::flexIsShed()
{
    configure([](SimulatorConfig &c) {
        c.flexShedRate = 1.0;
        c.rpmLimit = 1;
    });
    const QString path = QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent");
    const Reply shed = post(path, withTier(textRequest(QStringLiteral("x")), "serviceTier", QStringLiteral("flex")));
    QCOMPARE(shed.status, 503);
    const QJsonObject ref = fixture("error_503_unavailable.json");
    QCOMPARE(keyPathsOf(shed.json), keyPathsOf(ref));
    QCOMPARE(shed.json[u"error"][u"code"], ref[u"error"][u"code"]);
    QCOMPARE(shed.json[u"error"][u"status"], ref[u"error"][u"status"]);
    const QString message = shed.json[u"error"][u"message"].toString();
    QVERIFY2(message.contains(QLatin1String("flex")) && message.contains(QLatin1String("standard tier")), qPrintable(message));
    // A shed request is charged no quota: the one standard request of the minute still fits.
    QCOMPARE(post(path, textRequest(QStringLiteral("x"))).status, 200);
    const SimulatorStats s = m_sim->stats();
    QCOMPARE(s.flexShed, 1);
    QCOMPARE(s.tier(QStringLiteral("flex")), 0);
    QCOMPARE(s.tier(QStringLiteral("standard")), 1);
    QCOMPARE(s.fault(QStringLiteral("http503")), 0); // apart from the other faults

    // At a partial rate, reproducible per seed, and standard never shed.
    QList<int> first;
    QList<int> second;
    for (QList<int> *run : {&first, &second}) {
        configure([](SimulatorConfig &c) { c.flexShedRate = 0.5; });
        for (int i = 0; i < 10; ++i)
            *run << post(path, withTier(textRequest(QStringLiteral("y")), "serviceTier", QStringLiteral("flex"))).status;
        QCOMPARE(post(path, textRequest(QStringLiteral("y"))).status, 200);
    }
    QCOMPARE(first, second);
    QVERIFY(first.contains(200) && first.contains(503));
}

void TestGeminiSimulator::priorityHasItsOwnRequestLimit()
{
    configure([](SimulatorConfig &c) {
        c.rpmLimit = 1;
        c.priorityRpmLimit = 1;
        c.timeScale = 1; // a real minute: nothing leaves the windows during the test
    });
    const QString path = QStringLiteral("/v1beta/models/gemini-2.5-flash:generateContent");
    const QJsonObject request = textRequest(QStringLiteral("p"));
    const QJsonObject priority = withTier(request, "serviceTier", QStringLiteral("priority"));
    QCOMPARE(post(path, request).status, 200);
    QCOMPARE(post(path, request).status, 429);
    QCOMPARE(post(path, priority).status, 200); // its own window
    const Reply refused = post(path, priority);
    QCOMPARE(refused.status, 429);
    QJsonObject violation;
    QString delay;
    verifyRecordedQuota429(refused.json, &violation, &delay);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(violation[u"quotaValue"].toString(), QStringLiteral("1"));
    QCOMPARE(violation[u"quotaId"].toString(), QStringLiteral("GenerateRequestsPerMinutePerProjectPerModel"));
    // Flex counts against the standard window, which is full.
    QCOMPARE(post(path, withTier(request, "serviceTier", QStringLiteral("flex"))).status, 429);
    const SimulatorStats s = m_sim->stats();
    QCOMPARE(s.rateLimitedRpm, 3);
    QCOMPARE(s.tier(QStringLiteral("standard")), 1);
    QCOMPARE(s.tier(QStringLiteral("priority")), 1);

    // With priorityRpmLimit 0 priority is unlimited by requests, whatever rpmLimit says.
    configure([](SimulatorConfig &c) {
        c.rpmLimit = 1;
        c.timeScale = 1;
    });
    for (int i = 0; i < 3; ++i)
        QCOMPARE(post(path, priority).status, 200);
}

void TestGeminiSimulator::batchJobLifecycle()
{
    // 2000 ms pending and 5000 ms running at timeScale 0.01: 20 ms and 50 ms.
    // The quota does not apply to Batch Mode: after a batch of three, two
    // direct calls still fit rpmLimit 2 (a 0.6 s window at timeScale 0.01).
    configure([](SimulatorConfig &c) {
        c.rpmLimit = 2;
        c.batchPendingMs = 2000;
        c.batchRunMs = 5000;
    });
    const QJsonObject fr = textRequest(QStringLiteral("What is the capital of France?"));
    const QJsonObject jp = textRequest(QStringLiteral("What is the capital of Japan?"), {{QStringLiteral("maxOutputTokens"), 4}});
    const QJsonArray members{
        QJsonObject{{QStringLiteral("request"), fr}, {QStringLiteral("metadata"), QJsonObject{{QStringLiteral("key"), QStringLiteral("fr")}}}},
        QJsonObject{{QStringLiteral("request"), jp}},
        QJsonObject{{QStringLiteral("request"), QJsonObject{{QStringLiteral("contents"), QJsonArray{}}}}},
    };
    const Reply created = post(QStringLiteral("/v1beta/models/gemini-2.5-flash-lite:batchGenerateContent"), batchBody(members));
    QCOMPARE(created.status, 200);
    const QJsonObject pendingRef = fixture("batch_operation_pending.json");
    QCOMPARE(keyPathsOf(created.json), keyPathsOf(pendingRef));
    const QString name = created.json[u"name"].toString();
    QVERIFY2(QRegularExpression(QStringLiteral("^batches/[a-z0-9]+$")).match(name).hasMatch(), qPrintable(name));
    QCOMPARE(created.json[u"metadata"][u"name"].toString(), name);
    QCOMPARE(created.json[u"metadata"][u"@type"], pendingRef[u"metadata"][u"@type"]);
    QCOMPARE(created.json[u"metadata"][u"model"].toString(), QStringLiteral("models/gemini-2.5-flash-lite"));
    QCOMPARE(created.json[u"metadata"][u"displayName"].toString(), QStringLiteral("capitals-batch"));
    QCOMPARE(created.json[u"metadata"][u"state"].toString(), QStringLiteral("BATCH_STATE_PENDING"));
    QCOMPARE(created.json[u"metadata"][u"batchStats"].toObject(),
             (QJsonObject{{QStringLiteral("requestCount"), QStringLiteral("3")},
                          {QStringLiteral("pendingRequestCount"), QStringLiteral("3")}}));
    const QRegularExpression rfc3339(QStringLiteral("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z$"));
    QVERIFY(rfc3339.match(created.json[u"metadata"][u"createTime"].toString()).hasMatch());
    QCOMPARE(created.json[u"metadata"][u"updateTime"], created.json[u"metadata"][u"createTime"]);

    // PENDING -> RUNNING -> SUCCEEDED, seen by polling (bounded).
    QSet<QString> seen;
    Reply got;
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < 10000) {
        got = call("GET", QStringLiteral("/v1beta/") + name);
        QCOMPARE(got.status, 200);
        seen.insert(got.json[u"metadata"][u"state"].toString());
        if (got.json[u"done"].toBool())
            break;
        QTest::qWait(2);
    }
    QCOMPARE(got.json[u"metadata"][u"state"].toString(), QStringLiteral("BATCH_STATE_SUCCEEDED"));
    QVERIFY2(seen.contains(QStringLiteral("BATCH_STATE_RUNNING")) || seen.size() == 1, "states are never skipped over");

    const QJsonObject doneRef = fixture("batch_operation_succeeded.json");
    QCOMPARE(got.json[u"response"][u"@type"], doneRef[u"response"][u"@type"]);
    QVERIFY(rfc3339.match(got.json[u"metadata"][u"endTime"].toString()).hasMatch());
    QCOMPARE(got.json[u"metadata"][u"batchStats"].toObject(),
             (QJsonObject{{QStringLiteral("requestCount"), QStringLiteral("3")},
                          {QStringLiteral("successfulRequestCount"), QStringLiteral("2")},
                          {QStringLiteral("failedRequestCount"), QStringLiteral("1")}}));
    // Every key the recording has is there (the answers add responseId,
    // promptTokensDetails and the members' metadata; metadata.output is
    // where the SDK reads the results).
    QStringList problems;
    for (const QString &p : keyPathsOf(doneRef)) {
        if (!keyPathsOf(got.json).contains(p))
            problems << p;
    }
    QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char(' '))));

    const QJsonArray answers = got.json[u"response"][u"inlinedResponses"][u"inlinedResponses"].toArray();
    QCOMPARE(answers.size(), 3);
    QCOMPARE(got.json[u"metadata"][u"output"][u"inlinedResponses"][u"inlinedResponses"].toArray(), answers);
    QCOMPARE(answers[0][u"metadata"].toObject(), (QJsonObject{{QStringLiteral("key"), QStringLiteral("fr")}}));
    // What generateContent answers for the same request.
    for (int i = 0; i < 2; ++i) {
        const Reply direct = post(QStringLiteral("/v1beta/models/gemini-2.5-flash-lite:generateContent"), i == 0 ? fr : jp);
        QCOMPARE(direct.status, 200);
        const QJsonObject answer = answers[i][u"response"].toObject();
        QCOMPARE(answer[u"candidates"], direct.json[u"candidates"]);
        QCOMPARE(answer[u"usageMetadata"], direct.json[u"usageMetadata"]);
        QCOMPARE(answer[u"modelVersion"], direct.json[u"modelVersion"]);
    }
    QCOMPARE(answers[1][u"response"][u"candidates"][0][u"finishReason"].toString(), QStringLiteral("MAX_TOKENS"));
    const QJsonObject failed = answers[2].toObject();
    QCOMPARE(failed.keys(), QStringList{QStringLiteral("error")});
    QCOMPARE(failed[u"error"][u"code"].toInt(), 400);
    QCOMPARE(failed[u"error"][u"status"].toString(), QStringLiteral("INVALID_ARGUMENT"));
    QVERIFY(failed[u"error"][u"message"].toString().contains(QLatin1String("contents is not specified")));

    const Reply stats = call("GET", QStringLiteral("/sim/v1/stats"));
    QCOMPARE(stats.json[u"batchJobs"].toObject(),
             (QJsonObject{{QStringLiteral("created"), 1}, {QStringLiteral("pending"), 0}, {QStringLiteral("running"), 0},
                          {QStringLiteral("succeeded"), 1}, {QStringLiteral("cancelled"), 0}}));
    QCOMPARE(stats.json[u"batchRequests"].toInt(), 3);
    QCOMPARE(stats.json[u"rateLimited"].toInt(), 0);
    QCOMPARE(stats.json[u"callsPerRoute"][u"batchGenerateContent"].toInt(), 1);
}

void TestGeminiSimulator::batchRoutes()
{
    configure([](SimulatorConfig &c) {
        c.batchPendingMs = 3600000; // stays PENDING (36 s at timeScale 0.01)
        c.apiKey = QStringLiteral("k");
    });
    const QList<QPair<QByteArray, QByteArray>> key{{"x-goog-api-key", "k"}};
    const QString create = QStringLiteral("/v1beta/models/gemini-2.5-flash:batchGenerateContent");
    const QJsonArray one{QJsonObject{{QStringLiteral("request"), textRequest(QStringLiteral("x"))}}};
    auto body = [](const QJsonObject &o) { return compact(o); };

    QCOMPARE(call("POST", create, body(batchBody(one))).status, 400); // no key
    QCOMPARE(call("GET", QStringLiteral("/v1beta/batches")).status, 400);
    Reply r = call("POST", create, body(batchBody(one)), key);
    QCOMPARE(r.status, 200);
    const QString name = r.json[u"name"].toString();
    QCOMPARE(m_sim->stats().batchJobsPending, 1);
    r = call("POST", create, body(batchBody(one, QStringLiteral("second"))), key);
    QCOMPARE(r.status, 200);
    const QString second = r.json[u"name"].toString();
    QVERIFY(second != name);

    // List, newest first, one page at a time (jobs of earlier tests are kept too).
    QStringList listed;
    QString token;
    do {
        r = call("GET", QStringLiteral("/v1beta/batches?pageSize=1&pageToken=") + token, {}, key);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json[u"operations"].toArray().size(), 1);
        listed << r.json[u"operations"][0][u"name"].toString();
        token = r.json[u"nextPageToken"].toString();
    } while (!token.isEmpty() && listed.size() < 100);
    QCOMPARE(listed.mid(0, 2), (QStringList{second, name}));
    QCOMPARE(listed.count(name), 1);

    // Cancel, then it is finished.
    r = call("POST", QStringLiteral("/v1beta/") + name + QStringLiteral(":cancel"), "{}", key);
    QCOMPARE(r.status, 200);
    r = call("GET", QStringLiteral("/v1beta/") + name, {}, key);
    QCOMPARE(r.json[u"metadata"][u"state"].toString(), QStringLiteral("BATCH_STATE_CANCELLED"));
    QCOMPARE(r.json[u"done"].toBool(), true);
    QCOMPARE(call("POST", QStringLiteral("/v1beta/") + name + QStringLiteral(":cancel"), "{}", key).status, 400);
    QCOMPARE(m_sim->stats().batchJobsPending, 1);
    QCOMPARE(m_sim->stats().batchJobsCancelled, 1);
    // Delete.
    QCOMPARE(call("DELETE", QStringLiteral("/v1beta/") + name, {}, key).status, 200);
    r = call("GET", QStringLiteral("/v1beta/") + name, {}, key);
    QCOMPARE(r.status, 404);
    QCOMPARE(r.json[u"error"][u"status"].toString(), QStringLiteral("NOT_FOUND"));
    QCOMPARE(call("GET", QStringLiteral("/v1beta/batches/nosuchbatch"), {}, key).status, 404);
    QCOMPARE(call("POST", QStringLiteral("/v1beta/batches/nosuchbatch:cancel"), "{}", key).status, 404);

    // Refused envelopes name the field.
    struct Bad {
        QByteArray body;
        const char *words;
    };
    const QList<Bad> bad{
        {R"({"batch":{"inputConfig":{"requests":{"requests":[]}}}})", "batch.inputConfig.requests.requests"},
        {R"({"batch":{"inputConfig":{"fileName":"files/x"}}})", "inline requests only"},
        {R"({"batch":{"model":"models/gemini-2.5-pro","inputConfig":{"requests":{"requests":[{"request":{}}]}}}})", "batch.model"},
    };
    for (const Bad &b : bad) {
        r = call("POST", create, b.body, key);
        QCOMPARE(r.status, 400);
        QVERIFY2(r.json[u"error"][u"message"].toString().contains(QLatin1String(b.words)), r.body.constData());
    }
    // An embedding model has no batchGenerateContent.
    QCOMPARE(call("POST", QStringLiteral("/v1beta/models/gemini-embedding-001:batchGenerateContent"), body(batchBody(one)), key).status,
             404);
    // Over 20 MB of inline requests.
    QJsonObject big = batchBody(one, QString(SimulatorRequestReader::kMaxBatchBodyBytes, QLatin1Char('a')));
    r = call("POST", create, body(big), key);
    QCOMPARE(r.status, 400);
    QVERIFY(r.json[u"error"][u"message"].toString().contains(QLatin1String("20971520")));
}

QTEST_GUILESS_MAIN(TestGeminiSimulator)

#include "tst_geminisimulator.moc"
