// Package webhook delivers Outcry's events to subscribers: the outbox
// (events written in the incident's own transaction), fan-out into one
// delivery per matching subscription, a bounded pool of workers that sign
// (Standard Webhooks) and POST through an SSRF-safe client, retries with
// backoff for up to three days, and the admin operations on subscriptions.
// Every bit of state lives in the database, so a restart resumes where the
// last process stopped. The SQL is server/store's: this package declares
// what it needs (Store, Outbox) and never sees a driver.
package webhook

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/outcry/outcry/models"
)

// Store keeps subscriptions, deliveries and their attempt logs
// (implemented by server/store).
type Store interface {
	CreateWebhook(ctx context.Context, w *models.Webhook) error
	Webhooks(ctx context.Context) ([]models.Webhook, error)
	Webhook(ctx context.Context, id string) (models.Webhook, error)
	UpdateWebhook(ctx context.Context, id string, change func(*models.Webhook) error) (models.Webhook, error)
	DeleteWebhook(ctx context.Context, id string) error
	AddEvent(ctx context.Context, ev *models.Event) error
	Deliveries(ctx context.Context, webhookID string, limit int) ([]models.Delivery, error)
	Redeliver(ctx context.Context, id string, now time.Time, check func(models.Delivery, models.Webhook) error) (models.Delivery, error)
	RecordAttempts(ctx context.Context, recs []models.AttemptRecord) (disabled []string, err error)
	ReleaseDelivery(ctx context.Context, id, token string) error
	PendingDeliveries(ctx context.Context) (int64, error)
	PruneDeliveries(ctx context.Context, before time.Time) (int64, error)
}

// Outbox is what the dispatcher takes work from. On a cluster it is fenced
// by the leader's term (server/store.Fenced): a dispatcher whose leadership
// has lapsed claims nothing.
type Outbox interface {
	FanOut(ctx context.Context, now time.Time, limit int) (int, error)
	NextDue(ctx context.Context, now time.Time) (time.Time, bool, error)
	ClaimDeliveries(ctx context.Context, c models.Claim) ([]models.ClaimedDelivery, error)
}

// Options configure a Service.
type Options struct {
	AllowPrivate bool                            // deliver to loopback and private addresses (tests, private deployments)
	PublicURL    string                          // where people reach Outcry (the User-Agent, links in a ping)
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
	st      Store
	log     *slog.Logger
	now     func() time.Time
	backoff func(int) time.Duration
	workers int
	allow   bool
	agent   string
	// publicURL is where people reach Outcry (links in a ping).
	publicURL string
	client    *http.Client
	m         *metrics
	wake      chan struct{}
	sem       chan struct{} // one token per worker
	rec       recorder

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

// New builds the service; call Run to deliver and Close to stop.
func New(st Store, opts Options) *Service {
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
		st: st, log: opts.Log, now: opts.Now, backoff: opts.Backoff, workers: opts.Workers,
		allow: opts.AllowPrivate, agent: agent, publicURL: opts.PublicURL, client: newClient(opts.AllowPrivate), m: newMetrics(opts.Metrics),
		wake: make(chan struct{}, 1), sem: make(chan struct{}, opts.Workers), busy: map[string]bool{}, stop: make(chan struct{}),
		attemptCtx: ctx, abort: abort,
	}
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
