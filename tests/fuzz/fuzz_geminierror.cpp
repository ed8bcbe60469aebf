// GeminiError (core/gemini): the reading of an upstream error answer, which
// decides retries (RetryInfo.retryDelay, Retry-After) and what the upstream
// budget learns from a 429 (QuotaFailure violations).
//
// Input: the body of a non-2xx answer (any bytes: a JSON envelope, an
// SSE-framed one, a proxy's HTML page). It is read as a 429 with
// "Retry-After: 7" and as a 503 without; its first line (up to 64 bytes) is
// also read as a protobuf Duration.
// Checks, besides no crash, leak or undefined behaviour:
//   - an envelope read is an {"error":{...}} object; the message is never
//     empty; the retry delay is within what parseDuration() or Retry-After
//     can give (0 to 10^12 ms); toStatus() is an error carrying it;
//   - quota violations have a positive quotaValue when they have one;
//   - parseDuration() reads durationText() of what it read back to the same
//     milliseconds.
#include "tests/fuzz/fuzzsupport.h"

#include "core/gemini/geminierror.h"
#include "core/util/status.h"

using namespace std::chrono;

namespace {

void check(const GeminiError &e, int httpStatus, std::optional<milliseconds> retryAfter)
{
    FUZZ_CHECK(e.httpStatus == httpStatus, "httpStatus " + QByteArray::number(e.httpStatus));
    FUZZ_CHECK(!e.message.isEmpty() || !e.envelope.isEmpty(), "neither a message nor an envelope");
    if (!e.envelope.isEmpty())
        FUZZ_CHECK(e.envelope.value(QLatin1String("error")).isObject(), "an envelope without an error object");
    else
        FUZZ_CHECK(e.retryDelay == retryAfter, "a retry delay that is not the Retry-After header's");
    if (e.retryDelay)
        FUZZ_CHECK(*e.retryDelay >= 0ms && *e.retryDelay <= milliseconds(1'000'000'000'000LL),
                   "retry delay " + QByteArray::number(qint64(e.retryDelay->count())));
    for (const GeminiError::QuotaViolation &v : e.quotaViolations())
        FUZZ_CHECK(!v.quotaValue || *v.quotaValue > 0, "quotaValue " + QByteArray::number(*v.quotaValue));
    const Status s = e.toStatus();
    FUZZ_CHECK(!s.ok(), "an upstream error read as success");
    FUZZ_CHECK(s.retryAfter == e.retryDelay.value_or(s.retryAfter), "toStatus() lost the retry delay");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray body(reinterpret_cast<const char *>(data), qsizetype(size));
    check(GeminiError::fromHttp(429, body, "7"), 429, seconds(7));
    check(GeminiError::fromHttp(503, body), 503, std::nullopt);

    const qsizetype nl = body.indexOf('\n');
    const QString line = QString::fromUtf8(body.left(std::min<qsizetype>(nl < 0 ? body.size() : nl, 64)));
    if (const std::optional<milliseconds> d = GeminiError::parseDuration(line)) {
        FUZZ_CHECK(*d >= 0ms, "a negative duration from '" + line.toUtf8() + "'");
        const QString text = GeminiError::durationText(*d);
        FUZZ_CHECK(GeminiError::parseDuration(text) == d,
                   "'" + line.toUtf8() + "' -> " + QByteArray::number(qint64(d->count())) + " ms -> '" + text.toUtf8() + "'");
    }
    return 0;
}
