/**
 * The Lua scripts of {@link BullMQQueue}. Each runs atomically in Redis, so any number of
 * producers and workers can call them at once.
 */

/**
 * Rate-limit admission for one webhook, shared by every worker. Time comes from Redis (`TIME`),
 * not from the caller, so clocks that disagree across machines do not matter.
 *
 * KEYS[1], KEYS[2]: one key per window (KEYS[2] repeats KEYS[1] when there is one window).
 * ARGV: strategy, a unique member for this request, the number of windows, then `limit windowMs`
 * per window. Returns 0 (admitted and counted) or the ms until a request may go.
 */
export const RATE_LIMIT_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local strategy = ARGV[1]
local n = tonumber(ARGV[3])

local function bucket(key, limit, windowMs)
  local s = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(s[1]) or limit
  local at = tonumber(s[2]) or now
  if now > at then tokens = math.min(limit, tokens + (now - at) * limit / windowMs) end
  return tokens
end

local wait = 0
for i = 1, n do
  local key = KEYS[i]
  local limit = tonumber(ARGV[2 + 2 * i])
  local windowMs = tonumber(ARGV[3 + 2 * i])
  local w = 0
  if strategy == 'fixed_window' then
    local start = now - (now % windowMs)
    local s = redis.call('HMGET', key, 'start', 'count')
    if tonumber(s[1]) == start and tonumber(s[2]) >= limit then w = start + windowMs - now end
  elseif strategy == 'token_bucket' then
    local tokens = bucket(key, limit, windowMs)
    if tokens < 1 then w = (1 - tokens) * windowMs / limit end
  else
    -- Sliding log: admitted when the admission 'limit' requests ago is at least a window old.
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - windowMs)
    local count = redis.call('ZCARD', key)
    if count >= limit then
      local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
      w = tonumber(oldest[2]) + windowMs - now
    end
  end
  if w > wait then wait = w end
end
if wait > 0 then return math.max(1, math.ceil(wait)) end

for i = 1, n do
  local key = KEYS[i]
  local limit = tonumber(ARGV[2 + 2 * i])
  local windowMs = tonumber(ARGV[3 + 2 * i])
  if strategy == 'fixed_window' then
    local start = now - (now % windowMs)
    if tonumber(redis.call('HGET', key, 'start')) == start then
      redis.call('HINCRBY', key, 'count', 1)
    else
      redis.call('HSET', key, 'start', start, 'count', 1)
    end
    redis.call('PEXPIREAT', key, start + windowMs)
  elseif strategy == 'token_bucket' then
    redis.call('HSET', key, 'tokens', tostring(bucket(key, limit, windowMs) - 1), 'at', now)
    redis.call('PEXPIRE', key, windowMs)
  else
    redis.call('ZADD', key, now, ARGV[2])
    redis.call('PEXPIRE', key, windowMs)
  end
end
return 0
`;

/**
 * Pauses a webhook's lane for every worker: sets BullMQ's limiter key of that queue to a value
 * its workers treat as "rate limited" (see LANE_PAUSED), unless it is already paused for longer.
 *
 * KEYS[1]: the BullMQ queue's limiter key. ARGV: ms to pause, the paused marker.
 */
export const PAUSE_LANE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[2] and redis.call('PTTL', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1])
return 1
`;

/** Stores a dead letter. KEYS: letters (hash), order (zset). ARGV: id, JSON, failedAt. */
export const DEAD_PUT_LUA = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
`;

/** Reads one dead letter's JSON. KEYS: letters. ARGV: id. */
export const DEAD_GET_LUA = `return redis.call('HGET', KEYS[1], ARGV[1])`;

/**
 * Lists dead letters oldest first. KEYS: letters, order. ARGV: webhook ('' for all), limit (-1 for
 * all). Returns their JSON.
 */
export const DEAD_LIST_LUA = `
local webhook = ARGV[1]
local limit = tonumber(ARGV[2])
local out = {}
local ids = redis.call('ZRANGE', KEYS[2], 0, -1)
for _, id in ipairs(ids) do
  if limit >= 0 and #out >= limit then break end
  local json = redis.call('HGET', KEYS[1], id)
  if json and (webhook == '' or cjson.decode(json).webhook == webhook) then
    out[#out + 1] = json
  end
end
return out
`;

/**
 * Deletes dead letters. KEYS: letters, order. ARGV[1] = 'ids' then the ids, or 'webhook' then a
 * webhook name ('' for all). Returns how many were deleted.
 */
export const DEAD_DELETE_LUA = `
local removed = 0
local function remove(id)
  removed = removed + redis.call('HDEL', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
end
if ARGV[1] == 'ids' then
  for i = 2, #ARGV do remove(ARGV[i]) end
else
  local webhook = ARGV[2]
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    local json = redis.call('HGET', KEYS[1], id)
    if not json then
      redis.call('ZREM', KEYS[2], id)
    elseif webhook == '' or cjson.decode(json).webhook == webhook then
      remove(id)
    end
  end
end
return removed
`;

/**
 * Counts dead letters per webhook. KEYS: letters. Returns a flat list `webhook, count, …`.
 * Decodes each letter once inside Redis: only the counts travel.
 */
export const DEAD_COUNT_LUA = `
local counts = {}
local names = {}
for _, json in ipairs(redis.call('HVALS', KEYS[1])) do
  local webhook = cjson.decode(json).webhook
  if counts[webhook] == nil then
    counts[webhook] = 0
    names[#names + 1] = webhook
  end
  counts[webhook] = counts[webhook] + 1
end
local out = {}
for _, webhook in ipairs(names) do
  out[#out + 1] = webhook
  out[#out + 1] = counts[webhook]
end
return out
`;

/**
 * Reads one incident's state and its version. KEYS[1]: the incident's hash. Returns
 * `[version, state JSON]`, both false when there is none (or it expired).
 */
export const INCIDENT_GET_LUA = `
return redis.call('HMGET', KEYS[1], 'v', 's')
`;

/**
 * Compare-and-set of one incident's state: written only if its version is still the one read, so
 * a change computed from a stale read is refused and recomputed (any number of workers may update
 * one incident at once). KEYS[1]: the incident's hash. ARGV: the version read ('' for none), the
 * new state JSON, the time to live in ms. Returns 1 when written, 0 when the version moved.
 */
export const INCIDENT_SET_LUA = `
local current = redis.call('HGET', KEYS[1], 'v')
if (current or '') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', tostring((tonumber(current) or 0) + 1), 's', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

/** The scripts by the command names they are registered under. */
export const SCRIPTS = {
  empathyRateLimit: { numberOfKeys: 2, lua: RATE_LIMIT_LUA },
  empathyPauseLane: { numberOfKeys: 1, lua: PAUSE_LANE_LUA },
  empathyDeadPut: { numberOfKeys: 2, lua: DEAD_PUT_LUA },
  empathyDeadGet: { numberOfKeys: 1, lua: DEAD_GET_LUA },
  empathyDeadList: { numberOfKeys: 2, lua: DEAD_LIST_LUA },
  empathyDeadDelete: { numberOfKeys: 2, lua: DEAD_DELETE_LUA },
  empathyDeadCount: { numberOfKeys: 1, lua: DEAD_COUNT_LUA },
  empathyIncidentGet: { numberOfKeys: 1, lua: INCIDENT_GET_LUA },
  empathyIncidentSet: { numberOfKeys: 1, lua: INCIDENT_SET_LUA },
} as const;

/** A script's command name. */
export type ScriptName = keyof typeof SCRIPTS;
