#pragma once

#include "core/engine/inferencerequest.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <chrono>
#include <limits>

// Validates an agent's Gemini request body (DESIGN.md §4) before anything is
// queued, and normalises snake_case field names to the lowerCamel spelling the
// engine, PackCodec and BatchKey reason about (both are valid on Google's REST
// API; user-defined names inside schemas and function arguments are kept).
//
// Every failure names the offending field in the message, e.g.
// "contents[0].parts must be a list", and carries the HTTP status the HTTP
// layer uses: 400 (INVALID_ARGUMENT) or 415 (a non-JSON Content-Type).
// Unknown fields are ignored and passed upstream untouched.
//
// Thread: pure functions, thread-safe.
class GeminiRequestParser
{
public:
    struct Error {
        int httpStatus = 0;  // 0 = no error
        QString field;       // JSON path, empty for body-level errors
        QString message;
        bool isNull() const { return httpStatus == 0; }
    };

    // `contentType` is the request's Content-Type header (may be empty).
    static Error parseBody(Operation op, const QByteArray &contentType, const QByteArray &body, QJsonObject *out);

    // Structure checks on an already parsed body, per operation.
    static Error validate(Operation op, const QJsonObject &body);

    // Recursively rewrites snake_case keys to lowerCamel (skipping the
    // contents of free-form maps: schema "properties", function "args" and
    // "response", "labels"). Returns the object unchanged (shared, no copy)
    // when no key contains '_'.
    static QJsonObject normalizeKeys(const QJsonObject &object);

    static bool isJsonContentType(const QByteArray &contentType);

    // The X-Request-Deadline-Ms header (relative milliseconds): ASCII digits,
    // blanks around them allowed, at least 1. A value too large for any
    // deadline (up to any number of digits) is not an error: it saturates at
    // kMaxDeadline, never wraps, and the engine clamps every deadline to
    // requestTimeoutMs anyway. Anything else (empty, a sign, a fraction,
    // 0) is a 400 whose field is the header's name.
    // Gemini's cap on batchEmbedContents ("at most 100 requests can be in
    // one batch"); beyond it a 400 with Gemini's wording.
    static constexpr int kMaxBatchEmbedRequests = 100;
    static constexpr std::chrono::milliseconds kMaxDeadline{std::numeric_limits<int>::max()}; // > any requestTimeoutMs
    static Error parseDeadlineHeader(const QByteArray &value, std::chrono::milliseconds *out);
};
