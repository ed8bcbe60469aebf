// SimulatorRequestReader: which bodies become which validated requests, and
// which get Gemini's 400 naming which field; the plain shape is scanned, any
// other parsed, and both read alike.
#include "server/simulator/simulatorrequestreader.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

namespace {

QString promptOf(const SimulatorRequestReader::GenerateRequest &r)
{
    return r.scanned ? QString::fromUtf8(r.promptUtf8) : r.prompt.text;
}

QString messageOf(const SimulatorRequestReader::Failure &f)
{
    return QJsonDocument::fromJson(f.body).object()[u"error"][u"message"].toString();
}

void expectInvalidArgument(const SimulatorRequestReader::Failure &f, const QString &field)
{
    QCOMPARE(f.status, 400);
    const QJsonObject error = QJsonDocument::fromJson(f.body).object()[u"error"].toObject();
    QCOMPARE(error[u"code"].toInt(), 400);
    QCOMPARE(error[u"status"].toString(), QStringLiteral("INVALID_ARGUMENT"));
    QVERIFY2(error[u"message"].toString().contains(field), qPrintable(error[u"message"].toString()));
}

const QByteArray kPackSchema =
    R"({"type":"ARRAY","items":{"type":"OBJECT","properties":{"id":{"type":"STRING"},"text":{"type":"STRING"}}}})";

} // namespace

class TestSimulatorRequestReader : public QObject
{
    Q_OBJECT
private slots:
    void readGenerate_data();
    void readGenerate();
    void readGenerateRefuses_data();
    void readGenerateRefuses();
    void generationConfigCacheFollowsTheBytes();
    void readEmbed_data();
    void readEmbed();
    void readCountTokens_data();
    void readCountTokens();
    void serviceTier_data();
    void serviceTier();
    void readBatch();
    void readBatchRefuses_data();
    void readBatchRefuses();
};

void TestSimulatorRequestReader::readGenerate_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<bool>("scanned");
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<int>("promptTokens");
    QTest::addColumn<int>("maxOutputTokens");
    QTest::addColumn<int>("candidateCount");
    QTest::addColumn<bool>("jsonMode");
    QTest::addColumn<bool>("packSchema");

    QTest::newRow("plain") << QByteArray(R"({"contents":[{"parts":[{"text":"why is the sky blue?"}],"role":"user"}]})")
                           << true << "why is the sky blue?" << 5 << 0 << 1 << false << false;
    QTest::newRow("parts and turns joined with newlines")
        << QByteArray(R"({"contents":[{"parts":[{"text":"ab"},{"text":"cd"}]},{"role":"model","parts":[{"text":"e"}]}]})")
        << true << "ab\ncd\ne" << 2 << 0 << 1 << false << false;
    QTest::newRow("empty body text") << QByteArray(R"({"contents":[{"parts":[{"text":""}]}]})")
                                     << true << "" << 1 << 0 << 1 << false << false;
    QTest::newRow("non-ASCII counts UTF-16 units")
        << QByteArray("{\"contents\":[{\"parts\":[{\"text\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}]}]}")
        << true << QStringLiteral("caf\u00e9 \U0001F600") << 2 << 0 << 1 << false << false;
    QTest::newRow("generationConfig")
        << QByteArray(R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"maxOutputTokens":7,"candidateCount":3,"temperature":0.5}})")
        << true << "x" << 1 << 7 << 3 << false << false;
    QTest::newRow("integers as strings")
        << QByteArray(R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"maxOutputTokens":"12","candidateCount":"2"}})")
        << true << "x" << 1 << 12 << 2 << false << false;
    QTest::newRow("json mode") << QByteArray(R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json"}})")
                               << true << "x" << 1 << 0 << 1 << true << false;
    QTest::newRow("pack schema")
        << QByteArray(R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json","responseSchema":)"
                      + kPackSchema + "}}")
        << true << "x" << 1 << 0 << 1 << true << true;
    QTest::newRow("pack schema, JSON Schema spelling")
        << QByteArray(R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json",)"
                      R"("responseJsonSchema":{"type":"array","items":{"type":"object","properties":{"id":{},"text":{}}}}}})")
        << true << "x" << 1 << 0 << 1 << true << true;
    QTest::newRow("other schema")
        << QByteArray(R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json","responseSchema":{"type":"OBJECT"}}})")
        << true << "x" << 1 << 0 << 1 << true << false;
    // Shapes the scanner leaves to QJsonDocument.
    QTest::newRow("snake_case")
        << QByteArray(R"({"contents":[{"parts":[{"text":"x"}]}],"generation_config":{"max_output_tokens":9,"response_mime_type":"application/json"}})")
        << false << "x" << 1 << 9 << 1 << true << false;
    QTest::newRow("system instruction adds its tokens")
        << QByteArray(R"({"contents":[{"parts":[{"text":"12345"}]}],"systemInstruction":{"parts":[{"text":"be brief"}]}})")
        << false << "12345" << 4 << 0 << 1 << false << false;
    QTest::newRow("an image costs 258 tokens")
        << QByteArray(R"({"contents":[{"parts":[{"text":"what is it?"},{"inlineData":{"mimeType":"image/png","data":"AA=="}}]}]})")
        << false << "what is it?" << 3 + 258 << 0 << 1 << false << false;
    QTest::newRow("unknown fields ignored")
        << QByteArray(R"({"contents":[{"parts":[{"text":"x"}]}],"safetySettings":[],"generationConfig":{"topK":3,"thinkingConfig":{}}})")
        << false << "x" << 1 << 0 << 1 << false << false;
    QTest::newRow("whitespace") << QByteArray(" {\n \"contents\" : [ { \"parts\" : [ { \"text\" : \"x\" } ] } ] }\n")
                                << true << "x" << 1 << 0 << 1 << false << false;
}

