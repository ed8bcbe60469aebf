// ErrorMapping: every StatusCode → HTTP status + Gemini error envelope,
// upstream errors kept verbatim, httpOverride, extraDetails, the
// Retry-After / RetryInfo / WWW-Authenticate rules, the duration helpers and
// the reason phrases on the gateway's status lines.
#include "server/http/errormapping.h"
#include "tests/support/fixtures.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace std::chrono_literals;

Q_DECLARE_METATYPE(StatusCode)

namespace {

QJsonObject json(const char *text)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray(text), &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        qFatal("bad JSON in a test row: %s", text);
    return doc.object();
}

QJsonObject fixtureObject(const QString &name)
{
    return QJsonDocument::fromJson(readFixture(name)).object();
}

// Every value of header `name` (exact spelling), in order.
QList<QByteArray> headerValues(const HttpReply &reply, const QByteArray &name)
{
    QList<QByteArray> out;
    for (const auto &[k, v] : reply.headers)
        if (k == name)
            out.append(v);
    return out;
}

QJsonObject envelopeOf(const HttpReply &reply)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(reply.body, &pe);
    if (pe.error != QJsonParseError::NoError)
        qWarning("reply body is not JSON: %s", reply.body.constData());
    return doc.object();
}

Status upstreamStatus(StatusCode code, int http, const QJsonObject &envelope, std::chrono::milliseconds retryAfter = 0ms)
{
    Status s = Status::error(code, QStringLiteral("upstream said no"));
    s.upstreamHttpStatus = http;
    s.upstreamError = envelope;
    s.retryAfter = retryAfter;
    return s;
}

const QString kRetryInfoType = QStringLiteral("type.googleapis.com/google.rpc.RetryInfo");

} // namespace

class TestErrorMapping : public QObject
{
    Q_OBJECT

private slots:
    // A locally decided error: HTTP status, envelope {code, message, status}
    // and nothing else in it.
    void statusCodes_data()
    {
        QTest::addColumn<StatusCode>("code");
        QTest::addColumn<int>("http");
        QTest::addColumn<QString>("grpcStatus");

        QTest::newRow("Ok") << StatusCode::Ok << 200 << QStringLiteral("OK");
        QTest::newRow("InvalidArgument") << StatusCode::InvalidArgument << 400 << QStringLiteral("INVALID_ARGUMENT");
        QTest::newRow("Unauthenticated") << StatusCode::Unauthenticated << 401 << QStringLiteral("UNAUTHENTICATED");
        QTest::newRow("PermissionDenied") << StatusCode::PermissionDenied << 403 << QStringLiteral("PERMISSION_DENIED");
        QTest::newRow("NotFound") << StatusCode::NotFound << 404 << QStringLiteral("NOT_FOUND");
        QTest::newRow("ResourceExhausted") << StatusCode::ResourceExhausted << 429 << QStringLiteral("RESOURCE_EXHAUSTED");
        QTest::newRow("Cancelled") << StatusCode::Cancelled << 499 << QStringLiteral("CANCELLED");
        QTest::newRow("Internal") << StatusCode::Internal << 500 << QStringLiteral("INTERNAL");
        QTest::newRow("Unavailable") << StatusCode::Unavailable << 503 << QStringLiteral("UNAVAILABLE");
        QTest::newRow("DeadlineExceeded") << StatusCode::DeadlineExceeded << 504 << QStringLiteral("DEADLINE_EXCEEDED");
    }

