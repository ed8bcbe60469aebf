// KneeSearch as a pure state machine, fed with made-up step measurements of
// a system whose curve is known: the geometric ramp, the bisection, where it
// stops (plateau, p95, errors, the load generator), the time budget, the
// step lengths it asks for, and the knee it reports.
#include "core/loadtest/kneesearch.h"

#include <QTest>

#include <functional>

Q_DECLARE_METATYPE(std::function<void(KneeSearchConfig &)>)

namespace {

// A closed-loop system: throughput and p95 as functions of the users.
struct System {
    std::function<double(int)> rps;
    std::function<double(int)> p95Ms;
    std::function<double(int)> errorRate = [](int) { return 0.0; };
    std::function<bool(int)> generatorBound = [](int) { return false; };
};

// What measuring `users` for `seconds` gives (no noise).
WindowFigures measure(const System &sys, int users, double seconds)
{
    WindowFigures f;
    f.seconds = seconds;
    f.requests = quint64(sys.rps(users) * seconds / (1.0 - sys.errorRate(users)));
    f.failures = quint64(std::llround(double(f.requests) * sys.errorRate(users)));
    f.offeredRps = double(f.requests) / seconds;
    f.achievedRps = double(f.requests - f.failures) / seconds;
    f.errorRate = f.requests ? double(f.failures) / double(f.requests) : 0;
    f.latencySamples = f.requests;
    f.p50Ms = sys.p95Ms(users) * 0.6;
    f.p95Ms = sys.p95Ms(users);
    f.p99Ms = sys.p95Ms(users) * 1.3;
    BaselineGenerator g;
    g.processes = 2;
    g.workers = 1;
    g.machineCores = 2;
    g.busiestCores = sys.generatorBound(users) ? 0.97 : 0.2;
    g.cpuCores = g.busiestCores + 0.02;
    g.bound = LoadSampleLog::isBound(g);
    f.generator = g;
    return f;
}

// Runs the whole search on `sys` the way KneeSearchDriver does, second by
// second, with `startup` seconds for Locust to start; returns the seconds used.
double run(KneeSearch &search, const System &sys, double startup = 3)
{
    double t = startup;
    while (const std::optional<KneeSearch::Plan> plan = search.next(t)) {
        double measured = 0;
        WindowFigures f;
        do {
            measured += 1;
            f = measure(sys, plan->users, measured);
        } while (search.check(*plan, f) == KneeSearch::Check::Continue);
        t += search.config().stepOverheadSeconds + plan->warmupSeconds + measured;
        search.record(*plan, f);
    }
    return t;
}

QList<int> usersOf(const KneeSearch &search)
{
    QList<int> u;
    for (const KneeSearch::Step &s : search.steps())
        u << s.users;
    return u;
}

// The default gateway as measured: ~1 req/s per user up to 40 req/s, p95
// 1.4 s until the simulator queues, then growing with the users.
System defaultGateway()
{
    System s;
    s.rps = [](int u) { return std::min(double(u), 40.0); };
    s.p95Ms = [](int u) { return 1400.0 * std::max(1.0, u / 40.0); };
    return s;
}

} // namespace

class TestKneeSearch : public QObject
{
    Q_OBJECT
private slots:
    void rampsGeometricallyThenBisects()
    {
        KneeSearch search;
        run(search, defaultGateway());
        QVERIFY(search.done());
        // x2 from 4 until 64 goes over the p95 limit (1.5 x 1400 ms = 2100 < 2240),
        // then bisects between 32 (below the knee) and 64.
        QCOMPARE(usersOf(search), (QList<int>{4, 8, 16, 32, 64, 48, 40}));
        QCOMPARE(search.p95LimitMs(), 2100.0);
        QCOMPARE(search.steps().at(4).verdict, KneeSearch::Verdict::OverP95);
        QCOMPARE(search.steps().at(5).phase, KneeSearch::Phase::Bisect);
        QCOMPARE(search.steps().at(5).verdict, KneeSearch::Verdict::Saturated);
        const KneeSearch::Result r = search.result();
        QVERIFY2(r.found, qPrintable(r.reason));
        QCOMPARE(r.users, 40);
        QCOMPARE(r.throughputRps, 40.0);
        QCOMPARE(r.stoppedBy, QStringLiteral("p95"));
        QVERIFY(!r.budgetExhausted);
        QVERIFY(!r.generatorBound);
        QVERIFY(r.notes.isEmpty());
    }

