-- Sluice's shared upstream budget: one Gemini project's RPM/TPM/RPD quota
-- spent by several replicas (core/quota/sharedbudget.h). Run with EVALSHA;
-- every operation is one atomic script call, timed by Redis's own clock
-- (TIME), so replicas need no synchronised clocks.
--
-- Per model (keys share the hash tag {model}, one cluster slot):
--   KEYS[1] list  minute-call buckets (start ms, oldest first)
--   KEYS[2] hash  minute-call amounts per bucket, field "sum" = the window's total
--   KEYS[3] list  minute-token buckets      KEYS[4] hash  their amounts
--   KEYS[5] list  day-call buckets          KEYS[6] hash  their amounts
--   KEYS[7] string GCRA theoretical arrival time of the next call (ms)
--   KEYS[8] hash  learned limits: "<d>:limit", "<d>:until", "<d>:at", "<d>:by"
--   KEYS[9] sorted set  replicas waiting for a call, by when they began to wait
--   KEYS[10] hash  when each waiting replica last asked
-- Operation 'beat' takes one key instead: the replicas' sorted set.
--
-- A window's bucket started at s holds spending from [s, s + bucket): it
-- leaves the window at s + bucket + length, never before `length` has passed
-- since the spending (errs on the safe side by less than one bucket), as
-- Sluice's own RateWindow does.

local MINUTE = 60500 -- a minute and the margin ModelBudget keeps (a call is charged before the upstream counts it)
local MINUTE_BUCKET = 250
local DAY = 86400000
local DAY_BUCKET = 60000

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local function prune(list, hash, length, bucket)
    while true do
        local first = redis.call('LINDEX', list, 0)
        if not first then break end
        if tonumber(first) + bucket + length > now then break end
        redis.call('LPOP', list)
        local amount = tonumber(redis.call('HGET', hash, first) or '0')
        redis.call('HDEL', hash, first)
        redis.call('HINCRBY', hash, 'sum', -amount)
    end
    local sum = tonumber(redis.call('HGET', hash, 'sum') or '0')
    if sum < 0 then
        redis.call('HSET', hash, 'sum', 0)
        sum = 0
    end
    return sum
end

local function record(list, hash, length, bucket, amount, at)
    at = at or now
    local start = at - (at % bucket)
    local field = string.format('%d', start)
    local last = redis.call('LINDEX', list, -1)
    if not last or tonumber(last) < start then
        redis.call('RPUSH', list, field)
    elseif tonumber(last) > start then
        -- Spending from the past (recorded when Redis answers again): into
        -- its own bucket, in order, unless that bucket already left the window.
        if start + bucket + length <= now then return field end
        local starts = redis.call('LRANGE', list, 0, -1)
        local found = false
        for _, s in ipairs(starts) do
            if tonumber(s) == start then found = true break end
            if tonumber(s) > start then
                redis.call('LINSERT', list, 'BEFORE', s, field)
                found = true
                break
            end
        end
        if not found then redis.call('RPUSH', list, field) end
    end
    if amount ~= 0 then
        redis.call('HINCRBY', hash, field, amount)
        redis.call('HINCRBY', hash, 'sum', amount)
    end
    redis.call('PEXPIRE', list, length + 2 * bucket)
    redis.call('PEXPIRE', hash, length + 2 * bucket)
    return field
end

-- When `amount` more fits under `limit` (ms from now; 0 = now).
local function waitFor(list, hash, length, bucket, used, amount, limit)
    if limit <= 0 or amount <= 0 or used + amount <= limit then return 0 end
    if amount > limit then
        -- Larger than the whole limit: fits once the window is empty.
        if used == 0 then return 0 end
        amount = limit
    end
    local need = used + amount - limit
    local starts = redis.call('LRANGE', list, 0, -1)
    for _, s in ipairs(starts) do
        need = need - tonumber(redis.call('HGET', hash, s) or '0')
        if need <= 0 then return math.max(1, tonumber(s) + bucket + length - now) end
    end
    return length
end

local function learned()
    return redis.call('HGETALL', KEYS[8])
end

local op = ARGV[1]

if op == 'beat' then
    -- ARGV: op, replica id, ttl ms. Returns the replicas seen within ttl.
    redis.call('ZADD', KEYS[1], now, ARGV[2])
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]))
    redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
    return { redis.call('ZCARD', KEYS[1]), now }
end

local rpmUsed = prune(KEYS[1], KEYS[2], MINUTE, MINUTE_BUCKET)
local tpmUsed = prune(KEYS[3], KEYS[4], MINUTE, MINUTE_BUCKET)
local rpdUsed = prune(KEYS[5], KEYS[6], DAY, DAY_BUCKET)

