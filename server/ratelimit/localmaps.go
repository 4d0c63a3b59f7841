package ratelimit

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"golang.org/x/time/rate"
)

const localShards = 64

// bucket is one key's token bucket. mu serialises check-then-take on the
// reporter bucket, so that "both limits allow" is decided atomically for a
// reporter (the network bucket is only taken with AllowN, which is atomic).
type bucket struct {
	mu   sync.Mutex
	lim  *rate.Limiter
	last int64 // unix nanos of the last use; guarded by the shard's mutex
}

// bucketMap holds the token buckets of one limit, sharded by key, and drops
// buckets idle long enough to have refilled (so dropping changes nothing).
type bucketMap struct {
	limit  redis_rate.Limit
	rate   rate.Limit    // tokens per second
	idle   time.Duration // evict after this long unused
	seed   maphash.Seed
	shards [localShards]bucketShard
}

type bucketShard struct {
	mu        sync.Mutex
	m         map[string]*bucket
	nextSweep int64
	_         [40]byte
}

func newBucketMap(l redis_rate.Limit, seed maphash.Seed) *bucketMap {
	perSec := float64(l.Rate) / l.Period.Seconds()
	refill := time.Duration(float64(l.Burst) / perSec * float64(time.Second))
	b := &bucketMap{limit: l, rate: rate.Limit(perSec), idle: max(2*l.Period, refill), seed: seed}
	for i := range b.shards {
		b.shards[i].m = make(map[string]*bucket)
	}
	return b
}

// get returns key's bucket, creating it, and marks it used at now.
func (b *bucketMap) get(key string, nowN int64) *bucket {
	sh := &b.shards[maphash.String(b.seed, key)%localShards]
	sh.mu.Lock()
	bk := sh.m[key]
	if bk == nil {
		if nowN >= sh.nextSweep {
			b.sweep(sh, nowN)
		}
		bk = &bucket{lim: rate.NewLimiter(b.rate, b.limit.Burst)}
		sh.m[key] = bk
	}
	bk.last = nowN
	sh.mu.Unlock()
	return bk
}

// sweep drops idle buckets; called with sh.mu held.
func (b *bucketMap) sweep(sh *bucketShard, nowN int64) {
	sh.nextSweep = nowN + int64(b.idle)
	for k, bk := range sh.m {
		if nowN-bk.last > int64(b.idle) {
			delete(sh.m, k)
		}
	}
}

func (b *bucketMap) len() int {
	n := 0
	for i := range b.shards {
		sh := &b.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// state turns a bucket's tokens (before this request) into a limitState.
// taken says whether this request took a token.
func (b *bucketMap) state(tokens float64, taken bool) limitState {
	perSec := float64(b.rate)
	burst := float64(b.limit.Burst)
	if !taken {
		if tokens >= 1 {
			// Allowed by this limit but not taken (the other one denied).
			return limitState{remaining: int(tokens - 1), reset: secs((burst - tokens) / perSec)}
		}
		return limitState{denied: true, retry: secs((1 - tokens) / perSec), reset: secs((burst - tokens) / perSec)}
	}
	return limitState{remaining: int(tokens - 1), reset: secs((burst - tokens + 1) / perSec)}
}

// secs converts seconds to a Duration, rounded up to the microsecond like
// the Redis script's answers.
func secs(s float64) time.Duration {
	if s <= 0 {
		return 0
	}
	us := s * 1e6
	n := time.Duration(us)
	if float64(n) < us {
		n++
	}
	return n * time.Microsecond
}

// dedupeKey is one reporter's report on one service.
type dedupeKey struct {
	service  uint
	reporter string
}

// dedupeMap remembers who was counted for what until the window lapses.
type dedupeMap struct {
	window time.Duration
	seed   maphash.Seed
	shards [localShards]dedupeShard
}

type dedupeShard struct {
	mu        sync.Mutex
	m         map[dedupeKey]int64 // until, unix nanos
	nextSweep int64
	_         [40]byte
}

func newDedupeMap(window time.Duration, seed maphash.Seed) *dedupeMap {
	d := &dedupeMap{window: window, seed: seed}
	for i := range d.shards {
		d.shards[i].m = make(map[dedupeKey]int64)
	}
	return d
}

// first reports whether this is the reporter's first report for the service
// within the window, and if so starts the window (like SET NX PX).
func (d *dedupeMap) first(service uint, reporter string, nowN int64) bool {
	k := dedupeKey{service, reporter}
	sh := &d.shards[(maphash.String(d.seed, reporter)+uint64(service))%localShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if until, ok := sh.m[k]; ok && until > nowN {
		return false
	}
	if nowN >= sh.nextSweep {
		sh.nextSweep = nowN + int64(d.window)
		for k, until := range sh.m {
			if until <= nowN {
				delete(sh.m, k)
			}
		}
	}
	sh.m[k] = nowN + int64(d.window)
	return true
}

func (d *dedupeMap) len() int {
	n := 0
	for i := range d.shards {
		sh := &d.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
