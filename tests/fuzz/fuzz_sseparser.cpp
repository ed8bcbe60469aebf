// SseParser (core/http): a streamGenerateContent?alt=sse body, as the upstream
// client feeds it chunk by chunk.
//
// Input: a response body (any bytes): SSE events, or a bare JSON body (the
// shape Google answers some SSE errors with). It is parsed whole, in pieces
// cut where the input's hash says (Fuzz::pieces) and, up to 2 KiB, one byte
// at a time, each followed by finish().
// Checks, besides no crash, leak or undefined behaviour: the cuts do not
// matter (the same events in the same order, the same malformed count, the
// same mode); eventCount() is the number of events returned; in SSE mode
// every event is what QJsonDocument reads from some data the input holds
// (so at most one event per "data" line), and a bare JSON body gives what
// QJsonDocument gives for the whole body.
#include "tests/fuzz/fuzzsupport.h"

#include "core/http/sseparser.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace {

struct Result {
    QList<QJsonObject> events;
    int malformed = 0;
    int counted = 0;
    bool bareJson = false;

    bool operator==(const Result &) const = default;
};

Result parse(const QList<QByteArrayView> &pieces)
{
    SseParser p;
    Result r;
    for (QByteArrayView piece : pieces)
        r.events += p.feed(piece.toByteArray());
    r.events += p.finish();
    r.malformed = p.malformedEvents();
    r.counted = p.eventCount();
    r.bareJson = p.isBareJson();
    return r;
}

QByteArray describe(const Result &r)
{
    return QByteArray::number(r.events.size()) + " events, " + QByteArray::number(r.malformed) + " malformed, bare "
         + QByteArray::number(r.bareJson);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    const Result whole = parse({input});
    FUZZ_CHECK(whole.counted == whole.events.size(), "eventCount() differs from the events returned");

    // One byte at a time costs a feed() per byte: only for inputs up to 2 KiB,
    // where every split of a line end is as reachable as in a long one.
    if (input.size() <= 2048) {
        QList<QByteArrayView> bytewise;
        for (qsizetype i = 0; i < input.size(); ++i)
            bytewise.append(input.sliced(i, 1));
        const Result bytes = parse(bytewise);
        FUZZ_CHECK(bytes == whole, "byte by byte: " + describe(bytes) + "; whole: " + describe(whole));
    }
    const Result pieces = parse(Fuzz::pieces(input));
    FUZZ_CHECK(pieces == whole, "in pieces: " + describe(pieces) + "; whole: " + describe(whole));

    if (whole.bareJson) {
        // What the parser keeps: the body from its first byte that is not a
        // space, tab, CR or LF.
        qsizetype start = 0;
        while (start < input.size() && QByteArrayView(" \t\r\n").contains(input[start]))
            ++start;
        const QJsonDocument doc = QJsonDocument::fromJson(input.sliced(start).toByteArray());
        QList<QJsonObject> expected;
        if (doc.isObject())
            expected.append(doc.object());
        for (const QJsonValue &v : doc.array())
            if (v.isObject())
                expected.append(v.toObject());
        FUZZ_CHECK(whole.events == expected, "bare JSON: " + describe(whole));
    } else {
        FUZZ_CHECK(whole.events.size() <= input.count("data"), "more events than data fields");
    }
    return 0;
}
