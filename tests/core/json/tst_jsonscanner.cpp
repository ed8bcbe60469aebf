#include "core/json/jsonscanner.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QtTest>

// JsonScanner against QJsonDocument::fromJson on the same bytes: what the
// scanner accepts Qt must accept too and read the same way (it is a fast path
// with Qt as the fallback, so refusing more than Qt is fine, accepting more is
// a bug).
class TestJsonScanner : public QObject
{
    Q_OBJECT

private:
    // The string Qt reads from a one-element array around `literal`.
    static std::optional<QString> qtString(const QByteArray &literal)
    {
        QJsonParseError err;
        const QJsonDocument doc = QJsonDocument::fromJson(QByteArray("[") + literal + "]", &err);
        if (err.error != QJsonParseError::NoError || !doc.array().at(0).isString())
            return std::nullopt;
        return doc.array().at(0).toString();
    }

    // Whether the scanner takes `json` as one whole value.
    static bool scans(const QByteArray &json)
    {
        JsonScanner js(json);
        return js.skipValue() && js.atEnd();
    }

private slots:
    void readStringDecodesAsQt_data()
    {
        QTest::addColumn<QByteArray>("literal");
        QTest::newRow("plain") << QByteArray("\"hello world\"");
        QTest::newRow("empty") << QByteArray("\"\"");
        QTest::newRow("named escapes") << QByteArray("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\"");
        QTest::newRow("u escapes") << QByteArray("\"\\u0041\\u00e9\\u20AC\\u0000\\u001f\"");
        QTest::newRow("surrogate pair escape") << QByteArray("\"\\ud83d\\ude00 \\uD834\\uDD1E\"");
        QTest::newRow("raw utf-8") << QByteArray("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad \xf4\x8f\xbf\xbd\"");
        QTest::newRow("del and high ascii") << QByteArray("\"\x7f~\"");
        QTest::newRow("U+FEFF inside, raw") << QByteArray("\"a\xef\xbb\xbf" "b\"");
        QTest::newRow("U+FEFF first, escaped") << QByteArray("\"\\ufeffab\"");
        QTest::newRow("escaped json") << QByteArray("\"[{\\\"id\\\":\\\"0\\\",\\\"text\\\":\\\"a \\\\\\\"quoted\\\\\\\" word\\\"}]\"");
    }

    void readStringDecodesAsQt()
    {
        QFETCH(QByteArray, literal);
        const std::optional<QString> qt = qtString(literal);
        QVERIFY(qt);
        JsonScanner js(literal);
        QByteArray out("prefix:");
        qsizetype units = -1;
        QVERIFY(js.readString(&out, &units));
        QVERIFY(js.atEnd());
        QCOMPARE(out, "prefix:" + qt->toUtf8());
        QCOMPARE(units, qt->size());
    }

