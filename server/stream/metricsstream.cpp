#include "server/stream/metricsstream.h"

#include "core/drift/driftmonitor.h"
#include "core/engine/batchinferenceengine.h"
#include "core/loadtest/loadtestcontroller.h"
#include "core/metrics/inferencemetricscollector.h"
#include "core/util/status.h"
#include "server/http/admintoken.h"
#include "server/http/errormapping.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QWebSocket>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

namespace {

constexpr qint64 kMaxClientMessageBytes = 64 * 1024; // larger client messages close with 1009

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QString message(const QJsonObject &o)
{
    return QString::fromUtf8(compact(o));
}

} // namespace

MetricsStream::MetricsStream(BatchInferenceEngine *engine, InferenceMetricsCollector *metrics, DriftMonitor *drift,
                             LoadTestController *loadTests, const MetricsStreamOptions &options, QObject *parent)
    : QObject(parent), m_engine(engine), m_metrics(metrics), m_drift(drift), m_loadTests(loadTests), m_options(options)
{
    m_options.rateHz = std::clamp(m_options.rateHz, 0.2, 50.0);
    m_options.maxClients = std::max(0, m_options.maxClients);
    m_historyCapacity = size_t(std::min(7200.0, std::ceil(300.0 * m_options.rateHz)));
    m_clock.start();
    if (m_options.maxClients == 0)
        return; // no stream: no snapshots, no history, every request gets 404
    m_timer.setTimerType(Qt::PreciseTimer);
    m_timer.setInterval(int(std::lround(1000.0 / m_options.rateHz)));
    connect(&m_timer, &QTimer::timeout, this, &MetricsStream::tick);
    m_timer.start();
    // Queued: these objects live on other threads; each slot reads thread-safe state.
    if (m_engine)
        connect(m_engine, &BatchInferenceEngine::configChanged, this, [this] { sendConfig(); }, Qt::QueuedConnection);
    if (m_loadTests)
        connect(m_loadTests, &LoadTestController::statusChanged, this, [this] { sendLoadTest(); }, Qt::QueuedConnection);
    if (m_drift) {
        connect(m_drift, &DriftMonitor::stateChanged, this, [this] { sendDrift(true); }, Qt::QueuedConnection);
        connect(m_drift, &DriftMonitor::evaluated, this, [this] { sendDrift(false); }, Qt::QueuedConnection);
    }
}

MetricsStream::~MetricsStream()
{
    closeAll();
    // Deleted here rather than by ~QObject so that nothing they emit while
    // closing reaches this half-destroyed stream.
    const QList<QWebSocket *> sockets = m_clients.keys();
    m_clients.clear();
    for (QWebSocket *socket : sockets) {
        socket->disconnect(this);
        delete socket;
    }
}

std::optional<HttpReply> MetricsStream::refusal(bool isGet, const StreamHandshake::Headers &headers)
{
    std::optional<HttpReply> r;
    if (m_options.maxClients == 0) {
        // Off, not busy: 404 says there is no such endpoint here, where a 503
        // would invite the dashboard to retry for ever.
        r = ErrorMapping::toReply(Status::error(
            StatusCode::NotFound, QStringLiteral("the stream is off on this gateway (streamMaxClients is 0)")));
    } else {
        r = StreamHandshake::refusal(QString::fromLatin1(kPath), isGet, headers,
                                     {m_options.allowedOrigins, m_options.adminToken});
        if (r && r->status == 401)
            ++m_counters->refusedUnauthorized;
    }
    if (!r) {
        const qint64 now = m_clock.elapsed();
        while (!m_admitting.empty() && now - m_admitting.front() > kAdmissionTimeoutMs)
            m_admitting.pop_front();
        if (m_clients.size() + qsizetype(m_admitting.size()) >= m_options.maxClients) {
            Status full = Status::error(StatusCode::Unavailable,
                                        QStringLiteral("the stream has its maximum of %1 clients; retry later")
                                            .arg(m_options.maxClients));
            full.retryAfter = std::chrono::seconds(kRetryAfterFullSeconds);
            r = ErrorMapping::toReply(full);
            ++m_counters->refusedFull;
        } else {
            m_admitting.push_back(now);
        }
    }
    if (r)
        ++m_counters->connectionsRefused;
    return r;
}

