package detector

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/outcry/outcry/models"
)

// Learning at start, in the background. A start has to give every model its
// history before the model may judge: the saved model plus the buckets since
// it was saved, or seedSpan of rollups when there is no usable saved model.
// With tens of thousands of services that is seconds to minutes of CPU, and
// pages do not need it: the first tick starts a learner and waits at most
// LearnWait for it; until a service's models have learned, the service is
// tracked by a placeholder (tracked.learning) whose status is built from
// what is persisted and counted (open incidents as restored, the last 15
// minutes' reports, the chart from rollups; no baseline band), and which
// decides nothing: no incident opens, escalates or resolves from a model
// that has learned only part of its history. Each tick takes the services
// learned since the last one; from then on they are judged as if they had
// learned before the first tick (the minutes since are taught on their
// first evaluation from the live counters, as after any restart).
//
// The learner reads the saved models, then history a service at a time (one
// reader: the database), and teaches the models on GOMAXPROCS-1 workers
// (at least one; one processor is left to serving); the models are
// independent, so the order changes nothing they learn.

// defaultLearnWait is how long the first tick waits for learning before it
// publishes placeholders: a small catalogue is learned within it, and
// starts as it always did.
const defaultLearnWait = 2 * time.Second

// learner learns a set of services' models in the background.
type learner struct {
	retry    bool // started again after a failure: ending wakes nobody (Learned)
	total    int
	left     atomic.Int64 // services not learned yet
	began    time.Time
	finished chan struct{} // closed when every worker has stopped
	err      error         // the reason it stopped early (read after finished)
	// saveFailed: saving what it learned from history failed once (warned)
	saveFailed atomic.Bool

	mu   sync.Mutex
	done []*tracked // learned, not yet taken by a tick
}

// learnJob is one service to learn: from its saved models (resume) and the
// history since them, or from history alone.
type learnJob struct {
	svc   models.Service
	saved map[string]savedModel // nil: learn from history
	h     *history
}

// startLearning starts learning services' models (at end, a bucket
// boundary) and puts a placeholder for each in r.tracked.
func (r *Runner) startLearning(ctx context.Context, services []models.Service, end time.Time) {
	l := &learner{total: len(services), began: time.Now(), finished: make(chan struct{})}
	l.left.Store(int64(len(services)))
	scopes := map[uint][]string{} // restored regional scopes, for the placeholders
	for k := range r.restored {
		if k.scope != models.ScopeGlobal {
			scopes[k.service] = append(scopes[k.service], k.scope)
		}
	}
	// A placeholder's series share one empty model: they are never taught
	// or judged, only asked for their restored incidents and whether the
	// model is ready (it is not). The 5.6 KB of a model each would be most
	// of the placeholders' memory.
	empty := NewModel(r.Params)
	placeholder := func(svc models.Service, scope string) *Series {
		return r.restoredSeries(&Series{Model: empty, Tracker: NewTracker(svc.ID, scope)}, svc, scope)
	}
	for _, svc := range services {
		tr := &tracked{svc: svc, global: placeholder(svc, models.ScopeGlobal), regions: map[string]*Series{},
			observed: end.Unix(), unsaved: map[string]pendingSave{}, savedAt: map[string]time.Time{}, learning: true}
		for _, scope := range scopes[svc.ID] {
			tr.regions[scope] = placeholder(svc, scope)
		}
		r.tracked[svc.ID] = tr
	}
	r.learn = l
	r.progress.Store(l)
	go func() {
		defer close(l.finished)
		l.err = r.runLearner(ctx, l, services, end)
	}()
}

