// Types and tolerant parsing of the /api/v1/stream messages (see PROTOCOL.md).
//
// Every parser here takes `unknown` and returns a well-typed value: missing or
// wrongly typed fields become zeros / empty values, unknown fields are dropped,
// unknown message types become `null`. The dashboard never throws on a message.
// Exception: fields added after the first version of the protocol (the quota
// figures, the upstream attempts by outcome, the memory budget, the time to
// first token, the coalesced requests, the answer cache, the priority
// classes, tiers, cost, tenants and Batch Mode) are null when absent, so a page fed by an older gateway shows "—" for them instead of a
// made-up 0.

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export interface BatchSizeBucket {
  size: string; // "1", "2-3", ..., "1024+"
  batches: number;
}

export interface WindowStats {
  seconds: number;
  requests: number;
  ok: number;
  failed: number;
  expired: number;
  cancelled: number;
  requestsPerSecond: number;
  latency: LatencySummary;
  queueWait: LatencySummary;
  upstream: LatencySummary;
  /**
   * Time to first token of streamGenerateContent answers: arrival at the
   * gateway to the first SSE event written to the client (count 0: no stream
   * in the window). null from an older gateway.
   */
  firstToken: LatencySummary | null;
  /** Requests answered by another identical request's upstream call (single flight); null from an older gateway. */
  coalesced: number | null;
  /** The answer cache's lookups; null from an older gateway. */
  cache: CacheLookups | null;
  promptTokens: number;
  outputTokens: number;
  promptTokensPerSecond: number;
  outputTokensPerSecond: number;
  batches: number;
  meanBatchSize: number;
  batchSizes: BatchSizeBucket[];
  /** HTTP calls actually sent upstream in the window: every attempt (firsts, packs, repacks, retries). */
  upstreamCalls: number;
  /**
   * Those calls by kind ("single", "pack", "repack", "retry", "embed_merge";
   * only non-zero kinds are present). null: the gateway is older than the field.
   */
  upstreamCallsByKind: Record<string, number> | null;
  /** Upstream calls the upstream answered 429; null from an older gateway. */
  upstream429: number | null;
  /**
   * The same upstream HTTP attempts by how they ended: "ok", "429", "4xx",
   * "5xx", "timeout", "connection_error", "cancelled", "other" (only
   * non-zero outcomes are present). null: the gateway is older than the field.
   */
  upstreamAttemptsByOutcome: Record<string, number> | null;
  /**
   * Attempts that did not end "ok", retried or not: every failed HTTP call,
   * retries counted each time (what the upstream counts as failed calls), so
   * it can exceed the requests that failed. null from an older gateway.
   */
  upstreamAttemptsFailed: number | null;
  /** Batches with at least one failed member (after retries). */
  upstreamErrors: number;
  /** Members of pack calls by outcome; null from an older gateway. */
  packMembers: PackMembers | null;
  /**
   * ok / upstreamCalls: what one unit of quota buys, the pack factor in
   * practice. The gateway sends 0 when there were no upstream calls; null
   * from an older gateway.
   */
  answersPerUpstreamCall: number | null;
  rejected: number;
  rejections: Record<string, number>;
}

/** What the answer cache said to the Gemini model calls of a window. */
export interface CacheLookups {
  /** Answered from the cache. */
  hits: number;
  /** Looked up and not found. */
  misses: number;
  /** Not looked up: the cache is off, a stream, Cache-Control. */
  bypassed: number;
  /** hits / (hits + misses), 0..1; the gateway sends 0 when there was no lookup. */
  hitRatio: number;
}

export interface PackMembers {
  /** answered from a pack answer */
  answered: number;
  /** missing from a pack answer, asked again in a repack */
  repacked: number;
  /** failed after the last repack */
  failed: number;
}

/** Where a quota limit comes from (UpstreamBudget); unknown values are kept as they come. */
export type QuotaSource = 'none' | 'config' | 'learned' | 'probe';