if op == 'reserve' then
    -- ARGV: op, calls, tokens, rpm, tpm, rpd, burst calls, replica id.
    -- Returns {granted 0/1, wait ms, binding 0 rpm/1 tpm/2 rpd, used rpm,
    -- used tpm, used rpd, minute bucket of the reservation, now, learned...}.
    local calls = tonumber(ARGV[2])
    local tokens = tonumber(ARGV[3])
    local rpm = tonumber(ARGV[4])
    local tpm = tonumber(ARGV[5])
    local rpd = tonumber(ARGV[6])
    local burst = math.max(1, tonumber(ARGV[7]))

    local wait, binding = 0, 0
    local function later(w, d)
        if w > wait then wait, binding = w, d end
    end
    later(waitFor(KEYS[1], KEYS[2], MINUTE, MINUTE_BUCKET, rpmUsed, calls, rpm), 0)
    later(waitFor(KEYS[3], KEYS[4], MINUTE, MINUTE_BUCKET, tpmUsed, tokens, tpm), 1)
    later(waitFor(KEYS[5], KEYS[6], DAY, DAY_BUCKET, rpdUsed, calls, rpd), 2)

    -- Pacing (GCRA): a minute's calls spread over the minute, `burst` of
    -- them at once at most, like ModelBudget's bucket.
    local tat = now
    local interval = 0
    if rpm > 0 then
        interval = 60000 / rpm
        tat = math.max(now, tonumber(redis.call('GET', KEYS[7]) or '0'))
        local early = tat + math.min(calls, burst) * interval - burst * interval - now
        if early > 0 then later(math.ceil(early), 0) end
    end

    -- Turns: replicas the budget held back take the calls that free up in
    -- the order they began to wait, so no replica's agents wait many call
    -- intervals while the others' are served (a replica that stopped asking
    -- loses its place after two intervals, a second at least).
    local replica = ARGV[8] or ''
    if rpm > 0 and replica ~= '' then
        local stale = math.max(2 * interval, 1000)
        redis.call('HSET', KEYS[10], replica, now)
        local head
        while true do
            local h = redis.call('ZRANGE', KEYS[9], 0, 0)[1]
            if not h then break end
            if h ~= replica and now - tonumber(redis.call('HGET', KEYS[10], h) or '0') > stale then
                redis.call('ZREM', KEYS[9], h)
                redis.call('HDEL', KEYS[10], h)
            else
                head = h
                break
            end
        end
        if wait == 0 and head and head ~= replica then
            wait, binding = math.max(1, math.ceil(interval / 4)), 0
        end
        if wait > 0 then
            redis.call('ZADD', KEYS[9], 'NX', now, replica)
        else
            redis.call('ZREM', KEYS[9], replica)
        end
        redis.call('PEXPIRE', KEYS[9], MINUTE)
        redis.call('PEXPIRE', KEYS[10], MINUTE)
    end

    local bucket = ''
    if wait == 0 then
        bucket = record(KEYS[1], KEYS[2], MINUTE, MINUTE_BUCKET, calls)
        if tokens > 0 then record(KEYS[3], KEYS[4], MINUTE, MINUTE_BUCKET, tokens) end
        record(KEYS[5], KEYS[6], DAY, DAY_BUCKET, calls)
        rpmUsed, tpmUsed, rpdUsed = rpmUsed + calls, tpmUsed + tokens, rpdUsed + calls
        if rpm > 0 then
            redis.call('SET', KEYS[7], tostring(tat + calls * interval), 'PX', MINUTE)
        end
    end
    local out = { wait == 0 and 1 or 0, wait, binding, rpmUsed, tpmUsed, rpdUsed, bucket, now }
    for _, v in ipairs(learned()) do out[#out + 1] = v end
    return out
end

if op == 'charge' then
    -- Spent without a reservation (tokens a call's usage showed beyond its
    -- estimate, spending while Redis was unreachable): recorded whatever the
    -- limits, each part in the bucket of its time. ARGV: op, rpm (pacing),
    -- then triples (ms ago, calls, tokens).
    local rpm = tonumber(ARGV[2])
    local calls = 0 -- of the last second: the pacer's concern (older ones are paced already)
    for i = 3, #ARGV - 2, 3 do
        local ago = tonumber(ARGV[i])
        local at = now - ago
        local c, k = tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
        if c > 0 then
            record(KEYS[1], KEYS[2], MINUTE, MINUTE_BUCKET, c, at)
            record(KEYS[5], KEYS[6], DAY, DAY_BUCKET, c, at)
        end
        if k > 0 then record(KEYS[3], KEYS[4], MINUTE, MINUTE_BUCKET, k, at) end
        if ago <= 1000 then calls = calls + c end
    end
    if rpm > 0 and calls > 0 then
        local tat = math.max(now, tonumber(redis.call('GET', KEYS[7]) or '0'))
        redis.call('SET', KEYS[7], tostring(math.min(tat + calls * 60000 / rpm, now + MINUTE)), 'PX', MINUTE)
    end
    return { 1, now }
end

if op == 'release' then
    -- A reservation not spent: given back to the bucket it was recorded in,
    -- while that bucket is still in the windows. ARGV: op, calls, tokens,
    -- minute bucket, rpm (pacing).
    local calls, tokens, bucket, rpm = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
    local function giveBack(hash, field, amount)
        local have = tonumber(redis.call('HGET', hash, field) or '-1')
        if have < 0 or amount <= 0 then return end
        local back = math.min(have, amount)
        redis.call('HINCRBY', hash, field, -back)
        redis.call('HINCRBY', hash, 'sum', -back)
    end
    giveBack(KEYS[2], bucket, calls)
    giveBack(KEYS[4], bucket, tokens)
    giveBack(KEYS[6], string.format('%d', tonumber(bucket) - (tonumber(bucket) % DAY_BUCKET)), calls)
    if rpm > 0 and calls > 0 then
        local tat = tonumber(redis.call('GET', KEYS[7]) or '0')
        if tat > now then
            redis.call('SET', KEYS[7], tostring(math.max(now, tat - calls * 60000 / rpm)), 'PX', MINUTE)
        end
    end
    return { 1, now }
end

if op == 'learn' then
    -- A 429 taught a replica this dimension's limit: every replica adopts
    -- it. ARGV: op, dimension (rpm/tpm/rpd), limit, blocked ms, replica id.
    local d = ARGV[2]
    redis.call('HSET', KEYS[8], d .. ':limit', ARGV[3], d .. ':until', now + tonumber(ARGV[4]), d .. ':at', now,
        d .. ':by', ARGV[5])
    redis.call('PEXPIRE', KEYS[8], 600000)
    return { 1, now }
end

return redis.error_reply('sluice budget script: unknown operation ' .. tostring(op))