void TestSimulatorRequestReader::readGenerate()
{
    QFETCH(QByteArray, body);
    QFETCH(bool, scanned);
    QFETCH(QString, prompt);
    QFETCH(int, promptTokens);
    QFETCH(int, maxOutputTokens);
    QFETCH(int, candidateCount);
    QFETCH(bool, jsonMode);
    QFETCH(bool, packSchema);
    SimulatorRequestReader reader;
    SimulatorRequestReader::GenerateRequest r;
    const SimulatorRequestReader::Failure f = reader.readGenerate(body, &r);
    QVERIFY2(f.isNull(), f.body.constData());
    QCOMPARE(r.scanned, scanned);
    QCOMPARE(promptOf(r), prompt);
    QCOMPARE(r.promptTokens, promptTokens);
    QCOMPARE(r.settings.maxOutputTokens, maxOutputTokens);
    QCOMPARE(r.settings.candidateCount, candidateCount);
    QCOMPARE(r.settings.jsonMode, jsonMode);
    QCOMPARE(r.settings.packSchema, packSchema);
}

void TestSimulatorRequestReader::readGenerateRefuses_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("field");
    auto withConfig = [](const char *config) {
        return QByteArray(R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":)") + config + '}';
    };
    QTest::newRow("empty body") << QByteArray() << "GenerateContentRequest.contents: contents is not specified";
    QTest::newRow("invalid json") << QByteArray("{\"contents\": [") << "Invalid JSON payload received.";
    QTest::newRow("not an object") << QByteArray("[1,2]") << "the body must be a JSON object";
    QTest::newRow("no contents") << QByteArray("{}") << "contents is not specified";
    QTest::newRow("empty contents") << QByteArray(R"({"contents":[]})") << "contents is not specified";
    QTest::newRow("contents string") << QByteArray(R"({"contents":"hi"})") << "Invalid value at 'contents'";
    QTest::newRow("content not an object") << QByteArray(R"({"contents":[1]})") << "Invalid value at 'contents[0]'";
    QTest::newRow("role number") << QByteArray(R"({"contents":[{"role":1,"parts":[{"text":"x"}]}]})")
                                 << "'contents[0].role' (TYPE_STRING)";
    QTest::newRow("empty parts") << QByteArray(R"({"contents":[{"parts":[]}]})") << "contents[0].parts: contents.parts must not be empty";
    QTest::newRow("text number") << QByteArray(R"({"contents":[{"parts":[{"text":123}]}]})")
                                 << "Invalid value at 'contents[0].parts[0].text' (TYPE_STRING), 123";
    QTest::newRow("empty part") << QByteArray(R"({"contents":[{"parts":[{"text":"a"},{}]}]})")
                                << "contents[0].parts[1].data: required oneof field 'data'";
    QTest::newRow("bad system instruction") << QByteArray(R"({"contents":[{"parts":[{"text":"x"}]}],"systemInstruction":{"parts":[]}})")
                                            << "system_instruction.parts";
    QTest::newRow("generationConfig array") << withConfig("[]") << "Invalid value at 'generation_config'";
    QTest::newRow("maxOutputTokens string") << withConfig(R"({"maxOutputTokens":"many"})")
                                            << "'generation_config.max_output_tokens' (TYPE_INT32), \"many\"";
    QTest::newRow("maxOutputTokens fraction") << withConfig(R"({"maxOutputTokens":1.5})") << "generation_config.max_output_tokens";
    // The plain shape with a refused config goes down the general path, which names it.
    QTest::newRow("maxOutputTokens 0") << withConfig(R"({"maxOutputTokens":0})") << "max_output_tokens must be positive";
    QTest::newRow("candidateCount 9") << withConfig(R"({"candidateCount":9})") << "candidate_count must be in [1, 8]";
    QTest::newRow("temperature string") << withConfig(R"({"temperature":"hot"})") << "'generation_config.temperature' (TYPE_FLOAT)";
    QTest::newRow("top_p string") << withConfig(R"({"top_p":"x"})") << "'generation_config.top_p' (TYPE_FLOAT)";
    QTest::newRow("mime number") << withConfig(R"({"responseMimeType":1})") << "generation_config.response_mime_type";
    QTest::newRow("schema array") << withConfig(R"({"responseMimeType":"application/json","responseSchema":[]})")
                                  << "Invalid value at 'generation_config.response_schema'";
    QTest::newRow("schema without json") << withConfig(R"({"responseSchema":{"type":"OBJECT"}})")
                                         << "response_mime_type must be application/json when response_schema is set";
}

