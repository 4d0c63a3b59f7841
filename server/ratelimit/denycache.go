package ratelimit

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/outcry/outcry/models"
)

const (
	denyShards        = 64
	denySweepInterval = time.Minute
)

type denyKind uint8

const (
	kindReporter denyKind = iota
	kindNetwork
)

// denyEntry holds unix nanoseconds: denied until, fully replenished at.
type denyEntry struct{ until, reset int64 }

// denyCache remembers denials until they lapse, so a flood from one reporter
// or network is turned away without a Redis call. It is sharded, bounded
// (expired entries go first, then arbitrary ones), and shared by the Redis
// and in-process limiters of one Limiter.
//
// Entries are keyed by a seeded 64-bit hash of kind and id rather than the
// id itself: lookups then touch no string memory, which matters when a flood
// spreads over many keys. Two ids sharing a hash (odds about 2^-64 per pair)
// would share a denial for its few seconds.
type denyCache struct {
	limits   [2]redis_rate.Limit
	seed     maphash.Seed
	perShard int
	n        atomic.Int64 // entries in all shards; 0 makes lookups free
	shards   [denyShards]denyShard
}

type denyShard struct {
	mu        sync.RWMutex
	m         map[uint64]denyEntry
	nextSweep int64
	_         [24]byte // keep shards on separate cache lines
}

func newDenyCache(reporter, network redis_rate.Limit, size int) *denyCache {
	c := &denyCache{limits: [2]redis_rate.Limit{reporter, network}, seed: maphash.MakeSeed()}
	if size > 0 {
		c.perShard = max(1, size/denyShards)
	}
	for i := range c.shards {
		c.shards[i].m = make(map[uint64]denyEntry)
	}
	return c
}

// key hashes kind and id and picks the shard.
func (c *denyCache) key(kind denyKind, id string) (uint64, *denyShard) {
	h := maphash.String(c.seed, id)
	if kind == kindNetwork {
		h = ^h
	}
	return h, &c.shards[h%denyShards]
}

// record remembers that id is denied for s.retry from now.
func (c *denyCache) record(kind denyKind, id string, now time.Time, s limitState) {
	if c.perShard == 0 || s.retry <= 0 {
		return
	}
	k, sh := c.key(kind, id)
	nowN := now.UnixNano()
	e := denyEntry{until: nowN + int64(s.retry), reset: nowN + int64(max(s.reset, s.retry))}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.m[k]; ok {
		if old.until < e.until {
			sh.m[k] = e
		}
		return
	}
	if nowN >= sh.nextSweep || len(sh.m) >= c.perShard {
		c.sweep(sh, nowN)
	}
	sh.m[k] = e
	c.n.Add(1)
}

// sweep drops expired entries and, past the cap, arbitrary ones (an eighth
// of the shard, so a flood of new keys does not sweep on every insert).
// Called with sh.mu held.
func (c *denyCache) sweep(sh *denyShard, nowN int64) {
	sh.nextSweep = nowN + int64(denySweepInterval)
	dropped := 0
	for k, e := range sh.m {
		if e.until <= nowN {
			delete(sh.m, k)
			dropped++
		}
	}
	if len(sh.m) >= c.perShard {
		target := c.perShard - max(1, c.perShard/8)
		for k := range sh.m {
			if len(sh.m) <= target {
				break
			}
			delete(sh.m, k)
			dropped++
		}
	}
	c.n.Add(int64(-dropped))
}

// lookup returns id's denial if it lasts beyond now.
func (c *denyCache) lookup(kind denyKind, id string, nowN int64) (denyEntry, bool) {
	k, sh := c.key(kind, id)
	sh.mu.RLock()
	e, ok := sh.m[k]
	sh.mu.RUnlock()
	if !ok {
		return e, false
	}
	if e.until > nowN {
		return e, true
	}
	sh.mu.Lock()
	if cur, ok := sh.m[k]; ok && cur.until <= nowN {
		delete(sh.m, k)
		c.n.Add(-1)
	}
	sh.mu.Unlock()
	return e, false
}

// denied answers a cached denial of the reporter or the network, without
// calling any backend. A miss says nothing: Admit decides.
func (c *denyCache) denied(reporter, network string, now time.Time) (models.Admittance, bool) {
	if c.n.Load() == 0 {
		return models.Admittance{}, false
	}
	nowN := now.UnixNano()
	kind := kindReporter
	e, ok := c.lookup(kindReporter, reporter, nowN)
	if ne, nok := c.lookup(kindNetwork, network, nowN); nok && (!ok || ne.until > e.until) {
		kind, e, ok = kindNetwork, ne, true
	}
	if !ok {
		return models.Admittance{}, false
	}
	lim := c.limits[kind]
	return models.Admittance{
		Limit:      lim.Rate,
		Period:     lim.Period,
		RetryAfter: time.Duration(e.until - nowN),
		ResetAfter: time.Duration(e.reset - nowN),
		ByNetwork:  kind == kindNetwork,
	}, true
}

// len is the number of entries, expired ones included until swept.
func (c *denyCache) len() int { return int(c.n.Load()) }
