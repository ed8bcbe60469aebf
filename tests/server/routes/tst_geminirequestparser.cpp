// GeminiRequestParser: agents' request bodies per operation. Valid bodies
// (the recorded SDK requests among them) parse to the expected object; each
// invalid shape names its JSON path and HTTP status (400 or 415); snake_case
// keys become lowerCamel except inside free-form maps; unknown fields stay.
#include "server/routes/geminirequestparser.h"
#include "tests/support/fixtures.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

Q_DECLARE_METATYPE(Operation)

namespace {

QJsonObject json(const QByteArray &text)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(text, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        qFatal("bad JSON in a test row: %s", text.constData());
    return doc.object();
}

struct Recorded {
    QByteArray contentType;
    QByteArray body;
};

// The request of a js-genai recording (first interaction): its Content-Type
// header and its body, serialised again (the recording stores it parsed).
Recorded recordedRequest(const char *name)
{
    const QJsonObject rec = QJsonDocument::fromJson(readFixture(QLatin1String(name))).object();
    const QJsonObject request = rec.value(QLatin1String("interactions")).toArray().at(0).toObject()
                                    .value(QLatin1String("request")).toObject();
    const QJsonObject body = request.value(QLatin1String("bodySegments")).toArray().at(0).toObject();
    return {request.value(QLatin1String("headers")).toObject().value(QLatin1String("Content-Type")).toString().toLatin1(),
            QJsonDocument(body).toJson()};
}

const QByteArray kJson = QByteArrayLiteral("application/json");

} // namespace

