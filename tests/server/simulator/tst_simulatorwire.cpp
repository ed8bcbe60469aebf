// SimulatorWire's byte-level hot path against its references: the UTF-8
// JSON string writer it uses (JsonBytes::appendUtf8String) against
// JsonBytes::appendString (itself checked against Qt's writer), utf16Length,
// and the plain generateContent body scanner against QJsonDocument, on
// chosen and on seeded random inputs.
#include "core/json/jsonbytes.h"
#include "server/simulator/simulatorwire.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <random>

namespace {

// Code points that exercise every branch: ASCII letters, each escape, control
// characters, DEL, 2-, 3- and 4-byte UTF-8.
const char32_t kAlphabet[] = {U'a', U'Z', U' ', U'.', U'"', U'\\', U'/', 0x0, 0x1, 0x8, 0x9, 0xa, 0xc, 0xd,
                              0x1f, 0x7f, 0xe9, 0x7ff, 0x800, 0x4e2d, 0xfffd, 0x1f600, 0x10fffd};

QString randomText(std::mt19937 &rng, int maxLength)
{
    QString s;
    const int n = int(rng() % quint32(maxLength + 1));
    for (int i = 0; i < n; ++i) {
        // Mostly letters, so runs of 8 plain bytes occur and end at every offset.
        const char32_t u = rng() % 3 ? U'a' + char32_t(rng() % 26) : kAlphabet[rng() % std::size(kAlphabet)];
        s += QString::fromUcs4(&u, 1);
    }
    return s;
}

QByteArray jsonLiteral(const QString &s)
{
    QByteArray out;
    JsonBytes::appendString(out, s);
    return out;
}

// What the simulator's general path reads from a parsed body: the text parts
// of every content, joined as parseContent() joins them; false when the
// body is not the plain shape.
bool plainPrompt(const QJsonObject &body, QString *prompt)
{
    const QJsonArray contents = body.value(QLatin1String("contents")).toArray();
    if (contents.isEmpty())
        return false;
    for (const QJsonValue &c : contents) {
        const QJsonArray parts = c.toObject().value(QLatin1String("parts")).toArray();
        if (parts.isEmpty())
            return false;
        for (const QJsonValue &p : parts) {
            const QJsonValue text = p.toObject().value(QLatin1String("text"));
            if (!text.isString())
                return false;
            if (!prompt->isEmpty())
                *prompt += QLatin1Char('\n');
            *prompt += text.toString();
        }
    }
    return true;
}

// Whatever the scanner accepts with a generationConfig QJsonDocument reads as
// an object (the simulator's condition for using the scan), QJsonDocument
// reads alike: same prompt, same generationConfig.
void expectScanAgreesWithQt(const QByteArray &body)
{
    SimulatorWire::PlainGenerateRequest scanned;
    if (!SimulatorWire::scanGenerateRequest(body, &scanned))
        return;
    QJsonParseError pe;
    QJsonObject config;
    if (!scanned.generationConfig.isEmpty()) {
        const QJsonDocument span = QJsonDocument::fromJson(scanned.generationConfig.toByteArray(), &pe);
        if (pe.error != QJsonParseError::NoError || !span.isObject())
            return;
        config = span.object();
    }
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    QVERIFY2(pe.error == QJsonParseError::NoError && doc.isObject(), body.constData());
    QString prompt;
    QVERIFY2(plainPrompt(doc.object(), &prompt), body.constData());
    QCOMPARE(QString::fromUtf8(scanned.prompt), prompt);
    QCOMPARE(scanned.promptLength, prompt.size());
    const QJsonValue gc = doc.object().value(QLatin1String("generationConfig"));
    QCOMPARE(gc.isUndefined(), scanned.generationConfig.isEmpty());
    QCOMPARE(gc.toObject(), config);
    QStringList keys = doc.object().keys();
    keys.removeAll(QStringLiteral("contents"));
    keys.removeAll(QStringLiteral("generationConfig"));
    QVERIFY2(keys.isEmpty(), body.constData());
}

QByteArray mutate(QByteArray s, std::mt19937 &rng)
{
    static const QByteArray bytes = QByteArrayLiteral("{}[]\":,\\u0aAz \n\t/\x01\x7f\xc3\xa9\xed\xf0\x9f\x80");
    const int n = 1 + int(rng() % 3);
    for (int k = 0; k < n && !s.isEmpty(); ++k) {
        const qsizetype pos = qsizetype(rng() % quint32(s.size()));
        const qsizetype len = std::min<qsizetype>(s.size() - pos, 1 + qsizetype(rng() % 8));
        switch (rng() % 4) {
        case 0: s.remove(pos, len); break;
        case 1: s.insert(pos, bytes.at(qsizetype(rng() % quint32(bytes.size())))); break;
        case 2: s[pos] = bytes.at(qsizetype(rng() % quint32(bytes.size()))); break;
        default: s.insert(pos, s.mid(pos, len));
        }
    }
    return s;
}

} // namespace

