// ModelBudget: limits configured, learned from 429s and probed, pacing and
// windows, driven with the time passed in. Each row is a script of steps:
//   +MS                          time moves on MS milliseconds
//   room WANT => CALLS [NEXT_MS] room(): calls now (* = unlimited), and when 0, the next call's time
//   acquire CALLS TOKENS => ok | at MS DIM   acquire(): granted, or when and which dimension binds
//   charge CALLS TOKENS          charge()
//   settle ESTIMATED ACTUAL      settleTokens()
//   429 DIM [VALUE|-] [DELAY_MS] quotaExceeded()
//   limit DIM => VALUE SOURCE    the limit in force and where it comes from
//   used DIM => VALUE
//   rate => RPM                  room(0)'s callsPerSecond × 60, rounded
// Times in expectations are milliseconds since the start of the row.

#include "core/quota/modelbudget.h"
#include "core/quota/upstreambudget.h"

#include <QTest>

using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

const SteadyTime t0 = SteadyTime{} + 1h;

QuotaDimension dimension(const QString &name)
{
    return name == u"tpm" ? QuotaDimension::Tpm : name == u"rpd" ? QuotaDimension::Rpd : QuotaDimension::Rpm;
}

QStringList steps(std::initializer_list<const char *> list)
{
    QStringList out;
    for (const char *step : list)
        out.append(QString::fromUtf8(step));
    return out;
}

qint64 msOf(SteadyTime t)
{
    return duration_cast<milliseconds>(t - t0).count();
}

} // namespace

