package ratelimit

import "github.com/outcry/outcry/models"

// Leases: the first request of a reporter or network that this replica
// does not know is admitted in process, without a GCRA write to Redis.
//
// A key's GCRA state only matters while it is live (its theoretical arrival
// time, TAT, is in the future); most reporters report once, so most GCRA
// writes to Redis are of a key's first request, which every limit allows.
// The Limiter therefore keeps, in its twin's maps, the TAT of every key it
// has seen lately:
//
//   - a key with no live state here is leased: its first request is
//     judged here (it is always allowed: burst >= 1) and its TAT stored
//     here, marked as a lease not yet known to Redis (the odd nanosecond,
//     leasePending);
//   - a key with live state here goes to Redis, with what is left of a
//     pending lease (µs after now) as a floor: the script takes the TAT as
//     at least now+floor, so the leased request is counted there before
//     this one is judged, and a single replica's decisions are those of
//     Redis alone (the floor is measured when the batch is built, so it can
//     only be later by the call's one-way latency: stricter, never looser);
//   - after Redis answers, the key's TAT here becomes at least Redis's
//     (now + reset_after), so it stays known for as long as Redis keeps it,
//     and the lease is no longer pending once Redis stored a TAT over it.
//
// The counting claim (the evidence slot) and the counters stay in Redis and
// synchronous: a leased report is still counted by Redis or not at all.
//
// The relaxation: another replica's consumption of a key is unknown to a
// replica that leases it, and a floor is merged as a maximum, not added. So
// a client spraying N replicas gets at most N−1 requests more per window
// than the limit (one lease per other replica, each replenished like any
// request); on one replica nothing changes. A key evicted from a full twin
// map (Config.MaxEntries live keys) is leased again: one more request.

// leased is a floor that says the key's request was judged in process.
const leased = -1

// keyLease is one key's part of a lease decision.
type keyLease struct {
	floor int64      // µs of a pending lease left, 0 none, or leased
	tat   int64      // the TAT stored here: the lease (to take it back) or the pending one sent
	st    limitState // leased: this request's state, judged here
}

// leaseDecision is what the twin decided for both keys of an admission.
type leaseDecision struct {
	r, n       keyLease
	rh, nh     uint64
	considered bool // false: no lease logic (the Redis type alone)
}

// leasePending marks a TAT stored here by a lease that Redis does not know
// yet: the odd nanosecond.
func leasePending(tat int64) bool { return tat&1 == 1 }

// lease decides, under the shards' locks, whether each key of a is leased
// (no live state here: judged and stored here) or goes to Redis with the
// floor of a pending lease.
func (l *Local) lease(a models.Admission) leaseDecision {
	nowN := l.now().UnixNano()
	l.maybeSweep(nowN)
	ld := leaseDecision{rh: l.hash(a.Reporter), nh: l.hash(a.Network), considered: true}
	rs, ns := l.reporters.shard(ld.rh), l.networks.shard(ld.nh)
	rs.mu.Lock()
	ns.mu.Lock()
	ld.r = leaseKey(l.reporters, rs, ld.rh, l.rLimit, nowN)
	ld.n = leaseKey(l.networks, ns, ld.nh, l.nLimit, nowN)
	ns.mu.Unlock()
	rs.mu.Unlock()
	return ld
}

func leaseKey(m *expiringMap[uint64], sh *expShard[uint64], h uint64, g gcraLimit, nowN int64) keyLease {
	tat := sh.m[h]
	if tat > nowN {
		if leasePending(tat) {
			return keyLease{floor: max(1, (tat-nowN+999)/1000), tat: tat}
		}
		return keyLease{}
	}
	_, newTAT, st := g.check(0, nowN) // a fresh key: always allowed
	newTAT |= 1
	m.insert(sh, h, newTAT, nowN)
	return keyLease{floor: leased, tat: newTAT, st: st}
}

// settle records Redis's answer for the keys of ld: a key Redis judged
// keeps at least Redis's TAT here (a pending lease Redis stored over stops
// being pending); a leased key is taken back when the admission was denied
// or failed (err: the twin judges it again).
func (l *Local) settle(ld leaseDecision, allowed bool, r, n limitState, failed bool) {
	if !ld.considered || (allowed && !failed && ld.r.floor == leased && ld.n.floor == leased) {
		return // the usual report of a surge: nothing to record
	}
	nowN := l.now().UnixNano()
	rs, ns := l.reporters.shard(ld.rh), l.networks.shard(ld.nh)
	rs.mu.Lock()
	ns.mu.Lock()
	settleKey(l.reporters, rs, ld.rh, ld.r, allowed, r, failed, nowN)
	settleKey(l.networks, ns, ld.nh, ld.n, allowed, n, failed, nowN)
	ns.mu.Unlock()
	rs.mu.Unlock()
}

func settleKey(m *expiringMap[uint64], sh *expShard[uint64], h uint64, k keyLease, allowed bool, st limitState, failed bool, nowN int64) {
	if k.floor == leased {
		if cur, ok := sh.m[h]; (failed || !allowed) && ok && cur == k.tat {
			delete(sh.m, h) // nothing else has seen it: as if never leased
		}
		return
	}
	if failed || st.reset <= 0 || (!allowed && !st.denied) {
		// Nothing known, or a key the other one's denial kept Redis from
		// storing: its reset is of a request that was not made.
		return
	}
	tat := (nowN + int64(st.reset)) &^ 1 // at least Redis's TAT: reset was measured before now
	cur, ok := sh.m[h]
	if !ok || cur <= nowN {
		m.insert(sh, h, tat, nowN)
		return
	}
	pending := cur & 1
	if allowed && k.floor > 0 && cur == k.tat {
		pending = 0 // Redis stored a TAT over the lease this call carried
	}
	sh.m[h] = max(cur&^1, tat) | pending
}
