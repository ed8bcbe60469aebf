#include "server/gatewayhttpserver.h"

#include "core/engine/batchinferenceengine.h"
#include "core/http/httpstatus.h"
#include "server/http/errormapping.h"
#include "server/routes/dashboardassets.h"
#include "server/routes/geminiroutes.h"
#include "server/routes/opsroutes.h"
#include "server/stream/metricsstream.h"
#include "server/stream/streamhandshake.h"

#include <QDateTime>
#include <QHostInfo>
#include <QNetworkInterface>
#include <QLocale>
#include <QWebSocket>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

void ServerThreadPoster::post(std::function<void()> fn)
{
    std::lock_guard lock(m_mutex);
    if (m_target)
        QMetaObject::invokeMethod(m_target, std::move(fn), Qt::QueuedConnection);
}

void ServerThreadPoster::detach()
{
    std::lock_guard lock(m_mutex);
    m_target = nullptr;
}

namespace {

// Status codes Sluice answers with (HttpStatus::reasonPhrase knows each);
// anything else is folded into its class.
int writableStatus(int code)
{
    switch (code) {
    case 200: case 201: case 202: case 204: case 304:
    case 400: case 401: case 403: case 404: case 405: case 408: case 409: case 411: case 413:
    case 415: case 421: case 422: case 426: case 429: case 431:
    case 500: case 501: case 502: case 503: case 504:
        return code;
    default:
        return code >= 500 ? 502 : code >= 400 ? 400 : 200;
    }
}

// The host part of a Host header or an Origin's authority, lower-case,
// without port, brackets or a trailing dot: "[::1]:8080" → "::1".
QString hostName(QByteArrayView authority)
{
    QByteArrayView h = authority.trimmed();
    if (h.startsWith('[')) {
        const qsizetype close = h.indexOf(']');
        h = close < 0 ? QByteArrayView() : h.sliced(1, close - 1);
    } else if (const qsizetype colon = h.lastIndexOf(':'); colon >= 0) {
        h = h.first(colon);
    }
    if (h.endsWith('.'))
        h.chop(1);
    return QString::fromLatin1(h).toLower();
}

bool isLoopbackName(const QString &name)
{
    if (name == u"localhost" || name.endsWith(u".localhost"))
        return true;
    const QHostAddress a(name);
    return !a.isNull() && a.isLoopback();
}

} // namespace

bool GatewayHttpServer::hostAllowed(QByteArrayView hostHeader) const
{
    if (m_anyHost)
        return true;
    const QString name = hostName(hostHeader);
    return isLoopbackName(name) || m_allowedHosts.contains(name);
}

std::optional<HttpReply> GatewayHttpServer::requestRefusal(const QHttpServerRequest &request, bool stateChanging) const
{
    // DNS rebinding (every route): a page on evil.example whose name now
    // resolves to 127.0.0.1 sends Host: evil.example. HTTP/1.0 without Host
    // passed the filter; browsers always send one.
    const QByteArray host = request.value(QByteArrayLiteral("host"));
    if (!host.isEmpty() && !hostAllowed(host))
        return ErrorMapping::toReply(
            Status::error(StatusCode::InvalidArgument,
                          QStringLiteral("Host '%1' is not a name this gateway answers to (DNS-rebinding protection); "
                                         "add it with --allowed-hosts or server.allowedHosts")
                              .arg(QString::fromLatin1(host.left(200)))),
            421);
    // Cross-site requests (CSRF): a browser names the page's origin on every
    // request that can change state; agents and SDKs send none. A foreign
    // origin is refused on every such route, so a page the operator visits
    // cannot start load tests, change the config or spend the quota.
    if (stateChanging) {
        const QByteArray origin = request.value(QByteArrayLiteral("origin"));
        if (!origin.isEmpty() && !StreamHandshake::originAllowed(origin, host, m_options.allowedOrigins))
            return ErrorMapping::toReply(
                Status::error(StatusCode::PermissionDenied,
                              QStringLiteral("Origin '%1' may not call this gateway from a browser (cross-site request); "
                                             "add it with --allowed-origins or server.allowedOrigins")
                                  .arg(QString::fromLatin1(origin.left(200)))),
                403);
    }
    return std::nullopt;
}