class TestModelBudget : public QObject
{
    Q_OBJECT
private slots:
    void script_data()
    {
        QTest::addColumn<QList<qint64>>("configured"); // rpm, tpm, rpd
        QTest::addColumn<qint64>("probeStartRpm");
        QTest::addColumn<QStringList>("steps");

        using L = QList<qint64>;
        QTest::newRow("no limit: everything goes")
            << L{0, 0, 0} << qint64(0)
            << steps({"room 1000 => *", "acquire 500 100000 => ok", "room 1 => *", "limit rpm => 0 none"});
        QTest::newRow("configured rpm: a burst of a sixth, then one per second")
            << L{60, 0, 0} << qint64(0)
            << steps({"limit rpm => 60 config", "room 50 => 10", "charge 10 0", "room 1 => 0 1000",
                 "acquire 1 0 => at 1000 rpm", "+1000", "acquire 1 0 => ok", "acquire 1 0 => at 2000 rpm",
                 "+500", "room 1 => 0 2000", "+500", "room 5 => 1"});
        // A minute window holds a call half a second longer than the upstream
        // does (charged at dispatch, counted upstream on arrival).
        QTest::newRow("the minute window is the hard limit")
            << L{60, 0, 0} << qint64(0)
            << steps({"charge 60 0", "+20000", "used rpm => 60", "room 1 => 0 60500", "acquire 1 0 => at 60500 rpm",
                 "+40000", "used rpm => 60", "+500", "used rpm => 0", "room 1 => 10"});
        QTest::newRow("tpm: tokens room and the time a large call fits")
            << L{0, 1000, 0} << qint64(0)
            << steps({"room 1 => *", "acquire 1 600 => ok", "acquire 1 600 => at 60500 tpm", "acquire 1 400 => ok",
                 "room 1 => 0 60500", "+60500", "acquire 1 1000 => ok"});
        QTest::newRow("tpm: underestimated tokens are charged when settled")
            << L{0, 1000, 0} << qint64(0)
            << steps({"acquire 1 100 => ok", "settle 100 700", "used tpm => 700", "settle 500 300", "used tpm => 700"});
        QTest::newRow("rpd: a day's calls, then nothing until they age out")
            << L{0, 0, 3} << qint64(0)
            << steps({"acquire 1 0 => ok", "+1000", "acquire 2 0 => ok", "acquire 1 0 => at 86400000 rpd",
                 "+86399000", "acquire 1 0 => ok"});
        QTest::newRow("429 with QuotaFailure and RetryInfo: learned and blocked")
            << L{0, 0, 0} << qint64(0)
            << steps({"acquire 5 0 => ok", "429 rpm 60 58000", "limit rpm => 60 learned", "acquire 1 0 => at 58000 rpm",
                 "+58000", "acquire 1 0 => ok"});
        QTest::newRow("429 without a value: the limit is what was spent")
            << L{0, 0, 0} << qint64(0)
            << steps({"charge 7 0", "429 rpm - 0", "limit rpm => 7 learned", "acquire 1 0 => at 60500 rpm"});
        QTest::newRow("learned below configured wins, then rises back")
            << L{100, 0, 0} << qint64(0)
            << steps({"429 rpm 50 0", "limit rpm => 50 learned", "+300000", "limit rpm => 55 learned", "+300000",
                 "limit rpm => 61 learned", "+1500000", "limit rpm => 98 learned", "+300000", "limit rpm => 100 config"});
        QTest::newRow("rpd exhausted: fail fast until the reset")
            << L{0, 0, 0} << qint64(0)
            << steps({"429 rpd 1500 3600000", "acquire 1 0 => at 3600000 rpd", "room 1 => 0 3600000", "+3600000",
                 "acquire 1 0 => ok"});
        QTest::newRow("probe: an unknown rpm starts low and doubles while it holds calls back")
            << L{0, 0, 0} << qint64(60)
            << steps({"limit rpm => 60 probe", "room 100 => 1", "charge 1 0", "room 100 => 0 1000", "+2000",
                 "limit rpm => 120 probe", "room 100 => 1", "charge 1 0", "room 100 => 0 2500", "+2000",
                 "limit rpm => 240 probe", "+500", "room 100 => 1"});
        QTest::newRow("probe: does not grow while demand is below it")
            << L{0, 0, 0} << qint64(60)
            << steps({"room 1 => 1", "+2000", "room 1 => 1", "+2000", "limit rpm => 60 probe"});
        QTest::newRow("probe ends at the first 429")
            << L{0, 0, 0} << qint64(60)
            << steps({"room 100 => 1", "+2000", "limit rpm => 120 probe", "429 rpm 15 1000", "limit rpm => 15 learned",
                 "room 100 => 0 3000", "+1000", "room 100 => 1", "+10000", "limit rpm => 15 learned"});
        // Room::callsPerSecond of a probe (what packs are sized for) until
        // probeStartRpm calls in a minute went through: the start, doubling
        // every 15 s from the first hold-back, at most the probe's own rate.
        QTest::newRow("probe: packs sized for its start until confirmed, then for the probe")
            << L{0, 0, 0} << qint64(60)
            << steps({"rate => 60", "room 100 => 1", "+2000", "room 100 => 1", "+2000", "room 100 => 1", "+2000",
                 "room 100 => 1", "limit rpm => 480 probe", "rate => 79", "charge 60 0", "rate => 480"});
        QTest::newRow("probe: the sizing rate doubles every 15 s of load, not of idle time")
            << L{0, 0, 0} << qint64(60)
            << steps({"+30000", "rate => 60", "room 100 => 1", "+15000", "limit rpm => 120 probe", "rate => 120",
                 "+15000", "rate => 120"});
        QTest::newRow("configured rpm is never probed")
            << L{30, 0, 0} << qint64(60) << steps({"limit rpm => 30 config", "room 100 => 5", "+2000", "limit rpm => 30 config"});
    }

