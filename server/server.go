package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/phuslu/iploc"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/outcry/outcry/docs"
	"github.com/outcry/outcry/handlers"
	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/catalog"
	"github.com/outcry/outcry/server/detector"
	"github.com/outcry/outcry/server/leader"
	"github.com/outcry/outcry/server/official"
	"github.com/outcry/outcry/server/safehttp"
	"github.com/outcry/outcry/server/store"
	"github.com/outcry/outcry/server/webhook"
)

// App is one running Outcry process: every component, wired.
type App struct {
	cfg        Config
	log        *slog.Logger
	now        func() time.Time
	store      *store.Store
	writer     *store.Writer
	limits     *limits
	cat        *catalog.Catalog
	catVersion string // the catalogue's version when New read it (refreshCatalog starts from it)
	snap       *detector.Snapshot
	holder     string
	roles      *roles
	elector    *leader.Elector
	hooks      *webhook.Service
	board      *official.Board   // every service's official status, for the read paths
	offm       *official.Metrics // the poller's series (the poller is the leader's)
	offInt     time.Duration     // how often the leader polls official sources
	offTO      time.Duration     // bound of one official poll (0: official.Timeout)
	reg        *prometheus.Registry
	engine     *gin.Engine
	handler    *handlers.Handler
	httpSrv    *http.Server
	ln         net.Listener
	access     *bufferedLog
}

// Options are what tests and main may change beyond Config.
type Options struct {
	Log      *slog.Logger     // default: JSON (or text) to stderr at cfg.LogLevel
	Now      func() time.Time // default time.Now
	Listener net.Listener     // default: listen on cfg.Addr
	// RunnerInterval is the detector's tick (default 15 s; tests shorten it).
	RunnerInterval time.Duration
	// LogWriter is where Main's logger writes; access lines are buffered
	// onto it. Without it access lines go through Log unbuffered.
	LogWriter io.Writer
	// OfficialInterval overrides OUTCRY_OFFICIAL_INTERVAL (tests shorten it
	// below the 10 s the configuration allows).
	OfficialInterval time.Duration
	// OfficialTimeout overrides the 10 s bound of one official poll (tests).
	OfficialTimeout time.Duration
	// LearnWait overrides how long the leader's first detector tick waits
	// for the models to learn their history before serving (default 2 s;
	// negative: not at all; detector.RunnerDeps.LearnWait).
	LearnWait time.Duration
}

// New opens the database and Redis, seeds the demo catalogue if asked, and
// wires every component. Nothing is served until Run.
func New(ctx context.Context, cfg Config, opts Options) (_ *App, err error) {
	a := &App{cfg: cfg, log: opts.Log, now: opts.Now, reg: prometheus.NewRegistry()}
	if a.log == nil {
		a.log = NewLogger(cfg, nil)
	}
	if a.now == nil {
		a.now = time.Now
	}
	defer func() {
		if err != nil {
			a.closeAll()
		}
	}()
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if err := a.openCatalog(ctx); err != nil {
		return nil, err
	}
	keys, err := hashKeys(ctx, cfg, a.store, a.now(), a.log)
	if err != nil {
		return nil, err
	}
	if a.limits, err = newLimits(ctx, cfg, a.now, a.log, a.reg, a.store.CountedSince); err != nil {
		return nil, err
	}
	a.writer = a.newWriter()
	a.hooks = webhook.New(a.store, webhook.Options{
		AllowPrivate: cfg.WebhookAllowPrivate, PublicURL: cfg.PublicURL,
		Log: a.log, Now: a.now, Metrics: a.reg,
	})
	if err := a.loadOfficial(ctx, opts); err != nil {
		return nil, err
	}
	if err := a.startRoles(ctx, opts); err != nil {
		return nil, err
	}
	if err := a.newHTTP(keys, opts); err != nil {
		return nil, err
	}
	return a, nil
}