    void stopsOnAPlateau()
    {
        // Latency never crosses the limit (an absolute, generous one): only throughput flattens.
        System sys = defaultGateway();
        sys.p95Ms = [](int) { return 100.0; };
        KneeSearchConfig c;
        c.p95LimitMs = 10000;
        KneeSearch search(c);
        run(search, sys);
        // 32 -> 64 still grows by 25 % (>= 10 % per +100 %); 64 -> 128 does not.
        QCOMPARE(usersOf(search), (QList<int>{4, 8, 16, 32, 64, 128, 48, 40}));
        QCOMPARE(search.steps().at(4).verdict, KneeSearch::Verdict::Grows);
        QCOMPARE(search.steps().at(5).verdict, KneeSearch::Verdict::Plateau);
        QVERIFY2(search.steps().at(5).decision.contains(QStringLiteral("bisect between 32 and 64")),
                 qPrintable(search.steps().at(5).decision));
        const KneeSearch::Result r = search.result();
        QVERIFY(r.found);
        QCOMPARE(r.users, 40);
        QCOMPARE(r.stoppedBy, QStringLiteral("plateau"));
        QVERIFY(r.method.contains(QStringLiteral("95 % of the best throughput")));
    }

    void plateauThresholdIsPerDoubling_data()
    {
        QTest::addColumn<double>("gainPerDoubling");
        QTest::addColumn<bool>("plateau");
        QTest::newRow("+5 %") << 0.05 << true;
        QTest::newRow("+9 %") << 0.09 << true;
        QTest::newRow("+11 %") << 0.11 << false;
        QTest::newRow("+50 %") << 0.50 << false;
        QTest::newRow("-10 %") << -0.10 << true;
    }

    void plateauThresholdIsPerDoubling()
    {
        QFETCH(double, gainPerDoubling);
        QFETCH(bool, plateau);
        KneeSearchConfig c;
        c.p95LimitMs = 10000;
        KneeSearch search(c);
        const auto step = [&](double rps) {
            const KneeSearch::Plan plan = *search.next(0);
            System sys;
            sys.rps = [rps](int) { return rps; };
            sys.p95Ms = [](int) { return 50.0; };
            return search.record(plan, measure(sys, plan.users, 10)).verdict;
        };
        QCOMPARE(step(100), KneeSearch::Verdict::Grows);
        QCOMPARE(step(100 * (1 + gainPerDoubling)), plateau ? KneeSearch::Verdict::Plateau : KneeSearch::Verdict::Grows);
    }

    void stopsWhenErrorsStart()
    {
        // Rejections start at 64 users: over 1 % errors is over the limit.
        System sys = defaultGateway();
        sys.p95Ms = [](int) { return 200.0; };
        sys.errorRate = [](int u) { return u >= 64 ? 0.05 : 0.0; };
        KneeSearchConfig c;
        c.p95LimitMs = 10000;
        KneeSearch search(c);
        run(search, sys);
        QCOMPARE(search.steps().at(4).users, 64);
        QCOMPARE(search.steps().at(4).verdict, KneeSearch::Verdict::Errors);
        QVERIFY2(search.steps().at(4).decision.contains(QStringLiteral("% over the limit 1.0 %")),
                 qPrintable(search.steps().at(4).decision));
        const KneeSearch::Result r = search.result();
        QCOMPARE(r.stoppedBy, QStringLiteral("errors"));
        QVERIFY(r.found);
        QVERIFY(r.users < 64);
        for (const KneeSearch::Step &s : search.steps())
            if (s.users == r.users)
                QVERIFY(s.figures.errorRate <= 0.01);
    }

    void limitsBeforeThePlateauGiveTheHighestThroughputWithinThem()
    {
        // Throughput grows all the way, but p95 crosses an absolute limit at 50 users.
        System sys;
        sys.rps = [](int u) { return double(u); };
        sys.p95Ms = [](int u) { return u >= 50 ? 900.0 : 300.0; };
        KneeSearchConfig c;
        c.p95LimitMs = 500;
        KneeSearch search(c);
        run(search, sys);
        QCOMPARE(usersOf(search), (QList<int>{4, 8, 16, 32, 64, 48, 56}));
        const KneeSearch::Result r = search.result();
        QVERIFY(r.found);
        QCOMPARE(r.users, 48);
        QVERIFY2(r.method.contains(QStringLiteral("highest throughput within")), qPrintable(r.method));
    }

