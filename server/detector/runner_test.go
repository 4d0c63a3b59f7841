package detector

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
)

// The live Runner with fake collaborators, an injected clock and direct
// Tick calls: no database, no Redis, no sleeping.

type fakeCatalog struct{ svcs []models.Service }

func (c *fakeCatalog) Services() []models.Service { return c.svcs }

// fakeCounters holds per-minute counts by unix minute and service.
type fakeCounters struct {
	m map[int64]map[uint]models.Counts
}

func (f *fakeCounters) Minutes(_ context.Context, from, to time.Time) ([]models.MinuteCounts, error) {
	var out []models.MinuteCounts
	for m, svcs := range f.m {
		if m >= from.Truncate(time.Minute).Unix() && m < to.Unix() {
			out = append(out, models.MinuteCounts{Minute: m, Services: svcs})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Minute < out[j].Minute })
	return out, nil
}

// regionsOf splits n reporters as a service's users are spread: half in
// the US, a third in Germany, the rest in Japan.
func regionsOf(n int) map[string]int {
	us, de := n/2, n/3
	return map[string]int{"US": us, "DE": de, "JP": n - us - de}
}

func (f *fakeCounters) set(svc uint, minute time.Time, n int) {
	if f.m == nil {
		f.m = map[int64]map[uint]models.Counts{}
	}
	f.m[minute.Unix()] = map[uint]models.Counts{svc: {Total: n, Problems: map[string]int{"login": n}, Regions: regionsOf(n)}}
}

// fakeHistory holds 15-minute rollups: the service's total (Region "")
// and, by region, its parts.
type fakeHistory struct{ rows []models.BucketTotal }

func (f *fakeHistory) History(_ context.Context, since time.Time, byRegion bool) ([]models.BucketTotal, error) {
	var out []models.BucketTotal
	for _, r := range f.rows {
		if r.Bucket >= models.BucketOf(since).Unix() {
			out = append(out, r)
			if byRegion {
				for code, n := range regionsOf(r.Count) {
					out = append(out, models.BucketTotal{ServiceID: r.ServiceID, Bucket: r.Bucket, Region: code, Count: n})
				}
			}
		}
	}
	return out, nil
}

func (f *fakeHistory) HistoryOf(_ context.Context, since time.Time, _ []uint, fn func(uint, []models.BucketTotal) error) error {
	var rows []models.BucketTotal
	for _, r := range f.rows {
		if r.Bucket >= models.BucketOf(since).Unix() {
			for code, n := range regionsOf(r.Count) {
				rows = append(rows, models.BucketTotal{ServiceID: r.ServiceID, Bucket: r.Bucket, Region: code, Count: n})
			}
		}
	}
	if len(rows) == 0 {
		return nil
	}
	return fn(rows[0].ServiceID, rows)
}

// fakeIncidents records every change, numbers new incidents, keeps the
// detector states, and fails the next fail calls to ApplyIncident.
type fakeIncidents struct {
	changes []models.IncidentChange
	byID    map[uint64]models.Incident
	states  map[stateKey]models.DetectorState
	nextID  uint64
	fail    int
}

func (f *fakeIncidents) ApplyIncident(_ context.Context, ch models.IncidentChange) error {
	if f.fail > 0 {
		f.fail--
		return errors.New("database is locked")
	}
	if f.byID == nil {
		f.byID, f.states = map[uint64]models.Incident{}, map[stateKey]models.DetectorState{}
	}
	if ch.Incident.ID == 0 {
		f.nextID++
		ch.Incident.ID = f.nextID
	}
	if ch.EventType != "" { // as store.ApplyIncident: what subscribers were told
		ch.Incident.NotifiedLevel, ch.Incident.NotifiedPeak, ch.Incident.NotifiedAt = ch.Incident.Level, ch.Incident.Peak, ch.At
	}
	f.byID[ch.Incident.ID] = *ch.Incident
	f.states[stateKey{ch.State.ServiceID, ch.State.Scope}] = ch.State
	f.changes = append(f.changes, ch)
	return nil
}

func (f *fakeIncidents) OpenIncidents(context.Context) ([]models.Incident, error) {
	var out []models.Incident
	for _, in := range f.byID {
		if in.Open() {
			out = append(out, in)
		}
	}
	return out, nil
}

func (f *fakeIncidents) DetectorStates(context.Context) ([]models.DetectorState, error) {
	var out []models.DetectorState
	for _, st := range f.states {
		out = append(out, st)
	}
	return out, nil
}

// events are the announced event types, in order.
func (f *fakeIncidents) events() []string {
	var out []string
	for _, ch := range f.changes {
		if ch.EventType != "" {
			out = append(out, ch.EventType)
		}
	}
	return out
}

// runnerWorld is a service with two weeks of history at 10 reports a
// minute at its daily peak, and a clock at 12:00 on the fifteenth day.
type runnerWorld struct {
	svc      models.Service
	counters *fakeCounters
	history  *fakeHistory
	store    *fakeIncidents
	now      time.Time
	r        *rand.Rand
}

func newRunnerWorld(seed uint64) *runnerWorld {
	w := &runnerWorld{
		svc:      models.Service{ID: 7, Slug: "chatgpt", Name: "ChatGPT", CreatedAt: t0},
		counters: &fakeCounters{}, history: &fakeHistory{}, store: &fakeIncidents{},
		now: t0.Add(14*24*time.Hour + 12*time.Hour), r: rand.New(rand.NewPCG(seed, 9)),
	}
	for b := t0; b.Before(w.now); b = b.Add(models.BucketSize) {
		n := poisson(w.r, 15*usual(10)(b.Add(models.BucketSize/2)))
		w.history.rows = append(w.history.rows, models.BucketTotal{ServiceID: w.svc.ID, Bucket: b.Unix(), Count: int(n)})
	}
	return w
}

