#pragma once

// A redis-server child process of a test's or benchmark's own, on
// 127.0.0.1 and a free port, without persistence: start() waits until it
// accepts connections; kill() (SIGKILL, by its PID through QProcess: what a
// crash does) or scope exit ends it; start() again on the same port is a
// restarted, empty Redis with a new run_id.
#include "core/quota/redisconnection.h"

#include <QByteArray>
#include <QDeadlineTimer>
#include <QHostAddress>
#include <QProcess>
#include <QString>
#include <QTcpServer>

#include <memory>

class RedisServer
{
public:
    static constexpr const char *kBinary = "/usr/bin/redis-server";

    ~RedisServer() { kill(); }

    static quint16 freePort()
    {
        QTcpServer probe;
        if (!probe.listen(QHostAddress::LocalHost, 0))
            return 0;
        const quint16 port = probe.serverPort();
        probe.close();
        return port;
    }

    // port 0: a free one.
    bool start(quint16 port, QString *why)
    {
        kill();
        m_port = port ? port : freePort();
        m_proc = std::make_unique<QProcess>();
        m_proc->setProcessChannelMode(QProcess::MergedChannels);
        m_proc->start(QString::fromLatin1(kBinary),
                      {QStringLiteral("--port"), QString::number(m_port), QStringLiteral("--bind"),
                       QStringLiteral("127.0.0.1"), QStringLiteral("--save"), QString(), QStringLiteral("--appendonly"),
                       QStringLiteral("no")});
        if (!m_proc->waitForStarted(5000)) {
            *why = QStringLiteral("redis-server did not start (%1): apt-get install redis-server").arg(m_proc->errorString());
            return false;
        }
        QByteArray out;
        QDeadlineTimer deadline(15000);
        while (!deadline.hasExpired()) {
            m_proc->waitForReadyRead(100);
            out += m_proc->readAll();
            if (out.contains("Ready to accept connections"))
                return true;
            if (m_proc->state() != QProcess::Running)
                break;
        }
        *why = QStringLiteral("redis-server on port %1 was not ready: %2").arg(m_port).arg(QString::fromUtf8(out.right(800)));
        kill();
        return false;
    }

    void kill()
    {
        if (m_proc && m_proc->state() != QProcess::NotRunning) {
            m_proc->kill();
            m_proc->waitForFinished(5000);
        }
        m_proc.reset();
    }

    quint16 port() const { return m_port; }
    RedisUrl url() const
    {
        RedisUrl url;
        url.host = QStringLiteral("127.0.0.1");
        url.port = m_port;
        return url;
    }

private:
    std::unique_ptr<QProcess> m_proc;
    quint16 m_port = 0;
};