    void generatorBoundStepsAreNeverTheKnee()
    {
        // The gateway would grow to 1000 req/s, but Locust saturates from 64 users on.
        System sys;
        sys.rps = [](int u) { return std::min(double(u) * 10, 1000.0); };
        sys.p95Ms = [](int) { return 20.0; };
        sys.generatorBound = [](int u) { return u >= 64; };
        KneeSearch search;
        run(search, sys);
        QCOMPARE(usersOf(search), (QList<int>{4, 8, 16, 32, 64}));
        QCOMPARE(search.steps().last().verdict, KneeSearch::Verdict::Generator);
        QVERIFY(search.steps().last().decision.contains(QStringLiteral("--locust-workers")));
        const KneeSearch::Result r = search.result();
        QVERIFY(!r.found);
        QVERIFY(r.generatorBound);
        QCOMPARE(r.generatorBoundUsers, 64);
        QCOMPARE(r.stoppedBy, QStringLiteral("generator"));
        QVERIFY2(r.reason.contains(QStringLiteral("the load generator is the bottleneck at 64 users: add workers (--locust-workers) or a bigger machine")),
                 qPrintable(r.reason));
        QCOMPARE(r.bestUsers, 32); // the bound step's throughput is not trusted
        QCOMPARE(r.notes.size(), 1);
    }

    void generatorBoundBisectionStepIsUpperBoundOnly()
    {
        // A plateau at 40 req/s is found; a bisection step happens to saturate
        // the generator with a higher (untrusted) throughput: it neither sets
        // the best nor becomes the knee.
        System sys = defaultGateway();
        sys.p95Ms = [](int) { return 100.0; };
        sys.rps = [](int u) { return u == 48 ? 60.0 : std::min(double(u), 40.0); };
        sys.generatorBound = [](int u) { return u == 48; };
        KneeSearchConfig c;
        c.p95LimitMs = 10000;
        KneeSearch search(c);
        run(search, sys);
        QCOMPARE(usersOf(search), (QList<int>{4, 8, 16, 32, 64, 128, 48, 40}));
        QCOMPARE(search.steps().at(6).verdict, KneeSearch::Verdict::Generator);
        const KneeSearch::Result r = search.result();
        QVERIFY(r.found);
        QCOMPARE(r.users, 40);
        QCOMPARE(r.bestRps, 40.0);
        QVERIFY(r.generatorBound);
        QVERIFY(r.notes.join(QLatin1Char(' ')).contains(QStringLiteral("--locust-workers")));
    }

    void respectsTheTimeBudget_data()
    {
        QTest::addColumn<double>("maxSeconds");
        QTest::addColumn<bool>("found");
        QTest::newRow("180 s: whole search") << 180.0 << true;
        QTest::newRow("100 s: cut in the bisection") << 100.0 << true;
        QTest::newRow("40 s: cut in the ramp") << 40.0 << false;
        QTest::newRow("17 s: one step") << 17.0 << false;
    }

    void respectsTheTimeBudget()
    {
        QFETCH(double, maxSeconds);
        QFETCH(bool, found);
        KneeSearchConfig c;
        c.maxSeconds = maxSeconds;
        KneeSearch search(c);
        const double used = run(search, defaultGateway());
        // Every step fits, with the reserve left for stopping Locust and writing.
        QVERIFY2(used <= maxSeconds - c.reserveSeconds + 0.001, qPrintable(QString::number(used)));
        QVERIFY(search.done());
        QVERIFY(!search.steps().isEmpty());
        const KneeSearch::Result r = search.result();
        QCOMPARE(r.found, found);
        if (maxSeconds < 180) {
            QVERIFY(r.budgetExhausted);
            QVERIFY2(r.notes.join(QLatin1Char(' ')).contains(QStringLiteral("--max-seconds")), qPrintable(r.notes.join(QLatin1Char(' '))));
        } else {
            QVERIFY(!r.budgetExhausted);
        }
        if (!found)
            QVERIFY2(r.reason.contains(QStringLiteral("still grows")), qPrintable(r.reason));
    }

    void lastStepIsCappedToTheBudget()
    {
        KneeSearchConfig c;
        c.maxSeconds = 60;
        KneeSearch search(c);
        // 40 s into the search, 60 - 5 reserve - 2 overhead - 2 warm-up leave 11 s to measure.
        const KneeSearch::Plan plan = *search.next(40);
        QCOMPARE(plan.maxMeasureSeconds, 11.0);
        System sys = defaultGateway();
        sys.p95Ms = [](int) { return 5000.0; }; // would want 8 x 5 s = 40 s
        QCOMPARE(search.check(plan, measure(sys, plan.users, 10)), KneeSearch::Check::Continue);
        QCOMPARE(search.check(plan, measure(sys, plan.users, 11)), KneeSearch::Check::Enough);
        // Less than the minimum left: no step.
        QVERIFY(!search.next(51));
        QVERIFY(search.done());
        QVERIFY(search.result().budgetExhausted);
    }