void MetricsStream::addClient(std::unique_ptr<QWebSocket> owned)
{
    if (!m_admitting.empty())
        m_admitting.pop_front(); // Qt upgrades in the order refusal() accepted
    QWebSocket *socket = owned.release();
    socket->setParent(this);
    if (socket->state() != QAbstractSocket::ConnectedState) { // gone between the 101 and now
        socket->deleteLater();
        return;
    }
    // One frame per message whatever its size (PROTOCOL.md: one JSON object
    // per text frame; Qt splits messages into 512 KiB fragments by default).
    socket->setOutgoingFrameSize(QWebSocket::maxOutgoingFrameSize());
    socket->setMaxAllowedIncomingFrameSize(kMaxClientMessageBytes);
    socket->setMaxAllowedIncomingMessageSize(kMaxClientMessageBytes);
    Client &c = *m_clients.insert(socket, Client{});
    ++m_counters->clients;
    ++m_counters->connectionsAccepted;
    connect(socket, &QWebSocket::textMessageReceived, this, [this, socket](const QString &text) { onClientText(socket, text); });
    // Qt emits disconnected from inside close()/abort() and from the socket's
    // own state change; the socket is deleted later, once that emission is over
    // (its QTcpSocket is deleted by Qt's QWebSocketServer on the same signal).
    connect(socket, &QWebSocket::disconnected, this, [this, socket] { removeClient(socket); });
    send(socket, c, helloMessage());
    if (m_loadTests && m_loadTests->id() != 0)
        send(socket, c, loadTestMessage());
    if (m_drift)
        send(socket, c, message(m_drift->toJson()));
}

void MetricsStream::removeClient(QWebSocket *socket)
{
    if (m_clients.remove(socket)) {
        --m_counters->clients;
        socket->deleteLater();
    }
}

void MetricsStream::send(QWebSocket *socket, Client &c, const QString &text)
{
    if (c.closing)
        return;
    socket->sendTextMessage(text);
    if (socket->bytesToWrite() > m_options.hardBacklogBytes) {
        ++m_counters->clientsAborted;
        c.closing = true;
        // Deferred: callers iterate the clients; abort() emits disconnected at once.
        QTimer::singleShot(0, socket, &QWebSocket::abort);
    }
}

void MetricsStream::broadcast(const QString &text)
{
    for (auto it = m_clients.begin(); it != m_clients.end(); ++it)
        send(it.key(), it.value(), text); // never removes a client synchronously
}

void MetricsStream::onClientText(QWebSocket *socket, const QString &text)
{
    const auto it = m_clients.find(socket);
    if (it == m_clients.end() || it->closing)
        return;
    const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8());
    if (!doc.isObject() || !doc.object().value(QStringLiteral("type")).isString())
        return; // junk is ignored (PROTOCOL.md)
    if (socket->bytesToWrite() > m_options.maxBacklogBytes) {
        // Not reading what it is sent: answering would only pile up more.
        ++m_counters->requestsIgnored;
        return;
    }
    const QJsonObject msg = doc.object();
    const QString type = msg.value(QStringLiteral("type")).toString();
    if (type == u"history") {
        send(socket, it.value(), historyPage(msg));
        ++m_counters->historyPagesSent;
        return;
    }
    int code = 400;
    QString why = QStringLiteral("unknown control message type \"%1\"").arg(type);
    if (!m_options.adminToken.isEmpty()
        && !AdminToken::equals(m_options.adminToken, msg.value(QStringLiteral("token")).toString().toUtf8())) {
        code = 401;
        why = QStringLiteral("control messages need the admin token in \"token\"");
    }
    send(socket, it.value(), message({{QStringLiteral("type"), QStringLiteral("error")},
                                      {QStringLiteral("code"), code},
                                      {QStringLiteral("message"), why}}));
}

QString MetricsStream::historyPage(const QJsonObject &request) const
{
    // A missing or non-numeric `before` means "from the newest"; `limit` is clamped.
    const QJsonValue beforeValue = request.value(QStringLiteral("before"));
    const double before = beforeValue.isDouble() ? beforeValue.toDouble() : std::numeric_limits<double>::infinity();
    const QJsonValue limitValue = request.value(QStringLiteral("limit"));
    const int limit = limitValue.isDouble() ? int(std::clamp(limitValue.toDouble(), 1.0, double(kHistoryPageMaxPoints)))
                                            : kHistoryPageMaxPoints;
    // The first entry not older than `before`; the page is the newest entries before it.
    const auto end = std::lower_bound(m_history.begin(), m_history.end(), before,
                                      [](const HistoryEntry &e, double t) { return double(e.timestampMs) < t; });
    auto begin = end;
    qint64 bytes = 0;
    while (begin != m_history.begin() && end - begin < limit) {
        const qint64 next = bytes + std::prev(begin)->json.size() + 1;
        if (begin != end && next > kHistoryPageBytes)
            break;
        bytes = next;
        --begin;
    }
    QByteArray json = compact({{QStringLiteral("type"), QStringLiteral("history")},
                               {QStringLiteral("before"), beforeValue.isDouble() ? QJsonValue(before) : QJsonValue()},
                               {QStringLiteral("more"), begin != m_history.begin()}});
    json.chop(1); // the closing brace: the points are spliced in pre-serialized
    json.reserve(json.size() + bytes + 16);
    json += ",\"points\":[";
    for (auto e = begin; e != end; ++e) {
        if (e != begin)
            json += ',';
        json += e->json;
    }
    json += "]}";
    return QString::fromUtf8(json);
}

