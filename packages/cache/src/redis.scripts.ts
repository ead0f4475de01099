import type { Redis, Result } from 'ioredis';

// Lua scripts, registered with ioredis `defineCommand` so they go out as EVALSHA (EVAL the first
// time on a connection, and again after a NOSCRIPT) and can be queued in pipelines. Each touches
// only the keys it is given. Ids are compared as Lua numbers (doubles: exact for safe integers) but
// always written back from the original ARGV strings, because Lua formats large numbers as 1e+15.

/**
 * KEYS[1] route hash; ARGV field, value (`expiresAt|...`), now. Writes the field, drops siblings
 * whose own expiry has passed, and sets the key TTL to the latest expiry left, so the key dies
 * exactly when its last route does.
 */
const ROUTE_UPSERT = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local now = tonumber(ARGV[3])
local latest = 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local e = tonumber(string.match(all[i + 1], '^%d+'))
  if e == nil or e <= now then
    redis.call('HDEL', KEYS[1], all[i])
  elseif e > latest then
    latest = e
  end
end
if latest > 0 then redis.call('PEXPIRE', KEYS[1], latest - now) end
return latest
`;

/**
 * KEYS route hashes. Every hash's fields and values, flat (an empty list for a missing key): one
 * command for a whole fan-out instead of one HGETALL each (the client's cost per command is what
 * a 5,000-member lookup spends its time on).
 */
const HGETALL_MANY = `
local out = {}
for i = 1, #KEYS do out[i] = redis.call('HGETALL', KEYS[i]) end
return out
`;

/** KEYS hashes; ARGV one field per key. HGET of each pair, one command (false for a missing one). */
const HGET_MANY = `
local out = {}
for i = 1, #KEYS do out[i] = redis.call('HGET', KEYS[i], ARGV[i]) end
return out
`;

/** KEYS[1] route hash; ARGV `gateId|`. Drops every route of that gate for this user. */
const ROUTE_DROP_GATE = `
local n = 0
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(f, 1, #ARGV[1]) == ARGV[1] then
    redis.call('HDEL', KEYS[1], f)
    n = n + 1
  end
end
return n
`;

/**
 * KEYS[1] route hash, KEYS[2] the gate's user index, KEYS[3] the index of gates; ARGV field,
 * `gateId|`, userId, now, gateId. Drops one route; once the user has no live route left on that
 * gate the user leaves the gate's index, and once the gate's index is empty the gate leaves the
 * index of gates — so both indexes only list what has live routes.
 */
const ROUTE_REMOVE = `
redis.call('HDEL', KEYS[1], ARGV[1])
local now = tonumber(ARGV[4])
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if string.sub(all[i], 1, #ARGV[2]) == ARGV[2] then
    local e = tonumber(string.match(all[i + 1], '^%d+'))
    if e ~= nil and e > now then return 0 end
  end
end
redis.call('ZREM', KEYS[2], ARGV[3])
if redis.call('ZCARD', KEYS[2]) == 0 then redis.call('ZREM', KEYS[3], ARGV[5]) end
return 1
`;

/** KEYS[1] the gate's user index, KEYS[2] the index of gates; ARGV gateId. */
const GATE_FORGET = `
if redis.call('ZCARD', KEYS[1]) == 0 then return redis.call('ZREM', KEYS[2], ARGV[1]) end
return 0
`;

/**
 * KEYS[1] presence hash; ARGV field, value (`expiresAt|json`), now. Writes the record; 1 when no
 * live record was there before (first beat, or the previous one had expired).
 */
const PRESENCE_BEAT = `
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if not old then return 1 end
local e = tonumber(string.match(old, '^%d+'))
if e == nil or e <= tonumber(ARGV[3]) then return 1 end
return 0
`;

/** KEYS[1] counter; ARGV count, ttlMs (0 = none). Nil when the counter is absent (caller seeds). */
const SEQ_NEXT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if ARGV[2] ~= '0' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v
`;

/** KEYS[1] counter; ARGV id. Decrements only if the counter still stands at that id. */
const SEQ_RELEASE = `
local cur = redis.call('GET', KEYS[1])
if cur and cur == ARGV[1] then
  redis.call('DECR', KEYS[1])
  return 1
end
return 0
`;

/**
 * KEYS[1] counter; ARGV seed, count, ttlMs. Raises the counter to the seed unless another caller
 * already put it higher, then increments: concurrent seeders all get distinct ids.
 */
const SEQ_SEED = `
local cur = redis.call('GET', KEYS[1])
if (not cur) or tonumber(cur) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
local v = redis.call('INCRBY', KEYS[1], ARGV[2])
if ARGV[3] ~= '0' then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return v
`;

/**
 * KEYS[1] dirty hash, KEYS[2..n] per-user receipt hashes; ARGV[1] ttlMs (0 = none), then for each
 * user key 4 args: session field, serverMsgId, dirty field, dirty value (`serverMsgId|at`).
 * Keeps the max; marks dirty only on an increase over both the stored value and a pending dirty
 * one (the user hash may have expired while its dirty entry waits for a flush).
 */
const RECEIPT_RECORD = `
local ttl = ARGV[1]
local changed = 0
for i = 2, #KEYS do
  local a = (i - 2) * 4 + 2
  local id = tonumber(ARGV[a + 1])
  local cur = redis.call('HGET', KEYS[i], ARGV[a])
  if (not cur) or tonumber(cur) < id then
    redis.call('HSET', KEYS[i], ARGV[a], ARGV[a + 1])
    local d = redis.call('HGET', KEYS[1], ARGV[a + 2])
    if (not d) or tonumber(string.match(d, '^%d+')) < id then
      redis.call('HSET', KEYS[1], ARGV[a + 2], ARGV[a + 3])
      changed = changed + 1
    end
  end
  if ttl ~= '0' then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return changed
`;

/**
 * KEYS[1] a hash; ARGV field/value pairs. Deletes a field only if unchanged since it was read (a
 * receipt's dirty mark once flushed, an expired heartbeat).
 */
const RECEIPT_CONFIRM = `
local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
    n = n + 1
  end
end
return n
`;

/**
 * KEYS[1] attempt hash; ARGV now, freeFailures, baseBlockMs, maxBlockMs, windowMs. Counts one
 * failure, sets `until` when it is beyond the free ones (same arithmetic as cache.args.ts
 * `blockAfter`), keeps the key for max(window, block); returns the block in ms.
 */
const ATTEMPT_FAIL = `
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local free = tonumber(ARGV[2])
local block = 0
if n > free then
  block = tonumber(ARGV[3]) * 2 ^ math.min(n - free - 1, 40)
  if block > tonumber(ARGV[4]) then block = tonumber(ARGV[4]) end
  redis.call('HSET', KEYS[1], 'until', string.format('%d', tonumber(ARGV[1]) + block))
end
local keep = tonumber(ARGV[5])
if block > keep then keep = block end
redis.call('PEXPIRE', KEYS[1], string.format('%d', keep))
return block
`;

/**
 * KEYS[1] bucket hash; ARGV want, perSecond, burst. Refills by the time since `at` on the server's
 * clock (TIME: one clock for every gate), grants min(want, whole tokens), and keeps the key until
 * the bucket would be full again (absent = full). Returns the grant.
 */
const BUCKET_TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local want = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 'n', 'at')
local n = burst
if v[1] and v[2] then
  local elapsed = now - tonumber(v[2])
  if elapsed < 0 then elapsed = 0 end
  n = tonumber(v[1]) + elapsed * rate / 1000
  if n > burst then n = burst end
end
local got = math.floor(n)
if got > want then got = want end
if got < 0 then got = 0 end
n = n - got
redis.call('HSET', KEYS[1], 'n', string.format('%.6f', n), 'at', string.format('%d', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - n) * 1000 / rate) + 1)
return got
`;

/**
 * KEYS[1] call hash, KEYS[2..3] the parties' busy keys; ARGV creatorId, ttlMs, then the call's
 * fields and values. Opens the call unless a party is busy (0).
 */
const CALL_OPEN = `
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** KEYS as CALL_OPEN; ARGV channelName, at, ttlMs. The live call's fields once answered, or nil. */
const CALL_ANSWER = `
if redis.call('HGET', KEYS[1], 'channelName') ~= ARGV[1] then return false end
if redis.call('HGET', KEYS[1], 'endedAt') ~= '0' then return false end
if redis.call('HGET', KEYS[1], 'answeredAt') == '0' then redis.call('HSET', KEYS[1], 'answeredAt', ARGV[2]) end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
return redis.call('HGETALL', KEYS[1])
`;

