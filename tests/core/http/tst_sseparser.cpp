#include "core/gemini/geminiresponse.h"
#include "core/http/sseparser.h"
#include "tests/support/fixtures.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

// SseParser against the recorded Gemini SSE bodies, re-framed every way the
// parser promises to accept, and fed in pieces of every size.
class TestSseParser : public QObject
{
    Q_OBJECT

private:
    static QByteArray fixture(const char *name) { return readFixture(QLatin1String(name)); }

    // The JSON payloads of a CRLF-framed fixture, split without the parser.
    static QList<QByteArray> payloads(const QByteArray &raw)
    {
        QList<QByteArray> out;
        for (const QByteArray &block : raw.split('\n')) {
            const QByteArray line = block.trimmed();
            if (line.startsWith("data: "))
                out.append(line.mid(6));
        }
        return out;
    }

    static QByteArray reframe(const QByteArray &raw, const QString &framing)
    {
        if (framing == QLatin1String("crlf"))
            return raw;
        if (framing == QLatin1String("lf"))
            return QByteArray(raw).replace("\r\n", "\n");
        if (framing == QLatin1String("cr"))
            return QByteArray(raw).replace("\r\n", "\r");
        // "multiline": each event's JSON spread over several data: lines (SSE
        // joins them with '\n', which is JSON whitespace), with a comment, an
        // event: field and an id: field mixed in, and LF framing.
        QByteArray out = ": keep-alive comment\n\n";
        for (const QByteArray &p : payloads(raw)) {
            out += "event: message\nid: 1\n";
            out += "data: " + QByteArray(p).replace(",\"", ",\ndata: \"") + "\n\n";
        }
        return out;
    }

    static QList<QJsonObject> parseInPieces(const QByteArray &stream, int pieceSize, SseParser &parser)
    {
        QList<QJsonObject> events;
        if (pieceSize <= 0) {
            events += parser.feed(stream);
        } else {
            for (qsizetype i = 0; i < stream.size(); i += pieceSize)
                events += parser.feed(stream.mid(i, pieceSize));
        }
        events += parser.finish();
        return events;
    }

private slots:
    void fixtures_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("framing");
        QTest::addColumn<int>("pieceSize");
        QTest::addColumn<int>("chunks");
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("promptTokens");
        QTest::addColumn<int>("candidatesTokens");
        QTest::addColumn<int>("thoughtsTokens");
        QTest::addColumn<int>("totalTokens");

