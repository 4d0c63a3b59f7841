package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/outcry/outcry/models"
	"github.com/redis/go-redis/v9"
)

// newReplica is one replica's Limiter (with its own twin) on rdb.
func newReplica(tb testing.TB, rdb redis.UniversalClient, cfg Config) *Limiter {
	tb.Helper()
	local, err := NewLocal(cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	lim, err := New(rdb, local, cfg, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return lim
}

func admitOK(t *testing.T, l *Limiter, service uint, reporter, network string) models.Admittance {
	t.Helper()
	d, err := l.Admit(context.Background(), models.Admission{ServiceID: service, Reporter: reporter, Network: network, Problem: "login", Region: "KR"})
	if err != nil || d.Degraded {
		t.Fatalf("Admit(%s, %s): %+v %v", reporter, network, d, err)
	}
	return d
}

func exists(t *testing.T, rdb *redis.Client, key string) bool {
	t.Helper()
	n, err := rdb.Exists(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// TestLeaseFirstRequestWritesNoGCRAState: a reporter and network this
// replica has not seen are admitted without GCRA keys in Redis, but the
// count (evidence slot and counters) is in Redis; the second request puts
// both requests into Redis's GCRA state, exactly as two calls to Redis.
func TestLeaseFirstRequestWritesNoGCRAState(t *testing.T) {
	rdb := testRedis(t)
	cfg := Config{Prefix: testPrefix(t, rdb)}
	lim := newReplica(t, rdb, cfg)
	p := cfg.Prefix + "{0}:"

	d := admitOK(t, lim, 7, "rep", "net")
	if !d.Allowed || !d.Counted || d.Remaining != 4 || d.Limit != 5 {
		t.Fatalf("first report: %+v, want allowed, counted, 4 of 5 left", d)
	}
	if exists(t, rdb, p+"r:rep") || exists(t, rdb, p+"n:net") {
		t.Fatal("the first request of a new reporter and network wrote GCRA state to Redis")
	}
	if !exists(t, rdb, p+"e:7:net:1") {
		t.Fatal("the counted report's evidence slot is not in Redis")
	}
	mc, err := lim.redis.Minutes(context.Background(), time.Now().Add(-time.Minute), time.Now().Add(time.Minute))
	if err != nil || len(mc) != 1 || mc[0].Services[7].Total != 1 || mc[0].Services[7].Problems["login"] != 1 {
		t.Fatalf("Redis's counters: %+v %v", mc, err)
	}

	d = admitOK(t, lim, 7, "rep", "net")
	if !d.Allowed || d.Counted || d.Remaining != 3 {
		t.Fatalf("second report: %+v, want allowed, not counted, 3 left", d)
	}
	if !exists(t, rdb, p+"r:rep") || !exists(t, rdb, p+"n:net") {
		t.Fatal("the second request did not write GCRA state to Redis")
	}
	// Redis alone (another replica) sees both requests.
	other, err := NewRedis(rdb, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err = other.Admit(context.Background(), models.Admission{ServiceID: 7, Reporter: "rep", Network: "net"})
	if err != nil || !d.Allowed || d.Remaining != 2 {
		t.Fatalf("a third request straight to Redis: %+v %v, want 2 left", d, err)
	}
}

// TestLeaseAcrossReplicas is the stated relaxation: a client spraying N
// replicas gets at most N-1 requests more than its limit per window, and is
// still counted once (the evidence slot is Redis's).
func TestLeaseAcrossReplicas(t *testing.T) {
	rdb := testRedis(t)
	cfg := Config{Prefix: testPrefix(t, rdb), Reporter: redis_rate.Limit{Rate: 2, Burst: 2, Period: time.Minute}}
	replicas := []*Limiter{newReplica(t, rdb, cfg), newReplica(t, rdb, cfg), newReplica(t, rdb, cfg)}
	allowed, counted := 0, 0
	for i := range 12 {
		d := admitOK(t, replicas[i%len(replicas)], 1, "sprayer", "net")
		if d.Allowed {
			allowed++
		}
		if d.Counted {
			counted++
		}
	}
	if want := 2 + len(replicas) - 1; allowed > want || allowed < 2 {
		t.Fatalf("%d requests allowed over %d replicas, want between the burst (2) and %d", allowed, len(replicas), want)
	}
	if counted != 1 {
		t.Fatalf("counted %d times across replicas, want once", counted)
	}
	// One replica alone stays exact: the burst, then denials.
	one := newReplica(t, rdb, cfg)
	for i, want := range []bool{true, true, false, false} {
		if d := admitOK(t, one, 1, "alone", "net2"); d.Allowed != want {
			t.Fatalf("request %d on one replica: %+v, want allowed %v", i+1, d, want)
		}
	}
}

// TestLeaseTakenBackWhenDenied: a report denied by its reporter's limit
// consumes nothing of its network, even when the network's request was
// leased in process.
func TestLeaseTakenBackWhenDenied(t *testing.T) {
	rdb := testRedis(t)
	cfg := Config{
		Prefix:   testPrefix(t, rdb),
		Reporter: redis_rate.Limit{Rate: 1, Burst: 1, Period: time.Minute},
		Network:  redis_rate.Limit{Rate: 2, Burst: 2, Period: time.Minute},
	}
	lim := newReplica(t, rdb, cfg)
	admitOK(t, lim, 1, "r1", "n1")
	if d := admitOK(t, lim, 1, "r1", "n2"); d.Allowed {
		t.Fatalf("the reporter's second request within its limit: %+v, want denied", d)
	}
	nh := lim.local.hash("n2")
	sh := lim.local.networks.shard(nh)
	sh.mu.Lock()
	_, kept := sh.m[nh]
	sh.mu.Unlock()
	if kept {
		t.Fatal("the denied report's network lease was kept")
	}
	// n2's limit is whole: two more reporters pass, the third is denied.
	for i, want := range []bool{true, true, false} {
		if d := admitOK(t, lim, 1, "r"+itoa(i+2), "n2"); d.Allowed != want {
			t.Fatalf("reporter %d on n2: %+v, want allowed %v", i+2, d, want)
		}
	}
	// The same when the network's lease is pending: r1's first request leased
	// n1, its second is denied by r1's limit and must not grow n1's lease.
	if d := admitOK(t, lim, 1, "r1", "n1"); d.Allowed {
		t.Fatalf("r1 again: %+v, want denied", d)
	}
	if d := admitOK(t, lim, 1, "r5", "n1"); !d.Allowed {
		t.Fatalf("the second reporter on n1: %+v, want allowed", d)
	}
	if d := admitOK(t, lim, 1, "r6", "n1"); d.Allowed {
		t.Fatalf("the third report on n1 (r1, r5 and this one's network limit of 2): %+v, want denied", d)
	}
}

// TestLeaseConcurrentOneReplicaExact: on one replica, concurrent requests
// of one new reporter get exactly its burst, whichever of them leases.
func TestLeaseConcurrentOneReplicaExact(t *testing.T) {
	rdb := testRedis(t)
	cfg := Config{Prefix: testPrefix(t, rdb)} // 5 a minute, burst 5
	for round := range 5 {
		lim := newReplica(t, rdb, cfg)
		var wg sync.WaitGroup
		var allowed, counted atomic.Int64
		for range 32 {
			wg.Go(func() {
				for range 2 {
					d, err := lim.Admit(context.Background(), models.Admission{ServiceID: 1, Reporter: "crowd" + itoa(round), Network: "net" + itoa(round)})
					if err != nil {
						t.Error(err) // not Fatal: another goroutine
						return
					}
					if d.Allowed {
						allowed.Add(1)
					}
					if d.Counted {
						counted.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if allowed.Load() != 5 || counted.Load() != 1 {
			t.Fatalf("round %d: %d allowed and %d counted of 64 concurrent requests, want 5 and 1", round, allowed.Load(), counted.Load())
		}
	}
}
