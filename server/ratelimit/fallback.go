package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/outcry/outcry/models"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Options are the Limiter's collaborators. All are optional.
type Options struct {
	// Logger receives one warning when Redis becomes unreachable and one
	// info record when it is back. Default: discard.
	Logger *slog.Logger
	// Fallbacks is incremented for every call answered by the in-process
	// twin because Redis failed or is known to be down, e.g. a counter
	// named outcry_limiter_fallbacks_total registered by the caller.
	Fallbacks prometheus.Counter
	// RetryInterval is how often, while degraded, one call tries Redis
	// again; all others go straight to the twin. Default: 1s.
	RetryInterval time.Duration
	// Recall reads the counted reports stored since a moment. With it the
	// twin learns who was counted before Redis went away, and an empty
	// Redis (restarted, failed over) learns who was counted before it
	// lost its data, so nobody is counted twice across a Redis outage.
	Recall Recall
	// RecallWait bounds how long admissions on the twin wait for Recall
	// when Redis has just gone away. Default: 2s.
	RecallWait time.Duration
}

// Limiter is what the server uses with Redis: every call goes to Redis, and
// when Redis fails (refused, timed out, erroring; not when the caller's
// context ends) it answers from the in-process twin instead, with
// Admittance.Degraded set. It fails open: a report is never rejected because
// Redis is down. It recovers by itself.
//
// Nobody is counted twice across an outage. When Redis goes away the twin
// first loads the markers of the reports stored as counted within the
// dedupe window (Options.Recall). Batches Redis runs after their deadline
// are refused by the script, so a batch the Limiter gave up on is never
// also counted by Redis. When Redis answers again, the markers the twin set
// meanwhile go to Redis before Redis takes over again; a report whose
// reporter or network Redis had counted meanwhile (another replica) is
// taken back from the twin's counters. A Redis that lost its data is
// restored from the store before it counts anything (see Redis).
type Limiter struct {
	redis      *Redis
	local      *Local
	log        *slog.Logger
	fallbacks  prometheus.Counter
	retry      time.Duration
	recall     Recall
	recallWait time.Duration

	degraded  atomic.Bool  // set under mu (down); cleared under twin's write lock and mu (up)
	nextProbe atomic.Int64 // unix nanos; while degraded, the next Redis try

	// twin is held shared by every admission on the twin, from its check
	// that Redis is degraded until its journal entry is written, and
	// exclusively by up while it hands the journal to Redis and ends
	// degradation. So no admission counted by the twin can reach the
	// journal after the last hand-over and stay unknown to Redis.
	twin sync.RWMutex

	mu       sync.Mutex
	loaded   chan struct{}  // closed when the twin has recalled the store's markers
	journal  []journalEntry // counted by the twin while degraded
	dropped  int            // journal entries dropped past maxJournal
	recovery sync.Mutex     // one recovery at a time
}

// journalEntry is a report the twin counted while Redis was away.
type journalEntry struct {
	a    models.Admission
	slot int
}

// maxJournal bounds what the twin remembers for Redis while degraded.
const maxJournal = 1 << 20

var (
	_ models.Admitter      = (*Limiter)(nil)
	_ models.CounterReader = (*Limiter)(nil)
)

// New returns a Limiter on rdb that falls back to local. local must be built
// from the same cfg (limits and dedupe window); its deny cache becomes the
// Limiter's, shared by both paths.
func New(rdb redis.UniversalClient, local *Local, cfg Config, opts Options) (*Limiter, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	if rdb == nil || local == nil {
		return nil, errors.New("ratelimit: New needs a Redis client and a Local")
	}
	lc := local.cfg
	if lc.Reporter != cfg.Reporter || lc.Network != cfg.Network || lc.Dedupe != cfg.Dedupe || lc.NetworkEvidence != cfg.NetworkEvidence {
		return nil, errors.New("ratelimit: local was built with other limits than cfg")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = time.Second
	}
	if opts.RecallWait <= 0 {
		opts.RecallWait = 2 * time.Second
	}
	loaded := make(chan struct{})
	close(loaded)
	r := newRedis(rdb, cfg, local.deny, opts.Recall)
	r.twin = local
	return &Limiter{
		redis:      r,
		local:      local,
		log:        opts.Logger,
		fallbacks:  opts.Fallbacks,
		retry:      opts.RetryInterval,
		recall:     opts.Recall,
		recallWait: opts.RecallWait,
		loaded:     loaded,
	}, nil
}

