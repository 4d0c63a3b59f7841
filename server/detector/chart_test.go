package detector

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
)

// TestChartReloadsOnlyWhatMayChange: after the first load the chart reads
// only the last buckets at each boundary, yet it is always what reading
// the whole day again would give, while the rollup job rewrites the last
// hour's buckets and new ones arrive.
func TestChartReloadsOnlyWhatMayChange(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	now := time.Date(2026, 3, 4, 9, 1, 0, 0, time.UTC)
	svcs := []models.Service{{ID: 1, Slug: "a", CreatedAt: now.Add(-40 * 24 * time.Hour)}, {ID: 2, Slug: "b", CreatedAt: now.Add(-40 * 24 * time.Hour)}}
	h := &fakeHistory{}
	counts := map[[2]int64]int{}   // service, bucket
	rollup := func(at time.Time) { // the job: every bucket of the last hour, recomputed
		for b := models.BucketOf(at.Add(-time.Hour)); !b.After(at); b = b.Add(models.BucketSize) {
			for _, s := range svcs {
				counts[[2]int64{int64(s.ID), b.Unix()}] = rng.IntN(5)
			}
		}
		h.rows = h.rows[:0]
		for k, n := range counts {
			h.rows = append(h.rows, models.BucketTotal{ServiceID: uint(k[0]), Bucket: k[1], Count: n})
		}
	}
	for at := now.Add(-26 * time.Hour); at.Before(now); at = at.Add(10 * time.Minute) {
		rollup(at)
	}
	r := NewRunner(RunnerDeps{Catalog: &fakeCatalog{svcs: svcs}, Counters: &fakeCounters{}, History: h, Incidents: &fakeIncidents{},
		Snapshot: NewSnapshot(), Now: func() time.Time { return now }, Log: slog.New(slog.DiscardHandler)})
	reloads := 0
	for range 6 * 60 { // six hours, a tick a minute
		rollup(now)
		before := r.chartAt
		if err := r.loadChart(context.Background(), now); err != nil {
			t.Fatal(err)
		}
		if r.chartAt != before {
			reloads++
			full := NewRunner(RunnerDeps{History: h})
			if err := full.loadChart(context.Background(), now); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.chart, full.chart) {
				t.Fatalf("at %v the chart differs from a whole reload", now)
			}
		}
		now = now.Add(time.Minute)
	}
	if reloads < 20 {
		t.Fatalf("only %d reloads in six hours", reloads)
	}
}
