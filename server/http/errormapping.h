#pragma once

#include "server/http/httpreply.h"

#include "core/util/status.h"

#include <QJsonArray>
#include <QString>

#include <chrono>

// The ONE place where an outcome becomes an HTTP status and a Gemini error
// envelope (DESIGN.md §4, §5; STYLE.md "one function in server/ maps them"):
//
//   {"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED",
//             "details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"2s"}]}}
//
// Mapping of StatusCode: InvalidArgument 400, Unauthenticated 401,
// PermissionDenied 403, NotFound 404, ResourceExhausted 429 (Retry-After +
// RetryInfo), Cancelled 499 (logged only: the client is gone), Internal 500,
// Unavailable 503 (Retry-After when known), DeadlineExceeded 504.
// An error the upstream answered (Status::upstreamHttpStatus != 0) keeps the
// upstream's HTTP status and, when it sent one, its envelope verbatim.
// Retry-After is in whole seconds, rounded up (RFC 9110), at least 1.
//
// Thread: pure functions, thread-safe.
namespace ErrorMapping {

// `httpOverride` is for failures decided by the HTTP layer itself, where the
// StatusCode alone does not say which 4xx applies (405, 408, 411, 413, 415, 431):
// it replaces the HTTP status and keeps the envelope's status string.
// `extraDetails` are appended to details (e.g. a google.rpc.BadRequest).
HttpReply toReply(const Status &status, int httpOverride = 0, const QJsonArray &extraDetails = {});

// Whole seconds for a Retry-After header, rounded up, at least 1.
qint64 retryAfterSeconds(std::chrono::milliseconds d);

} // namespace ErrorMapping
