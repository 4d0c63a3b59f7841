package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/ratelimit"
)

// limiter is what the handlers and the runner need of rate limiting and
// counting; ratelimit.Local and ratelimit.Limiter both are one.
type limiter interface {
	models.Admitter
	models.CounterReader
	Denied(reporter, network string, now time.Time) (models.Admittance, bool)
	Undo(ctx context.Context, a models.Admission, d models.Admittance) error
}

// limits is the limiter in force: Redis with the in-process twin as a
// fallback when OUTCRY_REDIS_URL is set, the twin alone otherwise.
type limits struct {
	limiter
	redis redis.UniversalClient
	state func() string
}

// newLimits builds the limiter. recall reads the reports stored as counted
// since a moment: the twin learns them at start (no Redis: a restart
// forgets nobody) and whenever Redis goes away, and an empty Redis learns
// them before it counts anything.
func newLimits(ctx context.Context, cfg Config, now func() time.Time, log *slog.Logger, reg prometheus.Registerer, recall ratelimit.Recall) (*limits, error) {
	rc := ratelimit.Config{
		Reporter: cfg.ReporterLimit, Network: cfg.NetworkLimit, NetworkEvidence: cfg.NetworkEvidence,
		Dedupe: 15 * time.Minute, CounterTTL: 48 * time.Hour, Prefix: cfg.RedisPrefix,
	}
	if cfg.RedisURL == "" {
		local, err := ratelimit.NewLocal(rc, now)
		if err != nil {
			return nil, err
		}
		marks, err := recall(ctx, now().Add(-rc.Dedupe))
		if err != nil {
			return nil, fmt.Errorf("restoring who was counted in the last %s: %w", rc.Dedupe, err)
		}
		local.Load(marks)
		return &limits{limiter: local, state: func() string { return "off" }}, nil
	}
	ratelimit.RouteRedisLog(log)
	rdb, shards, err := ratelimit.Dial(cfg.RedisURL, ratelimit.DefaultTimeouts())
	if err != nil {
		return nil, fmt.Errorf("OUTCRY_REDIS_URL: %w", err)
	}
	rc.Shards = shards
	local, err := ratelimit.NewLocal(rc, now)
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	if err := rdb.Ping(ctx).Err(); err != nil {
		log.Warn("Redis is unreachable at start; using in-process limits until it answers", "err", err)
	}
	fallbacks := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "outcry_limiter_fallbacks_total",
		Help: "Admissions and counter reads answered in-process because Redis was unreachable.",
	})
	reg.MustRegister(fallbacks)
	l, err := ratelimit.New(rdb, local, rc, ratelimit.Options{Logger: log, Fallbacks: fallbacks, Recall: recall})
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	return &limits{limiter: l, redis: rdb, state: l.State}, nil
}

// State is "ok" while Redis answers, "degraded" while the in-process
// limiter stands in for it (reports are still taken), and "off" without
// Redis.
func (l *limits) State() string { return l.state() }

// Ping checks Redis (for /readyz). A failing Ping means degraded, not down:
// see State.
func (l *limits) Ping(ctx context.Context) error {
	if l.redis == nil {
		return nil
	}
	return l.redis.Ping(ctx).Err()
}

// Close closes the Redis client.
func (l *limits) Close() error {
	if l.redis == nil {
		return nil
	}
	return l.redis.Close()
}
