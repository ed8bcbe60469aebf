#include "core/gemini/geminiresponse.h"
#include "core/http/sseparser.h"
#include "tests/support/fixtures.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

// GeminiResponse over every recorded Gemini body: nothing is lost (the parsed
// object round-trips to the same JSON) and the accessors read the right values.
class TestGeminiResponse : public QObject
{
    Q_OBJECT

private:
    static QByteArray read(const QString &name) { return readFixture(name); }

    // The response bodies a file holds: the file itself, or for a js-genai
    // recording every element of interactions[].response.bodySegments.
    static QList<QJsonObject> bodies(const QString &name)
    {
        const QJsonObject doc = QJsonDocument::fromJson(read(name)).object();
        if (!doc.contains(QLatin1String("interactions")))
            return {doc};
        QList<QJsonObject> out;
        for (const QJsonValue &i : doc.value(QLatin1String("interactions")).toArray())
            for (const QJsonValue &seg : i.toObject().value(QLatin1String("response")).toObject()
                                             .value(QLatin1String("bodySegments")).toArray())
                out.append(seg.toObject());
        return out;
    }

private slots:
    // Every fixture file is accounted for: parsed here, in tst_sseparser (.txt
    // streams) or explicitly known not to be JSON.
    void everyFixtureRoundTrips_data()
    {
        QTest::addColumn<QString>("file");
        const QStringList files = QDir(QStringLiteral(SLUICE_FIXTURES_DIR))
                                      .entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name);
        QVERIFY(files.size() >= 13);
        for (const QString &f : files)
            QTest::newRow(qPrintable(f)) << f;
    }

    void everyFixtureRoundTrips()
    {
        QFETCH(QString, file);
        const QByteArray raw = read(file);
        QJsonParseError err;
        const QJsonDocument original = QJsonDocument::fromJson(raw, &err);
        QCOMPARE(err.error, QJsonParseError::NoError);

        // The whole file through the parser: same JSON back, compact or re-parsed.
        const auto whole = GeminiResponse::parse(raw);
        QVERIFY(whole);
        QCOMPARE(whole->json(), original.object());
        QCOMPARE(QJsonDocument::fromJson(whole->toJson()).object(), original.object());

        for (const QJsonObject &body : bodies(file)) {
            const auto parsed = GeminiResponse::parse(QJsonDocument(body).toJson());
            QVERIFY(parsed);
            QCOMPARE(parsed->json(), body);
            QCOMPARE(QJsonDocument::fromJson(parsed->toJson()).object(), body);
            // Reading accessors never edits the object.
            (void)parsed->text();
            (void)parsed->usage();
            (void)parsed->finishReason();
            QCOMPARE(parsed->json(), body);
        }
    }

    void accessors_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("segment");
        QTest::addColumn<QString>("textStart");
        QTest::addColumn<QString>("finishReason");
        QTest::addColumn<int>("prompt");
        QTest::addColumn<int>("output");   // candidates + thoughts
        QTest::addColumn<int>("total");
        QTest::addColumn<QString>("modelVersion");
        QTest::addColumn<QString>("responseId");

        QTest::newRow("basic 2.0-flash") << QStringLiteral("generateContent_basic_gemini-2.0-flash.json") << 0
            << QStringLiteral("Google's headquarters") << QStringLiteral("STOP") << 7 << 22 << 29
            << QStringLiteral("gemini-2.0-flash") << QString();
        QTest::newRow("maxtokens 2.5-flash") << QStringLiteral("recording_generateContent_gemini-2.5-flash_maxtokens.json") << 0
            << QStringLiteral("The sky is blue because of something") << QStringLiteral("MAX_TOKENS") << 7 << 149 + 48 << 204
            << QStringLiteral("gemini-2.5-flash") << QStringLiteral("jy77aN2dK5v_1e8PlvqtsQ8");
        QTest::newRow("jsonschema 2.5-flash") << QStringLiteral("recording_generateContent_jsonschema_gemini-2.5-flash.json") << 0
            << QStringLiteral("{\"simpleString\":\"Hello\"") << QStringLiteral("STOP") << 5 << 177 + 331 << 513
            << QStringLiteral("gemini-2.5-flash") << QStringLiteral("gi77aIS0Gdux1e8P96XL4QY");
        QTest::newRow("stream chunk 0") << QStringLiteral("recording_streamGenerateContent_gemini-2.5-flash.json") << 0
            << QStringLiteral("The sky is blue primarily") << QString() << 7 << 51 + 45 << 103
            << QStringLiteral("gemini-2.5-flash") << QStringLiteral("qS77aMCqBu6mvr0PsJiykAw");
        QTest::newRow("stream chunk 2") << QStringLiteral("recording_streamGenerateContent_gemini-2.5-flash.json") << 2
            << QStringLiteral("Earth's Atmosphere:**") << QStringLiteral("MAX_TOKENS") << 7 << 153 + 45 << 205
            << QStringLiteral("gemini-2.5-flash") << QStringLiteral("qS77aMCqBu6mvr0PsJiykAw");
    }

    void accessors()
    {
        QFETCH(QString, file);
        QFETCH(int, segment);
        QFETCH(QString, textStart);
        QFETCH(QString, finishReason);
        QFETCH(int, prompt);
        QFETCH(int, output);
        QFETCH(int, total);
        QFETCH(QString, modelVersion);
        QFETCH(QString, responseId);

        const GeminiResponse r(bodies(file).at(segment));
        QVERIFY2(r.text().startsWith(textStart), qPrintable(r.text().left(80)));
        QCOMPARE(r.finishReason(), finishReason);
        QCOMPARE(r.usage().promptTokens(), prompt);
        QCOMPARE(r.usage().outputTokens(), output);
        QCOMPARE(r.usage().totalTokenCount.value_or(-1), total);
        QCOMPARE(r.modelVersion(), modelVersion);
        QCOMPARE(r.responseId(), responseId);
        QVERIFY(!r.hasError());
    }

    void recordedStreamAggregates()
    {
        const QList<QJsonObject> chunks = bodies(QStringLiteral("recording_streamGenerateContent_gemini-2.5-flash.json"));
        QCOMPARE(chunks.size(), 3);
        const GeminiResponse agg(GeminiResponse::aggregateStream(chunks));
        QString expected;
        for (const QJsonObject &c : chunks)
            expected += GeminiResponse(c).text();
        QCOMPARE(agg.text(), expected);
        QCOMPARE(agg.finishReason(), QStringLiteral("MAX_TOKENS"));
        QCOMPARE(agg.usage().totalTokenCount.value_or(-1), 205);
        // Unknown top-level fields of the last chunk survive aggregation.
        QCOMPARE(agg.json().value(QLatin1String("turnToken")), chunks.last().value(QLatin1String("turnToken")));
    }

    void countTokens()
    {
        const GeminiResponse r(bodies(QStringLiteral("recording_countTokens_gemini-2.5-flash.json")).first());
        QCOMPARE(r.totalTokens().value_or(-1), 11);
        QVERIFY(r.json().contains(QLatin1String("promptTokensDetails")));
        QVERIFY(r.usage().isEmpty());
    }

    void batchOperationKeepsInt64Strings()
    {
        const GeminiResponse r(bodies(QStringLiteral("batch_operation_succeeded.json")).first());
        const QJsonObject stats = r.json().value(QLatin1String("metadata")).toObject().value(QLatin1String("batchStats")).toObject();
        QCOMPARE(stats.value(QLatin1String("requestCount")), QJsonValue(QStringLiteral("3")));
        const QJsonArray inlined = r.json().value(QLatin1String("response")).toObject()
                                       .value(QLatin1String("inlinedResponses")).toObject()
                                       .value(QLatin1String("inlinedResponses")).toArray();
        QCOMPARE(inlined.size(), 3);
        const GeminiResponse third(inlined.at(2).toObject().value(QLatin1String("response")).toObject());
        QCOMPARE(third.text(), QStringLiteral("The capital of Brazil is **Brasília**."));
        QCOMPARE(third.usage().outputTokens(), 9);
    }

    // The embeddings excerpt is grep output, not JSON (fixtures_SOURCES.md):
    // GeminiResponse must refuse it rather than return a partial object.
    void embeddingsExcerptIsNotJson()
    {
        const QByteArray raw = read(QStringLiteral("batchEmbedContents_response_EXCERPT_grep_filtered.txt"));
        QVERIFY(raw.contains("\"embeddings\""));
        QVERIFY(!GeminiResponse::parse(raw));
    }

    void embeddingAccessors()
    {
        const GeminiResponse one(QJsonDocument::fromJson(R"({"embedding":{"values":[0.1,0.2]}})").object());
        QCOMPARE(one.embedding().value(QLatin1String("values")).toArray().size(), 2);
        const GeminiResponse many(QJsonDocument::fromJson(R"({"embeddings":[{"values":[1]},{"values":[2]}]})").object());
        QCOMPARE(many.embeddings().size(), 2);
    }

    void missingFieldsAreEmpty()
    {
        const GeminiResponse r(QJsonObject{});
        QCOMPARE(r.text(), QString());
        QCOMPARE(r.finishReason(), QString());
        QVERIFY(r.usage().isEmpty());
        QVERIFY(!r.totalTokens());
        QCOMPARE(GeminiResponse::aggregateStream({}), QJsonObject());
        QString why;
        QVERIFY(!GeminiResponse::parse("[1,2]", &why));
        QVERIFY(!why.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestGeminiResponse)
#include "tst_geminiresponse.moc"
