// Priority classes, tenants' weighted fair queuing and limits, and the flex
// fallback, as BatchInferenceEngine applies them (issue 15). The upstream is
// a backend that holds each batch until the test answers it, so the order in
// which the engine dispatches is what is observed.
#include "core/engine/batchinferenceengine.h"
#include "core/engine/tierrouting.h"
#include "core/metrics/pricetable.h"

#include <QJsonDocument>
#include <QTest>

#include <deque>
#include <mutex>

using namespace std::chrono;

namespace {

class HoldingBackend final : public InferenceBackend
{
public:
    void execute(std::shared_ptr<const Batch> batch, BatchCompletion done) override
    {
        std::lock_guard lock(m_mutex);
        m_seen.push_back(batch);
        m_held.emplace_back(batch, std::move(done));
    }

    // Answers the oldest held batch: OK, or the flex tier's shedding (503)
    // for members whose body asks for flex when `shedFlex`.
    bool releaseOne(bool shedFlex = false)
    {
        std::pair<std::shared_ptr<const Batch>, BatchCompletion> job;
        {
            std::lock_guard lock(m_mutex);
            if (m_held.empty())
                return false;
            job = std::move(m_held.front());
            m_held.pop_front();
        }
        std::vector<InferenceResult> out;
        for (const BatchMember &m : job.first->members) {
            InferenceResult r;
            if (shedFlex && m.request.body.value(QStringLiteral("serviceTier")).toString() == QStringLiteral("flex")) {
                r.status = Status::error(StatusCode::Unavailable, QStringLiteral("flex shed"));
                r.status.upstreamHttpStatus = 503;
            } else {
                r.body = QJsonObject{{QStringLiteral("n"), m.request.body.value(QStringLiteral("n"))}};
                r.promptTokens = 10;
                r.outputTokens = 20;
            }
            out.push_back(r);
        }
        job.second(std::move(out));
        return true;
    }
    int held() const
    {
        std::lock_guard lock(m_mutex);
        return int(m_held.size());
    }
    std::vector<std::shared_ptr<const Batch>> seen() const
    {
        std::lock_guard lock(m_mutex);
        return m_seen;
    }

private:
    mutable std::mutex m_mutex;
    std::vector<std::shared_ptr<const Batch>> m_seen;
    std::deque<std::pair<std::shared_ptr<const Batch>, BatchCompletion>> m_held;
};

EngineConfig oneAtATime(int maxInflight = 1)
{
    EngineConfig c;
    c.maxBatchSize = 1;
    c.maxWaitMs = 0;
    c.maxInflightBatches = maxInflight;
    c.packing = PackingMode::Fanout;
    c.requestTimeoutMs = 600000;
    return c;
}

InferenceRequest request(const QString &tenant, int n, PriorityClass cls = PriorityClass::Standard)
{
    InferenceRequest r;
    r.model = QStringLiteral("m");
    r.body = QJsonObject{{QStringLiteral("n"), n}};
    r.tenant = tenant;
    r.priority = cls;
    return r;
}

QString tenantOf(const Batch &b)
{
    return b.members.front().request.tenant;
}

struct Outcomes {
    std::mutex mutex;
    std::vector<InferenceResult> list;
    CompletionCallback callback()
    {
        return [this](InferenceResult r) {
            std::lock_guard lock(mutex);
            list.push_back(std::move(r));
        };
    }
    int size()
    {
        std::lock_guard lock(mutex);
        return int(list.size());
    }
    InferenceResult at(int i)
    {
        std::lock_guard lock(mutex);
        return list.at(size_t(i));
    }
};

} // namespace

