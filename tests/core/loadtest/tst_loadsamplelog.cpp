// LoadSampleLog: the locustfile's per-second sample lines read back, windows
// measured over them (whole seconds, the latest count of a second wins, the
// response times of the window), and the load generator's CPU between two
// readings with the load-generator-bound rule.
#include "core/loadtest/loadsamplelog.h"

#include <QTest>

namespace {

LocustSample sample(double t, int users, QList<LocustSample::Second> perSecond, QList<QPair<int, quint64>> rt = {})
{
    LocustSample s;
    s.time = t;
    s.users = users;
    s.perSecond = perSecond;
    s.responseTimes = rt;
    return s;
}

CpuReading reading(double t, QList<ProcessCpuTime> processes, quint64 busy, quint64 total)
{
    CpuReading r;
    r.time = t;
    r.processes = processes;
    r.machineBusyTicks = busy;
    r.machineTotalTicks = total;
    return r;
}

} // namespace

class TestLoadSampleLog : public QObject
{
    Q_OBJECT
private slots:
    void parsesTheLocustfilesLine()
    {
        const QByteArray line = R"({"t":1796436906.021,"users":8,"target":8,"workers":1,"requests":38,"failures":2,)"
                                R"("perSecond":[[1796436904,4,0],[1796436905,9,1]],"rt":[[790,1],[880,2],[56,0]]})";
        LocustSample s;
        QString error;
        QVERIFY2(LocustSample::fromJsonLine(line, &s, &error), qPrintable(error));
        QCOMPARE(s.time, 1796436906.021);
        QCOMPARE(s.users, 8);
        QCOMPARE(s.targetUsers, 8);
        QCOMPARE(s.workers, 1);
        QCOMPARE(s.requests, 38u);
        QCOMPARE(s.failures, 2u);
        QCOMPARE(s.perSecond.size(), 2);
        QCOMPARE(s.perSecond.at(1).second, 1796436905);
        QCOMPARE(s.perSecond.at(1).requests, 9u);
        QCOMPARE(s.perSecond.at(1).failures, 1u);
        QCOMPARE(s.responseTimes.size(), 2); // the zero count is dropped
        QCOMPARE(s.responseTimes.at(1), (QPair<int, quint64>(880, 2)));

        QVERIFY(!LocustSample::fromJsonLine("not json", &s, &error));
        QVERIFY(!error.isEmpty());
        QVERIFY(!LocustSample::fromJsonLine(R"({"users":3})", &s, &error));
        QVERIFY(error.contains(QStringLiteral("\"t\"")));
    }

    void windowCountsWholeSecondsWithTheLatestCounts()
    {
        LoadSampleLog log(2); // a master: a second is final two lines later
        // Second 100 first seen with 3 requests, completed by a later report to 10.
        log.add(sample(101.02, 5, {{100, 3, 0}}));
        log.add(sample(102.02, 5, {{100, 10, 0}, {101, 10, 1}}));
        log.add(sample(103.02, 5, {{101, 10, 1}, {102, 12, 0}}));
        log.add(sample(104.02, 5, {{102, 12, 0}, {103, 4, 0}}));
        QCOMPARE(log.settledUntil(), 103.0);
        const WindowFigures w = log.window(100, 103);
        QCOMPARE(w.seconds, 3.0);
        QCOMPARE(w.requests, 32u);
        QCOMPARE(w.failures, 1u);
        QCOMPARE(w.offeredRps, 32.0 / 3);
        QCOMPARE(w.achievedRps, 31.0 / 3);
        QCOMPARE(w.errorRate, 1.0 / 32);
        // Rounded to whole seconds inside [from, to).
        QCOMPARE(log.window(99.5, 101.7).seconds, 1.0);
        QCOMPARE(log.window(99.5, 101.7).requests, 10u);

        LoadSampleLog single(1);
        single.add(sample(101.02, 5, {{100, 3, 0}}));
        QCOMPARE(single.settledUntil(), 101.0);
    }

