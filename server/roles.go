package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/outcry/outcry/server/detector"
	"github.com/outcry/outcry/server/leader"
	"github.com/outcry/outcry/server/official"
	"github.com/outcry/outcry/server/safehttp"
	"github.com/outcry/outcry/server/store"
)

// holderID names this replica in the leader lease: host, process and a
// random suffix (a restarted process with a reused pid is another holder).
func holderID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// roles are what a replica does as leader or follower. Every replica
// ingests reports and serves reads; only the leader runs the detector, the
// webhook dispatcher, the official status poller and the periodic jobs
// (rollup, prune), each writing
// through a store fenced by its term. A follower's status snapshot follows
// the statuses the leader publishes (PostgreSQL; with SQLite the one
// process is always the leader).
type roles struct {
	a        *App
	interval time.Duration
	lastTick prometheus.Gauge
	first    chan error // the first tick's or status read's outcome, for New
	once     sync.Once
	surge    *surgeMetrics                   // the detector's and the snapshot's series, fed after each tick
	ticks    atomic.Uint64                   // detector ticks completed (App.DetectorTicks)
	runner   atomic.Pointer[detector.Runner] // the leader's detector, nil on a follower
	// learnWait: how long the first tick waits for learning (0: the runner's default)
	learnWait time.Duration
}

func newRoles(a *App, interval time.Duration) *roles {
	if interval <= 0 {
		interval = 15 * time.Second
	}
	r := &roles{a: a, interval: interval, first: make(chan error, 1),
		lastTick: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "outcry_detector_last_tick_timestamp_seconds",
			Help: "When this replica's detector last finished a tick (only the leader ticks).",
		})}
	a.reg.MustRegister(r.lastTick, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "outcry_detector_learning_services",
		Help: "Services whose models are still learning their history after the leader started (shown, not judged, until learned); 0 once caught up and on followers.",
	}, func() float64 { left, _ := r.learning(); return float64(left) }))
	return r
}

// learning is how many services the leader's detector is still learning,
// of how many it started with (0, 0 on a follower).
func (r *roles) learning() (left, total int) {
	if run := r.runner.Load(); run != nil {
		return run.Learning()
	}
	return 0, 0
}

// detectorReady is /readyz's detector check: degraded (still serving)
// while models learn their history after a start.
func (r *roles) detectorReady(context.Context) error {
	if left, total := r.learning(); left > 0 {
		return fmt.Errorf("the detector is learning history: %d of %d services left (shown from what is stored, not judged yet)", left, total)
	}
	return nil
}

// started reports the outcome of the first tick or status read once.
func (r *roles) started(err error) {
	r.once.Do(func() { r.first <- err })
}

// lead runs the leader's duties for one tenure until ctx ends.
func (r *roles) lead(ctx context.Context, term int64) {
	a := r.a
	elected := time.Now()
	fs := a.store.Fenced(store.Fence{Holder: a.holder, Term: term})
	runner := detector.NewRunner(detector.RunnerDeps{
		Catalog: a.cat, Counters: a.limits, History: a.store, Incidents: fs, Snapshot: a.snap,
		Now: a.now, Log: a.log, PublicURL: a.cfg.PublicURL, Interval: r.interval, Notify: a.hooks.Notify,
		OnTick: r.surge.observe, Models: a.store, LearnWait: r.learnWait,
	})
	r.runner.Store(runner)
	defer r.runner.CompareAndSwap(runner, nil)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { a.hooks.Run(ctx, fs) })
	wg.Go(func() { a.jobs(ctx) })
	poller := official.New(official.Options{
		Store: fs, Catalog: a.cat, Interval: a.offInt, Now: a.now, Log: a.log, Metrics: a.offm,
		PublicURL: a.cfg.PublicURL, Board: a.board, Notify: a.hooks.Notify, Timeout: a.offTO,
		Client: safehttp.NewClient(safehttp.Options{AllowPrivate: a.cfg.OfficialAllowPrivate, Timeout: official.Timeout, FollowRedirects: true}),
	})
	wg.Go(func() { poller.Run(ctx) })
	if a.store.Dialect() == store.Postgres {
		wg.Go(func() { leader.Publish(ctx, term, a.snap, fs, a.log) })
	}
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for first := true; ; first = false {
		err := runner.Tick(ctx)
		r.ticks.Add(1)
		switch {
		case err == nil:
			r.lastTick.SetToCurrentTime()
			if first {
				a.log.Info("first detector tick as leader", "term", term, "since_elected", time.Since(elected).Round(time.Millisecond))
			}
		case ctx.Err() == nil:
			a.log.Warn("detector tick failed", "err", err)
		}
		if first && ctx.Err() == nil {
			// (a tenure ended during its first tick: the role that follows
			// reports the start's first round)
			r.started(err)
		}
		runner.SaveModelsIfDue(ctx)
		select {
		case <-ctx.Done():
			runner.SaveModelsAtExit(ctx)
			return
		case <-t.C:
		case <-runner.Learned(): // the last services learned are judged at once
		}
	}
}

// follow keeps the snapshot at the leader's published statuses until ctx
// ends.
func (r *roles) follow(ctx context.Context) {
	a := r.a
	known := func(slug string) bool { _, ok := a.cat.Lookup(slug); return ok }
	leader.Follow(ctx, a.store, a.snap, known, a.log, r.started)
}

// refreshCatalog re-reads the catalogue when another replica changed it,
// every catalogEvery until ctx ends (PostgreSQL only: a SQLite file has one
// process, whose changes reload its catalogue at once).
func (a *App) refreshCatalog(ctx context.Context) {
	const catalogEvery = 2 * time.Second
	last := a.catVersion // read before the catalogue was, in New
	t := time.NewTicker(catalogEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v, err := a.store.CatalogVersion(ctx)
		if err != nil || v == last {
			continue
		}
		if err := a.cat.Reload(ctx); err != nil {
			if ctx.Err() == nil {
				a.log.Warn("reloading the catalogue failed", "err", err)
			}
			continue
		}
		last = v
	}
}
