// Http1ResponseParser (core/http): the upstream client's HTTP/1.1 response
// parser, fed the way a socket feeds it.
//
// Input: the bytes a server sends on one connection (any bytes). Each is
// parsed six times: whole, in pieces cut where the input's hash says
// (Fuzz::pieces) and, up to 2 KiB, one byte at a time, each as the answer to
// a GET and to a HEAD, with the default limits; then whole again with small limits (256
// header bytes, 512 body bytes) to reach the limit paths. When the bytes run
// out before the response is complete, finish() (the peer closed) ends it.
// Checks, besides no crash, leak or undefined behaviour:
//   - the cuts do not matter: progress, status, version, headers, trailers,
//     keep-alive, framing, the body (taken after every feed, as the streaming
//     reader does), its size, excess bytes and the error are the same;
//   - a complete response has headersComplete(), a status of 200..599 (1xx
//     are interim), bodyBytes() == the body's size, a Content-Length body of
//     exactly that length, no body for HEAD, 204 and 304; an error has a
//     message; header names are lower-case tokens;
//   - the limits hold: a body never exceeds maxBodyBytes.
#include "tests/fuzz/fuzzsupport.h"

#include "core/http/http1responseparser.h"
#include "core/http/httpheaderblock.h"

namespace {

struct Result {
    Http1ResponseParser::Progress progress = Http1ResponseParser::Progress::NeedMore;
    bool headersComplete = false;
    int status = 0;
    int minor = 0;
    Http1ResponseParser::Headers headers;
    Http1ResponseParser::Headers trailers;
    bool keepAlive = false;
    bool chunked = false;
    bool untilClose = false;
    QByteArray body;
    qint64 bodyBytes = 0;
    qsizetype excess = 0;
    QString error;

    bool operator==(const Result &) const = default;
};

Result parse(const QList<QByteArrayView> &pieces, bool head, Http1ResponseParser::Limits limits)
{
    Http1ResponseParser p(limits);
    p.reset(head);
    Result r;
    for (QByteArrayView piece : pieces) {
        r.progress = p.feed(piece);
        r.body += p.takeBody();
        if (r.progress == Http1ResponseParser::Progress::Error)
            break;
    }
    if (r.progress == Http1ResponseParser::Progress::NeedMore) {
        r.progress = p.finish();
        r.body += p.takeBody();
    }
    FUZZ_CHECK(p.progress() == r.progress, "progress() differs from what feed()/finish() returned");
    r.headersComplete = p.headersComplete();
    if (r.headersComplete) {
        r.status = p.statusCode();
        r.minor = p.httpMinorVersion();
        r.headers = p.headers();
        r.keepAlive = p.keepAlive();
        r.chunked = p.isChunked();
        r.untilClose = p.readsUntilClose();
    }
    r.trailers = p.trailers();
    r.bodyBytes = p.bodyBytes();
    r.excess = p.excessBytes();
    r.error = p.errorString();
    return r;
}

QByteArray describe(const Result &r)
{
    return "progress " + QByteArray::number(int(r.progress)) + " status " + QByteArray::number(r.status) + " body "
         + QByteArray::number(r.body.size()) + " excess " + QByteArray::number(r.excess) + " error '" + r.error.toUtf8() + "'";
}

void checkResult(const Result &r, bool head, const Http1ResponseParser::Limits &limits)
{
    FUZZ_CHECK(r.bodyBytes == r.body.size(), "bodyBytes() differs from the bytes taken");
    FUZZ_CHECK(r.body.size() <= limits.maxBodyBytes, "a body over maxBodyBytes");
    if (r.progress == Http1ResponseParser::Progress::Error) {
        FUZZ_CHECK(!r.error.isEmpty(), "an error without a message");
        return;
    }
    FUZZ_CHECK(r.error.isEmpty(), "an error message without an error");
    if (r.progress != Http1ResponseParser::Progress::Complete)
        return;
    FUZZ_CHECK(r.headersComplete, "complete without headers");
    FUZZ_CHECK(r.status >= 200 && r.status <= 599, "final status " + QByteArray::number(r.status));
    for (const auto &[name, value] : r.headers) {
        FUZZ_CHECK(HttpHeaderBlock::isToken(name) && name == name.toLower(), "header name " + Fuzz::quote(name));
        Q_UNUSED(value);
    }
    if (head || r.status == 204 || r.status == 304)
        FUZZ_CHECK(r.body.isEmpty(), "a body where none may be");
    if (r.untilClose)
        FUZZ_CHECK(!r.keepAlive, "keep-alive after a body read until close");
    if (!r.chunked && !r.untilClose && !head && r.status != 204 && r.status != 304) {
        const QByteArray length = [&] {
            for (const auto &[name, value] : r.headers)
                if (name == "content-length")
                    return value;
            return QByteArray();
        }();
        if (!length.isEmpty()) {
            // A list of equal values is accepted (empty elements ignored): its
            // first element is the length.
            qint64 n = -1;
            HttpHeaderBlock::forEachListElement(length, [&n](QByteArrayView e) {
                if (n < 0)
                    n = HttpHeaderBlock::parseDecimal(e);
            });
            FUZZ_CHECK(n == r.body.size(), "Content-Length " + length + " but a body of " + QByteArray::number(r.body.size()));
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    // One byte at a time only up to 2 KiB (a feed() per byte is what makes a
    // run slow; every split of a line end is as reachable in a short input).
    QList<QByteArrayView> bytewise;
    if (input.size() <= 2048) {
        for (qsizetype i = 0; i < input.size(); ++i)
            bytewise.append(input.sliced(i, 1));
    }
    const QList<QByteArrayView> cut = Fuzz::pieces(input);
    const Http1ResponseParser::Limits defaults;

    for (bool head : {false, true}) {
        const Result whole = parse({input}, head, defaults);
        checkResult(whole, head, defaults);
        if (!bytewise.isEmpty() || input.isEmpty()) {
            const Result bytes = parse(bytewise, head, defaults);
            FUZZ_CHECK(bytes == whole, "byte by byte: " + describe(bytes) + " whole: " + describe(whole));
        }
        const Result pieces = parse(cut, head, defaults);
        FUZZ_CHECK(pieces == whole, "in pieces: " + describe(pieces) + " whole: " + describe(whole));
    }
    Http1ResponseParser::Limits small;
    small.maxHeaderBytes = 256;
    small.maxBodyBytes = 512;
    checkResult(parse({input}, false, small), false, small);
    return 0;
}
