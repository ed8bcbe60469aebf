#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QPair>
#include <QString>

#include <utility>

// Incremental parser of one HTTP/1.x response at a time, as a client reads it
// (RFC 9112): no sockets, no timers, so every edge case is a unit test.
//
// - Status line "HTTP/1.0" or "HTTP/1.1", a three-digit code 100..599 and an
//   optional reason. Interim 1xx responses (100 Continue, 103 Early Hints) are
//   skipped; 101 (no upgrade was asked for) is an error.
// - Header fields are kept in order with lower-cased names; obsolete line
//   folding is joined with a space. Lines may end in CRLF or a bare LF.
//   Status line + headers of one response (and, separately, the trailers)
//   may take at most Limits::maxHeaderBytes.
// - Body framing: Transfer-Encoding ending in "chunked" (chunk extensions
//   ignored, trailers parsed into trailers()), else Content-Length (a list of
//   equal values is accepted; signs, non-digits and overflow are errors), else
//   read until the peer closes (finish()). 204, 304 and HEAD answers have no
//   body. Decoded body bytes are capped at Limits::maxBodyBytes.
// - keepAlive(): HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with
//   "Connection: keep-alive"; never for a body read until close.
//
// Errors are final: errorString() says what was wrong, phrased to follow
// "upstream transport error: " (e.g. "malformed status line").
//
// Thread: not thread-safe; one parser per connection.
class Http1ResponseParser
{
public:
    struct Limits {
        qsizetype maxHeaderBytes = 64 * 1024;
        qint64 maxBodyBytes = 256LL * 1024 * 1024;
    };

    enum class Progress {
        NeedMore,  // feed more bytes (or finish() when the peer closed)
        Complete,  // one final response is complete; see excessBytes()
        Error,     // see errorString(); the connection must be closed
    };

    using Headers = QList<QPair<QByteArray, QByteArray>>;

    Http1ResponseParser();
    explicit Http1ResponseParser(Limits limits);

    // Starts over for the next response on the same connection. `headRequest`:
    // the answer to a HEAD request, which has headers only.
    void reset(bool headRequest = false);

    // Feeds bytes as they arrive. After Complete, further bytes are not parsed,
    // only counted in excessBytes() (a server must not send them: the caller
    // should not reuse the connection).
    Progress feed(QByteArrayView bytes);
    // The peer closed the connection: completes a read-until-close body,
    // otherwise an error ("connection closed before the response was complete").
    Progress finish();

    Progress progress() const { return m_progress; }
    bool receivedAnything() const { return m_receivedAnything; } // any byte since reset()
    bool headersComplete() const { return m_headersDone; } // of the final (non-1xx) response
    QString errorString() const { return m_error; }

    // Valid once headersComplete().
    int statusCode() const { return m_status; }
    int httpMinorVersion() const { return m_minor; }
    const Headers &headers() const { return m_headers; }
    // The first field named `lowerName` (lower-case), or empty.
    QByteArray header(QByteArrayView lowerName) const;
    const Headers &trailers() const { return m_trailers; }
    bool keepAlive() const { return m_keepAlive; }
    bool isChunked() const { return m_framing == Framing::Chunked; }
    bool readsUntilClose() const { return m_framing == Framing::UntilClose; }

    // Body bytes decoded and not yet taken. A streaming reader takes them after
    // every feed(); otherwise the whole body is here at Complete.
    QByteArray takeBody() { return std::exchange(m_body, {}); }
    const QByteArray &body() const { return m_body; }
    qint64 bodyBytes() const { return m_bodyBytes; } // decoded so far, taken or not
    qsizetype excessBytes() const { return m_excess; }

private:
    enum class State {
        StatusLine,
        Headers,
        Body,
        ChunkSize,
        ChunkData,
        ChunkDataEnd,
        Trailers,
        Done,
        Failed,
    };
    enum class Framing { None, Length, Chunked, UntilClose };

    Progress fail(const QString &why);
    // Consumes one line of a line-based state; false after an error.
    bool onLine(QByteArrayView line);
    bool onStatusLine(QByteArrayView line);
    bool onHeaderLine(QByteArrayView line, Headers &into);
    bool onHeadersEnd();
    bool onChunkSizeLine(QByteArrayView line);
    bool appendBody(QByteArrayView bytes);
    bool lineState() const;

    Limits m_limits;
    State m_state = State::StatusLine;
    Progress m_progress = Progress::NeedMore;
    Framing m_framing = Framing::None;
    bool m_head = false;
    bool m_receivedAnything = false;
    bool m_keepAlive = false;
    bool m_headersDone = false;
    QByteArray m_line;          // a line not yet ended by LF
    qsizetype m_blockBytes = 0; // bytes of the current header (or trailer) block
    int m_status = 0;
    int m_minor = 1;
    Headers m_headers;
    Headers m_trailers;
    qint64 m_remaining = 0;     // of the Content-Length body or the current chunk
    QByteArray m_body;
    qint64 m_bodyBytes = 0;
    qsizetype m_excess = 0;
    QString m_error;
};