class TestGeminiRequestParser : public QObject
{
    Q_OBJECT

private slots:
    // Bodies that must be accepted, and the object parseBody hands on.
    void validBodies_data()
    {
        QTest::addColumn<Operation>("op");
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QJsonObject>("expected");

        using Op = Operation;
        const struct {
            const char *file;
            Op op;
        } recordings[] = {
            {"recording_generateContent_gemini-2.5-flash_maxtokens.json", Op::GenerateContent},
            {"recording_generateContent_jsonschema_gemini-2.5-flash.json", Op::GenerateContent},
            {"recording_streamGenerateContent_gemini-2.5-flash.json", Op::StreamGenerateContent},
            {"recording_error_404_streamGenerateContent.json", Op::StreamGenerateContent},
            {"recording_countTokens_gemini-2.5-flash.json", Op::CountTokens},
        };
        for (const auto &r : recordings) {
            const Recorded rec = recordedRequest(r.file);
            QVERIFY(!rec.contentType.isEmpty());
            // No snake_case key in them: parsed as sent.
            QTest::addRow("recorded %s", r.file) << r.op << rec.contentType << rec.body << json(rec.body);
        }

        const QByteArray hello = R"({"contents":[{"parts":[{"text":"hello"}]}]})";
        QTest::newRow("generate: minimal") << Op::GenerateContent << kJson << hello << json(hello);
        QTest::newRow("generate: no Content-Type") << Op::GenerateContent << QByteArray() << hello << json(hello);
        QTest::newRow("generate: surrounding whitespace") << Op::GenerateContent << kJson << QByteArray(" \r\n" + hello + "\n ") << json(hello);
        const QByteArray full = R"({"contents":[{"role":"user","parts":[{"text":"a"},{"inlineData":{"mimeType":"image/png","data":"iVBORw0K"}}]},
            {"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"name":"f","response":{}}}]}],
            "systemInstruction":{"parts":[{"text":"be brief"}]},"generationConfig":{"temperature":0.2,"stopSequences":["x"]},
            "tools":[{"functionDeclarations":[{"name":"f"}]}],"toolConfig":{"functionCallingConfig":{"mode":"AUTO"}},
            "safetySettings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}],"cachedContent":"cachedContents/c"})";
        QTest::newRow("generate: every field, parts without text") << Op::GenerateContent << kJson << full << json(full);
        QTest::newRow("generate: systemInstruction with a role") << Op::GenerateContent << kJson
            << QByteArray(R"({"contents":[{"parts":[{"text":"a"}]}],"systemInstruction":{"role":"system","parts":[{"text":"s"}]}})")
            << json(R"({"contents":[{"parts":[{"text":"a"}]}],"systemInstruction":{"role":"system","parts":[{"text":"s"}]}})");
        QTest::newRow("generate: unknown fields kept") << Op::GenerateContent << kJson
            << QByteArray(R"({"contents":[{"parts":[{"text":"a","futurePartField":1}],"futureContentField":[]}],"futureField":{"x":[1,2]}})")
            << json(R"({"contents":[{"parts":[{"text":"a","futurePartField":1}],"futureContentField":[]}],"futureField":{"x":[1,2]}})");
        QTest::newRow("stream: minimal") << Op::StreamGenerateContent << kJson << hello << json(hello);
        QTest::newRow("countTokens: contents") << Op::CountTokens << kJson << hello << json(hello);
        const QByteArray wrapped = R"({"generateContentRequest":{"model":"models/gemini-2.0-flash","contents":[{"parts":[{"text":"a"}]}]}})";
        QTest::newRow("countTokens: generateContentRequest") << Op::CountTokens << kJson << wrapped << json(wrapped);
        QTest::newRow("countTokens: generate_content_request normalised") << Op::CountTokens << kJson
            << QByteArray(R"({"generate_content_request":{"contents":[{"parts":[{"text":"a"}]}],"generation_config":{"max_output_tokens":5}}})")
            << json(R"({"generateContentRequest":{"contents":[{"parts":[{"text":"a"}]}],"generationConfig":{"maxOutputTokens":5}}})");
        const QByteArray embed = R"({"model":"models/gemini-embedding-001","content":{"parts":[{"text":"a"}]},"taskType":"RETRIEVAL_QUERY","outputDimensionality":256})";
        QTest::newRow("embed: content") << Op::EmbedContent << kJson << embed << json(embed);
        QTest::newRow("embed: task_type normalised") << Op::EmbedContent << kJson
            << QByteArray(R"({"content":{"parts":[{"text":"a"}]},"task_type":"CLUSTERING","output_dimensionality":8})")
            << json(R"({"content":{"parts":[{"text":"a"}]},"taskType":"CLUSTERING","outputDimensionality":8})");
        const QByteArray batch = R"({"requests":[{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"a"}]}},
            {"model":"models/gemini-embedding-001","content":{"role":"user","parts":[{"text":"b"}]},"taskType":"CLUSTERING"}]})";
        QTest::newRow("batchEmbed: two requests") << Op::BatchEmbedContents << kJson << batch << json(batch);
        QByteArray hundred = R"({"requests":[)";
        for (int i = 0; i < 100; ++i)
            hundred += QByteArray(i ? "," : "") + R"({"content":{"parts":[{"text":"x"}]}})";
        hundred += "]}";
        QTest::newRow("batchEmbed: 100 requests, Gemini's cap") << Op::BatchEmbedContents << kJson << hundred << json(hundred);
        // The fast path skips normalising a body without '_': an escaped
        // underscore (\u005f, \u005F) must still be found.
        QTest::newRow("generate: escaped underscore in a key") << Op::GenerateContent << kJson
            << QByteArray(R"({"contents":[{"parts":[{"text":"a"}]}],"generation\u005fconfig":{"max\u005foutput\u005Ftokens":3}})")
            << json(R"({"contents":[{"parts":[{"text":"a"}]}],"generationConfig":{"maxOutputTokens":3}})");
        QTest::newRow("generate: uppercase escape only") << Op::GenerateContent << kJson
            << QByteArray(R"({"contents":[{"parts":[{"text":"a"}]}],"system\u005Finstruction":{"parts":[{"text":"s"}]}})")
            << json(R"({"contents":[{"parts":[{"text":"a"}]}],"systemInstruction":{"parts":[{"text":"s"}]}})");
    }

    void validBodies()
    {
        QFETCH(Operation, op);
        QFETCH(QByteArray, contentType);
        QFETCH(QByteArray, body);
        QFETCH(QJsonObject, expected);

        QJsonObject out;
        const GeminiRequestParser::Error e = GeminiRequestParser::parseBody(op, contentType, body, &out);
        QVERIFY2(e.isNull(), qPrintable(QStringLiteral("%1 %2: %3").arg(e.httpStatus).arg(e.field, e.message)));
        QCOMPARE(out, expected);
        // validate() agrees on the normalised object.
        QVERIFY(GeminiRequestParser::validate(op, out).isNull());
    }

    // Each invalid shape: the HTTP status, the JSON path in `field` (empty for
    // body-level errors) and the message. Rows whose message has a Qt-made
    // tail (parse errors) give only its start.
    void invalidBodies_data()
    {
        QTest::addColumn<Operation>("op");
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("http");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("message");
        QTest::addColumn<bool>("exact");

        using Op = Operation;
        const QByteArray hello = R"({"contents":[{"parts":[{"text":"hello"}]}]})";
        auto row = [](const char *name, Op op, const QByteArray &body, const char *field, const QString &message) {
            QTest::newRow(name) << op << kJson << body << 400 << QString::fromLatin1(field) << message << true;
        };

        // Body level, any operation.
        QTest::newRow("415 text/plain") << Op::GenerateContent << QByteArray("text/plain") << hello << 415 << QString()
                                        << QStringLiteral("Content-Type must be application/json, not text/plain") << true;
        QTest::newRow("415 form (curl -d default)") << Op::EmbedContent << QByteArray("application/x-www-form-urlencoded")
            << QByteArray(R"({"content":{"parts":[{"text":"a"}]}})") << 415 << QString()
            << QStringLiteral("Content-Type must be application/json, not application/x-www-form-urlencoded") << true;
        QTest::newRow("415 before an empty body") << Op::GenerateContent << QByteArray("text/html; charset=utf-8") << QByteArray()
            << 415 << QString() << QStringLiteral("Content-Type must be application/json, not text/html; charset=utf-8") << true;
        row("empty body", Op::GenerateContent, QByteArray(), "", QStringLiteral("request body is empty; expected a JSON object"));
        row("whitespace body", Op::CountTokens, QByteArray(" \r\n\t"), "", QStringLiteral("request body is empty; expected a JSON object"));
        QTest::newRow("truncated JSON") << Op::GenerateContent << kJson << QByteArray(R"({"contents":[)") << 400 << QString()
                                        << QStringLiteral("invalid JSON at byte ") << false;
        QTest::newRow("trailing garbage") << Op::GenerateContent << kJson << QByteArray(hello + " x") << 400 << QString()
                                          << QStringLiteral("invalid JSON at byte ") << false;
        QTest::newRow("invalid UTF-8") << Op::GenerateContent << kJson << QByteArray("{\"contents\":[{\"parts\":[{\"text\":\"\xff\xfe\"}]}]}")
                                       << 400 << QString() << QStringLiteral("request body is not valid UTF-8 (at byte ") << false;
        row("array body", Op::GenerateContent, QByteArray(R"([{"contents":[]}])"), "", QStringLiteral("request body must be a JSON object"));
        row("batchEmbed: array body", Op::BatchEmbedContents, QByteArray("[]"), "", QStringLiteral("request body must be a JSON object"));

        // generateContent / streamGenerateContent / countTokens share the checks.
        for (const Op op : {Op::GenerateContent, Op::StreamGenerateContent, Op::CountTokens}) {
            const QByteArray n = operationName(op).toLatin1() + ": ";
            auto r = [&](const char *name, const QByteArray &body, const char *field, const QString &message) {
                QTest::newRow((n + name).constData()) << op << kJson << body << 400 << QString::fromLatin1(field) << message << true;
            };
            r("no contents", "{}", "contents", QStringLiteral("contents is required"));
            r("contents a string", R"({"contents":"hi"})", "contents", QStringLiteral("contents must be a list, not a string"));
            r("contents an object", R"({"contents":{"parts":[{"text":"a"}]}})", "contents",
              QStringLiteral("contents must be a list, not an object"));
            r("contents null", R"({"contents":null})", "contents", QStringLiteral("contents must be a list, not null"));
            r("contents empty", R"({"contents":[]})", "contents", QStringLiteral("contents must not be empty"));
            r("content a number", R"({"contents":[1]})", "contents[0]", QStringLiteral("contents[0] must be an object, not a number"));
            r("second content a list", R"({"contents":[{"parts":[{"text":"a"}]},[]]})", "contents[1]",
              QStringLiteral("contents[1] must be an object, not a list"));
            r("role a number", R"({"contents":[{"role":1,"parts":[{"text":"a"}]}]})", "contents[0].role",
              QStringLiteral("contents[0].role must be a string"));
            r("no parts", R"({"contents":[{"role":"user"}]})", "contents[0].parts", QStringLiteral("contents[0].parts must be a list"));
            r("parts an object", R"({"contents":[{"parts":{"text":"a"}}]})", "contents[0].parts",
              QStringLiteral("contents[0].parts must be a list"));
            r("parts empty", R"({"contents":[{"parts":[]}]})", "contents[0].parts", QStringLiteral("contents[0].parts must not be empty"));
            r("part a string", R"({"contents":[{"parts":["hi"]}]})", "contents[0].parts[0]",
              QStringLiteral("contents[0].parts[0] must be an object, not a string"));
            r("text a number", R"({"contents":[{"parts":[{"text":5}]}]})", "contents[0].parts[0].text",
              QStringLiteral("contents[0].parts[0].text must be a string"));
            r("third part's text null", R"({"contents":[{"parts":[{"text":"a"}]},{"parts":[{"text":"b"},{},{"text":null}]}]})",
              "contents[1].parts[2].text", QStringLiteral("contents[1].parts[2].text must be a string"));
            r("generationConfig a string", QByteArray(R"({"generationConfig":"x",)") + hello.mid(1), "generationConfig",
              QStringLiteral("generationConfig must be an object, not a string"));
            r("generation_config a list", QByteArray(R"({"generation_config":[],)") + hello.mid(1), "generationConfig",
              QStringLiteral("generationConfig must be an object, not a list"));
            r("toolConfig a number", QByteArray(R"({"toolConfig":1,)") + hello.mid(1), "toolConfig",
              QStringLiteral("toolConfig must be an object, not a number"));
            r("tools an object", QByteArray(R"({"tools":{},)") + hello.mid(1), "tools", QStringLiteral("tools must be a list, not an object"));
            r("safety_settings a string", QByteArray(R"({"safety_settings":"x",)") + hello.mid(1), "safetySettings",
              QStringLiteral("safetySettings must be a list, not a string"));
            r("systemInstruction a string", QByteArray(R"({"systemInstruction":"be brief",)") + hello.mid(1), "systemInstruction",
              QStringLiteral("systemInstruction must be an object, not a string"));
            r("systemInstruction without parts", QByteArray(R"({"systemInstruction":{},)") + hello.mid(1), "systemInstruction.parts",
              QStringLiteral("systemInstruction.parts must be a list"));
            r("system_instruction empty parts", QByteArray(R"({"system_instruction":{"parts":[]},)") + hello.mid(1),
              "systemInstruction.parts", QStringLiteral("systemInstruction.parts must not be empty"));
            r("systemInstruction text a bool", QByteArray(R"({"systemInstruction":{"parts":[{"text":true}]},)") + hello.mid(1),
              "systemInstruction.parts[0].text", QStringLiteral("systemInstruction.parts[0].text must be a string"));
        }

        // countTokens' generateContentRequest form: the path is prefixed.
        row("countTokens: generateContentRequest a string", Op::CountTokens, R"({"generateContentRequest":"x"})",
            "generateContentRequest", QStringLiteral("generateContentRequest must be an object"));
        row("countTokens: generateContentRequest without contents", Op::CountTokens, R"({"generateContentRequest":{}})",
            "generateContentRequest.contents", QStringLiteral("generateContentRequest.contents is required"));
        row("countTokens: generateContentRequest bad text", Op::CountTokens,
            R"({"generateContentRequest":{"contents":[{"parts":[{"text":1}]}]}})", "generateContentRequest.contents[0].parts[0].text",
            QStringLiteral("generateContentRequest.contents[0].parts[0].text must be a string"));
        row("countTokens: generate_content_request bad tools", Op::CountTokens,
            R"({"generate_content_request":{"contents":[{"parts":[{"text":"a"}]}],"tools":"x"}})", "generateContentRequest.tools",
            QStringLiteral("generateContentRequest.tools must be a list, not a string"));

        // embedContent
        row("embed: no content", Op::EmbedContent, "{}", "content", QStringLiteral("content is required"));
        row("embed: contents instead of content", Op::EmbedContent, hello, "content", QStringLiteral("content is required"));
        row("embed: content a string", Op::EmbedContent, R"({"content":"a"})", "content",
            QStringLiteral("content must be an object, not a string"));
        row("embed: content null", Op::EmbedContent, R"({"content":null})", "content", QStringLiteral("content must be an object, not null"));
        row("embed: no parts", Op::EmbedContent, R"({"content":{}})", "content.parts", QStringLiteral("content.parts must be a list"));
        row("embed: parts empty", Op::EmbedContent, R"({"content":{"parts":[]}})", "content.parts",
            QStringLiteral("content.parts must not be empty"));
        row("embed: text a bool", Op::EmbedContent, R"({"content":{"parts":[{"text":true}]}})", "content.parts[0].text",
            QStringLiteral("content.parts[0].text must be a string"));
        row("embed: role a list", Op::EmbedContent, R"({"content":{"role":[],"parts":[{"text":"a"}]}})", "content.role",
            QStringLiteral("content.role must be a string"));

        // batchEmbedContents
        row("batchEmbed: no requests", Op::BatchEmbedContents, "{}", "requests", QStringLiteral("requests is required"));
        row("batchEmbed: requests an object", Op::BatchEmbedContents, R"({"requests":{}})", "requests",
            QStringLiteral("requests must be a list"));
        row("batchEmbed: requests empty", Op::BatchEmbedContents, R"({"requests":[]})", "requests",
            QStringLiteral("requests must not be empty"));
        row("batchEmbed: request a number", Op::BatchEmbedContents, R"({"requests":[1]})", "requests[0]",
            QStringLiteral("requests[0] must be an object"));
        row("batchEmbed: request without content", Op::BatchEmbedContents, R"({"requests":[{"model":"models/m"}]})",
            "requests[0].content", QStringLiteral("requests[0].content is required"));
        row("batchEmbed: second request's parts a string", Op::BatchEmbedContents,
            R"({"requests":[{"content":{"parts":[{"text":"a"}]}},{"content":{"parts":"b"}}]})", "requests[1].content.parts",
            QStringLiteral("requests[1].content.parts must be a list"));
        {
            QByteArray over = R"({"requests":[)";
            for (int i = 0; i < 101; ++i)
                over += QByteArray(i ? "," : "") + R"({"content":{"parts":[{"text":"x"}]}})";
            over += "]}";
            row("batchEmbed: 101 requests", Op::BatchEmbedContents, over, "requests",
                QStringLiteral("* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch\n"));
        }
        row("batchEmbed: content a list", Op::BatchEmbedContents, R"({"requests":[{"content":[]}]})", "requests[0].content",
            QStringLiteral("requests[0].content must be an object, not a list"));
        row("batchEmbed: part text a number", Op::BatchEmbedContents,
            R"({"requests":[{"content":{"parts":[{"text":"a"},{"text":2}]}}]})", "requests[0].content.parts[1].text",
            QStringLiteral("requests[0].content.parts[1].text must be a string"));
    }

    void invalidBodies()
    {
        QFETCH(Operation, op);
        QFETCH(QByteArray, contentType);
        QFETCH(QByteArray, body);
        QFETCH(int, http);
        QFETCH(QString, field);
        QFETCH(QString, message);
        QFETCH(bool, exact);

        const QJsonObject untouched{{QStringLiteral("sentinel"), true}};
        QJsonObject out = untouched;
        const GeminiRequestParser::Error e = GeminiRequestParser::parseBody(op, contentType, body, &out);
        QVERIFY(!e.isNull());
        QCOMPARE(e.httpStatus, http);
        QCOMPARE(e.field, field);
        if (exact)
            QCOMPARE(e.message, message);
        else
            QVERIFY2(e.message.startsWith(message), qPrintable(e.message));
        // The message names the path it reports.
        QVERIFY2(e.message.contains(field), qPrintable(e.message));
        QCOMPARE(out, untouched); // nothing handed on
    }

    // Content types: any JSON media type (parameters and case ignored) or
    // none at all; anything else is 415.
    void contentTypes_data()
    {
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<bool>("json");

        QTest::newRow("absent") << QByteArray() << true;
        QTest::newRow("application/json") << QByteArray("application/json") << true;
        QTest::newRow("charset") << QByteArray("application/json; charset=utf-8") << true;
        QTest::newRow("charset, no space") << QByteArray("application/json;charset=UTF-8") << true;
        QTest::newRow("upper case") << QByteArray("Application/JSON") << true;
        QTest::newRow("surrounding spaces") << QByteArray("  application/json  ") << true;
        QTest::newRow("+json suffix") << QByteArray("application/vnd.api+json") << true;
        QTest::newRow("+json with parameter") << QByteArray("application/problem+json; charset=utf-8") << true;
        QTest::newRow("text/plain") << QByteArray("text/plain") << false;
        QTest::newRow("form") << QByteArray("application/x-www-form-urlencoded") << false;
        QTest::newRow("multipart") << QByteArray("multipart/form-data; boundary=x") << false;
        QTest::newRow("application/jsonx") << QByteArray("application/jsonx") << false;
        QTest::newRow("application/json5") << QByteArray("application/json5") << false;
        QTest::newRow("json only as a parameter") << QByteArray("text/plain; type=application/json") << false;
        QTest::newRow("text/json") << QByteArray("text/json") << false;
        QTest::newRow("octet-stream") << QByteArray("application/octet-stream") << false;
    }

    void contentTypes()
    {
        QFETCH(QByteArray, contentType);
        QFETCH(bool, json);

        QCOMPARE(GeminiRequestParser::isJsonContentType(contentType), json);
        QJsonObject out;
        const GeminiRequestParser::Error e = GeminiRequestParser::parseBody(
            Operation::GenerateContent, contentType, R"({"contents":[{"parts":[{"text":"a"}]}]})", &out);
        QCOMPARE(e.httpStatus, json ? 0 : 415);
        if (!json) {
            QVERIFY(e.field.isEmpty());
            QVERIFY2(e.message.contains(QString::fromLatin1(contentType)), qPrintable(e.message));
        }
    }

    // snake_case → lowerCamel, recursively through objects and lists, except
    // inside free-form maps (schema properties, function args and response,
    // labels, JSON schemas), whose user-defined names are kept.
    void normalizeKeys_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QByteArray>("expected");

        auto row = [](const char *name, const char *in, const char *out) {
            QTest::newRow(name) << QByteArray(in) << QByteArray(out);
        };
        row("no underscore: unchanged", R"({"contents":[{"parts":[{"text":"a_b"}]}],"generationConfig":{"topK":1}})",
            R"({"contents":[{"parts":[{"text":"a_b"}]}],"generationConfig":{"topK":1}})");
        row("top level", R"({"generation_config":{},"system_instruction":{},"tool_config":{},"safety_settings":[],"cached_content":"c"})",
            R"({"generationConfig":{},"systemInstruction":{},"toolConfig":{},"safetySettings":[],"cachedContent":"c"})");
        row("nested objects", R"({"generation_config":{"max_output_tokens":5,"thinking_config":{"thinking_budget":50,"include_thoughts":true}}})",
            R"({"generationConfig":{"maxOutputTokens":5,"thinkingConfig":{"thinkingBudget":50,"includeThoughts":true}}})");
        row("inside lists", R"({"contents":[{"parts":[{"inline_data":{"mime_type":"image/png","data":"x"}},{"file_data":{"file_uri":"u"}}]}]})",
            R"({"contents":[{"parts":[{"inlineData":{"mimeType":"image/png","data":"x"}},{"fileData":{"fileUri":"u"}}]}]})");
        row("values are not rewritten", R"({"safety_settings":[{"category":"HARM_CATEGORY_HATE_SPEECH","threshold":"BLOCK_ONLY_HIGH"}],"text":"snake_case"})",
            R"({"safetySettings":[{"category":"HARM_CATEGORY_HATE_SPEECH","threshold":"BLOCK_ONLY_HIGH"}],"text":"snake_case"})");
        row("several underscores", R"({"a_b_c_d":1})", R"({"aBCD":1})");
        row("lowerCamel wins when both are sent", R"({"generationConfig":{"temperature":1},"generation_config":{"temperature":2}})",
            R"({"generationConfig":{"temperature":1}})");
        row("lowerCamel wins, nested", R"({"generation_config":{"maxOutputTokens":1,"max_output_tokens":2}})",
            R"({"generationConfig":{"maxOutputTokens":1}})");
        row("unknown fields are normalised, not dropped", R"({"future_field":{"some_key":[{"deep_key":1}]},"keep":2})",
            R"({"futureField":{"someKey":[{"deepKey":1}]},"keep":2})");
        // Free-form maps: the key itself is normalised, what is inside is not.
        row("function args", R"({"contents":[{"parts":[{"function_call":{"name":"get_weather","args":{"city_name":"Oslo","unit_opts":{"temp_c":true}}}}]}]})",
            R"({"contents":[{"parts":[{"functionCall":{"name":"get_weather","args":{"city_name":"Oslo","unit_opts":{"temp_c":true}}}}]}]})");
        row("function response", R"({"contents":[{"parts":[{"function_response":{"name":"f","response":{"temp_c":20,"feels_like":{"wind_chill":1}}}}]}]})",
            R"({"contents":[{"parts":[{"functionResponse":{"name":"f","response":{"temp_c":20,"feels_like":{"wind_chill":1}}}}]}]})");
        row("schema properties", R"({"tools":[{"function_declarations":[{"name":"f","parameters":{"type":"OBJECT","required":["user_id"],
                "properties":{"user_id":{"type":"STRING","max_length":"8"},"first_name":{"type":"STRING"}}}}]}]})",
            R"({"tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"OBJECT","required":["user_id"],
                "properties":{"user_id":{"type":"STRING","max_length":"8"},"first_name":{"type":"STRING"}}}}]}]})");
        row("response schema: its own keys normalised, properties kept",
            R"({"generation_config":{"response_mime_type":"application/json","response_schema":{"type":"OBJECT",
                "property_ordering":["first_name"],"properties":{"first_name":{"type":"STRING"}}}}})",
            R"({"generationConfig":{"responseMimeType":"application/json","responseSchema":{"type":"OBJECT",
                "propertyOrdering":["first_name"],"properties":{"first_name":{"type":"STRING"}}}}})");
        row("response_json_schema kept whole", R"({"generation_config":{"response_json_schema":{"type":"object",
                "additional_properties":false,"x_extension":{"a_b":1}}}})",
            R"({"generationConfig":{"responseJsonSchema":{"type":"object","additional_properties":false,"x_extension":{"a_b":1}}}})");
        row("responseJsonSchema kept whole", R"({"generationConfig":{"responseJsonSchema":{"$defs":{"my_type":{"type":"string"}}}}})",
            R"({"generationConfig":{"responseJsonSchema":{"$defs":{"my_type":{"type":"string"}}}}})");
        row("parameters_json_schema kept whole", R"({"tools":[{"function_declarations":[{"name":"f","parameters_json_schema":{"min_items":1}}]}]})",
            R"({"tools":[{"functionDeclarations":[{"name":"f","parametersJsonSchema":{"min_items":1}}]}]})");
        row("parametersJsonSchema kept whole", R"({"tools":[{"functionDeclarations":[{"name":"f","parametersJsonSchema":{"min_items":1}}]}]})",
            R"({"tools":[{"functionDeclarations":[{"name":"f","parametersJsonSchema":{"min_items":1}}]}]})");
        row("labels", R"({"labels":{"team_name":"search","cost_center":"x"},"cached_content":"c"})",
            R"({"labels":{"team_name":"search","cost_center":"x"},"cachedContent":"c"})");
    }

    void normalizeKeys()
    {
        QFETCH(QByteArray, input);
        QFETCH(QByteArray, expected);

        const QJsonObject in = json(input);
        const QJsonObject out = GeminiRequestParser::normalizeKeys(in);
        QCOMPARE(out, json(expected));
        // Idempotent: a normalised object stays as it is.
        QCOMPARE(GeminiRequestParser::normalizeKeys(out), out);
    }

    // X-Request-Deadline-Ms: a positive count of milliseconds; too large
    // saturates (never wraps, never fails); anything else names the header.
    void deadlineHeader_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<qint64>("ms");
        const qint64 max = GeminiRequestParser::kMaxDeadline.count();
        QTest::newRow("100") << QByteArray("100") << true << qint64(100);
        QTest::newRow("blanks around") << QByteArray(" 2500\t") << true << qint64(2500);
        QTest::newRow("leading zeros") << QByteArray("0042") << true << qint64(42);
        QTest::newRow("1") << QByteArray("1") << true << qint64(1);
        QTest::newRow("2^31-1") << QByteArray("2147483647") << true << max;
        QTest::newRow("2^31: saturates") << QByteArray("2147483648") << true << max;
        QTest::newRow("2^63-1: saturates") << QByteArray("9223372036854775807") << true << max;
        QTest::newRow("2^63: saturates") << QByteArray("9223372036854775808") << true << max;
        QTest::newRow("2^64+1: saturates") << QByteArray("18446744073709551617") << true << max;
        QTest::newRow("40 digits: saturates") << QByteArray(40, '9') << true << max;
        QTest::newRow("empty") << QByteArray("") << false << qint64(0);
        QTest::newRow("blank") << QByteArray("  ") << false << qint64(0);
        QTest::newRow("0") << QByteArray("0") << false << qint64(0);
        QTest::newRow("000") << QByteArray("000") << false << qint64(0);
        QTest::newRow("negative") << QByteArray("-100") << false << qint64(0);
        QTest::newRow("plus sign") << QByteArray("+100") << false << qint64(0);
        QTest::newRow("fraction") << QByteArray("1.5") << false << qint64(0);
        QTest::newRow("exponent") << QByteArray("1e3") << false << qint64(0);
        QTest::newRow("words") << QByteArray("soon") << false << qint64(0);
        QTest::newRow("digits then junk") << QByteArray("100ms") << false << qint64(0);
        QTest::newRow("inner blank") << QByteArray("1 00") << false << qint64(0);
        QTest::newRow("huge then junk") << QByteArray(30, '9') + 'x' << false << qint64(0);
    }
    void deadlineHeader()
    {
        QFETCH(QByteArray, value);
        QFETCH(bool, valid);
        QFETCH(qint64, ms);
        std::chrono::milliseconds out{-1};
        const GeminiRequestParser::Error e = GeminiRequestParser::parseDeadlineHeader(value, &out);
        QCOMPARE(e.isNull(), valid);
        if (valid) {
            QCOMPARE(out.count(), ms);
        } else {
            QCOMPARE(e.httpStatus, 400);
            QCOMPARE(e.field, QStringLiteral("X-Request-Deadline-Ms"));
            QVERIFY(e.message.contains(QLatin1String("X-Request-Deadline-Ms")));
            QCOMPARE(out.count(), qint64(-1)); // untouched
        }
    }
};

QTEST_GUILESS_MAIN(TestGeminiRequestParser)
#include "tst_geminirequestparser.moc"
