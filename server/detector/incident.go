package detector

import (
	"time"

	"github.com/outcry/outcry/models"
)

// Event is what one Tracker step did.
type Event int

const (
	EventNone      Event = iota // nothing to persist
	EventOpened                 // a new incident: insert it, notify
	EventEscalated              // warning became outage: update, notify
	EventUpdated                // new peak or stronger evidence: update quietly
	EventResolved               // back to normal: update, notify
)

// String names the event (for logs).
func (e Event) String() string {
	switch e {
	case EventOpened:
		return "opened"
	case EventEscalated:
		return "escalated"
	case EventUpdated:
		return "updated"
	case EventResolved:
		return "resolved"
	}
	return "none"
}

// TrackerState is the small part of a Tracker that models.Incident does not
// hold. Persist it (JSON) next to the incident so that a restart neither
// re-opens nor forgets; a zero TrackerState is also a safe restart (an open
// incident then needs a full ResolveAfter of quiet to resolve).
type TrackerState struct {
	ServiceID  uint      `json:"service_id"`
	Scope      string    `json:"scope"`
	Hot        int       `json:"hot"`                  // consecutive evaluations at warning or worse while closed
	HotSince   time.Time `json:"hot_since"`            // the first of them
	QuietSince time.Time `json:"quiet_since,omitzero"` // while open: back near baseline since
	LastAt     time.Time `json:"last_at,omitzero"`     // the last evaluation stepped
}

// Tracker is the incident state machine of one series (a service, or one
// region of it): closed → open (warning or outage) → escalated → resolved,
// with a duration rule to open and hysteresis to resolve. It is pure: time
// comes from the decisions.
type Tracker struct {
	State    TrackerState
	Incident *models.Incident // the open incident, or nil
}

// NewTracker returns a closed tracker for a service and scope
// (models.ScopeGlobal or a region code).
func NewTracker(serviceID uint, scope string) *Tracker {
	return &Tracker{State: TrackerState{ServiceID: serviceID, Scope: scope}}
}

// RestoreTracker rebuilds a tracker after a restart from the persisted state
// and the open incident (nil if none).
func RestoreTracker(st TrackerState, open *models.Incident) *Tracker {
	if open != nil && !open.Open() {
		open = nil
	}
	if open != nil {
		st.ServiceID, st.Scope, st.Hot = open.ServiceID, open.Scope, 0
	}
	return &Tracker{State: st, Incident: open}
}

// Open reports whether an incident is open.
func (t *Tracker) Open() bool { return t.Incident != nil }

// Step folds one decision into the state and says what changed; the caller
// persists t.Incident (and t.State) when the event is not EventNone. After
// EventResolved, t.Incident is the resolved incident until the next Step.
// Decisions older than the last one stepped are ignored.
func (t *Tracker) Step(d Decision, p Params) Event {
	s := &t.State
	if !s.LastAt.IsZero() && d.At.Before(s.LastAt) {
		return EventNone
	}
	s.LastAt = d.At
	if t.Incident != nil && !t.Incident.Open() {
		t.Incident = nil // resolved on the previous step
	}
	if t.Incident == nil {
		if d.Level.Rank() == 0 {
			s.Hot = 0
			return EventNone
		}
		if s.Hot == 0 {
			s.HotSince = d.At
		}
		s.Hot++
		if !d.Cold && (s.Hot < p.OpenEvals || d.At.Sub(s.HotSince) < p.OpenAfter) {
			return EventNone
		}
		t.Incident = &models.Incident{
			ServiceID: s.ServiceID, Scope: scopeOf(s.Scope), Level: d.Level,
			StartedAt: s.HotSince, PeakAt: d.At, Peak: d.Actual,
		}
		setEvidence(t.Incident, &d, p)
		s.Hot, s.QuietSince = 0, time.Time{}
		return EventOpened
	}

	inc := t.Incident
	ev := EventNone
	if d.Level.Rank() > inc.Level.Rank() {
		inc.Level = d.Level
		setEvidence(inc, &d, p)
		ev = EventEscalated
	} else if d.Level.Rank() == inc.Level.Rank() && d.Significance > inc.Significance {
		setEvidence(inc, &d, p)
		ev = EventUpdated
	}
	if d.Level.Rank() > 0 && d.Actual > inc.Peak {
		inc.Peak, inc.PeakAt = d.Actual, d.At
		if ev == EventNone {
			ev = EventUpdated
		}
	}
	if !d.Quiet {
		s.QuietSince = time.Time{}
		return ev
	}
	if s.QuietSince.IsZero() {
		s.QuietSince = d.At
	}
	if d.At.Sub(s.QuietSince) >= p.ResolveAfter {
		at := s.QuietSince
		inc.ResolvedAt = &at
		s.QuietSince, s.Hot = time.Time{}, 0
		return EventResolved
	}
	return ev
}

// setEvidence copies the decision's evidence into the incident.
func setEvidence(inc *models.Incident, d *Decision, p Params) {
	inc.Window, inc.Expected, inc.Actual = d.Window, d.Expected, d.Actual
	inc.Ratio, inc.Significance = d.Ratio, d.Significance
	if inc.Significance > 999 { // +Inf from the cold-start rule or a zero baseline
		inc.Significance = 999
	}
	inc.Rule = d.Rule(p)
	if len(inc.Rule) > 200 {
		inc.Rule = inc.Rule[:200]
	}
	if d.Actual > inc.Peak {
		inc.Peak, inc.PeakAt = d.Actual, d.At
	}
}

func scopeOf(s string) string {
	if s == "" {
		return models.ScopeGlobal
	}
	return s
}
