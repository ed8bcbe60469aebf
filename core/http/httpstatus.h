#pragma once

#include <QByteArray>

// The reason phrases Sluice writes on its status lines (RFC 9110 §15), one
// table for every HTTP writer it has: the gateway's answers, its limits
// filter's refusals and the GeminiSimulator's.
//
// Thread: pure functions, thread-safe.
namespace HttpStatus {

// "Too Many Requests" for 429; "Status" for a code not in the table.
QByteArray reasonPhrase(int httpStatus);

// Whether reasonPhrase() knows the code.
bool isKnown(int httpStatus);

} // namespace HttpStatus