export interface QuotaDimension {
  /** In force; 0 = no limit. */
  limit: number;
  /**
   * "none" (no limit), "config" (rpmLimit/tpmLimit/rpdLimit), "learned" (from
   * an upstream 429), "probe" (an assumed RPM raised until the first 429).
   */
  source: QuotaSource | (string & {});
  /** In the current window: calls per minute (rpm), input tokens per minute (tpm), calls per day (rpd). */
  used: number;
  /** used / limit; 0 without a limit. */
  usedRatio: number;
  /** > 0 while an upstream 429's RetryInfo blocks this dimension. */
  blockedForMs: number;
}

export const QUOTA_DIMENSIONS = ['rpm', 'tpm', 'rpd'] as const;
export type QuotaDimensionKey = (typeof QUOTA_DIMENSIONS)[number];

/** One model's upstream budget; a dimension is null when the entry lacks it. */
export interface ModelQuota {
  model: string;
  rpm: QuotaDimension | null;
  tpm: QuotaDimension | null;
  rpd: QuotaDimension | null;
}

/**
 * The process-wide budget for memory that admitted work holds (request
 * bodies with their parsing, answers not yet sent): MemoryBudget, issue 17.
 */
export interface MemoryBudget {
  /** Held now. */
  usedBytes: number;
  /** `server.memoryBudgetBytes` (`--memory-budget-bytes`); 0 = no budget (still charged and counted, never refused). */
  limitBytes: number;
  /** Requests refused since start because they did not fit (each answered 503 with Retry-After). */
  refusals: number;
}

/** The answer cache now (its lookups are in each window's `cache`). */
export interface AnswerCache {
  enabled: boolean;
  /** Bytes the cached answers take. */
  usedBytes: number;
  /** The cache's size limit in bytes. */
  maxBytes: number;
  /** Answers held. */
  entries: number;
}

/** Upstream HTTP attempts for one model that ended one way, since start. */
export interface UpstreamAttemptCount {
  /** The bare model id; "" for the models list/get calls. */
  model: string;
  /** As in WindowStats.upstreamAttemptsByOutcome. */
  outcome: string;
  attempts: number;
}

/** Priority classes (X-Sluice-Priority), in priority order: how the gateway always sends them. */
export const PRIORITY_CLASSES = ['interactive', 'standard', 'background'] as const;
export type PriorityClassName = (typeof PRIORITY_CLASSES)[number];

/** One priority class at snapshot time (issue 15). */
export interface PriorityClassStats {
  /** "interactive", "standard", "background"; another name is kept as it comes. */
  name: string;
  /** Waiting in Sluice's queue now. */
  queued: number;
  /** Answered OK, since start. */
  completed: number;
  /** Answered with an error, expired or cancelled, since start. */
  failed: number;
  /** Refused at admission (queue, tenant limits, budget), since start. */
  rejected: number;
  /** Last 60 s, successful requests, admission to answer. */
  latency: LatencySummary;
  /** Last 60 s, admission to dispatch. */
  queueWait: LatencySummary;
}

/** Upstream service tiers, in the order the gateway always sends them. */
export const SERVICE_TIERS = ['standard', 'flex', 'priority', 'batch'] as const;
export type ServiceTierName = (typeof SERVICE_TIERS)[number];

/** One upstream service tier: what the answers it gave cost, since start. */
export interface TierStats {
  /** "standard", "flex", "priority", "batch" (Batch Mode); another name is kept as it comes. */
  name: string;
  /** Answered OK through this tier. */
  requests: number;
  /** Flex only: shed by the upstream (503), then sent on as standard. */
  shed: number;
  promptTokens: number;
  outputTokens: number;
  /** At the configured price of (model, tier). */
  costUsd: number;
}

/** What the answers cost since start. */
export interface CostSummary {
  usd: number;
  /** What they would have cost all on the standard tier. */
  standardUsd: number;
  /** standardUsd - usd; negative when dearer tiers (priority) outweigh the cheaper ones. */
  savingUsd: number;
  /** savingUsd / standardUsd; the gateway sends 0 when nothing cost. */
  savingRatio: number;
}

/** One tenant (an API key's digest "key-…", or an X-Sluice-Tenant name) at snapshot time. */
export interface TenantStats {
  id: string;
  /** Its share of the upstream within a class (weighted fair queuing). */
  weight: number;
  queued: number;
  /** Admitted and not yet answered. */
  inflight: number;
  /** Answered OK, since start. */
  completed: number;
  /** Refused at admission, since start (its own limits included). */
  rejected: number;
}

