package models

import (
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Webhook formats: the standard JSON body (EventEnvelope), or a message
// built from it for a chat or push service (docs/webhooks.md#formats).
const (
	FormatStandard = ""
	FormatSlack    = "slack"   // a Slack incoming webhook
	FormatDiscord  = "discord" // a Discord channel webhook (Execute Webhook)
	FormatTeams    = "teams"   // a Microsoft Teams Workflows webhook (Adaptive Card)
	FormatNtfy     = "ntfy"    // an ntfy topic URL (published as JSON to the server's root)
)

// FormatNames are the format values the admin API accepts, "json" being
// FormatStandard.
var FormatNames = []string{"json", FormatSlack, FormatDiscord, FormatTeams, FormatNtfy}

// ntfyTopicRe is what ntfy accepts as a topic name.
var ntfyTopicRe = regexp.MustCompile(`^[-_A-Za-z0-9]{1,64}$`)

// NtfyTarget splits an ntfy topic URL (https://ntfy.sh/mytopic, or
// https://host/prefix/mytopic behind a path prefix) into the root URL that
// JSON messages are published to (https://ntfy.sh/, keeping any user
// information and query, such as ?auth=) and the topic.
func NtfyTarget(raw string) (root, topic string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", Errorf(CodeInvalid, "url is not a URL")
	}
	path := strings.TrimSuffix(u.Path, "/")
	i := strings.LastIndexByte(path, '/')
	if i < 0 || !ntfyTopicRe.MatchString(path[i+1:]) {
		return "", "", Errorf(CodeInvalid, "an ntfy url must end in the topic (letters, digits, - and _, at most 64): https://ntfy.sh/mytopic")
	}
	topic = path[i+1:]
	u.Path, u.RawPath = path[:i+1], ""
	u.Fragment, u.RawFragment = "", ""
	return u.String(), topic, nil
}

// SecretPrefix starts every signing secret (Standard Webhooks).
const SecretPrefix = "whsec_"

// RotationOverlap is how long a rotated-out secret keeps signing beside the
// new one.
const RotationOverlap = 24 * time.Hour

