// The gateway over TLS (issue 17), over loopback against the real
// GatewayServer, engine, client and GeminiSimulator, with a throwaway CA
// made by Debian's openssl for this run: HTTPS with keep-alive and the same
// limits, plain HTTP to the TLS port answered with a clear 400 instead of a
// hang, the dashboard stream as wss://, a certificate reloaded without
// dropping open connections, and plain HTTP refused on a non-loopback
// address unless asked for explicitly.

#include "tests/support/gatewaystack.h"
#include "tests/support/userturn.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSslSocket>
#include <QTemporaryDir>
#include <QWebSocket>
#include <QtTest>

#include <memory>

namespace {

// Runs openssl with `args` in `dir`; "" or what went wrong.
QString openssl(const QString &dir, const QStringList &args)
{
    QProcess p;
    p.setWorkingDirectory(dir);
    p.start(QStringLiteral("openssl"), args);
    if (!p.waitForFinished(30000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
        return QStringLiteral("openssl %1: %2").arg(args.join(u' '), QString::fromLocal8Bit(p.readAllStandardError()));
    return {};
}

// A server certificate for 127.0.0.1 and localhost signed by the CA in
// `dir` (ca.pem, ca.key), written to <name>.pem and <name>.key.
QString issue(const QString &dir, const QString &name)
{
    QFile ext(dir + QStringLiteral("/ext.cnf"));
    if (!ext.open(QIODevice::WriteOnly))
        return QStringLiteral("cannot write ext.cnf");
    ext.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    ext.close();
    QString e = openssl(dir, {QStringLiteral("req"), QStringLiteral("-newkey"), QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
                              QStringLiteral("ec_paramgen_curve:P-256"), QStringLiteral("-nodes"), QStringLiteral("-keyout"),
                              name + QStringLiteral(".key"), QStringLiteral("-out"), name + QStringLiteral(".csr"),
                              QStringLiteral("-subj"), QStringLiteral("/CN=127.0.0.1")});
    if (!e.isEmpty())
        return e;
    return openssl(dir, {QStringLiteral("x509"), QStringLiteral("-req"), QStringLiteral("-in"), name + QStringLiteral(".csr"),
                         QStringLiteral("-CA"), QStringLiteral("ca.pem"), QStringLiteral("-CAkey"), QStringLiteral("ca.key"),
                         QStringLiteral("-CAcreateserial"), QStringLiteral("-days"), QStringLiteral("2"),
                         QStringLiteral("-extfile"), QStringLiteral("ext.cnf"), QStringLiteral("-out"), name + QStringLiteral(".pem")});
}

QByteArray readAnswer(QIODevice &s, int timeoutMs = 10000)
{
    QByteArray got;
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < timeoutMs) {
        QTest::qWait(5);
        got += s.readAll();
        const qsizetype head = got.indexOf("\r\n\r\n");
        if (head < 0)
            continue;
        const qsizetype cl = got.indexOf("Content-Length: ");
        if (cl < 0 || cl > head)
            continue;
        const qint64 length = got.mid(cl + 16, got.indexOf("\r\n", cl) - cl - 16).toLongLong();
        if (got.size() - (head + 4) >= length)
            return got;
    }
    return got;
}

} // namespace

class TestTlsFront : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    GatewayStack m_stack;
    std::unique_ptr<GatewayServer> m_gateway;
    QSslConfiguration m_clientTls;
    quint16 m_port = 0;

    std::unique_ptr<QSslSocket> connectTls()
    {
        auto s = std::make_unique<QSslSocket>();
        s->setSslConfiguration(m_clientTls);
        s->connectToHostEncrypted(QStringLiteral("127.0.0.1"), m_port);
        if (!s->waitForEncrypted(10000))
            return nullptr;
        return s;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const QString d = m_dir.path();
        QString e = openssl(d, {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("ec"),
                                QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:P-256"), QStringLiteral("-nodes"),
                                QStringLiteral("-keyout"), QStringLiteral("ca.key"), QStringLiteral("-out"), QStringLiteral("ca.pem"),
                                QStringLiteral("-days"), QStringLiteral("2"), QStringLiteral("-subj"), QStringLiteral("/CN=Sluice test CA")});
        QVERIFY2(e.isEmpty(), qPrintable(e));
        e = issue(d, QStringLiteral("first"));
        QVERIFY2(e.isEmpty(), qPrintable(e));
        QVERIFY(QFile::copy(d + QStringLiteral("/first.pem"), d + QStringLiteral("/cert.pem")));
        QVERIFY(QFile::copy(d + QStringLiteral("/first.key"), d + QStringLiteral("/key.pem")));

        m_clientTls = QSslConfiguration::defaultConfiguration();
        m_clientTls.setCaCertificates(QSslCertificate::fromPath(d + QStringLiteral("/ca.pem")));

        QString error;
        QVERIFY2(m_stack.start(instantSimulator(8), EngineConfig{}, &error), qPrintable(error));
        GatewayOptions o;
        o.port = 0;
        o.maxBodyBytes = 4096;
        o.tlsCertificateFile = d + QStringLiteral("/cert.pem");
        o.tlsKeyFile = d + QStringLiteral("/key.pem");
        o.headerTimeoutMs = 1000;
        m_gateway = m_stack.startGateway(o, &error);
        QVERIFY2(m_gateway, qPrintable(error));
        QCOMPARE(m_gateway->url().scheme(), QStringLiteral("https"));
        m_port = quint16(m_gateway->url().port());
    }

    void cleanupTestCase()
    {
        m_gateway.reset();
        m_stack.stop();
    }

