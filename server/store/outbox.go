package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"github.com/outcry/outcry/models"
)

// FanOut turns up to limit events not yet fanned out into one pending
// delivery per subscription that wants each, and marks them, in one
// transaction. The unique (event, webhook) key makes a repeated fan-out
// harmless. It returns how many events it handled.
func (s *Store) FanOut(ctx context.Context, now time.Time, limit int) (int, error) {
	var evs []models.Event
	if err := s.r.WithContext(ctx).Omit("payload").Where("fanned_out = ?", false).
		Order("occurred_at, id").Limit(limit).Find(&evs).Error; err != nil {
		return 0, translate(err, "events")
	}
	if len(evs) == 0 {
		return 0, nil
	}
	var hooks []models.Webhook
	if err := s.r.WithContext(ctx).Find(&hooks).Error; err != nil {
		return 0, translate(err, "webhooks")
	}
	now = now.UTC()
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
	err := s.w.WithContext(ctx).Transaction(func(tx *gormDB) error {
		if len(rows) > 0 {
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 500).Error; err != nil {
				return err
			}
		}
		return tx.Model(&models.Event{}).Where("id IN ?", ids).Update("fanned_out", true).Error
	})
	return len(evs), translate(err, "fan-out")
}

// NextDue is when the earliest pending delivery not yet due at now is due.
func (s *Store) NextDue(ctx context.Context, now time.Time) (time.Time, bool, error) {
	var next []time.Time
	err := s.r.WithContext(ctx).Model(&models.Delivery{}).
		Where("status = ? AND next_attempt_at > ?", models.DeliveryPending, now.UTC()).
		Order("next_attempt_at").Limit(1).Pluck("next_attempt_at", &next).Error
	if err != nil || len(next) == 0 {
		return time.Time{}, false, translate(err, "deliveries")
	}
	return next[0], true, nil
}

// ClaimDeliveries reserves due deliveries (see models.Claim) and loads what
// their attempts need. The claim is one conditional UPDATE with a fresh
// token, so two claimers never take the same delivery.
func (s *Store) ClaimDeliveries(ctx context.Context, c models.Claim) ([]models.ClaimedDelivery, error) {
	return s.claim(ctx, c, nil)
}

// claim is ClaimDeliveries with the reserving UPDATE run in a transaction
// that first passes check (the leader's fence), when check is set.
func (s *Store) claim(ctx context.Context, c models.Claim, check func(tx *gormDB) error) ([]models.ClaimedDelivery, error) {
	now := c.Now.UTC()
	due := func(q *gormDB) *gormDB {
		return q.Where("status = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)", models.DeliveryPending, now, now)
	}
	var cands []struct{ ID, WebhookID string }
	q := due(s.r.WithContext(ctx).Model(&models.Delivery{}).Select("id, webhook_id"))
	if len(c.Busy) > 0 {
		q = q.Where("webhook_id NOT IN ?", c.Busy)
	}
	if err := q.Order("next_attempt_at, id").Limit(c.Max * 4).Scan(&cands).Error; err != nil {
		return nil, translate(err, "deliveries")
	}
	seen := map[string]bool{}
	var ids []string
	for _, cd := range cands {
		if !seen[cd.WebhookID] && len(ids) < c.Max {
			seen[cd.WebhookID] = true
			ids = append(ids, cd.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	err := s.w.WithContext(ctx).Transaction(func(tx *gormDB) error {
		if check != nil {
			if err := check(tx); err != nil {
				return err
			}
		}
		return due(tx.Model(&models.Delivery{}).Where("id IN ?", ids)).
			Updates(map[string]any{"lease_until": now.Add(c.Lease), "lease_token": c.Token}).Error
	})
	if err != nil {
		return nil, translate(err, "claim")
	}
	// Claimed: from here on a cancelled ctx must not strand the leases.
	ctx, cancel := bookkeeping()
	defer cancel()
	jobs, err := s.claimed(ctx, c.Token)
	if err != nil {
		if e := s.ReleaseClaim(ctx, c.Token); e != nil {
			s.log.Warn("releasing claimed webhook deliveries failed", "err", e)
		}
	}
	return jobs, err
}

// claimed loads the deliveries claimed under token with their
// subscriptions and events.
func (s *Store) claimed(ctx context.Context, token string) ([]models.ClaimedDelivery, error) {
	db := s.w.WithContext(ctx) // the writer: the claim was just committed there
	var ds []models.Delivery
	if err := db.Where("lease_token = ?", token).Find(&ds).Error; err != nil {
		return nil, translate(err, "deliveries")
	}
	if len(ds) == 0 {
		return nil, nil
	}
	hookIDs, evIDs := make([]string, len(ds)), make([]string, len(ds))
	for i, d := range ds {
		hookIDs[i], evIDs[i] = d.WebhookID, d.EventID
	}
	var hooks []models.Webhook
	var evs []models.Event
	if err := db.Where("id IN ?", hookIDs).Find(&hooks).Error; err != nil {
		return nil, translate(err, "webhooks")
	}
	if err := db.Where("id IN ?", evIDs).Find(&evs).Error; err != nil {
		return nil, translate(err, "events")
	}
	hm, em := map[string]*models.Webhook{}, map[string]*models.Event{}
	for i := range hooks {
		hm[hooks[i].ID] = &hooks[i]
	}
	for i := range evs {
		em[evs[i].ID] = &evs[i]
	}
	out := make([]models.ClaimedDelivery, len(ds))
	for i, d := range ds {
		out[i] = models.ClaimedDelivery{Delivery: d, Webhook: hm[d.WebhookID], Event: em[d.EventID]}
	}
	return out, nil
}

// ReleaseClaim hands every delivery claimed under token back untouched.
func (s *Store) ReleaseClaim(ctx context.Context, token string) error {
	err := s.w.WithContext(ctx).Model(&models.Delivery{}).Where("lease_token = ?", token).
		Updates(map[string]any{"lease_until": nil, "lease_token": ""}).Error
	return translate(err, "deliveries")
}

// ReleaseDelivery hands one claimed delivery back untouched (shutdown),
// if token still holds it.
func (s *Store) ReleaseDelivery(ctx context.Context, id, token string) error {
	err := s.w.WithContext(ctx).Model(&models.Delivery{}).Where("id = ? AND lease_token = ?", id, token).
		Updates(map[string]any{"lease_until": nil, "lease_token": ""}).Error
	return translate(err, "delivery "+id)
}

// bookkeeping bounds the writes that must happen even while shutting down.
func bookkeeping() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

// PendingDeliveries counts deliveries waiting for an attempt.
func (s *Store) PendingDeliveries(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.WithContext(ctx).Model(&models.Delivery{}).Where("status = ?", models.DeliveryPending).Count(&n).Error
	return n, translate(err, "deliveries")
}
