package detector

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/outcry/outcry/models"
)

// Learned models are saved (each at least every saveModelsEvery, a share
// at every tick; those learned from history as soon as they are; and at
// stop those the turns have not saved lately) and loaded at start, so a start teaches each model only the
// history since it was saved instead of seedSpan of it: with 50,000
// services, learning three weeks of 15-minute buckets costs tens of CPU
// seconds, loading the models about one. History stays the fallback for a
// series without a usable saved model (new, saved by a build with another
// Model layout, or saved longer than seedSpan ago).

// ModelStore saves and loads learned models.
type ModelStore interface {
	SaveModelStates(ctx context.Context, list []models.ModelState) error
	ModelStates(ctx context.Context, fn func(models.ModelState) error) error
}

const (
	saveModelsEvery   = time.Hour        // each model is saved at least this often (SaveModelsIfDue)
	saveModelsTimeout = 15 * time.Second // at shutdown
	saveModelsBatch   = 500              // services a SaveModelStates call carries
)

// savedModel is a model loaded at start, waiting for its series: decoded
// as it is read (the bytes are not kept), its parameters set when its
// series is made.
type savedModel struct {
	learned int64 // unix second the runner had learned up to
	model   *Model
}

// loadModels reads the saved models this build can restore.
func (r *Runner) loadModels(ctx context.Context) (map[uint]map[string]savedModel, error) {
	saved := map[uint]map[string]savedModel{}
	if r.Models == nil {
		return saved, nil
	}
	err := r.Models.ModelStates(ctx, func(ms models.ModelState) error {
		model := &Model{}
		if !model.UnmarshalState(ms.State) {
			return nil
		}
		m := saved[ms.ServiceID]
		if m == nil {
			m = map[string]savedModel{}
			saved[ms.ServiceID] = m
		}
		m[ms.Scope] = savedModel{learned: ms.LearnedUntil, model: model}
		return nil
	})
	return saved, err
}

// restorable is a service's saved models if its global model can be
// resumed at end (saved within seedSpan), else nil.
func restorable(m map[string]savedModel, end time.Time) map[string]savedModel {
	g, ok := m[models.ScopeGlobal]
	if !ok || g.learned < end.Add(-seedSpan).Unix() {
		return nil
	}
	return m
}

// resumed is a service's state from its saved models, taught the history h
// (nil: none) since they were saved. Like seeded, it is safe to call
// concurrently.
func (r *Runner) resumed(svc models.Service, saved map[string]savedModel, h *history, end time.Time) *tracked {
	learned := saved[models.ScopeGlobal].learned
	tr := &tracked{svc: svc, global: r.newSeries(svc, models.ScopeGlobal), regions: map[string]*Series{},
		observed: max(end.Unix(), learned), unsaved: map[string]pendingSave{}, savedAt: map[string]time.Time{}, savedUntil: learned}
	// The first whole bucket after what was learned (a bucket learned in
	// part, minute by minute, is not taught again).
	start := models.BucketOf(time.Unix(learned, 0)).Unix()
	if start < learned {
		start += bucketSecs
	}
	tr.global.Model = restoredModel(tr.global.Model, saved[models.ScopeGlobal].model)
	var global map[int64]float64
	if h != nil {
		global = h.global
	}
	teach(tr.global, global, start, end.Unix())
	for scope, sm := range saved {
		if scope == models.ScopeGlobal || sm.learned != learned {
			continue
		}
		s := r.newSeries(svc, scope)
		s.Model = restoredModel(s.Model, sm.model)
		var counts map[int64]float64
		if h != nil {
			counts = h.regions[scope]
		}
		teach(s, counts, start, end.Unix())
		tr.regions[scope] = s
	}
	return tr
}

// restoredModel is a saved model (decoded by loadModels) with the
// parameters of the fresh model it replaces.
func restoredModel(fresh, saved *Model) *Model {
	saved.p = fresh.p
	return saved
}

