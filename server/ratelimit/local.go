package ratelimit

import (
	"context"
	"hash/maphash"
	"sync/atomic"
	"time"

	"github.com/outcry/outcry/models"
)

// Local is the in-process twin of Redis: GCRA limits per reporter and
// network, dedupe and network evidence markers and per-minute counters,
// all sharded and bounded (Config.MaxEntries). It serves a single replica
// without Redis, and Limiter's fallback while Redis is unreachable. Lapsed
// state is swept on a schedule driven by the calls it gets (the detector
// reads Minutes every few seconds), so there is no goroutine to stop.
type Local struct {
	cfg       Config
	now       func() time.Time
	seed      maphash.Seed
	rLimit    gcraLimit
	nLimit    gcraLimit
	reporters *expiringMap[uint64]
	networks  *expiringMap[uint64]
	marks     *expiringMap[markKey]
	counters  *counterStore
	deny      *denyCache
	nextSweep atomic.Int64
}

var (
	_ models.Admitter      = (*Local)(nil)
	_ models.CounterReader = (*Local)(nil)
)

// NewLocal returns the in-process limiter for cfg (Prefix and Shards are
// unused). now is its clock (nil: time.Now); handlers calling Denied should
// use the same.
func NewLocal(cfg Config, now func() time.Time) (*Local, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Local{
		cfg:       cfg,
		now:       now,
		seed:      maphash.MakeSeed(),
		rLimit:    newGCRALimit(cfg.Reporter),
		nLimit:    newGCRALimit(cfg.Network),
		reporters: newExpiringMap[uint64](cfg.MaxEntries),
		networks:  newExpiringMap[uint64](cfg.MaxEntries),
		marks:     newExpiringMap[markKey](2 * cfg.MaxEntries), // a reporter marker and a network slot per counted report
		counters:  newCounterStore(cfg.CounterTTL),
		deny:      newDenyCache(cfg.Reporter, cfg.Network, cfg.DenyCacheSize),
	}, nil
}

// Admit rate-limits, dedupes and counts a report. It fails only on an
// admission without reporter or network (code invalid).
func (l *Local) Admit(_ context.Context, a models.Admission) (models.Admittance, error) {
	if err := checkAdmission(a); err != nil {
		return models.Admittance{}, err
	}
	return l.admit(a), nil
}

func (l *Local) admit(a models.Admission) models.Admittance {
	now := l.now()
	nowN := now.UnixNano()
	l.maybeSweep(nowN)
	rh, nh := l.hash(a.Reporter), l.hash(a.Network)

	// Both limits or neither: hold the reporter's shard, then the
	// network's (always in that order, so two admissions cannot deadlock).
	rs, ns := l.reporters.shard(rh), l.networks.shard(nh)
	rs.mu.Lock()
	ns.mu.Lock()
	rOK, rTAT, rst := l.rLimit.check(rs.m[rh], nowN)
	nOK, nTAT, nst := l.nLimit.check(ns.m[nh], nowN)
	allowed := rOK && nOK
	if allowed {
		l.reporters.insert(rs, rh, rTAT, nowN)
		l.networks.insert(ns, nh, nTAT, nowN)
	}
	ns.mu.Unlock()
	rs.mu.Unlock()

	if !allowed {
		if rst.denied {
			l.deny.record(kindReporter, a.Reporter, now, rst)
		}
		if nst.denied {
			l.deny.record(kindNetwork, a.Network, now, nst)
		}
		return decide(false, 0, l.cfg.Reporter, l.cfg.Network, rst, nst)
	}
	slot := l.claim(uint32(a.ServiceID), rh, nh, nowN+int64(l.cfg.Dedupe), nowN)
	if slot > 0 {
		at := a.At
		if at.IsZero() {
			at = now
		}
		l.counters.add(a.ServiceID, unixMinute(at), a.Problem, a.Region, 1, nowN)
	}
	return decide(true, slot, l.cfg.Reporter, l.cfg.Network, rst, nst)
}

