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
}

// limits is the limiter in force: Redis with the in-process twin as a
// fallback when OUTCRY_REDIS_URL is set, the twin alone otherwise.
type limits struct {
	limiter
	redis *redis.Client
}

func newLimits(ctx context.Context, cfg Config, now func() time.Time, log *slog.Logger, reg prometheus.Registerer) (*limits, error) {
	rc := ratelimit.Config{
		Reporter: cfg.ReporterLimit, Network: cfg.NetworkLimit,
		Dedupe: 15 * time.Minute, CounterTTL: 48 * time.Hour, Prefix: cfg.RedisPrefix,
	}
	local, err := ratelimit.NewLocal(rc, now)
	if err != nil {
		return nil, err
	}
	if cfg.RedisURL == "" {
		return &limits{limiter: local}, nil
	}
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("OUTCRY_REDIS_URL: %w", err)
	}
	// Short timeouts: a slow Redis must turn into the in-process fallback,
	// not into slow reports.
	// go-redis otherwise re-dials 5 times 100 ms apart before failing.
	opt.MaxRetries = 1
	opt.DialerRetries = 1
	opt.DialTimeout = 250 * time.Millisecond
	opt.ReadTimeout = 500 * time.Millisecond
	opt.WriteTimeout = 500 * time.Millisecond
	opt.PoolTimeout = 250 * time.Millisecond
	opt.PoolSize = 32
	opt.MinIdleConns = 4
	rdb := redis.NewClient(opt)
	if err := rdb.Ping(ctx).Err(); err != nil {
		log.Warn("Redis is unreachable at start; using in-process limits until it answers", "err", err)
	}
	fallbacks := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "outcry_limiter_fallbacks_total",
		Help: "Admissions and counter reads answered in-process because Redis was unreachable.",
	})
	reg.MustRegister(fallbacks)
	l, err := ratelimit.New(rdb, local, rc, ratelimit.Options{Logger: log, Fallbacks: fallbacks})
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	return &limits{limiter: l, redis: rdb}, nil
}

// Ping checks Redis (for /readyz).
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
