#include "core/metrics/pricetable.h"

#include <QJsonValue>

double defaultTierFactor(ServiceTier tier)
{
    switch (tier) {
    case ServiceTier::Standard: return 1.0;
    case ServiceTier::Flex: return 0.5;
    case ServiceTier::Priority: return 1.8;
    case ServiceTier::Batch: return 0.5;
    }
    return 1.0;
}

PriceTable::PriceTable()
{
    ModelPrices any;
    any.tiers[size_t(ServiceTier::Standard)] = TierPrice{0.30, 2.50};
    m_models.insert(QStringLiteral("*"), any);
}

TierPrice PriceTable::price(const QString &model, ServiceTier tier) const
{
    auto it = m_models.constFind(model);
    if (it == m_models.constEnd())
        it = m_models.constFind(QStringLiteral("*"));
    if (it == m_models.constEnd())
        return {};
    if (const auto &p = it->tiers[size_t(tier)])
        return *p;
    const TierPrice standard = it->tiers[size_t(ServiceTier::Standard)].value_or(TierPrice{});
    const double f = defaultTierFactor(tier);
    return {standard.inputPerMillion * f, standard.outputPerMillion * f};
}

double PriceTable::cost(const QString &model, ServiceTier tier, qint64 promptTokens, qint64 outputTokens) const
{
    const TierPrice p = price(model, tier);
    return (double(promptTokens) * p.inputPerMillion + double(outputTokens) * p.outputPerMillion) / 1e6;
}

bool PriceTable::fromJson(const QJsonObject &json, PriceTable *out, QString *error)
{
    PriceTable t;
    for (auto m = json.begin(); m != json.end(); ++m) {
        const QString path = QStringLiteral("prices.") + m.key();
        if (!m.value().isObject()) {
            *error = QStringLiteral("%1: expected an object of tier → {\"input\", \"output\"} (USD per million tokens)")
                         .arg(path);
            return false;
        }
        ModelPrices mp;
        const QJsonObject tiers = m.value().toObject();
        for (auto t2 = tiers.begin(); t2 != tiers.end(); ++t2) {
            const auto tier = serviceTierFromName(t2.key());
            const QString tpath = path + QLatin1Char('.') + t2.key();
            if (!tier || t2.key() == QLatin1StringView("unspecified")) {
                *error = QStringLiteral("%1: unknown tier; known: standard, flex, priority, batch").arg(tpath);
                return false;
            }
            if (!t2.value().isObject()) {
                *error = QStringLiteral("%1: expected {\"input\": USD, \"output\": USD} per million tokens").arg(tpath);
                return false;
            }
            const QJsonObject o = t2.value().toObject();
            TierPrice p;
            for (auto f = o.begin(); f != o.end(); ++f) {
                const bool input = f.key() == QLatin1StringView("input");
                if (!input && f.key() != QLatin1StringView("output")) {
                    *error = QStringLiteral("%1.%2: unknown key; known: input, output").arg(tpath, f.key());
                    return false;
                }
                if (!f.value().isDouble() || f.value().toDouble() < 0 || f.value().toDouble() > 1e6) {
                    *error = QStringLiteral("%1.%2: expected a price in USD per million tokens, 0..1000000")
                                 .arg(tpath, f.key());
                    return false;
                }
                (input ? p.inputPerMillion : p.outputPerMillion) = f.value().toDouble();
            }
            mp.tiers[size_t(*tier)] = p;
        }
        t.m_models.insert(m.key(), mp);
    }
    *out = t;
    return true;
}

QJsonObject PriceTable::toJson() const
{
    QJsonObject models;
    for (auto it = m_models.begin(); it != m_models.end(); ++it) {
        QJsonObject tiers;
        for (int i = 0; i < kServiceTiers; ++i) {
            if (const auto &p = it->tiers[size_t(i)])
                tiers.insert(serviceTierName(ServiceTier(i)),
                             QJsonObject{{QStringLiteral("input"), p->inputPerMillion},
                                         {QStringLiteral("output"), p->outputPerMillion}});
        }
        models.insert(it.key(), tiers);
    }
    return models;
}
