package detector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
)

// Learning at start in the background (learn.go): what is served and
// decided meanwhile, restarts while learning, and that the models learned
// on several workers, or resumed, are exactly those learned one by one.

// catalogueHistory serves several services' per-region rollups from memory,
// a service at a time as the store does. When gate is not nil, HistoryOf
// waits until it is closed (or ctx ends): the learner is held mid-start.
type catalogueHistory struct {
	rows []models.BucketTotal // by service, then bucket
	gate chan struct{}
}

func (h *catalogueHistory) History(context.Context, time.Time, bool) ([]models.BucketTotal, error) {
	return nil, nil
}

func (h *catalogueHistory) HistoryOf(ctx context.Context, since time.Time, ids []uint, fn func(uint, []models.BucketTotal) error) error {
	if h.gate != nil {
		select {
		case <-h.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var group []models.BucketTotal
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		id := group[0].ServiceID
		g := group
		group = nil
		if ids != nil && !slices.Contains(ids, id) {
			return nil
		}
		return fn(id, g)
	}
	for _, r := range h.rows {
		if r.Bucket < since.Unix() {
			continue
		}
		if len(group) > 0 && group[0].ServiceID != r.ServiceID {
			if err := flush(); err != nil {
				return err
			}
		}
		group = append(group, r)
	}
	return flush()
}

// of is one service's rows since since.
func (h *catalogueHistory) of(id uint, since time.Time) []models.BucketTotal {
	var out []models.BucketTotal
	for _, r := range h.rows {
		if r.ServiceID == id && r.Bucket >= since.Unix() {
			out = append(out, r)
		}
	}
	return out
}

type catalogue []models.Service

func (c catalogue) Services() []models.Service { return c }

// randomCatalogue is n services with random histories over 25 days before
// now: busy ones with regions, quiet ones with a report now and then, new
// ones created a few days ago, and some with no history at all.
func randomCatalogue(n int, now time.Time, seed uint64) (catalogue, *catalogueHistory) {
	rng := rand.New(rand.NewPCG(seed, 77))
	var svcs catalogue
	h := &catalogueHistory{}
	regions := []string{"US", "DE", "KR", "BR"}
	for i := range n {
		id := uint(i + 1)
		created := now.Add(-time.Duration(25*24*rng.Float64()) * time.Hour)
		svcs = append(svcs, models.Service{ID: id, Slug: "svc" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Name: "S", Problems: []string{"login"}, CreatedAt: created})
		kind := i % 4 // 0 busy, 1 quiet, 2 rare, 3 none
		if kind == 3 {
			continue
		}
		for b := models.BucketOf(created); b.Before(models.BucketOf(now)); b = b.Add(models.BucketSize) {
			for j, code := range regions {
				var mean float64
				switch kind {
				case 0:
					mean = (8 + 6*float64(b.Hour()%12)) / float64(j+1)
				case 1:
					mean = 0.3 / float64(j+1)
				default:
					mean = 0.02
				}
				if c := int(poisson(rng, mean)); c > 0 {
					h.rows = append(h.rows, models.BucketTotal{ServiceID: id, Bucket: b.Unix(), Region: code, Count: c})
				}
			}
		}
	}
	return svcs, h
}

func learnRunner(svcs catalogue, h HistoryReader, ms ModelStore, now *time.Time, wait time.Duration) *Runner {
	return NewRunner(RunnerDeps{Catalog: svcs, Counters: noCounts{}, History: h, Incidents: noIncidents{},
		Snapshot: NewSnapshot(), Models: ms, Now: func() time.Time { return *now }, Log: slog.New(slog.DiscardHandler),
		LearnWait: wait})
}

// states is every model's saved bytes by service and scope.
func states(r *Runner) map[stateKey][]byte {
	out := map[stateKey][]byte{}
	for id, tr := range r.tracked {
		out[stateKey{id, models.ScopeGlobal}] = tr.global.Model.MarshalState()
		for code, s := range tr.regions {
			out[stateKey{id, code}] = s.Model.MarshalState()
		}
	}
	return out
}

// TestBackgroundLearningMatchesOneByOne: the models learned at start on
// several workers, in whatever order the workers finish, are byte for
// byte those learned one service at a time (seeded), regions included.
func TestBackgroundLearningMatchesOneByOne(t *testing.T) {
	now := time.Date(2026, 3, 4, 17, 7, 0, 0, time.UTC)
	svcs, h := randomCatalogue(40, now, 1)
	r := learnRunner(svcs, h, nil, &now, time.Minute)
	if err := r.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if left, total := r.Learning(); left != 0 || total != len(svcs) {
		t.Fatalf("Learning() = %d, %d after learning", left, total)
	}
	end := models.BucketOf(now)
	got := states(r)
	want := map[stateKey][]byte{}
	regional := 0
	for _, svc := range svcs {
		var hist *history
		if rows := h.of(svc.ID, end.Add(-seedSpan)); len(rows) > 0 {
			hist = groupHistory(rows)
		}
		tr := r.seeded(svc, hist, end)
		// the runner has since evaluated the minutes after end: so does this one
		tr.svc = svc
		r.evaluate(context.Background(), tr, now)
		want[stateKey{svc.ID, models.ScopeGlobal}] = tr.global.Model.MarshalState()
		for code, s := range tr.regions {
			want[stateKey{svc.ID, code}] = s.Model.MarshalState()
			regional++
		}
	}
	if regional == 0 {
		t.Fatal("no regional series: the catalogue does not test regions")
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the models learned in the background differ from those learned one by one (%d vs %d series)", len(got), len(want))
	}
}

// TestReportsWhileLearningAreCountedAndLaterDetected: while a service's
// model is still learning it is shown (its reports counted), nothing is
// decided for it (no incident from a half-taught model), and once it has
// learned, the outage that began meanwhile opens an incident.
func TestReportsWhileLearningAreCountedAndLaterDetected(t *testing.T) {
	w := newRunnerWorld(3)
	gated := &catalogueHistory{rows: w.history.rows, gate: make(chan struct{})}
	for i := range gated.rows { // catalogueHistory wants per-region rows
		gated.rows[i].Region = "US"
	}
	r := NewRunner(RunnerDeps{
		Catalog: &fakeCatalog{svcs: []models.Service{w.svc}}, Counters: w.counters, History: gated,
		Incidents: w.store, Snapshot: NewSnapshot(), Now: func() time.Time { return w.now },
		Log: slog.New(slog.DiscardHandler), LearnWait: -1,
	})
	w.run(t, r, 4*time.Minute, 10) // a 10x outage begins while the model learns
	if left, total := r.Learning(); left != 1 || total != 1 {
		t.Fatalf("Learning() = %d, %d while the history is held", left, total)
	}
	st := w.status(r)
	if st.Service.Slug != w.svc.Slug || st.Level != models.LevelOK || st.Reports15m < 100 {
		t.Fatalf("while learning the status is %+v, want the service shown OK with its reports counted", st)
	}
	if len(st.Series) == 0 || st.Series[len(st.Series)-1].Baseline != nil {
		t.Fatal("while learning the chart should show counts and no baseline band")
	}
	if len(w.store.changes) != 0 {
		t.Fatalf("decided while learning: %v", w.store.events())
	}
	close(gated.gate)
	r.waitLearning(context.Background(), time.Minute)
	// Learned, but not yet shown judged: until a tick publishes it, the
	// service still counts as learning (/readyz and the gauge say so).
	if left, _ := r.Learning(); left != 1 {
		t.Fatalf("Learning() = %d after the learner finished and before a tick published it, want 1", left)
	}
	if st := w.status(r); st.Series[len(st.Series)-1].Baseline != nil {
		t.Fatal("the snapshot shows a band before any tick took the learned model")
	}
	w.run(t, r, time.Minute, 10)
	if left, _ := r.Learning(); left != 0 {
		t.Fatalf("%d services still learning after the learner finished", left)
	}
	if ev := w.store.events(); count(ev, models.EventIncidentOpened) != 1 {
		t.Fatalf("events after learning: %v, want the outage opened", ev)
	}
	if st := w.status(r); st.Level != models.LevelOutage || st.Series[len(st.Series)-2].Baseline == nil {
		t.Fatalf("after learning the status is %s (band %v)", st.Level, st.Series[len(st.Series)-2].Baseline)
	}
}

// TestRestartWhileLearningLosesNothing: a runner stopped while its models
// are still learning saves none of its placeholders over the saved models,
// so the next start resumes them as they were saved.
func TestRestartWhileLearningLosesNothing(t *testing.T) {
	now := time.Date(2026, 3, 4, 17, 7, 0, 0, time.UTC)
	svcs, h := randomCatalogue(12, now, 2)
	store := &memModels{saved: map[stateKey]models.ModelState{}}
	first := learnRunner(svcs, h, store, &now, time.Minute)
	if err := first.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	first.SaveModelsAtExit(context.Background())
	saved := map[stateKey]models.ModelState{}
	for k, v := range store.saved {
		saved[k] = v
	}
	if len(saved) < len(svcs) {
		t.Fatalf("saved %d models for %d services", len(saved), len(svcs))
	}

	// Twenty minutes later a start is stopped before its history is read.
	now = now.Add(20 * time.Minute)
	held := &catalogueHistory{rows: h.rows, gate: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	second := learnRunner(svcs, held, store, &now, -1)
	if err := second.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if left, _ := second.Learning(); left != len(svcs) {
		t.Fatalf("%d services learning, want all %d (history held)", left, len(svcs))
	}
	cancel()
	second.SaveModelsAtExit(ctx)
	if !reflect.DeepEqual(store.saved, saved) {
		t.Fatal("a start stopped while learning changed the saved models")
	}

	// The next start resumes them exactly as a start that found the
	// models as the first runner saved them.
	third := learnRunner(svcs, h, store, &now, time.Minute)
	if err := third.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	pristine := learnRunner(svcs, h, &memModels{saved: saved}, &now, time.Minute)
	if err := pristine.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a, b := states(pristine), states(third); len(a) != len(saved) || !reflect.DeepEqual(a, b) {
		t.Fatalf("after a restart while learning, %d series resumed differ from the %d saved", len(b), len(a))
	}
	for id, tr := range third.tracked {
		if tr.learning || tr.observed <= saved[stateKey{id, models.ScopeGlobal}].LearnedUntil {
			t.Fatalf("service %d: learning %v, learned until %d", id, tr.learning, tr.observed)
		}
	}
}

// TestSavedModelFallsBackToHistory: a saved model that is corrupt, cut
// short, of another layout, too old or missing is not used; the service
// learns from history and gets exactly the model history gives.
func TestSavedModelFallsBackToHistory(t *testing.T) {
	now := time.Date(2026, 3, 4, 17, 7, 0, 0, time.UTC)
	svcs, h := randomCatalogue(8, now, 3)
	plain := learnRunner(svcs, h, nil, &now, time.Minute)
	if err := plain.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	good := NewModel(DefaultParams()).MarshalState()
	bad := func(b []byte) []byte { b = slices.Clone(b); b[0] ^= 1; return b }
	store := &memModels{saved: map[stateKey]models.ModelState{}}
	learned := now.Unix()
	for i, svc := range svcs {
		ms := models.ModelState{ServiceID: svc.ID, Scope: models.ScopeGlobal, LearnedUntil: learned}
		switch i % 4 {
		case 0:
			ms.State = bad(good) // another layout's fingerprint
		case 1:
			ms.State = good[:len(good)-3] // cut short
		case 2:
			ms.State, ms.LearnedUntil = good, now.Add(-seedSpan-time.Hour).Unix() // older than the history a start learns
		default:
			continue // none saved
		}
		store.saved[stateKey{svc.ID, ms.Scope}] = ms
	}
	r := learnRunner(svcs, h, store, &now, time.Minute)
	if err := r.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a, b := states(plain), states(r); !reflect.DeepEqual(a, b) {
		t.Fatalf("models with unusable saved states differ from those learned from history (%d vs %d series)", len(b), len(a))
	}
}

// TestLearnMatchesAdvance: a model taught a run of buckets with its
// thresholds left due (Series.Learn, teach) is, once settled, exactly the
// model whose thresholds are computed in every bucket's test (as they were
// before they could be left due), after every bucket: on random
// series with daily cycles, outages, launches, zeros where many were
// expected (gaps), incidents held and released, and changes of bucket
// width. Decisions match too.
func TestLearnMatchesAdvance(t *testing.T) {
	t0 := time.Date(2026, 1, 7, 5, 0, 0, 0, time.UTC)
	for seed := range uint64(5) {
		rng := rand.New(rand.NewPCG(seed, 42))
		p := DefaultParams()
		eager, lazy := NewModel(p), NewModel(p)
		peak := []float64{0.02, 0.3, 3, 20, 80}[seed]
		at, hold, level := t0, false, 1.0
		width := models.BucketSize
		for k := range 3000 {
			switch {
			case k == 2200:
				width = time.Minute // as the live runner goes on after history
			case k == 2600:
				width = 5 * time.Minute
			}
			if rng.Float64() < 0.002 {
				level *= 1.5 + rng.Float64() // a launch
			}
			rate := level * usual(peak)(at.Add(width/2)) * width.Minutes()
			switch r := rng.Float64(); {
			case r < 0.01:
				rate *= 10 // an outage's bucket
			case r < 0.012 && rate > 15:
				rate = 0 // lost data
			}
			count := poisson(rng, rate)
			if rng.Float64() < 0.003 {
				hold = !hold
				eager.Hold(hold)
				lazy.Hold(hold)
			}
			settleEachTest = true // the reference: thresholds in every test
			eager.Observe(at, width, count)
			settleEachTest = false
			lazy.observe(at, width, count)
			at = at.Add(width)
			settled := *lazy
			settled.settleBars()
			if !reflect.DeepEqual(&settled, eager) {
				t.Fatalf("seed %d: after bucket %d the model learned with thresholds left due differs", seed, k)
			}
			if k%97 == 0 {
				pending := poisson(rng, rate/3)
				if a, b := eager.Decide(at.Add(width/3), pending), settled.Decide(at.Add(width/3), pending); !reflect.DeepEqual(a, b) {
					t.Fatalf("seed %d: decisions differ after bucket %d: %+v vs %+v", seed, k, a, b)
				}
			}
		}
		if lazy.barsDue == 0 {
			t.Fatalf("seed %d: nothing was left due: the test does not test deferral", seed)
		}
	}
}

// BenchmarkTeach is one series learning seedSpan of 15-minute history at
// start (teach), per bucket: a quiet series (a report now and then) and a
// busy one.
func BenchmarkTeach(b *testing.B) {
	end := time.Date(2026, 3, 4, 17, 0, 0, 0, time.UTC)
	start := end.Add(-seedSpan)
	for _, peak := range []float64{0.01, 20} {
		rng := rand.New(rand.NewPCG(1, 2))
		counts := map[int64]float64{}
		for t := start; t.Before(end); t = t.Add(models.BucketSize) {
			if c := poisson(rng, 15*usual(peak)(t)); c > 0 {
				counts[t.Unix()] = c
			}
		}
		buckets := float64(seedSpan / models.BucketSize)
		b.Run(fmt.Sprintf("peak=%g", peak), func(b *testing.B) {
			for b.Loop() {
				teach(NewSeries(DefaultParams(), 1, models.ScopeGlobal), counts, start.Unix(), end.Unix())
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/buckets, "ns/bucket")
		})
	}
}

// failingHistory fails its first fail calls to HistoryOf, as a database
// that is briefly unavailable.
type failingHistory struct {
	HistoryReader
	fail int
}

func (h *failingHistory) HistoryOf(ctx context.Context, since time.Time, ids []uint, fn func(uint, []models.BucketTotal) error) error {
	if h.fail > 0 {
		h.fail--
		return errors.New("database is locked")
	}
	return h.HistoryReader.HistoryOf(ctx, since, ids, fn)
}

// TestLearningFailureIsRetried: when reading history fails at start the
// services stay shown and unjudged, the next tick learns them again, and
// they then have exactly the models of a start that did not fail.
func TestLearningFailureIsRetried(t *testing.T) {
	now := time.Date(2026, 3, 4, 17, 0, 0, 0, time.UTC)
	svcs, h := randomCatalogue(6, now, 4)
	plain := learnRunner(svcs, h, nil, &now, time.Minute)
	if err := plain.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	held := &catalogueHistory{rows: h.rows, gate: make(chan struct{})} // the retry waits for the gate
	r := learnRunner(svcs, &failingHistory{HistoryReader: held, fail: 1}, nil, &now, time.Minute)
	if err := r.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if left, _ := r.Learning(); left != len(svcs) {
		t.Fatalf("%d services learning after the history failed, want %d", left, len(svcs))
	}
	if st, ok := r.Snapshot.Status(svcs[0].Slug); !ok || st.Level != models.LevelOK {
		t.Fatal("a service still learning is not shown")
	}
	close(held.gate)
	r.waitLearning(context.Background(), time.Minute)
	if err := r.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if left, _ := r.Learning(); left != 0 {
		t.Fatalf("%d services still learning after the retry", left)
	}
	if !reflect.DeepEqual(states(plain), states(r)) {
		t.Fatal("the models learned on the retry differ from a start that did not fail")
	}
}

// TestLearnedServicesComeWithTheirBands: a service learned in the background
// comes to the tick with its chart band for the bucket learning ended in,
// what its model expected there as learned up to that bucket, so the tick
// that takes every service at once (a warm start) computes none; it shows
// that band. A model not ready then is left to the tick.
func TestLearnedServicesComeWithTheirBands(t *testing.T) {
	now := time.Date(2026, 3, 4, 17, 7, 0, 0, time.UTC)
	svcs, h := randomCatalogue(40, now, 3)
	r := learnRunner(svcs, h, nil, &now, time.Minute)
	if err := r.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if left, _ := r.Learning(); left != 0 {
		t.Fatalf("%d services still learning", left)
	}
	end := models.BucketOf(now)
	start := end.Add(-chartSpan + models.BucketSize)
	ready := 0
	for _, svc := range svcs {
		var hist *history
		if rows := h.of(svc.ID, end.Add(-seedSpan)); len(rows) > 0 {
			hist = groupHistory(rows)
		}
		ref := r.seeded(svc, hist, end) // as learned up to end, no minute since
		tr := r.tracked[svc.ID]
		if !ref.global.Model.Ready(end) {
			continue
		}
		ready++
		if tr.bandsAt != end.Unix() || !tr.bandsFresh || len(tr.bands) != int(chartSpan/models.BucketSize) {
			t.Fatalf("service %d: bands of bucket %d (fresh %v, %d), want the whole band of %d", svc.ID, tr.bandsAt, tr.bandsFresh, len(tr.bands), end.Unix())
		}
		st, _ := r.Snapshot.Status(svc.Slug)
		for i, b := range tr.bands {
			want := ref.global.Model.Expect(start.Add(time.Duration(i)*models.BucketSize), models.BucketSize)
			if b == nil || *b != want {
				t.Fatalf("service %d: band %d is %v, want %v (the model as learned up to %v)", svc.ID, i, b, want, end)
			}
			if st.Series[i].Baseline != b {
				t.Fatalf("service %d: the chart shows band %v at %d, not the learned one", svc.ID, st.Series[i].Baseline, i)
			}
		}
	}
	if ready == 0 || ready == len(svcs) {
		t.Fatalf("%d of %d models ready: the catalogue does not test both", ready, len(svcs))
	}
}

// TestLearnedServicesBringTheirChartMemory: the tick that takes services
// learned in the background shows each one's first chart series in the
// memory its learner's worker made for it (at a warm start of 50,000
// services, making 50,000 fresh series in that tick was most of its CPU),
// and the series is the one built afresh.
func TestLearnedServicesBringTheirChartMemory(t *testing.T) {
	now := time.Date(2026, 3, 4, 17, 7, 0, 0, time.UTC)
	svcs, h := randomCatalogue(30, now, 5)
	gated := &gatedHistory{catalogueHistory: h, gate: make(chan struct{})}
	r := learnRunner(svcs, gated, nil, &now, -1) // the first tick does not wait
	if err := r.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(gated.gate) // learning starts once the placeholders are shown
	<-r.Learned()
	spares := map[uint]*models.Bucket{}
	r.learn.mu.Lock()
	for _, tr := range r.learn.done {
		if len(tr.spare) == 0 {
			t.Fatalf("service %d learned without memory for its chart", tr.svc.ID)
		}
		spares[tr.svc.ID] = &tr.spare[0]
	}
	r.learn.mu.Unlock()
	if len(spares) != len(svcs) {
		t.Fatalf("%d of %d services learned", len(spares), len(svcs))
	}
	if err := r.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	end := models.BucketOf(now)
	for _, svc := range svcs {
		st, _ := r.Snapshot.Status(svc.Slug)
		if &st.Series[0] != spares[svc.ID] {
			t.Fatalf("service %d: its first chart series is not in the memory learned with it", svc.ID)
		}
		tr := r.tracked[svc.ID]
		fresh := *tr
		fresh.shown, fresh.shownFrom = nil, chartKey{}
		if want := r.chartSeries(&fresh, r.chart[svc.ID], end.Add(-chartSpan+models.BucketSize), end, now); !reflect.DeepEqual(st.Series, want) {
			t.Fatalf("service %d: the chart shows %v, built afresh %v", svc.ID, st.Series, want)
		}
		if tr.spare != nil {
			t.Fatalf("service %d still holds its spare chart memory", svc.ID)
		}
	}
}

// gatedHistory is a catalogue's history whose HistoryOf waits for gate.
type gatedHistory struct {
	*catalogueHistory
	gate chan struct{}
}

func (g *gatedHistory) HistoryOf(ctx context.Context, since time.Time, ids []uint, fn func(uint, []models.BucketTotal) error) error {
	<-g.gate
	return g.catalogueHistory.HistoryOf(ctx, since, ids, fn)
}
