// SimulatorQuota: RPM and TPM sliding windows and the RPD fixed day, driven
// with explicit times (no waiting): which request is refused, by which
// limit, and the retry delay it is told.
#include "server/simulator/simulatorquota.h"

#include <QStringList>
#include <QTest>

using namespace std::chrono_literals;

class TestSimulatorQuota : public QObject
{
    Q_OBJECT
private slots:
    void decisions_data();
    void decisions();
    void modelsHaveTheirOwnWindows();
    void resetStartsANewDay();
    void priorityPoolHasItsOwnRequestWindow();
};

void TestSimulatorQuota::decisions_data()
{
    // A request is "T@N": sent T ms after reset() with N input tokens. An
    // outcome is "ok" or "rpm|tpm|rpd:<retry ms>".
    QTest::addColumn<int>("rpm");
    QTest::addColumn<int>("tpm");
    QTest::addColumn<int>("rpd");
    QTest::addColumn<int>("minuteMs");
    QTest::addColumn<QString>("requests");
    QTest::addColumn<QString>("outcomes");

    QTest::newRow("no limits") << 0 << 0 << 0 << 1000 << "0@1 0@1000000 0@1" << "ok ok ok";
    QTest::newRow("rpm") << 2 << 0 << 0 << 1000 << "0@1 100@1 200@1 999@1 1000@1 1100@1 1150@1"
                         << "ok ok rpm:800 rpm:1 ok ok rpm:850";
    QTest::newRow("rpm ignores tokens") << 1 << 0 << 0 << 1000 << "0@100000 10@1" << "ok rpm:990";
    QTest::newRow("tpm counts input tokens") << 0 << 10 << 0 << 1000 << "0@4 10@4 20@4 1000@4" << "ok ok tpm:980 ok";
    QTest::newRow("tpm waits for enough to leave") << 0 << 10 << 0 << 1000 << "0@4 10@4 20@9" << "ok ok tpm:990";
    QTest::newRow("tpm, a refused request spends nothing") << 0 << 10 << 0 << 1000 << "0@4 10@8 20@6" << "ok tpm:990 ok";
    QTest::newRow("tpm, more than the limit never fits") << 0 << 10 << 0 << 1000 << "0@11 5@10" << "tpm:1000 ok";
    // A day is 1440 minutes: 14400 ms here.
    QTest::newRow("rpd, fixed day") << 0 << 0 << 2 << 10 << "0@1 5000@1 6000@1 14399@1 14400@1 14500@1 20000@1"
                                    << "ok ok rpd:8400 rpd:1 ok ok rpd:8800";
    QTest::newRow("rpd, not a sliding window") << 0 << 0 << 1 << 10 << "14000@1 14400@1 14401@1" << "ok ok rpd:14399";
    QTest::newRow("rpd, skipped days") << 0 << 0 << 1 << 10 << "0@1 50000@1 50001@1" << "ok ok rpd:7599";
    QTest::newRow("rpd before rpm") << 1 << 0 << 1 << 1000 << "0@1 10@1" << "ok rpd:1439990";
    QTest::newRow("rpm refusal spends no day") << 1 << 0 << 2 << 10 << "0@1 5@1 10@1 20@1" << "ok rpm:5 ok rpd:14380";
    QTest::newRow("rpm before tpm") << 1 << 1 << 0 << 1000 << "0@1 10@5" << "ok rpm:990";
    QTest::newRow("tpm refusal spends no day") << 0 << 5 << 2 << 10 << "0@5 1@5 10@5 11@5" << "ok tpm:9 ok rpd:14389";
}

void TestSimulatorQuota::decisions()
{
    QFETCH(int, rpm);
    QFETCH(int, tpm);
    QFETCH(int, rpd);
    QFETCH(int, minuteMs);
    QFETCH(QString, requests);
    QFETCH(QString, outcomes);

    SimulatorModelLimits limits;
    limits.rpmLimit = rpm;
    limits.tpmLimit = tpm;
    limits.rpdLimit = rpd;
    const SimulatorQuota::Clock::time_point t0 = SimulatorQuota::Clock::now();
    SimulatorQuota quota;
    quota.reset(t0);
    QStringList got;
    for (const QString &r : requests.split(QLatin1Char(' '))) {
        const QStringList parts = r.split(QLatin1Char('@'));
        const auto at = t0 + std::chrono::milliseconds(parts[0].toInt());
        const SimulatorQuota::Decision d = quota.admit(QStringLiteral("m"), parts[1].toInt(), limits,
                                                       std::chrono::milliseconds(minuteMs), at);
        if (d.allowed) {
            got << QStringLiteral("ok");
            continue;
        }
        const char *name = d.dimension == SimulatorQuota::Dimension::RequestsPerMinute ? "rpm"
            : d.dimension == SimulatorQuota::Dimension::InputTokensPerMinute           ? "tpm"
                                                                                       : "rpd";
        const int limit = d.dimension == SimulatorQuota::Dimension::RequestsPerMinute ? rpm
            : d.dimension == SimulatorQuota::Dimension::InputTokensPerMinute           ? tpm
                                                                                       : rpd;
        QCOMPARE(d.limit, limit);
        got << QStringLiteral("%1:%2").arg(QLatin1String(name))
                   .arg(std::chrono::duration_cast<std::chrono::milliseconds>(d.retryAfter).count());
    }
    QCOMPARE(got.join(QLatin1Char(' ')), outcomes);
}

