#pragma once

#include "server/http/httpreply.h"
#include "server/stream/streamhandshake.h"

#include <QByteArray>
#include <QHash>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QTimer>

#include <atomic>
#include <deque>
#include <memory>
#include <optional>

class BatchInferenceEngine;
class DriftMonitor;
class InferenceMetricsCollector;
class LoadTestController;
class QWebSocket;

// Figures about the stream, readable from any thread (tests, benchmarks, /metrics).
struct MetricsStreamCounters {
    std::atomic<int> clients{0};
    std::atomic<quint64> connectionsAccepted{0};
    std::atomic<quint64> connectionsRefused{0};  // bad Origin, bad handshake, plain GET
    std::atomic<quint64> snapshotFramesSent{0};  // summed over clients
    std::atomic<quint64> snapshotFramesDropped{0};
    std::atomic<qint64> maxBacklogBytes{0};      // largest bytesToWrite() seen on a client at a tick
    std::atomic<quint64> clientsAborted{0};      // closed for exceeding the hard backlog limit
};

struct MetricsStreamOptions {
    double rateHz = 4;                           // snapshots per second, 0.2 .. 50
    qint64 maxBacklogBytes = 1024 * 1024;        // above this a client's snapshots are dropped
    qint64 hardBacklogBytes = 16 * 1024 * 1024;  // above this a client is aborted (non-droppable messages piled up)
    QStringList allowedOrigins;                  // besides the served origin; "*" allows any
    QByteArray adminToken;                       // for client control messages
    QString version;
    QString upstreamKind;
    QString model;
};

// GET /api/v1/stream (DESIGN.md §7, resources/dashboard/PROTOCOL.md): the
// dashboard's live feed over a WebSocket on the gateway's own port, on Qt
// WebSockets.
//
// How a connection becomes a stream: GatewayHttpServer::handleRequest() asks
// refusal() about every request for kPath (the gateway's own handshake checks,
// StreamHandshake); a refused one is answered by the gateway (426, 405, 400,
// 403 in the Gemini error envelope), an accepted one is handed by Qt 6.4's
// QAbstractHttpServer to its QWebSocketServer, which writes the 101, and
// arrives here through addClient().
//
// Messages (server → client, one JSON object per text frame, never
// fragmented): `hello` first (version, config, upstream, rateHz, history of
// trimmed snapshots from a ring covering the last 5 minutes at the stream
// rate), then the current `loadtest` and `drift` state, then `snapshot` every
// 1/rateHz s (serialized once per tick for all clients), `config` after
// engine->configChanged, `loadtest` on LoadTestController::statusChanged,
// `drift` on DriftMonitor::stateChanged (and evaluated, at most 1/s),
// `dropped` {count} before the next snapshot a backed-up client gets.
// Client → server text: junk is ignored; a JSON object with a string `type`
// is a control message and gets {"type":"error","code":401|400,"message"}
// (401 without a valid `token` when an admin token is set; 400 because no
// control message is defined yet). Binary messages are ignored; pings are
// answered by Qt; a client message over 64 KiB closes the connection (1009).
//
// Slow clients: when a client's QWebSocket::bytesToWrite() is above
// maxBacklogBytes at a tick its snapshot is dropped (counted);
// hello/config/loadtest/drift are always queued; past hardBacklogBytes the
// client is aborted, so memory per client stays bounded. Writes only append
// to a socket's buffer, so a stalled client never delays the others.
//
// Why Qt WebSockets is fine here (tests/bench/bench_stream, 200 clients at
// 4 Hz, 2-core shared host, December 4): the stream costs the server thread
// 1.45-2.0 % of one core idle (7 runs; 18-26 us per snapshot delivered),
// against 1.1-1.75 % for the hand-written RFC 6455 framing it replaced (7
// runs, same tree). The difference is QWebSocket::sendTextMessage()
// converting the QString to UTF-8 and copying it once per client, which the
// public API does not let us share. Target: <= 5 %. Under wrk load the
// req/s with vs without clients varied from -7 % to -62 % (old: -9 % to
// -42 %) with the host's other load: no difference shows through that noise.
//
// Thread: server thread (created, used and destroyed there). Snapshots are
// taken on its own timer with InferenceMetricsCollector::snapshot()
// (thread-safe); engine, drift and load-test signals arrive queued from
// their threads. counters() is thread-safe.
class MetricsStream : public QObject
{
    Q_OBJECT
public:
    MetricsStream(BatchInferenceEngine *engine, InferenceMetricsCollector *metrics, DriftMonitor *drift,
                  LoadTestController *loadTests, const MetricsStreamOptions &options, QObject *parent = nullptr);
    ~MetricsStream() override; // closes every client with 1001

    // The gateway's decision on a request for kPath (StreamHandshake::refusal
    // with the configured allow-list): nullopt to let Qt upgrade it, else the
    // answer to write. Counts refusals.
    std::optional<HttpReply> refusal(bool isGet, const StreamHandshake::Headers &headers);
    // Takes a WebSocket Qt upgraded after refusal() accepted it (already open,
    // on this thread) and starts streaming to it: hello, loadtest, drift.
    void addClient(std::unique_ptr<QWebSocket> socket);
    // Sends close 1001 to every client (aborts the backed-up ones) and flushes
    // what the kernel takes at once (shutdown).
    void closeAll();

    const std::shared_ptr<MetricsStreamCounters> &counters() const { return m_counters; }
    static constexpr const char *kPath = "/api/v1/stream";

private:
    struct Client {
        quint64 dropped = 0;  // snapshots not sent since the last `dropped` message
        bool closing = false; // close or abort under way: nothing more is sent
    };
    void onClientText(QWebSocket *socket, const QString &text);
    void removeClient(QWebSocket *socket);
    void send(QWebSocket *socket, Client &c, const QString &message);
    void broadcast(const QString &message); // never dropped
    void tick();
    void sendConfig();
    void sendLoadTest();
    void sendDrift(bool force);
    QString helloMessage() const;
    QString loadTestMessage() const;

    BatchInferenceEngine *m_engine;
    InferenceMetricsCollector *m_metrics;
    QPointer<DriftMonitor> m_drift;
    QPointer<LoadTestController> m_loadTests;
    MetricsStreamOptions m_options;
    std::shared_ptr<MetricsStreamCounters> m_counters = std::make_shared<MetricsStreamCounters>();

    // Owned: each socket is a child of this stream (deleted later once it
    // disconnected, or with the stream).
    QHash<QWebSocket *, Client> m_clients;
    QTimer m_timer;
    std::deque<QByteArray> m_history; // trimmed snapshot JSON, oldest first
    size_t m_historyCapacity = 1200;
    qint64 m_lastDriftSentMs = 0;
    qint64 m_lastTimestampMs = 0;
};
