#include "server/stream/streamhandshake.h"
#include "tests/support/qtupgraderules.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QUrl>
#include <QtTest>

// StreamHandshake: the gateway's decision on a WebSocket opening handshake
// for GET /api/v1/stream, one row per rule of its header (refusal), and the
// admin token's carriers (token). Every accepted row is also checked against
// Qt 6.4.2's own rules (oracles below), because an accepted request is
// handed to Qt's QWebSocketServer, which closes what it rejects without an
// answer.

using Headers = StreamHandshake::Headers;

Q_DECLARE_METATYPE(Headers)

namespace {

using QtUpgradeRules::qtHttpServerUpgrades;
using QtUpgradeRules::qtWebSocketServerAccepts;
using QtUpgradeRules::values;

const QByteArray kKey = QByteArrayLiteral("dGhlIHNhbXBsZSBub25jZQ=="); // RFC 6455's sample: 16 bytes

Headers handshake(const Headers &extra = {}, const QByteArray &omit = {})
{
    Headers h{{"Host", "127.0.0.1:8080"},
              {"Upgrade", "websocket"},
              {"Connection", "Upgrade"},
              {"Sec-WebSocket-Version", "13"},
              {"Sec-WebSocket-Key", kKey}};
    h.removeIf([&](const QPair<QByteArray, QByteArray> &f) {
        if (f.first.compare(omit, Qt::CaseInsensitive) == 0)
            return true;
        for (const auto &e : extra)
            if (e.first.compare(f.first, Qt::CaseInsensitive) == 0)
                return true;
        return false;
    });
    for (const auto &e : extra)
        if (!e.second.isNull())
            h.append(e);
    return h;
}

} // namespace

