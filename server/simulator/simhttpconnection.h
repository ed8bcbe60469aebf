#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPair>

#include <functional>

class QTcpSocket;

// One HTTP/1.1 server connection of the GeminiSimulator: a lean parser
// (the head read with HttpHeaderBlock, bare LF line ends accepted, and the
// request line with whitespace around it; Content-Length body; keep-alive; Connection: close
// and HTTP/1.0 honoured; one request at a time, pipelined requests wait in the
// buffer) and writers for whole responses (with Content-Length) and chunked
// streams. Malformed or oversized requests get a 400/413/431 and the
// connection is closed; nothing a client sends can make it throw or assert.
//
// Thread: lives in and is used only from the simulator's server thread.
class SimHttpConnection : public QObject
{
    Q_OBJECT
public:
    using Headers = QList<QPair<QByteArray, QByteArray>>;

    struct Request {
        QByteArray method;
        QByteArray path;   // percent-decoded (so "%3A" is ':')
        QByteArray query;  // raw, without '?'
        Headers headers;   // names lower-cased
        QByteArray body;
        bool keepAlive = true;

        QByteArray header(const QByteArray &lowerName) const;
        QByteArray queryItem(const QByteArray &name) const; // percent-decoded
    };

    // Called for each complete request; the handler must eventually call
    // sendResponse(), endStream() or drop() exactly once.
    using RequestHandler = std::function<void(SimHttpConnection *, Request &)>;
    using Notifier = std::function<void(SimHttpConnection *)>;

    SimHttpConnection(QTcpSocket *socket, qint64 maxBodyBytes, QObject *parent = nullptr);
    ~SimHttpConnection() override;

    void setHandlers(RequestHandler onRequest, Notifier onMalformed, Notifier onClosed);
    void setMaxBodyBytes(qint64 bytes) { m_maxBodyBytes = bytes; }

    void sendResponse(int status, const QByteArray &contentType, const QByteArray &body,
                      const Headers &extraHeaders = {});
    void beginStream(int status, const QByteArray &contentType, const Headers &extraHeaders = {});
    void writeChunk(const QByteArray &data);
    void endStream();
    // Closes the connection at once without (the rest of) a response.
    void drop();

    bool isStreaming() const { return m_streaming; }

private:
    void onReadyRead();
    void parse();
    void fail(int status, const char *message);
    void finishResponse();

    QTcpSocket *m_socket;
    qint64 m_maxBodyBytes;
    QByteArray m_buffer;
    RequestHandler m_onRequest;
    Notifier m_onMalformed;
    Notifier m_onClosed;
    bool m_busy = false;       // a request is being answered
    bool m_parsing = false;    // inside parse(); avoids recursion on synchronous answers
    bool m_keepAlive = true;
    bool m_streaming = false;
    bool m_closed = false;
    bool m_closing = false;    // Connection: close answered; waiting for the flush
};
