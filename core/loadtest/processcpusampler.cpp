#include "core/loadtest/processcpusampler.h"

#include <QFile>

#include <unistd.h>

namespace {

QByteArray readSmallFile(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    // /proc files report size 0: read until the end rather than by size.
    return f.read(4096);
}

} // namespace

std::optional<double> ProcessCpuSampler::parseProcessStat(const QByteArray &stat, double ticksPerSecond)
{
    // "pid (comm) state ppid ..." where comm may contain anything: fields are
    // counted after the last ')'. utime and stime are fields 14 and 15.
    const qsizetype close = stat.lastIndexOf(')');
    if (close < 0 || ticksPerSecond <= 0)
        return std::nullopt;
    const QList<QByteArray> fields = stat.mid(close + 1).simplified().split(' ');
    constexpr int kUtime = 14 - 3, kStime = 15 - 3; // field 3 (state) is the first after ')'
    if (fields.size() <= kStime)
        return std::nullopt;
    bool okU = false, okS = false;
    const qulonglong utime = fields.at(kUtime).toULongLong(&okU);
    const qulonglong stime = fields.at(kStime).toULongLong(&okS);
    if (!okU || !okS)
        return std::nullopt;
    return double(utime + stime) / ticksPerSecond;
}

bool ProcessCpuSampler::parseMachineStat(const QByteArray &stat, quint64 *busyTicks, quint64 *totalTicks)
{
    const qsizetype eol = stat.indexOf('\n');
    const QList<QByteArray> fields = stat.left(eol < 0 ? stat.size() : eol).simplified().split(' ');
    if (fields.size() < 5 || fields.at(0) != "cpu")
        return false;
    quint64 total = 0, idle = 0;
    // user nice system idle iowait irq softirq steal; guest time is already in user.
    for (int i = 1; i < fields.size() && i <= 8; ++i) {
        bool ok = false;
        const quint64 v = fields.at(i).toULongLong(&ok);
        if (!ok)
            return false;
        total += v;
        if (i == 4 || i == 5)
            idle += v;
    }
    *busyTicks = total - idle;
    *totalTicks = total;
    return true;
}

double ProcessCpuSampler::ticksPerSecond()
{
    static const double ticks = [] {
        const long t = ::sysconf(_SC_CLK_TCK);
        return t > 0 ? double(t) : 100.0;
    }();
    return ticks;
}

CpuReading ProcessCpuSampler::read(const QList<ProcessCpuTime> &processes, double now)
{
    CpuReading r;
    r.time = now;
    for (const ProcessCpuTime &p : processes) {
        const std::optional<double> seconds =
            parseProcessStat(readSmallFile(QStringLiteral("/proc/%1/stat").arg(p.pid)), ticksPerSecond());
        if (!seconds)
            continue;
        ProcessCpuTime t = p;
        t.cpuSeconds = *seconds;
        r.processes << t;
    }
    parseMachineStat(readSmallFile(QStringLiteral("/proc/stat")), &r.machineBusyTicks, &r.machineTotalTicks);
    return r;
}
