#include "server/stream/metricsstream.h"

#include "server/http/admintoken.h"

#include "core/drift/driftmonitor.h"
#include "core/engine/batchinferenceengine.h"
#include "core/loadtest/loadtestcontroller.h"
#include "core/metrics/inferencemetricscollector.h"
#include "server/http/errormapping.h"
#include "server/http/httpreply.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QUrl>

#include <algorithm>
#include <cmath>

namespace {

const QByteArray kPrefix = QByteArrayLiteral("GET /api/v1/stream");
constexpr qsizetype kMaxHandshakeBytes = 16 * 1024;

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}


bool hasToken(const QByteArray &headerValue, const char *token)
{
    const QList<QByteArray> parts = headerValue.split(',');
    for (const QByteArray &p : parts)
        if (p.trimmed().compare(token, Qt::CaseInsensitive) == 0)
            return true;
    return false;
}

HttpReply errorReply(StatusCode code, const QString &message, int httpStatus = 0)
{
    return ErrorMapping::toReply(Status::error(code, message), httpStatus);
}

} // namespace

struct MetricsStream::Client {
    QTcpSocket *socket = nullptr;
    WebSocketFrameReader reader;
    QByteArray fragments;
    quint8 fragmentOpcode = 0;
    quint64 dropped = 0;   // snapshots not sent since the last `dropped` message
    bool closeSent = false;
};

MetricsStream::MetricsStream(BatchInferenceEngine *engine, InferenceMetricsCollector *metrics, DriftMonitor *drift,
                             LoadTestController *loadTests, const MetricsStreamOptions &options,
                             std::function<QByteArray(const HttpReply &)> rawReply, QObject *parent)
    : QObject(parent), m_engine(engine), m_metrics(metrics), m_drift(drift), m_loadTests(loadTests),
      m_options(options), m_rawReply(std::move(rawReply))
{
    m_options.rateHz = std::clamp(m_options.rateHz, 0.2, 50.0);
    m_historyCapacity = size_t(std::min(7200.0, std::ceil(300.0 * m_options.rateHz)));
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
    for (auto it = m_sniffing.begin(); it != m_sniffing.end(); ++it)
        QObject::disconnect(it->readyRead);
    m_sniffing.clear();
}

void MetricsStream::watch(QTcpSocket *socket, QObject *tcp, QObject *http)
{
    Sniffing s;
    s.tcp = tcp;
    s.http = http;
    s.readyRead = connect(socket, &QTcpSocket::readyRead, this, [this, socket] { sniff(socket); });
    m_sniffing.insert(socket, s);
    connect(socket, &QObject::destroyed, this, [this, socket] {
        m_sniffing.remove(socket);
        if (Client *c = m_clients.take(socket)) {
            delete c;
            --m_counters->clients;
        }
    });
}

void MetricsStream::stopSniffing(QTcpSocket *socket)
{
    const auto it = m_sniffing.find(socket);
    if (it == m_sniffing.end())
        return;
    QObject::disconnect(it->readyRead);
    m_sniffing.erase(it);
}

void MetricsStream::sniff(QTcpSocket *socket)
{
    const auto it = m_sniffing.find(socket);
    if (it == m_sniffing.end())
        return;
    // Qt's parser may have opened a transaction on an earlier, shorter read.
    if (it->detached && socket->isTransactionStarted())
        socket->rollbackTransaction();
    const QByteArray data = socket->peek(std::min<qint64>(socket->bytesAvailable(), kMaxHandshakeBytes + 1));
    const qsizetype n = std::min(data.size(), kPrefix.size());
    if (data.left(n) != kPrefix.left(n)) {
        stopSniffing(socket); // an ordinary connection: never looked at again
        return;
    }
    if (data.size() <= kPrefix.size())
        return; // too short to tell yet
    const char next = data.at(kPrefix.size());
    if (next != ' ' && next != '?') {
        stopSniffing(socket);
        return;
    }
    if (!it->detached) {
        // The gateway's HTTP parser (connected after us) must never see this request.
        QObject::disconnect(socket, &QTcpSocket::readyRead, it->http, nullptr);
        it->detached = true;
        if (socket->isTransactionStarted())
            socket->rollbackTransaction();
    }
    const qsizetype end = data.indexOf("\r\n\r\n");
    if (end < 0) {
        if (data.size() > kMaxHandshakeBytes) {
            QObject *tcp = it->tcp;
            stopSniffing(socket);
            QObject::disconnect(socket, &QTcpSocket::readyRead, tcp, nullptr);
            refuse(socket, errorReply(StatusCode::InvalidArgument, QStringLiteral("WebSocket handshake too large"), 431));
        }
        return; // HttpLimitsTcpServer (still connected) times out a stalled head with 408
    }
    const QByteArray head = socket->read(end + 4);
    // The limits filter has seen the complete head (it runs first); what follows are frames.
    QObject::disconnect(socket, &QTcpSocket::readyRead, it->tcp, nullptr);
    stopSniffing(socket);
    handshake(socket, head);
}