// runLearner reads what the services learn from and teaches them on
// GOMAXPROCS-1 workers (at least one).
func (r *Runner) runLearner(ctx context.Context, l *learner, services []models.Service, end time.Time) error {
	saved, err := r.loadModels(ctx)
	if err != nil {
		return err
	}
	// One processor is left to serving and the ticks: pages must answer
	// while the models learn.
	workers := max(1, runtime.GOMAXPROCS(0)-1)
	jobs := make(chan learnJob, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			hand := func(trs ...*tracked) {
				l.mu.Lock()
				l.done = append(l.done, trs...)
				l.mu.Unlock()
				l.left.Add(-int64(len(trs)))
			}
			// Models learned from history are saved before they are
			// handed over, saveModelsBatch at a time: a stop soon after
			// a first start then has them (it had to save all 50,000 in
			// its 15 s, and on PostgreSQL did not), and the turns
			// (SaveModelsIfDue) only keep them fresh.
			var unsaved []*tracked
			flush := func() {
				if len(unsaved) == 0 {
					return
				}
				if _, err := r.saveTracked(ctx, unsaved); err != nil && ctx.Err() == nil && l.saveFailed.CompareAndSwap(false, true) {
					r.Log.Warn("saving models learned from history failed; they are saved at their turns", "err", err)
				}
				hand(unsaved...)
				unsaved = unsaved[:0]
			}
			saving := r.Models != nil && codec.ok
			for j := range jobs {
				if ctx.Err() != nil {
					continue // drain
				}
				if j.saved != nil {
					tr := r.resumed(j.svc, j.saved, j.h, end)
					learnedBands(tr, end)
					hand(tr)
					continue
				}
				tr := r.seeded(j.svc, j.h, end)
				learnedBands(tr, end)
				if !saving {
					hand(tr)
					continue
				}
				if unsaved = append(unsaved, tr); len(unsaved) >= saveModelsBatch {
					flush()
				}
			}
			flush()
		})
	}
	err = r.feedLearner(ctx, jobs, saved, services, end)
	close(jobs)
	wg.Wait()
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// learnedBands gives a service just learned its chart band for the bucket
// end, from the model as learned up to end, on the learner's worker: the
// tick that takes the service then only moves the band on, as at any
// bucket boundary, or keeps it. Computed by that tick instead, the bands
// of every service learned at once (a warm start) were about a second of
// CPU in one tick at 50,000 services. A model not ready at end is left
// to the tick (it may be ready by then). It also makes the memory of the
// service's first chart series (tracked.spare), which that tick fills: the
// first write to 50,000 fresh 4 KB series (page faults as the heap grew)
// was 0.9 s of that tick's CPU.
func learnedBands(tr *tracked, end time.Time) {
	if tr.global.Model.Ready(end) {
		refreshBands(tr, end.Add(-chartSpan+models.BucketSize), end)
	}
	tr.spare = make([]models.Bucket, chartSpan/models.BucketSize)
}