// saveTracked saves the models of trs (none still learning),
// saveModelsBatch services at a time, and marks each service saved once its
// batch is stored. It returns how many services were saved.
func (r *Runner) saveTracked(ctx context.Context, trs []*tracked) (int, error) {
	batch := make([]models.ModelState, 0, saveModelsBatch+maxRegions)
	saved := 0
	for len(trs) > 0 {
		n := 0
		batch = batch[:0]
		for n < len(trs) && len(batch) < saveModelsBatch {
			tr := trs[n]
			batch = append(batch, models.ModelState{ServiceID: tr.svc.ID, Scope: models.ScopeGlobal, LearnedUntil: tr.observed, State: tr.global.Model.MarshalState()})
			for code, s := range tr.regions {
				batch = append(batch, models.ModelState{ServiceID: tr.svc.ID, Scope: code, LearnedUntil: tr.observed, State: s.Model.MarshalState()})
			}
			n++
		}
		if err := r.Models.SaveModelStates(ctx, batch); err != nil {
			return saved, err
		}
		for _, tr := range trs[:n] {
			tr.savedUntil = tr.observed
		}
		saved += n
		trs = trs[n:]
	}
	return saved, nil
}

// saveTurns is how many turns (SaveModelsIfDue, once a tick) one round of
// saving every model takes: saveModelsEvery at the tick interval.
func (r *Runner) saveTurns() int {
	return max(1, int(saveModelsEvery/r.Interval))
}

// SaveModelsIfDue saves this tick's share of the learned models: the
// services whose turn it is (service ID modulo saveTurns: each saved once
// every saveModelsEvery, spread evenly over the ticks) and, up to as many
// again, services never saved (new ones, or those whose save failed).
// Saving all 50,000 at once every hour held the tick loop for seconds (on
// PostgreSQL longer than the 15 s a shutdown has), and left a shutdown
// that whole save to do; a share of about 200 a tick costs a few
// milliseconds. The runner (or whoever drives its ticks) calls it after
// each tick.
func (r *Runner) SaveModelsIfDue(ctx context.Context) {
	if r.Models == nil || !r.started || !codec.ok {
		return
	}
	turns := r.saveTurns()
	turn := uint(r.saveTurn % turns)
	r.saveTurn++
	share := (len(r.tracked) + turns - 1) / turns
	var due, never []*tracked
	for _, tr := range r.tracked {
		switch {
		case tr.learning:
		case tr.savedUntil == 0:
			if len(never) < share {
				never = append(never, tr)
			}
		case tr.svc.ID%uint(turns) == turn:
			due = append(due, tr)
		}
	}
	if _, err := r.saveTracked(ctx, append(never, due...)); err != nil && ctx.Err() == nil {
		r.Log.Warn("saving learned models failed; they are saved at their next turn, and a restart meanwhile learns the history since their last save", "err", err)
	}
}

// staleAtExit reports whether a service's models are left to the save at
// exit: never saved, or saved longer than saveModelsEvery ago (their turns
// failed, or the ticks fell behind). The others have a save at most
// saveModelsEvery old, and a start teaches them the history since.
func staleAtExit(tr *tracked) bool {
	return tr.savedUntil == 0 || tr.observed-tr.savedUntil > int64(saveModelsEvery/time.Second)
}

// SaveModelsAtExit saves, when the runner stops and within
// saveModelsTimeout of the stop, the models the turns have not saved
// lately (staleAtExit), the stalest first.
func (r *Runner) SaveModelsAtExit(ctx context.Context) {
	if r.Models == nil || !r.started || !codec.ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveModelsTimeout)
	defer cancel()
	began := time.Now()
	r.stopLearning(ctx)
	var stale []*tracked
	learning, fresh := 0, 0
	for _, tr := range r.tracked {
		switch {
		case tr.learning:
			learning++
		case staleAtExit(tr):
			stale = append(stale, tr)
		default:
			fresh++
		}
	}
	slices.SortFunc(stale, func(a, b *tracked) int { return cmp.Compare(a.savedUntil, b.savedUntil) })
	saved, err := r.saveTracked(ctx, stale)
	if err != nil {
		r.Log.Warn("saving the learned models at shutdown failed; the next start learns the history since their last save", "err", err,
			"saved", saved, "left", len(stale)-saved, "never_saved", countNeverSaved(stale[saved:]))
		return
	}
	r.Log.Info("saved the learned models", "saved", saved, "saved_earlier", fresh, "still_learning", learning, "took", time.Since(began).Round(time.Millisecond))
}

func countNeverSaved(trs []*tracked) int {
	n := 0
	for _, tr := range trs {
		if tr.savedUntil == 0 {
			n++
		}
	}
	return n
}
