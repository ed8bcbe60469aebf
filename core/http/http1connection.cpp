#include "core/http/http1connection.h"

#include <QHostAddress>
#include <QNetworkProxy>
#include <QTcpSocket>

QByteArray Http1Connection::Response::header(QByteArrayView lowerName) const
{
    for (const auto &h : headers) {
        if (h.first == lowerName)
            return h.second;
    }
    return {};
}

Http1Connection::Http1Connection(const QString &host, quint16 port, Http1ResponseParser::Limits limits,
                                 Listener *listener, QObject *parent)
    : QObject(parent),
      m_socket(new QTcpSocket(this)),
      m_listener(listener),
      m_host(host),
      m_port(port),
      m_parser(limits)
{
    const bool v6 = QHostAddress(host).protocol() == QAbstractSocket::IPv6Protocol;
    m_peerName = (v6 ? QLatin1Char('[') + host + QLatin1Char(']') : host) + QLatin1Char(':') + QString::number(port);
    // A direct connection to a local upstream; an environment proxy must not apply.
    m_socket->setProxy(QNetworkProxy::NoProxy);
    connect(m_socket, &QTcpSocket::connected, this, &Http1Connection::onConnected);
    connect(m_socket, &QTcpSocket::readyRead, this, &Http1Connection::onReadyRead);
    connect(m_socket, &QTcpSocket::errorOccurred, this, &Http1Connection::onSocketError);
    connect(m_socket, &QTcpSocket::disconnected, this, &Http1Connection::onDisconnected);
}

Http1Connection::~Http1Connection()
{
    closeSocket();
}

void Http1Connection::send(const QByteArray &request, bool streamBody)
{
    Q_ASSERT(!m_busy && !m_closed);
    m_parser.reset();
    m_busy = true;
    m_stream = streamBody;
    m_staleReuseFailure = false;
    m_inSend = true;
    if (m_socket->state() == QAbstractSocket::UnconnectedState)
        m_socket->connectToHost(m_host, m_port);
    // Written while connecting, QTcpSocket buffers the bytes and sends them
    // once connected; on an open connection flush() sends them now rather
    // than at the next write notification.
    if (!m_closed) {
        m_socket->write(request);
        if (m_socket->state() == QAbstractSocket::ConnectedState)
            m_socket->flush();
    }
    m_inSend = false;
    if (m_hasDeferredFailure)
        QMetaObject::invokeMethod(this, &Http1Connection::deliverDeferredFailure, Qt::QueuedConnection);
}

void Http1Connection::abort()
{
    m_busy = false;
    m_hasDeferredFailure = false;
    closeSocket();
}

void Http1Connection::onConnected()
{
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
}

void Http1Connection::onReadyRead()
{
    if (m_closed)
        return;
    if (!m_busy) {
        // Bytes nobody asked for (e.g. a 408 before the server closes): not reusable.
        closeIdle();
        return;
    }
    const QByteArray data = m_socket->readAll();
    const auto progress = m_parser.feed(data);
    if (m_stream && m_parser.headersComplete() && m_parser.statusCode() / 100 == 2) {
        QByteArray bytes = m_parser.takeBody();
        if (!bytes.isEmpty())
            m_listener->http1BodyReceived(this, std::move(bytes));
        if (m_closed || !m_busy)
            return;
    }
    if (progress == Http1ResponseParser::Progress::Complete)
        completeExchange();
    else if (progress == Http1ResponseParser::Progress::Error)
        failExchange(QStringLiteral("%1 from %2").arg(m_parser.errorString(), m_peerName));
}

void Http1Connection::onSocketError(QAbstractSocket::SocketError error)
{
    if (error == QAbstractSocket::RemoteHostClosedError) {
        onDisconnected();
        return;
    }
    if (m_closed)
        return;
    if (!m_busy) {
        closeIdle();
        return;
    }
    failExchange(describe(error));
}

void Http1Connection::onDisconnected()
{
    if (m_closed)
        return;
    if (!m_busy) {
        closeIdle();
        return;
    }
    // Bytes that arrived with the close may still be buffered.
    if (m_socket->bytesAvailable() > 0) {
        onReadyRead();
        if (m_closed || !m_busy)
            return;
    }
    if (m_parser.finish() == Http1ResponseParser::Progress::Complete) {
        if (m_stream && m_parser.statusCode() / 100 == 2) {
            QByteArray bytes = m_parser.takeBody();
            if (!bytes.isEmpty())
                m_listener->http1BodyReceived(this, std::move(bytes));
            if (m_closed || !m_busy)
                return;
        }
        completeExchange();
        return;
    }
    failExchange(describe(QAbstractSocket::RemoteHostClosedError));
}

void Http1Connection::completeExchange()
{
    Response r;
    r.status = m_parser.statusCode();
    r.headers = m_parser.headers();
    r.body = m_parser.takeBody();
    const bool reusable = m_parser.keepAlive() && m_parser.excessBytes() == 0;
    m_busy = false;
    ++m_completed;
    if (reusable)
        m_idleSince = std::chrono::steady_clock::now();
    else
        closeSocket();
    m_listener->http1ResponseReceived(this, std::move(r));
}

void Http1Connection::failExchange(const QString &message)
{
    m_staleReuseFailure = m_completed > 0 && !m_parser.receivedAnything();
    closeSocket();
    if (m_inSend) {
        m_hasDeferredFailure = true;
        m_deferredFailure = message;
        return;
    }
    m_busy = false;
    m_listener->http1ExchangeFailed(this, message);
}

void Http1Connection::deliverDeferredFailure()
{
    if (!m_hasDeferredFailure)
        return; // aborted meanwhile
    m_hasDeferredFailure = false;
    m_busy = false;
    m_listener->http1ExchangeFailed(this, std::exchange(m_deferredFailure, {}));
}

void Http1Connection::closeIdle()
{
    closeSocket();
    m_listener->http1IdleClosed(this);
}

void Http1Connection::closeSocket()
{
    if (m_closed)
        return;
    m_closed = true;
    // No more signals from it: abort() would emit disconnected() synchronously.
    QObject::disconnect(m_socket, nullptr, this, nullptr);
    m_socket->abort();
}

QString Http1Connection::describe(QAbstractSocket::SocketError error) const
{
    switch (error) {
    case QAbstractSocket::ConnectionRefusedError:
        return QStringLiteral("connection refused by %1").arg(m_peerName);
    case QAbstractSocket::RemoteHostClosedError:
        return m_parser.receivedAnything()
                   ? QStringLiteral("connection closed by %1 before the response was complete").arg(m_peerName)
                   : QStringLiteral("connection closed by %1 without a response").arg(m_peerName);
    case QAbstractSocket::HostNotFoundError:
        return QStringLiteral("host %1 not found").arg(m_host);
    case QAbstractSocket::SocketTimeoutError:
        return QStringLiteral("connection to %1 timed out").arg(m_peerName);
    default:
        return QStringLiteral("%1 (%2)").arg(m_socket->errorString(), m_peerName);
    }
}
