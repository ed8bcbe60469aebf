#include "server/stream/websocketframes.h"

#include <QCryptographicHash>
#include <QtEndian>

namespace WebSocketFrames {

QByteArray acceptKey(const QByteArray &clientKey)
{
    return QCryptographicHash::hash(clientKey.trimmed() + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
                                    QCryptographicHash::Sha1)
        .toBase64();
}

QByteArray frame(Opcode opcode, const QByteArray &payload)
{
    QByteArray out;
    const qint64 n = payload.size();
    out.reserve(int(n + 10));
    out += char(0x80 | opcode);
    if (n < 126) {
        out += char(n);
    } else if (n <= 0xFFFF) {
        out += char(126);
        out += char((n >> 8) & 0xFF);
        out += char(n & 0xFF);
    } else {
        out += char(127);
        for (int shift = 56; shift >= 0; shift -= 8)
            out += char((quint64(n) >> shift) & 0xFF);
    }
    out += payload;
    return out;
}

QByteArray closeFrame(quint16 code, const QByteArray &reason)
{
    QByteArray payload;
    payload += char(code >> 8);
    payload += char(code & 0xFF);
    payload += reason.left(123);
    return frame(Close, payload);
}

} // namespace WebSocketFrames

std::optional<WebSocketFrameReader::Frame> WebSocketFrameReader::next()
{
    if (m_error || m_buffer.size() < 2)
        return std::nullopt;
    const auto *p = reinterpret_cast<const uchar *>(m_buffer.constData());
    const bool fin = p[0] & 0x80;
    const quint8 opcode = p[0] & 0x0F;
    if (p[0] & 0x70) { // RSV bits: no extension was negotiated
        m_error = 1002;
        return std::nullopt;
    }
    if (!(opcode <= 2 || (opcode >= 8 && opcode <= 10))) {
        m_error = 1002;
        return std::nullopt;
    }
    const bool masked = p[1] & 0x80;
    if (!masked) {
        m_error = 1002;
        return std::nullopt;
    }
    quint64 len = p[1] & 0x7F;
    qsizetype pos = 2;
    if (len == 126) {
        if (m_buffer.size() < 4)
            return std::nullopt;
        len = qFromBigEndian<quint16>(p + 2);
        pos = 4;
    } else if (len == 127) {
        if (m_buffer.size() < 10)
            return std::nullopt;
        len = qFromBigEndian<quint64>(p + 2);
        pos = 10;
    }
    if (len > quint64(m_maxPayload) || (opcode >= 8 && (len > 125 || !fin))) {
        m_error = opcode >= 8 ? 1002 : 1009;
        return std::nullopt;
    }
    if (m_buffer.size() < pos + 4 + qsizetype(len))
        return std::nullopt;
    const uchar *mask = p + pos;
    pos += 4;
    Frame f;
    f.opcode = opcode;
    f.fin = fin;
    f.payload = m_buffer.mid(pos, qsizetype(len));
    char *d = f.payload.data();
    for (qsizetype i = 0; i < f.payload.size(); ++i)
        d[i] = char(uchar(d[i]) ^ mask[i % 4]);
    m_buffer.remove(0, pos + qsizetype(len));
    return f;
}