    void refusals_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::newRow("raw newline in string") << QByteArray("[\"a\nb\"]");
        QTest::newRow("raw tab in string") << QByteArray("[\"a\tb\"]");
        QTest::newRow("unknown escape") << QByteArray("[\"\\x41\"]");
        QTest::newRow("short u escape") << QByteArray("[\"\\u41\"]");
        QTest::newRow("bad hex") << QByteArray("[\"\\u12G4\"]");
        QTest::newRow("lone high surrogate") << QByteArray("[\"\\ud800\"]");
        QTest::newRow("high then non-low") << QByteArray("[\"\\ud800\\u0041\"]");
        QTest::newRow("lone low surrogate") << QByteArray("[\"\\udc00\"]");
        QTest::newRow("overlong slash") << QByteArray("[\"\xc0\xaf\"]");
        QTest::newRow("overlong 3 bytes") << QByteArray("[\"\xe0\x80\x80\"]");
        QTest::newRow("raw surrogate") << QByteArray("[\"\xed\xa0\x80\"]");
        QTest::newRow("past U+10FFFF") << QByteArray("[\"\xf4\x90\x80\x80\"]");
        QTest::newRow("F5 lead") << QByteArray("[\"\xf5\x80\x80\x80\"]");
        QTest::newRow("lone continuation") << QByteArray("[\"\x80\"]");
        QTest::newRow("truncated sequence") << QByteArray("[\"\xe2\x82\"]");
        QTest::newRow("U+FFFF") << QByteArray("[\"\xef\xbf\xbf\"]");
        // Found by tests/fuzz/fuzz_jsonscanner: Qt 6.4 drops a raw U+FEFF
        // that starts a string (a value or a key), so the scanner refuses it.
        QTest::newRow("raw U+FEFF starting a string") << QByteArray("[\"\xef\xbb\xbf" "etr*\"]");
        QTest::newRow("raw U+FEFF starting a key") << QByteArray("{\"\xef\xbb\xbf" "k\":1}");
        QTest::newRow("unterminated string") << QByteArray("[\"abc");
        QTest::newRow("trailing comma array") << QByteArray("[1,]");
        QTest::newRow("trailing comma object") << QByteArray("{\"a\":1,}");
        QTest::newRow("leading comma") << QByteArray("[,1]");
        QTest::newRow("missing colon") << QByteArray("{\"a\" 1}");
        QTest::newRow("unquoted key") << QByteArray("{a:1}");
        QTest::newRow("single quotes") << QByteArray("['a']");
        QTest::newRow("leading zero") << QByteArray("[01]");
        QTest::newRow("bare minus") << QByteArray("[-]");
        QTest::newRow("dot without digits") << QByteArray("[1.]");
        QTest::newRow("leading dot") << QByteArray("[.5]");
        QTest::newRow("plus sign") << QByteArray("[+1]");
        QTest::newRow("exponent without digits") << QByteArray("[1e]");
        QTest::newRow("huge exponent") << QByteArray("[1e400]");
        QTest::newRow("exponent past the margin") << QByteArray("[1e251]");
        QTest::newRow("too many integer digits") << QByteArray("[123456789012345678901]");
        QTest::newRow("NaN") << QByteArray("[NaN]");
        QTest::newRow("Infinity") << QByteArray("[Infinity]");
        QTest::newRow("truex") << QByteArray("[tru]");
        QTest::newRow("Null") << QByteArray("[Null]");
        QTest::newRow("vertical tab as space") << QByteArray("[1,\v2]");
        QTest::newRow("comment") << QByteArray("[1 /* c */]");
        QTest::newRow("garbage after") << QByteArray("[1] x");
        QTest::newRow("two values") << QByteArray("[1][2]");
        // Found by tests/fuzz/fuzz_jsonscanner: a NUL byte read as the end.
        QTest::newRow("NUL after the value") << QByteArray("[1]\0", 4);
        QTest::newRow("NUL and garbage after the value") << QByteArray("{\"a\":1} \0\0?", 11);
        QTest::newRow("unclosed") << QByteArray("{\"a\":[1,2}");
        QTest::newRow("too deep") << QByteArray(JsonScanner::kMaxDepth + 1, '[') + QByteArray(JsonScanner::kMaxDepth + 1, ']');
    }

    void refusals()
    {
        QFETCH(QByteArray, json);
        QVERIFY(!scans(json));
    }

    void acceptsWhatQtAccepts_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::newRow("numbers") << QByteArray("[0,-0,1,-12,3.25,-0.5e-3,1E+9,6.02e23,1e250,12345678901234567890e-5]");
        QTest::newRow("literals") << QByteArray("[true,false,null]");
        QTest::newRow("nested") << QByteArray("{\"a\":{\"b\":[{\"c\":[]},{}]},\"d\":\"e\",\"\":0}");
        QTest::newRow("whitespace") << QByteArray(" \r\n\t{ \"a\" : [ 1 , 2 ] } \n");
        QTest::newRow("duplicate keys") << QByteArray("{\"a\":1,\"a\":2}");
        QTest::newRow("deepest allowed") << QByteArray(JsonScanner::kMaxDepth, '[') + QByteArray(JsonScanner::kMaxDepth, ']');
    }

    void acceptsWhatQtAccepts()
    {
        QFETCH(QByteArray, json);
        QVERIFY(scans(json));
        QJsonParseError err;
        QJsonDocument::fromJson(json, &err);
        QCOMPARE(err.error, QJsonParseError::NoError);
    }

    // Random corruptions of a Gemini-like answer: whenever the scanner still
    // takes the bytes, Qt must take them too, and read its strings the same.
    void neverAcceptsWhatQtRefuses()
    {
        const QByteArray seed = QByteArrayLiteral(
            "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"[{\\\"id\\\":\\\"0\\\",\\\"text\\\":\\\"caf\\u00e9 \\\\\\\"x\\\\\\\"\\\"}]\"}],\"role\":\"model\"},\""
            "finishReason\":\"STOP\",\"avgLogprobs\":-0.25e-2,\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":12,\"totalTokenCount\":30},\"ok\":[true,false,null]}");
        static const char alphabet[] = "{}[]\":,\\ utrfn0123456789.-+eE\x01\x7f\xc3\xa9\xed\xa0\x80\xf0";
        QRandomGenerator rng(20261127);
        int accepted = 0;
        for (int round = 0; round < 20000; ++round) {
            QByteArray json = seed;
            const int edits = 1 + int(rng.bounded(3));
            for (int e = 0; e < edits; ++e) {
                const int at = int(rng.bounded(quint32(json.size())));
                const char c = alphabet[rng.bounded(quint32(sizeof(alphabet) - 1))];
                switch (rng.bounded(3)) {
                case 0: json[at] = c; break;
                case 1: json.insert(at, c); break;
                default: json.remove(at, 1); break;
                }
            }
            if (!scans(json))
                continue;
            ++accepted;
            QJsonParseError err;
            QJsonDocument::fromJson(json, &err);
            if (err.error != QJsonParseError::NoError)
                QFAIL(qPrintable(QStringLiteral("accepted what Qt refuses (%1): %2")
                                     .arg(err.errorString(), QString::fromLatin1(json.toPercentEncoding(" {}[]\":,")))));
        }
        // The corpus must exercise both sides: some corruptions stay valid JSON.
        QVERIFY2(accepted > 100, qPrintable(QString::number(accepted)));
    }

    void readIntAndBool()
    {
        int n = 0;
        bool b = false;
        JsonScanner ints("[2147483647,-2147483648,2147483648,5.0,7]");
        QVERIFY(ints.enterArray());
        QCOMPARE(ints.nextElement(), JsonScanner::Next::Item);
        QVERIFY(ints.readInt(&n));
        QCOMPARE(n, 2147483647);
        QCOMPARE(ints.nextElement(), JsonScanner::Next::Item);
        QVERIFY(ints.readInt(&n));
        QCOMPARE(n, -2147483647 - 1);
        QCOMPARE(ints.nextElement(), JsonScanner::Next::Item);
        QVERIFY(!ints.readInt(&n)); // out of int range

        JsonScanner real("5.0");
        QVERIFY(!real.readInt(&n)); // not an integer literal: the caller falls back

        JsonScanner bools("{\"t\":true,\"f\":false,\"n\":null}");
        QByteArray key;
        QVERIFY(bools.enterObject());
        QCOMPARE(bools.nextKey(&key), JsonScanner::Next::Item);
        QCOMPARE(key, QByteArray("t"));
        QVERIFY(bools.readBool(&b) && b);
        QCOMPARE(bools.nextKey(&key), JsonScanner::Next::Item);
        QVERIFY(bools.readBool(&b) && !b);
        QCOMPARE(bools.nextKey(&key), JsonScanner::Next::Item);
        QVERIFY(!bools.readBool(&b));
        QVERIFY(bools.skipValue());
        QCOMPARE(bools.nextKey(&key), JsonScanner::Next::End);
        QVERIFY(bools.atEnd());
    }
};

QTEST_GUILESS_MAIN(TestJsonScanner)
#include "tst_jsonscanner.moc"
