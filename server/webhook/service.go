// Package webhook delivers Outcry's events to subscribers: the outbox
// (events written in the incident's own transaction), fan-out into one
// delivery per matching subscription, a bounded pool of workers that sign
// (Standard Webhooks) and POST through an SSRF-safe client, retries with
// backoff for up to three days, and the admin operations on subscriptions.
// Every bit of state lives in the database, so a restart resumes where the
// last process stopped.
package webhook

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"github.com/outcry/outcry/models"
)

// Options configure a Service.
type Options struct {
	AllowPrivate bool                            // deliver to loopback and private addresses (tests, private deployments)
	PublicURL    string                          // where people reach Outcry (for the User-Agent)
	Log          *slog.Logger                    // default slog.Default()
	Now          func() time.Time                // default time.Now
	Workers      int                             // concurrent attempts (default 16); one at a time per subscription
	Metrics      prometheus.Registerer           // where the outcry_webhook_* series go; nil = nowhere
	Backoff      func(attempt int) time.Duration // wait after the n-th failed attempt; default DefaultBackoff
}

// DefaultWorkers is the default size of the delivery pool.
const DefaultWorkers = 16

// lease is how long a claimed delivery stays reserved for the dispatcher
// that claimed it: longer than waiting for a worker and the attempt (at
// most two attempts' time), short enough that a crashed dispatcher's claims
// are taken over soon.
const lease = 6 * AttemptTimeout

// Service is the webhook dispatcher and the subscriptions' admin API.
type Service struct {
	db      *gorm.DB
	log     *slog.Logger
	now     func() time.Time
	backoff func(int) time.Duration
	workers int
	allow   bool
	agent   string
	client  *http.Client
	m       *metrics
	wake    chan struct{}
	sem     chan struct{} // one token per worker
	rec     recorder

	mu      sync.Mutex
	busy    map[string]bool // subscriptions with a delivery claimed here (queued or in flight)
	queued  int             // claimed deliveries waiting for a worker
	stopped bool
	stop    chan struct{}
	running sync.WaitGroup // Run
	flight  sync.WaitGroup // attempts

	attemptCtx context.Context // parent of every attempt; cancelled when Close runs out of time
	abort      context.CancelFunc
}

// New builds the service; call Migrate before using it, Run to deliver and
// Close to stop.
func New(db *gorm.DB, opts Options) *Service {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	agent := "Outcry-Webhooks/1"
	if opts.PublicURL != "" {
		agent += " (+" + opts.PublicURL + ")"
	}
	ctx, abort := context.WithCancel(context.Background())
	return &Service{
		db: db, log: opts.Log, now: opts.Now, backoff: opts.Backoff, workers: opts.Workers,
		allow: opts.AllowPrivate, agent: agent, client: newClient(opts.AllowPrivate), m: newMetrics(opts.Metrics),
		wake: make(chan struct{}, 1), sem: make(chan struct{}, opts.Workers), busy: map[string]bool{}, stop: make(chan struct{}),
		attemptCtx: ctx, abort: abort,
	}
}

// Migrate creates or grows the webhook tables (events, webhooks,
// deliveries, attempts). The events table must exist before anything
// writes an incident event into it.
func (s *Service) Migrate(ctx context.Context) error {
	return s.db.WithContext(ctx).AutoMigrate(&models.Event{}, &models.Webhook{}, &models.Delivery{}, &models.Attempt{})
}

// Notify wakes the dispatcher at once: call it after committing a
// transaction that wrote an event. It never blocks.
func (s *Service) Notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Close stops taking new work and waits for attempts in flight until ctx
// ends; then it aborts them, leaving their deliveries pending for the next
// start. It returns ctx's error if it had to abort.
func (s *Service) Close(ctx context.Context) error {
	s.mu.Lock()
	if !s.stopped {
		s.stopped = true
		close(s.stop)
	}
	s.mu.Unlock()
	s.running.Wait()
	done := make(chan struct{})
	go func() { s.flight.Wait(); close(done) }()
	select {
	case <-done:
		s.abort()
		return nil
	case <-ctx.Done():
		s.abort()
		<-done
		return ctx.Err()
	}
}

// dbCtx bounds the bookkeeping writes that must happen even while shutting
// down (recording an attempt that has been made).
func dbCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

// notFound turns a missing row into a domain error and any other failure
// into an internal one.
func notFound(err error, format string, args ...any) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return models.Errorf(models.CodeNotFound, format, args...)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return models.Wrap(models.CodeUnavailable, err, "the database did not answer in time")
	}
	var me *models.Error
	if errors.As(err, &me) {
		return err
	}
	return models.Wrap(models.CodeInternal, err, "webhook storage")
}
