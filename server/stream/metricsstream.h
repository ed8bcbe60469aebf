#pragma once

#include "server/http/httpreply.h"
#include "server/stream/streamhandshake.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
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
    std::atomic<quint64> connectionsRefused{0};  // every refusal: bad Origin, bad handshake, plain GET, the two below
    std::atomic<quint64> refusedUnauthorized{0}; // 401: an admin token is set and the request did not present it
    std::atomic<quint64> refusedFull{0};         // 503: maxClients streams open (or being opened) already
    std::atomic<quint64> snapshotFramesSent{0};  // summed over clients
    std::atomic<quint64> snapshotFramesDropped{0};
    std::atomic<quint64> historyPagesSent{0};
    std::atomic<quint64> requestsIgnored{0};     // client requests not answered: the client is not reading
    std::atomic<qint64> maxBacklogBytes{0};      // largest bytesToWrite() seen on a client at a tick
    std::atomic<qint64> backlogBytes{0};         // bytesToWrite() summed over the clients at the last tick
    std::atomic<quint64> clientsAborted{0};      // closed for exceeding the hard backlog limit
};

struct MetricsStreamOptions {
    double rateHz = 4;                           // snapshots per second, 0.2 .. 50
    qint64 maxBacklogBytes = 256 * 1024;         // above this a client's snapshots are dropped and its requests ignored
    qint64 hardBacklogBytes = 16 * 1024 * 1024;  // above this a client is aborted (non-droppable messages piled up)
    int maxClients = 256;                        // streams at once; beyond it upgrades get 503; 0: no stream (404)
    QStringList allowedOrigins;                  // besides the served origin; "*" allows any
    QByteArray adminToken;                       // when set, needed to open the stream (StreamHandshake) and in control messages
    QString version;
    QString upstreamKind;
    QString model;
};