class TestFairScheduling : public QObject
{
    Q_OBJECT
private slots:
    // A tenant that queued 20 requests does not make one that arrives after
    // it wait for all 20: with equal weights they alternate; with weight 3
    // the first gets three turns for each of the other's.
    void tenantsAlternateByWeight_data()
    {
        QTest::addColumn<double>("floodWeight");
        QTest::addColumn<QString>("expected"); // dispatch order after the first, F = flooder, L = light
        QTest::newRow("equal weights") << 1.0 << QStringLiteral("LFLFLFFFFF");
        QTest::newRow("flooder weighted 3") << 3.0 << QStringLiteral("LFFFLFFFLF");
    }
    void tenantsAlternateByWeight()
    {
        QFETCH(double, floodWeight);
        QFETCH(QString, expected);
        HoldingBackend backend;
        Outcomes outcomes;
        BatchInferenceEngine engine(&backend, oneAtATime());
        TenantsConfig tenants;
        TenantPolicy flooder;
        flooder.weight = floodWeight;
        tenants.byId.insert(QStringLiteral("flood"), flooder);
        engine.setTenants(tenants);
        engine.start();
        for (int i = 0; i < 20; ++i)
            engine.submit(request(QStringLiteral("flood"), i), outcomes.callback());
        QTRY_COMPARE(backend.held(), 1); // the first flood request is with the upstream
        for (int i = 0; i < 3; ++i)
            engine.submit(request(QStringLiteral("light"), 100 + i), outcomes.callback());
        QString order;
        for (int i = 0; i < expected.size(); ++i) {
            QVERIFY(backend.releaseOne());
            QTRY_COMPARE(int(backend.seen().size()), i + 2);
            order += tenantOf(*backend.seen().back()) == QStringLiteral("light") ? u'L' : u'F';
        }
        QCOMPARE(order, expected);
        while (backend.releaseOne() || engine.counters().queued > 0)
            QTest::qWait(1);
        QTRY_COMPARE(outcomes.size(), 23);
        QVERIFY(engine.counters().invariantHolds());
    }

    // Interactive work goes before background work that waited less than
    // 15 s (weights 16 and 1 from a one-second base) and after background
    // work that waited longer: background is never starved.
    void interactiveFirstBackgroundAges()
    {
        ManualClock clock;
        HoldingBackend backend;
        Outcomes outcomes;
        BatchInferenceEngine engine(&backend, oneAtATime(), clock);
        engine.start();
        engine.submit(request(QStringLiteral("a"), 1, PriorityClass::Background), outcomes.callback());
        QTRY_COMPARE(backend.held(), 1);
        engine.submit(request(QStringLiteral("a"), 2, PriorityClass::Background), outcomes.callback());
        engine.submit(request(QStringLiteral("a"), 3, PriorityClass::Background), outcomes.callback());
        clock.advance(1s);
        engine.submit(request(QStringLiteral("b"), 10, PriorityClass::Interactive), outcomes.callback());
        QVERIFY(backend.releaseOne());
        QTRY_COMPARE(int(backend.seen().size()), 2);
        QCOMPARE(backend.seen().back()->members.front().request.priority, PriorityClass::Interactive);
        clock.advance(20s); // background item 2 has now waited 21 s
        engine.submit(request(QStringLiteral("b"), 11, PriorityClass::Interactive), outcomes.callback());
        QVERIFY(backend.releaseOne());
        QTRY_COMPARE(int(backend.seen().size()), 3);
        QCOMPARE(backend.seen().back()->members.front().request.priority, PriorityClass::Background);
        QCOMPARE(backend.seen().back()->members.front().request.body.value(QStringLiteral("n")).toInt(), 2);
        while (backend.releaseOne() || engine.counters().queued > 0)
            QTest::qWait(1);
        QTRY_COMPARE(outcomes.size(), 5);
    }

    // Background batches hold at most 3/4 of the in-flight slots, so
    // interactive work finds one while background work saturates the rest.
    void backgroundLeavesSlotsForInteractive()
    {
        HoldingBackend backend;
        Outcomes outcomes;
        BatchInferenceEngine engine(&backend, oneAtATime(4));
        engine.start();
        for (int i = 0; i < 10; ++i)
            engine.submit(request(QStringLiteral("a"), i, PriorityClass::Background), outcomes.callback());
        QTRY_COMPARE(backend.held(), 3);
        QTest::qWait(50);
        QCOMPARE(backend.held(), 3);
        engine.submit(request(QStringLiteral("b"), 99, PriorityClass::Interactive), outcomes.callback());
        QTRY_COMPARE(backend.held(), 4);
        QCOMPARE(backend.seen().back()->members.front().request.priority, PriorityClass::Interactive);
        EngineGauges g = engine.gauges();
        QCOMPARE(g.classQueued[size_t(PriorityClass::Background)], 7);
        while (backend.releaseOne() || engine.counters().queued > 0)
            QTest::qWait(1);
        QTRY_COMPARE(outcomes.size(), 11);
    }

