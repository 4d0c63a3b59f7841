package models

import (
	"context"
	"time"
)

// Admission asks whether a report may be accepted and whether it counts.
// Reporter and Network are keyed hashes (of the address and of its /24 or
// /48); no raw address ever reaches the limiter. So a reporter always comes
// with the same network (on the same day's key), which the Redis limiter
// relies on: with one evidence slot per network, the network's slot is the
// reporter's dedupe marker too.
type Admission struct {
	ServiceID uint
	Reporter  string
	Network   string
	Problem   string
	Region    string
	At        time.Time
}

// Admittance is the limiter's answer. When Allowed, Counted says whether this is
// the reporter's first report for the service within the dedupe window; it
// has then been added to the per-minute counters.
type Admittance struct {
	Allowed    bool
	Counted    bool
	Limit      int           // requests allowed per Period (RateLimit-Limit)
	Period     time.Duration // the limit's period
	Remaining  int           // RateLimit-Remaining
	RetryAfter time.Duration // when not allowed: wait at least this long
	ResetAfter time.Duration // until the limit is fully replenished (RateLimit-Reset)
	Degraded   bool          // answered by the in-process twin because Redis was unreachable
	// ByNetwork says, when not allowed, that the network's limit refused
	// the report (the one that denies longest); false: the reporter's.
	ByNetwork bool
	// Slot is which of its network's evidence slots a counted report
	// holds (from 1; 0 when not counted): what Undo gives back.
	Slot int
}

// Admitter rate-limits, dedupes and counts a report in one step.
type Admitter interface {
	Admit(ctx context.Context, a Admission) (Admittance, error)
}

// CountedMark is one counted report as the store remembers it: enough to
// restore the limiter's dedupe and network evidence markers after a
// restart or a loss of Redis.
type CountedMark struct {
	ServiceID uint
	Reporter  string
	Network   string
	At        time.Time
}

// CounterReader reads the per-minute counters the detector works from.
type CounterReader interface {
	// Minutes returns counts for every minute in [from, to), oldest first;
	// minutes nobody reported in may be absent.
	Minutes(ctx context.Context, from, to time.Time) ([]MinuteCounts, error)
}
