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

// TestDenyCacheConcurrent: goroutines recording and looking up denials at
// once. Each goroutine's own denials are found at once and afterwards, with
// their kind and time left; ids never recorded are never reported denied;
// the entry count is exactly the live keys; concurrent lookups of expired
// entries remove each once (the count ends at zero, not below); and under a
// flood of distinct keys no shard passes its bound and the count matches
// the shards' maps.
func TestDenyCacheConcurrent(t *testing.T) {
	const goroutines, perG = 8, 500
	now := time.Unix(1_900_000_000, 0)
	c := newTestDenyCache(1 << 20) // far above what is recorded: nothing evicted
	id := func(g, i int) string { return "g" + itoa(g) + "-" + itoa(i) }
	var wg sync.WaitGroup
	errs := make(chan string, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				kind := denyKind(i % 2)
				c.record(kind, id(g, i), now, limitState{denied: true, retry: time.Minute, reset: time.Minute})
				// Both keys are this goroutine's: another's never answers.
				d, ok := c.denied(id(g, i), id(g, i), now.Add(time.Second))
				if !ok || d.RetryAfter != 59*time.Second || d.ByNetwork != (kind == kindNetwork) {
					errs <- "recorded " + id(g, i) + " not found at once"
					return
				}
				if _, ok := c.denied("never-"+id(g, i), "never-"+id(g, i), now); ok {
					errs <- "never recorded never-" + id(g, i) + " reported denied"
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	if n := c.len(); n != goroutines*perG {
		t.Fatalf("%d entries; want exactly the %d recorded", n, goroutines*perG)
	}
	for g := range goroutines {
		for i := range perG {
			d, ok := c.denied(id(g, i), "x", now.Add(30*time.Second))
			wantOK := i%2 == 0 // as a reporter only: networks were recorded as networks
			if ok != wantOK || (ok && d.RetryAfter != 30*time.Second) {
				t.Fatalf("reporter %s afterwards: %+v %v", id(g, i), d, ok)
			}
			if _, ok := c.denied("x", id(g, i), now.Add(30*time.Second)); ok != !wantOK {
				t.Fatalf("network %s afterwards: %v", id(g, i), ok)
			}
		}
	}

	// Every goroutine looks up every entry after it lapsed: each is removed
	// once. Then, round after round, a few keys are recorded and all the
	// goroutines look them up together once they lapsed.
	later := now.Add(2 * time.Minute)
	for range goroutines {
		wg.Go(func() {
			for g := range goroutines {
				for i := range perG {
					c.denied(id(g, i), id(g, i), later)
				}
			}
		})
	}
	wg.Wait()
	if n := c.len(); n != 0 {
		t.Fatalf("%d entries after every one lapsed and was looked up", n)
	}
	for round := range 300 {
		at := later.Add(time.Duration(round) * time.Minute)
		for i := range 8 {
			c.record(kindReporter, id(0, i), at, limitState{denied: true, retry: time.Second})
		}
		for range goroutines {
			wg.Go(func() {
				for i := range 8 {
					c.denied(id(0, i), "x", at.Add(2*time.Second))
				}
			})
		}
		wg.Wait()
		if n := c.len(); n != 0 {
			t.Fatalf("round %d: %d entries after every one lapsed and was looked up", round, n)
		}
	}

	// A flood of distinct keys from every goroutine at once.
	const size = 640 // 10 per shard
	small := newTestDenyCache(size)
	for g := range goroutines {
		wg.Go(func() {
			for i := range 5000 {
				small.record(denyKind(i%2), id(g, i), now, limitState{denied: true, retry: time.Hour})
				small.denied(id(g, i), id(g, i), now)
			}
		})
	}
	wg.Wait()
	total := 0
	for i := range small.shards {
		sh := &small.shards[i]
		if len(sh.m) > small.perShard {
			t.Fatalf("shard %d holds %d entries; the bound is %d", i, len(sh.m), small.perShard)
		}
		total += len(sh.m)
	}
	if n := small.len(); n != total || n > size || n < size/2 {
		t.Fatalf("%d entries counted, %d in the shards; want the same, at most %d (and not emptied)", n, total, size)
	}
}