// Admit admits a report through Redis, or through the twin (with
// Admittance.Degraded) while Redis is down. It fails only for an admission
// without reporter or network, or when ctx ends.
func (l *Limiter) Admit(ctx context.Context, a models.Admission) (models.Admittance, error) {
	if err := checkAdmission(a); err != nil {
		return models.Admittance{}, err
	}
	if a.At.IsZero() {
		a.At = l.local.now()
	}
	use, probe := l.useRedis()
	if use {
		if probe && !l.recover(ctx) {
			use = false
		}
	}
	if use {
		d, err := l.redis.admitWith(ctx, a, l.local.lease(a))
		if err == nil {
			if probe {
				l.up(ctx)
			}
			l.tell(a, d)
			return d, nil
		}
		if ctx.Err() != nil {
			return models.Admittance{}, err
		}
		l.down(err)
	}
	return l.admitTwin(ctx, a)
}

// admitTwin admits a on the in-process twin and journals it for Redis. A
// call that finds Redis back (up ended degradation after this call chose
// the twin) goes to Redis instead: once up has handed the journal over,
// nothing more may be counted by the twin alone.
func (l *Limiter) admitTwin(ctx context.Context, a models.Admission) (models.Admittance, error) {
	for {
		l.waitLoaded(ctx)
		l.twin.RLock()
		if l.degraded.Load() {
			break
		}
		l.twin.RUnlock()
		d, err := l.redis.admitWith(ctx, a, l.local.lease(a))
		if err == nil {
			l.tell(a, d)
			return d, nil
		}
		if ctx.Err() != nil {
			return models.Admittance{}, err
		}
		l.down(err)
	}
	defer l.twin.RUnlock()
	l.countFallback()
	d := l.local.admit(a)
	d.Degraded = true
	if d.Slot > 0 {
		l.mu.Lock()
		if len(l.journal) < maxJournal {
			l.journal = append(l.journal, journalEntry{a: a, slot: d.Slot})
		} else {
			l.dropped++
		}
		l.mu.Unlock()
	}
	return d, nil
}

// tell has the twin learn a report Redis counted while the Limiter is
// degraded (a batch answered after Redis was given up, or a probe): the
// twin, which answers meanwhile, must not count its reporter again.
func (l *Limiter) tell(a models.Admission, d models.Admittance) {
	if d.Slot > 0 && l.degraded.Load() {
		l.local.Load([]models.CountedMark{{ServiceID: a.ServiceID, Reporter: a.Reporter, Network: a.Network, At: a.At}})
	}
}

// Undo takes back a counted report that could not be stored, on the path
// that counted it.
func (l *Limiter) Undo(ctx context.Context, a models.Admission, d models.Admittance) error {
	if d.Slot <= 0 {
		return nil
	}
	if d.Degraded {
		l.mu.Lock()
		for i := len(l.journal) - 1; i >= 0; i-- {
			if e := l.journal[i]; e.slot == d.Slot && e.a.Reporter == a.Reporter && e.a.ServiceID == a.ServiceID {
				l.journal = append(l.journal[:i], l.journal[i+1:]...)
				break
			}
		}
		l.mu.Unlock()
		return l.local.Undo(ctx, a, d)
	}
	return l.redis.Undo(ctx, a, d)
}

// Minutes reads Redis's counters merged with the twin's (which hold what was
// counted while degraded), or only the twin's while Redis is down.
func (l *Limiter) Minutes(ctx context.Context, from, to time.Time) ([]models.MinuteCounts, error) {
	local := l.local.minutes(from, to)
	use, probe := l.useRedis()
	if use && probe && !l.recover(ctx) {
		use = false
	}
	if use {
		mc, err := l.redis.Minutes(ctx, from, to)
		if err == nil {
			if probe {
				l.up(ctx)
			}
			return mergeMinutes(mc, local), nil
		}
		if ctx.Err() != nil || models.ErrorCode(err) != models.CodeUnavailable {
			return nil, err
		}
		l.down(err)
	}
	l.countFallback()
	return local, nil
}

// Denied answers a cached denial (from either path) without calling Redis.
func (l *Limiter) Denied(reporter, network string, now time.Time) (models.Admittance, bool) {
	d, ok := l.local.deny.denied(reporter, network, now)
	d.Degraded = ok && l.degraded.Load()
	return d, ok
}

// Degraded reports whether Redis was unreachable at the last try.
func (l *Limiter) Degraded() bool { return l.degraded.Load() }

// State is "ok" while Redis answers and "degraded" while the twin does.
func (l *Limiter) State() string {
	if l.degraded.Load() {
		return "degraded"
	}
	return "ok"
}

// Ping checks that Redis answers. The Limiter keeps working while it does
// not, so a failing Ping means degraded, not down.
func (l *Limiter) Ping(ctx context.Context) error { return l.redis.rdb.Ping(ctx).Err() }