    void statusCodes()
    {
        QFETCH(StatusCode, code);
        QFETCH(int, http);
        QFETCH(QString, grpcStatus);

        // Quotes, a newline and non-ASCII text must survive JSON escaping.
        const QString message = QStringLiteral("field \"x\" is wrong\nnaïve → ✓");
        const HttpReply reply = ErrorMapping::toReply(Status::error(code, message));
        QCOMPARE(reply.status, http);
        QCOMPARE(reply.contentType, QByteArrayLiteral("application/json"));

        const QJsonObject envelope = envelopeOf(reply);
        QCOMPARE(envelope.keys(), QStringList{QStringLiteral("error")});
        const QJsonObject error = envelope.value(QLatin1String("error")).toObject();
        QCOMPARE(error.value(QLatin1String("code")).toInt(), http);
        QCOMPARE(error.value(QLatin1String("status")).toString(), grpcStatus);
        QCOMPARE(error.value(QLatin1String("message")).toString(), message);
        // No retry delay and no extra details: no "details" key at all.
        QCOMPARE(error.keys(), (QStringList{QStringLiteral("code"), QStringLiteral("message"), QStringLiteral("status")}));
    }

    // Which headers and which RetryInfo an outcome gets. An empty expected
    // header value means the header must be absent; an empty retryDelay
    // means no RetryInfo in details.
    void retryAndAuthHeaders_data()
    {
        QTest::addColumn<StatusCode>("code");
        QTest::addColumn<qint64>("retryAfterMs");
        QTest::addColumn<int>("upstreamHttp"); // 0: decided locally
        QTest::addColumn<int>("httpOverride");
        QTest::addColumn<int>("http");
        QTest::addColumn<QByteArray>("retryAfter");
        QTest::addColumn<QString>("retryDelay");
        QTest::addColumn<bool>("wwwAuthenticate");

        using SC = StatusCode;
        const QByteArray none;
        const QString noInfo;
        // 429: Retry-After always (at least 1), RetryInfo only with a known delay.
        QTest::newRow("429 queue full, 2 s") << SC::ResourceExhausted << qint64(2000) << 0 << 0 << 429 << QByteArray("2") << QStringLiteral("2s") << false;
        QTest::newRow("429 1500 ms rounds up") << SC::ResourceExhausted << qint64(1500) << 0 << 0 << 429 << QByteArray("2") << QStringLiteral("1.500s") << false;
        QTest::newRow("429 1001 ms rounds up") << SC::ResourceExhausted << qint64(1001) << 0 << 0 << 429 << QByteArray("2") << QStringLiteral("1.001s") << false;
        QTest::newRow("429 250 ms is at least 1 s") << SC::ResourceExhausted << qint64(250) << 0 << 0 << 429 << QByteArray("1") << QStringLiteral("0.250s") << false;
        QTest::newRow("429 1 ms is at least 1 s") << SC::ResourceExhausted << qint64(1) << 0 << 0 << 429 << QByteArray("1") << QStringLiteral("0.001s") << false;
        QTest::newRow("429 no delay known: header 1, no RetryInfo") << SC::ResourceExhausted << qint64(0) << 0 << 0 << 429 << QByteArray("1") << noInfo << false;
        QTest::newRow("429 negative delay: header 1, no RetryInfo") << SC::ResourceExhausted << qint64(-500) << 0 << 0 << 429 << QByteArray("1") << noInfo << false;
        // 503: Retry-After, never RetryInfo.
        QTest::newRow("503 draining, 3 s") << SC::Unavailable << qint64(3000) << 0 << 0 << 503 << QByteArray("3") << noInfo << false;
        QTest::newRow("503 circuit open, 2.2 s") << SC::Unavailable << qint64(2200) << 0 << 0 << 503 << QByteArray("3") << noInfo << false;
        QTest::newRow("503 no delay known: header 1") << SC::Unavailable << qint64(0) << 0 << 0 << 503 << QByteArray("1") << noInfo << false;
        // From the upstream: Retry-After only when the upstream gave a delay.
        QTest::newRow("upstream 429 without delay") << SC::ResourceExhausted << qint64(0) << 429 << 0 << 429 << none << noInfo << false;
        QTest::newRow("upstream 429 with 58 s") << SC::ResourceExhausted << qint64(58000) << 429 << 0 << 429 << QByteArray("58") << QStringLiteral("58s") << false;
        QTest::newRow("upstream 429 with 58.2 s") << SC::ResourceExhausted << qint64(58218) << 429 << 0 << 429 << QByteArray("59") << QStringLiteral("58.218s") << false;
        QTest::newRow("upstream 503 without delay") << SC::Unavailable << qint64(0) << 503 << 0 << 503 << none << noInfo << false;
        QTest::newRow("upstream 503 with 4 s") << SC::Unavailable << qint64(4000) << 503 << 0 << 503 << QByteArray("4") << noInfo << false;
        QTest::newRow("upstream 502 mapped Unavailable, 1 s") << SC::Unavailable << qint64(1000) << 502 << 0 << 502 << QByteArray("1") << noInfo << false;
        // Other codes: a delay never becomes a header or RetryInfo.
        QTest::newRow("400 ignores a delay") << SC::InvalidArgument << qint64(2000) << 0 << 0 << 400 << none << noInfo << false;
        QTest::newRow("404 ignores a delay") << SC::NotFound << qint64(2000) << 0 << 0 << 404 << none << noInfo << false;
        QTest::newRow("500 ignores a delay") << SC::Internal << qint64(2000) << 0 << 0 << 500 << none << noInfo << false;
        QTest::newRow("504 ignores a delay") << SC::DeadlineExceeded << qint64(2000) << 0 << 0 << 504 << none << noInfo << false;
        QTest::newRow("upstream 500 with a delay") << SC::Internal << qint64(2000) << 500 << 0 << 500 << none << noInfo << false;
        QTest::newRow("413 override of InvalidArgument") << SC::InvalidArgument << qint64(0) << 0 << 413 << 413 << none << noInfo << false;
        // 401: WWW-Authenticate only when the gateway itself refused the token.
        QTest::newRow("401 local asks for a Bearer token") << SC::Unauthenticated << qint64(0) << 0 << 0 << 401 << none << noInfo << true;
        QTest::newRow("401 from upstream: no challenge") << SC::Unauthenticated << qint64(0) << 401 << 0 << 401 << none << noInfo << false;
        QTest::newRow("403 local: no challenge") << SC::PermissionDenied << qint64(0) << 0 << 0 << 403 << none << noInfo << false;
    }