/** Gemini Batch Mode at snapshot time. */
export interface BatchModeState {
  enabled: boolean;
  /** Requests gathered for the next job. */
  gathering: number;
  /** Upstream jobs not finished. */
  jobsRunning: number;
  /** Clients still waiting for an answer from a job (open connection or operation). */
  waiting: number;
  /** Since start. */
  jobsSubmitted: number;
  requestsSubmitted: number;
}

export interface MetricsSnapshot {
  timestampMs: number;
  uptimeSeconds: number;
  queueDepth: number;
  queueCapacity: number;
  inflightBatches: number;
  maxInflightBatches: number;
  backpressure: number;
  draining: boolean;
  /** null from a gateway older than the memory budget. */
  memoryBudget: MemoryBudget | null;
  /** null from a gateway older than the answer cache. */
  answerCache: AnswerCache | null;
  last1s: WindowStats;
  last10s: WindowStats;
  last60s: WindowStats;
  total: WindowStats;
  /** One entry per model the upstream budget knows, by name; null from an older gateway. */
  quota: ModelQuota[] | null;
  /** Every upstream attempt since start by model and outcome; null from an older gateway. */
  upstreamAttempts: UpstreamAttemptCount[] | null;
  /** The priority classes as sent (three, in priority order); null from an older gateway. */
  classes: PriorityClassStats[] | null;
  /** The service tiers as sent (four); null from an older gateway. */
  tiers: TierStats[] | null;
  /** null from an older gateway (or when `usd` is not a number). */
  cost: CostSummary | null;
  /** The most active tenants, at most 20, most active first; null from an older gateway. */
  tenants: TenantStats[] | null;
  /** null from an older gateway (or when `enabled` is not a boolean). */
  batchMode: BatchModeState | null;
}

/** EngineConfig JSON: kept as a flat-able object so new knobs show up unchanged. */
export type EngineConfig = Record<string, ConfigValue>;
export type ConfigValue = number | string | boolean | null | { [key: string]: ConfigValue };

export interface Upstream {
  kind: string; // "simulator" | "gemini" (others shown as-is)
  model: string;
}

export type LoadTestState = 'idle' | 'running' | 'finished' | 'failed';

export interface CurvePoint {
  users: number;
  offeredRps: number;
  achievedRps: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  queueDepthMean: number;
  queueDepthMax: number;
  errorRate: number;
}

export interface Inflection {
  users: number;
  queueDepth: number;
  throughputRps: number;
  p95Ms: number;
}

export interface LoadTest {
  state: LoadTestState;
  step: number;
  steps: number;
  users: number;
  curve: CurvePoint[];
  inflection: Inflection | null;
  error: string | null;
}

export type DriftState = 'ok' | 'warn' | 'drift' | 'unknown';

export interface Drift {
  state: DriftState;
  score: number;
  baseline: { createdAt: string; [key: string]: unknown } | null;
}

/** A page of history: the newest entries older than `before`, oldest first (PROTOCOL.md `history`). */
export interface HistoryPage {
  /** The `before` of the request this answers; null for "from the newest". */
  before: number | null;
  points: MetricsSnapshot[];
  /** Older entries exist than the first of `points`. */
  more: boolean;
}

export type StreamMessage =
  | {
      type: 'hello';
      version: string;
      config: EngineConfig;
      /** The newest snapshot when the connection opened; null before the server's first tick. */
      snapshot: MetricsSnapshot | null;
      /** Entries the server's history holds (the hello's snapshot among them); the client pages them. */
      historyPoints: number;
      /** Only from gateways before history paging, which sent it all here; otherwise empty. */
      history: MetricsSnapshot[];
      upstream: Upstream;
      rateHz: number;
    }
  | ({ type: 'history' } & HistoryPage)
  | { type: 'snapshot'; snapshot: MetricsSnapshot }
  | { type: 'config'; config: EngineConfig }
  | ({ type: 'loadtest' } & LoadTest)
  | ({ type: 'drift' } & Drift)
  | { type: 'dropped'; count: number };

