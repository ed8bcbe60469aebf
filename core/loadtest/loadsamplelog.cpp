#include "core/loadtest/loadsamplelog.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>

bool LocustSample::fromJsonLine(const QByteArray &line, LocustSample *out, QString *error)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(line, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        *error = QStringLiteral("not a JSON object: %1").arg(pe.errorString());
        return false;
    }
    const QJsonObject o = doc.object();
    const QJsonValue t = o.value(QStringLiteral("t"));
    if (!t.isDouble() || t.toDouble() <= 0) {
        *error = QStringLiteral("\"t\" must be a positive number");
        return false;
    }
    LocustSample s;
    s.time = t.toDouble();
    s.users = o.value(QStringLiteral("users")).toInt();
    s.targetUsers = o.value(QStringLiteral("target")).toInt(-1);
    s.workers = o.value(QStringLiteral("workers")).toInt();
    s.requests = quint64(std::max(0.0, o.value(QStringLiteral("requests")).toDouble()));
    s.failures = quint64(std::max(0.0, o.value(QStringLiteral("failures")).toDouble()));
    for (const QJsonValue &v : o.value(QStringLiteral("perSecond")).toArray()) {
        const QJsonArray a = v.toArray();
        if (a.size() < 3)
            continue;
        s.perSecond.append({qint64(a.at(0).toDouble()), quint64(std::max(0.0, a.at(1).toDouble())),
                            quint64(std::max(0.0, a.at(2).toDouble()))});
    }
    for (const QJsonValue &v : o.value(QStringLiteral("rt")).toArray()) {
        const QJsonArray a = v.toArray();
        if (a.size() < 2 || a.at(1).toDouble() <= 0)
            continue;
        s.responseTimes.append({a.at(0).toInt(), quint64(a.at(1).toDouble())});
    }
    *out = s;
    return true;
}

void LoadSampleLog::clear()
{
    m_samples.clear();
    m_seconds.clear();
    m_cpu.clear();
}

void LoadSampleLog::add(const LocustSample &sample)
{
    m_samples << sample;
    for (const LocustSample::Second &s : sample.perSecond)
        m_seconds.insert(s.second, s);
}

void LoadSampleLog::addCpu(const CpuReading &reading)
{
    m_cpu << reading;
}

double LoadSampleLog::settledUntil() const
{
    if (m_samples.isEmpty())
        return 0;
    return std::floor(m_samples.constLast().time) - (m_lag - 1);
}

double LoadSampleLog::percentile(const QMap<int, quint64> &histogram, double q)
{
    quint64 total = 0;
    for (quint64 c : histogram)
        total += c;
    if (total == 0)
        return 0;
    // The smallest value with at least q of the samples at or below it.
    const double rank = std::max(1.0, std::ceil(q * double(total)));
    quint64 seen = 0;
    for (auto it = histogram.begin(); it != histogram.end(); ++it) {
        seen += it.value();
        if (double(seen) >= rank)
            return it.key();
    }
    return histogram.lastKey();
}

WindowFigures LoadSampleLog::window(double from, double to) const
{
    WindowFigures w;
    w.from = std::ceil(from);
    w.to = std::max(w.from, std::floor(to));
    w.seconds = w.to - w.from;
    for (auto it = m_seconds.lowerBound(qint64(w.from)); it != m_seconds.end() && it.key() < qint64(w.to); ++it) {
        w.requests += it->requests;
        w.failures += it->failures;
    }
    if (w.seconds > 0) {
        w.offeredRps = double(w.requests) / w.seconds;
        w.achievedRps = double(w.requests - std::min(w.failures, w.requests)) / w.seconds;
    }
    w.errorRate = w.requests > 0 ? double(w.failures) / double(w.requests) : 0.0;

    // A line holds what reached the writing process during the second before
    // it; on a master that is up to a report interval after the request ended.
    const double shift = m_lag - 0.5;
    QMap<int, quint64> histogram;
    for (const LocustSample &s : m_samples) {
        if (s.time <= w.from + shift || s.time > w.to + shift)
            continue;
        for (const auto &[ms, count] : s.responseTimes) {
            histogram[ms] += count;
            w.latencySamples += count;
        }
    }
    w.p50Ms = percentile(histogram, 0.50);
    w.p95Ms = percentile(histogram, 0.95);
    w.p99Ms = percentile(histogram, 0.99);
    w.generator = generator(w.from, w.to);
    return w;
}

std::optional<BaselineGenerator> LoadSampleLog::generator(double from, double to) const
{
    if (m_cpu.size() < 2)
        return std::nullopt;
    // The last reading at or before each end (the first one when the window starts before them).
    const auto atOrBefore = [this](double t) {
        int best = 0;
        for (int i = 0; i < m_cpu.size(); ++i)
            if (m_cpu.at(i).time <= t + 0.25)
                best = i;
        return best;
    };
    const int ia = atOrBefore(from);
    const int ib = atOrBefore(to);
    const CpuReading &a = m_cpu.at(ia);
    const CpuReading &b = m_cpu.at(ib);
    if (b.time - a.time < 0.5)
        return std::nullopt;
    // Each process from the first reading to its last one in the window: at
    // the end of a run the workers quit a moment before the master.
    struct Span {
        int role = 0;
        double fromSeconds = 0, toSeconds = 0, fromTime = 0, toTime = 0;
    };
    QHash<qint64, Span> spans;
    for (const ProcessCpuTime &p : a.processes)
        spans.insert(p.pid, {p.role, p.cpuSeconds, p.cpuSeconds, a.time, a.time});
    for (int i = ia + 1; i <= ib; ++i) {
        for (const ProcessCpuTime &p : m_cpu.at(i).processes) {
            const auto it = spans.find(p.pid);
            if (it != spans.end()) {
                it->toSeconds = p.cpuSeconds;
                it->toTime = m_cpu.at(i).time;
            }
        }
    }
    BaselineGenerator g;
    for (const Span &span : std::as_const(spans)) {
        const double dt = span.toTime - span.fromTime;
        if (dt < 0.5)
            continue;
        const double cores = std::max(0.0, span.toSeconds - span.fromSeconds) / dt;
        ++g.processes;
        if (span.role == int(LocustProcessRole::Worker))
            ++g.workers;
        g.cpuCores += cores;
        g.busiestCores = std::max(g.busiestCores, cores);
    }
    if (g.processes == 0)
        return std::nullopt;
    if (b.machineTotalTicks > a.machineTotalTicks)
        g.machineBusy = double(b.machineBusyTicks - std::min(b.machineBusyTicks, a.machineBusyTicks))
                        / double(b.machineTotalTicks - a.machineTotalTicks);
    g.machineCores = m_machineCores;
    g.bound = isBound(g);
    return g;
}

bool LoadSampleLog::isBound(const BaselineGenerator &g)
{
    return g.busiestCores >= kSaturatedCore || (g.machineCores > 0 && g.cpuCores >= kSaturatedCore * g.machineCores);
}
