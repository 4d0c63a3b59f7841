package ratelimit

// admitLua rate-limits, dedupes and counts a batch of reports in one call
// (group admission: concurrent requests share one round trip, see batch.go).
//
// For admission i (from 0), KEYS 4i+1..4i+4: reporter GCRA key, network GCRA
// key, dedupe key, minute hash. ARGV 1-3 reporter burst, rate, period
// (seconds); 4-6 the same for the network; 7 dedupe window (ms); 8 counter
// TTL (ms); then for admission i, ARGV 9+3i..11+3i: service field, problem,
// region.
//
// Returns, for each admission in order, 8 integers: allowed, counted, then
// for the reporter and the network each: remaining, retry_after (µs, -1 when
// not denied), reset_after (µs). Admissions are judged in order, so two in
// one batch from the same reporter see each other as separate calls would.
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

-- redis returns time as an array containing two integers: seconds of the epoch
-- time (10 digits) and microseconds (6 digits). for convenience we need to
-- convert them to a floating point number. the resulting number is 16 digits,
-- bordering on the limits of a 64-bit double-precision floating point number.
-- adjust the epoch to be relative to Jan 1, 2017 00:00:00 GMT to avoid floating
-- point problems. this approach is good until "now" is 2,483,228,799 (Wed, 09
-- Sep 2048 01:46:39 GMT), when the adjusted value is 16 digits.
local jan_1_2017 = 1483228800
local now = redis.call("TIME")
now = (now[1] - jan_1_2017) + (now[2] / 1000000)

-- GCRA of one request (cost 1) against rate_limit_key, without storing it.
-- Returns allowed, remaining, retry_after, reset_after, new_tat.
local function gcra(rate_limit_key, burst, rate, period)
  local emission_interval = period / rate
  local increment = emission_interval * 1
  local burst_offset = emission_interval * burst

  local tat = redis.call("GET", rate_limit_key)

  if not tat then
    tat = now
  else
    tat = tonumber(tat)
  end

  tat = math.max(tat, now)

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
  end
end

-- seconds to whole microseconds, rounded up; -1 stays -1
local function us(s)
  if s < 0 then
    return -1
  end
  return math.ceil(s * 1000000)
end

-- counter increments are summed per (minute hash, field) over the batch and
-- applied once at the end, with one PEXPIRE per minute hash: under a surge a
-- batch of reports costs a handful of HINCRBYs instead of three each.
local incr, hashes = {}, {}
local function count(hash, field)
  local h = incr[hash]
  if not h then
    h = {}
    incr[hash] = h
    hashes[#hashes + 1] = hash
  end
  h[field] = (h[field] or 0) + 1
end

local out = {}
local n = #KEYS / 4
for i = 0, n - 1 do
  local k, a = 4 * i, 8 + 3 * i
  local r_ok, r_rem, r_retry, r_reset, r_tat = gcra(KEYS[k + 1], ARGV[1], ARGV[2], ARGV[3])
  local n_ok, n_rem, n_retry, n_reset, n_tat = gcra(KEYS[k + 2], ARGV[4], ARGV[5], ARGV[6])
  local allowed, counted = 0, 0
  if r_ok and n_ok then
    allowed = 1
    store(KEYS[k + 1], r_tat, r_reset)
    store(KEYS[k + 2], n_tat, n_reset)
    if redis.call("SET", KEYS[k + 3], "1", "NX", "PX", ARGV[7]) then
      counted = 1
      local sid = ARGV[a + 1]
      count(KEYS[k + 4], sid)
      if ARGV[a + 2] ~= "" then
        count(KEYS[k + 4], sid .. "|p|" .. ARGV[a + 2])
      end
      if ARGV[a + 3] ~= "" then
        count(KEYS[k + 4], sid .. "|r|" .. ARGV[a + 3])
      end
    end
  end
  local base = 8 * i
  out[base + 1], out[base + 2] = allowed, counted
  out[base + 3], out[base + 4], out[base + 5] = r_rem, us(r_retry), us(r_reset)
  out[base + 6], out[base + 7], out[base + 8] = n_rem, us(n_retry), us(n_reset)
end
for _, hash in ipairs(hashes) do
  for field, by in pairs(incr[hash]) do
    redis.call("HINCRBY", hash, field, by)
  end
  redis.call("PEXPIRE", hash, ARGV[8])
end
return out
`
