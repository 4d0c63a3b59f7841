package detector

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/outcry/outcry/models"
)

// Catalog lists the services to evaluate.
type Catalog interface {
	Services() []models.Service
}

// HistoryReader reads 15-minute rollups of counted reports.
type HistoryReader interface {
	History(ctx context.Context, since time.Time, byRegion bool) ([]models.BucketTotal, error)
	// HistoryOf streams per-region totals since since, one service at a
	// time (ids nil: every service); rows are valid only during fn.
	HistoryOf(ctx context.Context, since time.Time, ids []uint, fn func(serviceID uint, rows []models.BucketTotal) error) error
}

// IncidentStore persists incident transitions and restores them.
type IncidentStore interface {
	ApplyIncident(ctx context.Context, ch models.IncidentChange) error
	OpenIncidents(ctx context.Context) ([]models.Incident, error)
	DetectorStates(ctx context.Context) ([]models.DetectorState, error)
}

// RunnerDeps are the runner's collaborators, injected by server.
type RunnerDeps struct {
	Catalog   Catalog
	Counters  models.CounterReader
	History   HistoryReader
	Incidents IncidentStore
	Snapshot  *Snapshot
	Params    Params // zero: DefaultParams()
	Now       func() time.Time
	Log       *slog.Logger
	Interval  time.Duration   // between ticks (default 15 s)
	PublicURL string          // for status links in webhook payloads
	Notify    func()          // called after an announced change is committed
	OnTick    func(TickStats) // called after each published tick (metrics); may be nil
	Models    ModelStore      // saves and loads learned models; nil: learn from history at every start
	// LearnWait is how long the first tick waits for the models to learn
	// their history before it publishes what it has, the services still
	// learning shown from what is persisted (learn.go). 0: 2 s; negative:
	// not at all.
	LearnWait time.Duration
}

// Runner is the detector's orchestration: at each tick it reads the
// counters, advances every service's series (and those of its busiest
// regions), judges them, steps the incident state machines, persists their
// transitions, and publishes the status snapshot.
type Runner struct {
	RunnerDeps
	started  bool
	tracked  map[uint]*tracked
	minutes  map[int64]models.MinuteCounts // recent per-minute counters, by minute
	active   map[uint]bool                 // services with a count in minutes (the others' are all zero)
	chart    map[uint]map[int64]int        // completed buckets of the last day, from rollups
	chartAt  time.Time                     // the bucket boundary chart was loaded after
	chartGen uint64                        // one more at each load of chart (chartKey)
	restored map[stateKey]restoredState
	saveTurn int                     // SaveModelsIfDue's turns so far
	scratch  []models.Bucket         // where the next chart series is built (status.go)
	learn    *learner                // learning in the background, nil once caught up (learn.go)
	progress atomic.Pointer[learner] // the latest learner, for Learning
	shown    atomic.Int64            // services the last published snapshot showed still learning
}

// Spans the runner works with.
const (
	recentSpan = 45 * time.Minute    // per-minute counters kept in memory
	chartSpan  = 24 * time.Hour      // what the chart shows
	seedSpan   = 21 * 24 * time.Hour // history a model learns from at start
	grace      = 2 * time.Second     // a minute is complete this long after it ends
	// chartReload is what the chart reads again at each bucket boundary:
	// the buckets the rollup job (every minute, over the last hour) may
	// still change, and one more.
	chartReload = time.Hour + models.BucketSize
)