    void script()
    {
        QFETCH(QList<qint64>, configured);
        QFETCH(qint64, probeStartRpm);
        QFETCH(QStringList, steps);

        ModelBudget::Settings s;
        s.configured = {configured[0], configured[1], configured[2]};
        s.probeStartRpm = probeStartRpm;
        ModelBudget b(s, t0);
        SteadyTime now = t0;
        for (const QString &step : steps) {
            const QStringList parts = step.split(u' ', Qt::SkipEmptyParts);
            const QString op = parts.value(0);
            const qsizetype arrow = parts.indexOf(QStringLiteral("=>"));
            const QStringList want = arrow < 0 ? QStringList() : parts.mid(arrow + 1);
            const QByteArray where = step.toUtf8();
            if (op.startsWith(u'+')) {
                now += milliseconds(op.mid(1).toLongLong());
            } else if (op == u"room") {
                const ModelBudget::Room r = b.room(now, parts[1].toInt());
                const QString calls = r.calls == ModelBudget::kUnlimitedCalls ? QStringLiteral("*") : QString::number(r.calls);
                QVERIFY2(calls == want[0], where + " got " + calls.toUtf8());
                if (want.size() > 1)
                    QVERIFY2(msOf(r.nextCallAt) == want[1].toLongLong(), where + " next at " + QByteArray::number(msOf(r.nextCallAt)));
            } else if (op == u"acquire") {
                const ModelBudget::Grant g = b.acquire(now, parts[1].toInt(), parts[2].toLongLong());
                if (want[0] == u"ok") {
                    QVERIFY2(g.granted, where + " refused until " + QByteArray::number(msOf(g.at)));
                } else {
                    QVERIFY2(!g.granted, where + " granted");
                    QVERIFY2(msOf(g.at) == want[1].toLongLong(), where + " at " + QByteArray::number(msOf(g.at)));
                    QVERIFY2(g.binding == dimension(want[2]), where + " binding " + quotaDimensionName(g.binding).toUtf8());
                }
            } else if (op == u"charge") {
                b.charge(now, parts[1].toInt(), parts[2].toLongLong());
            } else if (op == u"settle") {
                b.settleTokens(now, parts[1].toLongLong(), parts[2].toLongLong());
            } else if (op == u"429") {
                std::optional<long long> value;
                if (parts[2] != u"-")
                    value = parts[2].toLongLong();
                std::optional<Nanos> delay;
                if (parts.size() > 3 && parts[3].toLongLong() > 0)
                    delay = milliseconds(parts[3].toLongLong());
                b.quotaExceeded(now, dimension(parts[1]), value, delay);
            } else if (op == u"limit") {
                ModelBudget::Source source;
                const long long l = b.limit(dimension(parts[1]), &source);
                b.room(now, 0); // limits move with time (probe steps, raises) only as time is looked at
                const long long after = b.limit(dimension(parts[1]), &source);
                Q_UNUSED(l);
                QVERIFY2(after == want[0].toLongLong(), where + " got " + QByteArray::number(after));
                QVERIFY2(quotaSourceName(source) == want[1], where + " source " + quotaSourceName(source).toUtf8());
            } else if (op == u"rate") {
                const qint64 rpm = std::llround(b.room(now, 0).callsPerSecond * 60.0);
                QVERIFY2(rpm == want[0].toLongLong(), where + " got " + QByteArray::number(rpm));
            } else if (op == u"used") {
                QVERIFY2(b.state(dimension(parts[1]), now).used == want[0].toLongLong(),
                         where + " got " + QByteArray::number(b.state(dimension(parts[1]), now).used));
            } else {
                QFAIL(where.constData());
            }
        }
    }

    // The engine skips the budget on its hot path only while nothing can be
    // held back: no limit configured, nothing probed, no 429 yet.
    void mayHoldBack()
    {
        ManualClock clock;
        ModelBudget::Settings known;
        known.quotaKnown = true;
        UpstreamBudget budget(clock, known);
        QVERIFY(!budget.mayHoldBack());
        QCOMPARE(budget.room(QStringLiteral("m"), 100).calls, ModelBudget::kUnlimitedCalls);
        budget.setConfigured({0, 1000, 0});
        QVERIFY(budget.mayHoldBack());
        budget.setConfigured({});
        QVERIFY(!budget.mayHoldBack());
        budget.quotaExceeded(QStringLiteral("m"), QuotaDimension::Rpm, 10, std::nullopt);
        QVERIFY(budget.mayHoldBack());
        budget.setConfigured({});
        QVERIFY(budget.mayHoldBack()); // a learned limit stays

        ModelBudget::Settings unknown; // an unknown quota is probed
        QVERIFY(UpstreamBudget(clock, unknown).mayHoldBack());
        unknown.probeStartRpm = 0;
        QVERIFY(!UpstreamBudget(clock, unknown).mayHoldBack());
    }

