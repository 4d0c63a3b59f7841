package webhook

import (
	"fmt"
	"sync"
	"time"

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
	recs := make([]models.AttemptRecord, len(batch))
	for i, q := range batch {
		recs[i] = s.toRecord(q.j, q.r)
	}
	disabled, err := s.st.RecordAttempts(ctx, recs)
	if err != nil && len(batch) > 1 {
		for i, q := range batch {
			var off []string
			off, err = s.st.RecordAttempts(ctx, recs[i:i+1])
			s.logDisabled(off, recs[i:i+1])
			q.done <- err
		}
		return
	}
	s.logDisabled(disabled, recs)
	for _, q := range batch {
		q.done <- err
	}
}

// toRecord is what the store writes for one attempt: its log row and where
// the delivery goes next; giving up may disable the subscription.
func (s *Service) toRecord(j job, r result) models.AttemptRecord {
	if len(r.errText) > maxErrorLen {
		r.errText = r.errText[:maxErrorLen]
	}
	rec := models.AttemptRecord{
		DeliveryID: j.d.ID, WebhookID: j.d.WebhookID, LeaseToken: j.token,
		Attempt: models.Attempt{
			DeliveryID: j.d.ID, N: r.n, At: r.at, StatusCode: r.code, Latency: r.latency, Error: r.errText, Outcome: r.outcome,
		},
		Status: models.DeliveryFailed, NextAttemptAt: r.at, FirstAttemptAt: r.first, GiveUp: r.giveUp,
	}
	switch r.outcome {
	case models.OutcomeSucceeded:
		rec.Status = models.DeliverySucceeded
	case models.OutcomeRetry:
		rec.Status, rec.NextAttemptAt = models.DeliveryPending, r.next
		next := r.next
		rec.Attempt.NextRetryAt = &next
	}
	if r.giveUp {
		reason := fmt.Sprintf("deliveries failed for %s (last: %s)", r.at.Sub(r.first).Round(time.Hour), r.errText)
		if len(reason) > maxErrorLen {
			reason = reason[:maxErrorLen]
		}
		rec.DisableReason = reason
	}
	return rec
}

// logDisabled says which subscriptions giving up disabled.
func (s *Service) logDisabled(ids []string, recs []models.AttemptRecord) {
	for _, id := range ids {
		for _, r := range recs {
			if r.WebhookID == id && r.GiveUp {
				s.log.Warn("disabling a webhook subscription", "webhook", id, "reason", r.DisableReason)
				break
			}
		}
	}
}

// release hands an aborted delivery back untouched (shutdown).
func (s *Service) release(j job) {
	ctx, cancel := dbCtx()
	defer cancel()
	if err := s.st.ReleaseDelivery(ctx, j.d.ID, j.token); err != nil {
		s.log.Warn("releasing a webhook delivery failed", "delivery", j.d.ID, "err", err)
	}
}