    void stepLengthFollowsLatency_data()
    {
        QTest::addColumn<double>("p95Ms");
        QTest::addColumn<double>("seconds");
        QTest::newRow("fast: the minimum") << 20.0 << 5.0;
        QTest::newRow("1.4 s: 8 x p95") << 1400.0 << 12.0;
        QTest::newRow("10 s: capped at maxMeasureSeconds") << 10000.0 << 30.0;
    }

    void stepLengthFollowsLatency()
    {
        QFETCH(double, p95Ms);
        QFETCH(double, seconds);
        KneeSearch search;
        const KneeSearch::Plan plan = *search.next(0);
        System sys;
        sys.rps = [](int) { return 100.0; };
        sys.p95Ms = [p95Ms](int) { return p95Ms; };
        double measured = 1;
        while (search.check(plan, measure(sys, plan.users, measured)) == KneeSearch::Check::Continue)
            measured += 1;
        QCOMPARE(measured, seconds);
        // The warm-up of the next step follows the latency too: 2 x p95, 2 to 10 s.
        search.record(plan, measure(sys, plan.users, measured));
        QCOMPARE(search.next(20)->warmupSeconds, std::clamp(2 * p95Ms / 1000, 2.0, 10.0));
    }

    void aStepNeedsEnoughSamples()
    {
        KneeSearch search;
        const KneeSearch::Plan plan = *search.next(0);
        System slow;
        slow.rps = [](int) { return 2.0; }; // 40 samples take 20 s
        slow.p95Ms = [](int) { return 100.0; };
        QCOMPARE(search.check(plan, measure(slow, plan.users, 10)), KneeSearch::Check::Continue);
        QCOMPARE(search.check(plan, measure(slow, plan.users, 20)), KneeSearch::Check::Enough);
    }

    void farOverALimitEndsTheStepEarly()
    {
        KneeSearch search;
        System sys = defaultGateway();
        KneeSearch::Plan plan = *search.next(0);
        search.record(plan, measure(sys, plan.users, 12)); // p95 limit 2100 ms
        plan = *search.next(20);
        System overloaded = sys;
        overloaded.p95Ms = [](int) { return 4000.0; };
        QCOMPARE(search.check(plan, measure(overloaded, plan.users, 2)), KneeSearch::Check::Continue);
        QCOMPARE(search.check(plan, measure(overloaded, plan.users, 3)), KneeSearch::Check::Clear);
        System saturatedGenerator = sys;
        saturatedGenerator.generatorBound = [](int) { return true; };
        QCOMPARE(search.check(plan, measure(saturatedGenerator, plan.users, 3)), KneeSearch::Check::Clear);
        // Just over the limit: measured in full (the verdict could still go either way).
        System slightly = sys;
        slightly.p95Ms = [](int) { return 2300.0; };
        QCOMPARE(search.check(plan, measure(slightly, plan.users, 3)), KneeSearch::Check::Continue);
    }

    void shortStepsDoNotSetTheBest()
    {
        // A step ended early over p95 measured a higher throughput in its few
        // seconds: the knee is chosen against the full-length steps' best.
        KneeSearch search;
        System sys = defaultGateway();
        KneeSearch::Plan plan = *search.next(0);
        search.record(plan, measure(sys, plan.users, 12));
        plan = *search.next(20);
        search.record(plan, measure(sys, plan.users, 12));
        plan = *search.next(40);
        System burst = sys;
        burst.rps = [](int) { return 60.0; };
        burst.p95Ms = [](int) { return 5000.0; };
        search.record(plan, measure(burst, plan.users, 3));
        const KneeSearch::Result r = search.result();
        QCOMPARE(r.bestRps, 8.0);
        QCOMPARE(r.bestUsers, 8);
    }

