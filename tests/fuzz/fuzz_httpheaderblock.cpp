// HttpHeaderBlock (core/http): the one reader of HTTP/1.1 header blocks, as
// the gateway's limits filter (strict) and the simulator and client (bare LF
// allowed) use it.
//
// Input: the bytes a peer sends (any bytes), read strictly and leniently.
// Checks, besides no crash, leak or undefined behaviour:
//   - findEnd(): a found block ends in its empty line; resuming a search
//     (`from` = the size of an earlier read that found nothing) finds what a
//     search from the start finds, at every cut Fuzz::pieces makes; a strict
//     search that finds an end finds the one the lenient search finds; a
//     BareLf error only where a LF without CR is;
//   - the fields of the block (and of the whole input, read as one): each
//     name a token, each value free of control characters but HTAB and of
//     blanks at either end, both views into the block; an error comes with a
//     line number and a message;
//   - parseDecimal() and listContains() against plain references.
#include "tests/fuzz/fuzzsupport.h"

#include "core/http/httpheaderblock.h"

#include <algorithm>
#include <charconv>

namespace {

using Error = HttpHeaderBlock::Error;

bool inside(QByteArrayView part, QByteArrayView whole)
{
    return part.isEmpty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

qint64 referenceDecimal(QByteArrayView s)
{
    if (s.isEmpty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return -1;
    qint64 v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && end == s.data() + s.size() ? v : -1;
}

void checkFields(QByteArrayView block, bool allowBareLf)
{
    HttpHeaderBlock head(block, allowBareLf);
    FUZZ_CHECK(inside(head.startLine(), block), "the start line is not inside the block");
    HttpHeaderBlock::Field f;
    qsizetype fields = 0;
    while (head.next(&f)) {
        ++fields;
        FUZZ_CHECK(fields <= block.count('\n') + 1, "more fields than lines");
        FUZZ_CHECK(HttpHeaderBlock::isToken(f.name), "field name " + Fuzz::quote(f.name));
        FUZZ_CHECK(inside(f.name, block) && inside(f.value, block), "a field outside its block");
        for (char c : f.value)
            FUZZ_CHECK((uchar(c) >= 0x20 || c == '\t') && uchar(c) != 0x7f, "a control character in " + Fuzz::quote(f.value));
        if (!f.value.isEmpty()) {
            FUZZ_CHECK(f.value.front() != ' ' && f.value.front() != '\t' && f.value.back() != ' ' && f.value.back() != '\t',
                       "blanks around " + Fuzz::quote(f.value));
        }
        const qint64 decimal = HttpHeaderBlock::parseDecimal(f.value);
        FUZZ_CHECK(decimal == referenceDecimal(f.value),
                   "parseDecimal(" + Fuzz::quote(f.value) + ") = " + QByteArray::number(decimal));
        bool contains = false;
        for (const QByteArray &e : f.value.toByteArray().split(','))
            contains = contains || e.trimmed().compare("close", Qt::CaseInsensitive) == 0;
        FUZZ_CHECK(HttpHeaderBlock::listContains(f.value, "close") == contains, "listContains(" + Fuzz::quote(f.value) + ")");
    }
    if (head.error() != Error::None) {
        FUZZ_CHECK(head.errorLine() >= 1, "an error on line " + QByteArray::number(head.errorLine()));
        FUZZ_CHECK(!head.errorString().isEmpty(), "an error without a message");
        FUZZ_CHECK(allowBareLf ? head.error() != Error::BareLf : true, "BareLf although bare LF is allowed");
    } else {
        FUZZ_CHECK(head.errorString().isEmpty(), "a message without an error");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    HttpHeaderBlock::End ends[2];
    for (bool allowBareLf : {false, true}) {
        const HttpHeaderBlock::End e = HttpHeaderBlock::findEnd(input, 0, allowBareLf);
        ends[allowBareLf] = e;
        if (e.error != Error::None) {
            FUZZ_CHECK(!allowBareLf && e.error == Error::BareLf && e.end < 0, "findEnd() error");
            bool bareLf = false;
            for (qsizetype i = 0; i < input.size(); ++i)
                bareLf = bareLf || (input[i] == '\n' && (i == 0 || input[i - 1] != '\r'));
            FUZZ_CHECK(bareLf, "BareLf without a bare LF");
        }
        if (e.end >= 0) {
            FUZZ_CHECK(e.end <= input.size() && input[e.end - 1] == '\n', "a block that does not end in LF");
            const QByteArrayView block = input.first(e.end);
            FUZZ_CHECK(block.endsWith("\n\r\n") || block.endsWith("\n\n") || block == "\r\n" || block == "\n",
                       "a block without its empty line");
            checkFields(block, allowBareLf);
        }
        // Resumed searches, as a reader that got the bytes in pieces runs them.
        qsizetype seen = 0;
        for (QByteArrayView piece : Fuzz::pieces(input)) {
            const HttpHeaderBlock::End first = HttpHeaderBlock::findEnd(input.first(seen), 0, allowBareLf);
            if (first.end >= 0 || first.error != Error::None)
                break;
            const HttpHeaderBlock::End resumed = HttpHeaderBlock::findEnd(input, seen, allowBareLf);
            FUZZ_CHECK(resumed.end == e.end && resumed.error == e.error,
                       "resumed at " + QByteArray::number(seen) + ": " + QByteArray::number(resumed.end) + " vs "
                           + QByteArray::number(e.end));
            seen += piece.size();
        }
        checkFields(input, allowBareLf);
    }
    if (ends[0].end >= 0)
        FUZZ_CHECK(ends[1].end == ends[0].end, "the strict and the lenient search end the block apart");
    return 0;
}
