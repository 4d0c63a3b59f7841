package detector

import (
	"context"
	"time"

	"github.com/outcry/outcry/models"
)

// Learned models are saved (every saveModelsEvery and when the runner
// stops) and loaded at start, so a start teaches each model only the
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
	saveModelsEvery   = time.Hour
	saveModelsTimeout = 15 * time.Second // at shutdown
	saveModelsBatch   = 500
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
		observed: max(end.Unix(), learned), unsaved: map[string]pendingSave{}, savedAt: map[string]time.Time{}}
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

// saveModels saves every tracked series' model, saveModelsBatch at a time.
func (r *Runner) saveModels(ctx context.Context) error {
	if r.Models == nil || !codec.ok {
		return nil
	}
	batch := make([]models.ModelState, 0, saveModelsBatch)
	flush := func() error {
		err := r.Models.SaveModelStates(ctx, batch)
		batch = batch[:0]
		return err
	}
	for _, tr := range r.tracked {
		if tr.learning {
			continue // its saved model (if any) stays as it was
		}
		batch = append(batch, models.ModelState{ServiceID: tr.svc.ID, Scope: models.ScopeGlobal, LearnedUntil: tr.observed, State: tr.global.Model.MarshalState()})
		for code, s := range tr.regions {
			batch = append(batch, models.ModelState{ServiceID: tr.svc.ID, Scope: code, LearnedUntil: tr.observed, State: s.Model.MarshalState()})
		}
		if len(batch) >= saveModelsBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// SaveModelsIfDue saves the models every saveModelsEvery (wall time); the
// runner (or whoever drives its ticks) calls it between ticks.
func (r *Runner) SaveModelsIfDue(ctx context.Context) {
	if r.Models == nil || !r.started || time.Since(r.modelsSavedAt) < saveModelsEvery {
		return
	}
	r.modelsSavedAt = time.Now()
	if err := r.saveModels(ctx); err != nil && ctx.Err() == nil {
		r.Log.Warn("saving the learned models failed; a restart learns from history", "err", err)
	}
}

// SaveModelsAtExit saves the models when the runner stops, within
// saveModelsTimeout of the stop.
func (r *Runner) SaveModelsAtExit(ctx context.Context) {
	if r.Models == nil || !r.started {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveModelsTimeout)
	defer cancel()
	began := time.Now()
	r.stopLearning(ctx)
	if err := r.saveModels(ctx); err != nil {
		r.Log.Warn("saving the learned models at shutdown failed; the next start learns from history", "err", err)
		return
	}
	learning := 0
	for _, tr := range r.tracked {
		if tr.learning {
			learning++
		}
	}
	r.Log.Info("saved the learned models", "services", len(r.tracked)-learning, "still_learning", learning, "took", time.Since(began).Round(time.Millisecond))
}