void TestSimulatorRequestReader::readGenerateRefuses()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, field);
    SimulatorRequestReader reader;
    SimulatorRequestReader::GenerateRequest r;
    expectInvalidArgument(reader.readGenerate(body, &r), field);
}

void TestSimulatorRequestReader::generationConfigCacheFollowsTheBytes()
{
    // The reader remembers the last generationConfig it read; another config
    // (or a refused one) must never get the remembered settings.
    auto body = [](const char *config) {
        return QByteArray(R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":)") + config + '}';
    };
    SimulatorRequestReader reader;
    for (int round = 0; round < 2; ++round) {
        SimulatorRequestReader::GenerateRequest five;
        QVERIFY(reader.readGenerate(body(R"({"maxOutputTokens":5})"), &five).isNull());
        QCOMPARE(five.settings.maxOutputTokens, 5);
        SimulatorRequestReader::GenerateRequest again;
        QVERIFY(reader.readGenerate(body(R"({"maxOutputTokens":5})"), &again).isNull());
        QCOMPARE(again.settings.maxOutputTokens, 5);
        SimulatorRequestReader::GenerateRequest nine;
        QVERIFY(reader.readGenerate(body(R"({"maxOutputTokens":9})"), &nine).isNull());
        QCOMPARE(nine.settings.maxOutputTokens, 9);
        SimulatorRequestReader::GenerateRequest refused;
        expectInvalidArgument(reader.readGenerate(body(R"({"maxOutputTokens":-9})"), &refused), QStringLiteral("max_output_tokens"));
        SimulatorRequestReader::GenerateRequest none;
        QVERIFY(reader.readGenerate(R"({"contents":[{"parts":[{"text":"x"}]}]})", &none).isNull());
        QCOMPARE(none.settings.maxOutputTokens, 0);
    }
}

