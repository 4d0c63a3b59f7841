package ratelimit

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/outcry/outcry/models"
)

// TestConformanceWithRedisRate drives github.com/go-redis/redis_rate/v10 and
// the admission script in lockstep, each on its own key of the same Redis,
// and requires identical decisions: allowed and remaining exactly, retry and
// reset to within the time between the two calls. The tested limit is the
// reporter's or the network's, the other one never binds.
func TestConformanceWithRedisRate(t *testing.T) {
	rdb := testRedis(t)
	huge := redis_rate.Limit{Rate: 1 << 20, Period: time.Second, Burst: 1 << 20}
	// Emission intervals of 250ms and more keep the lockstep calls (which
	// can be tens of ms apart under -race) on the same side of every refill.
	limits := []redis_rate.Limit{
		{Rate: 2, Period: time.Second, Burst: 3},
		{Rate: 4, Period: time.Second, Burst: 2},
		redis_rate.PerMinute(5),
		redis_rate.PerSecond(10), // inexact interval: redis_rate says 8 left of 10 after one
	}
	for _, lim := range limits {
		for _, network := range []bool{false, true} {
			name := lim.String() + map[bool]string{false: "/reporter", true: "/network"}[network]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				cfg := Config{Reporter: lim, Network: huge, Prefix: testPrefix(t, rdb), Dedupe: time.Millisecond}
				if network {
					cfg.Reporter, cfg.Network = huge, lim
				}
				ours, err := NewRedis(rdb, cfg, nil)
				if err != nil {
					t.Fatal(err)
				}
				theirs := redis_rate.NewLimiter(rdb)
				key := cfg.Prefix + "redis_rate"
				T := time.Duration(float64(lim.Period) / float64(lim.Rate))
				// A burst past the limit, then waits that end mid-interval,
				// so the lockstep calls never straddle a refill.
				steps := []time.Duration{0, 0, 0, 0, 0, T * 3 / 2, 0, 0, T * 3 / 2, 0, 0, 0}
				if T < 250*time.Millisecond || T > time.Second {
					steps = make([]time.Duration, lim.Burst+3) // the burst only
				}
				ctx := context.Background()
				for i, wait := range steps {
					time.Sleep(wait)
					res, err := theirs.Allow(ctx, key, lim)
					if err != nil {
						t.Fatal(err)
					}
					d, err := ours.Admit(ctx, models.Admission{ServiceID: 1, Reporter: "rep", Network: "net"})
					if err != nil {
						t.Fatal(err)
					}
					if d.Allowed != (res.Allowed == 1) || d.Remaining != res.Remaining {
						t.Fatalf("step %d: ours allowed=%v remaining=%d, redis_rate allowed=%d remaining=%d",
							i, d.Allowed, d.Remaining, res.Allowed, res.Remaining)
					}
					const slack = 100 * time.Millisecond
					if !d.Allowed && absDur(d.RetryAfter-res.RetryAfter) > slack {
						t.Fatalf("step %d: RetryAfter ours %s, redis_rate %s", i, d.RetryAfter, res.RetryAfter)
					}
					if absDur(d.ResetAfter-res.ResetAfter) > slack {
						t.Fatalf("step %d: ResetAfter ours %s, redis_rate %s", i, d.ResetAfter, res.ResetAfter)
					}
				}
			})
		}
	}
}

// TestSharedStateWithRedisRate checks that the script reads and writes the
// GCRA state exactly as redis_rate does: both take turns on one key.
func TestSharedStateWithRedisRate(t *testing.T) {
	rdb := testRedis(t)
	lim := redis_rate.PerMinute(4)
	cfg := Config{Reporter: lim, Prefix: "rate:" + testPrefix(t, rdb)}
	ours, err := NewRedis(rdb, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	theirs := redis_rate.NewLimiter(rdb)
	// redis_rate prefixes "rate:"; ours is cfg.Prefix+"{0}:r:"+reporter.
	key := strings.TrimPrefix(cfg.Prefix+"{0}:r:rep", "rate:")
	ctx := context.Background()
	admit := func() models.Admittance {
		d, err := ours.Admit(ctx, models.Admission{ServiceID: 1, Reporter: "rep", Network: "net"})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	allow := func() *redis_rate.Result {
		r, err := theirs.Allow(ctx, key, lim)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := allow(); r.Remaining != 3 {
		t.Fatalf("redis_rate 1st: %+v", r)
	}
	if d := admit(); !d.Allowed || d.Remaining != 2 {
		t.Fatalf("ours 2nd: %+v", d)
	}
	if r := allow(); r.Remaining != 1 {
		t.Fatalf("redis_rate 3rd: %+v", r)
	}
	if d := admit(); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("ours 4th: %+v", d)
	}
	r := allow()
	d := admit()
	if r.Allowed != 0 || d.Allowed || absDur(r.RetryAfter-d.RetryAfter) > 100*time.Millisecond {
		t.Fatalf("5th: redis_rate %+v, ours %+v", r, d)
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
