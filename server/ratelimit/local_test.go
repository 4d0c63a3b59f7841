package ratelimit

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/outcry/outcry/internal/testkit"
	"github.com/outcry/outcry/models"
)

func newTestLocal(t *testing.T, cfg Config) (*Local, *testkit.Clock) {
	t.Helper()
	clk := newFakeClock()
	l, err := NewLocal(cfg, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	return l, clk
}

// concurrently admits each reporter on network(reporter) from its own
// goroutine and returns how many were allowed.
func concurrently(l *Local, reporters []string, network func(string) string) int {
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for _, r := range reporters {
		wg.Go(func() {
			d, _ := l.Admit(context.Background(), models.Admission{ServiceID: 1, Reporter: r, Network: network(r)})
			if d.Allowed {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	return int(allowed.Load())
}

func TestLocalConcurrentBothOrNeither(t *testing.T) {
	l, _ := newTestLocal(t, Config{
		Reporter: redis_rate.Limit{Rate: 1, Period: time.Hour, Burst: 1},
		Network:  redis_rate.Limit{Rate: 50, Period: time.Hour, Burst: 50},
	})
	reporters := make([]string, 200)
	for i := range reporters {
		reporters[i] = "r" + itoa(i)
	}
	if got := concurrently(l, reporters, func(string) string { return "n" }); got != 50 {
		t.Fatalf("%d of 200 reporters allowed on a network with burst 50", got)
	}
	// Everyone the network turned away still has their own request: on
	// networks of their own, exactly 150 more get through.
	if got := concurrently(l, reporters, func(r string) string { return "n-" + r }); got != 150 {
		t.Fatalf("%d allowed on fresh networks, want the 150 the first network denied", got)
	}
}

func TestLocalConcurrentSameReporter(t *testing.T) {
	l, _ := newTestLocal(t, Config{Reporter: redis_rate.PerHour(5)})
	reporters := make([]string, 100)
	for i := range reporters {
		reporters[i] = "same"
	}
	if got := concurrently(l, reporters, func(string) string { return "n" }); got != 5 {
		t.Fatalf("%d of 100 concurrent reports allowed, want burst 5", got)
	}
}

func TestLocalDropsIdleState(t *testing.T) {
	l, clk := newTestLocal(t, Config{CounterTTL: time.Hour})
	ctx := context.Background()
	admitAll := func(prefix string) {
		for i := range 1000 {
			d, _ := l.Admit(ctx, models.Admission{ServiceID: uint(i % 20), Reporter: prefix + itoa(i), Network: prefix + itoa(i)})
			if !d.Allowed || !d.Counted {
				t.Fatalf("%s%d: %+v", prefix, i, d)
			}
		}
	}
	admitAll("old")
	if r, n, d := l.reporters.len(), l.networks.len(), l.marks.len(); r != 1000 || n != 1000 || d != 2000 {
		t.Fatalf("after 1000 reports: %d reporters, %d networks, %d dedupe entries", r, n, d)
	}
	// Past both the buckets' idle time (2 periods) and the dedupe window,
	// and the counters' TTL: new traffic sweeps the old state out.
	clk.Add(2 * time.Hour)
	admitAll("new")
	if r, n, d := l.reporters.len(), l.networks.len(), l.marks.len(); r != 1000 || n != 1000 || d != 2000 {
		t.Fatalf("after idle and 1000 new reports: %d reporters, %d networks, %d dedupe entries", r, n, d)
	}
	minutes := 0
	for i := range l.counters.shards {
		minutes += len(l.counters.shards[i].minutes)
	}
	if minutes != counterShards { // one live minute per shard (20 services)
		t.Fatalf("%d minute entries kept, want %d", minutes, counterShards)
	}
}

func TestMergeMinutes(t *testing.T) {
	mk := func(m int64, id uint, n int) models.MinuteCounts {
		return models.MinuteCounts{Minute: m, Services: map[uint]models.Counts{id: {Total: n, Problems: map[string]int{"x": n}}}}
	}
	got := mergeMinutes(
		[]models.MinuteCounts{mk(60, 1, 1), mk(180, 1, 2)},
		[]models.MinuteCounts{mk(0, 1, 5), mk(180, 1, 3), mk(240, 2, 1)},
	)
	var ms []int64
	for _, m := range got {
		ms = append(ms, m.Minute)
	}
	if !slices.Equal(ms, []int64{0, 60, 180, 240}) {
		t.Fatalf("minutes %v", ms)
	}
	if c := got[2].Services[1]; c.Total != 5 || c.Problems["x"] != 5 {
		t.Fatalf("merged minute 180: %+v", got[2])
	}
}