class TestSimulatorWire : public QObject
{
    Q_OBJECT
private slots:
    void appendUtf8StringEqualsAppendString_data();
    void appendUtf8StringEqualsAppendString();
    void appendUtf8StringRandom();
    void generateResponseFromLiterals();
    void scanGenerateRequest_data();
    void scanGenerateRequest();
    void scanGenerateRequestRandom();
};

void TestSimulatorWire::appendUtf8StringEqualsAppendString_data()
{
    QTest::addColumn<QString>("text");
    QTest::newRow("empty") << QString();
    QTest::newRow("plain") << QStringLiteral("Gate river flow. Light model answer.");
    QTest::newRow("pack answer") << QStringLiteral("[{\"id\":\"7\",\"text\":\"Gate river.\"},{\"id\":\"a\\\\b\\u0001\",\"text\":\"x\"}]");
    QTest::newRow("every escape") << QStringLiteral("\" \\ / \b \f \n \r \t \x01 \x1f \x7f");
    QTest::newRow("non-ASCII") << QStringLiteral("caf\u00e9 \u4e2d\u6587 \U0001F600 \U0010FFFD end");
    QString controls;
    for (char16_t c = 0; c < 0x20; ++c)
        controls += QChar(c);
    QTest::newRow("all controls") << controls;
    // An escape at each offset of an 8-byte block, in a long run.
    for (int at = 0; at < 17; ++at) {
        QString s(24, QLatin1Char('x'));
        s[at] = QLatin1Char('"');
        QTest::addRow("quote at %d", at) << s;
        s[at] = QChar(0xe9);
        QTest::addRow("non-ASCII at %d", at) << s;
    }
}

void TestSimulatorWire::appendUtf8StringEqualsAppendString()
{
    QFETCH(QString, text);
    QByteArray ours = "prefix";
    JsonBytes::appendUtf8String(ours, text.toUtf8());
    QCOMPARE(ours, "prefix" + jsonLiteral(text));
    QCOMPARE(SimulatorWire::utf16Length(text.toUtf8()), text.size());
}

void TestSimulatorWire::appendUtf8StringRandom()
{
    std::mt19937 rng(20240601);
    for (int i = 0; i < 5000; ++i) {
        const QString text = randomText(rng, 40);
        QByteArray ours;
        JsonBytes::appendUtf8String(ours, text.toUtf8());
        QCOMPARE(ours, jsonLiteral(text));
        QCOMPARE(SimulatorWire::utf16Length(text.toUtf8()), text.size());
    }
}

void TestSimulatorWire::generateResponseFromLiterals()
{
    const QStringList texts{QStringLiteral("Plain answer."), QStringLiteral("[{\"id\":\"\u00e9\",\"text\":\"a\\nb\"}]\t\U0001F600"),
                            QString()};
    const QStringList reasons{QStringLiteral("STOP"), QStringLiteral("MAX_TOKENS")}; // the third left out
    QList<QByteArray> literals;
    for (const QString &t : texts)
        literals << jsonLiteral(t);
    QCOMPARE(SimulatorWire::generateResponse(literals, reasons, QStringLiteral("gemini-2.0-flash"), QStringLiteral("id"), 3, 9),
             SimulatorWire::generateResponse(texts, reasons, QStringLiteral("gemini-2.0-flash"), QStringLiteral("id"), 3, 9));
}

