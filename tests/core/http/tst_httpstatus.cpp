// HttpStatus: the reason phrase on every status line Sluice writes.

#include "core/http/httpstatus.h"

#include <QTest>

class TestHttpStatus : public QObject
{
    Q_OBJECT
private slots:
    // Every status Sluice writes on a status line (GatewayHttpServer's
    // writableStatus, HttpLimitsTcpServer's 100/408/411/413/431, the stream's
    // 101, the simulator's 414) plus 499.
    void reasonPhrase_data()
    {
        QTest::addColumn<int>("http");
        QTest::addColumn<QByteArray>("phrase");

        const std::pair<int, const char *> rows[] = {
            {100, "Continue"},
            {101, "Switching Protocols"},
            {200, "OK"},
            {201, "Created"},
            {202, "Accepted"},
            {204, "No Content"},
            {304, "Not Modified"},
            {400, "Bad Request"},
            {401, "Unauthorized"},
            {403, "Forbidden"},
            {404, "Not Found"},
            {405, "Method Not Allowed"},
            {408, "Request Timeout"},
            {409, "Conflict"},
            {411, "Length Required"},
            {413, "Content Too Large"},
            {414, "URI Too Long"},
            {415, "Unsupported Media Type"},
            {421, "Misdirected Request"},
            {422, "Unprocessable Content"},
            {426, "Upgrade Required"},
            {429, "Too Many Requests"},
            {431, "Request Header Fields Too Large"},
            {499, "Client Closed Request"},
            {500, "Internal Server Error"},
            {501, "Not Implemented"},
            {502, "Bad Gateway"},
            {503, "Service Unavailable"},
            {504, "Gateway Timeout"},
        };
        for (const auto &[http, phrase] : rows)
            QTest::addRow("%d", http) << http << QByteArray(phrase);
        // A code the gateway never writes (it folds them into their class).
        QTest::newRow("418 unknown") << 418 << QByteArrayLiteral("Status");
    }

    void reasonPhrase()
    {
        QFETCH(int, http);
        QFETCH(QByteArray, phrase);
        QCOMPARE(HttpStatus::reasonPhrase(http), phrase);
        QCOMPARE(HttpStatus::isKnown(http), phrase != "Status");
    }
};

QTEST_GUILESS_MAIN(TestHttpStatus)
#include "tst_httpstatus.moc"
