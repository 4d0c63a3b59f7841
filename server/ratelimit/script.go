package ratelimit

// admitLua rate-limits, dedupes and counts a batch of reports in one call
// (group admission: concurrent requests share one round trip, see batch.go).
// Every key it touches starts with ARGV[1], the key prefix with the
// batch's hash tag (e.g. "outcry:{3}:"), so one call touches one hash slot
// of a Redis Cluster; KEYS[1] is that shard's "seeded" key, which declares
// the slot.
//
// ARGV 2-4 reporter burst, rate, period (seconds); 5-7 the same for the
// network; 8 dedupe window (ms); 9 counter TTL (ms); 10 network evidence
// slots k; 11 deadline in Redis time (µs since the epoch; 0: none); then
// for admission i (from 0), ARGV 12+8i..19+8i: reporter, network, service
// field, problem, region, unix minute, reporter floor, network floor.
//
// A floor is what the caller knows of a key's GCRA state (see lease.go):
// -1 says the key was leased, i.e. this request was judged (and allowed) in
// process: the script neither reads nor stores its GCRA state, and the
// reporter argument may be empty when nothing else needs it (k = 1); a
// positive floor is a pending lease's µs left after now: the TAT is taken
// as at least now+floor before the request is judged; 0 is none.
//
// Returns {status, Redis time in µs}, then for each admission in order:
// when both its keys were leased, only counted (the network evidence slot
// taken, from 1; 0 when not counted); else 8 integers: allowed, counted,
// then for the reporter and the network each: remaining, retry_after (µs,
// -1 when not denied), reset_after (µs) (zeros for a leased key).
// Status 0 is done; -1 means the shard is not seeded (Redis lost its data:
// nothing was done, the caller restores the markers first); -2 means the
// deadline had passed (the caller has given up on the batch: nothing was
// done). Admissions are judged in order, so two in one batch from the same
// reporter see each other as separate calls would.
//
// A counted report sets the reporter's dedupe marker d:{service}:{reporter}
// and takes one of its network's k evidence slots e:{service}:{network}:{s},
// each for the dedupe window; when the network has no slot free the report
// is accepted but not counted and its reporter marker is not kept. With
// k = 1 (the default) only the slot is set: a reporter's network is fixed
// (both are hashes of one address, models.Admission), so its one slot being
// taken already says the reporter was counted, and the marker would be a
// fourth key a report for nothing.
//
// The GCRA states of the whole batch are read with one MGET at the start
// (and kept current in a Lua table as they are stored), not a GET each.
//
// The GCRA is that of github.com/go-redis/redis_rate/v10 (lua.go, allowN with
// cost 1, BSD-2-Clause), itself taken from:
//
//	Copyright (c) 2017 Pavel Pravosud
//	https://github.com/rwz/redis-gcra/blob/master/vendor/perform_gcra_ratelimit.lua
//	(MIT License)
//
// Its arithmetic is kept operation for operation, so both give identical
// decisions (conformance_test.go checks this against redis_rate itself). The
// only change is that the two limits are evaluated first and stored only if
// both allow: a denied report consumes neither.
const admitLua = `
-- this script has side-effects, so it requires replicate commands mode
redis.replicate_commands()

local P = ARGV[1]
local t = redis.call("TIME")
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local deadline = tonumber(ARGV[11])
if deadline > 0 and now_us > deadline then
  return {-2, now_us}
end
if redis.call("EXISTS", KEYS[1]) == 0 then
  return {-1, now_us}
end

-- redis returns time as an array containing two integers: seconds of the epoch
-- time (10 digits) and microseconds (6 digits). for convenience we need to
-- convert them to a floating point number. the resulting number is 16 digits,
-- bordering on the limits of a 64-bit double-precision floating point number.
-- adjust the epoch to be relative to Jan 1, 2017 00:00:00 GMT to avoid floating
-- point problems. this approach is good until "now" is 2,483,228,799 (Wed, 09
-- Sep 2048 01:46:39 GMT), when the adjusted value is 16 digits.
local jan_1_2017 = 1483228800
local now = (t[1] - jan_1_2017) + (t[2] / 1000000)

local n = (#ARGV - 11) / 8
local r_burst, r_rate, r_period = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local n_burst, n_rate, n_period = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])

-- the GCRA state (tat) of every reporter and network of the batch that was
-- not leased, read with one MGET instead of a GET each; store() keeps it
-- current, so a key read again later in the batch reads what a GET would.
local tats, keys, rkeys, nkeys = {}, {}, {}, {}
do
  for i = 0, n - 1 do
    local a = 11 + 8 * i
    if ARGV[a + 7] ~= "-1" then
      local k = P .. "r:" .. ARGV[a + 1]
      rkeys[i] = k
      keys[#keys + 1] = k
    end
    if ARGV[a + 8] ~= "-1" then
      local k = P .. "n:" .. ARGV[a + 2]
      nkeys[i] = k
      keys[#keys + 1] = k
    end
  end
  if #keys > 0 then
    local vals = redis.call("MGET", unpack(keys))
    for j = 1, #keys do
      tats[keys[j]] = vals[j]
    end
  end
end

-- GCRA of one request (cost 1) against rate_limit_key, without storing it;
-- floor (seconds, > 0) raises the tat to at least now + floor first.
-- Returns allowed, remaining, retry_after, reset_after, new_tat.
local function gcra(rate_limit_key, burst, rate, period, floor)
  local emission_interval = period / rate
  local increment = emission_interval * 1
  local burst_offset = emission_interval * burst

  local tat = tats[rate_limit_key]

  if not tat then
    tat = now
  else
    tat = tonumber(tat)
  end

  tat = math.max(tat, now)
  if floor > 0 then
    tat = math.max(tat, now + floor)
  end

  local new_tat = tat + increment
  local allow_at = new_tat - burst_offset

  local diff = now - allow_at
  local remaining = diff / emission_interval

  if remaining < 0 then
    local reset_after = tat - now
    local retry_after = diff * -1
    return false, 0, retry_after, reset_after, nil
  end

  local reset_after = new_tat - now
  return true, remaining, -1, reset_after, new_tat
end

local function store(rate_limit_key, new_tat, reset_after)
  if reset_after > 0 then
    redis.call("SET", rate_limit_key, new_tat, "EX", math.ceil(reset_after))
    tats[rate_limit_key] = new_tat
  end
end

-- seconds to whole microseconds, rounded up; -1 stays -1
local function us(s)
  if s < 0 then
    return -1
  end
  return math.ceil(s * 1000000)
end

local window, slots = ARGV[8], tonumber(ARGV[10])

-- the reporter's dedupe marker and a free evidence slot of its network, or
-- 0. With one slot the marker is implied by the slot (a reporter always
-- comes from the same network: both are hashes of one address), so only
-- the slot is set.
local function claim(sid, reporter, network)
  if slots == 1 then
    -- one concatenation, one string: the key of the only slot
    if redis.call("SET", P .. "e:" .. sid .. ":" .. network .. ":1", "1", "NX", "PX", window) then
      return 1
    end
    return 0
  end
  local d = P .. "d:" .. sid .. ":" .. reporter
  if not redis.call("SET", d, "1", "NX", "PX", window) then
    return 0
  end
  local e = P .. "e:" .. sid .. ":" .. network .. ":"
  for s = 1, slots do
    if redis.call("SET", e .. s, "1", "NX", "PX", window) then
      return s
    end
  end
  redis.call("DEL", d)
  return 0
end

-- counter increments are summed per minute, service, problem and region
-- over the batch (in tables, so a report makes no string) and applied once
-- at the end, one HINCRBY per field and one PEXPIRE per minute hash: under
-- a surge a batch of reports costs a handful of HINCRBYs instead of three
-- each.
local incr, minutes = {}, {}
local function count(minute, sid, problem, region)
  local m = incr[minute]
  if not m then
    m = {}
    incr[minute] = m
    minutes[#minutes + 1] = minute
  end
  local c = m[sid]
  if not c then
    c = {t = 0, p = {}, r = {}}
    m[sid] = c
  end
  c.t = c.t + 1
  if problem ~= "" then
    c.p[problem] = (c.p[problem] or 0) + 1
  end
  if region ~= "" then
    c.r[region] = (c.r[region] or 0) + 1
  end
end

local out, o = {0, now_us}, 2
for i = 0, n - 1 do
  local a = 11 + 8 * i
  local network, sid = ARGV[a + 2], ARGV[a + 3]
  local rkey, nkey = rkeys[i], nkeys[i]
  local r_ok, r_rem, r_retry, r_reset, r_tat = true, 0, -1, 0, nil
  local n_ok, n_rem, n_retry, n_reset, n_tat = true, 0, -1, 0, nil
  if rkey then
    r_ok, r_rem, r_retry, r_reset, r_tat = gcra(rkey, r_burst, r_rate, r_period, tonumber(ARGV[a + 7]) / 1000000)
  end
  if nkey then
    n_ok, n_rem, n_retry, n_reset, n_tat = gcra(nkey, n_burst, n_rate, n_period, tonumber(ARGV[a + 8]) / 1000000)
  end
  local allowed, counted = 0, 0
  if r_ok and n_ok then
    allowed = 1
    if rkey then
      store(rkey, r_tat, r_reset)
    end
    if nkey then
      store(nkey, n_tat, n_reset)
    end
    counted = claim(sid, ARGV[a + 1], network)
    if counted > 0 then
      count(ARGV[a + 6], sid, ARGV[a + 4], ARGV[a + 5])
    end
  end
  if rkey or nkey then
    out[o + 1], out[o + 2] = allowed, counted
    out[o + 3], out[o + 4], out[o + 5] = r_rem, us(r_retry), us(r_reset)
    out[o + 6], out[o + 7], out[o + 8] = n_rem, us(n_retry), us(n_reset)
    o = o + 8
  else
    out[o + 1] = counted
    o = o + 1
  end
end
for _, minute in ipairs(minutes) do
  local hash = P .. "m:" .. minute
  for sid, c in pairs(incr[minute]) do
    redis.call("HINCRBY", hash, sid, c.t)
    for problem, by in pairs(c.p) do
      redis.call("HINCRBY", hash, sid .. "|p|" .. problem, by)
    end
    for region, by in pairs(c.r) do
      redis.call("HINCRBY", hash, sid .. "|r|" .. region, by)
    end
  end
  redis.call("PEXPIRE", hash, ARGV[9])
end
return out
`

