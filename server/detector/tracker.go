package detector

import (
	"time"

	"github.com/outcry/outcry/models"
)

// Transition is what one Tracker step did to the incident.
type Transition int

const (
	TransitionNone      Transition = iota // nothing to persist
	TransitionOpened                      // a new incident: insert it, notify
	TransitionEscalated                   // warning became outage: update, notify
	TransitionUpdated                     // new peak or stronger evidence: update quietly
	TransitionResolved                    // back to normal: update, notify
	TransitionReopened                    // trouble again soon after a resolution: the same incident, open again; update, notify
)

// String names the transition (for logs).
func (e Transition) String() string {
	switch e {
	case TransitionOpened:
		return "opened"
	case TransitionEscalated:
		return "escalated"
	case TransitionUpdated:
		return "updated"
	case TransitionResolved:
		return "resolved"
	case TransitionReopened:
		return "reopened"
	}
	return "none"
}

// TrackerState is the small part of a Tracker that the open models.Incident
// does not hold. Persist it (JSON) next to the incident so that a restart
// neither re-opens nor forgets; a zero TrackerState is also a safe restart.
type TrackerState struct {
	ServiceID uint      `json:"service_id"`
	Scope     string    `json:"scope"`
	LastAt    time.Time `json:"last_at,omitzero"` // the last decision stepped
	// Recent is the last resolved incident while Params.ReopenWithin has not
	// passed since: trouble within that time continues it.
	Recent *models.Incident `json:"recent,omitempty"`
}

// Tracker is the incident state machine of one series (a service, or one
// region of it): closed → open (warning or outage) → escalated → resolved,
// and resolved → open again within Params.ReopenWithin. Opening follows the
// rise tests (Decision.Level), resolving the recovery test
// (Decision.Recovered). It is pure: time comes from the decisions.
type Tracker struct {
	State    TrackerState
	Incident *models.Incident // the open incident (or, for one step, the one just resolved), or nil
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
		st.ServiceID, st.Scope, st.Recent = open.ServiceID, open.Scope, nil
	}
	return &Tracker{State: st, Incident: open}
}

// Open reports whether an incident is open.
func (t *Tracker) Open() bool { return t.Incident != nil && t.Incident.Open() }

// Step folds one decision into the state and says what changed; the caller
// persists t.Incident (and t.State) when the transition is not
// TransitionNone. After TransitionResolved, t.Incident is the resolved
// incident until the next Step. Decisions older than the last one stepped
// are ignored.
func (t *Tracker) Step(d Decision, p Params) Transition {
	s := &t.State
	if !s.LastAt.IsZero() && d.At.Before(s.LastAt) {
		return TransitionNone
	}
	s.LastAt = d.At
	if t.Incident != nil && !t.Incident.Open() {
		s.Recent, t.Incident = t.Incident, nil // resolved on the previous step
	}
	if s.Recent != nil && d.At.Sub(*s.Recent.ResolvedAt) > p.ReopenWithin {
		s.Recent = nil
	}
	if t.Incident == nil {
		if d.Level.Rank() == 0 {
			return TransitionNone
		}
		if inc := s.Recent; inc != nil {
			s.Recent, t.Incident = nil, inc
			inc.ResolvedAt = nil
			if d.Level.Rank() > inc.Level.Rank() {
				inc.Level = d.Level
			}
			if d.Level.Rank() >= inc.Level.Rank() {
				setEvidence(inc, &d, p)
			}
			return TransitionReopened
		}
		started := d.Since
		if started.IsZero() || started.After(d.At) {
			started = d.At
		}
		t.Incident = &models.Incident{
			ServiceID: s.ServiceID, Scope: scopeOf(s.Scope), Level: d.Level,
			StartedAt: started, PeakAt: d.At, Peak: d.Recent,
		}
		setEvidence(t.Incident, &d, p)
		return TransitionOpened
	}

	inc := t.Incident
	ev := TransitionNone
	if d.Level.Rank() > inc.Level.Rank() {
		inc.Level = d.Level
		setEvidence(inc, &d, p)
		ev = TransitionEscalated
	} else if d.Level.Rank() == inc.Level.Rank() && d.Significance > inc.Significance {
		setEvidence(inc, &d, p)
		ev = TransitionUpdated
	}
	if d.Level.Rank() > 0 && d.Recent > inc.Peak {
		inc.Peak, inc.PeakAt = d.Recent, d.At
		if ev == TransitionNone {
			ev = TransitionUpdated
		}
	}
	if d.Recovered && ev != TransitionEscalated {
		at := d.RecoveredSince
		if at.Before(inc.StartedAt) {
			at = inc.StartedAt
		}
		inc.ResolvedAt = &at
		return TransitionResolved
	}
	return ev
}

// setEvidence copies the decision's evidence into the incident. The peak
// is the most reports seen in one EvidenceSpan.
func setEvidence(inc *models.Incident, d *Decision, p Params) {
	inc.Window, inc.Expected, inc.Actual = d.Window(), d.Expected, d.Actual
	inc.Ratio, inc.Significance = d.Ratio, d.Significance
	if inc.Significance > 999 { // +Inf from the cold-start rule
		inc.Significance = 999
	}
	inc.Rule = d.Rule(p)
	if len(inc.Rule) > 200 {
		inc.Rule = inc.Rule[:200]
	}
	if d.Recent > inc.Peak {
		inc.Peak, inc.PeakAt = d.Recent, d.At
	}
}

func scopeOf(s string) string {
	if s == "" {
		return models.ScopeGlobal
	}
	return s
}
