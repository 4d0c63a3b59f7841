package ratelimit

import (
	"context"
	"errors"
	"log/slog"
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
}

// Limiter is what the server uses with Redis: every call goes to Redis, and
// when Redis fails (refused, timed out, erroring; not when the caller's
// context ends) it answers from the in-process twin instead, with
// Admittance.Degraded set. It fails open: a report is never rejected because
// Redis is down. It recovers by itself.
type Limiter struct {
	redis     *Redis
	local     *Local
	log       *slog.Logger
	fallbacks prometheus.Counter
	retry     time.Duration

	degraded  atomic.Bool
	nextProbe atomic.Int64 // unix nanos; while degraded, the next Redis try
}

var (
	_ models.Admitter      = (*Limiter)(nil)
	_ models.CounterReader = (*Limiter)(nil)
)

// New returns a Limiter on rdb that falls back to local. local must be built
// from the same cfg (limits and dedupe window); its deny cache becomes the
// Limiter's, shared by both paths.
func New(rdb *redis.Client, local *Local, cfg Config, opts Options) (*Limiter, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	if rdb == nil || local == nil {
		return nil, errors.New("ratelimit: New needs a Redis client and a Local")
	}
	lc := local.cfg
	if lc.Reporter != cfg.Reporter || lc.Network != cfg.Network || lc.Dedupe != cfg.Dedupe {
		return nil, errors.New("ratelimit: local was built with other limits than cfg")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = time.Second
	}
	return &Limiter{
		redis:     newRedis(rdb, cfg, local.deny),
		local:     local,
		log:       opts.Logger,
		fallbacks: opts.Fallbacks,
		retry:     opts.RetryInterval,
	}, nil
}

// Admit admits a report through Redis, or through the twin (with
// Admittance.Degraded) while Redis is down. It fails only for an admission
// without reporter or network, or when ctx ends.
func (l *Limiter) Admit(ctx context.Context, a models.Admission) (models.Admittance, error) {
	if err := checkAdmission(a); err != nil {
		return models.Admittance{}, err
	}
	use, probe := l.useRedis()
	if use {
		d, err := l.redis.admit(ctx, a)
		if err == nil {
			l.up(probe)
			return d, nil
		}
		if ctx.Err() != nil {
			return models.Admittance{}, err
		}
		l.down(err)
	}
	l.countFallback()
	d := l.local.admit(a)
	d.Degraded = true
	return d, nil
}

// Minutes reads Redis's counters merged with the twin's (which hold what was
// counted while degraded), or only the twin's while Redis is down.
func (l *Limiter) Minutes(ctx context.Context, from, to time.Time) ([]models.MinuteCounts, error) {
	local, _ := l.local.Minutes(ctx, from, to)
	use, probe := l.useRedis()
	if use {
		mc, err := l.redis.Minutes(ctx, from, to)
		if err == nil {
			l.up(probe)
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

// Ping checks that Redis answers (for /readyz). The Limiter keeps working
// while it does not, so a failing Ping means degraded, not down.
func (l *Limiter) Ping(ctx context.Context) error { return l.redis.Ping(ctx) }

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

// down records a Redis failure, logging only the transition.
func (l *Limiter) down(err error) {
	if l.degraded.Load() {
		return
	}
	l.nextProbe.Store(time.Now().Add(l.retry).UnixNano())
	if l.degraded.CompareAndSwap(false, true) {
		l.log.Warn("redis unreachable; rate limits and counters fall back to the in-process limiter",
			"error", err, "retry_every", l.retry)
	}
}

// up records a Redis success. Only a probe (a call made while degraded)
// ends degradation: calls that were in flight when Redis failed prove
// nothing.
func (l *Limiter) up(probe bool) {
	if probe && l.degraded.CompareAndSwap(true, false) {
		l.log.Info("redis reachable again; rate limits and counters are back on redis")
	}
}

func (l *Limiter) countFallback() {
	if l.fallbacks != nil {
		l.fallbacks.Inc()
	}
}
