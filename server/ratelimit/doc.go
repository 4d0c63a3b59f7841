// Package ratelimit admits, dedupes and counts reports: it implements
// models.Admitter and models.CounterReader twice, once on Redis ([Redis]) and
// once in process ([Local]), plus [Limiter], which answers from Redis and
// falls back to the in-process twin while Redis is unreachable.
//
// # One step per report
//
// Admit does three things, in one Redis round trip (a single Lua script run
// with EVALSHA) or under a few in-process locks:
//
//  1. Rate limits. A report must pass both the reporter's limit and its
//     network's (/24 or /48) limit; when either denies, neither is consumed.
//     The Redis limits are GCRA, exactly as github.com/go-redis/redis_rate/v10
//     computes them (a conformance test drives both on the same Redis); the
//     in-process limits compute the same GCRA on unix nanoseconds (gcra.go),
//     except that redis_rate's floating point may report one request fewer
//     Remaining when the emission interval (period/rate) is not exact in
//     binary, e.g. 8 rather than 9 left after the first of PerSecond(10).
//  2. Dedupe and network evidence. An allowed report is counted when it is
//     its reporter's first for the service within Config.Dedupe (15
//     minutes) and its network still has one of its Config.NetworkEvidence
//     slots (default 1) free for the service in that window; later ones are
//     accepted but not counted. So one network, however many addresses it
//     uses, adds at most NetworkEvidence counted reports per 15 minutes.
//     With one slot, Redis keeps no reporter marker: a reporter's network
//     is fixed, so the taken slot says it was counted.
//  3. Counters. A counted report increments one hash per minute (per shard)
//     shared by all services: field "{serviceID}" (total),
//     "{serviceID}|p|{problem}" and "{serviceID}|r|{region}", kept for
//     Config.CounterTTL (48 hours).
//
// # Leases: the first request of a key is judged in process
//
// Most reporters report once, so most GCRA writes to Redis would be a new
// key's first request, which every limit allows. The Limiter (Redis with
// its twin) therefore judges the first request of a reporter or network it
// has no live GCRA state for in process (a lease, lease.go), and Redis
// stores no GCRA state for it; the key's next request goes to Redis and
// carries the lease as a floor of its state, so on one replica every
// decision is the one Redis alone makes (up to the call's one-way latency,
// stricter). The dedupe and evidence markers and the counters stay in
// Redis, in the same script call: who is counted is decided by Redis alone.
// The relaxation, across replicas: a replica leasing a key does not know
// what other replicas consumed of it, so a client spraying N replicas gets
// at most N−1 requests more than its limit per window (one per other
// replica; a key evicted from a full twin map, or any key after the replica
// restarts, counts as unknown again). The
// Redis limiter alone ([NewRedis]) leases nothing.
//
// Undo takes a counted report back (its markers and counts) when it could
// not be stored: a report is counted only once it is stored.
//
// Nobody is counted twice across a restart or a Redis outage: see Limiter
// and Redis for how the markers are restored from the stored reports
// (Recall) and from the last reports Redis counted (recent.go: counted but
// maybe not yet stored), and how a batch Redis runs too late is refused.
//
// # Unique reporters without HyperLogLog
//
// The counters are our "HyperLogLog or equivalent", and they are exact rather
// than estimated: because a reporter is counted at most once per service per
// dedupe window, the counted reports of one minute are exactly the unique
// reporters of that minute, and a sum of consecutive minutes spanning at most
// the dedupe window (15 minutes) is exactly the number of unique reporters in
// that span. Longer sums count a reporter at most once per dedupe window. A
// reporter's problem and region are those of its counted report.
//
// # Deny cache
//
// When a limit denies with RetryAfter d, the denial is remembered in process
// until now+d. GCRA guarantees that every request of
// that reporter (or network) is denied until then anyway, so Denied can answer
// a flood without touching Redis, before the handler even reads the body.
package ratelimit