        const QString flash = QStringLiteral("streamGenerateContent_sse_gemini-2.0-flash.txt");
        const QString thinking = QStringLiteral("streamGenerateContent_sse_thinking_gemini-2.5-flash.txt");
        const QString flashText = QStringLiteral("The capital of Wyoming is **Cheyenne**.\n");
        const QString thinkingText = QStringLiteral(
            "The sky is blue because tiny gas molecules in Earth's atmosphere scatter blue light from the sun "
            "more efficiently than other colors. Blue light has shorter, smaller wavelengths, causing it to be "
            "scattered in all directions, making the sky appear blue to our eyes.");
        for (const char *framing : {"crlf", "lf", "cr", "multiline"}) {
            for (int piece : {0, 1, 2, 7, 64}) {
                QTest::addRow("2.0-flash/%s/piece%d", framing, piece)
                    << flash << QString::fromLatin1(framing) << piece << 3 << flashText << 7 << 10 << -1 << 17;
                QTest::addRow("2.5-thinking/%s/piece%d", framing, piece)
                    << thinking << QString::fromLatin1(framing) << piece << 5 << thinkingText << 10 << 48 << 540
                    << 598;
            }
        }
    }

    void fixtures()
    {
        QFETCH(QString, file);
        QFETCH(QString, framing);
        QFETCH(int, pieceSize);
        QFETCH(int, chunks);
        QFETCH(QString, text);
        QFETCH(int, promptTokens);
        QFETCH(int, candidatesTokens);
        QFETCH(int, thoughtsTokens);
        QFETCH(int, totalTokens);

        const QByteArray raw = fixture(file.toLatin1().constData());
        SseParser parser;
        const QList<QJsonObject> events = parseInPieces(reframe(raw, framing), pieceSize, parser);
        QCOMPARE(events.size(), chunks);
        QCOMPARE(parser.malformedEvents(), 0);
        QVERIFY(!parser.isBareJson());

        // Nothing lost: every event equals the payload parsed independently.
        const QList<QByteArray> expected = payloads(raw);
        QCOMPARE(expected.size(), chunks);
        for (int i = 0; i < chunks; ++i)
            QCOMPARE(events[i], QJsonDocument::fromJson(expected[i]).object());

        QString joined;
        for (const QJsonObject &e : events)
            joined += GeminiResponse(e).text();
        QCOMPARE(joined, text);

        const GeminiResponse aggregate(GeminiResponse::aggregateStream(events));
        QCOMPARE(aggregate.text(), text);
        QCOMPARE(aggregate.finishReason(), QStringLiteral("STOP"));
        const UsageMetadata u = aggregate.usage();
        QCOMPARE(u.promptTokenCount.value_or(-1), promptTokens);
        QCOMPARE(u.candidatesTokenCount.value_or(-1), candidatesTokens);
        QCOMPARE(u.thoughtsTokenCount.value_or(-1), thoughtsTokens);
        QCOMPARE(u.totalTokenCount.value_or(-1), totalTokens);
        QCOMPARE(u.outputTokens(), candidatesTokens + std::max(0, thoughtsTokens));
    }

    void thoughtPartsStaySeparate()
    {
        SseParser parser;
        QList<QJsonObject> events = parser.feed(fixture("streamGenerateContent_sse_thinking_gemini-2.5-flash.txt"));
        events += parser.finish();
        const QJsonObject agg = GeminiResponse::aggregateStream(events);
        const QJsonArray parts = agg.value(QLatin1String("candidates")).toArray().at(0).toObject()
                                     .value(QLatin1String("content")).toObject().value(QLatin1String("parts")).toArray();
        QCOMPARE(parts.size(), 2); // the merged thought summary, then the merged answer
        QVERIFY(parts.at(0).toObject().value(QLatin1String("thought")).toBool());
        QVERIFY(!parts.at(1).toObject().contains(QLatin1String("thought")));
        QCOMPARE(agg.value(QLatin1String("responseId")), events.last().value(QLatin1String("responseId")));
    }

    void bareJsonErrorBody_data()
    {
        QTest::addColumn<int>("pieceSize");
        QTest::newRow("whole") << 0;
        QTest::newRow("bytewise") << 1;
        QTest::newRow("pieces") << 13;
    }

    // recording_error_404_streamGenerateContent.json: a 404 on the SSE route sent
    // as pretty-printed JSON with no data: prefix (857 bytes + '\n').
    void bareJsonErrorBody()
    {
        QFETCH(int, pieceSize);
        const QJsonObject rec = QJsonDocument::fromJson(fixture("recording_error_404_streamGenerateContent.json")).object();
        const QJsonObject response = rec.value(QLatin1String("interactions")).toArray().at(0).toObject()
                                         .value(QLatin1String("response")).toObject();
        const QJsonObject body = response.value(QLatin1String("bodySegments")).toArray().at(0).toObject();
        const QByteArray wire = QJsonDocument(body).toJson(QJsonDocument::Indented);

        SseParser parser;
        const QList<QJsonObject> events = parseInPieces(wire, pieceSize, parser);
        QVERIFY(parser.isBareJson());
        QCOMPARE(events.size(), 1);
        QCOMPARE(events.first(), body);
        QVERIFY(GeminiResponse(events.first()).hasError());
    }

    void edgeCases_data()
    {
        QTest::addColumn<QByteArray>("stream");
        QTest::addColumn<int>("events");
        QTest::addColumn<int>("malformed");

        QTest::newRow("no final blank line") << QByteArray("data: {\"a\":1}") << 1 << 0;
        QTest::newRow("no space after colon") << QByteArray("data:{\"a\":1}\n\n") << 1 << 0;
        QTest::newRow("comments only") << QByteArray(": hi\n: there\n\n") << 0 << 0;
        QTest::newRow("DONE sentinel") << QByteArray("data: {\"a\":1}\n\ndata: [DONE]\n\n") << 1 << 0;
        QTest::newRow("leading blank lines") << QByteArray("\r\n\r\ndata: {\"a\":1}\r\n\r\n") << 1 << 0;
        QTest::newRow("malformed json") << QByteArray("data: {oops\n\ndata: {\"a\":1}\n\n") << 1 << 1;
        QTest::newRow("empty data") << QByteArray("data:\n\n") << 0 << 0;
        QTest::newRow("bare array") << QByteArray("[{\"a\":1},\n{\"a\":2}]") << 2 << 0;
        QTest::newRow("empty stream") << QByteArray() << 0 << 0;
    }

    void edgeCases()
    {
        QFETCH(QByteArray, stream);
        QFETCH(int, events);
        QFETCH(int, malformed);
        for (int piece : {0, 1}) {
            SseParser parser;
            const QList<QJsonObject> got = parseInPieces(stream, piece, parser);
            QCOMPARE(got.size(), events);
            QCOMPARE(parser.malformedEvents(), malformed);
        }
    }

    void eventsArriveAsSoonAsComplete()
    {
        SseParser parser;
        QCOMPARE(parser.feed("data: {\"a\":1}\r").size(), 0);
        QCOMPARE(parser.feed("\n").size(), 0);          // CR LF split across feeds: one line end
        QCOMPARE(parser.feed("\r\n").size(), 1);        // blank line dispatches
        QCOMPARE(parser.feed("data: {\"a\":2}\n\n").size(), 1);
        QCOMPARE(parser.finish().size(), 0);
    }
};

QTEST_GUILESS_MAIN(TestSseParser)
#include "tst_sseparser.moc"