class TestStreamHandshake : public QObject
{
    Q_OBJECT

private slots:
    void refusal_data()
    {
        QTest::addColumn<bool>("isGet");
        QTest::addColumn<Headers>("headers");
        QTest::addColumn<QStringList>("allowed");
        QTest::addColumn<int>("status");           // 0: accepted
        QTest::addColumn<QByteArray>("header");    // an extra header the refusal must carry, "Name: value"
        QTest::addColumn<QString>("envelope");     // the Gemini error status

        const QStringList none;
        const QByteArray noHeader;
        const QString ok;
        QTest::newRow("browser, same origin") << true << handshake({{"Origin", "http://127.0.0.1:8080"}}) << none << 0 << noHeader << ok;
        QTest::newRow("no Origin (not a browser)") << true << handshake() << none << 0 << noHeader << ok;
        QTest::newRow("Firefox's Connection list") << true << handshake({{"Connection", "keep-alive, Upgrade"}}) << none << 0 << noHeader << ok;
        QTest::newRow("tokens in any case") << true << handshake({{"Upgrade", "WebSocket"}, {"Connection", "upgrade"}}) << none << 0 << noHeader << ok;
        QTest::newRow("Origin with a trailing slash") << true << handshake({{"Origin", "http://127.0.0.1:8080/"}}) << none << 0 << noHeader << ok;
        QTest::newRow("Origin host in another case") << true
            << handshake({{"Host", "localhost:8080"}, {"Origin", "http://LOCALHOST:8080"}}) << none << 0 << noHeader << ok;
        QTest::newRow("Origin on the default port") << true
            << handshake({{"Host", "sluice.example"}, {"Origin", "http://sluice.example"}}) << none << 0 << noHeader << ok;
        QTest::newRow("Origin in the allow-list") << true << handshake({{"Origin", "http://allowed.example"}})
            << QStringList{QStringLiteral("http://allowed.example/")} << 0 << noHeader << ok;
        QTest::newRow("allow-list *") << true << handshake({{"Origin", "http://evil.example"}})
            << QStringList{QStringLiteral("*")} << 0 << noHeader << ok;
        QTest::newRow("a subprotocol is offered (none is chosen)") << true
            << handshake({{"Sec-WebSocket-Protocol", "chat"}}) << none << 0 << noHeader << ok;

        const QByteArray upgradeWs = "Upgrade: websocket";
        const QString invalid = QStringLiteral("INVALID_ARGUMENT");
        QTest::newRow("plain GET") << true << Headers{{"Host", "127.0.0.1:8080"}} << none << 426 << upgradeWs << invalid;
        QTest::newRow("plain HEAD") << false << Headers{{"Host", "127.0.0.1:8080"}} << none << 426 << upgradeWs << invalid;
        QTest::newRow("Upgrade without Connection") << true << handshake({}, "Connection") << none << 426 << upgradeWs << invalid;
        QTest::newRow("Connection without Upgrade") << true << handshake({}, "Upgrade") << none << 426 << upgradeWs << invalid;
        QTest::newRow("upgrade only as a substring") << true << handshake({{"Connection", "upgrade-insecure"}})
            << none << 426 << upgradeWs << invalid;
        QTest::newRow("upgrade in the second Connection field") << true
            << handshake({{"Connection", "keep-alive"}, {"Connection", "Upgrade"}}) << none << 426 << upgradeWs << invalid;
        QTest::newRow("Upgrade lists another protocol") << true << handshake({{"Upgrade", "websocket, h2c"}})
            << none << 426 << upgradeWs << invalid;
        QTest::newRow("Upgrade: h2c") << true << handshake({{"Upgrade", "h2c"}}) << none << 426 << upgradeWs << invalid;
        QTest::newRow("POST") << false << handshake() << none << 405 << QByteArray("Allow: GET") << invalid;
        const QByteArray version13 = "Sec-WebSocket-Version: 13";
        QTest::newRow("version 8") << true << handshake({{"Sec-WebSocket-Version", "8"}}) << none << 426 << version13 << invalid;
        QTest::newRow("versions 13, 8") << true << handshake({{"Sec-WebSocket-Version", "13, 8"}}) << none << 426 << version13 << invalid;
        QTest::newRow("no version") << true << handshake({}, "Sec-WebSocket-Version") << none << 426 << version13 << invalid;
        QTest::newRow("no key") << true << handshake({}, "Sec-WebSocket-Key") << none << 400 << noHeader << invalid;
        QTest::newRow("key not base64") << true << handshake({{"Sec-WebSocket-Key", "not base64 at all!!!!!!"}})
            << none << 400 << noHeader << invalid;
        QTest::newRow("key of 15 bytes") << true << handshake({{"Sec-WebSocket-Key", QByteArray(15, 'k').toBase64()}})
            << none << 400 << noHeader << invalid;
        QTest::newRow("two keys") << true << handshake({{"Sec-WebSocket-Key", kKey}, {"Sec-WebSocket-Key", kKey}})
            << none << 400 << noHeader << invalid;
        QTest::newRow("no Host") << true << handshake({}, "Host") << none << 400 << noHeader << invalid;
        QTest::newRow("Host with user info") << true << handshake({{"Host", "user@127.0.0.1:8080"}}) << none << 400 << noHeader << invalid;
        QTest::newRow("two Hosts") << true << handshake({{"Host", "127.0.0.1:8080"}, {"Host", "evil.example"}})
            << none << 400 << noHeader << invalid;

        const QString denied = QStringLiteral("PERMISSION_DENIED");
        QTest::newRow("Origin of another host") << true << handshake({{"Origin", "http://evil.example"}}) << none << 403 << noHeader << denied;
        QTest::newRow("Origin on another port") << true << handshake({{"Origin", "http://127.0.0.1:1"}}) << none << 403 << noHeader << denied;
        QTest::newRow("https Origin of an http Host") << true
            << handshake({{"Host", "sluice.example"}, {"Origin", "https://sluice.example"}}) << none << 403 << noHeader << denied;
        QTest::newRow("Origin null (sandboxed page)") << true << handshake({{"Origin", "null"}}) << none << 403 << noHeader << denied;
        QTest::newRow("Origin with another scheme") << true << handshake({{"Origin", "ftp://127.0.0.1:8080"}}) << none << 403 << noHeader << denied;
        QTest::newRow("two Origins") << true
            << handshake({{"Origin", "http://127.0.0.1:8080"}, {"Origin", "http://evil.example"}}) << none << 403 << noHeader << denied;
        QTest::newRow("Origin not in the allow-list") << true << handshake({{"Origin", "http://evil.example"}})
            << QStringList{QStringLiteral("http://allowed.example")} << 403 << noHeader << denied;
    }

    void refusal()
    {
        QFETCH(bool, isGet);
        QFETCH(Headers, headers);
        QFETCH(QStringList, allowed);
        QFETCH(int, status);
        QFETCH(QByteArray, header);
        QFETCH(QString, envelope);

        const std::optional<HttpReply> r = StreamHandshake::refusal(u"/api/v1/stream", isGet, headers, {allowed, {}});
        if (status == 0) {
            QVERIFY2(!r, r ? r->body.constData() : "");
            // Accepted means handed to Qt's QWebSocketServer: it must take it too.
            QVERIFY(qtHttpServerUpgrades(headers));
            QVERIFY(qtWebSocketServerAccepts(isGet, headers));
            return;
        }
        QVERIFY(r);
        QCOMPARE(r->status, status);
        const QJsonObject error = QJsonDocument::fromJson(r->body).object().value(QStringLiteral("error")).toObject();
        QCOMPARE(error.value(QStringLiteral("code")).toInt(), status);
        QCOMPARE(error.value(QStringLiteral("status")).toString(), envelope);
        QVERIFY(!error.value(QStringLiteral("message")).toString().isEmpty());
        QStringList extra;
        for (const auto &[k, v] : r->headers)
            extra << QString::fromLatin1(k + ": " + v);
        if (!header.isEmpty())
            QVERIFY2(extra.contains(QString::fromLatin1(header)), qPrintable(extra.join(u'|')));
        else
            QVERIFY2(extra.isEmpty(), qPrintable(extra.join(u'|')));
    }