void TestSimulatorRequestReader::readEmbed_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<bool>("batch");
    QTest::addColumn<QString>("field");             // empty: accepted
    QTest::addColumn<QList<int>>("dimensions");
    QTest::addColumn<QStringList>("texts");

    QTest::newRow("one") << QByteArray(R"({"content":{"parts":[{"text":"hello"}]}})") << false << QString()
                         << QList<int>{768} << QStringList{QStringLiteral("hello")};
    QTest::newRow("one, dimensionality") << QByteArray(R"({"content":{"parts":[{"text":"a"}]},"outputDimensionality":16})")
                                         << false << QString() << QList<int>{16} << QStringList{QStringLiteral("a")};
    QTest::newRow("one, snake_case") << QByteArray(R"({"content":{"parts":[{"text":"a"}]},"output_dimensionality":"3072"})")
                                     << false << QString() << QList<int>{3072} << QStringList{QStringLiteral("a")};
    QTest::newRow("batch") << QByteArray(R"({"requests":[{"content":{"parts":[{"text":"a"}]}},{"content":{"parts":[{"text":"b"}]},"outputDimensionality":8}]})")
                           << true << QString() << QList<int>{768, 8} << QStringList{QStringLiteral("a"), QStringLiteral("b")};

    QTest::newRow("no content") << QByteArray("{}") << false << "EmbedContentRequest.content: content is not specified"
                                << QList<int>() << QStringList();
    QTest::newRow("dims 0") << QByteArray(R"({"content":{"parts":[{"text":"x"}]},"outputDimensionality":0})") << false
                            << "output_dimensionality must be in [1, 3072]" << QList<int>() << QStringList();
    QTest::newRow("dims 3073") << QByteArray(R"({"content":{"parts":[{"text":"x"}]},"outputDimensionality":3073})") << false
                               << "output_dimensionality must be in [1, 3072]" << QList<int>() << QStringList();
    QTest::newRow("dims string") << QByteArray(R"({"content":{"parts":[{"text":"x"}]},"outputDimensionality":"big"})") << false
                                 << "'output_dimensionality' (TYPE_INT32)" << QList<int>() << QStringList();
    QTest::newRow("invalid json") << QByteArray("{") << false << "Invalid JSON payload received." << QList<int>() << QStringList();
    QTest::newRow("batch no requests") << QByteArray("{}") << true << "BatchEmbedContentsRequest.requests: requests is not specified"
                                       << QList<int>() << QStringList();
    QTest::newRow("batch requests object") << QByteArray(R"({"requests":{}})") << true << "Invalid value at 'requests'"
                                           << QList<int>() << QStringList();
    QTest::newRow("batch member not an object") << QByteArray(R"({"requests":[{"content":{"parts":[{"text":"a"}]}},7]})") << true
                                                << "Invalid value at 'requests[1]'" << QList<int>() << QStringList();
    QTest::newRow("batch bad member") << QByteArray(R"({"requests":[{"content":{}}]})") << true
                                      << "requests[0].content.parts" << QList<int>() << QStringList();
    QByteArray over = R"({"requests":[)";
    for (int i = 0; i < 101; ++i)
        over += QByteArray(i ? "," : "") + R"({"content":{"parts":[{"text":"a"}]}})";
    over += "]}";
    QTest::newRow("batch over 100") << over << true << "at most 100 requests can be in one batch" << QList<int>() << QStringList();
}

void TestSimulatorRequestReader::readEmbed()
{
    QFETCH(QByteArray, body);
    QFETCH(bool, batch);
    QFETCH(QString, field);
    QFETCH(QList<int>, dimensions);
    QFETCH(QStringList, texts);
    QList<SimulatorRequestReader::EmbedRequest> out;
    const SimulatorRequestReader::Failure f = SimulatorRequestReader::readEmbed(body, batch, &out);
    if (!field.isEmpty()) {
        expectInvalidArgument(f, field);
        return;
    }
    QVERIFY2(f.isNull(), qPrintable(messageOf(f)));
    QCOMPARE(out.size(), dimensions.size());
    for (qsizetype i = 0; i < out.size(); ++i) {
        QCOMPARE(out[i].dimensions, dimensions[i]);
        QCOMPARE(out[i].prompt.text, texts[i]);
    }
}

