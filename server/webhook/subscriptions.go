package webhook

import (
	"context"

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
	return s.st.CreateWebhook(ctx, w)
}

func (s *Service) validate(w *models.Webhook) error {
	if err := w.Validate(); err != nil {
		return err
	}
	return checkDestination(w.URL, s.allow)
}

// List is every subscription, oldest first.
func (s *Service) List(ctx context.Context) ([]models.Webhook, error) {
	return s.st.Webhooks(ctx)
}

// Get is one subscription.
func (s *Service) Get(ctx context.Context, id string) (models.Webhook, error) {
	return s.st.Webhook(ctx, id)
}

// Update changes a subscription; re-enabling one (Disabled: false) lets
// new events reach it again (failed deliveries can be redelivered), and
// disabling one fails its pending deliveries.
func (s *Service) Update(ctx context.Context, id string, p models.WebhookPatch) (models.Webhook, error) {
	return s.st.UpdateWebhook(ctx, id, func(w *models.Webhook) error {
		now := s.now().UTC()
		w.Apply(p, now)
		if err := s.validate(w); err != nil {
			return err
		}
		w.UpdatedAt = now
		return nil
	})
}

// Delete removes a subscription with its deliveries and their log.
func (s *Service) Delete(ctx context.Context, id string) error {
	return s.st.DeleteWebhook(ctx, id)
}

// RotateSecret gives a subscription a new signing secret (in the returned
// Secret, to be shown once); the old one keeps signing beside it for
// models.RotationOverlap.
func (s *Service) RotateSecret(ctx context.Context, id string) (models.Webhook, error) {
	return s.st.UpdateWebhook(ctx, id, func(w *models.Webhook) error {
		now := s.now().UTC()
		w.Rotate(now)
		w.UpdatedAt = now
		return nil
	})
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
	if err := s.st.AddEvent(ctx, &ev); err != nil {
		return ev, err
	}
	s.Notify()
	return ev, nil
}

// Deliveries are a subscription's latest deliveries, newest first, each
// with its attempts in order.
func (s *Service) Deliveries(ctx context.Context, webhookID string, limit int) ([]models.Delivery, error) {
	return s.st.Deliveries(ctx, webhookID, limit)
}

// Redeliver sends a delivery again, as a new attempt of the same event (the
// same webhook-id), with a fresh retry window.
func (s *Service) Redeliver(ctx context.Context, id string) (models.Delivery, error) {
	now := s.now().UTC()
	d, err := s.st.Redeliver(ctx, id, now, func(d models.Delivery, w models.Webhook) error {
		switch {
		case w.Disabled:
			return models.Errorf(models.CodeConflict, "webhook %s is disabled; enable it first (PATCH {\"disabled\": false})", w.ID)
		case d.LeaseUntil != nil && d.LeaseUntil.After(now):
			return models.Errorf(models.CodeConflict, "delivery %s is being attempted right now", id)
		}
		return nil
	})
	if err != nil {
		return d, err
	}
	s.Notify()
	return d, nil
}