    // Condition 0: with an admin token configured, the request must present
    // it as a Bearer token or in the sluice_token cookie; it is checked
    // before anything else, so a plain GET is the dashboard's probe.
    void token_data()
    {
        QTest::addColumn<bool>("isGet");
        QTest::addColumn<Headers>("headers");
        QTest::addColumn<int>("status"); // 0: accepted

        const Headers plain{{"Host", "127.0.0.1:8080"}};
        QTest::newRow("nothing presented") << true << handshake() << 401;
        QTest::newRow("Bearer") << true << handshake({{"Authorization", "Bearer s3cret"}}) << 0;
        QTest::newRow("Bearer, spaces around") << true << handshake({{"Authorization", "  Bearer s3cret  "}}) << 0;
        QTest::newRow("Bearer, wrong") << true << handshake({{"Authorization", "Bearer s3creT"}}) << 401;
        QTest::newRow("Bearer, a prefix of it") << true << handshake({{"Authorization", "Bearer s3cre"}}) << 401;
        QTest::newRow("Bearer, longer") << true << handshake({{"Authorization", "Bearer s3crets"}}) << 401;
        QTest::newRow("Basic") << true << handshake({{"Authorization", "Basic czNjcmV0"}}) << 401;
        QTest::newRow("cookie") << true << handshake({{"Cookie", "sluice_token=s3cret"}}) << 0;
        QTest::newRow("cookie among others") << true << handshake({{"Cookie", "theme=dark; sluice_token=s3cret; x=1"}}) << 0;
        QTest::newRow("cookie in a second field") << true
            << handshake({{"Cookie", "theme=dark"}, {"Cookie", "sluice_token=s3cret"}}) << 0;
        QTest::newRow("cookie, wrong") << true << handshake({{"Cookie", "sluice_token=nope"}}) << 401;
        QTest::newRow("cookie, empty") << true << handshake({{"Cookie", "sluice_token="}}) << 401;
        QTest::newRow("cookie with another name") << true << handshake({{"Cookie", "xsluice_token=s3cret"}}) << 401;
        QTest::newRow("as a subprotocol (not a carrier)") << true
            << handshake({{"Sec-WebSocket-Protocol", "sluice.token.s3cret"}}) << 401;
        QTest::newRow("wrong Bearer, right cookie") << true
            << handshake({{"Authorization", "Bearer nope"}, {"Cookie", "sluice_token=s3cret"}}) << 0;
        // Before the Origin check: a foreign page learns nothing more than 401.
        QTest::newRow("foreign Origin, no token") << true << handshake({{"Origin", "http://evil.example"}}) << 401;
        QTest::newRow("foreign Origin, token") << true
            << handshake({{"Origin", "http://evil.example"}, {"Cookie", "sluice_token=s3cret"}}) << 403;
        // The dashboard's probe: a plain GET says whether the cookie is right.
        QTest::newRow("plain GET, no token") << true << plain << 401;
        QTest::newRow("plain GET, cookie") << true << (Headers(plain) << qMakePair(QByteArray("Cookie"), QByteArray("sluice_token=s3cret")))
                                           << 426;
    }

    void token()
    {
        QFETCH(bool, isGet);
        QFETCH(Headers, headers);
        QFETCH(int, status);
        const StreamHandshake::Rules rules{{}, QByteArrayLiteral("s3cret")};
        const std::optional<HttpReply> r = StreamHandshake::refusal(u"/api/v1/stream", isGet, headers, rules);
        QCOMPARE(r ? r->status : 0, status);
        QCOMPARE(StreamHandshake::tokenPresented(headers, rules.adminToken), status != 401);
        if (status == 0) {
            QVERIFY(qtHttpServerUpgrades(headers));
            QVERIFY(qtWebSocketServerAccepts(isGet, headers));
            // No token configured: the same request is accepted too.
            QVERIFY(!StreamHandshake::refusal(u"/api/v1/stream", isGet, headers, {}));
        }
        if (status == 401) {
            const QJsonObject error = QJsonDocument::fromJson(r->body).object().value(QStringLiteral("error")).toObject();
            QCOMPARE(error.value(QStringLiteral("code")).toInt(), 401);
            QCOMPARE(error.value(QStringLiteral("status")).toString(), QStringLiteral("UNAUTHENTICATED"));
            QVERIFY(r->headers.contains(qMakePair(QByteArray("WWW-Authenticate"), QByteArray("Bearer realm=\"sluice\""))));
        }
    }

    // The cookie value is percent-decoded: the dashboard writes
    // encodeURIComponent(token), so any token fits in a cookie.
    void tokenCookieIsPercentDecoded()
    {
        const QByteArray token = "a b;c=d%e,\xc3\xa9";
        const QByteArray cookie = "sluice_token=" + token.toPercentEncoding();
        QVERIFY(StreamHandshake::tokenPresented(handshake({{"Cookie", cookie}}), token));
        QVERIFY(!StreamHandshake::tokenPresented(handshake({{"Cookie", "sluice_token=" + token}}), token));
    }
};

QTEST_GUILESS_MAIN(TestStreamHandshake)
#include "tst_streamhandshake.moc"
