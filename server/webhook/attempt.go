package webhook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"gorm.io/gorm"

	"github.com/outcry/outcry/models"
)

// maxErrorLen bounds the error text kept per attempt.
const maxErrorLen = 500

// result is what one attempt came to.
type result struct {
	n       int
	at      time.Time
	first   time.Time
	code    int
	latency time.Duration
	errText string
	outcome models.AttemptOutcome
	next    time.Time // when outcome is retry
	giveUp  bool      // out of retries: the subscription may have to be disabled
}

// attempt POSTs one delivery and records what came of it. If Close aborts
// it, the delivery is released untouched for the next start.
func (s *Service) attempt(j job) {
	at := s.now().UTC()
	r := result{n: j.d.Attempts + 1, at: at, first: at}
	if j.d.FirstAttemptAt != nil {
		r.first = j.d.FirstAttemptAt.UTC()
	}
	var hdr http.Header
	var err error
	gone := j.hook == nil || j.ev == nil || (j.hook.Disabled && j.ev.Target == "")
	switch {
	case j.hook == nil || j.ev == nil:
		err = fmt.Errorf("the subscription or event no longer exists")
	case gone:
		err = fmt.Errorf("subscription disabled")
	default:
		start := time.Now()
		r.code, hdr, err = s.post(j, at)
		r.latency = time.Since(start)
		if s.attemptCtx.Err() != nil {
			s.release(j.d)
			return
		}
	}
	s.judge(&r, hdr, err, gone)
	s.m.attempts.WithLabelValues(string(r.outcome)).Inc()
	if r.latency > 0 {
		s.m.latency.Observe(r.latency.Seconds())
	}
	level := s.log.Debug
	if r.outcome != models.OutcomeSucceeded {
		level = s.log.Warn
	}
	level("webhook attempt", "delivery", j.d.ID, "webhook", j.d.WebhookID, "event", j.d.EventID,
		"attempt", r.n, "status", r.code, "latency", r.latency, "outcome", r.outcome, "err", r.errText)
	if err := s.record(j, r); err != nil {
		s.log.Error("recording a webhook attempt failed", "delivery", j.d.ID, "err", err)
	}
}

// post sends the signed request and drains a little of the answer so the
// connection can be reused.
func (s *Service) post(j job, at time.Time) (int, http.Header, error) {
	body := j.ev.Payload
	if j.hook.Format == models.FormatSlack {
		var err error
		if body, err = slackBody(j.ev); err != nil {
			return 0, nil, err
		}
	}
	ctx, cancel := context.WithTimeout(s.attemptCtx, AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.hook.URL, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.agent)
	if err := sign(req.Header, j.ev.ID, at, body, j.hook.SigningSecrets(at)); err != nil {
		return 0, nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, resp.Header, nil
}

// judge decides the outcome: any 2xx succeeds; a refused destination,
// other 4xx or a gone subscription fail for good; the rest is retried on
// the schedule (or later, if Retry-After asks) until RetryWindow has passed
// since the first attempt.
func (s *Service) judge(r *result, hdr http.Header, err error, gone bool) {
	switch {
	case err == nil && r.code >= 200 && r.code < 300:
		r.outcome = models.OutcomeSucceeded
		return
	case err != nil && refused(err):
		r.outcome, r.errText = models.OutcomeFailed, "refused: "+err.Error()
		return
	case gone:
		r.outcome, r.errText = models.OutcomeFailed, err.Error()
		return
	case err != nil:
		r.errText = err.Error()
	case !retryable(r.code):
		r.outcome, r.errText = models.OutcomeFailed, fmt.Sprintf("HTTP %d %s (not retried)", r.code, http.StatusText(r.code))
		return
	default:
		r.errText = fmt.Sprintf("HTTP %d %s", r.code, http.StatusText(r.code))
	}
	wait := max(s.backoff(r.n), retryAfter(hdr, r.at))
	r.next = r.at.Add(wait)
	if r.next.Sub(r.first) > RetryWindow {
		r.outcome, r.giveUp = models.OutcomeFailed, true
		r.errText += fmt.Sprintf("; gave up after %d attempts over %s", r.n, r.at.Sub(r.first).Round(time.Minute))
		return
	}
	r.outcome = models.OutcomeRetry
}

// record logs the attempt and moves the delivery on, in one transaction;
// giving up on a subscription that has not succeeded since the delivery's
// first attempt disables it.
func (s *Service) record(j job, r result) error {
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
	ctx, cancel := dbCtx()
	defer cancel()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
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
	})
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