void TestSimulatorWire::scanGenerateRequest_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<bool>("scanned");
    const QByteArray gc = R"("generationConfig":{"responseMimeType":"application/json","responseSchema":{"items":{"properties":{"id":{"type":"STRING"},"text":{"type":"STRING"}},"type":"OBJECT"},"type":"ARRAY"}})";
    QTest::newRow("packing gateway")
        << QByteArray(R"({"contents":[{"parts":[{"text":"Answer.\n\n<request id=\"0\">\nq\n</request>\n"}],"role":"user"}],)" + gc + "}")
        << true;
    QTest::newRow("no role, no config") << QByteArray(R"({"contents":[{"parts":[{"text":"hello"}]}]})") << true;
    QTest::newRow("keys in any order, whitespace")
        << QByteArray(" \t{\r\n \"generationConfig\" : { } , \"contents\" : [ { \"role\" : \"user\" , \"parts\" : [ { \"text\" : \"hi\" } ] } ] }\n ")
        << true;
    QTest::newRow("parts and contents joined")
        << QByteArray(R"({"contents":[{"parts":[{"text":""},{"text":"a"},{"text":""}]},{"parts":[{"text":"b"}],"role":"model"}]})")
        << true;
    QTest::newRow("escapes") << QByteArray(R"({"contents":[{"parts":[{"text":"\u00e9\u4E2D\ud83d\ude00\/\b\f\n\r\t\"\\ \u0000"}]}]})") << true;
    QTest::newRow("raw UTF-8") << QByteArray("{\"contents\":[{\"parts\":[{\"text\":\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbd\"}]}]}") << true;
    QTest::newRow("config with brackets in strings")
        << QByteArray(R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"a":"}]\"{[","b":[[{}]]}})") << true;

    QTest::newRow("lone high surrogate") << QByteArray(R"({"contents":[{"parts":[{"text":"\ud800 x"}]}]})") << false;
    QTest::newRow("lone low surrogate") << QByteArray(R"({"contents":[{"parts":[{"text":"\udc00"}]}]})") << false;
    QTest::newRow("unknown escape") << QByteArray(R"({"contents":[{"parts":[{"text":"\x"}]}]})") << false;
    QTest::newRow("raw control") << QByteArray("{\"contents\":[{\"parts\":[{\"text\":\"\x01\"}]}]}") << false;
    QTest::newRow("overlong UTF-8") << QByteArray("{\"contents\":[{\"parts\":[{\"text\":\"\xc0\xaf\"}]}]}") << false;
    QTest::newRow("UTF-8 surrogate") << QByteArray("{\"contents\":[{\"parts\":[{\"text\":\"\xed\xa0\x80\"}]}]}") << false;
    QTest::newRow("noncharacter") << QByteArray("{\"contents\":[{\"parts\":[{\"text\":\"\xef\xbf\xbe\"}]}]}") << false;
    QTest::newRow("beyond U+10FFFF") << QByteArray("{\"contents\":[{\"parts\":[{\"text\":\"\xf4\x90\x80\x80\"}]}]}") << false;
    QTest::newRow("byte order mark") << QByteArray("\xef\xbb\xbf{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}]}") << false;
    QTest::newRow("system instruction")
        << QByteArray(R"({"contents":[{"parts":[{"text":"x"}]}],"systemInstruction":{"parts":[{"text":"y"}]}})") << false;
    QTest::newRow("snake_case config") << QByteArray(R"({"contents":[{"parts":[{"text":"x"}]}],"generation_config":{}})") << false;
    QTest::newRow("other key") << QByteArray(R"({"contents":[{"parts":[{"text":"x"}]}],"safetySettings":[]})") << false;
    QTest::newRow("duplicate contents")
        << QByteArray(R"({"contents":[{"parts":[{"text":"x"}]}],"contents":[{"parts":[{"text":"y"}]}]})") << false;
    QTest::newRow("duplicate text") << QByteArray(R"({"contents":[{"parts":[{"text":"x","text":"y"}]}]})") << false;
    QTest::newRow("escaped key") << QByteArray(R"({"\u0063ontents":[{"parts":[{"text":"x"}]}]})") << true; // Qt reads "contents" too
    QTest::newRow("escaped noncharacter") << QByteArray(R"({"contents":[{"parts":[{"text":"\ufffe"}]}]})") << false;
    QTest::newRow("inline data") << QByteArray(R"({"contents":[{"parts":[{"inlineData":{"data":""}}]}]})") << false;
    QTest::newRow("empty parts") << QByteArray(R"({"contents":[{"parts":[]}]})") << false;
    QTest::newRow("no parts") << QByteArray(R"({"contents":[{"role":"user"}]})") << false;
    QTest::newRow("empty contents") << QByteArray(R"({"contents":[]})") << false;
    QTest::newRow("no contents") << QByteArray(R"({"generationConfig":{}})") << false;
    QTest::newRow("role not a string") << QByteArray(R"({"contents":[{"role":null,"parts":[{"text":"x"}]}]})") << false;
    QTest::newRow("config not an object") << QByteArray(R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":null})") << false;
    QTest::newRow("trailing garbage") << QByteArray(R"({"contents":[{"parts":[{"text":"x"}]}]} x)") << false;
    QTest::newRow("trailing comma") << QByteArray(R"({"contents":[{"parts":[{"text":"x"}]},]})") << false;
    QTest::newRow("unterminated") << QByteArray(R"({"contents":[{"parts":[{"text":"x)") << false;
    QTest::newRow("empty body") << QByteArray() << false;
}

