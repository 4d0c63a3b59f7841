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

// TestBandsMoveOnAndRefreshSpread: at a bucket boundary the chart's band
// moves on by one bucket and computes only the new one; later in the bucket,
// at the service's own moment, the whole day is computed again; the band is
// complete at every tick once the model is ready.
func TestBandsMoveOnAndRefreshSpread(t *testing.T) {
	w := newRunnerWorld(5)
	r := w.runner()
	n := int(chartSpan / models.BucketSize)
	var prev []*models.Band
	moved, whole := 0, 0
	for range 4 * 60 * 2 { // two hours of 15-second ticks
		if err := r.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		tr := r.tracked[w.svc.ID]
		now := w.now
		start := models.BucketOf(now).Add(-chartSpan + models.BucketSize)
		expect := func(i int) models.Band {
			return tr.global.Model.Expect(start.Add(time.Duration(i)*models.BucketSize), models.BucketSize)
		}
		for i, b := range tr.bands {
			if b == nil {
				t.Fatalf("at %v band %d of %d is missing", now, i, len(tr.bands))
			}
		}
		switch {
		case prev != nil && !tr.bandsFresh && prev[1] == tr.bands[0]:
			moved++
			if !reflect.DeepEqual(prev[1:], tr.bands[:n-1]) || *tr.bands[n-1] != expect(n-1) {
				t.Fatalf("at %v the band did not move on by one bucket", now)
			}
		case tr.bandsFresh && (prev == nil || prev[0] != tr.bands[0]):
			whole++
			if now.Unix()-tr.bandsAt < bandsDue(w.svc.ID) && prev != nil {
				t.Fatalf("at %v the band was computed whole before its moment", now)
			}
			for i := range n {
				if *tr.bands[i] != expect(i) {
					t.Fatalf("at %v band %d is not the model's expectation", now, i)
				}
			}
		}
		prev = tr.bands
		w.now = w.now.Add(15 * time.Second)
	}
	if moved < 7 || whole < 8 {
		t.Fatalf("in two hours the band moved on %d times and was computed whole %d times", moved, whole)
	}
}

