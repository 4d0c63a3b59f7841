package webhook

import (
	"context"
	"time"

	"github.com/outcry/outcry/models"
)

// claimAhead: up to this many deliveries per worker are claimed at a time
// (and claiming waits while a worker's worth is queued), so claiming costs a
// few transactions per thousand deliveries. The lease covers the wait.
const claimAhead = 4

// fanOutBatch is how many events one fan-out transaction handles.
const fanOutBatch = 100

// Run fans events out of out and delivers until ctx ends or Close is
// called. It wakes at least every second, and at once on Notify or when a
// worker frees up. Attempts in flight when it returns are Close's to wait
// for. Run may be called again after it returned (a replica that leads
// again), but not twice at once.
func (s *Service) Run(ctx context.Context, out Outbox) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.running.Add(1)
	s.mu.Unlock()
	defer s.running.Done()

	timer := time.NewTimer(time.Second)
	defer timer.Stop()
	var lastGauge time.Time
	for {
		if err := s.fanOut(ctx, out); err != nil && ctx.Err() == nil {
			s.log.Warn("webhook fan-out failed", "err", err)
		}
		if err := s.dispatch(ctx, out); err != nil && ctx.Err() == nil {
			s.log.Warn("webhook dispatch failed", "err", err)
		}
		if now := s.now(); now.Sub(lastGauge) >= 5*time.Second || now.Before(lastGauge) {
			lastGauge = now
			s.countPending(ctx)
		}
		timer.Reset(s.untilNextDue(ctx, out))
		select {
		case <-ctx.Done():
			return
		case <-s.stop:
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// untilNextDue is how long the loop may sleep: until the earliest retry
// that is not yet due, at most a second (other replicas' work, clock
// changes). Due deliveries of busy subscriptions wake it when their worker
// frees up.
func (s *Service) untilNextDue(ctx context.Context, out Outbox) time.Duration {
	now := s.now().UTC()
	next, ok, err := out.NextDue(ctx, now)
	if err != nil || !ok {
		return time.Second
	}
	return min(max(next.Sub(now), time.Millisecond), time.Second)
}

// fanOut turns every event not yet fanned out into one pending delivery per
// subscription that wants it (see store.FanOut), a batch at a time.
func (s *Service) fanOut(ctx context.Context, out Outbox) error {
	for {
		n, err := out.FanOut(ctx, s.now(), fanOutBatch)
		if err != nil || n < fanOutBatch {
			return err
		}
	}
}

// job is one claimed delivery with what its attempt needs.
type job struct {
	d     models.Delivery
	hook  *models.Webhook // nil if the subscription was deleted meanwhile
	ev    *models.Event
	token string // the claim's lease token
}

// dispatch claims due deliveries for the workers, at most one per
// subscription at a time, and starts their attempts.
func (s *Service) dispatch(ctx context.Context, out Outbox) error {
	for {
		s.mu.Lock()
		free := claimAhead*s.workers - len(s.busy)
		if s.queued >= s.workers { // enough work waits for a worker already
			free = 0
		}
		busy := make([]string, 0, len(s.busy))
		for id := range s.busy {
			busy = append(busy, id)
		}
		s.mu.Unlock()
		if free <= 0 {
			return nil
		}
		jobs, err := s.claim(ctx, out, free, busy)
		if err != nil || len(jobs) == 0 {
			return err
		}
		for _, j := range jobs {
			s.start(j)
		}
	}
}

// claim reserves up to n due deliveries of distinct subscriptions not in
// busy, each under a fresh lease token, so two dispatchers never take the
// same delivery.
func (s *Service) claim(ctx context.Context, out Outbox, n int, busy []string) ([]job, error) {
	now := s.now().UTC()
	cl, err := out.ClaimDeliveries(ctx, models.Claim{Now: now, Max: n, Busy: busy, Lease: lease, Token: models.NewID("lease_", now)})
	if err != nil {
		return nil, err
	}
	jobs := make([]job, len(cl))
	for i, c := range cl {
		jobs[i] = job{d: c.Delivery, hook: c.Webhook, ev: c.Event, token: c.Delivery.LeaseToken}
	}
	return jobs, nil
}

// start queues one claimed delivery for a worker.
func (s *Service) start(j job) {
	s.mu.Lock()
	s.busy[j.d.WebhookID] = true
	s.queued++
	s.mu.Unlock()
	s.flight.Add(1)
	go func() {
		defer func() {
			s.mu.Lock()
			delete(s.busy, j.d.WebhookID)
			s.mu.Unlock()
			s.flight.Done()
			s.Notify() // a worker is free
		}()
		select {
		case s.sem <- struct{}{}:
		case <-s.stop:
			s.mu.Lock()
			s.queued--
			s.mu.Unlock()
			s.release(j)
			return
		}
		s.mu.Lock()
		s.queued--
		s.mu.Unlock()
		select {
		case <-s.stop: // shutting down: start nothing new
			<-s.sem
			s.release(j)
			return
		default:
		}
		r, ok := s.attempt(j)
		<-s.sem // the worker is free while the result waits for its group commit
		if !ok {
			return
		}
		if err := s.record(j, r); err != nil {
			s.log.Error("recording a webhook attempt failed", "delivery", j.d.ID, "err", err)
		}
	}()
}

// countPending refreshes the pending gauge.
func (s *Service) countPending(ctx context.Context) {
	if n, err := s.st.PendingDeliveries(ctx); err == nil {
		s.m.pending.Set(float64(n))
	}
}
