package ratelimit

import (
	"context"
	"hash/maphash"
	"math"
	"time"

	"github.com/outcry/outcry/models"
)

// Local is the in-process twin of Redis: token buckets from
// golang.org/x/time/rate per reporter and network, a dedupe map and
// per-minute counters, all sharded for concurrency. It serves a single
// replica without Redis, and Limiter's fallback while Redis is unreachable.
// Idle buckets, lapsed dedupe entries and expired minutes are dropped lazily
// as traffic arrives; there is no goroutine to stop.
type Local struct {
	cfg       Config
	now       func() time.Time
	reporters *bucketMap
	networks  *bucketMap
	dedupe    *dedupeMap
	counters  *counterStore
	deny      *denyCache
}

var (
	_ models.Admitter      = (*Local)(nil)
	_ models.CounterReader = (*Local)(nil)
)

// NewLocal returns the in-process limiter for cfg (Prefix is unused). now is
// its clock (nil: time.Now); handlers calling Denied should use the same.
func NewLocal(cfg Config, now func() time.Time) (*Local, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	seed := maphash.MakeSeed()
	return &Local{
		cfg:       cfg,
		now:       now,
		reporters: newBucketMap(cfg.Reporter, seed),
		networks:  newBucketMap(cfg.Network, seed),
		dedupe:    newDedupeMap(cfg.Dedupe, seed),
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
	rb := l.reporters.get(a.Reporter, nowN)
	nb := l.networks.get(a.Network, nowN)

	// Both or neither: the reporter's tokens cannot change while rb.mu is
	// held, and the network's AllowN takes a token only if one is there.
	rb.mu.Lock()
	rTok := rb.lim.TokensAt(now)
	allowed := rTok >= 1 && nb.lim.AllowN(now, 1)
	if allowed {
		rb.lim.AllowN(now, 1)
	}
	rb.mu.Unlock()

	var rs, ns limitState
	if allowed {
		rs = l.reporters.state(rTok, true)
		ns = l.networks.state(nb.lim.TokensAt(now)+1, true)
	} else {
		rs = l.reporters.state(rTok, false)
		nTok := nb.lim.TokensAt(now)
		if rTok >= 1 {
			// The network denied AllowN; a concurrent refill seen since
			// must not turn that into "not denied".
			nTok = math.Min(nTok, math.Nextafter(1, 0))
		}
		ns = l.networks.state(nTok, false)
		if rs.denied {
			l.deny.record(kindReporter, a.Reporter, now, rs)
		}
		if ns.denied {
			l.deny.record(kindNetwork, a.Network, now, ns)
		}
	}

	counted := false
	if allowed && l.dedupe.first(a.ServiceID, a.Reporter, nowN) {
		counted = true
		at := a.At
		if at.IsZero() {
			at = now
		}
		l.counters.add(a.ServiceID, unixMinute(at), a.Problem, a.Region, nowN)
	}
	return decide(allowed, counted, l.cfg.Reporter, l.cfg.Network, rs, ns)
}

// Denied answers a cached denial of reporter or network; see the package
// documentation.
func (l *Local) Denied(reporter, network string, now time.Time) (models.Admittance, bool) {
	return l.deny.denied(reporter, network, now)
}

// Minutes returns the counters of every minute in [from, to) (starting with
// the minute holding from), oldest first; it never fails.
func (l *Local) Minutes(_ context.Context, from, to time.Time) ([]models.MinuteCounts, error) {
	lo, hi := minuteBounds(from, to)
	return l.counters.minutes(lo, hi, l.now().UnixNano()), nil
}