// Webhook is a subscription: a URL that receives signed POSTs for the
// events and services it chose (none chosen = all).
type Webhook struct {
	ID                    string   `gorm:"primaryKey;size:40"`
	URL                   string   `gorm:"size:2048;not null"`
	Services              []string `gorm:"serializer:json;not null"` // slugs; empty = every service
	Events                []string `gorm:"serializer:json;not null"` // IncidentEventTypes; empty = all
	Description           string   `gorm:"size:500;not null;default:''"`
	Format                string   `gorm:"size:16;not null;default:''"`
	Secret                string   `gorm:"size:100;not null"`
	PreviousSecret        string   `gorm:"size:100;not null;default:''"`
	PreviousSecretExpires *time.Time
	Disabled              bool `gorm:"not null;default:false;index"`
	DisabledAt            *time.Time
	DisabledReason        string `gorm:"size:500;not null;default:''"`
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// MaxURLLength bounds a subscription URL.
const MaxURLLength = 2048

// Validate checks a subscription as an admin would create or change it and
// normalises its lists (sorted, without repeats) and format. Whether the
// services exist and the address is public are checked by the caller.
func (w *Webhook) Validate() error {
	if len(w.URL) > MaxURLLength {
		return Errorf(CodeInvalid, "url is longer than %d characters", MaxURLLength)
	}
	u, err := url.Parse(w.URL)
	if err != nil || !u.IsAbs() {
		return Errorf(CodeInvalid, "url must be an absolute http:// or https:// URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Errorf(CodeInvalid, "url scheme %q is not allowed; use http or https", u.Scheme)
	}
	if u.Hostname() == "" {
		return Errorf(CodeInvalid, "url must name a host")
	}
	w.Services = sortedUnique(w.Services)
	for _, s := range w.Services {
		if !slugRe.MatchString(s) {
			return Errorf(CodeInvalid, "service %q is not a service slug", s)
		}
	}
	w.Events = sortedUnique(w.Events)
	for _, e := range w.Events {
		if !isIncidentEvent(e) {
			return Errorf(CodeInvalid, "unknown event %q; one of %s", e, strings.Join(IncidentEventTypes, ", "))
		}
	}
	w.Description = strings.TrimSpace(w.Description)
	if !utf8.ValidString(w.Description) || utf8.RuneCountInString(w.Description) > 500 {
		return Errorf(CodeInvalid, "description must be UTF-8 text of at most 500 characters")
	}
	switch w.Format {
	case FormatStandard, FormatSlack, FormatDiscord, FormatTeams:
	case "json":
		w.Format = FormatStandard
	case FormatNtfy:
		if _, _, err := NtfyTarget(w.URL); err != nil {
			return err
		}
	default:
		return Errorf(CodeInvalid, "unknown format %q; use one of %s (json is the default)", w.Format, strings.Join(FormatNames, ", "))
	}
	return nil
}

func sortedUnique(s []string) []string {
	out := slices.Clone(s)
	if out == nil {
		return []string{}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Wants reports whether the subscription receives ev.
func (w *Webhook) Wants(ev *Event) bool {
	if ev.Target != "" {
		return ev.Target == w.ID
	}
	if w.Disabled || ev.Type == EventPing {
		return false
	}
	return (len(w.Events) == 0 || slices.Contains(w.Events, ev.Type)) &&
		(len(w.Services) == 0 || slices.Contains(w.Services, ev.ServiceSlug))
}

// SigningSecrets are the secrets deliveries are signed with at now: the
// current one and, during a rotation, the previous one.
func (w *Webhook) SigningSecrets(now time.Time) []string {
	if w.PreviousSecret != "" && w.PreviousSecretExpires != nil && now.Before(*w.PreviousSecretExpires) {
		return []string{w.Secret, w.PreviousSecret}
	}
	return []string{w.Secret}
}

// Rotate replaces the signing secret; the old one keeps signing beside the
// new one for RotationOverlap.
func (w *Webhook) Rotate(now time.Time) {
	exp := now.Add(RotationOverlap).UTC()
	w.PreviousSecret, w.PreviousSecretExpires, w.Secret = w.Secret, &exp, NewSecret()
}

// NewSecret is a fresh signing secret: "whsec_" and the base64 of 32
// random bytes.
func NewSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

// Disable turns the subscription off, saying why.
func (w *Webhook) Disable(now time.Time, reason string) {
	at := now.UTC()
	w.Disabled, w.DisabledAt, w.DisabledReason = true, &at, reason
}

// WebhookPatch is a partial change of a subscription; nil fields stay.
type WebhookPatch struct {
	URL         *string
	Services    *[]string
	Events      *[]string
	Description *string
	Format      *string
	Disabled    *bool // false re-enables a disabled subscription
}

// Apply changes w by p; call Validate afterwards.
func (w *Webhook) Apply(p WebhookPatch, now time.Time) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&w.URL, p.URL)
	set(&w.Description, p.Description)
	set(&w.Format, p.Format)
	if p.Services != nil {
		w.Services = *p.Services
	}
	if p.Events != nil {
		w.Events = *p.Events
	}
	switch {
	case p.Disabled == nil || *p.Disabled == w.Disabled:
	case *p.Disabled:
		w.Disable(now, "disabled by an administrator")
	default:
		w.Disabled, w.DisabledAt, w.DisabledReason = false, nil, ""
	}
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

const (
	DeliveryPending   DeliveryStatus = "pending"   // waiting for its next attempt
	DeliverySucceeded DeliveryStatus = "succeeded" // a 2xx answer
	DeliveryFailed    DeliveryStatus = "failed"    // given up: permanent error or out of retries
)

// Delivery is one event on its way to one subscription; unique per
// (event, webhook), so fanning out twice never sends twice. Its attempts
// are logged as Attempt rows.
type Delivery struct {
	ID             string         `gorm:"primaryKey;size:40"`
	EventID        string         `gorm:"size:40;not null;uniqueIndex:idx_deliveries_event_webhook,priority:1"`
	WebhookID      string         `gorm:"size:40;not null;uniqueIndex:idx_deliveries_event_webhook,priority:2;index"`
	EventType      string         `gorm:"size:32;not null"`
	Status         DeliveryStatus `gorm:"size:16;not null;index:idx_deliveries_due,priority:1"`
	Attempts       int            `gorm:"not null;default:0"`
	NextAttemptAt  time.Time      `gorm:"not null;index:idx_deliveries_due,priority:2"`
	FirstAttemptAt *time.Time     // the retry window (3 days) counts from here
	LeaseUntil     *time.Time     // a dispatcher holds it until then
	LeaseToken     string         `gorm:"size:40;not null;default:'';index"`
	LastStatusCode int            `gorm:"not null;default:0"`
	LastLatency    time.Duration  `gorm:"not null;default:0"`
	LastError      string         `gorm:"size:500;not null;default:''"`
	Log            []Attempt      `gorm:"foreignKey:DeliveryID;constraint:OnDelete:CASCADE"`
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// AttemptOutcome is what one attempt came to.
type AttemptOutcome string

const (
	OutcomeSucceeded AttemptOutcome = "succeeded"
	OutcomeRetry     AttemptOutcome = "retry"  // failed; another attempt is scheduled
	OutcomeFailed    AttemptOutcome = "failed" // failed; no more attempts
)

// Attempt is one POST of a delivery.
type Attempt struct {
	ID          uint64         `gorm:"primaryKey"`
	DeliveryID  string         `gorm:"size:40;not null;index"`
	N           int            `gorm:"not null"` // 1 for the first attempt
	At          time.Time      `gorm:"not null"`
	StatusCode  int            `gorm:"not null;default:0"` // 0: no HTTP answer
	Latency     time.Duration  `gorm:"not null"`
	Error       string         `gorm:"size:500;not null;default:''"`
	Outcome     AttemptOutcome `gorm:"size:16;not null"`
	NextRetryAt *time.Time
}
