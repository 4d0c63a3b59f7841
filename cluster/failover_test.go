package cluster

import (
	"os"
	"sort"
	"strconv"
	"testing"
	"time"
)

// TestFailoverFigures measures failover with the default lease (TTL 10 s,
// renewed every 2 s): kill -9 of the leader to the first detector tick of
// the next one, OUTCRY_FAILOVER_RUNS times (a figure for docs/benchmarks.md;
// skipped unless that variable is set). Each run must stay within 15 s.
func TestFailoverFigures(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("OUTCRY_FAILOVER_RUNS"))
	if runs <= 0 {
		t.Skip("set OUTCRY_FAILOVER_RUNS to measure failover")
	}
	c := newCluster(t, 10*time.Second, 2*time.Second)
	c.env["REPLICA_TICK"] = "15s" // the production interval
	for i := 0; i < 3; i++ {
		c.start()
	}
	var took []time.Duration
	for run := 0; run < runs; run++ {
		var dead []*replica
		for _, r := range c.reps {
			if !r.alive() {
				dead = append(dead, r)
			}
		}
		old, term := c.oneLeader(30*time.Second, dead...)
		killed := time.Now()
		old.kill(t)
		dead = append(dead, old)
		next, nterm := c.oneLeader(30*time.Second, dead...)
		var tick float64
		c.waitFor(30*time.Second, "the new leader's first tick", func() bool {
			tick, _ = next.metric("outcry_detector_last_tick_timestamp_seconds")
			return tick >= float64(killed.UnixNano())/1e9
		})
		d := time.Duration((tick - float64(killed.UnixNano())/1e9) * float64(time.Second))
		took = append(took, d)
		t.Logf("run %d: kill -9 of %s (term %d) → %s leads (term %d), first tick after %.2f s", run+1, old.name, term, next.name, nterm, d.Seconds())
		if d > 15*time.Second || nterm != term+1 {
			t.Errorf("run %d: failover took %s with term %d → %d; want ≤ 15 s and term+1", run+1, d, term, nterm)
		}
		c.start() // back to three
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	t.Logf("failover over %d runs: min %.2f s, median %.2f s, max %.2f s", runs, took[0].Seconds(), took[len(took)/2].Seconds(), took[len(took)-1].Seconds())
}