/**
 * KEYS as CALL_OPEN; ARGV channelName, by, at, onlyUnanswered ('1'/'0'), endedTtlMs, creatorId.
 * Ends the call once (frees both parties) and returns its fields as they ended; nil when there is
 * no such call, or onlyUnanswered and it was answered.
 */
const CALL_END = `
if redis.call('HGET', KEYS[1], 'channelName') ~= ARGV[1] then return false end
if redis.call('HGET', KEYS[1], 'endedAt') == '0' then
  if ARGV[4] == '1' and redis.call('HGET', KEYS[1], 'answeredAt') ~= '0' then return false end
  redis.call('HSET', KEYS[1], 'endedAt', ARGV[3], 'endedBy', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  for i = 2, 3 do
    if redis.call('GET', KEYS[i]) == ARGV[6] then redis.call('DEL', KEYS[i]) end
  end
end
return redis.call('HGETALL', KEYS[1])
`;

// KEYS[1] idempotency key; ARGV: pending value, pending ttl ms. Nil when claimed, else the value.
const IDEM_CLAIM = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return redis.call('GET', KEYS[1])
`;

// KEYS[1] idempotency key; ARGV: expected pending value, new value ('' = delete), ttl ms.
// Acts only while the key still holds the caller's pending value.
const IDEM_SWAP = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    mqimRouteUpsert(key: string, field: string, value: string, now: string): Result<number, Context>;
    mqimRouteDropGate(key: string, fieldPrefix: string): Result<number, Context>;
    mqimRouteRemove(
      routeKey: string,
      gateIndex: string,
      gatesKey: string,
      field: string,
      fieldPrefix: string,
      userId: string,
      now: string,
      gateId: string,
    ): Result<number, Context>;
    mqimGateForget(gateIndex: string, gatesKey: string, gateId: string): Result<number, Context>;
    mqimPresenceBeat(key: string, field: string, value: string, now: string): Result<number, Context>;
    mqimSeqNext(key: string, count: string, ttlMs: string): Result<number | null, Context>;
    mqimSeqSeed(key: string, seed: string, count: string, ttlMs: string): Result<number, Context>;
    mqimSeqRelease(key: string, id: string): Result<number, Context>;
    /** Dynamic key count: `(numKeys, ...hashKeys)`; per key its fields and values, flat. */
    mqimHgetallMany(numKeys: number, ...keys: string[]): Result<string[][], Context>;
    /** Dynamic key count: `(numKeys, ...hashKeys, ...one field per key)`; null where missing. */
    mqimHgetMany(numKeys: number, ...keysAndFields: string[]): Result<(string | null)[], Context>;
    /** Dynamic key count: `(numKeys, dirtyKey, ...userKeys, ttlMs, ...4 args per user key)`. */
    mqimReceiptRecord(numKeys: number, ...keysAndArgs: string[]): Result<number, Context>;
    mqimReceiptConfirm(key: string, ...fieldValuePairs: string[]): Result<number, Context>;
    mqimBucketTake(key: string, want: string, perSecond: string, burst: string): Result<number, Context>;
    mqimCallOpen(call: string, busyA: string, busyB: string, ...args: string[]): Result<number, Context>;
    mqimCallAnswer(
      call: string,
      busyA: string,
      busyB: string,
      channelName: string,
      at: string,
      ttlMs: string,
    ): Result<string[] | null, Context>;
    mqimCallEnd(
      call: string,
      busyA: string,
      busyB: string,
      ...args: string[]
    ): Result<string[] | null, Context>;
    mqimAttemptFail(
      key: string,
      now: string,
      freeFailures: string,
      baseBlockMs: string,
      maxBlockMs: string,
      windowMs: string,
    ): Result<number, Context>;
    mqimIdemClaim(key: string, pending: string, ttlMs: string): Result<string | null, Context>;
    mqimIdemSwap(key: string, expected: string, value: string, ttlMs: string): Result<number, Context>;
  }
}

export function defineScripts(redis: Redis): void {
  redis.defineCommand('mqimRouteUpsert', { numberOfKeys: 1, lua: ROUTE_UPSERT });
  redis.defineCommand('mqimRouteDropGate', { numberOfKeys: 1, lua: ROUTE_DROP_GATE });
  redis.defineCommand('mqimRouteRemove', { numberOfKeys: 3, lua: ROUTE_REMOVE });
  redis.defineCommand('mqimGateForget', { numberOfKeys: 2, lua: GATE_FORGET });
  redis.defineCommand('mqimPresenceBeat', { numberOfKeys: 1, lua: PRESENCE_BEAT });
  redis.defineCommand('mqimSeqNext', { numberOfKeys: 1, lua: SEQ_NEXT });
  redis.defineCommand('mqimSeqSeed', { numberOfKeys: 1, lua: SEQ_SEED });
  redis.defineCommand('mqimSeqRelease', { numberOfKeys: 1, lua: SEQ_RELEASE });
  redis.defineCommand('mqimReceiptRecord', { lua: RECEIPT_RECORD });
  redis.defineCommand('mqimHgetallMany', { lua: HGETALL_MANY });
  redis.defineCommand('mqimHgetMany', { lua: HGET_MANY });
  redis.defineCommand('mqimReceiptConfirm', { numberOfKeys: 1, lua: RECEIPT_CONFIRM });
  redis.defineCommand('mqimAttemptFail', { numberOfKeys: 1, lua: ATTEMPT_FAIL });
  redis.defineCommand('mqimBucketTake', { numberOfKeys: 1, lua: BUCKET_TAKE });
  redis.defineCommand('mqimCallOpen', { numberOfKeys: 3, lua: CALL_OPEN });
  redis.defineCommand('mqimCallAnswer', { numberOfKeys: 3, lua: CALL_ANSWER });
  redis.defineCommand('mqimCallEnd', { numberOfKeys: 3, lua: CALL_END });
  redis.defineCommand('mqimIdemClaim', { numberOfKeys: 1, lua: IDEM_CLAIM });
  redis.defineCommand('mqimIdemSwap', { numberOfKeys: 1, lua: IDEM_SWAP });
}
