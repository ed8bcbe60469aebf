#pragma once

#include <QJsonObject>
#include <QString>

#include <chrono>

// Errors are values in core. One function in server/ (errormapping) turns a
// Status into an HTTP status and a Gemini error envelope; nothing else in the
// code base decides HTTP codes for engine or upstream outcomes.
//
// Thread: plain value type, safe to copy across threads.

enum class StatusCode {
    Ok,
    InvalidArgument,    // the request itself is wrong (400)
    ResourceExhausted,  // admission refused: queue full or local quota (429)
    Unavailable,        // draining, circuit open, upstream overloaded (503)
    DeadlineExceeded,   // deadline passed before an answer (504)
    Cancelled,          // the client went away (499 in logs; nothing is written)
    NotFound,           // unknown model or route upstream (404)
    PermissionDenied,   // upstream refused the key or project (403)
    Unauthenticated,    // missing/invalid credentials (401)
    Internal,           // a bug or an unparseable upstream answer (500)
};

// Why a request was refused at admission or removed before dispatch.
// The string forms are the `reason` label of sluice_rejected_total.
enum class RejectReason {
    None,
    QueueFull,
    Draining,
    CircuitOpen,
    QuotaExhausted,
    TenantLimit,        // the tenant's own limits (rpm, tpm, concurrency, queue share)
};

struct Status {
    StatusCode code = StatusCode::Ok;
    QString message;
    RejectReason reason = RejectReason::None;
    // How long the client should wait before retrying; zero when not applicable.
    std::chrono::milliseconds retryAfter{0};
    // HTTP status the upstream answered with, 0 when the error did not come from it.
    int upstreamHttpStatus = 0;
    // The upstream's own Gemini error object ({"error":{...}}), passed through verbatim
    // when present so the agent sees exactly what Google said.
    QJsonObject upstreamError;

    bool ok() const { return code == StatusCode::Ok; }

    static Status success() { return {}; }
    static Status error(StatusCode code, QString message);
    static Status rejected(RejectReason reason, QString message, std::chrono::milliseconds retryAfter);
};

QString statusCodeName(StatusCode code);   // Gemini/gRPC spelling, e.g. "RESOURCE_EXHAUSTED"
QString rejectReasonName(RejectReason reason); // metric label, e.g. "queue_full"