    void retryAndAuthHeaders()
    {
        QFETCH(StatusCode, code);
        QFETCH(qint64, retryAfterMs);
        QFETCH(int, upstreamHttp);
        QFETCH(int, httpOverride);
        QFETCH(int, http);
        QFETCH(QByteArray, retryAfter);
        QFETCH(QString, retryDelay);
        QFETCH(bool, wwwAuthenticate);

        // No upstream envelope: the gateway builds its own, so RetryInfo is visible.
        Status s = Status::error(code, QStringLiteral("m"));
        s.retryAfter = std::chrono::milliseconds(retryAfterMs);
        s.upstreamHttpStatus = upstreamHttp;
        const HttpReply reply = ErrorMapping::toReply(s, httpOverride);
        QCOMPARE(reply.status, http);

        const QList<QByteArray> ra = headerValues(reply, "Retry-After");
        if (retryAfter.isEmpty())
            QVERIFY2(ra.isEmpty(), ra.value(0).constData());
        else
            QCOMPARE(ra, QList<QByteArray>{retryAfter});

        const QList<QByteArray> auth = headerValues(reply, "WWW-Authenticate");
        if (wwwAuthenticate)
            QCOMPARE(auth, QList<QByteArray>{QByteArrayLiteral("Bearer realm=\"sluice\"")});
        else
            QVERIFY(auth.isEmpty());

        const QJsonObject error = envelopeOf(reply).value(QLatin1String("error")).toObject();
        QCOMPARE(error.value(QLatin1String("code")).toInt(), http);
        const QJsonArray details = error.value(QLatin1String("details")).toArray();
        if (retryDelay.isEmpty()) {
            QVERIFY2(!error.contains(QLatin1String("details")), reply.body.constData());
        } else {
            const QJsonObject retryInfo{{QStringLiteral("@type"), kRetryInfoType}, {QStringLiteral("retryDelay"), retryDelay}};
            QCOMPARE(details, QJsonArray{retryInfo});
        }
    }