    void lightestStepOverTheLimitsEndsTheSearch()
    {
        KneeSearchConfig c;
        c.p95LimitMs = 1000;
        KneeSearch search(c);
        run(search, defaultGateway());
        QCOMPARE(search.steps().size(), 1);
        const KneeSearch::Result r = search.result();
        QVERIFY(!r.found);
        QVERIFY2(search.steps().first().decision.contains(QStringLiteral("lightest step is already over the limits")),
                 qPrintable(search.steps().first().decision));
        QVERIFY2(r.reason.contains(QStringLiteral("no step was within p95 <= 1000 ms")), qPrintable(r.reason));
    }

    void maxUsersEndsTheRamp()
    {
        KneeSearchConfig c;
        c.maxUsers = 20;
        KneeSearch search(c);
        run(search, defaultGateway());
        QCOMPARE(usersOf(search), (QList<int>{4, 8, 16, 20}));
        const KneeSearch::Result r = search.result();
        QVERIFY(!r.found);
        QCOMPARE(r.stoppedBy, QStringLiteral("max-users"));
        QVERIFY(r.reason.contains(QStringLiteral("no knee up to 20 users")));
    }

    void resultJsonCarriesTheSummary()
    {
        KneeSearch search;
        run(search, defaultGateway());
        const QJsonObject o = search.result().toJson();
        QCOMPARE(o.value(QStringLiteral("found")).toBool(), true);
        QCOMPARE(o.value(QStringLiteral("users")).toInt(), 40);
        QCOMPARE(o.value(QStringLiteral("p95LimitMs")).toDouble(), 2100.0);
        QCOMPARE(o.value(QStringLiteral("stoppedBy")).toString(), QStringLiteral("p95"));
        QVERIFY(o.contains(QStringLiteral("method")));
        // And a baseline carrying it reads back the same (old readers keep it as an unknown field).
        PerformanceBaseline b;
        b.createdAt = QDateTime::currentDateTimeUtc();
        b.search = o;
        BaselineStep s;
        s.users = 40;
        s.generator = search.steps().first().figures.generator;
        BaselineStepSearch x;
        x.phase = QStringLiteral("bisect");
        x.verdict = QStringLiteral("saturated");
        x.decision = search.steps().last().decision;
        s.search = x;
        b.steps << s << BaselineStep{};
        PerformanceBaseline back;
        QString error;
        QVERIFY2(PerformanceBaseline::fromBytes(b.toJsonBytes(), &back, &error), qPrintable(error));
        QCOMPARE(back, b);
        QVERIFY(!back.steps.at(1).generator.has_value());
        QVERIFY(!b.steps.at(1).toJson().contains(QStringLiteral("generator")));
    }

    void describeIsOneProgressLine()
    {
        KneeSearch search;
        run(search, defaultGateway());
        const QString line = KneeSearch::describe(search.steps().at(1));
        QCOMPARE(line, QStringLiteral("step 2 (ramp): 8 users, 8.0 req/s, p95 1400 ms, errors 0.0 %, generator 0.22 cores "
                                      "(busiest process 0.20, 2 processes) over 12 s -> grows: +100 % req/s for +100 % users; "
                                      "next 16 users"));
        QVERIFY(!line.contains(QLatin1Char('\n')));
    }

    void configIsValidated_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<std::function<void(KneeSearchConfig &)>>("change");
        QTest::newRow("startUsers") << QStringLiteral("startUsers") << std::function<void(KneeSearchConfig &)>([](auto &c) { c.startUsers = 0; });
        QTest::newRow("growth") << QStringLiteral("growth") << std::function<void(KneeSearchConfig &)>([](auto &c) { c.growth = 1.0; });
        QTest::newRow("p95LimitMs") << QStringLiteral("p95LimitMs") << std::function<void(KneeSearchConfig &)>([](auto &c) { c.p95LimitMs = -1; });
        QTest::newRow("maxSeconds") << QStringLiteral("maxSeconds") << std::function<void(KneeSearchConfig &)>([](auto &c) { c.maxSeconds = 10; });
        QTest::newRow("maxErrorRate") << QStringLiteral("maxErrorRate") << std::function<void(KneeSearchConfig &)>([](auto &c) { c.maxErrorRate = 1; });
    }

    void configIsValidated()
    {
        QFETCH(QString, field);
        QFETCH(std::function<void(KneeSearchConfig &)>, change);
        QVERIFY(KneeSearchConfig().validate().isEmpty());
        KneeSearchConfig c;
        change(c);
        QVERIFY2(c.validate().startsWith(field + QLatin1Char(':')), qPrintable(c.validate()));
    }
};

QTEST_GUILESS_MAIN(TestKneeSearch)
#include "tst_kneesearch.moc"