// ---------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown): Obj {
  return isObj(v) ? v : {};
}

/** A finite number, or `fallback` (0) for anything else. */
export function num(v: unknown, fallback = 0): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

/** A finite number, or null when absent or not a number (a field an older gateway does not send). */
function optNum(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function counts(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(obj(v))) out[k] = num(n);
  return out;
}

function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' ? v : fallback;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], fallback: T): T {
  return typeof v === 'string' && (allowed as readonly string[]).includes(v) ? (v as T) : fallback;
}

export function parseLatency(v: unknown): LatencySummary {
  const o = obj(v);
  return {
    count: num(o.count),
    meanMs: num(o.meanMs),
    p50Ms: num(o.p50Ms),
    p95Ms: num(o.p95Ms),
    p99Ms: num(o.p99Ms),
    p999Ms: num(o.p999Ms),
    maxMs: num(o.maxMs),
  };
}

/** A window's answer-cache lookups, or null when the window has none (an older gateway). */
export function parseCacheLookups(v: unknown): CacheLookups | null {
  if (!isObj(v)) return null;
  return { hits: num(v.hits), misses: num(v.misses), bypassed: num(v.bypassed), hitRatio: num(v.hitRatio) };
}

export function parseWindow(v: unknown): WindowStats {
  const o = obj(v);
  const pm = isObj(o.packMembers) ? o.packMembers : null;
  const batchSizes = Array.isArray(o.batchSizes)
    ? o.batchSizes.map((b) => ({ size: str(obj(b).size, '?'), batches: num(obj(b).batches) }))
    : [];
  return {
    seconds: num(o.seconds),
    requests: num(o.requests),
    ok: num(o.ok),
    failed: num(o.failed),
    expired: num(o.expired),
    cancelled: num(o.cancelled),
    requestsPerSecond: num(o.requestsPerSecond),
    latency: parseLatency(o.latency),
    queueWait: parseLatency(o.queueWait),
    upstream: parseLatency(o.upstream),
    firstToken: isObj(o.firstToken) ? parseLatency(o.firstToken) : null,
    coalesced: optNum(o.coalesced),
    cache: parseCacheLookups(o.cache),
    promptTokens: num(o.promptTokens),
    outputTokens: num(o.outputTokens),
    promptTokensPerSecond: num(o.promptTokensPerSecond),
    outputTokensPerSecond: num(o.outputTokensPerSecond),
    batches: num(o.batches),
    meanBatchSize: num(o.meanBatchSize),
    batchSizes,
    upstreamCalls: num(o.upstreamCalls),
    upstreamCallsByKind: isObj(o.upstreamCallsByKind) ? counts(o.upstreamCallsByKind) : null,
    upstream429: optNum(o.upstream429),
    upstreamAttemptsByOutcome: isObj(o.upstreamAttemptsByOutcome) ? counts(o.upstreamAttemptsByOutcome) : null,
    upstreamAttemptsFailed: optNum(o.upstreamAttemptsFailed),
    upstreamErrors: num(o.upstreamErrors),
    packMembers: pm ? { answered: num(pm.answered), repacked: num(pm.repacked), failed: num(pm.failed) } : null,
    answersPerUpstreamCall: optNum(o.answersPerUpstreamCall),
    rejected: num(o.rejected),
    rejections: counts(o.rejections),
  };
}

function parseQuotaDimension(v: unknown): QuotaDimension | null {
  if (!isObj(v)) return null;
  return {
    limit: num(v.limit),
    source: str(v.source, 'none'),
    used: num(v.used),
    usedRatio: num(v.usedRatio),
    blockedForMs: num(v.blockedForMs),
  };
}

export function parseModelQuota(v: unknown): ModelQuota {
  const o = obj(v);
  return { model: str(o.model, '?'), rpm: parseQuotaDimension(o.rpm), tpm: parseQuotaDimension(o.tpm), rpd: parseQuotaDimension(o.rpd) };
}

