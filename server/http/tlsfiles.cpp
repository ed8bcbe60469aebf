#include "server/http/tlsfiles.h"

#include <QFile>
#include <QSslCertificate>
#include <QSslKey>

bool TlsFiles::load(const QString &certificateFile, const QString &keyFile, QSslConfiguration *out, QString *error)
{
    QFile certFile(certificateFile);
    if (!certFile.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read TLS certificate %1: %2").arg(certificateFile, certFile.errorString());
        return false;
    }
    const QList<QSslCertificate> chain = QSslCertificate::fromData(certFile.readAll(), QSsl::Pem);
    if (chain.isEmpty() || chain.first().isNull()) {
        *error = QStringLiteral("cannot read TLS certificate %1: no PEM certificate in it").arg(certificateFile);
        return false;
    }
    QFile kf(keyFile);
    if (!kf.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read TLS key %1: %2").arg(keyFile, kf.errorString());
        return false;
    }
    const QByteArray keyPem = kf.readAll();
    QSslKey key(keyPem, QSsl::Rsa, QSsl::Pem);
    if (key.isNull())
        key = QSslKey(keyPem, QSsl::Ec, QSsl::Pem);
    if (key.isNull()) {
        *error = QStringLiteral("cannot read TLS key %1: not an unencrypted PEM RSA or EC private key").arg(keyFile);
        return false;
    }
    QSslConfiguration c = QSslConfiguration::defaultConfiguration();
    c.setLocalCertificateChain(chain);
    c.setPrivateKey(key);
    c.setPeerVerifyMode(QSslSocket::VerifyNone); // no client certificates
    c.setProtocol(QSsl::TlsV1_2OrLater);
    *out = c;
    return true;
}