void MetricsStream::refuse(QTcpSocket *socket, const HttpReply &reply)
{
    ++m_counters->connectionsRefused;
    socket->write(m_rawReply(reply));
    socket->disconnectFromHost();
}

bool MetricsStream::originAllowed(const QByteArray &origin, const QByteArray &host) const
{
    if (origin.isEmpty())
        return true; // not a browser
    QString o = QString::fromLatin1(origin).trimmed();
    while (o.endsWith(u'/'))
        o.chop(1);
    for (QString a : m_options.allowedOrigins) {
        while (a.endsWith(u'/'))
            a.chop(1);
        if (a == u"*" || a.compare(o, Qt::CaseInsensitive) == 0)
            return true;
    }
    const QUrl u(o);
    const QString scheme = u.scheme().toLower();
    if (!u.isValid() || u.host().isEmpty() || (scheme != u"http" && scheme != u"https"))
        return false;
    const QUrl served(QStringLiteral("http://") + QString::fromLatin1(host.trimmed()));
    if (host.trimmed().isEmpty() || !served.isValid())
        return false;
    return u.host().compare(served.host(), Qt::CaseInsensitive) == 0
        && u.port(scheme == u"https" ? 443 : 80) == served.port(80);
}

void MetricsStream::handshake(QTcpSocket *socket, const QByteArray &head)
{
    QHash<QByteArray, QByteArray> h;
    const QList<QByteArray> lines = head.split('\n');
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines.at(i).trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            continue;
        const QByteArray name = line.left(colon).trimmed().toLower();
        const QByteArray value = line.mid(colon + 1).trimmed();
        h[name] = h.contains(name) ? h[name] + ", " + value : value;
    }
    if (!hasToken(h.value("upgrade"), "websocket") || !hasToken(h.value("connection"), "upgrade")) {
        HttpReply r = errorReply(StatusCode::InvalidArgument,
                                 QStringLiteral("GET %1 is a WebSocket endpoint: send Upgrade: websocket").arg(QLatin1String(kPath)),
                                 426);
        r.headers.append({QByteArrayLiteral("Upgrade"), QByteArrayLiteral("websocket")});
        refuse(socket, r);
        return;
    }
    if (h.value("sec-websocket-version") != "13") {
        HttpReply r = errorReply(StatusCode::InvalidArgument, QStringLiteral("only WebSocket version 13 is supported"), 426);
        r.headers.append({QByteArrayLiteral("Sec-WebSocket-Version"), QByteArrayLiteral("13")});
        refuse(socket, r);
        return;
    }
    const QByteArray key = h.value("sec-websocket-key");
    if (QByteArray::fromBase64(key).size() != 16) {
        refuse(socket, errorReply(StatusCode::InvalidArgument, QStringLiteral("missing or invalid Sec-WebSocket-Key")));
        return;
    }
    if (!originAllowed(h.value("origin"), h.value("host"))) {
        refuse(socket, errorReply(StatusCode::PermissionDenied,
                                  QStringLiteral("Origin %1 may not open the stream").arg(QString::fromLatin1(h.value("origin")))));
        return;
    }
    socket->write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
                  + WebSocketFrames::acceptKey(key) + "\r\nServer: sluice/" SLUICE_VERSION "\r\n\r\n");
    auto *c = new Client;
    c->socket = socket;
    m_clients.insert(socket, c);
    ++m_counters->clients;
    ++m_counters->connectionsAccepted;
    connect(socket, &QTcpSocket::readyRead, this, [this, c] { onClientData(c); });
    connect(socket, &QTcpSocket::disconnected, this, [this, socket] { removeClient(socket); });
    send(c, helloFrame());
    if (m_loadTests && m_loadTests->id() != 0)
        send(c, WebSocketFrames::textFrame(loadTestJson()));
    if (m_drift)
        send(c, WebSocketFrames::textFrame(compact(m_drift->toJson())));
    if (socket->bytesAvailable() > 0)
        onClientData(c);
}