GatewayHttpServer::GatewayHttpServer(const GatewayDeps &deps, const GatewayOptions &options, QObject *parent)
    : QAbstractHttpServer(parent), m_deps(deps), m_options(options),
      m_poster(std::make_shared<ServerThreadPoster>(this))
{
    m_uptime.start();
    m_gemini = std::make_unique<GeminiRoutes>(this);
    m_ops = std::make_unique<OpsRoutes>(this);
    m_dashboard = std::make_unique<DashboardAssets>();
    MetricsStreamOptions so;
    so.rateHz = options.streamRateHz;
    so.maxBacklogBytes = options.streamMaxBacklogBytes;
    so.hardBacklogBytes = options.streamHardBacklogBytes;
    so.maxClients = options.streamMaxClients;
    so.allowedOrigins = options.allowedOrigins;
    so.adminToken = options.adminToken;
    so.version = QStringLiteral(SLUICE_VERSION);
    so.upstreamKind = options.upstreamKind;
    so.model = options.model;
    m_stream = std::make_unique<MetricsStream>(deps.engine, deps.metrics, deps.drift, deps.loadTests, so);
    // Connected before any request: Qt hands an accepted upgrade over only while
    // this signal has a receiver.
    connect(this, &QAbstractHttpServer::newWebSocketConnection, this, [this] {
        while (std::unique_ptr<QWebSocket> socket = nextPendingWebSocketConnection())
            m_stream->addClient(std::move(socket));
    });
}

GatewayHttpServer::~GatewayHttpServer()
{
    m_poster->detach();
    m_stream.reset(); // before the sockets (children of m_tcp) go
}

void GatewayHttpServer::closeStreams()
{
    if (m_stream)
        m_stream->closeAll();
}

std::shared_ptr<const MetricsStreamCounters> GatewayHttpServer::streamCounters() const
{
    return m_stream->counters();
}

qint64 GatewayHttpServer::flushPendingAnswers(int timeoutMs)
{
    return m_tcp ? m_tcp->flushAll(timeoutMs) : 0;
}

void GatewayHttpServer::setTlsConfiguration(const QSslConfiguration &configuration)
{
    if (m_tcp)
        m_tcp->setTlsConfiguration(configuration);
}

quint16 GatewayHttpServer::listenOn(const QHostAddress &address, quint16 port, const QSslConfiguration *tls, QString *error)
{
    HttpLimits limits;
    limits.maxBodyBytes = m_options.maxBodyBytes;
    limits.maxHeaderBytes = m_options.maxHeaderBytes;
    limits.idleTimeoutMs = m_options.idleTimeoutMs;
    limits.headerTimeoutMs = m_options.headerTimeoutMs;
    limits.listenBacklog = std::max(4096, m_options.listenBacklog);
    limits.bodyTimeoutMs = m_options.bodyTimeoutMs;
    limits.minBodyBytesPerSecond = m_options.minBodyBytesPerSecond;
    limits.maxConnections = m_options.maxConnections;
    limits.memory = m_deps.memory;
    auto *tcp = new HttpLimitsTcpServer(limits, [this](int status, const QString &message) {
        return rawErrorResponse(status, message);
    }, this);
    if (tls)
        tcp->setTlsConfiguration(*tls);
    if (!tcp->listen(address, port)) {
        if (error)
            *error = QStringLiteral("cannot listen on %1:%2: %3").arg(address.toString()).arg(port).arg(tcp->errorString());
        delete tcp;
        return 0;
    }
    m_tcp = tcp;
    bind(tcp);
    // The names a request's Host may carry besides the loopback ones: the
    // bound address, every local address and the host name when bound to
    // any, and what the operator configured.
    const bool anyAddress = address == QHostAddress::Any || address == QHostAddress::AnyIPv4 || address == QHostAddress::AnyIPv6;
    m_allowedHosts.clear();
    m_anyHost = false;
    for (const QString &h : m_options.allowedHosts) {
        if (h == u"*")
            m_anyHost = true;
        m_allowedHosts.insert(hostName(h.toLatin1()).isEmpty() ? h.toLower() : hostName(h.toLatin1()));
    }
    m_allowedHosts.insert(address.toString().toLower());
    if (anyAddress) {
        for (QHostAddress a : QNetworkInterface::allAddresses()) {
            a.setScopeId(QString());
            m_allowedHosts.insert(a.toString().toLower());
        }
        m_allowedHosts.insert(QHostInfo::localHostName().toLower());
    }
    m_selfUrl.setScheme(tls ? QStringLiteral("https") : QStringLiteral("http"));
    const bool any = address == QHostAddress::Any || address == QHostAddress::AnyIPv4 || address == QHostAddress::AnyIPv6;
    m_selfUrl.setHost(any ? QStringLiteral("127.0.0.1") : address.toString());
    m_selfUrl.setPort(tcp->serverPort());
    return tcp->serverPort();
}

