package detector

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
)

// countingModels is a model store that records how many services each save
// carried, and fails while fail is set.
type countingModels struct {
	memModels
	calls [][]uint // services (global models) saved, per call
	fail  bool
}

func (m *countingModels) SaveModelStates(ctx context.Context, list []models.ModelState) error {
	m.mu.Lock()
	fail := m.fail
	var ids []uint
	for _, ms := range list {
		if ms.Scope == models.ScopeGlobal {
			ids = append(ids, ms.ServiceID)
		}
	}
	if !fail {
		m.calls = append(m.calls, ids)
	}
	m.mu.Unlock()
	if fail {
		return errors.New("the database is away")
	}
	return m.memModels.SaveModelStates(ctx, list)
}

// savedSince is every service saved by the calls from the n-th on, with
// how many times.
func (m *countingModels) savedSince(n int) map[uint]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[uint]int{}
	for _, ids := range m.calls[n:] {
		for _, id := range ids {
			out[id]++
		}
	}
	return out
}

func (m *countingModels) ncalls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.calls)
}

// TestModelsSavedInTurns: the models a start learns from history are saved
// as they are learned; after that every model is saved once in each round
// of turns (a share a tick, never more than its share), a service created
// later is saved at the next turn, and a stop then has nothing left to
// save, unless the turns failed for longer than a round: then it saves
// those. A warm start after it finds every model saved.
func TestModelsSavedInTurns(t *testing.T) {
	now := time.Date(2026, 3, 4, 17, 7, 0, 0, time.UTC)
	svcs, h := randomCatalogue(30, now, 5)
	store := &countingModels{memModels: memModels{saved: map[stateKey]models.ModelState{}}}
	newRunner := func(c catalogue) *Runner {
		return NewRunner(RunnerDeps{Catalog: c, Counters: noCounts{}, History: h, Incidents: noIncidents{},
			Snapshot: NewSnapshot(), Models: store, Now: func() time.Time { return now }, Log: slog.New(slog.DiscardHandler),
			LearnWait: time.Minute, Interval: 15 * time.Minute})
	}
	r := newRunner(svcs)
	turns := r.saveTurns()
	if turns != 4 {
		t.Fatalf("saveTurns() = %d at a 15-minute interval, want 4 (an hour)", turns)
	}
	ctx := context.Background()
	if err := r.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if left, _ := r.Learning(); left != 0 {
		t.Fatalf("%d services still learning", left)
	}
	end := models.BucketOf(now).Unix()
	for _, svc := range svcs {
		if ms, ok := store.saved[stateKey{svc.ID, models.ScopeGlobal}]; !ok || ms.LearnedUntil != end {
			t.Fatalf("service %d: saved %v (learned until %d) once learned from history, want learned until %d", svc.ID, ok, ms.LearnedUntil, end)
		}
	}
	r.SaveModelsIfDue(ctx) // the first tick's turn

	// A round of turns saves every service once, a share at a time.
	share := (len(svcs) + turns - 1) / turns
	from := store.ncalls()
	for range turns - 1 {
		now = now.Add(15 * time.Minute)
		if err := r.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		n := store.ncalls()
		r.SaveModelsIfDue(ctx)
		if got := len(store.savedSince(n)); got > share {
			t.Fatalf("one turn saved %d services, more than its share %d", got, share)
		}
	}
	got := store.savedSince(from - 1) // with the first tick's turn
	for _, svc := range svcs {
		if got[svc.ID] != 1 {
			t.Errorf("service %d saved %d times in a round of turns, want once", svc.ID, got[svc.ID])
		}
	}
	for id, tr := range r.tracked {
		if ms := store.saved[stateKey{id, models.ScopeGlobal}]; ms.LearnedUntil <= end || ms.LearnedUntil != tr.savedUntil {
			t.Errorf("service %d: saved learned until %d (runner says %d), want after the start's %d", id, ms.LearnedUntil, tr.savedUntil, end)
		}
	}

	// A service created now is saved at the next turn, whoever's it is.
	extra := models.Service{ID: 99, Slug: "newcomer", Name: "N", Problems: []string{"login"}, CreatedAt: now}
	r.Catalog = append(svcs[:len(svcs):len(svcs)], extra)
	now = now.Add(15 * time.Minute)
	if err := r.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	n := store.ncalls()
	r.SaveModelsIfDue(ctx)
	if store.savedSince(n)[extra.ID] != 1 {
		t.Fatal("a service created after the start was not saved at the next turn")
	}

	// A stop now has nothing left to save.
	n = store.ncalls()
	r.SaveModelsAtExit(ctx)
	if got := store.savedSince(n); len(got) != 0 {
		t.Fatalf("the stop saved %d services, want none: every model was saved within the hour", len(got))
	}

	// Turns that fail for more than a round leave their models to the stop.
	store.fail = true
	for range turns + 1 {
		now = now.Add(15 * time.Minute)
		if err := r.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		r.SaveModelsIfDue(ctx)
	}
	store.fail = false
	n = store.ncalls()
	r.SaveModelsAtExit(ctx)
	if got := store.savedSince(n); len(got) != len(svcs)+1 {
		t.Fatalf("after failed turns the stop saved %d services, want all %d", len(got), len(svcs)+1)
	}

	// The next start finds every model saved: it learns nothing from
	// seedSpan of history, and resumes each where it was saved.
	second := newRunner(append(svcs[:len(svcs):len(svcs)], extra))
	n = store.ncalls()
	if err := second.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if left, _ := second.Learning(); left != 0 {
		t.Fatalf("%d services still learning", left)
	}
	for id, tr := range second.tracked {
		if ms := store.saved[stateKey{id, models.ScopeGlobal}]; tr.savedUntil == 0 || tr.savedUntil != ms.LearnedUntil {
			t.Errorf("service %d resumed from the save of %d, stored %d", id, tr.savedUntil, ms.LearnedUntil)
		}
	}
	if got := store.savedSince(n); len(got) != 0 {
		t.Fatalf("the warm start saved %d services: it learned them from history instead of loading them", len(got))
	}
}
