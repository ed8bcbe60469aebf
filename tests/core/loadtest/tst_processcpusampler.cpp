// ProcessCpuSampler: /proc/<pid>/stat and /proc/stat parsed (process names
// with spaces and parentheses included), and a real reading of this process
// seeing the CPU it burns.
#include "core/loadtest/processcpusampler.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QTest>

class TestProcessCpuSampler : public QObject
{
    Q_OBJECT
private slots:
    void parsesProcessStat_data()
    {
        QTest::addColumn<QByteArray>("stat");
        QTest::addColumn<double>("seconds");
        // utime 250 and stime 50 ticks (fields 14 and 15) at 100 ticks per second.
        QTest::newRow("python") << QByteArray("4242 (python3) S 1 4242 4242 0 -1 4194304 1234 0 0 0 250 50 0 0 20 0 1 0 "
                                               "100 123456 789 18446744073709551615 1 1 0 0 0 0 0 16781312 16386 0 0 0 17 1 0 0 0 0 0\n")
                                << 3.0;
        QTest::newRow("a name with ') ( '") << QByteArray("7 (we ird) ( name) R 1 7 7 0 -1 0 0 0 0 0 1000 0 0 0 20 0 1 0 1 1 1")
                                            << 10.0;
        QTest::newRow("truncated") << QByteArray("7 (x) R 1 7 7") << -1.0;
        QTest::newRow("no name") << QByteArray("garbage") << -1.0;
    }

    void parsesProcessStat()
    {
        QFETCH(QByteArray, stat);
        QFETCH(double, seconds);
        const std::optional<double> parsed = ProcessCpuSampler::parseProcessStat(stat, 100);
        if (seconds < 0) {
            QVERIFY(!parsed);
            return;
        }
        QVERIFY(parsed);
        QCOMPARE(*parsed, seconds);
    }

    void parsesMachineStat()
    {
        quint64 busy = 0, total = 0;
        // user nice system idle iowait irq softirq steal guest guest_nice
        QVERIFY(ProcessCpuSampler::parseMachineStat("cpu  100 5 50 800 40 3 2 0 7 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n", &busy, &total));
        QCOMPARE(total, 1000u);
        QCOMPARE(busy, 160u);
        QVERIFY(!ProcessCpuSampler::parseMachineStat("intr 1 2 3", &busy, &total));
    }

    void readsThisProcess()
    {
        const qint64 pid = QCoreApplication::applicationPid();
        const QList<ProcessCpuTime> self{{pid, 0, 0}};
        const CpuReading before = ProcessCpuSampler::read(self, 0);
        QCOMPARE(before.processes.size(), 1);
        QVERIFY(before.machineTotalTicks > 0);
        // Burn about 300 ms of CPU.
        QElapsedTimer t;
        t.start();
        volatile double x = 0;
        while (t.elapsed() < 300)
            x = x + 1.0;
        const CpuReading after = ProcessCpuSampler::read(self, 0);
        const double used = after.processes.at(0).cpuSeconds - before.processes.at(0).cpuSeconds;
        QVERIFY2(used > 0.1 && used < 1.0, qPrintable(QString::number(used)));
        QVERIFY(after.machineBusyTicks > before.machineBusyTicks);
        // A process that does not exist is left out.
        QCOMPARE(ProcessCpuSampler::read({{0x7ffffff0, 0, 0}}, 0).processes.size(), 0);
    }
};

QTEST_GUILESS_MAIN(TestProcessCpuSampler)
#include "tst_processcpusampler.moc"