/** The memory budget, or null when the snapshot has none or its numbers are not numbers. */
export function parseMemoryBudget(v: unknown): MemoryBudget | null {
  if (!isObj(v)) return null;
  const usedBytes = optNum(v.usedBytes);
  const limitBytes = optNum(v.limitBytes);
  if (usedBytes === null || limitBytes === null) return null;
  return { usedBytes, limitBytes, refusals: num(v.refusals) };
}

/** The answer cache, or null when the snapshot has none or does not say whether it is on. */
export function parseAnswerCache(v: unknown): AnswerCache | null {
  if (!isObj(v) || typeof v.enabled !== 'boolean') return null;
  return { enabled: v.enabled, usedBytes: num(v.usedBytes), maxBytes: num(v.maxBytes), entries: num(v.entries) };
}

function parseAttemptCount(v: Obj): UpstreamAttemptCount {
  return { model: str(v.model), outcome: str(v.outcome, '?'), attempts: num(v.attempts) };
}

export function parsePriorityClass(v: Obj): PriorityClassStats {
  return {
    name: str(v.name, '?'),
    queued: num(v.queued),
    completed: num(v.completed),
    failed: num(v.failed),
    rejected: num(v.rejected),
    latency: parseLatency(v.latency),
    queueWait: parseLatency(v.queueWait),
  };
}

export function parseTier(v: Obj): TierStats {
  return {
    name: str(v.name, '?'),
    requests: num(v.requests),
    shed: num(v.shed),
    promptTokens: num(v.promptTokens),
    outputTokens: num(v.outputTokens),
    costUsd: num(v.costUsd),
  };
}

/** The cost summary, or null when the snapshot has none or its `usd` is not a number. */
export function parseCost(v: unknown): CostSummary | null {
  if (!isObj(v)) return null;
  const usd = optNum(v.usd);
  if (usd === null) return null;
  return { usd, standardUsd: num(v.standardUsd), savingUsd: num(v.savingUsd), savingRatio: num(v.savingRatio) };
}

export function parseTenant(v: Obj): TenantStats {
  return {
    id: str(v.id, '?'),
    weight: num(v.weight, 1),
    queued: num(v.queued),
    inflight: num(v.inflight),
    completed: num(v.completed),
    rejected: num(v.rejected),
  };
}

/** Batch Mode, or null when the snapshot has none or does not say whether it is on. */
export function parseBatchMode(v: unknown): BatchModeState | null {
  if (!isObj(v) || typeof v.enabled !== 'boolean') return null;
  return {
    enabled: v.enabled,
    gathering: num(v.gathering),
    jobsRunning: num(v.jobsRunning),
    waiting: num(v.waiting),
    jobsSubmitted: num(v.jobsSubmitted),
    requestsSubmitted: num(v.requestsSubmitted),
  };
}

/** An array's object entries through `parse`, or null when it is not an array (a field an older gateway does not send). */
function optList<T>(v: unknown, parse: (o: Obj) => T): T[] | null {
  return Array.isArray(v) ? v.filter(isObj).map(parse) : null;
}

export function parseSnapshot(v: unknown): MetricsSnapshot {
  const o = obj(v);
  return {
    timestampMs: num(o.timestampMs),
    uptimeSeconds: num(o.uptimeSeconds),
    queueDepth: num(o.queueDepth),
    queueCapacity: num(o.queueCapacity),
    inflightBatches: num(o.inflightBatches),
    maxInflightBatches: num(o.maxInflightBatches),
    backpressure: num(o.backpressure),
    draining: o.draining === true,
    memoryBudget: parseMemoryBudget(o.memoryBudget),
    answerCache: parseAnswerCache(o.answerCache),
    last1s: parseWindow(o.last1s),
    last10s: parseWindow(o.last10s),
    last60s: parseWindow(o.last60s),
    total: parseWindow(o.total),
    quota: Array.isArray(o.quota) ? o.quota.filter(isObj).map(parseModelQuota) : null,
    upstreamAttempts: Array.isArray(o.upstreamAttempts) ? o.upstreamAttempts.filter(isObj).map(parseAttemptCount) : null,
    classes: optList(o.classes, parsePriorityClass),
    tiers: optList(o.tiers, parseTier),
    cost: parseCost(o.cost),
    tenants: optList(o.tenants, parseTenant),
    batchMode: parseBatchMode(o.batchMode),
  };
}