void MetricsStream::tick()
{
    if (!m_metrics)
        return;
    MetricsSnapshot s = m_metrics->snapshot();
    if (s.timestampMs <= m_lastTimestampMs)
        s.timestampMs = m_lastTimestampMs + 1; // PROTOCOL.md: strictly increasing
    m_lastTimestampMs = s.timestampMs;
    QJsonObject full = s.toJson();
    m_lastSnapshot = full;
    const QString snapshot = message({{QStringLiteral("type"), QStringLiteral("snapshot")}, {QStringLiteral("snapshot"), full}});
    // History entries keep the gauges, quota and last10s only (what the client reads from history).
    full.remove(QStringLiteral("last1s"));
    full.remove(QStringLiteral("last60s"));
    full.remove(QStringLiteral("total"));
    m_history.push_back({s.timestampMs, compact(full)});
    while (m_history.size() > m_historyCapacity)
        m_history.pop_front();

    qint64 maxBacklog = 0;
    qint64 totalBacklog = 0;
    for (auto it = m_clients.begin(); it != m_clients.end(); ++it) { // send() never removes a client synchronously
        QWebSocket *socket = it.key();
        Client &c = it.value();
        if (c.closing)
            continue;
        const qint64 backlog = socket->bytesToWrite();
        maxBacklog = std::max(maxBacklog, backlog);
        totalBacklog += backlog;
        if (backlog > m_options.maxBacklogBytes) {
            ++c.dropped;
            ++m_counters->snapshotFramesDropped;
            continue;
        }
        if (c.dropped) {
            send(socket, c, message({{QStringLiteral("type"), QStringLiteral("dropped")},
                                     {QStringLiteral("count"), double(c.dropped)}}));
            c.dropped = 0;
        }
        send(socket, c, snapshot);
        ++m_counters->snapshotFramesSent;
    }
    if (maxBacklog > m_counters->maxBacklogBytes.load())
        m_counters->maxBacklogBytes = maxBacklog;
    m_counters->backlogBytes = totalBacklog;
}

void MetricsStream::sendConfig()
{
    if (m_clients.isEmpty() || !m_engine)
        return;
    broadcast(message({{QStringLiteral("type"), QStringLiteral("config")},
                       {QStringLiteral("config"), m_engine->config().toJson()}}));
}

QString MetricsStream::loadTestMessage() const
{
    QJsonObject o = m_loadTests->status();
    o.insert(QStringLiteral("type"), QStringLiteral("loadtest"));
    return message(o);
}

void MetricsStream::sendLoadTest()
{
    if (m_clients.isEmpty() || !m_loadTests)
        return;
    broadcast(loadTestMessage());
}

void MetricsStream::sendDrift(bool force)
{
    if (m_clients.isEmpty() || !m_drift)
        return;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (!force && now - m_lastDriftSentMs < 1000)
        return;
    m_lastDriftSentMs = now;
    broadcast(message(m_drift->toJson()));
}

QString MetricsStream::helloMessage() const
{
    return message({
        {QStringLiteral("type"), QStringLiteral("hello")},
        {QStringLiteral("version"), m_options.version},
        {QStringLiteral("config"), m_engine ? m_engine->config().toJson() : QJsonObject()},
        {QStringLiteral("upstream"), QJsonObject{{QStringLiteral("kind"), m_options.upstreamKind},
                                                 {QStringLiteral("model"), m_options.model}}},
        {QStringLiteral("rateHz"), m_options.rateHz},
        {QStringLiteral("snapshot"), m_lastSnapshot.isEmpty() ? QJsonValue() : QJsonValue(m_lastSnapshot)},
        {QStringLiteral("historyPoints"), double(m_history.size())},
    });
}

void MetricsStream::closeAll()
{
    // By socket, looked up each time: close() and abort() may emit
    // disconnected at once, which removes the client.
    const QList<QWebSocket *> sockets = m_clients.keys();
    for (QWebSocket *socket : sockets) {
        const auto it = m_clients.find(socket);
        if (it == m_clients.end() || it->closing)
            continue;
        it->closing = true;
        if (socket->bytesToWrite() > m_options.maxBacklogBytes) {
            socket->abort(); // stalled: a close frame would never get through
            continue;
        }
        // Writes the close frame and flushes it into the kernel now: the
        // server is about to destroy its sockets.
        socket->close(QWebSocketProtocol::CloseCodeGoingAway, QStringLiteral("server shutting down"));
    }
}