// BenchmarkFullBands is one service's whole chart band (96 expectations),
// as the tick that takes a service learned computes it.
func BenchmarkFullBands(b *testing.B) {
	end := time.Date(2026, 3, 4, 17, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	counts := map[int64]float64{}
	for t := end.Add(-seedSpan); t.Before(end); t = t.Add(models.BucketSize) {
		if c := poisson(rng, 15*usual(2)(t)); c > 0 {
			counts[t.Unix()] = c
		}
	}
	s := NewSeries(DefaultParams(), 1, models.ScopeGlobal)
	teach(s, counts, end.Add(-seedSpan).Unix(), end.Unix())
	tr := &tracked{svc: models.Service{ID: 1}, global: s}
	now := end.Add(3 * time.Minute)
	for b.Loop() {
		tr.bands = nil
		refreshBands(tr, end.Add(-chartSpan+models.BucketSize), now)
	}
}

// TestChartSeriesKeptWhileItsInputsAreUnchanged: a service's chart series
// is built again only when something it is built from may have changed (its
// last bucket, the rollups loaded, its bands, a live count), and at every
// tick it is what building it afresh gives, with the version of that
// series: through quiet hours (bucket boundaries, reloads of the rollups,
// bands moved on and computed whole), half an hour of reports, and quiet
// again once they leave the minutes kept.
func TestChartSeriesKeptWhileItsInputsAreUnchanged(t *testing.T) {
	w := newRunnerWorld(11)
	r := w.runner()
	kept, built := 0, 0
	var prev []models.Bucket
	for i := range 4 * 60 * 5 { // five hours of 15-second ticks
		now := w.now
		minute := now.Truncate(time.Minute)
		if i >= 4*60*2+20 && i < 4*60*2+20+4*30 && now.Equal(minute) { // reports from five minutes into the third hour, for half an hour
			w.counters.set(w.svc.ID, minute, 3)
		}
		if b := models.BucketOf(now); now.Equal(b) { // the rollup job: the bucket that ended
			w.history.rows = append(w.history.rows, models.BucketTotal{ServiceID: w.svc.ID, Bucket: b.Add(-models.BucketSize).Unix(), Count: 1 + i%5})
		}
		if err := r.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		st := w.status(r)
		tr := r.tracked[w.svc.ID]
		fresh := *tr
		fresh.shown, fresh.shownFrom = nil, chartKey{}
		end := models.BucketOf(now)
		want := r.chartSeries(&fresh, r.chart[w.svc.ID], end.Add(-chartSpan+models.BucketSize), end, now)
		if !reflect.DeepEqual(st.Series, want) {
			t.Fatalf("at %v (tick %d) the chart shows %v, built afresh it is %v", now, i, st.Series, want)
		}
		if v, head := version(&st, seriesHash(want)); v != st.Version || head != st.HeadVersion {
			t.Fatalf("at %v the versions are %x, %x; of the series built afresh %x, %x", now, st.Version, st.HeadVersion, v, head)
		}
		if prev != nil && &st.Series[0] == &prev[0] {
			kept++
		} else {
			built++
		}
		prev = st.Series
		w.now = w.now.Add(15 * time.Second)
	}
	t.Logf("series kept %d times, built again %d times", kept, built)
	if kept < 4*60*4 || built < 4*5 {
		t.Fatalf("series kept %d times and built again %d times in 1,200 ticks", kept, built)
	}
}

// TestVersionMovesWithTheChart: a new service with no band yet and no
// reports shows a chart of zeros, which moves on at each bucket boundary:
// its version changes then (pages and ETags show the new day, the leader
// publishes it), and what it has besides the chart does not.
func TestVersionMovesWithTheChart(t *testing.T) {
	now := time.Date(2026, 3, 4, 9, 14, 0, 0, time.UTC)
	svc := models.Service{ID: 1, Slug: "new", Name: "New", CreatedAt: now.Add(-time.Hour)}
	r := NewRunner(RunnerDeps{Catalog: &fakeCatalog{svcs: []models.Service{svc}}, Counters: &fakeCounters{}, History: &fakeHistory{},
		Incidents: &fakeIncidents{}, Snapshot: NewSnapshot(), Now: func() time.Time { return now }, Log: slog.New(slog.DiscardHandler)})
	var sts []models.ServiceStatus
	for range 3 { // 9:14:00, 9:14:30, 9:15:00
		if err := r.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		st, _ := r.Snapshot.Status("new")
		sts = append(sts, st)
		now = now.Add(30 * time.Second)
	}
	if sts[0].Version != sts[1].Version {
		t.Errorf("the version changed within a bucket, with nothing new")
	}
	if last := sts[2].Series[len(sts[2].Series)-1]; last.Start.Equal(sts[1].Series[len(sts[1].Series)-1].Start) || last.Baseline != nil {
		t.Fatalf("the chart did not move on to the next bucket, or has a band: %v", last)
	}
	if sts[2].Version == sts[1].Version {
		t.Errorf("the chart moved on to the next bucket and the version stayed %x", sts[2].Version)
	}
	if sts[2].HeadVersion != sts[1].HeadVersion {
		t.Errorf("only the chart changed, and the head version changed too")
	}
}

// BenchmarkSteadyTicks is one tick of 2,000 learned services nobody reports
// for (most of a large catalogue at any moment), ticks 15 s apart: one in
// 60 crosses a bucket boundary, as live.
func BenchmarkSteadyTicks(b *testing.B) {
	now := time.Date(2026, 3, 4, 17, 7, 0, 0, time.UTC)
	svcs, h := randomCatalogue(2000, now, 3)
	r := learnRunner(svcs, h, nil, &now, time.Hour)
	ctx := context.Background()
	if err := r.Tick(ctx); err != nil {
		b.Fatal(err)
	}
	if left, _ := r.Learning(); left != 0 {
		b.Fatalf("%d services still learning", left)
	}
	for b.Loop() {
		now = now.Add(15 * time.Second)
		if err := r.Tick(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