void TestSimulatorWire::scanGenerateRequest()
{
    QFETCH(QByteArray, body);
    QFETCH(bool, scanned);
    SimulatorWire::PlainGenerateRequest out;
    QCOMPARE(SimulatorWire::scanGenerateRequest(body, &out), scanned);
    expectScanAgreesWithQt(body);
}

void TestSimulatorWire::scanGenerateRequestRandom()
{
    // Random prompts in the plain shape are all read, and read as Qt reads them;
    // random damage to them is either refused or read as Qt reads it.
    std::mt19937 rng(7);
    int accepted = 0;
    for (int i = 0; i < 3000; ++i) {
        QJsonArray parts;
        for (int p = 0, n = 1 + int(rng() % 3); p < n; ++p)
            parts.append(QJsonObject{{QStringLiteral("text"), randomText(rng, 30)}});
        const QJsonObject body{{QStringLiteral("contents"), QJsonArray{QJsonObject{{QStringLiteral("parts"), parts},
                                                                                   {QStringLiteral("role"), QStringLiteral("user")}}}},
                               {QStringLiteral("generationConfig"), QJsonObject{{QStringLiteral("maxOutputTokens"), 9}}}};
        const QByteArray bytes = QJsonDocument(body).toJson(rng() % 2 ? QJsonDocument::Compact : QJsonDocument::Indented);
        SimulatorWire::PlainGenerateRequest out;
        QVERIFY2(SimulatorWire::scanGenerateRequest(bytes, &out), bytes.constData());
        expectScanAgreesWithQt(bytes);
        if (QTest::currentTestFailed())
            return;
        for (int m = 0; m < 3; ++m) {
            const QByteArray damaged = mutate(bytes, rng);
            accepted += SimulatorWire::scanGenerateRequest(damaged, &out);
            expectScanAgreesWithQt(damaged);
            if (QTest::currentTestFailed())
                return;
        }
    }
    QVERIFY(accepted > 100); // the damage left many bodies readable, and they were checked
}

QTEST_GUILESS_MAIN(TestSimulatorWire)
#include "tst_simulatorwire.moc"
