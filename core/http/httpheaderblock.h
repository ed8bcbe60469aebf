#pragma once

#include <QByteArrayView>
#include <QString>

// The ONE reader of HTTP/1.1 header blocks (RFC 9112 §2.1, §5): a start line,
// field lines "name: value", and an empty line, each ending in CRLF. Every
// place Sluice parses a head itself reads it with this class: the gateway's
// limits filter (HttpLimitsTcpServer), the GeminiSimulator's connections,
// Sluice's HTTP/1.1 client (Http1ResponseParser, line by line through
// parseFieldLine()) and the tests' raw client.
//
// Strict by default, as a server must be when another parser (Qt's) reads
// the same bytes after it: a bare LF line end, obsolete line folding (a line
// starting with SP or HTAB), a field line without ':', an empty name, a name
// with a non-token character (whitespace before the colon included) and a
// value holding NUL, CR, LF or another control character other than HTAB are
// errors (RFC 9112 §2.2, §5.1, §5.2; RFC 9110 §5.5). `allowBareLf` accepts
// LF alone as a line end (RFC 9112 §2.2 lets a recipient do so) for readers
// that are the only parser of their bytes (the simulator, the client).
//
// No allocation: fields are views into the block, which must outlive them.
//
// Thread: a value type; static functions are pure and thread-safe.
class HttpHeaderBlock
{
public:
    enum class Error {
        None,
        BareLf,       // a line ends in LF without CR
        ObsFold,      // a line starts with SP or HTAB
        NoColon,      // a field line without ':'
        BadName,      // empty, a non-token character, or whitespace before ':'
        BadValue,     // NUL, CR, LF or another control character (HTAB is allowed)
    };

    struct Field {
        QByteArrayView name;   // as sent (compare case-insensitively)
        QByteArrayView value;  // without leading and trailing SP/HTAB
    };

    struct End {
        qsizetype end = -1;        // index just past the empty line; -1: more bytes needed (or an error)
        Error error = Error::None; // BareLf, found before the end (only without allowBareLf)
    };

    // Where the block that starts at data[0] ends. `from` resumes a search
    // over bytes already searched (pass the previous data size; it is moved
    // back enough to find a terminator split between reads). Without
    // allowBareLf a bare LF is reported as soon as it is seen, so a client
    // that ends its lines in LF gets its 400 at once instead of a timeout.
    static End findEnd(QByteArrayView data, qsizetype from = 0, bool allowBareLf = false);

    // `block` is what findEnd() delimited (the empty line included, or not).
    explicit HttpHeaderBlock(QByteArrayView block, bool allowBareLf = false);

    // The first line, without its line end.
    QByteArrayView startLine() const { return m_startLine; }
    // The next field: false at the end of the block, or at the first error
    // (error() says which, errorLine() where: 1 is the start line).
    bool next(Field *out);
    Error error() const { return m_error; }
    int errorLine() const { return m_line; }
    // "header line 3: obsolete line folding is not allowed"; empty when fine.
    QString errorString() const;

    // One field line without its line end.
    static Error parseFieldLine(QByteArrayView line, Field *out);
    static QString describe(Error error);

    // RFC 9110 §5.6.2 token characters.
    static bool isTokenChar(char c);
    static bool isToken(QByteArrayView s);
    // 1*DIGIT (no sign, no spaces, no overflow) as Content-Length and chunk
    // counts need it; -1 otherwise.
    static qint64 parseDecimal(QByteArrayView s);
    // Calls fn(element) for each comma-separated, trimmed, non-empty element
    // of a list-valued field (RFC 9110 §5.6.1).
    template <typename Fn>
    static void forEachListElement(QByteArrayView value, Fn &&fn)
    {
        while (!value.isEmpty()) {
            const qsizetype comma = value.indexOf(',');
            const QByteArrayView element = (comma < 0 ? value : value.first(comma)).trimmed();
            if (!element.isEmpty())
                fn(element);
            if (comma < 0)
                break;
            value = value.sliced(comma + 1);
        }
    }
    // Whether a list-valued field holds `token` (case-insensitive), e.g.
    // Connection: keep-alive, Upgrade.
    static bool listContains(QByteArrayView value, QByteArrayView token);

private:
    // The next line (without its line end) from m_rest; false at the end.
    bool nextLine(QByteArrayView *line);

    bool m_allowBareLf = false;
    QByteArrayView m_rest;
    QByteArrayView m_startLine;
    Error m_error = Error::None;
    int m_line = 1;
};