// NewRunner builds a runner.
func NewRunner(d RunnerDeps) *Runner {
	if d.Interval <= 0 {
		d.Interval = 15 * time.Second
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Params.Budget == 0 {
		d.Params = DefaultParams()
	}
	if d.Notify == nil {
		d.Notify = func() {}
	}
	if d.LearnWait == 0 {
		d.LearnWait = defaultLearnWait
	}
	return &Runner{RunnerDeps: d, tracked: map[uint]*tracked{}, minutes: map[int64]models.MinuteCounts{}, active: map[uint]bool{}}
}

// Run ticks until ctx ends. The first tick runs at once.
func (r *Runner) Run(ctx context.Context) {
	t := time.NewTicker(r.Interval)
	defer t.Stop()
	for {
		if err := r.Tick(ctx); err != nil && ctx.Err() == nil {
			r.Log.Warn("detector tick failed", "err", err)
		}
		r.SaveModelsIfDue(ctx)
		select {
		case <-ctx.Done():
			r.SaveModelsAtExit(ctx)
			return
		case <-t.C:
		case <-r.Learned(): // judge the last services learned at once
		}
	}
}

// Tick evaluates every service once at r.Now() and publishes the snapshot.
func (r *Runner) Tick(ctx context.Context) error {
	began := time.Now()
	now := r.Now().UTC()
	if !r.started {
		if err := r.restore(ctx); err != nil {
			return err
		}
	} else {
		// Before anything that can fail: a tick woken by the end of
		// learning (Learned) must take it, or the next would be woken again.
		r.takeLearned(ctx, now, true)
	}
	if err := r.loadChart(ctx, now); err != nil {
		return err
	}
	if err := r.readMinutes(ctx, now); err != nil {
		return err
	}
	services := r.Catalog.Services()
	if !r.started {
		r.startLearning(ctx, services, models.BucketOf(now))
		// Started from here on: the learner reads what restore wrote, which
		// must not be restored again should the rest of this tick fail.
		r.started = true
		r.waitFirstLearning(ctx, r.LearnWait)
		r.takeLearned(ctx, now, true)
	}
	if err := r.seed(ctx, services, now); err != nil {
		return err
	}
	r.started = true
	live := make(map[uint]bool, len(services))
	announced := false
	minute := now.Truncate(time.Minute).Unix()
	var learning int64
	for _, svc := range services {
		live[svc.ID] = true
		tr := r.tracked[svc.ID]
		tr.svc = svc
		if tr.learning {
			tr.last15 = r.last15(svc.ID, minute)
			learning++
			continue
		}
		if r.evaluate(ctx, tr, now) {
			announced = true
		}
	}
	// Statuses once every service is evaluated: an incident that opens
	// late in the tick may have put an earlier service's incident in its
	// correlation group.
	list := make([]models.ServiceStatus, 0, len(services))
	for _, svc := range services {
		list = append(list, r.status(r.tracked[svc.ID], now))
	}
	for id := range r.tracked {
		if !live[id] {
			delete(r.tracked, id)
		}
	}
	r.Snapshot.Publish(list)
	r.shown.Store(learning)
	if r.OnTick != nil {
		r.OnTick(r.tickStats(began, now, list))
	}
	if announced {
		r.Notify()
	}
	return nil
}

// readMinutes refreshes the per-minute counters: all of recentSpan on the
// first tick, then the last few minutes (counters of a finished minute do
// not change, but a tick can be late).
func (r *Runner) readMinutes(ctx context.Context, now time.Time) error {
	minute := now.Truncate(time.Minute)
	from := minute.Add(-3 * time.Minute)
	if len(r.minutes) == 0 {
		from = minute.Add(-recentSpan)
	}
	mins, err := r.Counters.Minutes(ctx, from, minute.Add(time.Minute))
	if err != nil {
		return err
	}
	for m := from.Unix(); m <= minute.Unix(); m += 60 {
		delete(r.minutes, m)
	}
	for _, m := range mins {
		r.minutes[m.Minute] = m
	}
	cut := minute.Add(-recentSpan).Unix()
	for m := range r.minutes {
		if m < cut {
			delete(r.minutes, m)
		}
	}
	clear(r.active)
	for _, mc := range r.minutes {
		for id := range mc.Services {
			r.active[id] = true
		}
	}
	return nil
}

// last15 is one service's counts in the last 15 minutes up to minute.
func (r *Runner) last15(id uint, minute int64) models.Counts {
	var c models.Counts
	if !r.active[id] {
		return c // nobody reported in the minutes kept: every count is zero
	}
	for m := minute - 14*60; m <= minute; m += 60 {
		c.Add(r.counts(id, m))
	}
	return c
}

// counts is one service's counts in one minute (zero when nobody reported).
func (r *Runner) counts(id uint, minute int64) models.Counts {
	return r.minutes[minute].Services[id]
}

// loadChart reloads completed chart buckets from the rollups two minutes
// after each bucket boundary (the rollup job runs every minute), and at
// start. After the first load it reads only the buckets the rollup job may
// still change (chartReload; it recomputes the last hour) and drops those
// that left the chart: reading the whole day again for every service was
// about a second of CPU at 50,000 services every 15 minutes.
func (r *Runner) loadChart(ctx context.Context, now time.Time) error {
	boundary := models.BucketOf(now.Add(-2 * time.Minute))
	if r.chart != nil && !boundary.After(r.chartAt) {
		return nil
	}
	oldest := now.Add(-chartSpan - models.BucketSize)
	since := oldest
	if r.chart != nil {
		since = maxTime(since, models.BucketOf(r.chartAt.Add(-chartReload)))
	}
	rows, err := r.History.History(ctx, since, false)
	if err != nil {
		return err
	}
	chart := r.chart
	if chart == nil || !since.After(oldest) {
		chart = make(map[uint]map[int64]int)
	} else {
		keep, from := models.BucketOf(oldest).Unix(), models.BucketOf(since).Unix()
		for id, m := range chart {
			for b := range m {
				if b < keep || b >= from {
					delete(m, b)
				}
			}
			if len(m) == 0 {
				delete(chart, id)
			}
		}
	}
	for _, row := range rows {
		m := chart[row.ServiceID]
		if m == nil {
			m = make(map[int64]int)
			chart[row.ServiceID] = m
		}
		m[row.Bucket] += row.Count
	}
	r.chart, r.chartAt = chart, boundary
	r.chartGen++
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