    void percentilesComeFromTheWindowsResponseTimes()
    {
        LoadSampleLog log(1);
        // Before the window: slow answers that must not count.
        log.add(sample(100.02, 4, {}, {{5000, 50}}));
        // Lines after 100.5 .. 110.5 hold what completed in [100, 110).
        for (int t = 101; t <= 110; ++t)
            log.add(sample(t + 0.02, 4, {{t - 1, 10, 0}}, {{100, 9}, {t == 110 ? 900 : 200, 1}}));
        // After it.
        log.add(sample(111.02, 4, {{110, 10, 0}}, {{7000, 10}}));
        const WindowFigures w = log.window(100, 110);
        QCOMPARE(w.latencySamples, 100u);
        QCOMPARE(w.p50Ms, 100.0);
        QCOMPARE(w.p95Ms, 200.0);
        QCOMPARE(w.p99Ms, 200.0);
        QCOMPARE(LoadSampleLog::percentile({{100, 98}, {900, 2}}, 0.99), 900.0);
        QCOMPARE(LoadSampleLog::percentile({}, 0.95), 0.0);
    }

    void generatorCpuBetweenReadings()
    {
        LoadSampleLog log(2);
        log.setMachineCores(2);
        const qint64 master = 100, worker = 101;
        const auto r = [&](double t, double masterSeconds, double workerSeconds, quint64 busy, quint64 total) {
            return reading(t, {{master, int(LocustProcessRole::Master), masterSeconds}, {worker, int(LocustProcessRole::Worker), workerSeconds}},
                           busy, total);
        };
        QVERIFY(!log.generator(0, 10)); // no readings
        log.addCpu(r(99.6, 1.0, 5.0, 1000, 4000));
        log.addCpu(r(100.1, 1.01, 5.25, 1050, 4100));
        log.addCpu(r(110.1, 1.21, 10.25, 2050, 6100)); // 10 s: master 0.02 core, worker 0.5, machine 50 %
        const std::optional<BaselineGenerator> g = log.generator(100, 110);
        QVERIFY(g);
        QCOMPARE(g->processes, 2);
        QCOMPARE(g->workers, 1);
        QVERIFY(qAbs(g->busiestCores - 0.5) < 1e-9);
        QVERIFY(qAbs(g->cpuCores - 0.52) < 1e-9);
        QVERIFY(qAbs(g->machineBusy - 0.5) < 1e-9);
        QCOMPARE(g->machineCores, 2);
        QVERIFY(!g->bound);
        // A worker at 95 % of a core: saturated.
        log.addCpu(r(120.1, 1.41, 19.75, 4050, 8100));
        QVERIFY(log.generator(110, 120)->bound);
        // A window shorter than half a second between readings: not measured.
        QVERIFY(!log.generator(120, 120));
    }

    void boundRule_data()
    {
        QTest::addColumn<double>("busiest");
        QTest::addColumn<double>("total");
        QTest::addColumn<int>("cores");
        QTest::addColumn<bool>("bound");
        QTest::newRow("idle") << 0.1 << 0.15 << 2 << false;
        QTest::newRow("one process at 89 %") << 0.89 << 0.95 << 4 << false;
        QTest::newRow("one process at 90 %") << 0.90 << 0.95 << 4 << true;
        QTest::newRow("four at 50 % on 2 cores") << 0.5 << 2.0 << 2 << true;
        QTest::newRow("four at 40 % on 2 cores") << 0.4 << 1.6 << 2 << false;
    }

    void boundRule()
    {
        QFETCH(double, busiest);
        QFETCH(double, total);
        QFETCH(int, cores);
        QFETCH(bool, bound);
        BaselineGenerator g;
        g.busiestCores = busiest;
        g.cpuCores = total;
        g.machineCores = cores;
        QCOMPARE(LoadSampleLog::isBound(g), bound);
    }
};

QTEST_GUILESS_MAIN(TestLoadSampleLog)
#include "tst_loadsamplelog.moc"