    // Keep-alive over TLS, the Gemini route, and the body limit (413 before
    // the body is read) as on plain HTTP.
    void httpsKeepAliveAndLimits()
    {
        auto s = connectTls();
        QVERIFY(s);
        QCOMPARE(s->peerCertificate().subjectInfo(QSslCertificate::CommonName).value(0), QStringLiteral("127.0.0.1"));
        s->write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        QVERIFY(readAnswer(*s).startsWith("HTTP/1.1 200 "));
        const QByteArray body = QJsonDocument(userText(QStringLiteral("over TLS"))).toJson(QJsonDocument::Compact);
        s->write("POST /v1beta/models/gemini-2.0-flash:generateContent HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        const QByteArray generated = readAnswer(*s);
        QVERIFY2(generated.startsWith("HTTP/1.1 200 ") && generated.contains("\"candidates\""), generated.constData());
        QCOMPARE(s->state(), QAbstractSocket::ConnectedState);
        s->write("POST /v1beta/models/gemini-2.0-flash:generateContent HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n");
        const QByteArray refused = readAnswer(*s);
        QVERIFY2(refused.startsWith("HTTP/1.1 413 "), refused.constData());
    }

    // Plain HTTP to the TLS port: a readable 400 at once, then close.
    void plainHttpGetsAClearError()
    {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, m_port);
        QVERIFY(s.waitForConnected(5000));
        s.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        const QByteArray got = readAnswer(s);
        QVERIFY2(got.startsWith("HTTP/1.1 400 ") && got.contains("this port speaks HTTPS"), got.constData());
        QTRY_COMPARE_WITH_TIMEOUT(s.state(), QAbstractSocket::UnconnectedState, 5000);
    }

    // A connection that says nothing is closed after the header timeout
    // (the TLS port waits for the first byte to choose the protocol).
    void silentConnectionIsClosed()
    {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, m_port);
        QVERIFY(s.waitForConnected(5000));
        QTRY_COMPARE_WITH_TIMEOUT(s.state(), QAbstractSocket::UnconnectedState, 5000);
    }

    // The dashboard's stream as wss://.
    void streamOverWss()
    {
        QWebSocket ws;
        ws.setSslConfiguration(m_clientTls);
        QString hello;
        connect(&ws, &QWebSocket::textMessageReceived, this, [&](const QString &text) {
            if (hello.isEmpty())
                hello = text;
        });
        ws.open(QUrl(QStringLiteral("wss://127.0.0.1:%1/api/v1/stream").arg(m_port)));
        QTRY_VERIFY_WITH_TIMEOUT(!hello.isEmpty(), 10000);
        QCOMPARE(QJsonDocument::fromJson(hello.toUtf8()).object().value(QStringLiteral("type")).toString(), QStringLiteral("hello"));
        ws.close();
    }

    // SIGHUP's reload: new connections get the new certificate, an open
    // connection goes on with the old one.
    void reloadKeepsOpenConnections()
    {
        auto before = connectTls();
        QVERIFY(before);
        const QByteArray oldSerial = before->peerCertificate().serialNumber();
        const QString d = m_dir.path();
        QString e = issue(d, QStringLiteral("second"));
        QVERIFY2(e.isEmpty(), qPrintable(e));
        QVERIFY(QFile::remove(d + QStringLiteral("/cert.pem")) && QFile::remove(d + QStringLiteral("/key.pem")));
        QVERIFY(QFile::copy(d + QStringLiteral("/second.pem"), d + QStringLiteral("/cert.pem")));
        QVERIFY(QFile::copy(d + QStringLiteral("/second.key"), d + QStringLiteral("/key.pem")));
        QString error;
        QVERIFY2(m_gateway->reloadTls(&error), qPrintable(error));

        auto after = connectTls();
        QVERIFY(after);
        QVERIFY(after->peerCertificate().serialNumber() != oldSerial);
        before->write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        QVERIFY(readAnswer(*before).startsWith("HTTP/1.1 200 "));

        // A bad file keeps the identity in use and says what is wrong.
        QFile broken(d + QStringLiteral("/key.pem"));
        QVERIFY(broken.open(QIODevice::WriteOnly | QIODevice::Truncate));
        broken.write("not a key\n");
        broken.close();
        QVERIFY(!m_gateway->reloadTls(&error));
        QVERIFY2(error.contains(QStringLiteral("key.pem")) && error.contains(QStringLiteral("private key")), qPrintable(error));
        QVERIFY(connectTls());
    }

    // Beyond loopback: plain HTTP only when asked for; a missing key file
    // is named.
    void nonLoopbackNeedsTlsOrTheExplicitFlag()
    {
        GatewayOptions o;
        o.host = QStringLiteral("0.0.0.0");
        o.port = 0;
        o.adminToken = "t";
        QString error;
        QVERIFY(!m_stack.startGateway(o, &error));
        QVERIFY2(error.contains(QStringLiteral("--insecure-plaintext")) && error.contains(QStringLiteral("--tls-cert")),
                 qPrintable(error));
        o.insecurePlaintext = true;
        QVERIFY2(m_stack.startGateway(o, &error), qPrintable(error));
        o.insecurePlaintext = false;
        o.tlsCertificateFile = m_dir.path() + QStringLiteral("/second.pem");
        o.tlsKeyFile = m_dir.path() + QStringLiteral("/missing.key");
        QVERIFY(!m_stack.startGateway(o, &error));
        QVERIFY2(error.contains(QStringLiteral("missing.key")), qPrintable(error));
        o.tlsKeyFile = m_dir.path() + QStringLiteral("/second.key");
        QVERIFY2(m_stack.startGateway(o, &error), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(TestTlsFront)
#include "tst_tlsfront.moc"
