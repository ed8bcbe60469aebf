#include "server/http/admintoken.h"

#include <QCryptographicHash>

bool AdminToken::equals(const QByteArray &expected, const QByteArray &presented)
{
    // Compared as SHA-256 digests: the time taken depends on neither the
    // bytes nor the length of either token.
    const QByteArray a = QCryptographicHash::hash(expected, QCryptographicHash::Sha256);
    const QByteArray b = QCryptographicHash::hash(presented, QCryptographicHash::Sha256);
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a.at(i) ^ b.at(i));
    return diff == 0;
}

bool AdminToken::authorizes(const QByteArray &expected, const QByteArray &authorizationHeader)
{
    if (expected.isEmpty())
        return true;
    // RFC 9110 §11.1: the scheme is case-insensitive.
    const QByteArray header = authorizationHeader.trimmed();
    const qsizetype space = header.indexOf(' ');
    if (space < 0 || header.first(space).compare("bearer", Qt::CaseInsensitive) != 0)
        return false;
    return equals(expected, header.sliced(space + 1).trimmed());
}
