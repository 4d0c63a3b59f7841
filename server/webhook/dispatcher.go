package webhook

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/outcry/outcry/models"
)

// claimAhead: up to this many deliveries per worker are claimed at a time
// (and claiming waits while a worker's worth is queued), so claiming costs a
// few transactions per thousand deliveries. The lease covers the wait.
const claimAhead = 4

// fanOutBatch is how many events one fan-out transaction handles.
const fanOutBatch = 100

// Run fans events out and delivers until ctx ends or Close is called. It
// wakes at least every second, and at once on Notify or when a worker frees
// up. Attempts in flight when it returns are Close's to wait for.
func (s *Service) Run(ctx context.Context) {
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
		if err := s.fanOut(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("webhook fan-out failed", "err", err)
		}
		if err := s.dispatch(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("webhook dispatch failed", "err", err)
		}
		if time.Since(lastGauge) >= 5*time.Second {
			lastGauge = time.Now()
			s.countPending(ctx)
		}
		timer.Reset(s.untilNextDue(ctx))
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
func (s *Service) untilNextDue(ctx context.Context) time.Duration {
	now := s.now().UTC()
	var next []time.Time
	err := s.db.WithContext(ctx).Model(&models.Delivery{}).Where("status = ? AND next_attempt_at > ?", models.DeliveryPending, now).
		Order("next_attempt_at").Limit(1).Pluck("next_attempt_at", &next).Error
	if err != nil || len(next) == 0 {
		return time.Second
	}
	return min(max(next[0].Sub(now), time.Millisecond), time.Second)
}

// fanOut turns every event not yet fanned out into one pending delivery per
// subscription that wants it, and marks the event, in one transaction. The
// unique (event, webhook) key makes a repeated fan-out harmless.
func (s *Service) fanOut(ctx context.Context) error {
	for {
		var evs []models.Event
		if err := s.db.WithContext(ctx).Omit("payload").Where("fanned_out = ?", false).
			Order("occurred_at, id").Limit(fanOutBatch).Find(&evs).Error; err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		var hooks []models.Webhook
		if err := s.db.WithContext(ctx).Find(&hooks).Error; err != nil {
			return err
		}
		now := s.now().UTC()
		var rows []models.Delivery
		ids := make([]string, len(evs))
		for i := range evs {
			ids[i] = evs[i].ID
			for j := range hooks {
				if hooks[j].Wants(&evs[i]) {
					rows = append(rows, models.Delivery{
						ID: models.NewID("dlv_", now), EventID: evs[i].ID, WebhookID: hooks[j].ID, EventType: evs[i].Type,
						Status: models.DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now,
					})
				}
			}
		}
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if len(rows) > 0 {
				if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 500).Error; err != nil {
					return err
				}
			}
			return tx.Model(&models.Event{}).Where("id IN ?", ids).Update("fanned_out", true).Error
		})
		if err != nil {
			return err
		}
		if len(evs) < fanOutBatch {
			return nil
		}
	}
}

// job is one claimed delivery with what its attempt needs.
type job struct {
	d    models.Delivery
	hook *models.Webhook // nil if the subscription was deleted meanwhile
	ev   *models.Event
}

// dispatch claims due deliveries for the workers, at most one per
// subscription at a time, and starts their attempts.
func (s *Service) dispatch(ctx context.Context) error {
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
		jobs, err := s.claim(ctx, free, busy)
		if err != nil || len(jobs) == 0 {
			return err
		}
		for _, j := range jobs {
			s.start(j)
		}
	}
}

// claim reserves up to n due deliveries of distinct subscriptions not in
// busy. The claim is one conditional UPDATE with a fresh token, so two
// dispatchers (replicas) never take the same delivery.
func (s *Service) claim(ctx context.Context, n int, busy []string) ([]job, error) {
	now := s.now().UTC()
	due := func(q *gorm.DB) *gorm.DB {
		return q.Where("status = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)", models.DeliveryPending, now, now)
	}
	var cands []struct{ ID, WebhookID string }
	q := due(s.db.WithContext(ctx).Model(&models.Delivery{}).Select("id, webhook_id"))
	if len(busy) > 0 {
		q = q.Where("webhook_id NOT IN ?", busy)
	}
	if err := q.Order("next_attempt_at, id").Limit(n * 4).Scan(&cands).Error; err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var ids []string
	for _, c := range cands {
		if !seen[c.WebhookID] && len(ids) < n {
			seen[c.WebhookID] = true
			ids = append(ids, c.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	token := models.NewID("lease_", now)
	err := due(s.db.WithContext(ctx).Model(&models.Delivery{}).Where("id IN ?", ids)).
		Updates(map[string]any{"lease_until": now.Add(lease), "lease_token": token}).Error
	if err != nil {
		return nil, err
	}
	// Claimed: from here on a cancelled ctx must not strand the leases.
	ctx, cancel := dbCtx()
	defer cancel()
	var ds []models.Delivery
	jobs, err := []job(nil), s.db.WithContext(ctx).Where("lease_token = ?", token).Find(&ds).Error
	if err == nil {
		jobs, err = s.jobsFor(ctx, ds)
	}
	if err != nil {
		if e := s.db.WithContext(ctx).Model(&models.Delivery{}).Where("lease_token = ?", token).
			Updates(map[string]any{"lease_until": nil, "lease_token": ""}).Error; e != nil {
			s.log.Warn("releasing claimed webhook deliveries failed", "err", e)
		}
	}
	return jobs, err
}

// jobsFor loads the subscriptions and events of claimed deliveries.
func (s *Service) jobsFor(ctx context.Context, ds []models.Delivery) ([]job, error) {
	hookIDs, evIDs := make([]string, len(ds)), make([]string, len(ds))
	for i, d := range ds {
		hookIDs[i], evIDs[i] = d.WebhookID, d.EventID
	}
	var hooks []models.Webhook
	var evs []models.Event
	if err := s.db.WithContext(ctx).Where("id IN ?", hookIDs).Find(&hooks).Error; err != nil {
		return nil, err
	}
	if err := s.db.WithContext(ctx).Where("id IN ?", evIDs).Find(&evs).Error; err != nil {
		return nil, err
	}
	hm, em := map[string]*models.Webhook{}, map[string]*models.Event{}
	for i := range hooks {
		hm[hooks[i].ID] = &hooks[i]
	}
	for i := range evs {
		em[evs[i].ID] = &evs[i]
	}
	jobs := make([]job, len(ds))
	for i, d := range ds {
		jobs[i] = job{d: d, hook: hm[d.WebhookID], ev: em[d.EventID]}
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
			s.release(j.d)
			return
		}
		s.mu.Lock()
		s.queued--
		s.mu.Unlock()
		select {
		case <-s.stop: // shutting down: start nothing new
			<-s.sem
			s.release(j.d)
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
	var n int64
	if err := s.db.WithContext(ctx).Model(&models.Delivery{}).Where("status = ?", models.DeliveryPending).Count(&n).Error; err == nil {
		s.m.pending.Set(float64(n))
	}
}
