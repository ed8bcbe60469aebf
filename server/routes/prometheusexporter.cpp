#include "server/routes/prometheusexporter.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace {

constexpr double kLatencyBounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                     0.5,    1,     2.5,    5,     10,   30,    60,   120};

void header(QByteArray &out, const char *name, const char *type, const char *help)
{
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

// A label value as the exposition format wants it: backslash, double quote
// and newline escaped (a model name comes from a client's URL).
QByteArray labelValue(const QString &v)
{
    QByteArray out;
    const QByteArray utf8 = v.toUtf8();
    out.reserve(utf8.size());
    for (char c : utf8) {
        if (c == '\\' || c == '"')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

QByteArray number(double v)
{
    if (std::isinf(v))
        return v > 0 ? QByteArrayLiteral("+Inf") : QByteArrayLiteral("-Inf");
    return QByteArray::number(v, 'g', 12);
}

// One histogram series; `labels` is empty or `a="x",b="y",` (with the trailing comma).
void histogramSeries(QByteArray &out, const char *name, const QByteArray &labels, const LatencyHistogram &h)
{
    quint64 previous = 0;
    for (double le : kLatencyBounds) {
        // countBelow interpolates inside a bucket; keep the series integral and monotonic.
        quint64 c = quint64(std::llround(h.countBelow(uint64_t(le * 1e9))));
        c = std::min<quint64>(std::max(c, previous), h.count());
        previous = c;
        out += name;
        out += "_bucket{" + labels + "le=\"" + number(le) + "\"} " + QByteArray::number(c) + '\n';
    }
    out += name;
    out += "_bucket{" + labels + "le=\"+Inf\"} " + QByteArray::number(h.count()) + '\n';
    QByteArray tail;
    if (!labels.isEmpty())
        tail = '{' + labels.chopped(1) + '}';
    out += name;
    out += "_sum" + tail + ' ' + number(double(h.sumNs()) / 1e9) + '\n';
    out += name;
    out += "_count" + tail + ' ' + QByteArray::number(h.count()) + '\n';
}

void histogram(QByteArray &out, const char *name, const char *help, const LatencyHistogram &h)
{
    header(out, name, "histogram", help);
    histogramSeries(out, name, {}, h);
}

void gauge(QByteArray &out, const char *name, const char *help, double value)
{
    header(out, name, "gauge", help);
    out += name;
    out += ' ' + number(value) + '\n';
}

} // namespace

QByteArray PrometheusExporter::render(const Inputs &in)
{
    QByteArray out;
    out.reserve(8192);
    const WindowStats &total = in.snapshot.total;

    header(out, "sluice_requests_total", "counter", "HTTP requests answered by the gateway, by route and HTTP status code.");
    for (const auto &[key, count] : in.requests)
        out += "sluice_requests_total{route=\"" + key.first + "\",code=\"" + QByteArray::number(key.second) + "\"} "
            + QByteArray::number(count) + '\n';

    histogram(out, "sluice_request_duration_seconds",
              "Admission to answer of requests that went through the batching engine (successful ones).", in.latency);
    histogram(out, "sluice_queue_wait_seconds", "Admission to dispatch of batched requests.", in.queueWait);
    histogram(out, "sluice_upstream_duration_seconds", "Dispatch to upstream answer, per batch.", in.upstream);

    gauge(out, "sluice_queue_depth", "Requests waiting in the engine's queue.", in.gauges.queueDepth);
    gauge(out, "sluice_queue_capacity", "Queue capacity (maxQueue); admission refuses beyond it.", in.gauges.queueCapacity);
    gauge(out, "sluice_inflight_batches", "Batches being served by the upstream now.", in.gauges.inflightBatches);
    gauge(out, "sluice_backpressure", "How close admission is to refusing, 0 to 1.", in.gauges.backpressure);
    if (in.gauges.memoryLimitBytes > 0) {
        gauge(out, "sluice_memory_budget_used_bytes",
              "Memory admitted work holds: request bodies with their parsing and queueing, answers not yet sent.",
              double(in.gauges.memoryUsedBytes));
        gauge(out, "sluice_memory_budget_limit_bytes", "The memory budget (server.memoryBudgetBytes); beyond it new work gets 503.",
              double(in.gauges.memoryLimitBytes));
        header(out, "sluice_memory_budget_refusals_total", "counter", "Requests refused because the memory budget was full.");
        out += "sluice_memory_budget_refusals_total " + QByteArray::number(in.gauges.memoryRefusals) + '\n';
    }

    header(out, "sluice_time_to_first_token_seconds", "histogram",
           "Arrival to the first byte of the answer's content written to the client, by route and model: a stream's "
           "first event (streamGenerateContent), or the whole answer (generateContent).");
    for (const auto &[key, h] : in.firstToken)
        histogramSeries(out, "sluice_time_to_first_token_seconds",
                        "route=\"" + labelValue(key.first) + "\",model=\"" + labelValue(key.second) + "\",", h);

    header(out, "sluice_coalesced_total", "counter",
           "Requests answered successfully by another identical request's upstream call (in-flight coalescing).");
    out += "sluice_coalesced_total " + QByteArray::number(total.coalesced) + '\n';
    header(out, "sluice_cache_requests_total", "counter",
           "Gemini model calls by what the answer cache said: hit (served from it), miss (looked up, not found), "
           "bypass (not consulted: streaming, Cache-Control); counted while the cache is on.");
    out += "sluice_cache_requests_total{result=\"hit\"} " + QByteArray::number(total.cacheHits) + '\n';
    out += "sluice_cache_requests_total{result=\"miss\"} " + QByteArray::number(total.cacheMisses) + '\n';
    out += "sluice_cache_requests_total{result=\"bypass\"} " + QByteArray::number(total.cacheBypassed) + '\n';
    if (in.gauges.cacheMaxBytes > 0) {
        gauge(out, "sluice_cache_used_bytes", "Bytes the answer cache holds (keys, answers, overhead).",
              double(in.gauges.cacheUsedBytes));
        gauge(out, "sluice_cache_max_bytes", "The answer cache's bound (cache.maxBytes).", double(in.gauges.cacheMaxBytes));
        gauge(out, "sluice_cache_entries", "Answers in the cache.", double(in.gauges.cacheEntries));
        gauge(out, "sluice_cache_hit_ratio", "hits / (hits + misses) since start.", total.cacheHitRatio);
    }

    header(out, "sluice_batch_size", "histogram", "Members per dispatched batch.");
    {
        quint64 cumulative = 0;
        for (int b = 0; b < kBatchSizeBuckets - 1; ++b) {
            cumulative += total.batchSizeBuckets[size_t(b)];
            const int upper = (2 << b) - 1; // bucket b holds [2^b, 2^(b+1)-1]
            out += "sluice_batch_size_bucket{le=\"" + QByteArray::number(upper) + "\"} " + QByteArray::number(cumulative) + '\n';
        }
        out += "sluice_batch_size_bucket{le=\"+Inf\"} " + QByteArray::number(total.batches) + '\n';
        out += "sluice_batch_size_sum " + number(std::round(total.meanBatchSize * double(total.batches))) + '\n';
        out += "sluice_batch_size_count " + QByteArray::number(total.batches) + '\n';
    }

    // Priority classes (X-Sluice-Priority) and tenants.
    header(out, "sluice_class_queue_depth", "gauge", "Requests waiting in the engine's queue, by priority class.");
    for (const PriorityClassState &c : in.snapshot.classes)
        out += "sluice_class_queue_depth{class=\"" + c.name.toUtf8() + "\"} " + QByteArray::number(c.queued) + '\n';
    header(out, "sluice_class_requests_total", "counter",
           "Requests of a priority class by how they ended: ok, failed (errors, expired, cancelled), rejected (at admission).");
    for (const PriorityClassState &c : in.snapshot.classes) {
        const QByteArray cls = "sluice_class_requests_total{class=\"" + c.name.toUtf8() + "\",outcome=\"";
        out += cls + "ok\"} " + QByteArray::number(c.completed) + '\n';
        out += cls + "failed\"} " + QByteArray::number(c.failed) + '\n';
        out += cls + "rejected\"} " + QByteArray::number(c.rejected) + '\n';
    }
    header(out, "sluice_class_request_duration_seconds", "histogram",
           "Admission to answer of a priority class's successful requests.");
    for (int c = 0; c < kPriorityClasses; ++c)
        histogramSeries(out, "sluice_class_request_duration_seconds",
                        "class=\"" + priorityClassName(PriorityClass(c)).toUtf8() + "\",", in.classLatency[size_t(c)]);
    header(out, "sluice_tenant_queued", "gauge",
           "Requests a tenant has waiting in the queue (the 20 most active tenants; ids are API-key digests or "
           "X-Sluice-Tenant names).");
    for (const TenantState &t : in.snapshot.tenants)
        out += "sluice_tenant_queued{tenant=\"" + labelValue(t.id) + "\"} " + QByteArray::number(t.queued) + '\n';
    header(out, "sluice_tenant_requests_total", "counter",
           "A tenant's requests answered successfully (ok) and refused at admission (rejected), for the 20 most active.");
    for (const TenantState &t : in.snapshot.tenants) {
        const QByteArray tenant = "sluice_tenant_requests_total{tenant=\"" + labelValue(t.id) + "\",outcome=\"";
        out += tenant + "ok\"} " + QByteArray::number(t.completed) + '\n';
        out += tenant + "rejected\"} " + QByteArray::number(t.rejected) + '\n';
    }

    // Tiers and what the answers cost (the price table of the config file).
    header(out, "sluice_tier_requests_total", "counter",
           "Requests answered successfully by the upstream, by model and tier (standard, flex, priority, batch).");
    for (const auto &[key, t] : in.tiers)
        out += "sluice_tier_requests_total{model=\"" + labelValue(key.first) + "\",tier=\""
            + serviceTierName(key.second).toUtf8() + "\"} " + QByteArray::number(t.requests) + '\n';
    header(out, "sluice_flex_fallbacks_total", "counter",
           "Flex calls Sluice chose that the upstream shed (503) or left unanswered too long, sent again on the "
           "standard tier, by model.");
    for (const auto &[key, t] : in.tiers)
        if (key.second == ServiceTier::Flex)
            out += "sluice_flex_fallbacks_total{model=\"" + labelValue(key.first) + "\"} " + QByteArray::number(t.shed)
                + '\n';
    header(out, "sluice_cost_usd_total", "counter",
           "What the answers cost at the configured prices (USD), by model and tier.");
    for (const auto &[key, t] : in.tiers)
        out += "sluice_cost_usd_total{model=\"" + labelValue(key.first) + "\",tier=\""
            + serviceTierName(key.second).toUtf8() + "\"} " + number(t.costUsd) + '\n';
    header(out, "sluice_cost_standard_equivalent_usd_total", "counter",
           "What the same answers would have cost on the standard tier (USD), by model: minus sluice_cost_usd_total, "
           "the saving.");
    {
        std::map<QString, double> standard;
        for (const auto &[key, t] : in.tiers)
            standard[key.first] += t.standardCostUsd;
        for (const auto &[model, usd] : standard)
            out += "sluice_cost_standard_equivalent_usd_total{model=\"" + labelValue(model) + "\"} " + number(usd) + '\n';
    }
    header(out, "sluice_batch_mode_requests", "gauge",
           "Requests held for Batch Mode: gathering (job not sent yet) and waiting (not answered yet).");
    out += "sluice_batch_mode_requests{state=\"gathering\"} " + QByteArray::number(in.gauges.batchMode.gathering) + '\n';
    out += "sluice_batch_mode_requests{state=\"waiting\"} " + QByteArray::number(in.gauges.batchMode.waiting) + '\n';
    gauge(out, "sluice_batch_mode_jobs_running", "Batch Mode jobs sent upstream and not finished.", in.gauges.batchMode.jobsRunning);
    header(out, "sluice_batch_mode_jobs_total", "counter", "Batch Mode jobs sent upstream since start.");
    out += "sluice_batch_mode_jobs_total " + QByteArray::number(in.gauges.batchMode.jobsSubmitted) + '\n';

    header(out, "sluice_tokens_total", "counter", "Tokens reported by the upstream, by kind.");
    out += "sluice_tokens_total{kind=\"prompt\"} " + QByteArray::number(total.promptTokens) + '\n';
    out += "sluice_tokens_total{kind=\"output\"} " + QByteArray::number(total.outputTokens) + '\n';

    header(out, "sluice_rejected_total", "counter", "Requests refused at admission or before dispatch, by reason.");
    QMap<QString, quint64> reasons = total.rejections;
    for (const char *r : {"queue_full", "draining", "circuit_open", "quota_exhausted", "tenant_limit"})
        if (!reasons.contains(QLatin1String(r)))
            reasons.insert(QLatin1String(r), 0);
    for (auto it = reasons.cbegin(); it != reasons.cend(); ++it)
        out += "sluice_rejected_total{reason=\"" + it.key().toUtf8() + "\"} " + QByteArray::number(it.value()) + '\n';

    // Every HTTP call sent upstream, counted where it is sent: the count to
    // compare with the upstream's own (quota, bills, the simulator's stats).
    header(out, "sluice_upstream_calls_total", "counter",
           "HTTP calls sent upstream, by kind (single, pack, repack, retry, embed_merge) and the answer's HTTP status "
           "(0: no answer, a transport error or a timeout).");
    for (int k = 0; k < kUpstreamCallKinds; ++k) {
        // Every kind appears, so rate() works from the first scrape.
        if (std::none_of(in.upstreamCalls.begin(), in.upstreamCalls.end(),
                         [k](const auto &e) { return int(e.first.first) == k; }))
            out += "sluice_upstream_calls_total{kind=\"" + upstreamCallKindName(UpstreamCallKind(k)).toUtf8()
                + "\",code=\"200\"} 0\n";
    }
    for (const auto &[key, count] : in.upstreamCalls)
        out += "sluice_upstream_calls_total{kind=\"" + upstreamCallKindName(key.first).toUtf8() + "\",code=\""
            + QByteArray::number(key.second) + "\"} " + QByteArray::number(count) + '\n';

    // The same attempts by model and how they ended, retries included: the
    // failures an upstream counts, which a request retried to success hides.
    header(out, "sluice_upstream_attempts_total", "counter",
           "HTTP attempts sent upstream (first tries, retries, packs, repacks, passthroughs), by model (empty for the "
           "models list/get calls) and outcome: ok (2xx), 429, 4xx, 5xx, timeout (no answer by the deadline), "
           "connection_error (no answer), cancelled (abandoned at shutdown), other (1xx/3xx).");
    {
        // Every outcome of every model seen appears, so rate() works from the first scrape.
        std::map<QString, std::map<QString, quint64>> byModel;
        for (const UpstreamAttemptCount &a : in.snapshot.upstreamAttempts)
            byModel[a.model][a.outcome] += a.attempts;
        for (const auto &[model, outcomes] : byModel) {
            for (int k = 0; k < kUpstreamAttemptOutcomes; ++k) {
                const QString outcome = upstreamAttemptOutcomeName(UpstreamAttemptOutcome(k));
                const auto it = outcomes.find(outcome);
                out += "sluice_upstream_attempts_total{model=\"" + labelValue(model) + "\",outcome=\"" + outcome.toUtf8()
                    + "\"} " + QByteArray::number(it == outcomes.end() ? 0 : it->second) + '\n';
            }
        }
    }

    header(out, "sluice_upstream_requests_total", "counter",
           "HTTP calls sent upstream, by the answer's HTTP status (0: no answer); the sum over kinds of sluice_upstream_calls_total.");
    {
        std::map<int, quint64> byCode;
        for (const auto &[key, count] : in.upstreamCalls)
            byCode[key.second] += count;
        if (byCode.empty())
            byCode[200] = 0;
        for (const auto &[code, count] : byCode)
            out += "sluice_upstream_requests_total{code=\"" + QByteArray::number(code) + "\"} " + QByteArray::number(count) + '\n';
    }

    header(out, "sluice_pack_members_total", "counter",
           "Members of pack calls: answered from a pack answer, repacked (missing from it, asked again), or failed.");
    out += "sluice_pack_members_total{outcome=\"answered\"} " + QByteArray::number(total.packAnswered) + '\n';
    out += "sluice_pack_members_total{outcome=\"repacked\"} " + QByteArray::number(total.packRepacked) + '\n';
    out += "sluice_pack_members_total{outcome=\"failed\"} " + QByteArray::number(total.packFailed) + '\n';

    header(out, "sluice_quota_limit", "gauge",
           "The upstream budget's limit per model and dimension (rpm, tpm: input tokens, rpd) and where it comes from "
           "(config, learned from a 429, probe: assumed until a 429 teaches it); absent without a limit.");
    for (const ModelQuotaState &m : in.snapshot.quota) {
        for (const auto &[dimension, state] : {std::pair{"rpm", &m.rpm}, std::pair{"tpm", &m.tpm}, std::pair{"rpd", &m.rpd}}) {
            if (state->limit > 0)
                out += "sluice_quota_limit{model=\"" + labelValue(m.model) + "\",dimension=\"" + dimension + "\",source=\""
                    + state->source.toUtf8() + "\"} " + QByteArray::number(state->limit) + '\n';
        }
    }
    header(out, "sluice_quota_used_ratio", "gauge",
           "Share of the upstream budget's limit used in its current window, per model and dimension (0 without a limit).");
    for (const ModelQuotaState &m : in.snapshot.quota) {
        for (const auto &[dimension, state] : {std::pair{"rpm", &m.rpm}, std::pair{"tpm", &m.tpm}, std::pair{"rpd", &m.rpd}})
            out += "sluice_quota_used_ratio{model=\"" + labelValue(m.model) + "\",dimension=\"" + dimension + "\"} "
                + number(state->usedRatio) + '\n';
    }

    gauge(out, "sluice_latency_drift_score",
          "LatencyDriftSignal score against the performance baseline (1.0 = drift threshold; 0 without a baseline).",
          in.driftScore);
    gauge(out, "sluice_latency_drift_state", "Latency drift state: 0 ok, 1 warn, 2 drift, -1 unknown (no baseline yet).",
          in.driftState);
    gauge(out, "sluice_stream_clients", "Connected /api/v1/stream WebSocket clients.", in.streamClients);
    header(out, "sluice_stream_dropped_frames_total", "counter", "Snapshot frames not sent to backed-up stream clients.");
    out += "sluice_stream_dropped_frames_total " + QByteArray::number(in.streamDroppedFrames) + '\n';

    if (in.budgetStore) {
        const SharedBudget::Status &b = *in.budgetStore;
        gauge(out, "sluice_budget_store_up",
              "1 while the upstream budget is shared through Redis (--budget-store), 0 while this replica is on its own.",
              b.state == SharedBudget::State::Shared ? 1 : 0);
        gauge(out, "sluice_budget_store_share_of",
              "The N of the 1/N of every limit this replica spends on its own (1 while shared).", b.shareOf);
        gauge(out, "sluice_budget_store_replicas", "Replicas registered in the budget store at the last heartbeat.",
              b.replicas);
        header(out, "sluice_budget_store_fallbacks_total", "counter", "Times the budget store became unreachable.");
        out += "sluice_budget_store_fallbacks_total " + QByteArray::number(b.fallbacks) + '\n';
        header(out, "sluice_budget_store_errors_total", "counter", "Budget store operations that failed.");
        out += "sluice_budget_store_errors_total " + QByteArray::number(b.errors) + '\n';
        header(out, "sluice_budget_store_reservations_total", "counter",
               "Reservations asked of the budget store: granted, or denied (the cluster's budget was spent for now).");
        out += "sluice_budget_store_reservations_total{result=\"granted\"} " + QByteArray::number(b.reservations) + '\n';
        out += "sluice_budget_store_reservations_total{result=\"denied\"} " + QByteArray::number(b.denials) + '\n';
        header(out, "sluice_budget_store_reservation_seconds", "summary", "Round trips of reservations to the budget store.");
        out += "sluice_budget_store_reservation_seconds_sum " + number(b.reserveSecondsSum) + '\n';
        out += "sluice_budget_store_reservation_seconds_count " + QByteArray::number(b.reserveCount) + '\n';
    }
    return out;
}