// GET /api/v1/stream (DESIGN.md §7, resources/dashboard/PROTOCOL.md): the
// dashboard's live feed over a WebSocket on the gateway's own port, on Qt
// WebSockets.
//
// How a connection becomes a stream: GatewayHttpServer::handleRequest() asks
// refusal() about every request for kPath; a refused one is answered by the
// gateway in the Gemini error envelope (404 when maxClients is 0; then
// StreamHandshake's 401, 426, 405, 400, 403; then 503 + Retry-After when
// maxClients streams are open or being opened), an accepted one is handed
// by Qt 6.4's QAbstractHttpServer to its QWebSocketServer, which writes the
// 101, and arrives here through addClient().
//
// Messages (server → client, one JSON object per text frame, never
// fragmented): `hello` first (version, config, upstream, rateHz, the newest
// `snapshot`, `historyPoints`: a few KB whatever the uptime), then the
// current `loadtest` and `drift` state, then `snapshot` every 1/rateHz s
// (serialized once per tick for all clients), `config` after
// engine->configChanged, `loadtest` on LoadTestController::statusChanged,
// `drift` on DriftMonitor::stateChanged (and evaluated, at most 1/s),
// `dropped` {count} before the next snapshot a backed-up client gets.
// History is paged by the client: {"type":"history","before":ms,"limit":n}
// gets {"type":"history","before":ms,"points":[...],"more":bool}, the newest
// entries older than `before` (oldest first; at most n, at most 1000, and
// at most kHistoryPageBytes of points, but always one when there is one)
// from a ring covering the last 5 minutes at the stream rate (entries
// trimmed to the gauges, quota and last10s).
// Why paged: the hello used to carry the whole ring (282 KB after 1 min of
// uptime at 4 Hz, 1.41 MB after 5 min), queued whole for every connection,
// read or not: 1,000 clients that never read took the process from 33 MB to
// 1.44 GB. Now it is about 4.9 KB whatever the uptime.
// Client → server text: junk is ignored; another JSON object with a string
// `type` is a control message and gets {"type":"error","code":401|400,
// "message"} (401 without a valid `token` when an admin token is set; 400
// because no control message is defined yet). Binary messages are ignored;
// pings are answered by Qt; a client message over 64 KiB closes the
// connection (1009). Protocol errors are Qt's (qtwebsockets 6.4.2,
// QWebSocketDataProcessor; tst_metricsstream checks each over a raw socket):
// invalid UTF-8 in a text message closes with 1007, a continuation frame
// with no message started with 1002, and a close frame without a code is
// answered with 1000 (never 1005, RFC 6455 §7.4.1). Where Qt 6.4.2 departs
// from RFC 6455, harmlessly here: it decodes each fragment on its own, so a
// character split across fragments closes with 1007 (no browser fragments
// a short message); it does not check that client frames are masked; and
// frames sent together with the handshake, before the 101 (which §4.1
// forbids), are read before addClient() is connected and so are lost.
//
// Slow clients: when a client's QWebSocket::bytesToWrite() is above
// maxBacklogBytes at a tick its snapshot is dropped (counted) and its
// requests (history, control) are not answered (counted), so a client that
// sends requests but never reads cannot pile up answers;
// hello/config/loadtest/drift are always queued; past hardBacklogBytes the
// client is aborted. So what the process holds for a client is at most
// about maxBacklogBytes plus one message (a history page, <= 64 KiB), and at
// most maxClients clients hold it (tst_metricsstream,
// nonReadingClientsStayBounded). bytesToWrite() counts only Qt's buffer: the
// kernel's send buffer comes first and, autotuned, holds up to
// net.ipv4.tcp_wmem's maximum (4 MB here) of a non-reading client's frames
// (kernel memory, not the process's). Writes only append to a socket's
// buffer, so a stalled client never delays the others.
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

    // The gateway's decision on a request for kPath (the stream's on/off and
    // client cap around StreamHandshake::refusal): nullopt to let Qt upgrade
    // it, else the answer to write. Counts refusals. An accepted request
    // holds a place under maxClients until its socket arrives in addClient()
    // (Qt writes the 101 on a later event-loop pass), or for at most
    // kAdmissionTimeoutMs if it never does.
    std::optional<HttpReply> refusal(bool isGet, const StreamHandshake::Headers &headers);
    // Takes a WebSocket Qt upgraded after refusal() accepted it (already open,
    // on this thread) and starts streaming to it: hello, loadtest, drift.
    void addClient(std::unique_ptr<QWebSocket> socket);
    // Sends close 1001 to every client (aborts the backed-up ones) and flushes
    // what the kernel takes at once (shutdown).
    void closeAll();

    const std::shared_ptr<MetricsStreamCounters> &counters() const { return m_counters; }
    static constexpr const char *kPath = "/api/v1/stream";
    static constexpr qint64 kHistoryPageBytes = 64 * 1024; // points in one history answer, beyond its first
    static constexpr int kHistoryPageMaxPoints = 1000;
    static constexpr int kRetryAfterFullSeconds = 5;       // Retry-After of the 503 when full
    static constexpr qint64 kAdmissionTimeoutMs = 10000;   // a place refusal() gave that addClient() never took is freed after this

private:
    struct Client {
        quint64 dropped = 0;  // snapshots not sent since the last `dropped` message
        bool closing = false; // close or abort under way: nothing more is sent
    };
    struct HistoryEntry {
        qint64 timestampMs;
        QByteArray json; // trimmed snapshot, compact
    };
    void onClientText(QWebSocket *socket, const QString &text);
    QString historyPage(const QJsonObject &request) const;
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
    std::deque<HistoryEntry> m_history; // oldest first, timestamps strictly increasing
    size_t m_historyCapacity = 1200;
    QJsonObject m_lastSnapshot;         // the newest tick's full snapshot, for hello
    QElapsedTimer m_clock;
    std::deque<qint64> m_admitting;     // m_clock ms of upgrades refusal() accepted that addClient() has not seen
    qint64 m_lastDriftSentMs = 0;
    qint64 m_lastTimestampMs = 0;
};
