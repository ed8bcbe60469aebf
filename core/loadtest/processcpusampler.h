#pragma once

#include <QByteArray>
#include <QList>

#include <optional>

// CPU time of the load generator's processes and of the whole machine, read
// from Linux's /proc: utime + stime of /proc/<pid>/stat, and the first line
// of /proc/stat. Two readings a few seconds apart give each process's share
// of a core and the machine's busy fraction over that time (LoadSampleLog).
//
// Why: one Locust process is one Python thread (gevent), about 1.5k req/s
// against a stub here; once it is near a full core its users wait for it,
// not for the gateway, and a knee found there is the generator's.
//
// Thread: plain functions and values; thread-safe.

struct ProcessCpuTime {
    qint64 pid = 0;
    int role = 0;               // LocustProcessRole: 0 single, 1 master, 2 worker
    double cpuSeconds = 0;      // utime + stime since the process started
};

struct CpuReading {
    double time = 0;            // seconds since the epoch, when read
    QList<ProcessCpuTime> processes;  // those still running
    quint64 machineBusyTicks = 0;     // all cores, clock ticks, since boot
    quint64 machineTotalTicks = 0;
};

class ProcessCpuSampler
{
public:
    // utime + stime in seconds from the text of /proc/<pid>/stat; nullopt
    // when it is not that format (the process name may hold spaces and ')').
    static std::optional<double> parseProcessStat(const QByteArray &stat, double ticksPerSecond);
    // Busy and total ticks from the text of /proc/stat ("cpu  user nice
    // system idle iowait irq softirq steal ..."); idle and iowait are not busy.
    static bool parseMachineStat(const QByteArray &stat, quint64 *busyTicks, quint64 *totalTicks);

    // Reads /proc now. A process that has gone is left out.
    static CpuReading read(const QList<ProcessCpuTime> &processes, double now);
    static double ticksPerSecond();
};
