package ratelimit

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/outcry/outcry/models"
)

// memStore stands in for the report store: what handlers stored as
// counted, recalled like store.CountedSince.
type memStore struct {
	mu    sync.Mutex
	marks []models.CountedMark
}

func (m *memStore) add(a models.Admission) {
	m.mu.Lock()
	m.marks = append(m.marks, models.CountedMark{ServiceID: a.ServiceID, Reporter: a.Reporter, Network: a.Network, At: a.At})
	m.mu.Unlock()
}

func (m *memStore) recall(_ context.Context, since time.Time) ([]models.CountedMark, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []models.CountedMark
	for _, k := range m.marks {
		if !k.At.Before(since) {
			out = append(out, k)
		}
	}
	return out, nil
}

// outage is a Limiter on a throwaway redis-server whose process the test
// stops, pauses and restarts, with a store recording counted reports as
// handlers would.
type outage struct {
	t     *testing.T
	srv   *redisServer
	lim   *Limiter
	store *memStore
	min   time.Time
}

func newOutage(t *testing.T) *outage {
	srv := startRedisServer(t)
	st := &memStore{}
	cfg := Config{Prefix: testPrefix(t, nil), Deadline: 200 * time.Millisecond}
	local, err := NewLocal(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	lim, err := New(newTestClient(t, srv.addr, nil), local, cfg, Options{RetryInterval: 50 * time.Millisecond, Recall: st.recall})
	if err != nil {
		t.Fatal(err)
	}
	return &outage{t: t, srv: srv, lim: lim, store: st, min: time.Unix(unixMinute(time.Now()), 0)}
}

// report admits one report of reporter (its own network) and stores it
// when counted; it returns whether it was counted.
func (o *outage) report(reporter string) bool {
	o.t.Helper()
	a := models.Admission{ServiceID: 1, Reporter: reporter, Network: "net-" + reporter, Problem: "login", Region: "US", At: time.Now()}
	d, err := o.lim.Admit(context.Background(), a)
	if err != nil || !d.Allowed {
		o.t.Fatalf("report of %s: %+v %v", reporter, d, err)
	}
	if d.Counted {
		o.store.add(a)
	}
	return d.Counted
}

// total is what the detector would read for service 1.
func (o *outage) total() int {
	o.t.Helper()
	mc, err := o.lim.Minutes(context.Background(), o.min.Add(-time.Minute), time.Now().Add(time.Minute))
	if err != nil {
		o.t.Fatal(err)
	}
	n := 0
	for _, m := range mc {
		n += m.Services[1].Total
	}
	return n
}

// healthy waits until the Limiter is back on Redis.
func (o *outage) healthy() {
	o.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; o.lim.Degraded(); i++ {
		if time.Now().After(deadline) {
			o.t.Fatal("the Limiter did not return to Redis")
		}
		o.report("probe-" + itoa(i))
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNobodyCountedTwiceAcrossRedisPause: Redis freezes (SIGSTOP) with a
// batch in flight. The batch times out and the twin answers; when Redis
// wakes it refuses the stale batch (its deadline passed), so that report
// is counted once. Reporters counted before the pause (known from the
// store) are not counted again by the twin, and those the twin counted are
// not counted again by Redis afterwards.
func TestNobodyCountedTwiceAcrossRedisPause(t *testing.T) {
	o := newOutage(t)
	if !o.report("before") {
		t.Fatal("first report not counted")
	}
	o.srv.pause()
	if !o.report("in-flight") { // times out on Redis, counted by the twin
		t.Fatal("the report sent while Redis froze was not counted")
	}
	if !o.lim.Degraded() {
		t.Fatal("not degraded after a timeout")
	}
	if o.report("before") {
		t.Fatal("the twin counted again a reporter Redis had counted before the pause")
	}
	if !o.report("during") || o.report("during") {
		t.Fatal("the twin did not count a new reporter exactly once")
	}
	o.srv.resume()
	o.healthy()
	for _, r := range []string{"before", "in-flight", "during"} {
		if o.report(r) {
			t.Fatalf("%s counted again after Redis came back", r)
		}
	}
	probes := len(o.store.marks) - 3
	if got, want := o.total(), 3+probes; got != want {
		t.Fatalf("the detector reads %d reports, want %d (3 reporters and %d probes, each once)", got, want, probes)
	}
}

// TestNobodyCountedTwiceAcrossRedisRestart: Redis restarts empty. Neither
// the twin (while it is down) nor the empty Redis (once it is back) counts
// again a reporter counted before, and what the twin counted is known to
// Redis afterwards.
func TestNobodyCountedTwiceAcrossRedisRestart(t *testing.T) {
	o := newOutage(t)
	for _, r := range []string{"a", "b"} {
		if !o.report(r) {
			t.Fatalf("%s not counted", r)
		}
	}
	o.srv.stop()
	if o.report("a") {
		t.Fatal("the twin counted a again")
	}
	if !o.report("c") {
		t.Fatal("the twin did not count c")
	}
	o.srv.restart()
	o.healthy()
	for _, r := range []string{"a", "b", "c"} {
		if o.report(r) {
			t.Fatalf("%s counted again by the restarted Redis", r)
		}
	}
	if !o.report("d") {
		t.Fatal("a new reporter is not counted after the restart")
	}
}

// admitUnstored admits one report of reporter like report, but the store
// does not learn it (yet): a handler whose write has not committed.
func (o *outage) admitUnstored(reporter string) models.Admission {
	o.t.Helper()
	a := models.Admission{ServiceID: 1, Reporter: reporter, Network: "net-" + reporter, Problem: "login", Region: "US", At: time.Now()}
	d, err := o.lim.Admit(context.Background(), a)
	if err != nil || !d.Counted {
		o.t.Fatalf("report of %s not counted: %+v %v", reporter, d, err)
	}
	return a
}

// TestCountedNotYetStoredAcrossRedisStop: Redis counts a report whose row
// is not yet written when Redis goes away. The twin's markers from the
// store miss it, but the twin must not count its reporter again; nor may
// the restarted (empty) Redis, seeded before the row is written.
func TestCountedNotYetStoredAcrossRedisStop(t *testing.T) {
	o := newOutage(t)
	pending := o.admitUnstored("pending")
	o.srv.stop()
	if o.report("pending") {
		t.Fatal("the twin counted again a reporter Redis counted just before it went away (its row not yet stored)")
	}
	o.srv.restart()
	o.healthy()
	if o.report("pending") {
		t.Fatal("the restarted Redis counted again a reporter whose row was not yet stored")
	}
	o.store.add(pending)
	if !o.report("new") {
		t.Fatal("a new reporter is not counted")
	}
}

// TestCountedNotYetStoredAcrossRedisFlush: Redis loses its data between
// two batches (no failed call, so the Limiter never degrades) while a
// counted report is not yet stored: the shard is seeded again from the
// store and from what was counted lately, so its reporter is not counted
// again.
func TestCountedNotYetStoredAcrossRedisFlush(t *testing.T) {
	o := newOutage(t)
	o.admitUnstored("pending")
	if !o.report("stored") {
		t.Fatal("stored not counted")
	}
	if err := o.lim.redis.rdb.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"pending", "stored"} {
		if o.report(r) {
			t.Fatalf("%s counted again after Redis lost its data", r)
		}
	}
	if o.lim.Degraded() {
		t.Fatal("degraded, but Redis never failed")
	}
}

// TestNobodyCountedTwiceUnderLoadAcrossRestart: reporters pour in from
// many goroutines while Redis is stopped and restarted; every reporter
// reports once, and once the Limiter is back on Redis each reports again.
// None is counted twice, whichever path (Redis, the twin, the hand-over
// between them) counted it first.
func TestNobodyCountedTwiceUnderLoadAcrossRestart(t *testing.T) {
	o := newOutage(t)
	const workers, each = 16, 120
	pour := func(during func(i int)) {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					if w == 0 {
						during(i)
					}
					r := "w" + itoa(w) + "-" + itoa(i)
					a := models.Admission{ServiceID: 1, Reporter: r, Network: "net-" + r, Problem: "login", At: time.Now()}
					d, err := o.lim.Admit(context.Background(), a)
					if err != nil {
						t.Error(err)
						return
					}
					if d.Counted {
						o.store.add(a)
					}
				}
			})
		}
		wg.Wait()
	}
	pour(func(i int) {
		switch i {
		case each / 4:
			o.srv.stop()
		case each / 2:
			o.srv.restart()
		}
	})
	o.healthy()
	pour(func(int) {})
	seen := map[string]int{}
	for _, m := range o.store.marks {
		if seen[m.Reporter]++; seen[m.Reporter] == 2 {
			t.Errorf("%s counted twice", m.Reporter)
		}
	}
}

