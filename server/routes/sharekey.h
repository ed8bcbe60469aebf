#pragma once

#include "core/engine/inferencerequest.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

// When two Gemini model calls may share one answer, and the key that says
// they are the same call. Used by in-flight coalescing (identical requests
// in flight at once share one upstream call) and by the answer cache.
//
// Same call: same model, same operation, same body once canonical (parsed
// and written back compactly: key order and white space do not matter;
// QJsonObject keeps keys sorted), and the same API key scope (the key the
// client sent, x-goog-api-key or ?key=; only its SHA-256 digest is kept).
// The key holds all of it (scope digest, operation, model, canonical body)
// rather than a hash of it: two requests share an answer only when their
// keys are equal byte for byte, so no hash collision can hand one tenant
// another's answer, and no per-request digest of the body is computed.
//
// Safe to share (sharable()): operations whose answer depends on the input
// alone (embedContent, batchEmbedContents, countTokens); generateContent and
// streamGenerateContent when sampling is pinned, i.e. generationConfig has
// temperature 0 or a seed; or whenever the client says
// `X-Sluice-Coalesce: on`. `X-Sluice-Coalesce: off` forbids it.
//
// Thread: pure functions.
namespace ShareKey {

enum class Coalesce { Default, On, Off };
// The X-Sluice-Coalesce header's value (absent or unknown: Default).
Coalesce coalesceHeader(const QByteArray &value);

bool sharable(Operation op, const QJsonObject &body, Coalesce header);

// `scope` is the client's API key as sent (may be empty).
QByteArray compute(const QString &model, Operation op, const QJsonObject &body, const QByteArray &scope);

} // namespace ShareKey
