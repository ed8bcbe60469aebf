// BatchKey (DESIGN.md §6): which requests may share one upstream call.
// Equal keys: the same model, operation and compatibility fields
// (generationConfig, systemInstruction, tools, toolConfig, safetySettings,
// cachedContent), however they are spelled or ordered; different keys: any
// of those differs. Embedding operations key on model + operation only.
#include "core/engine/batchkey.h"
#include "tests/support/fixtures.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

Q_DECLARE_METATYPE(Operation)

namespace {

QJsonObject body(const QByteArray &text)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(text, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        qFatal("bad JSON in a test row: %s", text.constData());
    return doc.object();
}

// The request body of a js-genai recording (first interaction).
QByteArray recordedRequest(const char *name)
{
    const QJsonObject rec = QJsonDocument::fromJson(readFixture(QLatin1String(name))).object();
    const QJsonObject request = rec.value(QLatin1String("interactions")).toArray().at(0).toObject()
                                    .value(QLatin1String("request")).toObject();
    return QJsonDocument(request.value(QLatin1String("bodySegments")).toArray().at(0).toObject()).toJson();
}

// The recorded body with its contents replaced (what another agent with the
// same SDK settings would send).
QByteArray withOtherContents(const QByteArray &json)
{
    QJsonObject o = body(json);
    o.insert(QStringLiteral("contents"), QJsonDocument::fromJson(R"([{"role":"user","parts":[{"text":"another agent"}]}])").array());
    return QJsonDocument(o).toJson();
}

const QString kModel = QStringLiteral("gemini-2.0-flash");

} // namespace