void MetricsStream::removeClient(QTcpSocket *socket)
{
    if (Client *c = m_clients.take(socket)) {
        delete c;
        --m_counters->clients;
        socket->deleteLater();
    }
}

void MetricsStream::send(Client *c, const QByteArray &frame)
{
    if (c->closeSent)
        return;
    c->socket->write(frame);
    if (c->socket->bytesToWrite() > m_options.hardBacklogBytes) {
        ++m_counters->clientsAborted;
        c->closeSent = true;
        // Deferred: callers may still use `c`; disconnected → removeClient deletes it.
        QTimer::singleShot(0, c->socket, &QTcpSocket::abort);
    }
}

void MetricsStream::broadcast(const QByteArray &frame)
{
    for (Client *c : std::as_const(m_clients))
        send(c, frame); // never removes a client synchronously
}

void MetricsStream::onClientData(Client *c)
{
    c->reader.append(c->socket->readAll());
    while (auto f = c->reader.next()) {
        switch (f->opcode) {
        case WebSocketFrames::Text:
        case WebSocketFrames::Binary:
        case WebSocketFrames::Continuation: {
            if (f->opcode != WebSocketFrames::Continuation) {
                c->fragmentOpcode = f->opcode;
                c->fragments.clear();
            }
            c->fragments += f->payload;
            if (c->fragments.size() > 64 * 1024) {
                send(c, WebSocketFrames::closeFrame(1009, "message too big"));
                c->closeSent = true;
                c->socket->disconnectFromHost();
                return;
            }
            if (f->fin) {
                if (c->fragmentOpcode == WebSocketFrames::Text)
                    onClientText(c, c->fragments);
                c->fragments.clear();
            }
            break;
        }
        case WebSocketFrames::Close:
            if (!c->closeSent) {
                const quint16 code = f->payload.size() >= 2
                    ? quint16((uchar(f->payload.at(0)) << 8) | uchar(f->payload.at(1))) : quint16(1000);
                send(c, WebSocketFrames::closeFrame(code));
                c->closeSent = true;
            }
            c->socket->disconnectFromHost();
            return;
        case WebSocketFrames::Ping:
            send(c, WebSocketFrames::frame(WebSocketFrames::Pong, f->payload));
            break;
        default: // Pong
            break;
        }
    }
    if (const quint16 code = c->reader.error()) {
        send(c, WebSocketFrames::closeFrame(code));
        c->closeSent = true;
        c->socket->disconnectFromHost();
    }
}

