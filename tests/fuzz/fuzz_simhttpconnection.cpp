// SimHttpConnection (server/simulator): the GeminiSimulator's HTTP/1.1 server
// connection, its second HttpHeaderBlock reader (bare LF allowed, the request
// line checked, Content-Length bodies, keep-alive, pipelining).
//
// The connection reads a QTcpSocket; here a QTcpSocket whose readData() and
// writeData() are overridden stands in for it (no descriptor, no event loop),
// so a request is parsed in microseconds and deterministically.
//
// Input: the bytes a client sends on one connection (any bytes), delivered
// whole, and again in pieces cut where the input's hash says (Fuzz::pieces).
// Every request is answered at once from the handler: paths under /drop are
// dropped, under /stream answered as a chunked stream, the rest with a plain
// answer echoing the body.
// Checks, besides no crash, leak or undefined behaviour:
//   - the cuts do not matter: the same requests (method, path, query,
//     headers, body, keep-alive), the same refusals, the same bytes written;
//   - each request's method is upper-case letters, its header names are
//     lower-case tokens, its body is as long as its Content-Length says;
//   - a refusal (400, 413, 414, 431) ends the connection: nothing after it
//     is read.
#include "tests/fuzz/fuzzsupport.h"

#include "core/http/httpheaderblock.h"
#include "server/simulator/simhttpconnection.h"

#include <QTcpSocket>

#include <cstring>

namespace {

// A QTcpSocket without a socket: what deliver() gets is what readAll()
// returns, what the connection writes is collected.
class FakeSocket : public QTcpSocket
{
public:
    FakeSocket() { setOpenMode(QIODevice::ReadWrite | QIODevice::Unbuffered); }

    void deliver(QByteArrayView bytes)
    {
        m_in.append(bytes);
        emit readyRead();
    }

    QByteArray written;

protected:
    qint64 readData(char *data, qint64 maxSize) override
    {
        const qint64 n = std::min<qint64>(maxSize, m_in.size());
        if (n > 0)
            std::memcpy(data, m_in.constData(), size_t(n));
        m_in.remove(0, qsizetype(n));
        return n;
    }
    qint64 writeData(const char *data, qint64 size) override
    {
        written.append(data, qsizetype(size));
        return size;
    }
    qint64 bytesAvailable() const override { return m_in.size(); }

private:
    QByteArray m_in;
};

struct Seen {
    QByteArray method, path, query, body;
    SimHttpConnection::Headers headers;
    bool keepAlive = false;
    bool operator==(const Seen &) const = default;
};

struct Run {
    QList<Seen> requests;
    int malformed = 0;
    int closed = 0;
    QByteArray written;
    bool operator==(const Run &) const = default;
};

Run run(const QList<QByteArrayView> &pieces)
{
    Run r;
    auto *socket = new FakeSocket;
    SimHttpConnection connection(socket, 4096);
    connection.setHandlers(
        [&r](SimHttpConnection *c, SimHttpConnection::Request &req) {
            r.requests.append({req.method, req.path, req.query, req.body, req.headers, req.keepAlive});
            for (char ch : req.method)
                FUZZ_CHECK(ch >= 'A' && ch <= 'Z', "method " + Fuzz::quote(req.method));
            for (const auto &[name, value] : req.headers) {
                FUZZ_CHECK(HttpHeaderBlock::isToken(name) && name == name.toLower(), "header name " + Fuzz::quote(name));
                Q_UNUSED(value);
            }
            const QByteArray length = req.header("content-length");
            FUZZ_CHECK(req.body.size() == (length.isEmpty() ? 0 : HttpHeaderBlock::parseDecimal(length)),
                       "a body of " + QByteArray::number(req.body.size()) + " bytes for Content-Length " + length);
            req.queryItem("key"); // the simulator's ?key= lookup
            if (req.path.startsWith("/drop")) {
                c->drop();
            } else if (req.path.startsWith("/stream")) {
                c->beginStream(200, "text/event-stream");
                c->writeChunk("data: " + req.body + "\r\n\r\n");
                c->endStream();
            } else {
                c->sendResponse(200, "application/json", req.body, {{"X-Echo", req.method}});
            }
        },
        [&r](SimHttpConnection *) { ++r.malformed; }, [&r](SimHttpConnection *) { ++r.closed; });
    for (QByteArrayView piece : pieces)
        socket->deliver(piece);
    r.written = socket->written;
    FUZZ_CHECK(r.malformed <= 1, "more than one refusal on one connection");
    return r;
}

QByteArray describe(const Run &r)
{
    return QByteArray::number(r.requests.size()) + " requests, " + QByteArray::number(r.malformed) + " refused, "
         + QByteArray::number(r.closed) + " closed, " + QByteArray::number(r.written.size()) + " bytes written";
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    const Run whole = run({input});
    const Run pieces = run(Fuzz::pieces(input));
    FUZZ_CHECK(pieces == whole, "in pieces: " + describe(pieces) + "; whole: " + describe(whole));
    return 0;
}
