package store

import (
	"context"
	"time"

	"github.com/outcry/outcry/models"
)

// RecordAttempts writes finished attempts in one transaction: each moves
// its delivery on, if the claim's lease token still holds it, and then
// logs the attempt (an attempt whose claim was lost meanwhile is dropped,
// not logged against a delivery someone else owns). It returns the
// subscriptions it disabled for giving up.
func (s *Store) RecordAttempts(ctx context.Context, recs []models.AttemptRecord) (disabled []string, err error) {
	err = s.w.WithContext(ctx).Transaction(func(tx *gormDB) error {
		disabled = disabled[:0]
		for _, r := range recs {
			off, err := recordAttempt(tx, r)
			if err != nil {
				return err
			}
			if off {
				disabled = append(disabled, r.WebhookID)
			}
		}
		return nil
	})
	return disabled, translate(err, "attempts")
}

func recordAttempt(tx *gormDB, r models.AttemptRecord) (disabled bool, err error) {
	a := r.Attempt
	a.DeliveryID = r.DeliveryID
	res := tx.Model(&models.Delivery{}).Where("id = ? AND lease_token = ?", r.DeliveryID, r.LeaseToken).Updates(map[string]any{
		"status": r.Status, "attempts": a.N, "next_attempt_at": r.NextAttemptAt, "first_attempt_at": r.FirstAttemptAt,
		"lease_until": nil, "lease_token": "", "last_status_code": a.StatusCode, "last_latency": a.Latency,
		"last_error": a.Error, "updated_at": a.At,
	})
	if res.Error != nil || res.RowsAffected == 0 {
		return false, res.Error
	}
	if err := tx.Create(&a).Error; err != nil {
		return false, err
	}
	if !r.GiveUp {
		return false, nil
	}
	var ok int64
	err = tx.Model(&models.Attempt{}).Joins("JOIN deliveries ON deliveries.id = attempts.delivery_id").
		Where("deliveries.webhook_id = ? AND attempts.outcome = ? AND attempts.at >= ?", r.WebhookID, models.OutcomeSucceeded, r.FirstAttemptAt).
		Count(&ok).Error
	if err != nil || ok > 0 {
		return false, err
	}
	res = tx.Model(&models.Webhook{}).Where("id = ? AND disabled = ?", r.WebhookID, false).
		Updates(map[string]any{"disabled": true, "disabled_at": a.At, "disabled_reason": r.DisableReason, "updated_at": a.At})
	if res.Error != nil {
		return false, res.Error
	}
	return res.RowsAffected > 0, failPending(tx, r.WebhookID, a.At)
}

// PruneDeliveries deletes finished deliveries (with their attempt logs)
// last touched before before, and events older than that nobody still
// waits for. Pending deliveries and their events are kept, however old. It
// returns the number of deliveries deleted.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	before = before.UTC()
	var n int64
	err := s.w.WithContext(ctx).Transaction(func(tx *gormDB) error {
		done := tx.Model(&models.Delivery{}).Select("id").Where("status <> ? AND updated_at < ?", models.DeliveryPending, before)
		if err := tx.Where("delivery_id IN (?)", done).Delete(&models.Attempt{}).Error; err != nil {
			return err
		}
		res := tx.Where("status <> ? AND updated_at < ?", models.DeliveryPending, before).Delete(&models.Delivery{})
		if res.Error != nil {
			return res.Error
		}
		n = res.RowsAffected
		waited := tx.Model(&models.Delivery{}).Select("event_id")
		return tx.Where("fanned_out = ? AND occurred_at < ? AND id NOT IN (?)", true, before, waited).Delete(&models.Event{}).Error
	})
	return n, translate(err, "deliveries")
}