// claim sets the reporter's dedupe marker and takes one of the network's
// evidence slots, both until until, and returns the slot (from 1); 0 when
// the reporter was counted within the window or the network has no slot
// free (then nothing is set).
func (l *Local) claim(service uint32, rh, nh uint64, until, nowN int64) int {
	rk := markKey{id: rh, service: service}
	if !l.marks.setNX(rk.hash(), rk, until, nowN) {
		return 0
	}
	for s := 1; s <= l.cfg.NetworkEvidence; s++ {
		nk := markKey{id: nh, service: service, slot: uint32(s)}
		if l.marks.setNX(nk.hash(), nk, until, nowN) {
			return s
		}
	}
	l.marks.del(rk.hash(), rk)
	return 0
}

// Undo takes back a counted report (its markers and counts), e.g. when it
// could not be stored. It does nothing for a report that was not counted.
func (l *Local) Undo(_ context.Context, a models.Admission, d models.Admittance) error {
	if d.Slot <= 0 {
		return nil
	}
	l.unclaim(a, d.Slot)
	return nil
}

func (l *Local) unclaim(a models.Admission, slot int) {
	rk := markKey{id: l.hash(a.Reporter), service: uint32(a.ServiceID)}
	nk := markKey{id: l.hash(a.Network), service: uint32(a.ServiceID), slot: uint32(slot)}
	l.marks.del(rk.hash(), rk)
	l.marks.del(nk.hash(), nk)
	at := a.At
	if at.IsZero() {
		at = l.now()
	}
	l.counters.add(a.ServiceID, unixMinute(at), a.Problem, a.Region, -1, l.now().UnixNano())
}

// Load restores the dedupe and evidence markers of counted reports (from
// the store, after a restart or while Redis cannot be trusted), so that a
// reporter or network counted before is not counted again within the
// window. Counters are left alone: the counts were made where the reports
// were admitted.
func (l *Local) Load(marks []models.CountedMark) {
	nowN := l.now().UnixNano()
	for _, m := range marks {
		until := m.At.UnixNano() + int64(l.cfg.Dedupe)
		if until <= nowN || m.Reporter == "" {
			continue
		}
		nh := l.hash(m.Network)
		if m.Network == "" {
			nh = l.hash(m.Reporter)
		}
		l.claim(uint32(m.ServiceID), l.hash(m.Reporter), nh, until, nowN)
	}
}

// Denied answers a cached denial of reporter or network; see the package
// documentation.
func (l *Local) Denied(reporter, network string, now time.Time) (models.Admittance, bool) {
	return l.deny.denied(reporter, network, now)
}

// Minutes returns the counters of every minute in [from, to) (starting with
// the minute holding from), oldest first. It never fails: the error is the
// detector's CounterReader's, which Redis can return.
func (l *Local) Minutes(_ context.Context, from, to time.Time) ([]models.MinuteCounts, error) {
	return l.minutes(from, to), nil
}

// minutes is Minutes without the error it never returns.
func (l *Local) minutes(from, to time.Time) []models.MinuteCounts {
	lo, hi := minuteBounds(from, to)
	nowN := l.now().UnixNano()
	l.maybeSweep(nowN)
	return l.counters.minutes(lo, hi, nowN)
}

// EvictedLive is how many entries were dropped before they lapsed because
// a map was full (a flood of distinct reporters beyond Config.MaxEntries).
func (l *Local) EvictedLive() int64 {
	return l.reporters.evictedLive.Load() + l.networks.evictedLive.Load() + l.marks.evictedLive.Load()
}

// maybeSweep drops lapsed entries every sweepInterval.
func (l *Local) maybeSweep(nowN int64) {
	next := l.nextSweep.Load()
	if nowN < next || !l.nextSweep.CompareAndSwap(next, nowN+int64(sweepInterval)) {
		return
	}
	l.reporters.sweepAll(nowN)
	l.networks.sweepAll(nowN)
	l.marks.sweepAll(nowN)
	l.counters.trim(nowN)
}

func (l *Local) hash(s string) uint64 { return maphash.String(l.seed, s) }

// unclaimCounts takes a report back from the counters only (its markers
// stay: Redis has them now).
func (l *Local) unclaimCounts(a models.Admission) {
	l.counters.add(a.ServiceID, unixMinute(a.At), a.Problem, a.Region, -1, l.now().UnixNano())
}
