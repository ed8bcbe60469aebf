#include "core/gemini/packcodec.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

#include <numeric>

namespace {
QJsonObject json(const char *text)
{
    return QJsonDocument::fromJson(QByteArray(text)).object();
}

InferenceRequest request(const char *body, Operation op = Operation::GenerateContent, bool packable = true)
{
    InferenceRequest r;
    r.model = QStringLiteral("gemini-2.0-flash");
    r.operation = op;
    r.body = json(body);
    r.packable = packable;
    return r;
}

GeminiResponse packAnswer(const QJsonArray &items, const char *usage)
{
    const QString text = QString::fromUtf8(QJsonDocument(items).toJson(QJsonDocument::Compact));
    QJsonObject body{
        {QStringLiteral("candidates"), QJsonArray{QJsonObject{
            {QStringLiteral("content"), QJsonObject{{QStringLiteral("parts"), QJsonArray{QJsonObject{{QStringLiteral("text"), text}}}},
                                                    {QStringLiteral("role"), QStringLiteral("model")}}},
            {QStringLiteral("finishReason"), QStringLiteral("STOP")},
            {QStringLiteral("index"), 0}}}},
        {QStringLiteral("usageMetadata"), json(usage)},
        {QStringLiteral("modelVersion"), QStringLiteral("gemini-2.0-flash")},
        {QStringLiteral("responseId"), QStringLiteral("resp-1")},
    };
    return GeminiResponse(body);
}
} // namespace

class TestPackCodec : public QObject
{
    Q_OBJECT

private slots:
    void packable_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("op");
        QTest::addColumn<bool>("optIn");
        QTest::addColumn<bool>("expected");