func (w *runnerWorld) runner() *Runner {
	return NewRunner(RunnerDeps{
		Catalog: &fakeCatalog{svcs: []models.Service{w.svc}}, Counters: w.counters, History: w.history,
		Incidents: w.store, Snapshot: NewSnapshot(), Now: func() time.Time { return w.now },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
}

// run lets d pass at factor times the usual rate: each minute's reports
// are counted at its start, and r ticks four times a minute.
func (w *runnerWorld) run(t *testing.T, r *Runner, d time.Duration, factor float64) {
	t.Helper()
	for end := w.now.Add(d); w.now.Before(end); {
		minute := w.now.Truncate(time.Minute)
		if w.now.Equal(minute) {
			w.counters.set(w.svc.ID, minute, int(poisson(w.r, factor*usual(10)(minute.Add(30*time.Second)))))
		}
		if err := r.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		w.now = w.now.Add(15 * time.Second)
	}
}

func (w *runnerWorld) status(r *Runner) models.ServiceStatus {
	st, _ := r.Snapshot.Status(w.svc.Slug)
	return st
}

// TestRunnerOpensUpdatesResolves: a 10x outage for 20 minutes opens one
// incident within two minutes (announced, with its rule and top shares),
// the status shows it, the peak grows quietly, and it resolves once.
func TestRunnerOpensUpdatesResolves(t *testing.T) {
	for _, seed := range seeds {
		w := newRunnerWorld(seed)
		r := w.runner()
		w.run(t, r, 30*time.Minute, 1)
		if ev := w.store.events(); len(ev) != 0 {
			t.Fatalf("seed %d: %v before the outage", seed, ev)
		}
		start := w.now
		w.run(t, r, 2*time.Minute, 10)
		ev := w.store.events()
		if len(ev) != 1 || ev[0] != models.EventIncidentOpened {
			t.Fatalf("seed %d: events %v two minutes into a 10x outage, want incident.opened", seed, ev)
		}
		inc := w.store.changes[0].Incident
		if inc.ID != 1 || inc.StartedAt.Before(start.Add(-time.Minute)) || inc.Rule == "" || len(inc.TopProblems) == 0 {
			t.Fatalf("seed %d: opened %+v", seed, inc)
		}
		if st := w.status(r); st.Incident == nil || st.Incident.ID != 1 || st.Level == models.LevelOK {
			t.Fatalf("seed %d: status %+v, want the open incident", seed, st)
		}
		w.run(t, r, 18*time.Minute, 10)
		w.run(t, r, 2*time.Hour, 1)
		ev = w.store.events()
		if ev[0] != models.EventIncidentOpened || ev[len(ev)-1] != models.EventIncidentResolved || count(ev, models.EventIncidentOpened) != 1 || count(ev, models.EventIncidentResolved) != 1 {
			t.Fatalf("seed %d: events %v, want opened, (updates), resolved once", seed, ev)
		}
		last := w.store.byID[1]
		if last.ResolvedAt == nil || last.ResolvedAt.Before(start.Add(20*time.Minute)) || last.Peak < 5*last.Expected {
			t.Fatalf("seed %d: resolved incident %+v", seed, last)
		}
		if st := w.status(r); st.Incident != nil || st.Level != models.LevelOK {
			t.Fatalf("seed %d: status after resolution %+v", seed, st)
		}
	}
}

// TestRunnerRestartDoesNotReAlert: a runner restarted from the persisted
// incident and detector state during an outage neither opens it again nor
// forgets it, and resolves it once when the outage ends.
func TestRunnerRestartDoesNotReAlert(t *testing.T) {
	for _, seed := range seeds {
		w := newRunnerWorld(seed)
		r := w.runner()
		w.run(t, r, 30*time.Minute, 1)
		w.run(t, r, 5*time.Minute, 10)
		if ev := w.store.events(); len(ev) != 1 {
			t.Fatalf("seed %d: events %v before the restart", seed, ev)
		}
		r = w.runner() // a restart: state from the store, models from history
		w.run(t, r, 15*time.Minute, 10)
		if st := w.status(r); st.Incident == nil || st.Incident.ID != 1 {
			t.Fatalf("seed %d: status after restart %+v, want incident 1", seed, st)
		}
		w.run(t, r, 2*time.Hour, 1)
		ev := w.store.events()
		if count(ev, models.EventIncidentOpened) != 1 || count(ev, models.EventIncidentResolved) != 1 || len(w.store.byID) != 1 {
			t.Fatalf("seed %d: events %v over %d incidents, want one opened and resolved", seed, ev, len(w.store.byID))
		}
	}
}

// TestRunnerRetriesFailedSave: when the database refuses the change that
// opens an incident, the runner keeps it and saves it at the next tick;
// it is announced once.
func TestRunnerRetriesFailedSave(t *testing.T) {
	w := newRunnerWorld(1)
	r := w.runner()
	w.run(t, r, 30*time.Minute, 1)
	w.store.fail = 2
	w.run(t, r, 5*time.Minute, 10)
	if w.store.fail != 0 {
		t.Fatal("the outage never tried to save an incident")
	}
	ev := w.store.events()
	if len(ev) == 0 || ev[0] != models.EventIncidentOpened || count(ev, models.EventIncidentOpened) != 1 {
		t.Fatalf("events %v, want incident.opened once after the failures", ev)
	}
	if st := w.status(r); st.Incident == nil || st.Incident.ID != 1 {
		t.Fatalf("status %+v, want the saved incident", st)
	}
}

func count(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}