void TestSimulatorQuota::modelsHaveTheirOwnWindows()
{
    SimulatorModelLimits limits;
    limits.rpmLimit = 1;
    limits.rpdLimit = 1;
    const auto t0 = SimulatorQuota::Clock::now();
    SimulatorQuota quota;
    quota.reset(t0);
    QVERIFY(quota.admit(QStringLiteral("a"), 1, limits, 1s, t0).allowed);
    QVERIFY(quota.admit(QStringLiteral("b"), 1, limits, 1s, t0).allowed);
    QVERIFY(!quota.admit(QStringLiteral("a"), 1, limits, 1s, t0).allowed);
    QVERIFY(!quota.admit(QStringLiteral("b"), 1, limits, 1s, t0).allowed);
}

void TestSimulatorQuota::resetStartsANewDay()
{
    SimulatorModelLimits limits;
    limits.rpdLimit = 1;
    const auto t0 = SimulatorQuota::Clock::now();
    SimulatorQuota quota;
    quota.reset(t0);
    QVERIFY(quota.admit(QStringLiteral("m"), 1, limits, 10ms, t0).allowed);
    const SimulatorQuota::Decision refused = quota.admit(QStringLiteral("m"), 1, limits, 10ms, t0 + 100ms);
    QVERIFY(!refused.allowed);
    QCOMPARE(refused.retryAfter, SimulatorQuota::Clock::duration(14300ms));
    // A new config starts a new day from the moment it is applied.
    quota.reset(t0 + 200ms);
    QVERIFY(quota.admit(QStringLiteral("m"), 1, limits, 10ms, t0 + 300ms).allowed);
    const SimulatorQuota::Decision again = quota.admit(QStringLiteral("m"), 1, limits, 10ms, t0 + 400ms);
    QVERIFY(!again.allowed);
    QCOMPARE(again.retryAfter, SimulatorQuota::Clock::duration(14200ms));
}

void TestSimulatorQuota::priorityPoolHasItsOwnRequestWindow()
{
    // The priority tier passes priorityRpmLimit as its rpmLimit: each pool
    // counts only its own requests per minute, while TPM and RPD are shared.
    using Pool = SimulatorQuota::Pool;
    const auto t0 = SimulatorQuota::Clock::now();
    SimulatorQuota quota;
    quota.reset(t0);
    const SimulatorModelLimits standard{2, 0, 0};
    const SimulatorModelLimits priority{1, 0, 0};
    QVERIFY(quota.admit(QStringLiteral("m"), 1, standard, 1s, t0, Pool::Standard).allowed);
    QVERIFY(quota.admit(QStringLiteral("m"), 1, standard, 1s, t0, Pool::Standard).allowed);
    QVERIFY(!quota.admit(QStringLiteral("m"), 1, standard, 1s, t0, Pool::Standard).allowed);
    QVERIFY(quota.admit(QStringLiteral("m"), 1, priority, 1s, t0, Pool::Priority).allowed); // standard's full window is not its
    const SimulatorQuota::Decision refused = quota.admit(QStringLiteral("m"), 1, priority, 1s, t0 + 100ms, Pool::Priority);
    QVERIFY(!refused.allowed);
    QCOMPARE(refused.dimension, SimulatorQuota::Dimension::RequestsPerMinute);
    QCOMPARE(refused.limit, 1);
    QCOMPARE(refused.retryAfter, SimulatorQuota::Clock::duration(900ms));
    QVERIFY(quota.admit(QStringLiteral("m"), 1, priority, 1s, t0 + 1s, Pool::Priority).allowed);

    // Shared: input tokens and the day.
    quota.reset(t0);
    const SimulatorModelLimits standardTpm{0, 10, 3};
    const SimulatorModelLimits priorityTpm{5, 10, 3};
    QVERIFY(quota.admit(QStringLiteral("m"), 8, standardTpm, 1s, t0, Pool::Standard).allowed);
    const SimulatorQuota::Decision tpm = quota.admit(QStringLiteral("m"), 4, priorityTpm, 1s, t0, Pool::Priority);
    QVERIFY(!tpm.allowed);
    QCOMPARE(tpm.dimension, SimulatorQuota::Dimension::InputTokensPerMinute);
    QVERIFY(quota.admit(QStringLiteral("m"), 1, priorityTpm, 1s, t0, Pool::Priority).allowed);
    QVERIFY(quota.admit(QStringLiteral("m"), 1, standardTpm, 1s, t0, Pool::Standard).allowed);
    const SimulatorQuota::Decision rpd = quota.admit(QStringLiteral("m"), 0, priorityTpm, 1s, t0, Pool::Priority);
    QVERIFY(!rpd.allowed);
    QCOMPARE(rpd.dimension, SimulatorQuota::Dimension::RequestsPerDay);
}

QTEST_GUILESS_MAIN(TestSimulatorQuota)
#include "tst_simulatorquota.moc"