void TestSimulatorRequestReader::readCountTokens_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("field"); // empty: accepted
    QTest::addColumn<int>("tokens");
    QTest::newRow("contents") << QByteArray(R"({"contents":[{"parts":[{"text":"The quick brown fox jumps over the lazy dog."}]}]})")
                              << QString() << 11;
    QTest::newRow("generateContentRequest, with system")
        << QByteArray(R"({"generateContentRequest":{"model":"models/x","contents":[{"parts":[{"text":"1234"}]}],"systemInstruction":{"parts":[{"text":"12345"}]}}})")
        << QString() << 1 + 2;
    QTest::newRow("snake_case") << QByteArray(R"({"generate_content_request":{"contents":[{"parts":[{"text":"12345678"}]}]}})")
                                << QString() << 2;
    QTest::newRow("no contents") << QByteArray("{}") << "CountTokensRequest.contents: contents is not specified" << 0;
    QTest::newRow("bad part") << QByteArray(R"({"contents":[{"parts":[{"text":false}]}]})")
                              << "'contents[0].parts[0].text' (TYPE_STRING), false" << 0;
}

void TestSimulatorRequestReader::readCountTokens()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, field);
    QFETCH(int, tokens);
    int out = -1;
    const SimulatorRequestReader::Failure f = SimulatorRequestReader::readCountTokens(body, &out);
    if (!field.isEmpty()) {
        expectInvalidArgument(f, field);
        QCOMPARE(out, -1);
        return;
    }
    QVERIFY2(f.isNull(), qPrintable(messageOf(f)));
    QCOMPARE(out, tokens);
}

void TestSimulatorRequestReader::serviceTier_data()
{
    using Tier = SimulatorRequestReader::ServiceTier;
    QTest::addColumn<QByteArray>("tier"); // the JSON value; empty = no field
    QTest::addColumn<int>("expected");    // a Tier, or -1: refused
    QTest::newRow("absent") << QByteArray() << int(Tier::Standard);
    QTest::newRow("standard") << QByteArray(R"("standard")") << int(Tier::Standard);
    QTest::newRow("unspecified") << QByteArray(R"("unspecified")") << int(Tier::Standard);
    QTest::newRow("flex") << QByteArray(R"("flex")") << int(Tier::Flex);
    QTest::newRow("FLEX") << QByteArray(R"("FLEX")") << int(Tier::Flex);
    QTest::newRow("priority") << QByteArray(R"("priority")") << int(Tier::Priority);
    QTest::newRow("SERVICE_TIER_PRIORITY") << QByteArray(R"("SERVICE_TIER_PRIORITY")") << int(Tier::Priority);
    QTest::newRow("null") << QByteArray("null") << int(Tier::Standard);
    QTest::newRow("unknown name") << QByteArray(R"("turbo")") << -1;
    QTest::newRow("number") << QByteArray("2") << -1;
    QTest::newRow("empty string") << QByteArray(R"("")") << -1;
}

void TestSimulatorRequestReader::serviceTier()
{
    QFETCH(QByteArray, tier);
    QFETCH(int, expected);
    for (const char *key : {"serviceTier", "service_tier"}) {
        QByteArray body = R"({"contents":[{"parts":[{"text":"hello"}]}])";
        if (!tier.isEmpty())
            body += QByteArray(",\"") + key + "\":" + tier;
        body += '}';
        SimulatorRequestReader reader;
        SimulatorRequestReader::GenerateRequest r;
        const SimulatorRequestReader::Failure f = reader.readGenerate(body, &r);
        if (expected < 0) {
            expectInvalidArgument(f, QStringLiteral("serviceTier"));
            for (const char *allowed : {"\"standard\"", "\"flex\"", "\"priority\""})
                QVERIFY2(messageOf(f).contains(QLatin1String(allowed)), qPrintable(messageOf(f)));
        } else {
            QVERIFY2(f.isNull(), f.body.constData());
            QCOMPARE(int(r.tier), expected);
            QCOMPARE(r.promptTokens, 2);
        }
    }
}