// feedLearner streams the services' saved models and history to jobs.
// History is read by one caller at a time, in the order the store gives.
func (r *Runner) feedLearner(ctx context.Context, jobs chan<- learnJob, saved map[uint]map[string]savedModel, services []models.Service, end time.Time) error {
	send := func(j learnJob) error {
		select {
		case jobs <- j:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// Services with saved models learn only what came after them; the
	// others learn seedSpan of history.
	resumed, fresh, learnedFrom := map[uint]models.Service{}, map[uint]models.Service{}, end
	for _, svc := range services {
		if s := restorable(saved[svc.ID], end); s != nil {
			resumed[svc.ID] = svc
			learnedFrom = minTime(learnedFrom, models.BucketOf(time.Unix(s[models.ScopeGlobal].learned, 0)))
		} else {
			fresh[svc.ID] = svc
		}
	}
	stream := func(set map[uint]models.Service, since time.Time, withSaved bool) error {
		if len(set) == 0 {
			return nil
		}
		job := func(svc models.Service, h *history) learnJob {
			j := learnJob{svc: svc, h: h}
			if withSaved {
				j.saved = saved[svc.ID]
				delete(saved, svc.ID) // its bytes go with the job
			}
			delete(set, svc.ID)
			return j
		}
		err := r.History.HistoryOf(ctx, since, freshIDs(set, len(services)), func(id uint, rows []models.BucketTotal) error {
			if svc, ok := set[id]; ok {
				return send(job(svc, groupHistory(rows)))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, svc := range set { // nothing in the history read
			if err := send(job(svc, nil)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := stream(resumed, learnedFrom, true); err != nil {
		return err
	}
	return stream(fresh, end.Add(-seedSpan), false)
}

// takeLearned moves the services learned since the last call into
// r.tracked, in place of their placeholders, and reports whether learning
// has ended. A learner that stopped early (a database error) is started
// again for the services still learning.
func (r *Runner) takeLearned(ctx context.Context, now time.Time, restart bool) {
	l := r.learn
	if l == nil {
		return
	}
	l.mu.Lock()
	done := l.done
	l.done = nil
	l.mu.Unlock()
	for _, tr := range done {
		if cur := r.tracked[tr.svc.ID]; cur == nil || !cur.learning {
			continue // deleted meanwhile
		}
		r.tracked[tr.svc.ID] = tr
		// Restored incidents of regions that are not busy any more still
		// need their series to resolve.
		for k := range r.restored {
			if k.service == tr.svc.ID && k.scope != models.ScopeGlobal && tr.regions[k.scope] == nil {
				tr.regions[k.scope] = r.newSeries(tr.svc, k.scope)
			}
		}
	}
	select {
	case <-l.finished:
	default:
		return
	}
	r.learn = nil
	var again []models.Service
	for _, tr := range r.tracked {
		if tr.learning {
			again = append(again, tr.svc)
		}
	}
	if len(again) == 0 {
		r.Log.Info("detector caught up: every model has learned its history", "services", l.total, "took", time.Since(l.began).Round(time.Millisecond))
		return
	}
	if !restart || ctx.Err() != nil {
		return
	}
	r.Log.Warn("learning the detector's models failed; trying again", "services_left", len(again), "err", l.err)
	r.startLearning(ctx, again, models.BucketOf(now))
	r.learn.retry = true
}

// Learned is closed when the learning under way ends (nil when none is):
// whoever drives the ticks ticks at once, so that the last services
// learned are judged without waiting for the next interval. Call it from
// the goroutine that ticks.
func (r *Runner) Learned() <-chan struct{} {
	if r.learn == nil || r.learn.retry {
		return nil // a retry is taken by the ticks as they come
	}
	return r.learn.finished
}

// waitLearning waits up to d for the learner to finish (or ctx to end).
func (r *Runner) waitLearning(ctx context.Context, d time.Duration) {
	if r.learn == nil || d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.learn.finished:
	case <-t.C:
	case <-ctx.Done():
	}
}

// waitFirstLearning is the first tick's wait: up to d for the learner to
// finish, but no longer than it takes to see that it will not finish
// within d (after a quarter of d, nothing learned yet or the pace so far
// says later): a large catalogue then serves without waiting in vain.
func (r *Runner) waitFirstLearning(ctx context.Context, d time.Duration) {
	l := r.learn
	if l == nil || d <= 0 {
		return
	}
	poll := time.NewTicker(d / 20)
	defer poll.Stop()
	for {
		select {
		case <-l.finished:
			return
		case <-ctx.Done():
			return
		case <-poll.C:
		}
		took := time.Since(l.began)
		done := int64(l.total) - l.left.Load()
		if took >= d || (took >= d/4 && (done == 0 || float64(took)*float64(l.total)/float64(done) > float64(d))) {
			return
		}
	}
}

// Learning reports how many services' models are still learning their
// history (0 once caught up) out of how many the start had to learn. A
// service counts until the published snapshot shows it judged (its
// baseline band): the learner hands a model over a tick before the tick
// that publishes it, and /readyz and the learning gauge say "caught up"
// only once the pages do. It is safe to call from any goroutine.
func (r *Runner) Learning() (left, total int) {
	if p := r.progress.Load(); p != nil {
		return int(max(p.left.Load(), r.shown.Load())), p.total
	}
	return 0, 0
}

// stopLearning cancels nothing itself (the learner runs under the tick's
// context) but waits for it to stop and takes what it learned, so that
// saving at exit saves every model that has learned.
func (r *Runner) stopLearning(ctx context.Context) {
	if r.learn == nil {
		return
	}
	select {
	case <-r.learn.finished:
	case <-ctx.Done():
		return
	}
	r.takeLearned(ctx, r.Now(), false)
}