    // An error the upstream answered with a Gemini envelope is passed on as
    // it came: same HTTP status, same JSON (the recorded Google bodies).
    void upstreamVerbatim_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<StatusCode>("code");
        QTest::addColumn<int>("http");
        QTest::addColumn<qint64>("retryAfterMs");
        QTest::addColumn<QByteArray>("retryAfter");

        QTest::newRow("400 API key invalid") << QStringLiteral("error_400_api_key_invalid.json") << StatusCode::InvalidArgument
                                             << 400 << qint64(0) << QByteArray();
        QTest::newRow("400 batchEmbedContents over 100") << QStringLiteral("error_400_batchEmbedContents_over_100.json")
                                                         << StatusCode::InvalidArgument << 400 << qint64(0) << QByteArray();
        QTest::newRow("403 service disabled") << QStringLiteral("error_403_service_disabled.json") << StatusCode::PermissionDenied
                                              << 403 << qint64(0) << QByteArray();
        // The body's own RetryInfo says 58s; no second RetryInfo is added.
        QTest::newRow("429 quota with RetryInfo") << QStringLiteral("error_429_resource_exhausted_quota_retryinfo.json")
                                                  << StatusCode::ResourceExhausted << 429 << qint64(58000) << QByteArray("58");
        QTest::newRow("503 overloaded, no delay") << QStringLiteral("error_503_unavailable.json") << StatusCode::Unavailable
                                                  << 503 << qint64(0) << QByteArray();
    }

    void upstreamVerbatim()
    {
        QFETCH(QString, file);
        QFETCH(StatusCode, code);
        QFETCH(int, http);
        QFETCH(qint64, retryAfterMs);
        QFETCH(QByteArray, retryAfter);

        const QJsonObject recorded = fixtureObject(file);
        QVERIFY(recorded.value(QLatin1String("error")).isObject());
        const Status s = upstreamStatus(code, http, recorded, std::chrono::milliseconds(retryAfterMs));

        const HttpReply reply = ErrorMapping::toReply(s);
        QCOMPARE(reply.status, http);
        QCOMPARE(envelopeOf(reply), recorded);
        if (retryAfter.isEmpty())
            QVERIFY(headerValues(reply, "Retry-After").isEmpty());
        else
            QCOMPARE(headerValues(reply, "Retry-After"), QList<QByteArray>{retryAfter});

        // extraDetails never edit what Google said.
        const QJsonArray extra{QJsonObject{{QStringLiteral("@type"), QStringLiteral("type.googleapis.com/google.rpc.BadRequest")}}};
        QCOMPARE(envelopeOf(ErrorMapping::toReply(s, 0, extra)), recorded);
    }

    // The 404 that js-genai recorded for an unknown model, as GeminiError
    // would hand it over (a different recording shape from the files above).
    void upstreamVerbatimRecording()
    {
        const QJsonObject rec = fixtureObject(QStringLiteral("recording_error_404_streamGenerateContent.json"));
        const QJsonObject response = rec.value(QLatin1String("interactions")).toArray().at(0).toObject()
                                         .value(QLatin1String("response")).toObject();
        const QJsonObject recorded = response.value(QLatin1String("bodySegments")).toArray().at(0).toObject();
        QCOMPARE(recorded.value(QLatin1String("error")).toObject().value(QLatin1String("code")).toInt(), 404);

        const HttpReply reply = ErrorMapping::toReply(upstreamStatus(StatusCode::NotFound, 404, recorded));
        QCOMPARE(reply.status, 404);
        QCOMPARE(envelopeOf(reply), recorded);
        QVERIFY(reply.headers.isEmpty());
    }

    // An upstream error without a usable envelope: the upstream's HTTP status
    // with an envelope built from the Status.
    void upstreamWithoutEnvelope_data()
    {
        QTest::addColumn<QJsonObject>("upstreamError");
        QTest::addColumn<StatusCode>("code");
        QTest::addColumn<int>("http");
        QTest::addColumn<QString>("grpcStatus");

        QTest::newRow("no body") << QJsonObject() << StatusCode::Unavailable << 502 << QStringLiteral("UNAVAILABLE");
        QTest::newRow("error is a string") << json(R"({"error":"upstream exploded"})") << StatusCode::Internal << 500
                                           << QStringLiteral("INTERNAL");
        QTest::newRow("not an envelope") << json(R"({"message":"nope"})") << StatusCode::NotFound << 404
                                         << QStringLiteral("NOT_FOUND");
        QTest::newRow("status differs from the code's own") << QJsonObject() << StatusCode::InvalidArgument << 422
                                                             << QStringLiteral("INVALID_ARGUMENT");
    }

    void upstreamWithoutEnvelope()
    {
        QFETCH(QJsonObject, upstreamError);
        QFETCH(StatusCode, code);
        QFETCH(int, http);
        QFETCH(QString, grpcStatus);

        const HttpReply reply = ErrorMapping::toReply(upstreamStatus(code, http, upstreamError));
        QCOMPARE(reply.status, http);
        const QJsonObject error = envelopeOf(reply).value(QLatin1String("error")).toObject();
        QCOMPARE(error.value(QLatin1String("code")).toInt(), http);
        QCOMPARE(error.value(QLatin1String("status")).toString(), grpcStatus);
        QCOMPARE(error.value(QLatin1String("message")).toString(), QStringLiteral("upstream said no"));
    }

    // httpOverride replaces the HTTP status and the envelope's code, keeps the
    // status string, and wins over an upstream envelope.
    void httpOverride_data()
    {
        QTest::addColumn<StatusCode>("code");
        QTest::addColumn<int>("overrideStatus");
        QTest::addColumn<bool>("withUpstreamEnvelope");
        QTest::addColumn<QString>("grpcStatus");

        for (int http : {405, 408, 411, 413, 415, 431}) {
            QTest::addRow("InvalidArgument as %d", http) << StatusCode::InvalidArgument << http << false
                                                         << QStringLiteral("INVALID_ARGUMENT");
        }
        QTest::newRow("409 conflict") << StatusCode::InvalidArgument << 409 << false << QStringLiteral("INVALID_ARGUMENT");
        QTest::newRow("426 upgrade") << StatusCode::InvalidArgument << 426 << false << QStringLiteral("INVALID_ARGUMENT");
        QTest::newRow("NotFound as 405") << StatusCode::NotFound << 405 << false << QStringLiteral("NOT_FOUND");
        QTest::newRow("override beats the upstream envelope") << StatusCode::InvalidArgument << 413 << true
                                                               << QStringLiteral("INVALID_ARGUMENT");
    }

    void httpOverride()
    {
        QFETCH(StatusCode, code);
        QFETCH(int, overrideStatus);
        QFETCH(bool, withUpstreamEnvelope);
        QFETCH(QString, grpcStatus);

        Status s = Status::error(code, QStringLiteral("decided by the HTTP layer"));
        if (withUpstreamEnvelope) {
            s.upstreamHttpStatus = 400;
            s.upstreamError = fixtureObject(QStringLiteral("error_400_api_key_invalid.json"));
        }
        const HttpReply reply = ErrorMapping::toReply(s, overrideStatus);
        QCOMPARE(reply.status, overrideStatus);
        const QJsonObject error = envelopeOf(reply).value(QLatin1String("error")).toObject();
        QCOMPARE(error.value(QLatin1String("code")).toInt(), overrideStatus);
        QCOMPARE(error.value(QLatin1String("status")).toString(), grpcStatus);
        QCOMPARE(error.value(QLatin1String("message")).toString(), QStringLiteral("decided by the HTTP layer"));
    }

    // extraDetails are appended after a RetryInfo, in the order given.
    void extraDetails_data()
    {
        QTest::addColumn<StatusCode>("code");
        QTest::addColumn<qint64>("retryAfterMs");
        QTest::addColumn<QJsonArray>("extra");
        QTest::addColumn<QJsonArray>("details"); // empty: no "details" key

        const QJsonObject badRequest = json(R"({"@type":"type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations":[{"field":"contents[0].parts","description":"contents[0].parts must be a list"}]})");
        const QJsonObject help = json(R"({"@type":"type.googleapis.com/google.rpc.Help","links":[{"description":"rate limits"}]})");
        const QJsonObject retryInfo{{QStringLiteral("@type"), kRetryInfoType}, {QStringLiteral("retryDelay"), QStringLiteral("2s")}};

        QTest::newRow("none") << StatusCode::InvalidArgument << qint64(0) << QJsonArray() << QJsonArray();
        QTest::newRow("BadRequest on 400") << StatusCode::InvalidArgument << qint64(0) << QJsonArray{badRequest}
                                           << QJsonArray{badRequest};
        QTest::newRow("two, in order") << StatusCode::InvalidArgument << qint64(0) << QJsonArray{help, badRequest}
                                       << QJsonArray{help, badRequest};
        QTest::newRow("after RetryInfo on 429") << StatusCode::ResourceExhausted << qint64(2000) << QJsonArray{help}
                                                << QJsonArray{retryInfo, help};
        QTest::newRow("503 gets no RetryInfo, only extras") << StatusCode::Unavailable << qint64(2000) << QJsonArray{help}
                                                            << QJsonArray{help};
    }

    void extraDetails()
    {
        QFETCH(StatusCode, code);
        QFETCH(qint64, retryAfterMs);
        QFETCH(QJsonArray, extra);
        QFETCH(QJsonArray, details);

        Status s = Status::error(code, QStringLiteral("m"));
        s.retryAfter = std::chrono::milliseconds(retryAfterMs);
        const QJsonObject error = envelopeOf(ErrorMapping::toReply(s, 0, extra)).value(QLatin1String("error")).toObject();
        if (details.isEmpty())
            QVERIFY(!error.contains(QLatin1String("details")));
        else
            QCOMPARE(error.value(QLatin1String("details")).toArray(), details);
    }

    // Whole seconds, rounded up, at least 1.
    void retryAfterSeconds_data()
    {
        QTest::addColumn<qint64>("ms");
        QTest::addColumn<qint64>("seconds");

        QTest::newRow("0 → 1") << qint64(0) << qint64(1);
        QTest::newRow("1 ms → 1") << qint64(1) << qint64(1);
        QTest::newRow("999 ms → 1") << qint64(999) << qint64(1);
        QTest::newRow("1000 ms → 1") << qint64(1000) << qint64(1);
        QTest::newRow("1001 ms → 2") << qint64(1001) << qint64(2);
        QTest::newRow("1999 ms → 2") << qint64(1999) << qint64(2);
        QTest::newRow("2000 ms → 2") << qint64(2000) << qint64(2);
        QTest::newRow("2001 ms → 3") << qint64(2001) << qint64(3);
        QTest::newRow("58217 ms → 59") << qint64(58217) << qint64(59);
        QTest::newRow("an hour") << qint64(3600000) << qint64(3600);
        QTest::newRow("a day and 1 ms") << qint64(86400001) << qint64(86401);
        QTest::newRow("1e9 s (GeminiError's cap)") << qint64(1000000000000) << qint64(1000000000);
        QTest::newRow("-1 ms → 1") << qint64(-1) << qint64(1);
        QTest::newRow("-60 s → 1") << qint64(-60000) << qint64(1);
    }

    void retryAfterSeconds()
    {
        QFETCH(qint64, ms);
        QFETCH(qint64, seconds);
        QCOMPARE(ErrorMapping::retryAfterSeconds(std::chrono::milliseconds(ms)), seconds);
    }
};

QTEST_GUILESS_MAIN(TestErrorMapping)
#include "tst_errormapping.moc"