void GatewayHttpServer::appendCommonHeaders(QByteArray &out)
{
    const qint64 second = qint64(std::time(nullptr));
    if (second != m_dateSecond) {
        m_dateSecond = second;
        const QDateTime now = QDateTime::fromSecsSinceEpoch(second, Qt::UTC);
        m_dateHeader = "Date: " + QLocale::c().toString(now, QStringLiteral("ddd, dd MMM yyyy hh:mm:ss 'GMT'")).toLatin1()
            + "\r\nServer: sluice/" SLUICE_VERSION "\r\n";
    }
    out += m_dateHeader;
    const EngineGauges g = m_deps.engine ? m_deps.engine->gauges() : EngineGauges{};
    // Written in place: this runs for every answer. No %f: QCoreApplication
    // applies the user's LC_NUMERIC, which may write "0,250".
    const int milli = int(std::lround(std::clamp(g.backpressure, 0.0, 1.0) * 1000.0));
    char line[160];
    const int n = std::snprintf(line, sizeof line,
                                "X-Queue-Depth: %d\r\nX-Queue-Capacity: %d\r\nX-Backpressure: %d.%03d\r\n",
                                g.queueDepth, g.queueCapacity, milli / 1000, milli % 1000);
    out.append(line, qsizetype(std::clamp(n, 0, int(sizeof line) - 1)));
}

void GatewayHttpServer::appendHead(QByteArray &out, const HttpReply &reply, int status, QByteArrayView framing,
                                   bool close, bool keepAlive)
{
    out += "HTTP/1.1 ";
    out += QByteArray::number(status);
    out += ' ';
    out += HttpStatus::reasonPhrase(status);
    out += "\r\nContent-Type: ";
    out += reply.contentType;
    out += "\r\n";
    out += framing;
    appendCommonHeaders(out);
    for (const auto &[k, v] : reply.headers) {
        out += k;
        out += ": ";
        out += v;
        out += "\r\n";
    }
    if (close)
        out += "Connection: close\r\n";
    else if (keepAlive)
        out += "Connection: keep-alive\r\n";
    out += "\r\n";
}

QByteArray GatewayHttpServer::serialize(const HttpReply &reply, int status, bool close, bool withBody, bool keepAlive)
{
    QByteArray out;
    out.reserve(384 + (withBody ? reply.body.size() : 0));
    appendHead(out, reply, status, "Content-Length: " + QByteArray::number(reply.body.size()) + "\r\n", close, keepAlive);
    if (withBody)
        out += reply.body;
    return out;
}

QByteArray GatewayHttpServer::rawErrorResponse(int httpStatus, const QString &message)
{
    StatusCode code = StatusCode::InvalidArgument;
    if (httpStatus == 408)
        code = StatusCode::DeadlineExceeded;
    else if (httpStatus == 503)
        code = StatusCode::Unavailable;
    return rawResponse(ErrorMapping::toReply(Status::error(code, message), httpStatus), QByteArrayLiteral("invalid"));
}

QByteArray GatewayHttpServer::rawResponse(const HttpReply &reply, const QByteArray &route)
{
    ++m_requestCounts[{route, reply.status}];
    return serialize(reply, reply.status, true, true);
}

void GatewayHttpServer::finish(const std::shared_ptr<GatewayExchange> &ex, const HttpReply &reply)
{
    if (ex->written || ex->streaming)
        return;
    ex->written = true;
    if (ex->onDisconnect)
        QObject::disconnect(ex->onDisconnect);
    ++m_requestCounts[{ex->route, reply.status}];
    QTcpSocket *socket = ex->socket.data();
    if (!socket || !m_tcp)
        return;
    // The whole answer in ONE write (one syscall, one TCP segment for small
    // answers), in request order (the filter holds it until the answers
    // before it left). QHttpServerResponder 6.4 would write the status line,
    // the header block and the body separately; its destructor writes
    // nothing, so keeping it unused is safe.
    m_tcp->writeAnswer(socket, ex->sequence,
                       serialize(reply, writableStatus(reply.status), ex->closeAfter, !ex->head, ex->keepAlive10),
                       ex->closeAfter);
}

