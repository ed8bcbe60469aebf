#pragma once

#include "core/engine/inferencerequest.h"
#include "core/http/sseparser.h"
#include "core/util/clock.h"
#include "core/util/memorybudget.h"

#include <QByteArray>
#include <QHttpServerResponder>
#include <QJsonObject>
#include <QMetaObject>
#include <QPointer>
#include <QTcpSocket>

// One request awaiting its answer. Qt 6.4.2 constraints (DESIGN.md §3): a
// route must not hand Qt a QFuture (crash when the client leaves first), so
// the gateway keeps the QHttpServerResponder itself, in shared ownership, and
// writes it later on the server thread; the QPointer says whether the socket
// still exists (a responder holds a raw socket pointer). A responder dropped
// without a write leaves a client hanging, so GatewayHttpServer::finish()
// writes every exchange exactly once (`written`).
//
// Thread: server thread only (shared_ptr copies may be held elsewhere but are
// only dereferenced on the server thread).
struct GatewayExchange {
    GatewayExchange(QHttpServerResponder &&r, QTcpSocket *s) : responder(std::move(r)), socket(s) {}

    QHttpServerResponder responder;
    QPointer<QTcpSocket> socket;
    QByteArray route = QByteArrayLiteral("unknown"); // sluice_requests_total{route}
    bool head = false;        // HEAD: headers only
    bool closeAfter = false;  // Connection: close, or HTTP/1.0 without keep-alive
    bool keepAlive10 = false; // HTTP/1.0 with keep-alive: the answer says Connection: keep-alive
    bool http10 = false;      // HTTP/1.0: a streamed answer is close-delimited, not chunked
    bool streaming = false;   // beginStream() wrote the head; streamData()/endStream() follow
    SteadyTime arrived;       // when the request reached the routes (time to first token)
    // Gemini model calls (GeminiRoutes):
    QString model;
    Operation op = Operation::GenerateContent;
    const char *cacheHeader = "bypass"; // X-Sluice-Cache: hit | miss | bypass
    QByteArray cacheKey;      // store the answer under it (a cache miss that may be stored)
    bool joined = false;      // answered by another request's upstream call (coalesced)
    // A stream without alt=sse: the events are written as one JSON array.
    std::unique_ptr<SseParser> arrayParser;
    bool arrayOpen = false;
    quint64 sequence = 0;     // the request's place on its connection (answers leave in this order)
    bool sse = false;         // streamGenerateContent?alt=sse
    bool written = false;
    quint64 ticket = 0;       // engine request id, for cancel() on disconnect
    QMetaObject::Connection onDisconnect;
    // Shared copies of what the submitted request allocated here (the parsed
    // body, the member text), so that its memory is freed here too, when the
    // exchange goes after its answer, rather than by the upstream thread that
    // drops the batch: glibc makes a free from another thread take this
    // thread's arena lock, which the server thread contends for meanwhile.
    QJsonObject requestBody;
    QString requestText;
    // Memory charged for this request beyond what the HTTP front charged
    // (the parse's expansion), given back when the exchange goes.
    MemoryBudget *memory = nullptr;
    qint64 memoryCharge = 0;

    ~GatewayExchange()
    {
        if (memory && memoryCharge > 0)
            memory->release(memoryCharge);
    }
    GatewayExchange(const GatewayExchange &) = delete;
    GatewayExchange &operator=(const GatewayExchange &) = delete;
};
