#include "core/gemini/geminiresponse.h"
#include "core/gemini/packcodec.h"
#include "tests/support/packoracle.h"

#include <QJsonArray>
#include <QHash>
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

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QString textOf(const PackCodec::MemberJson &m)
{
    return GeminiResponse(QJsonDocument::fromJson(m.json).object()).text();
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
        QTest::newRow("stream") << QByteArray(R"({"contents":[{"parts":[{"text":"hi"}]}]})") << int(Operation::StreamGenerateContent) << true << false; // streams are passed through, never packed
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
        // The members' own limit of 100 applies to each answer on the way
        // back; the pack may use the model's whole output.
        QCOMPARE(maxOut, 8192);
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

    void splitApportionsUsage()
    {
        const QList<PackCodec::Member> members{{QStringLiteral("0"), QStringLiteral("short")},
                                               {QStringLiteral("1"), QStringLiteral("a much longer question here")},
                                               {QStringLiteral("2"), QStringLiteral("dropped by the model")},
                                               {QStringLiteral("3"), QStringLiteral("mid length q")}};
        const QByteArray pack = compact(packAnswer(
            QJsonArray{json(R"({"id":"1","text":"long answer to the long question"})"),
                       json(R"({"id":"0","text":"ok"})"),
                       json(R"({"id":"3","text":"medium answer"})")},
            R"({"promptTokenCount":101,"candidatesTokenCount":37,"thoughtsTokenCount":11,"totalTokenCount":152})").json());
        const auto answer = PackCodec::readAnswer(pack, members);
        QVERIFY(answer);
        QVERIFY(answer->complete);
        QCOMPARE(answer->finishReason, QByteArray("\"STOP\""));
        const auto &m = answer->members;
        QCOMPARE(m.size(), 4);
        QVERIFY(m[0] && m[1] && m[3]);
        QVERIFY(!m[2]); // missing: the caller asks again

        int prompt = 0, cand = 0, thoughts = 0, total = 0;
        for (int i : {0, 1, 3}) {
            const GeminiResponse r(QJsonDocument::fromJson(m[i]->json).object());
            QCOMPARE(r.candidates().size(), 1);
            const QJsonObject c = r.candidates().at(0).toObject();
            QCOMPARE(c.value(QLatin1String("index")).toInt(-1), 0);
            QCOMPARE(c.value(QLatin1String("content")).toObject().value(QLatin1String("role")).toString(), QStringLiteral("model"));
            QCOMPARE(r.finishReason(), QStringLiteral("STOP"));
            QCOMPARE(r.modelVersion(), QStringLiteral("gemini-2.0-flash"));
            QCOMPARE(r.responseId(), QStringLiteral("resp-1"));
            const UsageMetadata u = r.usage();
            QVERIFY(u.totalTokenCount.value_or(-1) >= u.promptTokens() + u.outputTokens());
            QCOMPARE(m[i]->promptTokens, u.promptTokens());
            QCOMPARE(m[i]->outputTokens, u.outputTokens());
            prompt += u.promptTokens();
            cand += u.candidatesTokenCount.value_or(0);
            thoughts += u.thoughtsTokenCount.value_or(0);
            total += u.totalTokenCount.value_or(0);
        }
        QCOMPARE(textOf(*m[0]), QStringLiteral("ok"));
        QCOMPARE(textOf(*m[1]), QStringLiteral("long answer to the long question"));
        QCOMPARE(prompt, 101);
        QCOMPARE(cand, 37);
        QCOMPARE(thoughts, 11);
        QCOMPARE(total, 152);
        // The longer prompt and the longer answer carry the larger shares.
        QVERIFY(m[1]->promptTokens > m[0]->promptTokens);
        QVERIFY(m[1]->outputTokens > m[0]->outputTokens);
    }

    // The reader against its oracle (Oracle::answer below: the same answer
    // built the slow way, QJsonDocument + QJsonObject, as the client once did
    // in production): where the oracle answers a member, the reader answers
    // it with the same bytes and counts. `answered` lists the ids the reader
    // answers; `oracle` says whether the oracle reads this body the same way
    // (false for the shapes only the reader salvages: a cut-off array).
    void readerEqualsOracle_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QStringList>("answered"); // of members 0, 1, 2, 3 (1 is never in an answer)
        QTest::addColumn<bool>("oracle");

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
        const QStringList all{QStringLiteral("0"), QStringLiteral("2"), QStringLiteral("3")};
        using S = QStringList;

        QTest::newRow("usual") << pack(text(usual)) << all << true;
        QTest::newRow("escapes in answers")
            << pack(text(QStringLiteral("[{\"id\":\"0\",\"text\":\"q \\\" b \\\\ s \\/ nl \\n tab \\t ctl \\u0001 del ") + QChar(0x7f)
                         + QStringLiteral("\"},{\"id\":\"2\",\"text\":\"\\u00e9\\u20ac\\ud83d\\ude00\"}]")))
            << S{QStringLiteral("0"), QStringLiteral("2")} << true;
        QTest::newRow("non-ascii raw") << pack(text(QString::fromUtf8("[{\"id\":\"0\",\"text\":\"caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80\"},{\"id\":\"3\",\"text\":\"\xe2\x82\xac\"}]")))
                                       << S{QStringLiteral("0"), QStringLiteral("3")} << true;
        QTest::newRow("outer escapes by hand")
            << pack("\"[{\\\"id\\\":\\\"0\\\",\\\"text\\\":\\\"caf\\u00e9\\\"},{\\\"id\\\":\\\"2\\\",\\\"text\\\":\\\"\\ud83d\\ude00 \\/\\\"}]\"")
            << S{QStringLiteral("0"), QStringLiteral("2")} << true;
        QTest::newRow("whitespace everywhere")
            << QByteArray("{ \"candidates\" : [ { \"content\" : { \"parts\" : [ { \"text\" : ")
                   + text(QStringLiteral("\n  [ { \"id\" : \"0\" , \"text\" : \"a\" } ,\r\n {\"id\":\"2\",\"text\":\"b\"} ]  \n"))
                   + " } ] } , \"finishReason\" : \"MAX_TOKENS\" } ] ,\n \"usageMetadata\" : { \"totalTokenCount\" : 9 } }"
            << S{QStringLiteral("0"), QStringLiteral("2")} << true;
        QTest::newRow("keys in another order, extra fields")
            << QByteArray("{\"usageMetadata\":{\"promptTokensDetails\":[{\"modality\":\"TEXT\",\"tokenCount\":9}],"
                          "\"candidatesTokenCount\":5,\"promptTokenCount\":9,\"totalTokenCount\":20},"
                          "\"responseId\":\"abc\",\"candidates\":[{\"index\":0,\"avgLogprobs\":-1.2345678901234567e-05,"
                          "\"safetyRatings\":[{\"category\":\"HARM\",\"blocked\":false,\"p\":null}],\"finishReason\":\"STOP\","
                          "\"content\":{\"role\":\"model\",\"parts\":[{\"text\":")
                   + text(usual) + "}]}},{\"index\":1,\"content\":{}}],\"modelVersion\":\"m\",\"x\":{\"y\":[1,2.5e3,true]}}"
            << all << true;
        QTest::newRow("thought parts skipped, parts concatenated")
            << QByteArray("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"thinking...\",\"thought\":true},"
                          "{\"text\":\"[{\\\"id\\\":\\\"0\\\",\"},{\"thought\":false,\"text\":\"\\\"text\\\":\\\"a\\\"}]\"},"
                          "{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"AA==\"}}]}}]}")
            << S{QStringLiteral("0")} << true;
        QTest::newRow("duplicate id keeps first, odd items skipped")
            << pack(text(QStringLiteral(R"([{"id":"0","text":"first"},{"id":"0","text":"second"},7,"s",null,)"
                                        R"({"id":"2"},{"id":null,"text":"t"},{"id":"3","text":{"a":1}},{"id":"3","text":"ok"}])")))
            << S{QStringLiteral("0"), QStringLiteral("3")} << true;
        QTest::newRow("nobody answered") << pack(text(QStringLiteral("[]"))) << S{} << true;
        QTest::newRow("no usage, no finishReason, no ids") << pack(text(usual), QByteArray(), QByteArray()) << all << true;
        QTest::newRow("unicode ids and members missing")
            << pack(text(QString::fromUtf8("[{\"id\":\"\xc3\xa9\",\"text\":\"a\"},{\"id\":\"3\",\"text\":\"b\"}]"))) << S{QStringLiteral("3")} << true;
        QTest::newRow("fenced") << pack(text(QStringLiteral("```json\n") + usual + QStringLiteral("\n```"))) << all << true;
        QTest::newRow("numeric ids") << pack(text(QStringLiteral(R"([{"id":0,"text":"a"},{"id":3,"text":"b"}])")))
                                     << S{QStringLiteral("0"), QStringLiteral("3")} << true;
        QTest::newRow("a preamble before the array")
            << pack(text(QStringLiteral("Sure! Here are the answers:\n") + usual)) << all << true;
        QTest::newRow("object answer") << pack(text(QStringLiteral(R"({"id":"0","text":"a"})"))) << S{} << true;
        QTest::newRow("prose answer") << pack(text(QStringLiteral("Sure, here you are."))) << S{} << true;
        QTest::newRow("finishReason null") << pack(text(usual), ",\"finishReason\":null") << all << true;
        QTest::newRow("odd field shapes") << pack(text(usual), ",\"finishReason\":7",
                                                  ",\"modelVersion\":{\"b\":[1,2.5,true],\"a\":\"\\u00e9\"},\"responseId\":3")
                                          << all << true;
        QTest::newRow("usage as strings")
            << pack(text(usual), QByteArray(), ",\"usageMetadata\":{\"promptTokenCount\":\"12\",\"candidatesTokenCount\":\"x\"}")
            << all << true;
        QTest::newRow("usage as reals")
            << pack(text(usual), QByteArray(), ",\"usageMetadata\":{\"promptTokenCount\":12.0,\"candidatesTokenCount\":2.5}")
            << all << true;
        QTest::newRow("no candidates") << QByteArray("{\"usageMetadata\":{}}") << S{} << true;
        QTest::newRow("empty candidates") << QByteArray("{\"candidates\":[]}") << S{} << true;
        QTest::newRow("no parts") << QByteArray("{\"candidates\":[{\"content\":{\"role\":\"model\"}}]}") << S{} << true;
        QTest::newRow("thought not a bool")
            << QByteArray("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"[{\\\"id\\\":\\\"0\\\",\\\"text\\\":\\\"a\\\"}]\",\"thought\":1}]}}]}")
            << S{QStringLiteral("0")} << true;
        // Only the reader salvages these: the oracle, like QJsonDocument, reads all or nothing.
        QTest::newRow("cut off at the token budget")
            << pack(text(QStringLiteral("[{\"id\":\"0\",\"text\":\"four\"},{\"id\":\"2\",\"text\":\"blu")),
                    ",\"finishReason\":\"MAX_TOKENS\"")
            << S{QStringLiteral("0")} << false;
        QTest::newRow("cut off inside an id") << pack(text(QStringLiteral("[{\"id\":\"0\",\"text\":\"four\"},{\"i"))) << S{QStringLiteral("0")} << false;
        QTest::newRow("cut off before the first member") << pack(text(QStringLiteral("[{\"id\":\"0\",\"te"))) << S{} << false;
        QTest::newRow("lone surrogate in the inner text ends the reading")
            << pack(text(QStringLiteral("[{\"id\":\"0\",\"text\":\"ok\"},{\"id\":\"2\",\"text\":\"\\ud800\"},"
                                        "{\"id\":\"3\",\"text\":\"x\"}]")))
            << S{QStringLiteral("0")} << false;
        // Qt reads the envelope, the scanner does not: nobody is answered, all are asked again.
        QTest::newRow("lone surrogate in the envelope")
            << pack("\"[{\\\"id\\\":\\\"0\\\",\\\"text\\\":\\\"\\ud800\\\"}]\"") << S{} << false;
    }

    void readerEqualsOracle()
    {
        QFETCH(QByteArray, body);
        QFETCH(QStringList, answered);
        QFETCH(bool, oracle);
        // Members at the positions their ids name (the client's usual pack),
        // and the same ids elsewhere (a pack of some members of a batch).
        const QList<PackCodec::Member> inOrder{{QStringLiteral("0"), QStringLiteral("first question")},
                                               {QStringLiteral("1"), QStringLiteral("dropped")},
                                               {QStringLiteral("2"), QStringLiteral("third one")},
                                               {QStringLiteral("3"), QString::fromUtf8("caf\xc3\xa9?")}};
        const QList<PackCodec::Member> shuffled{inOrder[3], inOrder[2], {QStringLiteral("9"), QStringLiteral("ninth")},
                                                inOrder[0]};
        for (const QList<PackCodec::Member> &members : {inOrder, shuffled}) {
            const auto answer = PackCodec::readAnswer(body, members);
            QVERIFY(answer);
            QCOMPARE(answer->members.size(), members.size());
            QStringList got;
            for (qsizetype i = 0; i < members.size(); ++i) {
                if (answer->members[i])
                    got.append(members[i].id);
            }
            QStringList want;
            for (const PackCodec::Member &m : members) {
                if (answered.contains(m.id))
                    want.append(m.id);
            }
            QCOMPARE(got, want);
            if (!oracle) {
                QVERIFY(!answer->complete);
                continue;
            }
            const auto expected = Oracle::answer(body, members);
            QVERIFY(expected);
            for (qsizetype i = 0; i < members.size(); ++i) {
                QCOMPARE(bool(answer->members[i]), bool((*expected)[i]));
                if (!(*expected)[i])
                    continue;
                QCOMPARE(answer->members[i]->json, compact(*(*expected)[i]));
                const UsageMetadata u = GeminiResponse(*(*expected)[i]).usage();
                QCOMPARE(answer->members[i]->promptTokens, u.promptTokens());
                QCOMPARE(answer->members[i]->outputTokens, u.outputTokens());
            }
        }
    }

    void membersAreCutAtTheirOwnMaxOutputTokens()
    {
        // Each answer gets what a call of its own would: cut at its own
        // budget (4 characters a token) with MAX_TOKENS; the others as they came.
        const QList<PackCodec::Member> members{{QStringLiteral("0"), QStringLiteral("q0"), 2},
                                               {QStringLiteral("1"), QStringLiteral("q1"), 0},
                                               {QStringLiteral("2"), QStringLiteral("q2"), 100}};
        const QString longText = QStringLiteral("0123456789abcdef");
        const QByteArray pack = compact(packAnswer(
            QJsonArray{QJsonObject{{QStringLiteral("id"), QStringLiteral("0")}, {QStringLiteral("text"), longText}},
                       QJsonObject{{QStringLiteral("id"), QStringLiteral("1")}, {QStringLiteral("text"), longText}},
                       QJsonObject{{QStringLiteral("id"), QStringLiteral("2")}, {QStringLiteral("text"), longText}}},
            R"({"promptTokenCount":30,"candidatesTokenCount":12,"totalTokenCount":42})").json());
        const auto answer = PackCodec::readAnswer(pack, members);
        QVERIFY(answer);
        const auto reply = [&](int i) { return GeminiResponse(QJsonDocument::fromJson(answer->members[i]->json).object()); };
        QCOMPARE(reply(0).text(), QStringLiteral("01234567"));
        QCOMPARE(reply(0).finishReason(), QStringLiteral("MAX_TOKENS"));
        QCOMPARE(reply(1).text(), longText);
        QCOMPARE(reply(1).finishReason(), QStringLiteral("STOP"));
        QCOMPARE(reply(2).text(), longText);
        QCOMPARE(reply(2).finishReason(), QStringLiteral("STOP"));
        // The pack's usage is still shared out in full.
        int candidates = 0;
        for (int i = 0; i < 3; ++i)
            candidates += reply(i).usage().candidatesTokenCount.value_or(0);
        QCOMPARE(candidates, 12);
    }

    void notAnObjectIsUnreadable_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::newRow("not json") << QByteArray("<html>busy</html>");
        QTest::newRow("array") << QByteArray("[]");
        QTest::newRow("garbage after") << QByteArray("{\"candidates\":[]}x");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("truncated envelope") << QByteArray("{\"candidates\":[{\"content\":");
    }

    void notAnObjectIsUnreadable()
    {
        QFETCH(QByteArray, body);
        const QList<PackCodec::Member> members{{QStringLiteral("0"), QStringLiteral("a")}};
        QVERIFY(!PackCodec::readAnswer(body, members));
        QVERIFY(!GeminiResponse::parse(body)); // the oracle's first step refuses it too
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
