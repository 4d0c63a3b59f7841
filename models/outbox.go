package models

import "time"

// Claim asks the outbox for up to Max due deliveries of distinct
// subscriptions not in Busy, each reserved for the claimer until
// Now+Lease under Token.
type Claim struct {
	Now   time.Time
	Max   int
	Busy  []string // subscriptions with a delivery in flight here
	Lease time.Duration
	Token string
}

// ClaimedDelivery is a claimed delivery with what its attempt needs; Webhook
// or Event is nil if it was deleted meanwhile.
type ClaimedDelivery struct {
	Delivery Delivery
	Webhook  *Webhook
	Event    *Event
}

// AttemptRecord is one finished attempt: its log row and where the delivery
// goes next. It is written only while the delivery's lease token is still
// the claimer's.
type AttemptRecord struct {
	DeliveryID     string
	WebhookID      string
	LeaseToken     string
	Attempt        Attempt
	Status         DeliveryStatus
	NextAttemptAt  time.Time
	FirstAttemptAt time.Time
	// GiveUp: out of retries. The subscription is disabled (with
	// DisableReason) unless one of its deliveries has succeeded since
	// FirstAttemptAt.
	GiveUp        bool
	DisableReason string
}
