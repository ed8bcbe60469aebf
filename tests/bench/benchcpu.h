#pragma once

#include <QByteArrayView>

// CPU time readers shared by the benchmark programs (Linux /proc, getrusage).
// Thread: any; each call reads the kernel's counters afresh.
namespace BenchCpu {

// utime + stime of the whole process so far, in seconds.
double processSeconds();

// utime + stime of every thread whose name (/proc/self/task/*/comm, at most
// 15 characters) starts with `prefix`, in seconds: "sluice-upstream"
// counts sluice-upstream-0, -1, ...
double threadSeconds(QByteArrayView prefix);

} // namespace BenchCpu
