package store

import (
	"context"
	"time"

	"github.com/outcry/outcry/models"
)

// CreateWebhook stores a new subscription (w is complete: ID, secret, times).
func (s *Store) CreateWebhook(ctx context.Context, w *models.Webhook) error {
	return translate(s.w.WithContext(ctx).Create(w).Error, "webhook "+w.ID)
}

// Webhooks lists every subscription, oldest first.
func (s *Store) Webhooks(ctx context.Context) ([]models.Webhook, error) {
	var out []models.Webhook
	return out, translate(s.r.WithContext(ctx).Order("created_at, id").Find(&out).Error, "webhooks")
}

// Webhook is one subscription.
func (s *Store) Webhook(ctx context.Context, id string) (models.Webhook, error) {
	return webhookByID(s.r.WithContext(ctx), id)
}

func webhookByID(db *gormDB, id string) (models.Webhook, error) {
	var w models.Webhook
	return w, translate(db.Where("id = ?", id).Take(&w).Error, "webhook "+id)
}

// UpdateWebhook changes a subscription in one transaction: change edits the
// stored row (and may refuse with an error); when the change disables the
// subscription its pending deliveries fail.
func (s *Store) UpdateWebhook(ctx context.Context, id string, change func(*models.Webhook) error) (models.Webhook, error) {
	var w models.Webhook
	err := s.w.WithContext(ctx).Transaction(func(tx *gormDB) error {
		var err error
		if w, err = webhookByID(tx, id); err != nil {
			return err
		}
		wasDisabled := w.Disabled
		if err := change(&w); err != nil {
			return err
		}
		err = tx.Model(&w).Select("url", "services", "events", "description", "format", "secret", "previous_secret",
			"previous_secret_expires", "disabled", "disabled_at", "disabled_reason", "updated_at").Updates(&w).Error
		if err != nil || wasDisabled || !w.Disabled {
			return err
		}
		return failPending(tx, w.ID, w.UpdatedAt)
	})
	return w, translate(err, "webhook "+id)
}

// DeleteWebhook removes a subscription with its deliveries and their log.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	return translate(s.w.WithContext(ctx).Transaction(func(tx *gormDB) error {
		if _, err := webhookByID(tx, id); err != nil {
			return err
		}
		ds := tx.Model(&models.Delivery{}).Select("id").Where("webhook_id = ?", id)
		if err := tx.Where("delivery_id IN (?)", ds).Delete(&models.Attempt{}).Error; err != nil {
			return err
		}
		if err := tx.Where("webhook_id = ?", id).Delete(&models.Delivery{}).Error; err != nil {
			return err
		}
		return tx.Where("id = ?", id).Delete(&models.Webhook{}).Error
	}), "webhook "+id)
}

// AddEvent puts an event into the outbox (a ping; incident events are
// written by ApplyIncident in the incident's own transaction).
func (s *Store) AddEvent(ctx context.Context, ev *models.Event) error {
	return translate(s.w.WithContext(ctx).Create(ev).Error, "event "+ev.ID)
}

// Deliveries are a subscription's latest deliveries, newest first, each
// with its attempts in order.
func (s *Store) Deliveries(ctx context.Context, webhookID string, limit int) ([]models.Delivery, error) {
	db := s.r.WithContext(ctx)
	if _, err := webhookByID(db, webhookID); err != nil {
		return nil, err
	}
	var out []models.Delivery
	err := db.Where("webhook_id = ?", webhookID).Order("created_at DESC, id DESC").Limit(limit).
		Preload("Log", func(db *gormDB) *gormDB { return db.Order("n, id") }).Find(&out).Error
	return out, translate(err, "deliveries")
}

// Delivery is one delivery with its attempts in order.
func (s *Store) Delivery(ctx context.Context, id string) (models.Delivery, error) {
	var d models.Delivery
	err := s.r.WithContext(ctx).Preload("Log", func(db *gormDB) *gormDB { return db.Order("n, id") }).
		Where("id = ?", id).Take(&d).Error
	return d, translate(err, "delivery "+id)
}

// Redeliver makes a delivery pending again at now with a fresh retry
// window, after check (given the delivery and its subscription) allows it.
func (s *Store) Redeliver(ctx context.Context, id string, now time.Time, check func(models.Delivery, models.Webhook) error) (models.Delivery, error) {
	var d models.Delivery
	err := s.w.WithContext(ctx).Transaction(func(tx *gormDB) error {
		if err := tx.Where("id = ?", id).Take(&d).Error; err != nil {
			return translate(err, "delivery "+id)
		}
		w, err := webhookByID(tx, d.WebhookID)
		if err != nil {
			return err
		}
		if err := check(d, w); err != nil {
			return err
		}
		d.Status, d.NextAttemptAt, d.FirstAttemptAt, d.UpdatedAt = models.DeliveryPending, now, nil, now
		if err := tx.Model(&d).Select("status", "next_attempt_at", "first_attempt_at", "updated_at").Updates(&d).Error; err != nil {
			return err
		}
		// The answer shows the attempts so far, as GET …/deliveries does.
		return tx.Where("delivery_id = ?", d.ID).Order("n, id").Find(&d.Log).Error
	})
	return d, translate(err, "delivery "+id)
}

// failPending gives up on a disabled subscription's pending deliveries;
// they can be redelivered once it is enabled again.
func failPending(tx *gormDB, webhookID string, at time.Time) error {
	return tx.Model(&models.Delivery{}).Where("webhook_id = ? AND status = ?", webhookID, models.DeliveryPending).
		Updates(map[string]any{"status": models.DeliveryFailed, "last_error": "subscription disabled", "updated_at": at}).Error
}
