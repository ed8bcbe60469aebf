#include "core/gemini/geminierror.h"
#include "tests/support/fixtures.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

using namespace std::chrono_literals;

// GeminiError: recorded upstream error bodies → Status (code, retry delay,
// verbatim envelope, HTTP status).
class TestGeminiError : public QObject
{
    Q_OBJECT

private:
    static QByteArray read(const QString &name) { return readFixture(name); }

private slots:
    void fixtures_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("http");
        QTest::addColumn<StatusCode>("code");
        QTest::addColumn<QString>("grpcStatus");
        QTest::addColumn<qint64>("retryAfterMs");
        QTest::addColumn<bool>("retryable");

        QTest::newRow("400 api key") << QStringLiteral("error_400_api_key_invalid.json") << 400
                                     << StatusCode::InvalidArgument << QStringLiteral("INVALID_ARGUMENT") << qint64(0) << false;
        QTest::newRow("400 embed over 100") << QStringLiteral("error_400_batchEmbedContents_over_100.json") << 400
                                            << StatusCode::InvalidArgument << QStringLiteral("INVALID_ARGUMENT") << qint64(0) << false;
        QTest::newRow("403 disabled") << QStringLiteral("error_403_service_disabled.json") << 403
                                      << StatusCode::PermissionDenied << QStringLiteral("PERMISSION_DENIED") << qint64(0) << false;
        QTest::newRow("429 quota") << QStringLiteral("error_429_resource_exhausted_quota_retryinfo.json") << 429
                                   << StatusCode::ResourceExhausted << QStringLiteral("RESOURCE_EXHAUSTED") << qint64(58000) << true;
        QTest::newRow("503 overloaded") << QStringLiteral("error_503_unavailable.json") << 503
                                        << StatusCode::Unavailable << QStringLiteral("UNAVAILABLE") << qint64(0) << true;
    }

    void fixtures()
    {
        QFETCH(QString, file);
        QFETCH(int, http);
        QFETCH(StatusCode, code);
        QFETCH(QString, grpcStatus);
        QFETCH(qint64, retryAfterMs);
        QFETCH(bool, retryable);

        const QByteArray body = read(file);
        const GeminiError err = GeminiError::fromHttp(http, body);
        QCOMPARE(err.code, http);
        QCOMPARE(err.status, grpcStatus);
        QVERIFY(!err.message.isEmpty());
        QCOMPARE(err.envelope, QJsonDocument::fromJson(body).object()); // verbatim, nothing lost
        QCOMPARE(GeminiError::isRetryableHttp(http), retryable);

        const Status s = err.toStatus();
        QCOMPARE(s.code, code);
        QCOMPARE(s.upstreamHttpStatus, http);
        QCOMPARE(s.upstreamError, QJsonDocument::fromJson(body).object());
        QCOMPARE(s.retryAfter.count(), retryAfterMs);
        QCOMPARE(s.message, err.message);
        QCOMPARE(statusCodeName(s.code), grpcStatus);
    }

    void error404OnSseRoute_data()
    {
        QTest::addColumn<QByteArray>("framing");
        QTest::newRow("bare json (as recorded)") << QByteArray("bare");
        QTest::newRow("data: framed") << QByteArray("sse");
    }

    void error404OnSseRoute()
    {
        QFETCH(QByteArray, framing);
        const QJsonObject rec = QJsonDocument::fromJson(read(QStringLiteral("recording_error_404_streamGenerateContent.json"))).object();
        const QJsonObject response = rec.value(QLatin1String("interactions")).toArray().at(0).toObject()
                                         .value(QLatin1String("response")).toObject();
        QCOMPARE(response.value(QLatin1String("statusCode")).toInt(), 404);
        const QJsonObject envelope = response.value(QLatin1String("bodySegments")).toArray().at(0).toObject();
        QByteArray wire = QJsonDocument(envelope).toJson(QJsonDocument::Indented);
        if (framing == "sse")
            wire = "data: " + QJsonDocument(envelope).toJson(QJsonDocument::Compact) + "\r\n\r\n";

        const Status s = GeminiError::fromHttp(404, wire).toStatus();
        QCOMPARE(s.code, StatusCode::NotFound);
        QCOMPARE(s.upstreamHttpStatus, 404);
        QCOMPARE(s.upstreamError, envelope);
        QVERIFY(s.message.contains(QLatin1String("custom-gemini-2.0-flash is not found")));
        QVERIFY(!GeminiError::isRetryableHttp(404));
    }

    void nonJsonBody()
    {
        const GeminiError err = GeminiError::fromHttp(502, "<html><body>Bad Gateway</body></html>", "7");
        QVERIFY(err.envelope.isEmpty());
        QVERIFY(err.message.contains(QLatin1String("502")));
        QVERIFY(err.message.contains(QLatin1String("Bad Gateway")));
        const Status s = err.toStatus();
        QCOMPARE(s.code, StatusCode::Unavailable);
        QCOMPARE(s.retryAfter, 7000ms);
        QVERIFY(s.upstreamError.isEmpty());
    }

    void retryInfoBeatsRetryAfterHeader()
    {
        const GeminiError err = GeminiError::fromHttp(429, read(QStringLiteral("error_429_resource_exhausted_quota_retryinfo.json")), "3");
        QCOMPARE(err.retryDelay.value_or(0ms), 58000ms);
        const GeminiError header = GeminiError::fromHttp(503, read(QStringLiteral("error_503_unavailable.json")), "3");
        QCOMPARE(header.retryDelay.value_or(0ms), 3000ms);
    }

    void statusCodes_data()
    {
        QTest::addColumn<int>("http");
        QTest::addColumn<QString>("grpc");
        QTest::addColumn<StatusCode>("code");
        QTest::addColumn<bool>("retryable");

        QTest::newRow("400") << 400 << QString() << StatusCode::InvalidArgument << false;
        QTest::newRow("401") << 401 << QString() << StatusCode::Unauthenticated << false;
        QTest::newRow("403") << 403 << QString() << StatusCode::PermissionDenied << false;
        QTest::newRow("404") << 404 << QString() << StatusCode::NotFound << false;
        QTest::newRow("408") << 408 << QString() << StatusCode::DeadlineExceeded << true;
        QTest::newRow("429") << 429 << QString() << StatusCode::ResourceExhausted << true;
        QTest::newRow("500") << 500 << QString() << StatusCode::Internal << true;
        QTest::newRow("502") << 502 << QString() << StatusCode::Unavailable << true;
        QTest::newRow("503") << 503 << QString() << StatusCode::Unavailable << true;
        QTest::newRow("504") << 504 << QString() << StatusCode::DeadlineExceeded << true;
        QTest::newRow("409 ABORTED-ish unknown") << 409 << QStringLiteral("ABORTED") << StatusCode::InvalidArgument << false;
        QTest::newRow("499 CANCELLED") << 499 << QStringLiteral("CANCELLED") << StatusCode::Cancelled << false;
        QTest::newRow("501 unknown") << 501 << QString() << StatusCode::Unavailable << false;
    }

    void statusCodes()
    {
        QFETCH(int, http);
        QFETCH(QString, grpc);
        QFETCH(StatusCode, code);
        QFETCH(bool, retryable);
        QCOMPARE(GeminiError::statusCodeFor(http, grpc), code);
        QCOMPARE(GeminiError::isRetryableHttp(http), retryable);
    }

    void inStreamEnvelope()
    {
        const QJsonObject ev = QJsonDocument::fromJson(R"({"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}})").object();
        const auto err = GeminiError::fromEnvelope(ev);
        QVERIFY(err);
        QCOMPARE(err->code, 503);
        QVERIFY(!GeminiError::fromEnvelope(QJsonObject{{QStringLiteral("candidates"), QJsonArray()}}));
    }

    void durations_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<qint64>("ms"); // -1: rejected

        QTest::newRow("58s") << QStringLiteral("58s") << qint64(58000);
        QTest::newRow("1.5s") << QStringLiteral("1.5s") << qint64(1500);
        QTest::newRow("0.250s") << QStringLiteral("0.250s") << qint64(250);
        QTest::newRow("fractional ns") << QStringLiteral("58.217843437s") << qint64(58218);
        QTest::newRow("0s") << QStringLiteral("0s") << qint64(0);
        QTest::newRow("spaces") << QStringLiteral(" 2s ") << qint64(2000);
        QTest::newRow("no unit") << QStringLiteral("58") << qint64(-1);
        QTest::newRow("ms unit") << QStringLiteral("58ms") << qint64(-1);
        QTest::newRow("negative") << QStringLiteral("-1s") << qint64(-1);
        QTest::newRow("empty") << QString() << qint64(-1);
        QTest::newRow("garbage") << QStringLiteral("soon") << qint64(-1);
    }

    void durations()
    {
        QFETCH(QString, text);
        QFETCH(qint64, ms);
        const auto d = GeminiError::parseDuration(text);
        if (ms < 0)
            QVERIFY(!d);
        else
            QCOMPARE(d.value_or(-1ms).count(), ms);
    }

    // A protobuf Duration in JSON: whole seconds, else exactly 3 decimals.
    void durationText_data()
    {
        QTest::addColumn<qint64>("ms");
        QTest::addColumn<QString>("text");

        QTest::newRow("0") << qint64(0) << QStringLiteral("0s");
        QTest::newRow("1 ms") << qint64(1) << QStringLiteral("0.001s");
        QTest::newRow("10 ms") << qint64(10) << QStringLiteral("0.010s");
        QTest::newRow("250 ms") << qint64(250) << QStringLiteral("0.250s");
        QTest::newRow("999 ms") << qint64(999) << QStringLiteral("0.999s");
        QTest::newRow("1 s") << qint64(1000) << QStringLiteral("1s");
        QTest::newRow("1001 ms") << qint64(1001) << QStringLiteral("1.001s");
        QTest::newRow("1.5 s") << qint64(1500) << QStringLiteral("1.500s");
        QTest::newRow("58 s") << qint64(58000) << QStringLiteral("58s");
        QTest::newRow("a day") << qint64(86400000) << QStringLiteral("86400s");
        QTest::newRow("a day and 5 ms") << qint64(86400005) << QStringLiteral("86400.005s");
        QTest::newRow("negative is 0") << qint64(-1) << QStringLiteral("0s");
        QTest::newRow("negative 1.5 s is 0") << qint64(-1500) << QStringLiteral("0s");
    }

    void durationText()
    {
        QFETCH(qint64, ms);
        QFETCH(QString, text);
        QCOMPARE(GeminiError::durationText(std::chrono::milliseconds(ms)), text);
    }
};

QTEST_GUILESS_MAIN(TestGeminiError)
#include "tst_geminierror.moc"