void TestSimulatorRequestReader::readBatch()
{
    // What @google/genai 2.32.0 sends for ai.batches.create({model, src: [...], config: {displayName}}).
    const QByteArray body = R"({"batch":{"displayName":"caps","inputConfig":{"requests":{"requests":[
        {"request":{"contents":[{"parts":[{"text":"France?"}],"role":"user"}]},"metadata":{"key":"fr"}},
        {"request":{"model":"models/gemini-2.5-flash","contents":[{"parts":[{"text":"Japan?"}],"role":"user"}],
                    "generationConfig":{"maxOutputTokens":5}}},
        {"request":{"contents":[]}}]}}}})";
    SimulatorRequestReader::BatchRequest batch;
    const SimulatorRequestReader::Failure f = SimulatorRequestReader::readBatch(body, &batch);
    QVERIFY2(f.isNull(), f.body.constData());
    QCOMPARE(batch.displayName, QStringLiteral("caps"));
    QVERIFY(batch.model.isEmpty());
    QCOMPARE(batch.members.size(), 3);
    QCOMPARE(batch.members[0].metadata.toObject()[u"key"].toString(), QStringLiteral("fr"));
    QVERIFY(batch.members[1].metadata.isUndefined());
    // Members are read one by one; the third one fails alone.
    SimulatorRequestReader::GenerateRequest r;
    QVERIFY(SimulatorRequestReader::readGenerateObject(batch.members[1].request, &r).isNull());
    QCOMPARE(r.settings.maxOutputTokens, 5);
    expectInvalidArgument(SimulatorRequestReader::readGenerateObject(batch.members[2].request, &r),
                          QStringLiteral("contents is not specified"));
}

void TestSimulatorRequestReader::readBatchRefuses_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("field");
    QTest::newRow("empty") << QByteArray("{}") << "batch is not specified";
    QTest::newRow("batch string") << QByteArray(R"({"batch":"x"})") << "Invalid value at 'batch'";
    QTest::newRow("no inputConfig") << QByteArray(R"({"batch":{"displayName":"x"}})") << "batch.inputConfig";
    QTest::newRow("displayName number") << QByteArray(R"({"batch":{"displayName":1}})") << "batch.displayName";
    QTest::newRow("model number") << QByteArray(R"({"batch":{"model":1}})") << "batch.model";
    QTest::newRow("file input") << QByteArray(R"({"batch":{"inputConfig":{"fileName":"files/abc"}}})")
                                << "the simulator supports inline requests only";
    QTest::newRow("no requests") << QByteArray(R"({"batch":{"inputConfig":{}}})") << "batch.inputConfig.requests";
    QTest::newRow("requests array") << QByteArray(R"({"batch":{"inputConfig":{"requests":[]}}})")
                                    << "Invalid value at 'batch.inputConfig.requests'";
    QTest::newRow("empty list") << QByteArray(R"({"batch":{"inputConfig":{"requests":{"requests":[]}}}})")
                                << "batch.inputConfig.requests.requests";
    QTest::newRow("list object") << QByteArray(R"({"batch":{"inputConfig":{"requests":{"requests":{}}}}})")
                                 << "batch.inputConfig.requests.requests";
    QTest::newRow("member number") << QByteArray(R"({"batch":{"inputConfig":{"requests":{"requests":[1]}}}})")
                                   << "batch.inputConfig.requests.requests[0]";
    QTest::newRow("member without request")
        << QByteArray(R"({"batch":{"inputConfig":{"requests":{"requests":[{"request":{}},{"metadata":{}}]}}}})")
        << "batch.inputConfig.requests.requests[1].request";
    QTest::newRow("metadata string")
        << QByteArray(R"({"batch":{"inputConfig":{"requests":{"requests":[{"request":{},"metadata":"k"}]}}}})")
        << "batch.inputConfig.requests.requests[0].metadata";
    QTest::newRow("bad json") << QByteArray(R"({"batch":)") << "Invalid JSON payload received.";
    QByteArray big = R"({"batch":{"displayName":")";
    big += QByteArray(SimulatorRequestReader::kMaxBatchBodyBytes, 'a');
    big += R"("}})";
    QTest::newRow("over 20 MB") << big << "exceeds the limit: 20971520 bytes";
}

void TestSimulatorRequestReader::readBatchRefuses()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, field);
    SimulatorRequestReader::BatchRequest batch;
    expectInvalidArgument(SimulatorRequestReader::readBatch(body, &batch), field);
}

QTEST_GUILESS_MAIN(TestSimulatorRequestReader)
#include "tst_simulatorrequestreader.moc"