// undoLua takes back counted reports that could not be stored: their
// markers and counts. KEYS[1] is the shard's seeded key (the slot), ARGV[1]
// the key prefix with the shard's tag; then for each report ARGV 2+7i..8+7i:
// reporter, network, service field, problem, region, unix minute, slot.
const undoLua = `
local P = ARGV[1]
local n = (#ARGV - 1) / 7
for i = 0, n - 1 do
  local a = 1 + 7 * i
  local sid = ARGV[a + 3]
  redis.call("DEL", P .. "d:" .. sid .. ":" .. ARGV[a + 1], P .. "e:" .. sid .. ":" .. ARGV[a + 2] .. ":" .. ARGV[a + 7])
  local hash = P .. "m:" .. ARGV[a + 6]
  if redis.call("EXISTS", hash) == 1 then
    redis.call("HINCRBY", hash, sid, -1)
    if ARGV[a + 4] ~= "" then
      redis.call("HINCRBY", hash, sid .. "|p|" .. ARGV[a + 4], -1)
    end
    if ARGV[a + 5] ~= "" then
      redis.call("HINCRBY", hash, sid .. "|r|" .. ARGV[a + 5], -1)
    end
  end
end
return n
`

// markLua restores markers of reports counted elsewhere (stored reports
// after Redis lost its data, or reports the in-process twin counted while
// Redis was unreachable): for each, the reporter's dedupe marker and a free
// evidence slot of its network, for what is left of its window. KEYS[1] is
// the shard's seeded key (the slot); ARGV[1] the key prefix with the
// shard's tag, ARGV[2] the slots k, ARGV[3] 1 to mark the shard seeded
// afterwards; then for each report ARGV 4+4i..7+4i: reporter, network,
// service field, ms left. Returns, for each, 1 when its markers were set and
// 0 when the reporter or its network had been counted already (a conflict).
const markLua = `
local P, slots = ARGV[1], tonumber(ARGV[2])
local out = {}
local n = (#ARGV - 3) / 4
for i = 0, n - 1 do
  local a = 3 + 4 * i
  local sid, ttl = ARGV[a + 3], ARGV[a + 4]
  local d = false -- with one slot, the slot implies the marker (see admitLua)
  if slots > 1 then
    d = P .. "d:" .. sid .. ":" .. ARGV[a + 1]
  end
  local ok = 0
  if not d or redis.call("SET", d, "1", "NX", "PX", ttl) then
    local e = P .. "e:" .. sid .. ":" .. ARGV[a + 2] .. ":"
    for s = 1, slots do
      if redis.call("SET", e .. s, "1", "NX", "PX", ttl) then
        ok = 1
        break
      end
    end
    if ok == 0 and d then
      redis.call("DEL", d)
    end
  end
  out[i + 1] = ok
end
if ARGV[3] == "1" then
  redis.call("SET", KEYS[1], "1")
end
return out
`
