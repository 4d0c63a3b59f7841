package webhook

import (
	"context"

	"gorm.io/gorm"

	"github.com/outcry/outcry/models"
)

// Create validates and stores a new subscription with a fresh signing
// secret, which w.Secret holds on return (to be shown once). Whether its
// services exist is the caller's to check.
func (s *Service) Create(ctx context.Context, w *models.Webhook) error {
	if err := s.validate(w); err != nil {
		return err
	}
	now := s.now().UTC()
	w.ID, w.Secret, w.CreatedAt, w.UpdatedAt = models.NewID("wh_", now), models.NewSecret(), now, now
	w.PreviousSecret, w.PreviousSecretExpires = "", nil
	w.Disabled, w.DisabledAt, w.DisabledReason = false, nil, ""
	return notFound(s.db.WithContext(ctx).Create(w).Error, "")
}

func (s *Service) validate(w *models.Webhook) error {
	if err := w.Validate(); err != nil {
		return err
	}
	return checkDestination(w.URL, s.allow)
}

// List is every subscription, oldest first.
func (s *Service) List(ctx context.Context) ([]models.Webhook, error) {
	var out []models.Webhook
	return out, notFound(s.db.WithContext(ctx).Order("created_at, id").Find(&out).Error, "")
}

// Get is one subscription.
func (s *Service) Get(ctx context.Context, id string) (models.Webhook, error) {
	return s.get(s.db.WithContext(ctx), id)
}

func (s *Service) get(db *gorm.DB, id string) (models.Webhook, error) {
	var w models.Webhook
	return w, notFound(db.Where("id = ?", id).Take(&w).Error, "no webhook %q", id)
}

// Update changes a subscription; re-enabling one (Disabled: false) lets
// new events reach it again (failed deliveries can be redelivered).
func (s *Service) Update(ctx context.Context, id string, p models.WebhookPatch) (models.Webhook, error) {
	var w models.Webhook
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if w, err = s.get(tx, id); err != nil {
			return err
		}
		wasDisabled := w.Disabled
		now := s.now().UTC()
		w.Apply(p, now)
		if err := s.validate(&w); err != nil {
			return err
		}
		w.UpdatedAt = now
		err = tx.Model(&w).Select("url", "services", "events", "description", "format",
			"disabled", "disabled_at", "disabled_reason", "updated_at").Updates(&w).Error
		if err != nil || wasDisabled || !w.Disabled {
			return err
		}
		return failPending(tx, w.ID, now)
	})
	return w, notFound(err, "")
}

// Delete removes a subscription with its deliveries and their log.
func (s *Service) Delete(ctx context.Context, id string) error {
	return notFound(s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := s.get(tx, id); err != nil {
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
	}), "")
}

// RotateSecret gives a subscription a new signing secret (in the returned
// Secret, to be shown once); the old one keeps signing beside it for
// models.RotationOverlap.
func (s *Service) RotateSecret(ctx context.Context, id string) (models.Webhook, error) {
	var w models.Webhook
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if w, err = s.get(tx, id); err != nil {
			return err
		}
		now := s.now().UTC()
		w.Rotate(now)
		w.UpdatedAt = now
		return tx.Model(&w).Select("secret", "previous_secret", "previous_secret_expires", "updated_at").Updates(&w).Error
	})
	return w, notFound(err, "")
}

// SendTest queues a ping event for one subscription and wakes the
// dispatcher.
func (s *Service) SendTest(ctx context.Context, id string) (models.Event, error) {
	w, err := s.Get(ctx, id)
	if err != nil {
		return models.Event{}, err
	}
	if w.Disabled {
		return models.Event{}, models.Errorf(models.CodeConflict, "webhook %s is disabled; enable it first (PATCH {\"disabled\": false})", id)
	}
	ev, err := models.NewPingEvent(id, s.now())
	if err != nil {
		return ev, err
	}
	if err := s.db.WithContext(ctx).Create(&ev).Error; err != nil {
		return ev, notFound(err, "")
	}
	s.Notify()
	return ev, nil
}

// Deliveries are a subscription's latest deliveries, newest first, each
// with its attempts in order.
func (s *Service) Deliveries(ctx context.Context, webhookID string, limit int) ([]models.Delivery, error) {
	if _, err := s.Get(ctx, webhookID); err != nil {
		return nil, err
	}
	var out []models.Delivery
	err := s.db.WithContext(ctx).Where("webhook_id = ?", webhookID).Order("created_at DESC, id DESC").Limit(limit).
		Preload("Log", func(db *gorm.DB) *gorm.DB { return db.Order("n, id") }).Find(&out).Error
	return out, notFound(err, "")
}

// Redeliver sends a delivery again, as a new attempt of the same event (the
// same webhook-id), with a fresh retry window.
func (s *Service) Redeliver(ctx context.Context, id string) (models.Delivery, error) {
	var d models.Delivery
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", id).Take(&d).Error; err != nil {
			return notFound(err, "no delivery %q", id)
		}
		w, err := s.get(tx, d.WebhookID)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		switch {
		case w.Disabled:
			return models.Errorf(models.CodeConflict, "webhook %s is disabled; enable it first (PATCH {\"disabled\": false})", w.ID)
		case d.LeaseUntil != nil && d.LeaseUntil.After(now):
			return models.Errorf(models.CodeConflict, "delivery %s is being attempted right now", id)
		}
		d.Status, d.NextAttemptAt, d.FirstAttemptAt, d.UpdatedAt = models.DeliveryPending, now, nil, now
		return tx.Model(&d).Select("status", "next_attempt_at", "first_attempt_at", "updated_at").Updates(&d).Error
	})
	if err != nil {
		return d, notFound(err, "")
	}
	s.Notify()
	return d, nil
}