// openCatalog opens the store and reads the catalogue (seeding the demo
// services first when asked).
func (a *App) openCatalog(ctx context.Context) (err error) {
	if a.store, err = store.OpenWith(ctx, a.cfg.DatabaseURL, a.log, store.Options{SyncEvery: a.cfg.SQLiteSyncEvery}); err != nil {
		return err
	}
	// The version before the catalogue is read: a service another replica
	// creates between this read and Run's first check is then still seen
	// as a change (refreshCatalog).
	if a.catVersion, err = a.store.CatalogVersion(ctx); err != nil {
		return err
	}
	if a.cat, err = catalog.New(ctx, a.store); err != nil {
		return err
	}
	allowPrivate := a.cfg.OfficialAllowPrivate
	a.cat.CheckURL = func(raw string) error {
		return safehttp.CheckDestination(raw, "official_status_url", allowPrivate)
	}
	if a.cfg.Demo {
		seeded, err := catalog.SeedDemo(ctx, a.cat, a.now())
		if err != nil {
			return fmt.Errorf("seeding the demo catalogue: %w", err)
		}
		if seeded {
			a.log.Info("seeded the demo catalogue with synthetic history", "services", catalog.DemoServices(), "days", catalog.DemoDays)
		}
	}
	return nil
}

// newWriter starts the reports' group-commit writer, with its metrics.
func (a *App) newWriter() *store.Writer {
	batches := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "outcry_writer_batch_size", Help: "Reports committed per group-commit transaction.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 11),
	})
	commits := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "outcry_writer_commit_seconds", Help: "Time to insert and commit one group-commit transaction.",
		Buckets: prometheus.ExponentialBuckets(0.00025, 2, 12),
	})
	syncs := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "outcry_sqlite_wal_syncs_total", Help: "fsyncs of SQLite's write-ahead log by the syncer (OUTCRY_SQLITE_SYNC_EVERY above 0).",
	}, func() float64 { n, _ := a.store.WALSyncs(); return float64(n) })
	syncFailures := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "outcry_sqlite_wal_sync_failures_total", Help: "Failed fsyncs of SQLite's write-ahead log by the syncer; /readyz fails until one works again.",
	}, func() float64 { _, n := a.store.WALSyncs(); return float64(n) })
	a.reg.MustRegister(batches, commits, syncs, syncFailures)
	return a.store.NewWriter(store.WriterOptions{OnBatch: func(n int, took time.Duration) {
		batches.Observe(float64(n))
		commits.Observe(took.Seconds())
	}})
}

// loadOfficial reads the official statuses stored last and sets how often
// they are polled.
func (a *App) loadOfficial(ctx context.Context, opts Options) error {
	a.board = official.NewBoard()
	if _, err := a.board.Load(ctx, a.store, time.Time{}); err != nil {
		return fmt.Errorf("reading official statuses: %w", err)
	}
	a.offm = official.NewMetrics(a.reg)
	a.offInt = a.cfg.OfficialInterval
	if opts.OfficialInterval > 0 {
		a.offInt = opts.OfficialInterval
	}
	a.offTO = opts.OfficialTimeout
	return nil
}

