#pragma once

#include <QObject>

class QSocketNotifier;

// Turns SIGINT/SIGTERM/SIGHUP into a Qt signal without calling Qt from the handler:
// the handler only write()s the signal number to a socketpair (self-pipe);
// a QSocketNotifier reads it on the owning thread's event loop.
//
// Thread: main thread; one instance per process.
class UnixSignalWatcher : public QObject
{
    Q_OBJECT
public:
    explicit UnixSignalWatcher(QObject *parent = nullptr);
    ~UnixSignalWatcher() override; // restores the default handlers

    bool isValid() const { return m_notifier != nullptr; }

signals:
    void signalReceived(int signo);

private:
    int m_fds[2] = {-1, -1};
    QSocketNotifier *m_notifier = nullptr;
};