class TestBatchKey : public QObject
{
    Q_OBJECT

private slots:
    void equalKeys_data()
    {
        QTest::addColumn<Operation>("op");
        QTest::addColumn<QByteArray>("a");
        QTest::addColumn<QByteArray>("b");

        using Op = Operation;
        // generateContent: what each member asks may differ; how the model runs may not.
        QTest::newRow("generate: contents differ, no config") << Op::GenerateContent
            << QByteArray(R"({"contents":[{"parts":[{"text":"a"}]}]})")
            << QByteArray(R"({"contents":[{"role":"user","parts":[{"text":"b"},{"text":"c"}]}]})");
        QTest::newRow("generate: contents differ, same config") << Op::GenerateContent
            << QByteArray(R"({"contents":[{"parts":[{"text":"a"}]}],"generationConfig":{"temperature":0.2}})")
            << QByteArray(R"({"contents":[{"parts":[{"text":"b"}]}],"generationConfig":{"temperature":0.2}})");
        QTest::newRow("generate: config keys in another order") << Op::GenerateContent
            << QByteArray(R"({"generationConfig":{"temperature":0.2,"maxOutputTokens":64,"topK":3}})")
            << QByteArray(R"({"generationConfig":{"topK":3,"maxOutputTokens":64,"temperature":0.2}})");
        QTest::newRow("generate: nested keys in another order") << Op::GenerateContent
            << QByteArray(R"({"generationConfig":{"thinkingConfig":{"thinkingBudget":50,"includeThoughts":true}},"tools":[{"functionDeclarations":[{"name":"f","description":"d"}]}]})")
            << QByteArray(R"({"tools":[{"functionDeclarations":[{"description":"d","name":"f"}]}],"generationConfig":{"thinkingConfig":{"includeThoughts":true,"thinkingBudget":50}}})");
        QTest::newRow("generate: top-level fields in another order") << Op::GenerateContent
            << QByteArray(R"({"systemInstruction":{"parts":[{"text":"be brief"}]},"generationConfig":{"temperature":1},"contents":[]})")
            << QByteArray(R"({"contents":[],"generationConfig":{"temperature":1},"systemInstruction":{"parts":[{"text":"be brief"}]}})");
        QTest::newRow("generate: 1 and 1.0 are the same number") << Op::GenerateContent
            << QByteArray(R"({"generationConfig":{"temperature":1}})")
            << QByteArray(R"({"generationConfig":{"temperature":1.0}})");
        QTest::newRow("generate: null field is an absent field") << Op::GenerateContent
            << QByteArray(R"({"generationConfig":null,"tools":null})")
            << QByteArray(R"({})");

        // snake_case spelling of each compatibility field (the header's contract).
        QTest::newRow("generate: generation_config") << Op::GenerateContent
            << QByteArray(R"({"generationConfig":{"temperature":0.5}})")
            << QByteArray(R"({"generation_config":{"temperature":0.5}})");
        QTest::newRow("generate: system_instruction") << Op::GenerateContent
            << QByteArray(R"({"systemInstruction":{"parts":[{"text":"be brief"}]}})")
            << QByteArray(R"({"system_instruction":{"parts":[{"text":"be brief"}]}})");
        QTest::newRow("generate: tool_config") << Op::GenerateContent
            << QByteArray(R"({"toolConfig":{"functionCallingConfig":{"mode":"ANY"}}})")
            << QByteArray(R"({"tool_config":{"functionCallingConfig":{"mode":"ANY"}}})");
        QTest::newRow("generate: safety_settings") << Op::GenerateContent
            << QByteArray(R"({"safetySettings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}]})")
            << QByteArray(R"({"safety_settings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}]})");
        QTest::newRow("generate: cached_content") << Op::GenerateContent
            << QByteArray(R"({"cachedContent":"cachedContents/abc"})")
            << QByteArray(R"({"cached_content":"cachedContents/abc"})");
        QTest::newRow("generate: all six, mixed spellings") << Op::GenerateContent
            << QByteArray(R"({"generationConfig":{"topP":0.9},"systemInstruction":{"parts":[{"text":"s"}]},"tools":[{"codeExecution":{}}],
                             "toolConfig":{"functionCallingConfig":{"mode":"AUTO"}},"safetySettings":[],"cachedContent":"cachedContents/x"})")
            << QByteArray(R"({"cached_content":"cachedContents/x","safety_settings":[],"tool_config":{"functionCallingConfig":{"mode":"AUTO"}},
                             "tools":[{"codeExecution":{}}],"system_instruction":{"parts":[{"text":"s"}]},"generation_config":{"topP":0.9}})");
        // GeminiRequestParser::normalizeKeys's rule: the lowerCamel spelling wins.
        QTest::newRow("generate: lowerCamel wins over snake_case") << Op::GenerateContent
            << QByteArray(R"({"generationConfig":{"temperature":0.1},"generation_config":{"temperature":0.9}})")
            << QByteArray(R"({"generationConfig":{"temperature":0.1}})");

        QTest::newRow("stream: contents differ, same config") << Op::StreamGenerateContent
            << QByteArray(R"({"contents":[{"parts":[{"text":"a"}]}],"generationConfig":{"maxOutputTokens":8}})")
            << QByteArray(R"({"contents":[{"parts":[{"text":"b"}]}],"generation_config":{"maxOutputTokens":8}})");
        QTest::newRow("countTokens: contents differ") << Op::CountTokens
            << QByteArray(R"({"contents":[{"parts":[{"text":"a"}]}]})")
            << QByteArray(R"({"contents":[{"parts":[{"text":"bb"}]}]})");

        // Embeddings carry taskType/title/outputDimensionality per entry, so
        // model + operation is the whole key.
        QTest::newRow("embed: content and per-entry fields differ") << Op::EmbedContent
            << QByteArray(R"({"content":{"parts":[{"text":"a"}]},"taskType":"RETRIEVAL_QUERY"})")
            << QByteArray(R"({"content":{"parts":[{"text":"b"}]},"taskType":"RETRIEVAL_DOCUMENT","title":"t","outputDimensionality":256})");
        QTest::newRow("embed: generationConfig is not part of it") << Op::EmbedContent
            << QByteArray(R"({"content":{"parts":[{"text":"a"}]},"generationConfig":{"temperature":1}})")
            << QByteArray(R"({"content":{"parts":[{"text":"a"}]}})");
        QTest::newRow("batchEmbed: requests differ") << Op::BatchEmbedContents
            << QByteArray(R"({"requests":[{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"a"}]}}]})")
            << QByteArray(R"({"requests":[{"content":{"parts":[{"text":"b"}]},"taskType":"CLUSTERING"},{"content":{"parts":[{"text":"c"}]}}]})");

        // Recorded SDK requests (js-genai) and the same settings with other contents.
        const QByteArray maxTokens = recordedRequest("recording_generateContent_gemini-2.5-flash_maxtokens.json");
        const QByteArray jsonSchema = recordedRequest("recording_generateContent_jsonschema_gemini-2.5-flash.json");
        const QByteArray stream = recordedRequest("recording_streamGenerateContent_gemini-2.5-flash.json");
        QTest::newRow("recorded generate, maxOutputTokens") << Op::GenerateContent << maxTokens << withOtherContents(maxTokens);
        QTest::newRow("recorded generate, responseJsonSchema") << Op::GenerateContent << jsonSchema << withOtherContents(jsonSchema);
        QTest::newRow("recorded stream") << Op::StreamGenerateContent << stream << withOtherContents(stream);
    }

    void equalKeys()
    {
        QFETCH(Operation, op);
        QFETCH(QByteArray, a);
        QFETCH(QByteArray, b);

        const QByteArray keyA = BatchKey::compute(kModel, op, body(a));
        const QByteArray keyB = BatchKey::compute(kModel, op, body(b));
        QCOMPARE(keyA, keyB);
        QVERIFY(keyA.startsWith(kModel.toUtf8() + ':' + operationName(op).toLatin1()));
    }

    void differentKeys_data()
    {
        QTest::addColumn<QString>("modelA");
        QTest::addColumn<Operation>("opA");
        QTest::addColumn<QByteArray>("a");
        QTest::addColumn<QString>("modelB");
        QTest::addColumn<Operation>("opB");
        QTest::addColumn<QByteArray>("b");

        using Op = Operation;
        const QString m = kModel;
        const QString other = QStringLiteral("gemini-2.5-flash");
        const QByteArray hello = R"({"contents":[{"parts":[{"text":"hello"}]}]})";
        const QByteArray embed = R"({"content":{"parts":[{"text":"hello"}]}})";

        // Model and operation, per operation.
        QTest::newRow("generate: model") << m << Op::GenerateContent << hello << other << Op::GenerateContent << hello;
        QTest::newRow("stream: model") << m << Op::StreamGenerateContent << hello << other << Op::StreamGenerateContent << hello;
        QTest::newRow("countTokens: model") << m << Op::CountTokens << hello << other << Op::CountTokens << hello;
        QTest::newRow("embed: model") << m << Op::EmbedContent << embed << other << Op::EmbedContent << embed;
        QTest::newRow("batchEmbed: model") << m << Op::BatchEmbedContents << embed << other << Op::BatchEmbedContents << embed;
        QTest::newRow("generate vs stream") << m << Op::GenerateContent << hello << m << Op::StreamGenerateContent << hello;
        QTest::newRow("generate vs countTokens") << m << Op::GenerateContent << hello << m << Op::CountTokens << hello;
        QTest::newRow("embed vs batchEmbed") << m << Op::EmbedContent << embed << m << Op::BatchEmbedContents << embed;

        // Each compatibility field: value differs, and present vs absent.
        const struct {
            const char *name;
            QByteArray a;
            QByteArray b;
        } fields[] = {
            {"generationConfig", R"({"generationConfig":{"temperature":0.1}})", R"({"generationConfig":{"temperature":0.2}})"},
            {"systemInstruction", R"({"systemInstruction":{"parts":[{"text":"be brief"}]}})",
             R"({"systemInstruction":{"parts":[{"text":"be verbose"}]}})"},
            {"tools", R"({"tools":[{"functionDeclarations":[{"name":"f"}]}]})", R"({"tools":[{"functionDeclarations":[{"name":"g"}]}]})"},
            {"toolConfig", R"({"toolConfig":{"functionCallingConfig":{"mode":"ANY"}}})",
             R"({"toolConfig":{"functionCallingConfig":{"mode":"NONE"}}})"},
            {"safetySettings", R"({"safetySettings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}]})",
             R"({"safetySettings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_LOW_AND_ABOVE"}]})"},
            {"cachedContent", R"({"cachedContent":"cachedContents/a"})", R"({"cachedContent":"cachedContents/b"})"},
        };
        for (const auto &f : fields) {
            for (const Op op : {Op::GenerateContent, Op::StreamGenerateContent}) {
                const QByteArray opName = operationName(op).toLatin1();
                QTest::addRow("%s: %s differs", opName.constData(), f.name) << m << op << f.a << m << op << f.b;
                QTest::addRow("%s: %s present vs absent", opName.constData(), f.name) << m << op << f.a << m << op << hello;
            }
        }
        // The same fields, spelled snake_case on one side.
        QTest::newRow("generate: generation_config differs") << m << Op::GenerateContent
            << QByteArray(R"({"generationConfig":{"temperature":0.1}})") << m << Op::GenerateContent
            << QByteArray(R"({"generation_config":{"temperature":0.2}})");
        QTest::newRow("generate: system_instruction present vs absent") << m << Op::GenerateContent
            << QByteArray(R"({"system_instruction":{"parts":[{"text":"s"}]}})") << m << Op::GenerateContent << hello;
        QTest::newRow("generate: tool_config present vs absent") << m << Op::GenerateContent
            << QByteArray(R"({"tool_config":{"functionCallingConfig":{"mode":"ANY"}}})") << m << Op::GenerateContent << hello;
        QTest::newRow("generate: safety_settings present vs absent") << m << Op::GenerateContent
            << QByteArray(R"({"safety_settings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}]})")
            << m << Op::GenerateContent << hello;
        QTest::newRow("generate: cached_content present vs absent") << m << Op::GenerateContent
            << QByteArray(R"({"cached_content":"cachedContents/a"})") << m << Op::GenerateContent << hello;

        // Finer differences inside a field.
        QTest::newRow("generate: nested value") << m << Op::GenerateContent
            << QByteArray(R"({"generationConfig":{"thinkingConfig":{"thinkingBudget":50}}})") << m << Op::GenerateContent
            << QByteArray(R"({"generationConfig":{"thinkingConfig":{"thinkingBudget":51}}})");
        QTest::newRow("generate: an extra config key") << m << Op::GenerateContent
            << QByteArray(R"({"generationConfig":{"temperature":0.1}})") << m << Op::GenerateContent
            << QByteArray(R"({"generationConfig":{"temperature":0.1,"seed":7}})");
        QTest::newRow("generate: same value under another field") << m << Op::GenerateContent
            << QByteArray(R"({"toolConfig":{"x":1}})") << m << Op::GenerateContent
            << QByteArray(R"({"generationConfig":{"x":1}})");
        QTest::newRow("generate: tools in another order") << m << Op::GenerateContent
            << QByteArray(R"({"tools":[{"functionDeclarations":[{"name":"f"}]},{"codeExecution":{}}]})") << m << Op::GenerateContent
            << QByteArray(R"({"tools":[{"codeExecution":{}},{"functionDeclarations":[{"name":"f"}]}]})");
        QTest::newRow("generate: number vs string") << m << Op::GenerateContent
            << QByteArray(R"({"generationConfig":{"seed":7}})") << m << Op::GenerateContent
            << QByteArray(R"({"generationConfig":{"seed":"7"}})");
        QTest::newRow("countTokens: generationConfig differs") << m << Op::CountTokens
            << QByteArray(R"({"generationConfig":{"temperature":0.1}})") << m << Op::CountTokens
            << QByteArray(R"({"generationConfig":{"temperature":0.2}})");

        // Recorded SDK requests.
        const QByteArray maxTokens = recordedRequest("recording_generateContent_gemini-2.5-flash_maxtokens.json");
        const QByteArray jsonSchema = recordedRequest("recording_generateContent_jsonschema_gemini-2.5-flash.json");
        QTest::newRow("recorded: maxOutputTokens vs responseJsonSchema") << m << Op::GenerateContent << withOtherContents(maxTokens)
                                                                         << m << Op::GenerateContent << withOtherContents(jsonSchema);
        QTest::newRow("recorded: maxOutputTokens vs plain") << m << Op::GenerateContent << maxTokens
                                                            << m << Op::GenerateContent << hello;
    }

    void differentKeys()
    {
        QFETCH(QString, modelA);
        QFETCH(Operation, opA);
        QFETCH(QByteArray, a);
        QFETCH(QString, modelB);
        QFETCH(Operation, opB);
        QFETCH(QByteArray, b);

        const QByteArray keyA = BatchKey::compute(modelA, opA, body(a));
        const QByteArray keyB = BatchKey::compute(modelB, opB, body(b));
        QVERIFY2(keyA != keyB, keyA.constData());
        // Deterministic: the same input gives the same key again.
        QCOMPARE(BatchKey::compute(modelA, opA, body(a)), keyA);
    }
};

QTEST_GUILESS_MAIN(TestBatchKey)
#include "tst_batchkey.moc"
