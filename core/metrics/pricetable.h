#pragma once

#include "core/engine/scheduling.h"

#include <QHash>
#include <QJsonObject>
#include <QString>

#include <array>
#include <optional>

// What the upstream charges, per model and tier, in USD per million tokens
// (`prices` in the config file). A model not listed takes the "*" entry; a
// tier not given takes the model's standard price times the tier's factor
// (flex and batch 0.5, priority 1.8: Gemini's published discounts and
// premium). The built-in "*" entry is gemini-2.5-flash's paid-tier price
// (input $0.30, output $2.50 per million tokens) — set your own models'
// prices: these are estimates for a dashboard, not a bill.
//
// Thread: plain value type.
struct TierPrice {
    double inputPerMillion = 0;
    double outputPerMillion = 0;

    bool operator==(const TierPrice &) const = default;
};

struct ModelPrices {
    std::array<std::optional<TierPrice>, kServiceTiers> tiers; // by ServiceTier

    bool operator==(const ModelPrices &) const = default;
};

class PriceTable
{
public:
    PriceTable(); // the built-in "*" entry only

    TierPrice price(const QString &model, ServiceTier tier) const;
    double cost(const QString &model, ServiceTier tier, qint64 promptTokens, qint64 outputTokens) const;

    // {"*": {"standard": {"input": 0.30, "output": 2.50}, "flex": {...}},
    //  "gemini-2.5-pro": {...}}; a listed model replaces the built-in
    // entry of that name. Errors name the path ("prices.gemini-2.5-pro.flex.input").
    static bool fromJson(const QJsonObject &json, PriceTable *out, QString *error);
    QJsonObject toJson() const;

    bool operator==(const PriceTable &) const = default;

private:
    QHash<QString, ModelPrices> m_models;
};

// The factor a tier's price is of the standard one when not configured.
double defaultTierFactor(ServiceTier tier);