void MetricsStream::onClientText(Client *c, const QByteArray &text)
{
    const QJsonDocument doc = QJsonDocument::fromJson(text);
    if (!doc.isObject() || !doc.object().value(QStringLiteral("type")).isString())
        return; // junk is ignored (PROTOCOL.md)
    const QJsonObject msg = doc.object();
    int code = 400;
    QString message = QStringLiteral("unknown control message type \"%1\"").arg(msg.value(QStringLiteral("type")).toString());
    if (!m_options.adminToken.isEmpty()
        && !AdminToken::equals(m_options.adminToken, msg.value(QStringLiteral("token")).toString().toUtf8())) {
        code = 401;
        message = QStringLiteral("control messages need the admin token in \"token\"");
    }
    send(c, WebSocketFrames::textFrame(compact({{QStringLiteral("type"), QStringLiteral("error")},
                                                {QStringLiteral("code"), code},
                                                {QStringLiteral("message"), message}})));
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
    const QByteArray frame = WebSocketFrames::textFrame(
        compact({{QStringLiteral("type"), QStringLiteral("snapshot")}, {QStringLiteral("snapshot"), full}}));
    // History entries keep the gauges and last10s only (what the client reads from history).
    full.remove(QStringLiteral("last1s"));
    full.remove(QStringLiteral("last60s"));
    full.remove(QStringLiteral("total"));
    m_history.push_back(compact(full));
    while (m_history.size() > m_historyCapacity)
        m_history.pop_front();

    qint64 maxBacklog = 0;
    for (Client *c : std::as_const(m_clients)) { // send() never removes a client synchronously
        if (c->closeSent)
            continue;
        const qint64 backlog = c->socket->bytesToWrite();
        maxBacklog = std::max(maxBacklog, backlog);
        if (backlog > m_options.maxBacklogBytes) {
            ++c->dropped;
            ++m_counters->snapshotFramesDropped;
            continue;
        }
        if (c->dropped) {
            send(c, WebSocketFrames::textFrame(compact({{QStringLiteral("type"), QStringLiteral("dropped")},
                                                        {QStringLiteral("count"), double(c->dropped)}})));
            c->dropped = 0;
        }
        send(c, frame);
        ++m_counters->snapshotFramesSent;
    }
    if (maxBacklog > m_counters->maxBacklogBytes.load())
        m_counters->maxBacklogBytes = maxBacklog;
}

void MetricsStream::sendConfig()
{
    if (m_clients.isEmpty() || !m_engine)
        return;
    broadcast(WebSocketFrames::textFrame(compact({{QStringLiteral("type"), QStringLiteral("config")},
                                                  {QStringLiteral("config"), m_engine->config().toJson()}})));
}

QByteArray MetricsStream::loadTestJson() const
{
    QJsonObject o = m_loadTests->status();
    o.insert(QStringLiteral("type"), QStringLiteral("loadtest"));
    return compact(o);
}

void MetricsStream::sendLoadTest()
{
    if (m_clients.isEmpty() || !m_loadTests)
        return;
    broadcast(WebSocketFrames::textFrame(loadTestJson()));
}

void MetricsStream::sendDrift(bool force)
{
    if (m_clients.isEmpty() || !m_drift)
        return;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (!force && now - m_lastDriftSentMs < 1000)
        return;
    m_lastDriftSentMs = now;
    broadcast(WebSocketFrames::textFrame(compact(m_drift->toJson())));
}

QByteArray MetricsStream::helloFrame() const
{
    const QJsonObject o{
        {QStringLiteral("type"), QStringLiteral("hello")},
        {QStringLiteral("version"), m_options.version},
        {QStringLiteral("config"), m_engine ? m_engine->config().toJson() : QJsonObject()},
        {QStringLiteral("upstream"), QJsonObject{{QStringLiteral("kind"), m_options.upstreamKind},
                                                 {QStringLiteral("model"), m_options.model}}},
        {QStringLiteral("rateHz"), m_options.rateHz},
    };
    QByteArray json = compact(o);
    json.chop(1); // the closing brace; history is spliced in from pre-serialized entries
    qsizetype size = json.size() + 16;
    for (const QByteArray &e : m_history)
        size += e.size() + 1;
    json.reserve(size);
    json += ",\"history\":[";
    bool first = true;
    for (const QByteArray &e : m_history) {
        if (!first)
            json += ',';
        first = false;
        json += e;
    }
    json += "]}";
    return WebSocketFrames::textFrame(json);
}

void MetricsStream::closeAll()
{
    // By socket, looked up each time: abort() and disconnectFromHost() may
    // emit disconnected synchronously, which removes (deletes) the client.
    const QList<QTcpSocket *> sockets = m_clients.keys();
    for (QTcpSocket *socket : sockets) {
        Client *c = m_clients.value(socket);
        if (!c || c->closeSent)
            continue;
        c->closeSent = true;
        if (socket->bytesToWrite() > m_options.maxBacklogBytes) {
            socket->abort(); // stalled: a close frame would never get through
            continue;
        }
        socket->write(WebSocketFrames::closeFrame(1001, "server shutting down"));
        socket->flush(); // into the kernel now: the server is about to destroy its sockets
        socket->disconnectFromHost();
    }
}
