#pragma once

#include <QByteArray>

#include <optional>

// RFC 6455 framing for the gateway's own WebSocket endpoint
// (/api/v1/stream): the server side of the opening handshake and of the
// frame format. The gateway does not use QWebSocketServer because Qt 6.4.2's
// QAbstractHttpServer hands every `Upgrade: websocket` request to its private
// QWebSocketServer before any route runs (no per-path or Origin decision
// before the 101 is written), and because building each frame once and
// writing the same bytes to every client is what keeps 200 clients cheap.
//
// Thread: pure functions and a plain value type (FrameReader), thread-safe.
namespace WebSocketFrames {

enum Opcode : quint8 { Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA };

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
QByteArray acceptKey(const QByteArray &clientKey);

// One unmasked server-to-client frame with FIN set.
QByteArray frame(Opcode opcode, const QByteArray &payload);
inline QByteArray textFrame(const QByteArray &utf8) { return frame(Text, utf8); }
QByteArray closeFrame(quint16 code, const QByteArray &reason = {});

} // namespace WebSocketFrames

// Incremental decoder of client-to-server frames. Client frames must be
// masked (RFC 6455 §5.1); a frame larger than maxPayload, an unmasked frame
// or a reserved opcode is a protocol error (the caller closes with the code
// in error()).
class WebSocketFrameReader
{
public:
    struct Frame {
        quint8 opcode = 0;
        bool fin = true;
        QByteArray payload; // unmasked
    };

    explicit WebSocketFrameReader(qint64 maxPayload = 64 * 1024) : m_maxPayload(maxPayload) {}

    void append(const QByteArray &bytes) { m_buffer += bytes; }
    // The next complete frame, or nullopt when more bytes are needed or on error.
    std::optional<Frame> next();
    // 0 while fine, else the close code to send (1002 protocol error, 1009 too big).
    quint16 error() const { return m_error; }

private:
    QByteArray m_buffer;
    qint64 m_maxPayload;
    quint16 m_error = 0;
};