// startRoles campaigns for the leader's lease and waits for the first
// role's first round (a detector tick, or reading the leader's statuses):
// pages have something to show from the first request on.
func (a *App) startRoles(ctx context.Context, opts Options) error {
	a.snap = detector.NewSnapshot()
	a.holder = holderID()
	a.roles = newRoles(a, opts.RunnerInterval)
	a.roles.learnWait = opts.LearnWait
	a.roles.surge = newSurgeMetrics(a.reg, a.snap, a.now)
	a.elector = leader.New(leader.Options{
		Lease: a.store, Holder: a.holder, TTL: a.cfg.LeaderTTL, Renew: a.cfg.LeaderRenew, Log: a.log, Metrics: a.reg,
		Lead: a.roles.lead, Follow: a.roles.follow,
	})
	// The lease is renewed meanwhile (Run starts only once New returns): a
	// leader's first tick can outlast it (50,000 services on a busy
	// PostgreSQL: 11 s against the 10 s TTL), and a lapsed lease made the
	// next renewal a new tenure, whose fresh runner learned everything again.
	a.elector.Campaign(ctx)
	renew := time.NewTicker(a.elector.RenewEvery())
	defer renew.Stop()
	for {
		select {
		case err := <-a.roles.first:
			if err != nil {
				return fmt.Errorf("first detector tick or status read: %w", err)
			}
			return nil
		case <-renew.C:
			a.elector.Campaign(ctx)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// newHTTP builds the handlers, the router and the HTTP server, and listens.
func (a *App) newHTTP(keys handlers.DayKeys, opts Options) error {
	cfg := &a.cfg
	if cfg.AdminToken == "" {
		cfg.AdminToken = randomHex()
		a.log.Warn("OUTCRY_ADMIN_TOKEN is not set; generated one for this run", "admin_token", cfg.AdminToken)
	}
	a.engine = gin.New()
	if err := a.engine.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return fmt.Errorf("OUTCRY_TRUSTED_PROXIES: %w", err)
	}
	openapi, err := docs.OpenAPIJSON()
	if err != nil {
		return fmt.Errorf("the embedded OpenAPI document: %w", err)
	}
	ready := []handlers.Checker{{Name: "database", Check: a.store.Ping}, {Name: "detector", Check: a.roles.detectorReady, Optional: true}}
	if a.limits.redis != nil {
		ready = append(ready, handlers.Checker{Name: "redis", Check: a.limits.Ping, Optional: true})
	}
	accessLog := a.log
	var accessJSON io.Writer
	if opts.LogWriter != nil {
		a.access = newBufferedLog(opts.LogWriter, 500*time.Millisecond)
		accessLog = NewLogger(*cfg, a.access)
		if cfg.LogFormat == "json" {
			accessJSON = a.access // the handlers append slog's JSON lines by hand
		}
	}
	if cfg.AccessLog == "off" {
		accessLog, accessJSON = nil, nil
	}
	h := handlers.New(handlers.Deps{
		AccessLog: accessLog, AccessJSON: accessJSON, AccessErrorsOnly: cfg.AccessLog == "errors",
		Writer: a.writer, Limiter: a.limits, Status: a.snap, Catalog: a.cat, Incidents: a.store, Recent: a.store, Webhooks: a.hooks,
		Official: a.board, Leads: a.store,
		Identifier: handlers.NewIdentifier(keys), Region: countryOf,
		AdminToken: cfg.AdminToken, Ready: ready, Metrics: handlers.NewMetrics(a.reg),
		RenderMetrics: handlers.NewRenderMetrics(a.reg), PublicURL: cfg.PublicURL,
		MetricsHandler: promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg}), OpenAPI: openapi,
		Log: a.log, Now: a.now,
	})
	h.Routes(a.engine)
	a.handler = h

	a.ln = opts.Listener
	if a.ln == nil {
		if a.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
		}
	}
	a.httpSrv = &http.Server{
		Handler:           handlers.HeadAsGet(a.engine),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	return nil
}

// Addr is the address the app listens on.
func (a *App) Addr() string { return a.ln.Addr().String() }

// AdminToken is the admin token in force (generated when none was set).
func (a *App) AdminToken() string { return a.cfg.AdminToken }

// Run serves until ctx ends, then shuts down in order, each step bounded by
// OUTCRY_SHUTDOWN_TIMEOUT: HTTP server → leader duties (detector,
// dispatcher, jobs) and the lease's release → writer flush → webhook
// attempts in flight → Redis → database.
func (a *App) Run(ctx context.Context) error {
	bg, stopBg := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { a.elector.Run(bg) }) // resigns when bg ends: the leader's duties stop, the lease is released
	if a.store.Dialect() == store.Postgres {
		wg.Go(func() { a.refreshCatalog(bg) })
		// Followers show the official statuses the leader's poller stored
		// (the leader's own board is set by its poller as well).
		wg.Go(func() { a.board.Follow(bg, a.store, time.Time{}, official.FollowEvery, a.log) })
	}
	wg.Go(func() { a.flushAccessLog(bg) })

	serveErr := make(chan error, 1)
	go func() { serveErr <- a.httpSrv.Serve(a.ln) }()
	a.log.Info("outcry is serving", "addr", a.Addr(), "redis", a.limits.redis != nil, "database", a.store.Dialect())

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
	}
	a.log.Info("shutting down")
	// Each step has its own OUTCRY_SHUTDOWN_TIMEOUT: one slow step cannot
	// eat the others' time, and none can hang the process.
	a.step("http server", func(ctx context.Context) error {
		if e := a.httpSrv.Shutdown(ctx); e != nil {
			_ = a.httpSrv.Close()
			return e
		}
		return nil
	})
	stopBg()
	a.step("leader duties (detector, dispatcher, jobs) and lease", func(ctx context.Context) error { return waitGroup(ctx, &wg) })
	if e := a.step("report writer flush", a.writer.Close); e != nil {
		err = errors.Join(err, e)
	}
	// Deliveries still in flight get a step of their own; any not finished
	// stay pending in the database for the next start.
	a.step("webhook attempts in flight", a.hooks.Close)
	a.handler.FlushAccessLog(time.Now().Add(time.Second))
	a.closeAll()
	a.log.Info("stopped")
	return err
}

