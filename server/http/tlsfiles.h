#pragma once

#include <QSslConfiguration>
#include <QString>

// The gateway's TLS identity from PEM files: a certificate chain (the
// server's certificate first, then intermediates) and its private key (RSA
// or EC, unencrypted). Loaded at start and again on SIGHUP.
//
// Thread: pure functions, thread-safe.
namespace TlsFiles {

// A server configuration (TLS 1.2 or later, no client certificates) from
// the two files; on failure false with *error naming the file and what is
// wrong ("cannot read TLS key /etc/sluice/key.pem: not a PEM RSA or EC
// private key").
bool load(const QString &certificateFile, const QString &keyFile, QSslConfiguration *out, QString *error);

} // namespace TlsFiles