        const int gen = int(Operation::GenerateContent);
        QTest::newRow("single user turn") << QByteArray(R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}]})") << gen << true << true;
        QTest::newRow("role absent") << QByteArray(R"({"contents":[{"parts":[{"text":"hi"}]}]})") << gen << true << true;
        QTest::newRow("several text parts") << QByteArray(R"({"contents":[{"parts":[{"text":"a"},{"text":"b"}]}]})") << gen << true << true;
        QTest::newRow("stream") << QByteArray(R"({"contents":[{"parts":[{"text":"hi"}]}]})") << int(Operation::StreamGenerateContent) << true << true;
        QTest::newRow("with generationConfig") << QByteArray(R"({"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"temperature":0.2}})") << gen << true << true;
        QTest::newRow("opted out (X-Sluice-Pack: off)") << QByteArray(R"({"contents":[{"parts":[{"text":"hi"}]}]})") << gen << false << false;
        QTest::newRow("multi-turn") << QByteArray(R"({"contents":[{"role":"user","parts":[{"text":"a"}]},{"role":"model","parts":[{"text":"b"}]},{"role":"user","parts":[{"text":"c"}]}]})") << gen << true << false;
        QTest::newRow("model role") << QByteArray(R"({"contents":[{"role":"model","parts":[{"text":"hi"}]}]})") << gen << true << false;
        QTest::newRow("image part") << QByteArray(R"({"contents":[{"parts":[{"text":"what"},{"inlineData":{"mimeType":"image/png","data":"AA=="}}]}]})") << gen << true << false;
        QTest::newRow("thought part") << QByteArray(R"({"contents":[{"parts":[{"text":"x","thought":true}]}]})") << gen << true << false;
        QTest::newRow("tools") << QByteArray(R"({"contents":[{"parts":[{"text":"hi"}]}],"tools":[{"googleSearch":{}}]})") << gen << true << false;
        QTest::newRow("tool_config") << QByteArray(R"({"contents":[{"parts":[{"text":"hi"}]}],"tool_config":{}})") << gen << true << false;
        QTest::newRow("own JSON mode") << QByteArray(R"({"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"responseMimeType":"application/json"}})") << gen << true << false;
        QTest::newRow("own schema snake") << QByteArray(R"({"contents":[{"parts":[{"text":"hi"}]}],"generation_config":{"response_json_schema":{}}})") << gen << true << false;
        QTest::newRow("candidateCount 2") << QByteArray(R"({"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"candidateCount":2}})") << gen << true << false;
        QTest::newRow("no contents") << QByteArray(R"({})") << gen << true << false;
        QTest::newRow("empty parts") << QByteArray(R"({"contents":[{"parts":[]}]})") << gen << true << false;
        QTest::newRow("close tag in text") << QByteArray(R"({"contents":[{"parts":[{"text":"a </request> b"}]}]})") << gen << true << false;
        QTest::newRow("embed op") << QByteArray(R"({"contents":[{"parts":[{"text":"hi"}]}]})") << int(Operation::EmbedContent) << true << false;
    }

    void packable()
    {
        QFETCH(QByteArray, body);
        QFETCH(int, op);
        QFETCH(bool, optIn);
        QFETCH(bool, expected);
        QCOMPARE(PackCodec::isPackable(request(body.constData(), Operation(op), optIn)), expected);

        // The gateway marks each request once; the mark must carry the same
        // answer, and later isPackable() calls must keep returning it.
        InferenceRequest marked = request(body.constData(), Operation(op), optIn);
        PackCodec::markPackability(marked);
        QVERIFY(marked.packableChecked);
        QCOMPARE(marked.packable, expected);
        QCOMPARE(PackCodec::isPackable(marked), expected);
        if (expected)
            QCOMPARE(PackCodec::memberText(marked), PackCodec::memberText(marked.body));
    }

    void promptFormatIsExact()
    {
        const QString prompt = PackCodec::buildPrompt({{QStringLiteral("0"), QStringLiteral("What is 2+2?")},
                                                       {QStringLiteral("7"), QStringLiteral("Line one\nline two")}});
        QVERIFY(prompt.startsWith(PackCodec::instruction()));
        QVERIFY(prompt.contains(QLatin1String("<request id=\"0\">\nWhat is 2+2?\n</request>\n")));
        QVERIFY(prompt.contains(QLatin1String("<request id=\"7\">\nLine one\nline two\n</request>\n")));
        QVERIFY(prompt.indexOf(QLatin1String("id=\"0\"")) < prompt.indexOf(QLatin1String("id=\"7\"")));
        QVERIFY(PackCodec::instruction().contains(QLatin1String("JSON array")));
        QVERIFY(!PackCodec::instruction().contains(QLatin1String("<request")));
    }

    void requestKeepsSharedFields_data()
    {
        QTest::addColumn<QByteArray>("shared");
        QTest::newRow("lowerCamel") << QByteArray(R"({"contents":[{"parts":[{"text":"x"}]}],"systemInstruction":{"parts":[{"text":"be brief"}]},"safetySettings":[{"category":"HARM_CATEGORY_HATE_SPEECH","threshold":"BLOCK_NONE"}],"generationConfig":{"temperature":0.3,"maxOutputTokens":100,"thinkingConfig":{"thinkingBudget":0}}})");
        QTest::newRow("cachedContent, own mime type and candidateCount dropped") << QByteArray(R"({"cachedContent":"cachedContents/abc","contents":[{"parts":[{"text":"x"}]}],"systemInstruction":{"parts":[{"text":"be brief"}]},"safetySettings":[{"category":"HARM_CATEGORY_HATE_SPEECH","threshold":"BLOCK_NONE"}],"generationConfig":{"temperature":0.3,"maxOutputTokens":100,"thinkingConfig":{"thinkingBudget":0},"responseMimeType":"text/plain","candidateCount":1}})");
        QTest::newRow("snake_case") << QByteArray(R"({"contents":[{"parts":[{"text":"x"}]}],"system_instruction":{"parts":[{"text":"be brief"}]},"safety_settings":[{"category":"HARM_CATEGORY_HATE_SPEECH","threshold":"BLOCK_NONE"}],"generation_config":{"temperature":0.3,"max_output_tokens":100,"thinkingConfig":{"thinkingBudget":0}}})");
    }

    void requestKeepsSharedFields()
    {
        QFETCH(QByteArray, shared);
        const QList<PackCodec::Member> members{{QStringLiteral("0"), QStringLiteral("a")},
                                               {QStringLiteral("1"), QStringLiteral("b \"quoted\"\n\u00e9\u4e2d\t")},
                                               {QStringLiteral("2"), QStringLiteral("c")}};
        const QJsonObject req = PackCodec::buildRequest(members, json(shared.constData()));
        // The client sends buildRequestJson's bytes: the same request, byte for byte.
        QCOMPARE(PackCodec::buildRequestJson(members, json(shared.constData())),
                 QJsonDocument(req).toJson(QJsonDocument::Compact));

        const QJsonArray contents = req.value(QLatin1String("contents")).toArray();
        QCOMPARE(contents.size(), 1);
        QCOMPARE(contents.at(0).toObject().value(QLatin1String("role")).toString(), QStringLiteral("user"));
        QCOMPARE(contents.at(0).toObject().value(QLatin1String("parts")).toArray().at(0).toObject()
                     .value(QLatin1String("text")).toString(), PackCodec::buildPrompt(members));
        QCOMPARE(req.value(QLatin1String("systemInstruction")).toObject(), json(R"({"parts":[{"text":"be brief"}]})"));
        QCOMPARE(req.value(QLatin1String("safetySettings")).toArray().size(), 1);

        const QJsonObject gen = req.value(QLatin1String("generationConfig")).toObject();
        QCOMPARE(gen.value(QLatin1String("temperature")).toDouble(), 0.3);
        QCOMPARE(gen.value(QLatin1String("thinkingConfig")).toObject(), json(R"({"thinkingBudget":0})"));
        const int maxOut = gen.contains(QLatin1String("maxOutputTokens")) ? gen.value(QLatin1String("maxOutputTokens")).toInt()
                                                                          : gen.value(QLatin1String("max_output_tokens")).toInt();
        QCOMPARE(maxOut, 300); // per-member limit × 3 members
        QCOMPARE(gen.value(QLatin1String("responseMimeType")).toString(), QStringLiteral("application/json"));
        QCOMPARE(gen.value(QLatin1String("responseSchema")).toObject(), json(R"({"type":"ARRAY","items":{"type":"OBJECT","properties":{"id":{"type":"STRING"},"text":{"type":"STRING"}},"required":["id","text"]}})"));
    }

    // The usual member body (contents only) takes the cached envelope.
    void plainRequestJsonEqualsQtOutput()
    {
        QString odd = QStringLiteral("lone ");
        odd += QChar(0xd800);
        odd += QStringLiteral(" pair \U0001F600 ctl \x01 \"q\" \\ </request> ");
        odd += QChar(0xdc00);
        const QList<PackCodec::Member> members{{QStringLiteral("0"), QStringLiteral("What is 2+2?")},
                                               {QStringLiteral("1"), odd},
                                               {QStringLiteral("17"), QString::fromUtf8("caf\xc3\xa9 \xe4\xb8\xad\n")}};
        for (const char *body : {R"({"contents":[{"parts":[{"text":"x"}]}]})", R"({"contents":[],"tools":[]})", "{}"}) {
            for (qsizetype n = 1; n <= members.size(); ++n) {
                const QList<PackCodec::Member> some = members.mid(0, n);
                QCOMPARE(PackCodec::buildRequestJson(some, json(body)),
                         QJsonDocument(PackCodec::buildRequest(some, json(body))).toJson(QJsonDocument::Compact));
            }
        }
    }

    void parseAnswer_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("parsed");
        QTest::addColumn<int>("answers");

        QTest::newRow("array") << QStringLiteral(R"([{"id":"0","text":"four"},{"id":"1","text":"blue"}])") << true << 2;
        QTest::newRow("numeric ids") << QStringLiteral(R"([{"id":0,"text":"four"}])") << true << 1;
        QTest::newRow("fenced") << QStringLiteral("```json\n[{\"id\":\"0\",\"text\":\"four\"}]\n```") << true << 1;
        QTest::newRow("duplicate id keeps first") << QStringLiteral(R"([{"id":"0","text":"a"},{"id":"0","text":"b"}])") << true << 1;
        QTest::newRow("item without text skipped") << QStringLiteral(R"([{"id":"0"},{"id":"1","text":"x"}])") << true << 1;
        QTest::newRow("object, not array") << QStringLiteral(R"({"id":"0","text":"four"})") << false << 0;
        QTest::newRow("truncated (MAX_TOKENS)") << QStringLiteral("[{\"id\":\"0\",\"text\":\"fo") << false << 0;
        QTest::newRow("prose") << QStringLiteral("Sure! Here are the answers.") << false << 0;
    }

    void parseAnswer()
    {
        QFETCH(QString, text);
        QFETCH(bool, parsed);
        QFETCH(int, answers);
        const QJsonObject body{{QStringLiteral("candidates"), QJsonArray{QJsonObject{
            {QStringLiteral("content"), QJsonObject{{QStringLiteral("parts"), QJsonArray{QJsonObject{{QStringLiteral("text"), text}}}}}}}}}};
        const PackCodec::Answer a = PackCodec::parseAnswer(GeminiResponse(body));
        QCOMPARE(a.parsed, parsed);
        QCOMPARE(a.textById.size(), answers);
        if (text.contains(QLatin1String("\"a\"")))
            QCOMPARE(a.textById.value(QStringLiteral("0")), QStringLiteral("a"));
    }

    void splitApportionsUsage()
    {
        const QList<PackCodec::Member> members{{QStringLiteral("0"), QStringLiteral("short")},
                                               {QStringLiteral("1"), QStringLiteral("a much longer question here")},
                                               {QStringLiteral("2"), QStringLiteral("dropped by the model")},
                                               {QStringLiteral("3"), QStringLiteral("mid length q")}};
        const GeminiResponse pack = packAnswer(
            QJsonArray{json(R"({"id":"1","text":"long answer to the long question"})"),
                       json(R"({"id":"0","text":"ok"})"),
                       json(R"({"id":"3","text":"medium answer"})")},
            R"({"promptTokenCount":101,"candidatesTokenCount":37,"thoughtsTokenCount":11,"totalTokenCount":152})");
        const auto answer = PackCodec::parseAnswer(pack);
        const auto bodies = PackCodec::memberResponses(pack, members, answer);
        QCOMPARE(bodies.size(), 4);
        QVERIFY(bodies[0] && bodies[1] && bodies[3]);
        QVERIFY(!bodies[2]); // missing: the caller re-issues it alone

        int prompt = 0, cand = 0, thoughts = 0, total = 0;
        for (int i : {0, 1, 3}) {
            const GeminiResponse r(*bodies[i]);
            QCOMPARE(r.candidates().size(), 1);
            const QJsonObject c = r.candidates().at(0).toObject();
            QCOMPARE(c.value(QLatin1String("index")).toInt(-1), 0);
            QCOMPARE(c.value(QLatin1String("content")).toObject().value(QLatin1String("role")).toString(), QStringLiteral("model"));
            QCOMPARE(r.finishReason(), QStringLiteral("STOP"));
            QCOMPARE(r.modelVersion(), QStringLiteral("gemini-2.0-flash"));
            QCOMPARE(r.responseId(), QStringLiteral("resp-1"));
            const UsageMetadata u = r.usage();
            QVERIFY(u.totalTokenCount.value_or(-1) >= u.promptTokens() + u.outputTokens());
            prompt += u.promptTokens();
            cand += u.candidatesTokenCount.value_or(0);
            thoughts += u.thoughtsTokenCount.value_or(0);
            total += u.totalTokenCount.value_or(0);
        }
        QCOMPARE(GeminiResponse(*bodies[0]).text(), QStringLiteral("ok"));
        QCOMPARE(GeminiResponse(*bodies[1]).text(), QStringLiteral("long answer to the long question"));
        QCOMPARE(prompt, 101);
        QCOMPARE(cand, 37);
        QCOMPARE(thoughts, 11);
        QCOMPARE(total, 152);
        // The longer prompt and the longer answer carry the larger shares.
        QVERIFY(GeminiResponse(*bodies[1]).usage().promptTokens() > GeminiResponse(*bodies[0]).usage().promptTokens());
        QVERIFY(GeminiResponse(*bodies[1]).usage().candidatesTokenCount.value_or(0)
                > GeminiResponse(*bodies[0]).usage().candidatesTokenCount.value_or(0));
    }

    void memberResponsesJsonEqualsQtOutput_data()
    {
        QTest::addColumn<QString>("answerText");
        QTest::addColumn<QString>("usage");
        QTest::addColumn<QString>("packExtra"); // fields merged into the pack body (finishReason etc.)

        const QString thoughts = QStringLiteral(R"({"promptTokenCount":101,"candidatesTokenCount":37,"thoughtsTokenCount":11,"totalTokenCount":152})");
        const QString plain = QStringLiteral(R"({"promptTokenCount":9,"candidatesTokenCount":5,"totalTokenCount":20})");
        QTest::newRow("ascii") << QStringLiteral("plain answer") << thoughts << QString();
        QTest::newRow("no thoughts, extra tokens") << QStringLiteral("x") << plain << QString();
        QTest::newRow("escapes") << QStringLiteral("quote \" backslash \\ slash / tab \t nl \n cr \r bs \b ff \f bell \a nul-ish \x01 \x1f del \x7f")
                                 << thoughts << QString();
        QTest::newRow("non-ascii") << QString::fromUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87") << plain << QString();
        QString lone = QStringLiteral("lone ");
        lone += QChar(0xd800);
        lone += QStringLiteral(" low ");
        lone += QChar(0xdc00);
        lone += QStringLiteral(" end");
        lone += QChar(0xd83d);
        QTest::newRow("unpaired surrogates") << lone << plain << QString();
        QTest::newRow("empty text") << QString() << plain << QString();
        QTest::newRow("no usage") << QStringLiteral("a") << QStringLiteral("{}") << QString();
        QTest::newRow("finishReason MAX_TOKENS") << QStringLiteral("a") << plain
                                                 << QStringLiteral(R"({"finishReason":"MAX_TOKENS"})");
        QTest::newRow("no finishReason, no ids") << QStringLiteral("a") << plain
                                                 << QStringLiteral(R"({"finishReason":null,"modelVersion":null,"responseId":null})");
        QTest::newRow("odd field shapes") << QStringLiteral("a") << plain
                                          << QStringLiteral(R"({"modelVersion":{"b":[1,2.5,true],"a":"\u00e9"},"responseId":3})");
    }

    void memberResponsesJsonEqualsQtOutput()
    {
        QFETCH(QString, answerText);
        QFETCH(QString, usage);
        QFETCH(QString, packExtra);
        const QList<PackCodec::Member> members{{QStringLiteral("0"), QStringLiteral("first question")},
                                               {QStringLiteral("1"), QStringLiteral("dropped")},
                                               {QStringLiteral("2"), QStringLiteral("third")}};
        QJsonObject packBody = packAnswer(QJsonArray{QJsonObject{{QStringLiteral("id"), QStringLiteral("0")},
                                                                 {QStringLiteral("text"), answerText}},
                                                     QJsonObject{{QStringLiteral("id"), QStringLiteral("2")},
                                                                 {QStringLiteral("text"), QStringLiteral("other")}}},
                                          usage.toUtf8().constData()).json();
        const QJsonObject extra = QJsonDocument::fromJson(packExtra.toUtf8()).object();
        for (auto it = extra.begin(); it != extra.end(); ++it) {
            if (it.key() == QLatin1String("finishReason")) {
                QJsonArray cands = packBody.value(QLatin1String("candidates")).toArray();
                QJsonObject c = cands.at(0).toObject();
                if (it.value().isNull())
                    c.remove(it.key());
                else
                    c.insert(it.key(), it.value());
                cands[0] = c;
                packBody.insert(QStringLiteral("candidates"), cands);
            } else if (it.value().isNull()) {
                packBody.remove(it.key());
            } else {
                packBody.insert(it.key(), it.value());
            }
        }
        const GeminiResponse pack(packBody);
        const auto answer = PackCodec::parseAnswer(pack);
        const auto bodies = PackCodec::memberResponses(pack, members, answer);
        const auto bytes = PackCodec::memberResponsesJson(pack, members, answer);
        QCOMPARE(bytes.size(), bodies.size());
        for (qsizetype i = 0; i < bodies.size(); ++i) {
            QCOMPARE(bool(bytes[i]), bool(bodies[i]));
            if (!bodies[i])
                continue;
            QCOMPARE(bytes[i]->json, QJsonDocument(*bodies[i]).toJson(QJsonDocument::Compact));
            const UsageMetadata u = GeminiResponse(*bodies[i]).usage();
            QCOMPARE(bytes[i]->promptTokens, u.promptTokens());
            QCOMPARE(bytes[i]->outputTokens, u.outputTokens());
        }
        QVERIFY(!bytes[1]);
    }

    // The bytes reader (the client's hot path) against the general path
    // (GeminiResponse + parseAnswer + memberResponsesJson) on the same body:
    // where it answers, every member's bytes and counts are the same; where
    // the shape is unusual it must decline (and the general path answers).
    void bytesReaderEqualsGeneralPath_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<bool>("fast"); // expected to be read by the bytes reader

        // {"candidates":[{"content":{"parts":[{"text":<answer>}],"role":"model"}<cand>}]<top>}
        auto pack = [](const QByteArray &answerJson, const QByteArray &cand = ",\"finishReason\":\"STOP\",\"index\":0",
                       const QByteArray &top = ",\"usageMetadata\":{\"promptTokenCount\":101,\"candidatesTokenCount\":37,"
                                               "\"thoughtsTokenCount\":11,\"totalTokenCount\":152},"
                                               "\"modelVersion\":\"gemini-2.0-flash\",\"responseId\":\"r-1\"") {
            return "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":" + answerJson + "}],\"role\":\"model\"}" + cand
                   + "}]" + top + "}";
        };
        // The answer text as Qt writes it into the outer JSON.
        auto text = [](const QString &answer) {
            const QByteArray a = QJsonDocument(QJsonArray{answer}).toJson(QJsonDocument::Compact);
            return a.mid(1, a.size() - 2);
        };
        const QString usual = QStringLiteral(R"([{"id":"0","text":"four"},{"id":"2","text":"blue sky"},{"id":"3","text":"x"}])");

        QTest::newRow("usual") << pack(text(usual)) << true;
        QTest::newRow("escapes in answers")
            << pack(text(QStringLiteral("[{\"id\":\"0\",\"text\":\"q \\\" b \\\\ s \\/ nl \\n tab \\t ctl \\u0001 del ") + QChar(0x7f)
                         + QStringLiteral("\"},{\"id\":\"2\",\"text\":\"\\u00e9\\u20ac\\ud83d\\ude00\"}]")))
            << true;
        QTest::newRow("non-ascii raw") << pack(text(QString::fromUtf8("[{\"id\":\"0\",\"text\":\"caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80\"},{\"id\":\"3\",\"text\":\"\xe2\x82\xac\"}]")))
                                       << true;
        QTest::newRow("outer escapes by hand")
            << pack("\"[{\\\"id\\\":\\\"0\\\",\\\"text\\\":\\\"caf\\u00e9\\\"},{\\\"id\\\":\\\"2\\\",\\\"text\\\":\\\"\\ud83d\\ude00 \\/\\\"}]\"")
            << true;
        QTest::newRow("whitespace everywhere")
            << QByteArray("{ \"candidates\" : [ { \"content\" : { \"parts\" : [ { \"text\" : ")
                   + text(QStringLiteral("\n  [ { \"id\" : \"0\" , \"text\" : \"a\" } ,\r\n {\"id\":\"2\",\"text\":\"b\"} ]  \n"))
                   + " } ] } , \"finishReason\" : \"MAX_TOKENS\" } ] ,\n \"usageMetadata\" : { \"totalTokenCount\" : 9 } }"
            << true;
        QTest::newRow("keys in another order, extra fields")
            << QByteArray("{\"usageMetadata\":{\"promptTokensDetails\":[{\"modality\":\"TEXT\",\"tokenCount\":9}],"
                          "\"candidatesTokenCount\":5,\"promptTokenCount\":9,\"totalTokenCount\":20},"
                          "\"responseId\":\"abc\",\"candidates\":[{\"index\":0,\"avgLogprobs\":-1.2345678901234567e-05,"
                          "\"safetyRatings\":[{\"category\":\"HARM\",\"blocked\":false,\"p\":null}],\"finishReason\":\"STOP\","
                          "\"content\":{\"role\":\"model\",\"parts\":[{\"text\":")
                   + text(usual) + "}]}},{\"index\":1,\"content\":{}}],\"modelVersion\":\"m\",\"x\":{\"y\":[1,2.5e3,true]}}"
            << true;
        QTest::newRow("thought parts skipped, parts concatenated")
            << QByteArray("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"thinking...\",\"thought\":true},"
                          "{\"text\":\"[{\\\"id\\\":\\\"0\\\",\"},{\"thought\":false,\"text\":\"\\\"text\\\":\\\"a\\\"}]\"},"
                          "{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"AA==\"}}]}}]}")
            << true;
        QTest::newRow("duplicate id keeps first, odd items skipped")
            << pack(text(QStringLiteral(R"([{"id":"0","text":"first"},{"id":"0","text":"second"},7,"s",null,)"
                                        R"({"id":"2"},{"id":null,"text":"t"},{"id":"3","text":{"a":1}},{"id":"3","text":"ok"}])")))
            << true;
        QTest::newRow("nobody answered") << pack(text(QStringLiteral("[]"))) << true;
        QTest::newRow("no usage, no finishReason, no ids")
            << pack(text(usual), QByteArray(), QByteArray()) << true;
        QTest::newRow("unicode ids and members missing")
            << pack(text(QString::fromUtf8("[{\"id\":\"\xc3\xa9\",\"text\":\"a\"},{\"id\":\"3\",\"text\":\"b\"}]"))) << true;

        // Unusual shapes: left to the general path.
        QTest::newRow("fenced") << pack(text(QStringLiteral("```json\n") + usual + QStringLiteral("\n```"))) << false;
        QTest::newRow("numeric ids") << pack(text(QStringLiteral(R"([{"id":0,"text":"a"}])"))) << false;
        QTest::newRow("leading no-break space") << pack(text(QChar(0xa0) + usual)) << false;
        QTest::newRow("object answer") << pack(text(QStringLiteral(R"({"id":"0","text":"a"})"))) << false;
        QTest::newRow("prose answer") << pack(text(QStringLiteral("Sure, here you are."))) << false;
        QTest::newRow("truncated answer") << pack(text(QStringLiteral("[{\"id\":\"0\",\"text\":\"fo"))) << false;
        QTest::newRow("lone surrogate in answer") << pack("\"[{\\\"id\\\":\\\"0\\\",\\\"text\\\":\\\"\\ud800\\\"}]\"") << false;
        QTest::newRow("finishReason null") << pack(text(usual), ",\"finishReason\":null") << false;
        QTest::newRow("modelVersion object") << pack(text(usual), QByteArray(), ",\"modelVersion\":{\"a\":1}") << false;
        QTest::newRow("usage as strings") << pack(text(usual), QByteArray(), ",\"usageMetadata\":{\"promptTokenCount\":\"12\"}") << false;
        QTest::newRow("usage as a real") << pack(text(usual), QByteArray(), ",\"usageMetadata\":{\"promptTokenCount\":12.0}") << false;
        QTest::newRow("duplicate candidates") << pack(text(usual), QByteArray(), ",\"candidates\":[]") << false;
        QTest::newRow("no candidates") << QByteArray("{\"usageMetadata\":{}}") << false;
        QTest::newRow("empty candidates") << QByteArray("{\"candidates\":[]}") << false;
        QTest::newRow("no parts") << QByteArray("{\"candidates\":[{\"content\":{\"role\":\"model\"}}]}") << false;
        QTest::newRow("thought not a bool") << QByteArray("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"[]\",\"thought\":1}]}}]}") << false;
        QTest::newRow("garbage after") << pack(text(usual)) + "x" << false;
        QTest::newRow("not json") << QByteArray("<html>busy</html>") << false;
        QTest::newRow("array") << QByteArray("[]") << false;
    }

    void bytesReaderEqualsGeneralPath()
    {
        QFETCH(QByteArray, body);
        QFETCH(bool, fast);
        // Members at the positions their ids name (the client's usual pack),
        // and the same ids elsewhere (a pack of some members of a batch).
        const QList<PackCodec::Member> inOrder{{QStringLiteral("0"), QStringLiteral("first question")},
                                               {QStringLiteral("1"), QStringLiteral("dropped")},
                                               {QStringLiteral("2"), QStringLiteral("third one")},
                                               {QStringLiteral("3"), QString::fromUtf8("caf\xc3\xa9?")}};
        const QList<PackCodec::Member> shuffled{inOrder[3], inOrder[2], {QStringLiteral("9"), QStringLiteral("ninth")},
                                                inOrder[0]};
        int answered = 0;
        for (const QList<PackCodec::Member> &members : {inOrder, shuffled}) {
            const auto viaBytes = PackCodec::memberResponsesJson(body, members);
            QCOMPARE(bool(viaBytes), fast);
            const std::optional<GeminiResponse> pack = GeminiResponse::parse(body);
            if (!pack) {
                QVERIFY(!viaBytes);
                return;
            }
            const auto general = PackCodec::memberResponsesJson(*pack, members, PackCodec::parseAnswer(*pack));
            if (!viaBytes)
                return;
            QCOMPARE(viaBytes->size(), general.size());
            for (qsizetype i = 0; i < general.size(); ++i) {
                QCOMPARE(bool(viaBytes->at(i)), bool(general[i]));
                if (!general[i])
                    continue;
                ++answered;
                QCOMPARE(viaBytes->at(i)->json, general[i]->json);
                QCOMPARE(viaBytes->at(i)->promptTokens, general[i]->promptTokens);
                QCOMPARE(viaBytes->at(i)->outputTokens, general[i]->outputTokens);
            }
        }
        if (QByteArray(QTest::currentDataTag()) != "nobody answered")
            QVERIFY(answered > 0); // a row that answers nobody would compare nothing
    }

    void unparseableAnswerAnswersNobody()
    {
        const QList<PackCodec::Member> members{{QStringLiteral("0"), QStringLiteral("a")}};
        const QJsonObject body{{QStringLiteral("candidates"), QJsonArray{QJsonObject{
            {QStringLiteral("content"), QJsonObject{{QStringLiteral("parts"), QJsonArray{QJsonObject{{QStringLiteral("text"), QStringLiteral("[{\"id\":")}}}}}}}}}};
        const auto bodies = PackCodec::memberResponses(GeminiResponse(body), members, PackCodec::parseAnswer(GeminiResponse(body)));
        QCOMPARE(bodies.size(), 1);
        QVERIFY(!bodies[0]);
    }

    void apportion_data()
    {
        QTest::addColumn<int>("total");
        QTest::addColumn<QList<qint64>>("weights");
        QTest::addColumn<QList<int>>("expected");

        QTest::newRow("even") << 10 << QList<qint64>{1, 1} << QList<int>{5, 5};
        QTest::newRow("proportional") << 100 << QList<qint64>{1, 3} << QList<int>{25, 75};
        QTest::newRow("largest remainder") << 10 << QList<qint64>{1, 1, 1} << QList<int>{4, 3, 3};
        QTest::newRow("zero weights share equally") << 7 << QList<qint64>{0, 0} << QList<int>{4, 3};
        QTest::newRow("zero total") << 0 << QList<qint64>{5, 6} << QList<int>{0, 0};
        QTest::newRow("one member") << 13 << QList<qint64>{9} << QList<int>{13};
        QTest::newRow("tiny total, many members") << 2 << QList<qint64>{1, 1, 1, 1} << QList<int>{1, 1, 0, 0};
    }

    void apportion()
    {
        QFETCH(int, total);
        QFETCH(QList<qint64>, weights);
        QFETCH(QList<int>, expected);
        const QList<int> got = PackCodec::apportion(total, weights);
        QCOMPARE(got, expected);
        QCOMPARE(std::accumulate(got.begin(), got.end(), 0), total);
    }
};

QTEST_GUILESS_MAIN(TestPackCodec)
#include "tst_packcodec.moc"
