#pragma once

#include <QByteArray>

// The admin bearer token check shared by the control routes and the stream.
//
// Thread: pure functions, thread-safe.
namespace AdminToken {

// Constant-time comparison (of SHA-256 digests), so neither a token's bytes nor
// its length can be learned from timings.
bool equals(const QByteArray &expected, const QByteArray &presented);

// True when no token is configured, or the Authorization header carries
// "Bearer <expected>" (the scheme in any case, RFC 9110 §11.1).
bool authorizes(const QByteArray &expected, const QByteArray &authorizationHeader);

} // namespace AdminToken
