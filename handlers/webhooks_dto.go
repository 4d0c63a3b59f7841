package handlers

import (
	"time"

	"github.com/outcry/outcry/models"
)

// WebhookInput creates (POST) or changes (PATCH: absent fields stay) a
// subscription.
type WebhookInput struct {
	URL         *string   `json:"url"`
	Services    *[]string `json:"services"`
	Events      *[]string `json:"events"`
	Description *string   `json:"description"`
	Format      *string   `json:"format"`
	Disabled    *bool     `json:"disabled"` // PATCH only: false re-enables, true disables
}

// WebhookDTO is a subscription as the admin API shows it: never a secret.
type WebhookDTO struct {
	ID                  string     `json:"id"`
	URL                 string     `json:"url"`
	Services            []string   `json:"services"`
	Events              []string   `json:"events"`
	Description         string     `json:"description"`
	Format              string     `json:"format"`
	Disabled            bool       `json:"disabled"`
	DisabledAt          *time.Time `json:"disabled_at"`
	DisabledReason      string     `json:"disabled_reason"`
	PreviousSecretUntil *time.Time `json:"previous_secret_valid_until"` // during a rotation
	CreatedAt           time.Time  `json:"created_at"`
	UpdatedAt           time.Time  `json:"updated_at"`
}

// WebhookWithSecret is the answer to creating a subscription or rotating
// its secret: the only time the signing secret is shown.
type WebhookWithSecret struct {
	WebhookDTO
	Secret string `json:"secret"`
}

// PingDTO is the answer to a test request.
type PingDTO struct {
	EventID string `json:"event_id"`
	Type    string `json:"type"`
}

// DeliveryDTO is one event's delivery to one subscription with its attempts.
type DeliveryDTO struct {
	ID             string                `json:"id"`
	WebhookID      string                `json:"webhook_id"`
	EventID        string                `json:"event_id"`
	EventType      string                `json:"event_type"`
	Status         models.DeliveryStatus `json:"status"`
	Attempts       int                   `json:"attempts"`
	NextAttemptAt  *time.Time            `json:"next_attempt_at"` // while pending
	LastStatusCode int                   `json:"last_status_code"`
	LastLatencyMS  float64               `json:"last_latency_ms"`
	LastError      string                `json:"last_error"`
	CreatedAt      time.Time             `json:"created_at"`
	UpdatedAt      time.Time             `json:"updated_at"`
	Log            []AttemptDTO          `json:"attempt_log"`
}

// AttemptDTO is one POST of a delivery.
type AttemptDTO struct {
	N           int                   `json:"n"`
	At          time.Time             `json:"at"`
	StatusCode  int                   `json:"status_code"` // 0: no HTTP answer
	LatencyMS   float64               `json:"latency_ms"`
	Error       string                `json:"error"`
	Outcome     models.AttemptOutcome `json:"outcome"`
	NextRetryAt *time.Time            `json:"next_retry_at"`
}

func webhookOf(w models.Webhook, now time.Time) WebhookDTO {
	format := w.Format
	if format == models.FormatStandard {
		format = "json"
	}
	d := WebhookDTO{
		ID: w.ID, URL: w.URL, Services: nonNil(w.Services), Events: nonNil(w.Events), Description: w.Description,
		Format: format, Disabled: w.Disabled, DisabledAt: w.DisabledAt, DisabledReason: w.DisabledReason,
		CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt,
	}
	if len(w.SigningSecrets(now)) > 1 {
		d.PreviousSecretUntil = w.PreviousSecretExpires
	}
	return d
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func deliveryOf(d models.Delivery) DeliveryDTO {
	out := DeliveryDTO{
		ID: d.ID, WebhookID: d.WebhookID, EventID: d.EventID, EventType: d.EventType, Status: d.Status,
		Attempts: d.Attempts, LastStatusCode: d.LastStatusCode, LastLatencyMS: ms(d.LastLatency), LastError: d.LastError,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, Log: make([]AttemptDTO, 0, len(d.Log)),
	}
	if d.Status == models.DeliveryPending {
		next := d.NextAttemptAt
		out.NextAttemptAt = &next
	}
	for _, a := range d.Log {
		out.Log = append(out.Log, AttemptDTO{
			N: a.N, At: a.At, StatusCode: a.StatusCode, LatencyMS: ms(a.Latency), Error: a.Error,
			Outcome: a.Outcome, NextRetryAt: a.NextRetryAt,
		})
	}
	return out
}
