#include "server/http/admintoken.h"

bool AdminToken::equals(const QByteArray &expected, const QByteArray &presented)
{
    if (expected.size() != presented.size())
        return false;
    unsigned char diff = 0;
    for (qsizetype i = 0; i < expected.size(); ++i)
        diff |= static_cast<unsigned char>(expected.at(i) ^ presented.at(i));
    return diff == 0;
}

bool AdminToken::authorizes(const QByteArray &expected, const QByteArray &authorizationHeader)
{
    if (expected.isEmpty())
        return true;
    const QByteArray prefix = QByteArrayLiteral("Bearer ");
    return authorizationHeader.startsWith(prefix) && equals(expected, authorizationHeader.mid(prefix.size()).trimmed());
}
