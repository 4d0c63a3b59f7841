package ratelimit

import (
	"sync"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
)

func newTestDenyCache(size int) *denyCache {
	return newDenyCache(redis_rate.PerMinute(5), redis_rate.PerMinute(300), size)
}

func TestDenyCacheAnswersUntilRetry(t *testing.T) {
	c := newTestDenyCache(1000)
	now := time.Unix(1_900_000_000, 0)
	c.record(kindReporter, "r", now, limitState{denied: true, retry: 10 * time.Second, reset: time.Minute})
	c.record(kindNetwork, "n", now, limitState{denied: true, retry: 20 * time.Second, reset: time.Minute})

	d, ok := c.denied("r", "x", now.Add(time.Second))
	if !ok || d.Allowed || d.Limit != 5 || d.Period != time.Minute || d.RetryAfter != 9*time.Second || d.ResetAfter != 59*time.Second {
		t.Fatalf("reporter: %+v %v", d, ok)
	}
	if d, ok := c.denied("r", "n", now); !ok || d.Limit != 300 || d.RetryAfter != 20*time.Second {
		t.Fatalf("both denied: want the longer (network) denial, got %+v %v", d, ok)
	}
	if _, ok := c.denied("r", "x", now.Add(10*time.Second)); ok {
		t.Fatal("denied at RetryAfter")
	}
	if _, ok := c.denied("n", "r", now); ok {
		t.Fatal("reporter and network keys are not separate")
	}
	// A later, shorter denial does not shorten a longer one.
	c.record(kindNetwork, "n", now, limitState{denied: true, retry: time.Second})
	if d, _ := c.denied("x", "n", now); d.RetryAfter != 20*time.Second {
		t.Fatalf("shortened to %s", d.RetryAfter)
	}
	// Expired entries go on lookup; an empty cache answers without locking.
	c.denied("r", "n", now.Add(time.Hour))
	if c.len() != 0 {
		t.Fatalf("%d entries left after expiry", c.len())
	}
}

func TestDenyCacheBounded(t *testing.T) {
	const size = 640 // 10 per shard
	c := newTestDenyCache(size)
	now := time.Unix(1_900_000_000, 0)
	for i := range 20_000 {
		c.record(kindReporter, "r"+itoa(i), now, limitState{denied: true, retry: time.Hour})
	}
	if n := c.len(); n > size || n < size/2 {
		t.Fatalf("%d entries, want at most %d (and not emptied)", n, size)
	}
	// Expired entries make room before live ones are dropped.
	later := now.Add(2 * time.Hour)
	for i := range size / 4 {
		c.record(kindNetwork, "n"+itoa(i), later, limitState{denied: true, retry: time.Hour})
	}
	for i := range size / 4 {
		if _, ok := c.denied("x", "n"+itoa(i), later); !ok {
			t.Fatalf("fresh network %d evicted while expired entries remained", i)
		}
	}
	if disabled := newTestDenyCache(-1); disabled.perShard != 0 {
		t.Fatal("negative size does not disable the cache")
	}
}

func TestDenyCacheConcurrent(t *testing.T) {
	c := newTestDenyCache(1000)
	now := time.Unix(1_900_000_000, 0)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 5000 {
				id := itoa((g*5000 + i) % 3000)
				at := now.Add(time.Duration(i) * time.Millisecond)
				c.record(denyKind(i%2), id, at, limitState{denied: true, retry: time.Second, reset: time.Second})
				c.denied(id, id, at)
			}
		})
	}
	wg.Wait()
	if n := c.len(); n < 0 || n > 1000 {
		t.Fatalf("%d entries", n)
	}
}
