package detector

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
)

// taught is a model taught weeks of a daily cycle with noise.
func taught(t *testing.T, weeks int) (*Model, time.Time) {
	t.Helper()
	m := NewModel(DefaultParams())
	rng := rand.New(rand.NewPCG(1, 2))
	at := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	for range weeks * 7 * 96 {
		mean := 3 + 2*float64(at.Hour()%12)
		m.Observe(at, models.BucketSize, float64(rng.IntN(int(mean)+1))+mean/2)
		at = at.Add(models.BucketSize)
	}
	return m, at
}

// TestModelStateRoundTrip: a saved model restores to the same model, which
// then learns and judges exactly as the original would have.
func TestModelStateRoundTrip(t *testing.T) {
	orig, at := taught(t, 3)
	b := orig.MarshalState()
	if len(b) == 0 {
		t.Fatal("this build cannot save models")
	}
	back := NewModel(DefaultParams())
	if !back.UnmarshalState(b) || !reflect.DeepEqual(orig, back) {
		t.Fatal("the restored model differs from the saved one")
	}
	for i := range 8 {
		orig.Observe(at, models.BucketSize, float64(10+i))
		back.Observe(at, models.BucketSize, float64(10+i))
		at = at.Add(models.BucketSize)
		if a, b := orig.Decide(at, 40), back.Decide(at, 40); !reflect.DeepEqual(a, b) {
			t.Fatalf("after %d buckets the decisions differ: %+v vs %+v", i+1, a, b)
		}
	}
}

// TestModelStateOfAnotherLayout: bytes saved by a build whose Model differs
// (here: another fingerprint) or cut short are refused and change nothing.
func TestModelStateOfAnotherLayout(t *testing.T) {
	orig, _ := taught(t, 1)
	b := orig.MarshalState()
	other := append([]byte(nil), b...)
	other[0] ^= 0xff
	m := NewModel(DefaultParams())
	fresh := NewModel(DefaultParams())
	if m.UnmarshalState(other) || m.UnmarshalState(b[:len(b)-1]) || m.UnmarshalState(nil) || !reflect.DeepEqual(m, fresh) {
		t.Error("bytes of another layout were accepted")
	}
}

// memHistory serves rollup totals from memory and records each query.
type memHistory struct {
	rows   []models.BucketTotal // per region, bucket order
	asked  []time.Time          // since, per HistoryOf call
	idsFor [][]uint
}

func (h *memHistory) History(context.Context, time.Time, bool) ([]models.BucketTotal, error) {
	return nil, nil
}

func (h *memHistory) HistoryOf(_ context.Context, since time.Time, ids []uint, fn func(uint, []models.BucketTotal) error) error {
	h.asked = append(h.asked, since)
	h.idsFor = append(h.idsFor, ids)
	var rows []models.BucketTotal
	for _, r := range h.rows {
		if r.Bucket >= since.Unix() {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	return fn(rows[0].ServiceID, rows)
}

type memModels struct {
	mu    sync.Mutex // the learner's workers save too
	saved map[stateKey]models.ModelState
}

func (m *memModels) SaveModelStates(_ context.Context, list []models.ModelState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ms := range list {
		ms.State = append([]byte(nil), ms.State...)
		m.saved[stateKey{ms.ServiceID, ms.Scope}] = ms
	}
	return nil
}

func (m *memModels) ModelStates(_ context.Context, fn func(models.ModelState) error) error {
	for _, ms := range m.saved {
		if err := fn(ms); err != nil {
			return err
		}
	}
	return nil
}

type oneService []models.Service

func (c oneService) Services() []models.Service { return c }

type noCounts struct{}

func (noCounts) Minutes(context.Context, time.Time, time.Time) ([]models.MinuteCounts, error) {
	return nil, nil
}

type noIncidents struct{}

func (noIncidents) ApplyIncident(context.Context, models.IncidentChange) error { return nil }
func (noIncidents) OpenIncidents(context.Context) ([]models.Incident, error)   { return nil, nil }
func (noIncidents) DetectorStates(context.Context) ([]models.DetectorState, error) {
	return nil, nil
}

// TestRunnerResumesSavedModels: a runner that stops saves its models; the
// next start loads them, asks for history only since they were saved (not
// seedSpan of it), and has the same models, regional ones included.
func TestRunnerResumesSavedModels(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 31, 0, 0, time.UTC)
	svc := models.Service{ID: 7, Slug: "acme", Name: "Acme", Problems: []string{"login"}, CreatedAt: now.Add(-60 * 24 * time.Hour)}
	hist := &memHistory{}
	for b := models.BucketOf(now).Add(-seedSpan); b.Before(models.BucketOf(now)); b = b.Add(models.BucketSize) {
		hist.rows = append(hist.rows, models.BucketTotal{ServiceID: 7, Bucket: b.Unix(), Region: "US", Count: 30 + b.Hour()},
			models.BucketTotal{ServiceID: 7, Bucket: b.Unix(), Region: "KR", Count: 1 + b.Hour()%3})
	}
	store := &memModels{saved: map[stateKey]models.ModelState{}}
	newRunner := func() *Runner {
		return NewRunner(RunnerDeps{Catalog: oneService{svc}, Counters: noCounts{}, History: hist, Incidents: noIncidents{},
			Snapshot: NewSnapshot(), Models: store, Now: func() time.Time { return now }, Log: slog.New(slog.DiscardHandler)})
	}
	first := newRunner()
	if err := first.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := hist.asked; len(got) != 1 || !got[0].Equal(models.BucketOf(now).Add(-seedSpan)) {
		t.Fatalf("the first start asked for history since %v", got)
	}
	if len(first.tracked[7].regions) != 2 {
		t.Fatalf("regions tracked: %v", first.tracked[7].regions)
	}
	first.SaveModelsAtExit(context.Background())
	if len(store.saved) != 3 {
		t.Fatalf("saved %d models, want the global and two regional", len(store.saved))
	}

	hist.asked = nil
	second := newRunner()
	if err := second.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := hist.asked; len(got) != 1 || got[0].Before(models.BucketOf(now)) {
		t.Errorf("the second start asked for history since %v, want only since the models were saved (%v)", got, models.BucketOf(now))
	}
	a, b := first.tracked[7], second.tracked[7]
	if !reflect.DeepEqual(a.global.Model, b.global.Model) || a.observed != b.observed {
		t.Error("the resumed global model differs from the saved one")
	}
	for code, s := range a.regions {
		if b.regions[code] == nil || !reflect.DeepEqual(s.Model, b.regions[code].Model) {
			t.Errorf("the resumed %s model differs", code)
		}
	}
}
