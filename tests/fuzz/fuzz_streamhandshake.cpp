// StreamHandshake (server/stream): the gateway's decision on a WebSocket
// opening handshake for GET /api/v1/stream. The framing itself is Qt's
// QWebSocket; what Sluice owns is this check, taken before Qt's
// QWebSocketServer sees the request.
//
// Input: a request head (any bytes; read with HttpHeaderBlock, bare LF
// allowed, up to its first error): the method is the start line's first
// word, the fields are the headers. Each is decided under three rule sets:
// no token and no allowed origins; a token and two allowed origins; a token
// and "*".
// Checks, besides no crash, leak or undefined behaviour:
//   - an accepted request is one Qt 6.4.2 upgrades and its QWebSocketServer
//     accepts (tests/support/qtupgraderules.h, shared with tst_streamhandshake.cpp): else
//     Qt would close it without an answer;
//   - an accepted request presents the token when one is set, and its Origin
//     passes originAllowed();
//   - a refusal is one of 400, 401, 403, 405, 426 with a Gemini error
//     envelope whose code is that status; without a token configured it is
//     never 401.
#include "tests/fuzz/fuzzsupport.h"

#include "core/http/httpheaderblock.h"
#include "server/stream/streamhandshake.h"
#include "tests/support/qtupgraderules.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QUrl>

namespace {

using Headers = StreamHandshake::Headers;

using QtUpgradeRules::qtHttpServerUpgrades;
using QtUpgradeRules::qtWebSocketServerAccepts;
using QtUpgradeRules::values;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    HttpHeaderBlock head(input, true);
    const QByteArrayView startLine = head.startLine();
    const qsizetype sp = startLine.indexOf(' ');
    const bool isGet = (sp < 0 ? startLine : startLine.first(sp)) == "GET";
    Headers headers;
    HttpHeaderBlock::Field f;
    while (head.next(&f))
        headers.append({f.name.toByteArray(), f.value.toByteArray()});

    static const StreamHandshake::Rules ruleSets[] = {
        {},
        {{QStringLiteral("https://ops.example"), QStringLiteral("http://[::1]:9000/")}, QByteArrayLiteral("s3cret token")},
        {{QStringLiteral("*")}, QByteArrayLiteral("t")},
    };
    for (const StreamHandshake::Rules &rules : ruleSets) {
        const std::optional<HttpReply> r = StreamHandshake::refusal(u"/api/v1/stream", isGet, headers, rules);
        if (!r) {
            FUZZ_CHECK(qtHttpServerUpgrades(headers), "accepted a request Qt's HTTP server does not upgrade");
            FUZZ_CHECK(qtWebSocketServerAccepts(isGet, headers), "accepted a request Qt's QWebSocketServer refuses");
            FUZZ_CHECK(StreamHandshake::tokenPresented(headers, rules.adminToken), "accepted without the token");
            FUZZ_CHECK(StreamHandshake::originAllowed(values(headers, "origin").join(", "), values(headers, "host").value(0),
                                                      rules.allowedOrigins),
                       "accepted an Origin originAllowed() refuses");
            continue;
        }
        const int status = r->status;
        FUZZ_CHECK(status == 400 || status == 401 || status == 403 || status == 405 || status == 426,
                   "refused with " + QByteArray::number(status));
        if (rules.adminToken.isEmpty())
            FUZZ_CHECK(status != 401, "401 without a token configured");
        const QJsonObject error = QJsonDocument::fromJson(r->body).object().value(QLatin1String("error")).toObject();
        FUZZ_CHECK(error.value(QLatin1String("code")).toInt() == status, "envelope code differs: " + r->body);
        FUZZ_CHECK(!error.value(QLatin1String("message")).toString().isEmpty(), "no message: " + r->body);
    }
    return 0;
}
