#include "core/http/httpstatus.h"

namespace {

const char *phraseFor(int httpStatus)
{
    switch (httpStatus) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return nullptr;
    }
}

} // namespace

QByteArray HttpStatus::reasonPhrase(int httpStatus)
{
    // Raw data over the static strings: no allocation on the answer path.
    const char *p = phraseFor(httpStatus);
    if (!p)
        p = "Status";
    return QByteArray::fromRawData(p, qsizetype(qstrlen(p)));
}

bool HttpStatus::isKnown(int httpStatus)
{
    return phraseFor(httpStatus) != nullptr;
}