    void upstreamBudgetKeepsModelsApart()
    {
        ManualClock clock;
        ModelBudget::Settings s;
        s.configured.rpm = 60;
        s.probeStartRpm = 0;
        UpstreamBudget budget(clock, s);
        budget.charge(QStringLiteral("gemini-2.0-flash"), 60, 0);
        QVERIFY(!budget.acquire(QStringLiteral("gemini-2.0-flash"), 1, 0).granted);
        QVERIFY(budget.acquire(QStringLiteral("gemini-2.5-flash"), 1, 0).granted);
        budget.quotaExceeded(QStringLiteral("text-embedding-004"), QuotaDimension::Tpm, 1000, std::nullopt);
        const auto snap = budget.snapshot();
        QCOMPARE(snap.size(), 3);
        QCOMPARE(snap[0].model, QStringLiteral("gemini-2.0-flash"));
        QCOMPARE(snap[0].dimensions[0].used, 60LL);
        QCOMPARE(snap[2].model, QStringLiteral("text-embedding-004"));
        QCOMPARE(snap[2].dimensions[1].limit, 1000LL);
        QCOMPARE(snap[2].dimensions[1].source, ModelBudget::Source::Learned);
        // A live change reaches every model.
        budget.setConfigured({120, 0, 0});
        for (const UpstreamBudget::ModelState &m : budget.snapshot()) {
            QCOMPARE(m.dimensions[0].limit, 120LL);
            QCOMPARE(m.dimensions[0].source, ModelBudget::Source::Config);
        }
    }

    void quotaFailureNames_data()
    {
        QTest::addColumn<QString>("quotaId");
        QTest::addColumn<QString>("metric");
        QTest::addColumn<QString>("dimension"); // empty: not budgeted
        QTest::newRow("rpm") << QStringLiteral("GenerateRequestsPerMinutePerProjectPerModel")
                             << QStringLiteral("generativelanguage.googleapis.com/generate_content_requests") << QStringLiteral("rpm");
        QTest::newRow("rpm free tier (fixture)") << QStringLiteral("GenerateRequestsPerMinutePerProjectPerModel-FreeTier")
                                                 << QStringLiteral("generativelanguage.googleapis.com/generate_content_free_tier_requests")
                                                 << QStringLiteral("rpm");
        QTest::newRow("rpd") << QStringLiteral("GenerateRequestsPerDayPerProjectPerModel-FreeTier")
                             << QStringLiteral("generativelanguage.googleapis.com/generate_content_free_tier_requests") << QStringLiteral("rpd");
        QTest::newRow("tpm") << QStringLiteral("GenerateContentInputTokensPerModelPerMinute")
                             << QStringLiteral("generativelanguage.googleapis.com/generate_content_input_token_count") << QStringLiteral("tpm");
        QTest::newRow("tokens per day are not budgeted") << QStringLiteral("GenerateContentInputTokensPerModelPerDay")
                                                         << QStringLiteral("generativelanguage.googleapis.com/generate_content_input_token_count")
                                                         << QString();
        QTest::newRow("metric only") << QString() << QStringLiteral("generativelanguage.googleapis.com/generate_content_requests")
                                     << QStringLiteral("rpm");
        QTest::newRow("something else") << QStringLiteral("ImagesPerMinute") << QStringLiteral("x/images") << QString();
    }

    void quotaFailureNames()
    {
        QFETCH(QString, quotaId);
        QFETCH(QString, metric);
        QFETCH(QString, dimension);
        const std::optional<QuotaDimension> d = quotaDimensionFor(quotaId, metric);
        QCOMPARE(d ? quotaDimensionName(*d) : QString(), dimension);
    }
};

QTEST_GUILESS_MAIN(TestModelBudget)
#include "tst_modelbudget.moc"
