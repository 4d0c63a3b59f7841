// Package leader elects one leader among Outcry's replicas with a lease row
// in the database (see server/store: AcquireLease) and runs the leader's
// duties for exactly as long as this replica holds the lease, a follower's
// otherwise. The lease's term is the fencing token the duties write under:
// when a tenure ends, its duties are stopped, and whatever they still try
// to write is refused by the database.
package leader

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Lease is the lease row (implemented by server/store).
type Lease interface {
	AcquireLease(ctx context.Context, holder string, ttl time.Duration) (term int64, ok bool, err error)
	ReleaseLease(ctx context.Context, holder string) error
}

// Options configure an Elector.
type Options struct {
	Lease  Lease
	Holder string        // this replica's id: hostname-pid-random
	TTL    time.Duration // how long a lease lives without renewal (default 10 s)
	Renew  time.Duration // how often it is renewed, or tried by followers (default 2 s)
	Log    *slog.Logger
	// Lead runs the leader's duties for one tenure until ctx ends (the
	// tenure is over, or the process stops). It must return promptly then.
	Lead func(ctx context.Context, term int64)
	// Follow runs a follower's duties until ctx ends; nil for none.
	Follow  func(ctx context.Context)
	Metrics prometheus.Registerer // outcry_leader, outcry_leader_term, outcry_leader_changes_total; nil = nowhere
	Now     func() time.Time      // the local clock, for the renewal deadline
}

// Elector campaigns for the lease and runs the duties of the role held.
type Elector struct {
	o       Options
	leader  prometheus.Gauge
	term    prometheus.Gauge
	changes prometheus.Counter

	mu      sync.Mutex
	cur     int64 // the term held, 0 when following
	lastOK  time.Time
	stop    context.CancelFunc
	done    chan struct{}
	started bool
}

// New builds an elector.
func New(o Options) *Elector {
	if o.TTL <= 0 {
		o.TTL = 10 * time.Second
	}
	if o.Renew <= 0 || o.Renew >= o.TTL {
		o.Renew = min(2*time.Second, o.TTL/3)
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	e := &Elector{
		o:       o,
		leader:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "outcry_leader", Help: "1 while this replica is the leader (runs the detector, the webhook dispatcher and the periodic jobs), else 0."}),
		term:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "outcry_leader_term", Help: "The leader term this replica holds, or last held (the fencing token)."}),
		changes: prometheus.NewCounter(prometheus.CounterOpts{Name: "outcry_leader_changes_total", Help: "Times this replica became or stopped being the leader."}),
	}
	if o.Metrics != nil {
		o.Metrics.MustRegister(e.leader, e.term, e.changes)
	}
	return e
}

// Campaign makes one attempt at the lease and starts the duties of the role
// it yields; Run keeps campaigning. Call it before Run to know the role at
// start (New does, so the first status is there before serving).
func (e *Elector) Campaign(ctx context.Context) (term int64, leading bool) {
	ctx, cancel := context.WithTimeout(ctx, e.o.Renew)
	term, ok, err := e.o.Lease.AcquireLease(ctx, e.o.Holder, e.o.TTL)
	cancel()
	now := e.o.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case err != nil:
		// Keep the role until the lease could have lapsed: the database may
		// be back before then. A leader steps down a renewal ahead of the
		// TTL, so it stops before another replica can take over.
		if e.cur != 0 && now.Sub(e.lastOK) >= e.o.TTL-e.o.Renew {
			e.o.Log.Warn("stepping down: the leader lease could not be renewed in time", "term", e.cur, "err", err)
			e.switchTo(0)
		} else if !e.started {
			e.switchTo(0)
		}
	case !ok:
		if e.cur != 0 {
			e.o.Log.Warn("stepping down: another replica holds the leader lease", "term", e.cur)
		}
		if e.cur != 0 || !e.started {
			e.switchTo(0)
		}
	case term != e.cur:
		e.lastOK = now
		e.switchTo(term)
	default:
		e.lastOK = now
	}
	return e.cur, e.cur != 0
}

// RenewEvery is how often the lease is renewed (Run's pace): whoever
// campaigns before Run starts does so at this pace.
func (e *Elector) RenewEvery() time.Duration { return e.o.Renew }

// switchTo stops the current duties and starts those of term (0: follow).
// Called with mu held.
func (e *Elector) switchTo(term int64) {
	if e.stop != nil {
		e.stop()
		<-e.done
	}
	if e.started && term != e.cur {
		e.changes.Inc()
	}
	e.cur, e.started = term, true
	ctx, cancel := context.WithCancel(context.Background())
	e.stop, e.done = cancel, make(chan struct{})
	done := e.done
	if term != 0 {
		e.leader.Set(1)
		e.term.Set(float64(term))
		e.o.Log.Info("this replica is the leader", "term", term, "holder", e.o.Holder)
		go func() { defer close(done); e.o.Lead(ctx, term) }()
		return
	}
	e.leader.Set(0)
	e.o.Log.Info("this replica follows", "holder", e.o.Holder)
	if e.o.Follow == nil {
		close(done)
		return
	}
	go func() { defer close(done); e.o.Follow(ctx) }()
}

// Run campaigns every Renew (with a little jitter, so followers do not
// stampede) until ctx ends; then it stops the duties and releases the
// lease, so another replica takes over at its next attempt.
func (e *Elector) Run(ctx context.Context) {
	for {
		wait := e.o.Renew - time.Duration(rand.Int64N(int64(e.o.Renew/10)+1))
		select {
		case <-ctx.Done():
			e.Resign()
			return
		case <-time.After(wait):
		}
		e.Campaign(ctx)
	}
}

// Resign stops the duties and, if leading, releases the lease (Run does
// when its context ends; call it yourself if Run never ran).
func (e *Elector) Resign() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stop != nil {
		e.stop()
		<-e.done
		e.stop = nil
	}
	if e.cur == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.o.Renew)
	defer cancel()
	if err := e.o.Lease.ReleaseLease(ctx, e.o.Holder); err != nil {
		e.o.Log.Warn("releasing the leader lease failed; another replica takes over when it expires", "err", err)
	} else {
		e.o.Log.Info("released the leader lease", "term", e.cur)
	}
	e.cur = 0
	e.leader.Set(0)
}

// Leading is the term held, and whether one is.
func (e *Elector) Leading() (int64, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cur, e.cur != 0
}