function parseConfigValue(v: unknown): ConfigValue | undefined {
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || v === null) return v;
  if (isObj(v)) return parseConfig(v);
  return undefined; // arrays and the like are not knobs
}

export function parseConfig(v: unknown): EngineConfig {
  const out: EngineConfig = {};
  for (const [k, val] of Object.entries(obj(v))) {
    const c = parseConfigValue(val);
    if (c !== undefined) out[k] = c;
  }
  return out;
}

function parseCurvePoint(v: unknown): CurvePoint {
  const o = obj(v);
  return {
    users: num(o.users),
    offeredRps: num(o.offeredRps),
    achievedRps: num(o.achievedRps),
    p50Ms: num(o.p50Ms),
    p95Ms: num(o.p95Ms),
    p99Ms: num(o.p99Ms),
    queueDepthMean: num(o.queueDepthMean),
    queueDepthMax: num(o.queueDepthMax),
    errorRate: num(o.errorRate),
  };
}

export function parseLoadTest(o: Obj): LoadTest {
  const inf = isObj(o.inflection) ? o.inflection : null;
  return {
    state: oneOf(o.state, ['idle', 'running', 'finished', 'failed'] as const, 'idle'),
    step: num(o.step),
    steps: num(o.steps),
    users: num(o.users),
    curve: Array.isArray(o.curve) ? o.curve.map(parseCurvePoint) : [],
    inflection: inf
      ? { users: num(inf.users), queueDepth: num(inf.queueDepth), throughputRps: num(inf.throughputRps), p95Ms: num(inf.p95Ms) }
      : null,
    error: typeof o.error === 'string' && o.error !== '' ? o.error : null,
  };
}

export function parseDrift(o: Obj): Drift {
  const b = isObj(o.baseline) ? o.baseline : null;
  return {
    state: oneOf(o.state, ['ok', 'warn', 'drift', 'unknown'] as const, 'unknown'),
    score: num(o.score),
    baseline: b ? { ...b, createdAt: str(b.createdAt) } : null,
  };
}

/**
 * Parses one text frame. Returns null for anything that is not a known
 * message: bad JSON, a non-object, a missing or unknown `type`.
 */
export function parseMessage(text: string): StreamMessage | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  return toMessage(raw);
}

export function toMessage(raw: unknown): StreamMessage | null {
  if (!isObj(raw)) return null;
  switch (raw.type) {
    case 'hello': {
      const up = obj(raw.upstream);
      return {
        type: 'hello',
        version: str(raw.version),
        config: parseConfig(raw.config),
        snapshot: isObj(raw.snapshot) ? parseSnapshot(raw.snapshot) : null,
        historyPoints: num(raw.historyPoints),
        history: Array.isArray(raw.history) ? raw.history.filter(isObj).map(parseSnapshot) : [],
        upstream: { kind: str(up.kind, 'unknown'), model: str(up.model) },
        rateHz: num(raw.rateHz, 4) > 0 ? num(raw.rateHz, 4) : 4,
      };
    }
    case 'snapshot':
      return isObj(raw.snapshot) ? { type: 'snapshot', snapshot: parseSnapshot(raw.snapshot) } : null;
    case 'history':
      return {
        type: 'history',
        before: optNum(raw.before),
        points: Array.isArray(raw.points) ? raw.points.filter(isObj).map(parseSnapshot) : [],
        more: raw.more === true,
      };
    case 'config':
      return isObj(raw.config) ? { type: 'config', config: parseConfig(raw.config) } : null;
    case 'loadtest':
      return { type: 'loadtest', ...parseLoadTest(raw) };
    case 'drift':
      return { type: 'drift', ...parseDrift(raw) };
    case 'dropped':
      return { type: 'dropped', count: num(raw.count) };
    default:
      return null;
  }
}

/** The text of a client's request for the page of history before `before` (ms; null: from the newest). */
export function historyRequest(before: number | null, limit: number): string {
  return JSON.stringify(before === null ? { type: 'history', limit } : { type: 'history', before, limit });
}
