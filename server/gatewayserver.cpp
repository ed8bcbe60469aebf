#include "server/gatewayserver.h"

#include "server/gatewayhttpserver.h"
#include "server/http/tlsfiles.h"
#include "server/stream/metricsstream.h"

#include <QThread>

namespace {

// Runs `fn` on `thread` and waits for it (never call from that thread).
template <typename F>
void runOn(QThread *thread, F fn)
{
    QObject context;
    context.moveToThread(thread);
    QMetaObject::invokeMethod(&context, [&] {
        fn();
        context.moveToThread(nullptr);
    }, Qt::BlockingQueuedConnection);
}

} // namespace

GatewayServer::GatewayServer(const GatewayDeps &deps, const GatewayOptions &options, QObject *parent)
    : QObject(parent), m_deps(deps), m_options(options)
{
}

GatewayServer::~GatewayServer()
{
    stop();
}

bool GatewayServer::start(QString *error)
{
    std::lock_guard lock(m_mutex);
    auto fail = [error](const QString &message) {
        if (error)
            *error = message;
        return false;
    };
    if (m_thread)
        return fail(QStringLiteral("the gateway is already running"));
    if (!m_deps.engine || !m_deps.client)
        return fail(QStringLiteral("the gateway needs an engine and an upstream client"));
    const QString host = m_options.host.isEmpty() ? QStringLiteral("127.0.0.1") : m_options.host;
    QHostAddress address;
    if (host == QLatin1String("localhost"))
        address = QHostAddress(QHostAddress::LocalHost);
    else if (!address.setAddress(host))
        return fail(QStringLiteral("--host %1 is not an IP address").arg(host));
    if (!address.isLoopback() && m_options.adminToken.isEmpty())
        return fail(QStringLiteral("refusing to listen on non-loopback address %1 without an admin token "
                                   "(set --admin-token or SLUICE_ADMIN_TOKEN)")
                        .arg(host));
    const bool tls = !m_options.tlsCertificateFile.isEmpty() || !m_options.tlsKeyFile.isEmpty();
    if (tls && (m_options.tlsCertificateFile.isEmpty() || m_options.tlsKeyFile.isEmpty()))
        return fail(QStringLiteral("TLS needs both a certificate (--tls-cert) and its key (--tls-key)"));
    if (!address.isLoopback() && !tls && !m_options.insecurePlaintext)
        return fail(QStringLiteral("refusing to serve plain HTTP on non-loopback address %1: agents' API keys and the admin "
                                   "token would cross the network in clear. Give --tls-cert and --tls-key, or "
                                   "--insecure-plaintext when TLS ends at a proxy in front of Sluice")
                        .arg(host));
    QSslConfiguration tlsConfiguration;
    if (tls) {
        QString tlsError;
        if (!TlsFiles::load(m_options.tlsCertificateFile, m_options.tlsKeyFile, &tlsConfiguration, &tlsError))
            return fail(tlsError);
    }
    if (m_options.maxBodyBytes <= 0 || m_options.maxHeaderBytes <= 0 || m_options.idleTimeoutMs <= 0
        || m_options.headerTimeoutMs <= 0)
        return fail(QStringLiteral("gateway limits must be positive"));

    auto *thread = new QThread;
    thread->setObjectName(QStringLiteral("sluice-server"));
    thread->start();
    GatewayHttpServer *server = nullptr;
    quint16 port = 0;
    QString listenError;
    runOn(thread, [&] {
        server = new GatewayHttpServer(m_deps, m_options);
        port = server->listenOn(address, m_options.port, tls ? &tlsConfiguration : nullptr, &listenError);
        if (!port) {
            delete server;
            server = nullptr;
        }
    });
    if (!server) {
        thread->quit();
        thread->wait();
        delete thread;
        return fail(listenError);
    }
    m_thread = thread;
    m_server = server;
    m_streamCounters = server->streamCounters();
    QUrl url;
    url.setScheme(tls ? QStringLiteral("https") : QStringLiteral("http"));
    url.setHost(address.toString());
    url.setPort(port);
    m_url = url;
    return true;
}

bool GatewayServer::reloadTls(QString *error)
{
    std::lock_guard lock(m_mutex);
    if (!m_thread || m_options.tlsCertificateFile.isEmpty()) {
        *error = QStringLiteral("TLS is not configured (--tls-cert, --tls-key)");
        return false;
    }
    QSslConfiguration configuration;
    if (!TlsFiles::load(m_options.tlsCertificateFile, m_options.tlsKeyFile, &configuration, error))
        return false;
    GatewayHttpServer *server = m_server;
    runOn(m_thread, [server, configuration] { server->setTlsConfiguration(configuration); });
    return true;
}

void GatewayServer::stop()
{
    std::lock_guard lock(m_mutex);
    if (!m_thread)
        return;
    GatewayHttpServer *server = m_server;
    // Runs on the server thread after every completion already posted to it
    // (posted events are handled in order), so answers the engine finished
    // before stop() are written and flushed, then the server is destroyed on
    // its own thread: it closes every socket and drops late completions.
    runOn(m_thread, [server] {
        server->closeStreams(); // close 1001 to stream clients before the final flush
        if (const qint64 unsent = server->flushPendingAnswers(1000))
            qWarning("sluice.server: %lld bytes of answers could not be sent before shutdown", unsent);
        delete server;
    });
    m_thread->quit();
    m_thread->wait();
    delete m_thread;
    m_thread = nullptr;
    m_server = nullptr;
    m_url = QUrl();
}

bool GatewayServer::isRunning() const
{
    std::lock_guard lock(m_mutex);
    return m_thread != nullptr;
}

std::shared_ptr<const MetricsStreamCounters> GatewayServer::streamCounters() const
{
    std::lock_guard lock(m_mutex);
    return m_streamCounters;
}

QUrl GatewayServer::url() const
{
    std::lock_guard lock(m_mutex);
    return m_url;
}