void GatewayHttpServer::beginStream(const std::shared_ptr<GatewayExchange> &ex, const HttpReply &head,
                                    const QByteArray &firstData)
{
    if (ex->written || ex->streaming)
        return;
    ex->streaming = true; // the disconnect watch stays: a client that leaves mid-stream cancels it
    ++m_requestCounts[{ex->route, head.status}];
    QTcpSocket *socket = ex->socket.data();
    if (!socket || !m_tcp)
        return;
    // HTTP/1.0 has no chunked coding: the body ends when the connection does.
    if (ex->http10)
        ex->closeAfter = true;
    // Proxies (nginx) must pass each event on as it comes.
    HttpReply streamHead = head;
    streamHead.headers.append({QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-cache")});
    streamHead.headers.append({QByteArrayLiteral("X-Accel-Buffering"), QByteArrayLiteral("no")});
    QByteArray out;
    out.reserve(384 + firstData.size());
    appendHead(out, streamHead, head.status, ex->http10 ? QByteArrayView() : QByteArrayView("Transfer-Encoding: chunked\r\n"),
               ex->closeAfter, false);
    if (!ex->head)
        appendChunk(out, firstData, ex->http10);
    m_tcp->writeAnswerPart(socket, ex->sequence, out, false, false);
}

void GatewayHttpServer::appendChunk(QByteArray &out, const QByteArray &data, bool raw)
{
    if (data.isEmpty())
        return;
    if (raw) {
        out += data;
        return;
    }
    out += QByteArray::number(data.size(), 16);
    out += "\r\n";
    out += data;
    out += "\r\n";
}

void GatewayHttpServer::streamData(const std::shared_ptr<GatewayExchange> &ex, const QByteArray &data)
{
    if (!ex->streaming || ex->written || data.isEmpty() || ex->head)
        return;
    QTcpSocket *socket = ex->socket.data();
    if (!socket || !m_tcp)
        return;
    QByteArray out;
    out.reserve(data.size() + 16);
    appendChunk(out, data, ex->http10);
    m_tcp->writeAnswerPart(socket, ex->sequence, out, false, false);
}

void GatewayHttpServer::endStream(const std::shared_ptr<GatewayExchange> &ex, const QByteArray &lastData, bool close)
{
    if (!ex->streaming || ex->written)
        return;
    ex->written = true;
    if (ex->onDisconnect)
        QObject::disconnect(ex->onDisconnect);
    QTcpSocket *socket = ex->socket.data();
    if (!socket || !m_tcp)
        return;
    QByteArray out;
    if (!ex->head) {
        appendChunk(out, lastData, ex->http10);
        if (!ex->http10)
            out += "0\r\n\r\n";
    }
    m_tcp->writeAnswerPart(socket, ex->sequence, out, true, close || ex->closeAfter);
}

void GatewayHttpServer::methodNotAllowed(const std::shared_ptr<GatewayExchange> &ex, const QByteArray &allow)
{
    HttpReply r = ErrorMapping::toReply(
        Status::error(StatusCode::InvalidArgument,
                      QStringLiteral("method not allowed; this route accepts %1").arg(QString::fromLatin1(allow))),
        405);
    r.headers.append({QByteArrayLiteral("Allow"), allow});
    finish(ex, r);
}

void GatewayHttpServer::notFound(const std::shared_ptr<GatewayExchange> &ex, const QString &path)
{
    finish(ex, ErrorMapping::toReply(Status::error(StatusCode::NotFound,
                                                   QStringLiteral("no route for %1").arg(path))));
}

void GatewayHttpServer::refuseUpgrade(const std::shared_ptr<GatewayExchange> &ex, const HttpReply &reply)
{
    ex->closeAfter = true; // Qt closes the connection after a refused upgrade anyway
    m_answeredUpgrade = ex->socket.data();
    finish(ex, reply);
}

bool GatewayHttpServer::streamRequest(const std::shared_ptr<GatewayExchange> &ex, const QHttpServerRequest &request,
                                      QTcpSocket *socket, bool upgrade)
{
    ex->route = QByteArrayLiteral("stream");
    const std::optional<HttpReply> refusal =
        m_stream->refusal(request.method() == QHttpServerRequest::Method::Get, request.headers());
    if (!refusal && upgrade) {
        ++m_requestCounts[{ex->route, 101}];
        ex->written = true; // Qt's QWebSocketServer writes the 101
        // A stream client that stops reading would otherwise let the kernel
        // grow its send buffer to 4 MB (measured: 685 MB of kernel memory for
        // 256 such clients); 64 KiB holds several snapshots.
        socket->setSocketOption(QAbstractSocket::SendBufferSizeSocketOption, 64 * 1024);
        if (m_tcp)
            m_tcp->release(socket);
        return true;
    }
    // refusal() accepts only requests Qt reads as upgrades: the 500 would
    // mean a Qt whose rule differs from the one StreamHandshake follows.
    const HttpReply reply = refusal ? *refusal
                                    : ErrorMapping::toReply(Status::error(StatusCode::Internal,
                                                                          QStringLiteral("the upgrade was not recognized")));
    if (!upgrade) {
        finish(ex, reply);
        return true;
    }
    refuseUpgrade(ex, reply);
    return false;
}

bool GatewayHttpServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    auto ex = std::make_shared<GatewayExchange>(makeResponder(request, socket), socket);
    const HttpLimitsTcpServer::RequestTicket ticket = m_tcp->requestStarted(socket);
    ex->sequence = ticket.sequence;
    ex->closeAfter = ticket.closeAfter;
    ex->keepAlive10 = ticket.http10KeepAlive;
    ex->http10 = ticket.http10;
    ex->arrived = Clock::steady().now();
    const QHttpServerRequest::Method method = request.method();
    ex->head = method == QHttpServerRequest::Method::Head;
    const bool get = method == QHttpServerRequest::Method::Get || ex->head;
    const bool post = method == QHttpServerRequest::Method::Post;

    const QUrl url = request.url();
    const QString path = url.path();
    // Qt's upgrade branch is the only one that calls handleRequest() with the
    // read transaction still open (it rolls it back to let its
    // QWebSocketServer read the head again); the normal branch commits first.
    // So this says exactly what our return value will do, for one flag test
    // per request instead of a header scan.
    const bool upgrade = socket->isTransactionStarted();
    if (const std::optional<HttpReply> refusal = requestRefusal(request, !get)) {
        ex->route = QByteArrayLiteral("refused");
        if (upgrade) {
            refuseUpgrade(ex, *refusal);
            return false;
        }
        finish(ex, *refusal);
        return true;
    }
    if (path == QLatin1String(MetricsStream::kPath))
        return streamRequest(ex, request, socket, upgrade);
    if (upgrade) {
        // RFC 6455 §4.2.1: no WebSocket service here. The route is not run:
        // Qt closes the connection as soon as this returns.
        refuseUpgrade(ex, ErrorMapping::toReply(Status::error(
            StatusCode::NotFound, QStringLiteral("no WebSocket endpoint at %1 (only GET %2 upgrades)")
                                      .arg(path, QLatin1String(MetricsStream::kPath)))));
        return false;
    }
    static const QString kModels = QStringLiteral("/v1beta/models");
    if (path.startsWith(kModels)) {
        if (path.size() == kModels.size() || (path.size() == kModels.size() + 1 && path.endsWith(u'/'))) {
            ex->route = QByteArrayLiteral("listModels");
            if (!get)
                methodNotAllowed(ex, QByteArrayLiteral("GET, HEAD"));
            else
                m_gemini->listModels(ex, url);
            return true;
        }
        if (path.at(kModels.size()) != u'/') {
            notFound(ex, path);
            return true;
        }
        const QStringView rest = QStringView(path).mid(kModels.size() + 1);
        if (rest.contains(u'/') || rest.isEmpty()) {
            notFound(ex, path);
            return true;
        }
        const qsizetype colon = rest.lastIndexOf(u':');
        if (colon < 0) {
            ex->route = QByteArrayLiteral("getModel");
            if (!get)
                methodNotAllowed(ex, QByteArrayLiteral("GET, HEAD"));
            else
                m_gemini->getModel(ex, rest.toString());
            return true;
        }
        const std::optional<Operation> op = operationFromName(rest.mid(colon + 1).toString());
        if (!op || colon == 0) {
            notFound(ex, path);
            return true;
        }
        ex->route = operationName(*op).toLatin1();
        if (!post) {
            methodNotAllowed(ex, QByteArrayLiteral("POST"));
            return true;
        }
        m_gemini->modelCall(ex, request, rest.left(colon).toString(), *op, url);
        return true;
    }
    static const QString kBatches = QStringLiteral("/v1beta/batches/");
    if (path.startsWith(kBatches)) {
        const QString id = path.mid(kBatches.size());
        if (id.isEmpty() || id.contains(u'/') || id.contains(u':')) {
            notFound(ex, path);
            return true;
        }
        ex->route = QByteArrayLiteral("getBatch");
        if (!get)
            methodNotAllowed(ex, QByteArrayLiteral("GET, HEAD"));
        else
            m_gemini->getBatch(ex, request, id, url);
        return true;
    }
    if (path == u"/health" || path == u"/metrics" || path == u"/api/v1/stats") {
        ex->route = path == u"/health" ? QByteArrayLiteral("health")
                  : path == u"/metrics" ? QByteArrayLiteral("metrics") : QByteArrayLiteral("stats");
        if (!get) {
            methodNotAllowed(ex, QByteArrayLiteral("GET, HEAD"));
            return true;
        }
        if (ex->route == "health")
            m_ops->health(ex);
        else if (ex->route == "metrics")
            m_ops->metrics(ex);
        else
            m_ops->stats(ex);
        return true;
    }
    if (path == u"/api/v1/config") {
        ex->route = QByteArrayLiteral("config");
        if (get)
            m_ops->getConfig(ex);
        else if (method == QHttpServerRequest::Method::Patch)
            m_ops->patchConfig(ex, request);
        else
            methodNotAllowed(ex, QByteArrayLiteral("GET, HEAD, PATCH"));
        return true;
    }
    if (path == u"/" || path == u"/index.html" || path.startsWith(u"/assets/")) {
        ex->route = QByteArrayLiteral("dashboard");
        if (!get)
            methodNotAllowed(ex, QByteArrayLiteral("GET, HEAD"));
        else
            finish(ex, m_dashboard->reply(path, request.value(QByteArrayLiteral("if-none-match"))));
        return true;
    }
    static const QString kLoadTests = QStringLiteral("/api/v1/loadtests");
    if (path == kLoadTests) {
        ex->route = QByteArrayLiteral("loadtests");
        if (post)
            m_ops->postLoadTest(ex, request);
        else
            methodNotAllowed(ex, QByteArrayLiteral("POST"));
        return true;
    }
    if (path.startsWith(kLoadTests + u'/') && path.size() > kLoadTests.size() + 1
        && !QStringView(path).mid(kLoadTests.size() + 1).contains(u'/')) {
        ex->route = QByteArrayLiteral("loadtest");
        const QString id = path.mid(kLoadTests.size() + 1);
        if (get)
            m_ops->getLoadTest(ex, id);
        else if (method == QHttpServerRequest::Method::Delete)
            m_ops->deleteLoadTest(ex, request, id);
        else
            methodNotAllowed(ex, QByteArrayLiteral("GET, HEAD, DELETE"));
        return true;
    }
    if (path == u"/api/v1/baseline") {
        ex->route = QByteArrayLiteral("baseline");
        if (get)
            m_ops->getBaseline(ex);
        else if (method == QHttpServerRequest::Method::Put)
            m_ops->putBaseline(ex, request);
        else
            methodNotAllowed(ex, QByteArrayLiteral("GET, HEAD, PUT"));
        return true;
    }
    notFound(ex, path);
    return true;
}

void GatewayHttpServer::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    // Qt calls this right after handleRequest() returned false, which it does
    // only for an upgrade request it already answered.
    if (socket == m_answeredUpgrade) {
        m_answeredUpgrade = nullptr;
        return;
    }
    auto ex = std::make_shared<GatewayExchange>(makeResponder(request, socket), socket);
    ex->sequence = m_tcp->requestStarted(socket).sequence;
    notFound(ex, request.url().path());
}
