package webhook

import (
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/outcry/outcry/models"
)

// record logs the attempt and moves the delivery on. Attempts finishing
// together are committed together (group commit: the first waiting worker
// commits for everyone queued behind it), so a burst costs a few
// transactions, not one per attempt.
func (s *Service) record(j job, r result) error {
	req := &recordReq{j: j, r: r, done: make(chan error, 1)}
	s.rec.mu.Lock()
	s.rec.queue = append(s.rec.queue, req)
	if s.rec.leading {
		s.rec.mu.Unlock()
		return <-req.done
	}
	s.rec.leading = true
	for len(s.rec.queue) > 0 {
		if len(s.rec.queue) < s.workers { // let the attempts finishing now join the batch
			s.rec.mu.Unlock()
			time.Sleep(recordLinger)
			s.rec.mu.Lock()
		}
		batch := s.rec.queue
		s.rec.queue = nil
		s.rec.mu.Unlock()
		s.commit(batch)
		s.rec.mu.Lock()
	}
	s.rec.leading = false
	s.rec.mu.Unlock()
	return <-req.done
}

// recordLinger is how long a small batch of results waits for company:
// fewer, larger transactions leave the (single) database connection free
// for claiming sooner.
const recordLinger = 5 * time.Millisecond

// recorder queues attempt results for group commit.
type recorder struct {
	mu      sync.Mutex
	queue   []*recordReq
	leading bool // a worker is committing
}

type recordReq struct {
	j    job
	r    result
	done chan error
}

// commit writes a batch in one transaction; if that fails, each on its own
// so one bad row cannot lose the others.
func (s *Service) commit(batch []*recordReq) {
	ctx, cancel := dbCtx()
	defer cancel()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, q := range batch {
			if err := s.write(tx, q.j, q.r); err != nil {
				return err
			}
		}
		return nil
	})
	for _, q := range batch {
		if err != nil && len(batch) > 1 {
			q.done <- s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return s.write(tx, q.j, q.r) })
			continue
		}
		q.done <- err
	}
}

// write logs one attempt and moves its delivery on; giving up on a
// subscription that has not succeeded since the delivery's first attempt
// disables it.
func (s *Service) write(tx *gorm.DB, j job, r result) error {
	if len(r.errText) > maxErrorLen {
		r.errText = r.errText[:maxErrorLen]
	}
	a := models.Attempt{
		DeliveryID: j.d.ID, N: r.n, At: r.at, StatusCode: r.code, Latency: r.latency, Error: r.errText, Outcome: r.outcome,
	}
	status, next := models.DeliveryFailed, r.at
	switch r.outcome {
	case models.OutcomeSucceeded:
		status = models.DeliverySucceeded
	case models.OutcomeRetry:
		status, next = models.DeliveryPending, r.next
		a.NextRetryAt = &r.next
	}
	if err := tx.Create(&a).Error; err != nil {
		return err
	}
	err := tx.Model(&models.Delivery{}).Where("id = ? AND lease_token = ?", j.d.ID, j.d.LeaseToken).Updates(map[string]any{
		"status": status, "attempts": r.n, "next_attempt_at": next, "first_attempt_at": r.first,
		"lease_until": nil, "lease_token": "", "last_status_code": r.code, "last_latency": r.latency,
		"last_error": r.errText, "updated_at": r.at,
	}).Error
	if err != nil || !r.giveUp {
		return err
	}
	return s.disableIfDead(tx, j.d.WebhookID, r)
}

// disableIfDead disables a subscription none of whose deliveries has
// succeeded since r's first attempt, and fails its pending deliveries.
func (s *Service) disableIfDead(tx *gorm.DB, webhookID string, r result) error {
	var ok int64
	err := tx.Model(&models.Attempt{}).Joins("JOIN deliveries ON deliveries.id = attempts.delivery_id").
		Where("deliveries.webhook_id = ? AND attempts.outcome = ? AND attempts.at >= ?", webhookID, models.OutcomeSucceeded, r.first).
		Count(&ok).Error
	if err != nil || ok > 0 {
		return err
	}
	reason := fmt.Sprintf("deliveries failed for %s (last: %s)", r.at.Sub(r.first).Round(time.Hour), r.errText)
	if len(reason) > maxErrorLen {
		reason = reason[:maxErrorLen]
	}
	s.log.Warn("disabling a webhook subscription", "webhook", webhookID, "reason", reason)
	return disable(tx, webhookID, r.at, reason)
}

// disable turns a subscription off and fails its pending deliveries.
func disable(tx *gorm.DB, webhookID string, at time.Time, reason string) error {
	err := tx.Model(&models.Webhook{}).Where("id = ? AND disabled = ?", webhookID, false).
		Updates(map[string]any{"disabled": true, "disabled_at": at, "disabled_reason": reason, "updated_at": at}).Error
	if err != nil {
		return err
	}
	return failPending(tx, webhookID, at)
}

// failPending gives up on a disabled subscription's pending deliveries;
// they can be redelivered once it is enabled again.
func failPending(tx *gorm.DB, webhookID string, at time.Time) error {
	return tx.Model(&models.Delivery{}).Where("webhook_id = ? AND status = ?", webhookID, models.DeliveryPending).
		Updates(map[string]any{"status": models.DeliveryFailed, "last_error": "subscription disabled", "updated_at": at}).Error
}

// release hands an aborted delivery back untouched (shutdown).
func (s *Service) release(d models.Delivery) {
	ctx, cancel := dbCtx()
	defer cancel()
	err := s.db.WithContext(ctx).Model(&models.Delivery{}).Where("id = ? AND lease_token = ?", d.ID, d.LeaseToken).
		Updates(map[string]any{"lease_until": nil, "lease_token": ""}).Error
	if err != nil {
		s.log.Warn("releasing a webhook delivery failed", "delivery", d.ID, "err", err)
	}
}
