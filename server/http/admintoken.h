#pragma once

#include <QByteArray>

// The admin bearer token check shared by the control routes and the stream.
//
// Thread: pure functions, thread-safe.
namespace AdminToken {

// Constant-time comparison, so a token cannot be guessed byte by byte from timings.
bool equals(const QByteArray &expected, const QByteArray &presented);

// True when no token is configured, or the Authorization header carries
// "Bearer <expected>".
bool authorizes(const QByteArray &expected, const QByteArray &authorizationHeader);

} // namespace AdminToken