// step runs one shutdown step within its own OUTCRY_SHUTDOWN_TIMEOUT and
// logs it if it did not finish cleanly.
func (a *App) step(name string, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	err := f(ctx)
	if err != nil {
		a.log.Warn("shutdown step did not finish cleanly", "step", name, "err", err)
	}
	return err
}

// waitGroup waits for wg until ctx ends.
func waitGroup(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// closeAll releases what New opened: the leader's duties and lease, the
// report writer (bounded), Redis,
// and the database — the database only once the writer has stopped, since
// a batch still being committed needs it (the process is exiting anyway).
func (a *App) closeAll() {
	if a.elector != nil {
		a.elector.Resign()
	}
	writerDone := true
	if a.writer != nil {
		ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
		writerDone = a.writer.Close(ctx) == nil
		cancel()
	}
	if a.limits != nil {
		if err := a.limits.Close(); err != nil {
			a.log.Warn("closing Redis", "err", err)
		}
	}
	if a.store != nil {
		if !writerDone {
			a.log.Warn("the report writer is still committing; leaving the database open")
		} else if err := a.store.Close(); err != nil {
			a.log.Warn("closing the database", "err", err)
		}
	}
	if a.ln != nil {
		_ = a.ln.Close()
	}
	if a.access != nil {
		a.access.Close()
	}
}

// jobs rolls reports up into 15-minute counts every minute and prunes old
// data every hour.
func (a *App) jobs(ctx context.Context) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	var lastPrune time.Time
	for {
		now := a.now()
		if err := a.store.Rollup(ctx, now.Add(-time.Hour)); err != nil && ctx.Err() == nil {
			a.log.Warn("rollup failed", "err", err)
		}
		if now.Sub(lastPrune) >= time.Hour {
			lastPrune = now
			r, u, err := a.store.Prune(ctx, now, a.cfg.Retention, a.cfg.RollupRetention)
			if err != nil && ctx.Err() == nil {
				a.log.Warn("prune failed", "err", err)
			} else if r+u > 0 {
				a.log.Info("pruned old data", "reports", r, "rollups", u)
			}
			d, err := a.hooks.Prune(ctx, now.Add(-a.cfg.Retention))
			if err != nil && ctx.Err() == nil {
				a.log.Warn("webhook prune failed", "err", err)
			} else if d > 0 {
				a.log.Info("pruned finished webhook deliveries", "deliveries", d)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// flushAccessLog writes, once a second, how many rate-limited requests the
// access log left out, so the end of a flood is never silent.
func (a *App) flushAccessLog(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			a.handler.FlushAccessLog(time.Now())
		}
	}
}

// NewLogger builds the process logger from the configuration.
func NewLogger(cfg Config, w io.Writer) *slog.Logger {
	if w == nil {
		w = os.Stderr
	}
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func countryOf(a netip.Addr) string { return iploc.IPCountry(a) }

func randomHex() string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

var _ handlers.Catalog = (*catalog.Catalog)(nil)
var _ detector.Catalog = (*catalog.Catalog)(nil)
var _ catalog.Store = (*store.Store)(nil)
var _ models.CounterReader = (*limits)(nil)

// Handler is the app's HTTP handler (for benchmarks that skip the network).
func (a *App) Handler() http.Handler { return a.engine }

// DetectorTicks is how many detector ticks have completed (for tests that
// wait for one instead of sleeping).
func (a *App) DetectorTicks() uint64 { return a.roles.ticks.Load() }