    // A tenant's own limits refuse it with 429 (TENANT_LIMIT) and a
    // Retry-After of its own, and leave other tenants alone.
    void tenantLimitsRefuseThatTenantOnly()
    {
        ManualClock clock;
        HoldingBackend backend;
        Outcomes outcomes;
        EngineConfig c = oneAtATime(64);
        c.maxQueue = 16;
        BatchInferenceEngine engine(&backend, c, clock);
        TenantsConfig tenants;
        TenantPolicy paced;
        paced.rpm = 2;
        tenants.byId.insert(QStringLiteral("paced"), paced);
        TenantPolicy narrow;
        narrow.maxConcurrent = 1;
        tenants.byId.insert(QStringLiteral("narrow"), narrow);
        engine.setTenants(tenants);
        engine.start();

        for (int i = 0; i < 3; ++i)
            engine.submit(request(QStringLiteral("paced"), i), outcomes.callback());
        QTRY_COMPARE(outcomes.size(), 1);
        InferenceResult refused = outcomes.at(0);
        QCOMPARE(refused.status.reason, RejectReason::TenantLimit);
        QCOMPARE(refused.status.code, StatusCode::ResourceExhausted);
        QVERIFY2(refused.status.message.contains(QStringLiteral("2 requests per minute")), qPrintable(refused.status.message));
        QVERIFY(refused.status.retryAfter > 59s && refused.status.retryAfter <= 61s);

        engine.submit(request(QStringLiteral("narrow"), 1), outcomes.callback());
        engine.submit(request(QStringLiteral("narrow"), 2), outcomes.callback());
        QTRY_COMPARE(outcomes.size(), 2);
        QVERIFY(outcomes.at(1).status.message.contains(QStringLiteral("maxConcurrent 1")));

        // A full queue still admits a tenant holding less than an eighth of
        // maxQueue (up to maxQueue + maxQueue / 8 in all): one tenant's
        // flood (16 of 16 here) does not shut another out.
        QTRY_COMPARE(backend.held(), 3); // the admitted paced and narrow requests left the queue
        engine.setConfig([&] { EngineConfig held = c; held.rpmLimit = 1; return held; }()); // hold dispatch back
        int refusedFlood = 0;
        for (int i = 0; i < 20; ++i)
            engine.submit(request(QStringLiteral("flood"), i), [&](InferenceResult r) {
                if (r.status.reason == RejectReason::QueueFull)
                    ++refusedFlood;
            });
        QCOMPARE(refusedFlood, 4);
        Outcomes other;
        QVERIFY(engine.submit(request(QStringLiteral("other"), 1), other.callback()).admitted);
        QVERIFY(engine.submit(request(QStringLiteral("other"), 2), other.callback()).admitted);
        QCOMPARE(engine.counters().queued, quint64(18));
        const QList<TenantState> top = engine.topTenants(20);
        QVERIFY(!top.isEmpty());
        QCOMPARE(top.front().id, QStringLiteral("flood"));
        QCOMPARE(top.front().queued, 16);
        QCOMPARE(top.front().rejected, quint64(4));
        while (backend.releaseOne()) {
        }
        engine.stop();
    }

    // A flex call Sluice chose that the upstream sheds goes again on the
    // standard tier, without serviceTier, and is answered from there; the
    // flex call itself is not retried.
    void shedFlexFallsBackToStandard()
    {
        HoldingBackend backend;
        Outcomes outcomes;
        InferenceMetricsCollector metrics;
        metrics.setPublishInterval(0ms);
        BatchInferenceEngine engine(&backend, oneAtATime(4), Clock::steady(), &metrics);
        engine.start();
        InferenceRequest r = request(QStringLiteral("a"), 7, PriorityClass::Background);
        r.body.insert(QStringLiteral("serviceTier"), QStringLiteral("flex"));
        r.tier = ServiceTier::Flex;
        r.flexFallback = true;
        r.deadlineDeclared = true;
        r.timeout = 30min;
        engine.submit(r, outcomes.callback());
        QTRY_COMPARE(backend.held(), 1);
        QCOMPARE(backend.seen().front()->retry.maxAttempts, 1);
        QVERIFY(backend.releaseOne(/*shedFlex=*/true));
        QTRY_COMPARE(backend.held(), 1);
        const auto second = backend.seen().back();
        QVERIFY(!second->members.front().request.body.contains(QStringLiteral("serviceTier")));
        QCOMPARE(second->members.front().request.body.value(QStringLiteral("n")).toInt(), 7);
        QVERIFY(backend.releaseOne(true));
        QTRY_COMPARE(outcomes.size(), 1);
        const InferenceResult answer = outcomes.at(0);
        QVERIFY(answer.status.ok());
        QCOMPARE(answer.tier, ServiceTier::Standard);
        const auto tiers = metrics.tierTotals();
        QCOMPARE(tiers.at({QStringLiteral("m"), ServiceTier::Flex}).shed, quint64(1));
        QCOMPARE(tiers.at({QStringLiteral("m"), ServiceTier::Standard}).requests, quint64(1));
        QVERIFY(engine.counters().invariantHolds());
        QCOMPARE(engine.counters().completed, quint64(1));
    }

