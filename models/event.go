package models

import (
	"encoding/json"
	"time"

	"github.com/oklog/ulid/v2"
)

// Event types a webhook subscription can receive. Ping is sent on request
// (POST /api/v1/webhooks/{id}/test) and only to that subscription.
const (
	EventIncidentOpened   = "incident.opened"
	EventIncidentUpdated  = "incident.updated"
	EventIncidentResolved = "incident.resolved"
	EventPing             = "ping"
)

// IncidentEventTypes are the event types subscriptions may filter on.
var IncidentEventTypes = []string{EventIncidentOpened, EventIncidentUpdated, EventIncidentResolved}

// PayloadVersion is the version of the webhook JSON contract
// (docs/webhooks.md, docs/openapi-webhooks.yaml). It changes only with a
// breaking change; fields may be added within a version.
const PayloadVersion = "2026-11-01"

// Event is one thing that happened that subscribers hear about: the outbox
// row written in the same transaction as the incident change it announces.
// Its ID is the webhook-id header of every delivery and every retry of it.
type Event struct {
	ID          string    `gorm:"primaryKey;size:40;index:idx_events_service_id,priority:2"`
	Type        string    `gorm:"size:32;not null"`
	ServiceID   uint      `gorm:"not null;default:0;index:idx_events_service_id,priority:1"` // a service's feed reads its events by this index
	ServiceSlug string    `gorm:"size:64;not null;default:''"`                               // subscriptions filter on slugs
	IncidentID  uint64    `gorm:"not null;default:0"`
	Target      string    `gorm:"size:40;not null;default:''"` // a webhook id: only that subscription gets it (ping)
	Payload     []byte    `gorm:"not null"`                    // the JSON body (EventEnvelope), built once
	OccurredAt  time.Time `gorm:"not null"`
	FannedOut   bool      `gorm:"not null;default:false;index"` // delivery rows exist for every matching subscription
	Term        int64     `gorm:"not null;default:0"`           // the leader's term (fencing token) it was written under; 0 if unfenced
	CreatedAt   time.Time
}

// EventEnvelope is the versioned JSON body of every standard-format delivery.
type EventEnvelope struct {
	Version    string    `json:"version"`
	Type       string    `json:"type"`
	ID         string    `json:"id"`
	OccurredAt time.Time `json:"occurred_at"`
	Data       EventData `json:"data"`
}

// EventData is what the event is about: an incident, or for a ping the
// subscription being tested.
type EventData struct {
	Incident *IncidentPayload `json:"incident,omitempty"`
	Ping     *PingPayload     `json:"ping,omitempty"`
}

// ServiceRef names a service in a payload.
type ServiceRef struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// IncidentPayload is an incident as webhooks describe it.
type IncidentPayload struct {
	ID            uint64     `json:"id"`
	Service       ServiceRef `json:"service"`
	Scope         string     `json:"scope"`
	Level         Level      `json:"level"`
	StartedAt     time.Time  `json:"started_at"`
	ResolvedAt    *time.Time `json:"resolved_at"`
	WindowSeconds int        `json:"window_seconds"`
	Expected      float64    `json:"expected"`
	Actual        float64    `json:"actual"`
	Ratio         float64    `json:"ratio"`
	Significance  float64    `json:"significance"`
	Rule          string     `json:"rule"`
	TopProblems   []Share    `json:"top_problems"`
	TopRegions    []Share    `json:"top_regions"`
	StatusURL     string     `json:"status_url"`
	// When the detector opened the incident; when the service's official
	// status page first acknowledged the problem, and how many seconds after
	// the incident was opened (positive: the crowd was ahead); both null
	// until it has.
	OpenedAt               time.Time  `json:"opened_at"`
	OfficialAcknowledgedAt *time.Time `json:"official_acknowledged_at"`
	LeadSeconds            *int64     `json:"lead_seconds"`
	// The correlation group the incident was in when the event was written
	// (incidents of several services that began within CorrelationWindow:
	// a possible common cause), or null.
	Correlation *uint64 `json:"correlation"`
}

// PingPayload is the body of a test delivery.
type PingPayload struct {
	WebhookID string `json:"webhook_id"`
	Message   string `json:"message"`
}

// NewIncidentEvent builds the event announcing an incident change (typ is
// one of IncidentEventTypes) with its payload; publicURL is where people
// reach Outcry (the status page is publicURL+"/s/"+slug).
func NewIncidentEvent(typ string, svc Service, inc Incident, publicURL string, at time.Time) (Event, error) {
	if !isIncidentEvent(typ) {
		return Event{}, Errorf(CodeInvalid, "unknown incident event type %q", typ)
	}
	at = at.UTC()
	ev := Event{ID: NewID("evt_", at), Type: typ, ServiceID: svc.ID, ServiceSlug: svc.Slug, IncidentID: inc.ID, OccurredAt: at}
	p := &IncidentPayload{
		ID: inc.ID, Service: ServiceRef{Slug: svc.Slug, Name: svc.Name}, Scope: inc.Scope, Level: inc.Level,
		StartedAt: inc.StartedAt.UTC(), ResolvedAt: utcPtr(inc.ResolvedAt), WindowSeconds: int(inc.Window.Seconds()),
		Expected: inc.Expected, Actual: inc.Actual, Ratio: inc.Ratio, Significance: inc.Significance, Rule: inc.Rule,
		TopProblems: sharesOrEmpty(inc.TopProblems), TopRegions: sharesOrEmpty(inc.TopRegions),
		StatusURL: publicURL + "/s/" + svc.Slug,
		OpenedAt:  inc.Opened().UTC(), OfficialAcknowledgedAt: utcPtr(inc.OfficialAcknowledgedAt), LeadSeconds: inc.LeadSeconds(),
		Correlation: inc.CorrelationID,
	}
	return ev, ev.setPayload(EventData{Incident: p})
}

// NewPingEvent builds a test event for one subscription.
func NewPingEvent(webhookID string, at time.Time) (Event, error) {
	at = at.UTC()
	ev := Event{ID: NewID("evt_", at), Type: EventPing, Target: webhookID, OccurredAt: at}
	return ev, ev.setPayload(EventData{Ping: &PingPayload{WebhookID: webhookID, Message: "Hello from Outcry: this subscription works."}})
}

func (e *Event) setPayload(d EventData) error {
	b, err := json.Marshal(EventEnvelope{Version: PayloadVersion, Type: e.Type, ID: e.ID, OccurredAt: e.OccurredAt, Data: d})
	if err != nil {
		return Wrap(CodeInternal, err, "encoding the event payload")
	}
	e.Payload = b
	return nil
}

// Envelope decodes the event's payload.
func (e *Event) Envelope() (EventEnvelope, error) {
	var env EventEnvelope
	if err := json.Unmarshal(e.Payload, &env); err != nil {
		return env, Wrap(CodeInternal, err, "decoding the event payload")
	}
	return env, nil
}

func isIncidentEvent(typ string) bool {
	for _, t := range IncidentEventTypes {
		if t == typ {
			return true
		}
	}
	return false
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func sharesOrEmpty(s []Share) []Share {
	if s == nil {
		return []Share{}
	}
	return s
}

// NewID is prefix followed by a ULID (48-bit millisecond time, 80 random
// bits, Crockford base32): unique, and sorting by creation time. IDs made
// in the same millisecond by this process increase (ulid's default entropy
// is monotonic and safe for concurrent use), so rows created in order sort
// in order.
func NewID(prefix string, t time.Time) string {
	return prefix + ulid.MustNew(ulid.Timestamp(t), ulid.DefaultEntropy()).String()
}