// useRedis says whether to call Redis: always when healthy, and while
// degraded only for the one caller that wins the next retry slot (probe).
func (l *Limiter) useRedis() (use, probe bool) {
	if !l.degraded.Load() {
		return true, false
	}
	now := time.Now().UnixNano()
	next := l.nextProbe.Load()
	if now < next || !l.nextProbe.CompareAndSwap(next, now+int64(l.retry)) {
		return false, false
	}
	return true, true
}

// down records a Redis failure, logging only the transition, and has the
// twin recall who was counted within the dedupe window. The twin's wait
// for that recall is in place before anyone can see the Limiter degraded.
func (l *Limiter) down(err error) {
	if l.degraded.Load() {
		return
	}
	l.mu.Lock()
	if l.degraded.Load() {
		l.mu.Unlock()
		return
	}
	l.nextProbe.Store(time.Now().Add(l.retry).UnixNano())
	loaded := make(chan struct{})
	l.loaded = loaded
	// What Redis counted lately may not be stored yet, so the store's
	// markers miss it: the twin loads it too. A batch Redis answers after
	// this snapshot finds the Limiter degraded and loads its own (Admit).
	recent := l.redis.recent.snapshot(func() { l.degraded.Store(true) })
	l.mu.Unlock()
	l.log.Warn("redis unreachable; rate limits and counters fall back to the in-process limiter",
		"error", err, "retry_every", l.retry)
	go func() {
		defer close(loaded)
		l.local.Load(recent)
		if l.recall == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		marks, err := l.recall(ctx, l.local.now().Add(-l.local.cfg.Dedupe))
		if err != nil {
			l.log.Warn("could not recall counted reports for the in-process limiter; some reporters may be counted twice", "error", err)
			return
		}
		l.local.Load(marks)
	}()
}

// waitLoaded waits (bounded) until the twin knows the store's markers.
func (l *Limiter) waitLoaded(ctx context.Context) {
	l.mu.Lock()
	loaded := l.loaded
	l.mu.Unlock()
	select {
	case <-loaded:
		return
	default:
	}
	t := time.NewTimer(l.recallWait)
	defer t.Stop()
	select {
	case <-loaded:
	case <-t.C:
	case <-ctx.Done():
	}
}

// recover hands what the twin counted while degraded over to Redis before
// Redis takes over again; it reports whether Redis may take over.
func (l *Limiter) recover(ctx context.Context) bool {
	l.recovery.Lock()
	defer l.recovery.Unlock()
	for {
		l.mu.Lock()
		entries := l.journal
		l.journal = nil
		dropped := l.dropped
		l.dropped = 0
		l.mu.Unlock()
		if len(entries) == 0 {
			return true
		}
		if dropped > 0 {
			l.log.Warn("more reports were counted in process while Redis was away than the limiter remembers for it", "dropped", dropped)
		}
		marks := make([]models.CountedMark, len(entries))
		for i, e := range entries {
			marks[i] = models.CountedMark{ServiceID: e.a.ServiceID, Reporter: e.a.Reporter, Network: e.a.Network, At: e.a.At}
		}
		ok, err := l.redis.mark(ctx, marks, false)
		if err != nil {
			l.mu.Lock()
			l.journal = append(entries, l.journal...)
			l.mu.Unlock()
			return false
		}
		taken := 0
		for i, e := range entries {
			if !ok[i] {
				// Redis counted this reporter (or filled this network)
				// meanwhile: the twin's count was a second one.
				l.local.unclaimCounts(e.a)
				taken++
			}
		}
		if taken > 0 {
			l.log.Info("took back reports counted in process that Redis had counted meanwhile", "reports", taken)
		}
	}
}

// up ends degradation after a probe (a call made while degraded) succeeded:
// calls that were in flight when Redis failed prove nothing. It holds the
// twin exclusively, so every admission the twin counted is in the journal,
// hands the journal to Redis, and only then lets Redis take over. If the
// hand-over fails the Limiter stays degraded and the next probe tries again.
func (l *Limiter) up(ctx context.Context) {
	l.twin.Lock()
	defer l.twin.Unlock()
	if !l.degraded.Load() || !l.recover(ctx) {
		return
	}
	l.mu.Lock()
	ended := l.degraded.CompareAndSwap(true, false)
	l.mu.Unlock()
	if ended {
		l.log.Info("redis reachable again; rate limits and counters are back on redis")
	}
}

func (l *Limiter) countFallback() {
	if l.fallbacks != nil {
		l.fallbacks.Inc()
	}
}
