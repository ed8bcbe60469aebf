#include "server/simulator/geminisimulator.h"

#include "server/simulator/simulatorserver.h"

#include <QThread>

GeminiSimulator::GeminiSimulator(const SimulatorConfig &config, QObject *parent)
    : QObject(parent), m_shared(std::make_shared<SimulatorShared>())
{
    m_shared->config = config;
}

GeminiSimulator::~GeminiSimulator()
{
    stop();
}

bool GeminiSimulator::start(const QHostAddress &address, quint16 port)
{
    if (m_thread) {
        m_error = QStringLiteral("already running");
        return false;
    }
    const SimulatorConfig::Error e = config().validate();
    if (!e.isNull()) {
        m_error = QStringLiteral("invalid simulator config: ") + e.toString();
        return false;
    }
    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("sluice-simulator"));
    m_server = new SimulatorServer(m_shared);
    m_server->moveToThread(m_thread);
    connect(m_thread, &QThread::finished, m_server, &QObject::deleteLater);
    m_thread->start();

    bool ok = false;
    QString error;
    quint16 bound = 0;
    SimulatorServer *server = m_server;
    QMetaObject::invokeMethod(
        server, [&] { ok = server->listen(address, port, &error, &bound); }, Qt::BlockingQueuedConnection);
    if (!ok) {
        stop();
        m_error = error;
        return false;
    }
    {
        QMutexLocker lock(&m_shared->mutex);
        m_address = address;
        m_port = bound;
    }
    return true;
}

void GeminiSimulator::stop()
{
    if (!m_thread)
        return;
    SimulatorServer *server = m_server;
    QMetaObject::invokeMethod(server, [server] { server->shutdown(); }, Qt::BlockingQueuedConnection);
    m_thread->quit();
    m_thread->wait();
    delete m_thread;
    m_thread = nullptr;
    m_server = nullptr;
    QMutexLocker lock(&m_shared->mutex);
    m_port = 0;
}

bool GeminiSimulator::isRunning() const
{
    QMutexLocker lock(&m_shared->mutex);
    return m_port != 0;
}

quint16 GeminiSimulator::port() const
{
    QMutexLocker lock(&m_shared->mutex);
    return m_port;
}

QUrl GeminiSimulator::baseUrl() const
{
    QMutexLocker lock(&m_shared->mutex);
    QUrl url;
    url.setScheme(QStringLiteral("http"));
    url.setHost(m_address.isNull() || m_address == QHostAddress::Any || m_address == QHostAddress::AnyIPv4
                    ? QStringLiteral("127.0.0.1")
                    : m_address.toString());
    url.setPort(m_port);
    return url;
}

QString GeminiSimulator::errorString() const
{
    return m_error;
}

SimulatorConfig GeminiSimulator::config() const
{
    QMutexLocker lock(&m_shared->mutex);
    return m_shared->config;
}

SimulatorConfig::Error GeminiSimulator::setConfig(const SimulatorConfig &config)
{
    const SimulatorConfig::Error e = config.validate();
    if (!e.isNull())
        return e;
    {
        QMutexLocker lock(&m_shared->mutex);
        m_shared->config = config;
    }
    SimulatorServer *server = m_server;
    if (server) {
        // Blocking, so a request sent after setConfig() returns sees the new config.
        const auto type = QThread::currentThread() == m_thread ? Qt::DirectConnection : Qt::BlockingQueuedConnection;
        QMetaObject::invokeMethod(server, [server, config] { server->applyConfig(config); }, type);
    }
    return {};
}

SimulatorStats GeminiSimulator::stats() const
{
    QMutexLocker lock(&m_shared->mutex);
    return m_shared->stats;
}

void GeminiSimulator::resetStats()
{
    QMutexLocker lock(&m_shared->mutex);
    SimulatorStats fresh;
    fresh.inFlight = m_shared->stats.inFlight;
    fresh.queued = m_shared->stats.queued;
    fresh.openConnections = m_shared->stats.openConnections;
    fresh.batchJobsPending = m_shared->stats.batchJobsPending;
    fresh.batchJobsRunning = m_shared->stats.batchJobsRunning;
    m_shared->stats = fresh;
}