    // The cost of an answer is its tokens at the (model, tier) price, and
    // the saving is against the standard price of the same tokens.
    void costFollowsTokensAndTier()
    {
        InferenceMetricsCollector metrics;
        metrics.setPublishInterval(0ms);
        PriceTable prices;
        QString error;
        QVERIFY2(PriceTable::fromJson(QJsonObject{{QStringLiteral("m"),
                                                   QJsonObject{{QStringLiteral("standard"),
                                                                QJsonObject{{QStringLiteral("input"), 1.0},
                                                                            {QStringLiteral("output"), 4.0}}}}}},
                                      &prices, &error),
                 qPrintable(error));
        metrics.setPrices(prices);
        metrics.recordTierAnswer(QStringLiteral("m"), ServiceTier::Standard, 1'000'000, 500'000); // 1 + 2 = 3 USD
        metrics.recordTierAnswer(QStringLiteral("m"), ServiceTier::Flex, 1'000'000, 500'000);     // half: 1.5
        metrics.recordTierAnswer(QStringLiteral("m"), ServiceTier::Batch, 2'000'000, 0);          // half of 2: 1
        const MetricsSnapshot s = metrics.snapshot();
        QCOMPARE(s.tiers.size(), kServiceTiers);
        QCOMPARE(s.tiers[int(ServiceTier::Flex)].costUsd, 1.5);
        QCOMPARE(s.tiers[int(ServiceTier::Batch)].promptTokens, quint64(2'000'000));
        QCOMPARE(s.costUsd, 5.5);
        QCOMPARE(s.costStandardUsd, 8.0);
        // The "*" price for other models is built in and can be replaced.
        QCOMPARE(PriceTable().price(QStringLiteral("any"), ServiceTier::Priority).inputPerMillion, 0.30 * 1.8);
    }

    void tierRoutingChoosesTheCheapestThatMeetsTheDeadline_data()
    {
        QTest::addColumn<int>("op");
        QTest::addColumn<QString>("deadline");
        QTest::addColumn<QString>("bodyTier");
        QTest::addColumn<double>("observedFlex"); // 0: none yet
        QTest::addColumn<QString>("expected");
        const int gen = int(Operation::GenerateContent), stream = int(Operation::StreamGenerateContent);
        QTest::newRow("no deadline") << gen << QString() << QString() << 0.0 << "standard";
        QTest::newRow("90s") << gen << "90s" << QString() << 0.0 << "standard";
        QTest::newRow("30m") << gen << "30m" << QString() << 0.0 << "flex";
        QTest::newRow("6h") << gen << "6h" << QString() << 0.0 << "batch";
        QTest::newRow("6h stream") << stream << "6h" << QString() << 0.0 << "flex";
        QTest::newRow("body says priority") << gen << "6h" << "priority" << 0.0 << "priority";
        QTest::newRow("body says SERVICE_TIER_FLEX") << gen << QString() << "SERVICE_TIER_FLEX" << 0.0 << "flex";
        QTest::newRow("flex observed slow") << gen << "30m" << QString() << 1000.0 << "standard";
        QTest::newRow("flex observed fast") << gen << "90s" << QString() << 20.0 << "flex";
        QTest::newRow("countTokens") << int(Operation::CountTokens) << "6h" << QString() << 0.0 << "standard";
    }
    void tierRoutingChoosesTheCheapestThatMeetsTheDeadline()
    {
        QFETCH(int, op);
        QFETCH(QString, deadline);
        QFETCH(QString, bodyTier);
        QFETCH(double, observedFlex);
        QFETCH(QString, expected);
        const ServiceTier t = TierRouting::choose(
            Operation(op), bodyTier.isEmpty() ? std::nullopt : serviceTierFromName(bodyTier),
            deadline.isEmpty() ? std::nullopt : parseDuration(deadline), TierRoutingConfig{},
            observedFlex > 0 ? std::optional<double>(observedFlex) : std::nullopt);
        QCOMPARE(serviceTierName(t), expected);
    }

    void configSectionsNameTheFieldAtFault_data()
    {
        QTest::addColumn<QString>("section");
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("field");
        QTest::newRow("tenant weight") << "tenants" << QByteArray(R"({"defaults":{"weight":0}})") << "tenants.defaults.weight";
        QTest::newRow("tenant priority") << "tenants" << QByteArray(R"({"byId":{"evals":{"priority":"urgent"}}})")
                                         << "tenants.byId.evals.priority";
        QTest::newRow("tenant id") << "tenants" << QByteArray(R"({"byId":{"a b":{}}})") << "tenants.byId.a b";
        QTest::newRow("tenant deadline") << "tenants" << QByteArray(R"({"classes":{"background":{"deadline":"soon"}}})")
                                         << "tenants.classes.background.deadline";
        QTest::newRow("tenant unknown") << "tenants" << QByteArray(R"({"defaults":{"rps":1}})") << "tenants.defaults.rps";
        QTest::newRow("tiers duration") << "tiers" << QByteArray(R"({"batchMaxAge":"soon"})") << "tiers.batchMaxAge";
        QTest::newRow("tiers bytes") << "tiers" << QByteArray(R"({"batchMaxBytes":30000000})") << "tiers.batchMaxBytes";
        QTest::newRow("price tier") << "prices" << QByteArray(R"({"*":{"cheap":{"input":1}}})") << "prices.*.cheap";
        QTest::newRow("price value") << "prices" << QByteArray(R"({"*":{"flex":{"output":-1}}})") << "prices.*.flex.output";
    }
    void configSectionsNameTheFieldAtFault()
    {
        QFETCH(QString, section);
        QFETCH(QByteArray, json);
        QFETCH(QString, field);
        const QJsonObject o = QJsonDocument::fromJson(json).object();
        QString error;
        bool ok = true;
        if (section == QStringLiteral("tenants")) {
            TenantsConfig c;
            ok = TenantsConfig::fromJson(o, &c, &error);
        } else if (section == QStringLiteral("tiers")) {
            TierRoutingConfig c;
            ok = TierRoutingConfig::fromJson(o, &c, &error);
        } else {
            PriceTable c;
            ok = PriceTable::fromJson(o, &c, &error);
        }
        QVERIFY(!ok);
        QVERIFY2(error.startsWith(field + QStringLiteral(": ")), qPrintable(error));
    }

    void configSectionsRoundTrip()
    {
        const QByteArray json = R"({"defaults":{"weight":2,"priority":"background","deadline":"6h","rpm":60},
                                    "byId":{"key-0123456789abcdef":{"weight":8,"maxConcurrent":4}},
                                    "classes":{"interactive":{"weight":32}}})";
        TenantsConfig c;
        QString error;
        QVERIFY2(TenantsConfig::fromJson(QJsonDocument::fromJson(json).object(), &c, &error), qPrintable(error));
        QCOMPARE(c.policyFor(QStringLiteral("key-0123456789abcdef")).weight, 8.0);
        QCOMPARE(c.policyFor(QStringLiteral("key-0123456789abcdef")).rpm, 60); // from the defaults
        QCOMPARE(c.policyFor(QStringLiteral("someone")).priority, PriorityClass::Background);
        QCOMPARE(c.classWeights[0], 32.0);
        TenantsConfig back;
        QVERIFY(TenantsConfig::fromJson(c.toJson(), &back, &error));
        QVERIFY(back == c);
        QCOMPARE(tenantIdForKey("secret").size(), 20);
        QVERIFY(!tenantIdForKey("secret").contains(QStringLiteral("secret")));
        QCOMPARE(parseDuration(u"90s"), std::optional<milliseconds>(90s));
        QCOMPARE(parseDuration(u"1.5h"), std::optional<milliseconds>(90min));
        QCOMPARE(parseDuration(u"8d"), std::nullopt);
        QCOMPARE(formatDuration(6h), QStringLiteral("6h"));
    }
};

QTEST_GUILESS_MAIN(TestFairScheduling)
#include "tst_fairscheduling.moc"