// TestBatchJudgesInOrder: one script call with repeated reporters and
// networks decides exactly as the same admissions sent one at a time (the
// batch's GCRA states are read once and kept current within the call).
func TestBatchJudgesInOrder(t *testing.T) {
	rdb := testRedis(t)
	cfg := Config{Reporter: redis_rate.PerMinute(3), Network: redis_rate.PerMinute(5)}
	at := time.Now()
	var as []models.Admission
	for i := range 24 {
		r := "r" + itoa(i%4)
		as = append(as, models.Admission{ServiceID: uint(1 + i%2), Reporter: r, Network: "n" + itoa(i%4/2), Problem: "login", At: at})
	}
	run := func(batch bool) []models.Admittance {
		r, err := NewRedis(rdb, Config{Prefix: testPrefix(t, rdb), Reporter: cfg.Reporter, Network: cfg.Network}, nil)
		if err != nil {
			t.Fatal(err)
		}
		sh := r.shards[0]
		if err := rdb.Set(context.Background(), sh.seeded, "1", 0).Err(); err != nil {
			t.Fatal(err)
		}
		var calls []*admitCall
		for _, a := range as {
			calls = append(calls, &admitCall{a: a})
		}
		if batch {
			r.admitBatch(context.Background(), sh, calls)
		} else {
			for _, c := range calls {
				r.admitBatch(context.Background(), sh, []*admitCall{c})
			}
		}
		out := make([]models.Admittance, len(calls))
		for i, c := range calls {
			if c.err != nil {
				t.Fatal(c.err)
			}
			out[i] = c.d
			out[i].RetryAfter, out[i].ResetAfter = 0, 0 // Redis's clock moves between calls
		}
		return out
	}
	one, all := run(false), run(true)
	counted := 0
	for i := range as {
		if one[i] != all[i] {
			t.Errorf("admission %d (%+v): one at a time %+v, in one batch %+v", i, as[i], one[i], all[i])
		}
		if all[i].Counted {
			counted++
		}
	}
	if counted == 0 || all[len(all)-1].Allowed {
		t.Fatalf("the case is too easy: %d counted, last allowed %v", counted, all[len(all)-1].Allowed)
	}
}
