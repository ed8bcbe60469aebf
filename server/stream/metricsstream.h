#pragma once

#include "server/stream/websocketframes.h"

#include <QByteArray>
#include <QHash>
#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QTimer>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>

class BatchInferenceEngine;
class DriftMonitor;
class InferenceMetricsCollector;
class LoadTestController;
class QTcpServer;
class QTcpSocket;
struct HttpReply;

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
    qint64 hardBacklogBytes = 16 * 1024 * 1024;  // above this a client is aborted (non-droppable frames piled up)
    QStringList allowedOrigins;                  // besides the served origin; "*" allows any
    QByteArray adminToken;                       // for client control messages
    QString version;
    QString upstreamKind;
    QString model;
};

// GET /api/v1/stream (DESIGN.md §7, resources/dashboard/PROTOCOL.md): the
// dashboard's live feed over a WebSocket on the gateway's own port.
//
// How a connection becomes a stream: GatewayTcpServer calls watch() for each
// new socket before Qt's HTTP parser sees it. watch() peeks at the first
// bytes; a connection whose first request is not `GET /api/v1/stream` is
// left alone at once (one peek per connection, nothing per request). For a
// stream request the gateway's HTTP parser is detached from the socket, the
// opening handshake is validated (Upgrade, Sec-WebSocket-Key/Version, Origin
// against the Host header and the allow-list) and answered with 101, or with
// 426 (a plain GET), 403 (bad Origin) or 400 in the Gemini error envelope.
//
// Messages (server → client, one JSON object per text frame): `hello` first
// (version, config, upstream, rateHz, history of trimmed snapshots from a
// ring covering the last 5 minutes at the stream rate), then the current
// `loadtest` and `drift` state, then `snapshot` every 1/rateHz s (built once
// per tick, the same frame bytes written to every client), `config` after
// engine->configChanged, `loadtest` on LoadTestController::statusChanged,
// `drift` on DriftMonitor::stateChanged (and evaluated, at most 1/s),
// `dropped` {count} before the next snapshot a backed-up client gets.
// Client → server text: junk is ignored; a JSON object with a string `type`
// is a control message and gets {"type":"error","code":401|400,"message"}
// (401 without a valid `token` when an admin token is set; 400 because no
// control message is defined yet).
//
// Slow clients: when a client's socket has more than maxBacklogBytes queued
// at a tick its snapshot is dropped (counted); hello/config/loadtest/drift
// are always queued; past hardBacklogBytes the client is aborted, so memory
// per client stays bounded. Other clients are not delayed: nothing blocks.
//
// Thread: server thread (created, used and destroyed there). Snapshots are
// taken on its own timer with InferenceMetricsCollector::snapshot()
// (thread-safe); engine, drift and load-test signals arrive queued from
// their threads. counters() is thread-safe.
class MetricsStream : public QObject
{
    Q_OBJECT
public:
    // `rawReply` builds the complete bytes of an HTTP answer written outside a
    // responder (status line, common headers, Connection: close).
    MetricsStream(BatchInferenceEngine *engine, InferenceMetricsCollector *metrics, DriftMonitor *drift,
                  LoadTestController *loadTests, const MetricsStreamOptions &options,
                  std::function<QByteArray(const HttpReply &)> rawReply, QObject *parent = nullptr);
    ~MetricsStream() override; // closes every client with 1001

    // A new connection of `tcp` (the gateway's listening server) whose HTTP
    // parser is `http`; call before that parser connects to the socket.
    void watch(QTcpSocket *socket, QObject *tcp, QObject *http);
    // Sends close 1001 to every client and flushes briefly (shutdown).
    void closeAll();

    const std::shared_ptr<MetricsStreamCounters> &counters() const { return m_counters; }
    static constexpr const char *kPath = "/api/v1/stream";

private:
    struct Client;
    void sniff(QTcpSocket *socket);
    void stopSniffing(QTcpSocket *socket);
    void handshake(QTcpSocket *socket, const QByteArray &head);
    void refuse(QTcpSocket *socket, const HttpReply &reply);
    bool originAllowed(const QByteArray &origin, const QByteArray &host) const;
    void onClientData(Client *c);
    void onClientText(Client *c, const QByteArray &text);
    void removeClient(QTcpSocket *socket);
    void send(Client *c, const QByteArray &frame);
    void broadcast(const QByteArray &frame); // never dropped
    void tick();
    void sendConfig();
    void sendLoadTest();
    void sendDrift(bool force);
    QByteArray helloFrame() const;
    QByteArray loadTestJson() const;

    BatchInferenceEngine *m_engine;
    InferenceMetricsCollector *m_metrics;
    QPointer<DriftMonitor> m_drift;
    QPointer<LoadTestController> m_loadTests;
    MetricsStreamOptions m_options;
    std::function<QByteArray(const HttpReply &)> m_rawReply;
    std::shared_ptr<MetricsStreamCounters> m_counters = std::make_shared<MetricsStreamCounters>();

    struct Sniffing {
        QMetaObject::Connection readyRead;
        QObject *tcp = nullptr;
        QObject *http = nullptr;
        bool detached = false; // the HTTP parser no longer sees the socket
    };
    QHash<QTcpSocket *, Sniffing> m_sniffing;
    QHash<QTcpSocket *, Client *> m_clients;
    QTimer m_timer;
    std::deque<QByteArray> m_history; // trimmed snapshot JSON, oldest first
    size_t m_historyCapacity = 1200;
    qint64 m_lastDriftSentMs = 0;
    qint64 m_lastTimestampMs = 0;
};
