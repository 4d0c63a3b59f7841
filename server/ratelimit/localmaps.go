package ratelimit

import (
	"sync"
	"sync/atomic"
	"time"
)

const (
	localShards   = 64
	sweepInterval = 30 * time.Second
)

// expiringMap is a sharded map from a fixed-size key to a deadline (unix
// nanoseconds): a GCRA theoretical arrival time, or the end of a dedupe
// or evidence marker. An entry whose deadline has passed means nothing
// (a bucket that has refilled, a marker that has lapsed), so dropping it
// changes no answer.
//
// Memory is bounded three ways: keys are 64-bit hashes and values one
// int64 (about 40 bytes an entry instead of ~250 for a string-keyed
// token bucket); each shard holds at most cap entries, and past that
// lapsed entries go first, then arbitrary ones (counted in evictedLive);
// and a sweep drops lapsed entries on a schedule and rebuilds a shard's
// map once it holds a quarter of its peak, because a Go map never gives
// back the memory of deleted entries.
type expiringMap[K comparable] struct {
	cap         int // per shard
	evictedLive atomic.Int64
	shards      [localShards]expShard[K]
}

type expShard[K comparable] struct {
	mu   sync.Mutex
	m    map[K]int64
	peak int
	_    [32]byte // keep shards on separate cache lines
}

func newExpiringMap[K comparable](maxEntries int) *expiringMap[K] {
	e := &expiringMap[K]{cap: max(1, maxEntries/localShards)}
	for i := range e.shards {
		e.shards[i].m = make(map[K]int64)
	}
	return e
}

func (e *expiringMap[K]) shard(h uint64) *expShard[K] { return &e.shards[h%localShards] }

// makeRoom keeps a shard under its cap before an insert; called with
// sh.mu held.
func (e *expiringMap[K]) makeRoom(sh *expShard[K], nowN int64) {
	if len(sh.m) < e.cap {
		return
	}
	sh.sweep(nowN)
	if len(sh.m) < e.cap {
		return
	}
	// Every entry is live: drop an eighth, so a flood of new keys does
	// not sweep on every insert.
	target := e.cap - max(1, e.cap/8)
	n := 0
	for k := range sh.m {
		if len(sh.m) <= target {
			break
		}
		delete(sh.m, k)
		n++
	}
	e.evictedLive.Add(int64(n))
}

// insert sets k's deadline, making room first; called with sh.mu held.
func (e *expiringMap[K]) insert(sh *expShard[K], k K, v, nowN int64) {
	if _, ok := sh.m[k]; !ok {
		e.makeRoom(sh, nowN)
	}
	sh.m[k] = v
	if len(sh.m) > sh.peak {
		sh.peak = len(sh.m)
	}
}

// setNX sets k's deadline to until unless k holds a live one (like Redis
// SET NX PX), and reports whether it did.
func (e *expiringMap[K]) setNX(h uint64, k K, until, nowN int64) bool {
	sh := e.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if v, ok := sh.m[k]; ok && v > nowN {
		return false
	}
	e.insert(sh, k, until, nowN)
	return true
}

// del drops k.
func (e *expiringMap[K]) del(h uint64, k K) {
	sh := e.shard(h)
	sh.mu.Lock()
	delete(sh.m, k)
	sh.mu.Unlock()
}

// sweepAll drops lapsed entries of every shard.
func (e *expiringMap[K]) sweepAll(nowN int64) {
	for i := range e.shards {
		sh := &e.shards[i]
		sh.mu.Lock()
		sh.sweep(nowN)
		sh.mu.Unlock()
	}
}

// sweep drops lapsed entries and shrinks a map that has emptied; called
// with sh.mu held.
func (sh *expShard[K]) sweep(nowN int64) {
	for k, v := range sh.m {
		if v <= nowN {
			delete(sh.m, k)
		}
	}
	if sh.peak > 1024 && len(sh.m) < sh.peak/4 {
		m := make(map[K]int64, len(sh.m))
		for k, v := range sh.m {
			m[k] = v
		}
		sh.m, sh.peak = m, len(m)
	}
}

func (e *expiringMap[K]) len() int {
	n := 0
	for i := range e.shards {
		sh := &e.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// markKey is a dedupe marker (slot 0: a reporter on a service) or a
// network's evidence slot on a service (slot 1…k).
type markKey struct {
	id      uint64 // hash of the reporter or network
	service uint32
	slot    uint32
}

func (k markKey) hash() uint64 {
	return k.id ^ uint64(k.service)*0x9e3779b97f4a7c15 ^ uint64(k.slot)<<56
}
