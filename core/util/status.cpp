#include "core/util/status.h"

Status Status::error(StatusCode code, QString message)
{
    Status s;
    s.code = code;
    s.message = std::move(message);
    return s;
}

Status Status::rejected(RejectReason reason, QString message, std::chrono::milliseconds retryAfter)
{
    Status s;
    switch (reason) {
    case RejectReason::QueueFull:
    case RejectReason::QuotaExhausted:
    case RejectReason::TenantLimit:
        s.code = StatusCode::ResourceExhausted;
        break;
    case RejectReason::Draining:
    case RejectReason::CircuitOpen:
        s.code = StatusCode::Unavailable;
        break;
    case RejectReason::None:
        s.code = StatusCode::Internal;
        break;
    }
    s.reason = reason;
    s.message = std::move(message);
    s.retryAfter = retryAfter;
    return s;
}

QString statusCodeName(StatusCode code)
{
    switch (code) {
    case StatusCode::Ok: return QStringLiteral("OK");
    case StatusCode::InvalidArgument: return QStringLiteral("INVALID_ARGUMENT");
    case StatusCode::ResourceExhausted: return QStringLiteral("RESOURCE_EXHAUSTED");
    case StatusCode::Unavailable: return QStringLiteral("UNAVAILABLE");
    case StatusCode::DeadlineExceeded: return QStringLiteral("DEADLINE_EXCEEDED");
    case StatusCode::Cancelled: return QStringLiteral("CANCELLED");
    case StatusCode::NotFound: return QStringLiteral("NOT_FOUND");
    case StatusCode::PermissionDenied: return QStringLiteral("PERMISSION_DENIED");
    case StatusCode::Unauthenticated: return QStringLiteral("UNAUTHENTICATED");
    case StatusCode::Internal: return QStringLiteral("INTERNAL");
    }
    return QStringLiteral("UNKNOWN");
}

QString rejectReasonName(RejectReason reason)
{
    switch (reason) {
    case RejectReason::None: return QStringLiteral("none");
    case RejectReason::QueueFull: return QStringLiteral("queue_full");
    case RejectReason::Draining: return QStringLiteral("draining");
    case RejectReason::CircuitOpen: return QStringLiteral("circuit_open");
    case RejectReason::QuotaExhausted: return QStringLiteral("quota_exhausted");
    case RejectReason::TenantLimit: return QStringLiteral("tenant_limit");
    }
    return QStringLiteral("unknown");
}
