package detector

import (
	"time"

	"github.com/outcry/outcry/models"
)

// Series is one monitored series — a service, or one region of it — with
// its model and incident state machine. The live runner and `outcry
// detect` drive it the same way: Advance with each completed bucket, Decide,
// then Step.
type Series struct {
	Model   *Model
	Tracker *Tracker
	// Held: an incident that covers this series is open elsewhere (a
	// region's series while its service's global incident is open). The
	// model is held as for its own incident: a broad outage teaches the
	// region nothing, and its tests start afresh when it ends.
	Held bool
}

// NewSeries returns an empty series for a service and scope.
func NewSeries(p Params, serviceID uint, scope string) *Series {
	return &Series{Model: NewModel(p), Tracker: NewTracker(serviceID, scope)}
}

// Advance learns one completed bucket. The model is held (Model.Hold) for
// buckets that end after the open incident began: a series re-seeded after
// a restart learns its history before the incident as usual, and its
// recovery test starts with the incident.
func (s *Series) Advance(t time.Time, width time.Duration, count float64) {
	open := s.Tracker.Open() && t.Add(width).After(s.Tracker.Incident.StartedAt)
	s.Model.Hold(open || s.Held)
	s.Model.Observe(t, width, count)
}

// Learn is Advance for a run of buckets taught together (history at
// start): the tests' thresholds are computed once, by Settle after the
// last bucket, instead of after each. The model is then exactly what
// Advance would have made it; Decide needs Settle first.
func (s *Series) Learn(t time.Time, width time.Duration, count float64) {
	open := s.Tracker.Open() && t.Add(width).After(s.Tracker.Incident.StartedAt)
	s.Model.Hold(open || s.Held)
	s.Model.observe(t, width, count)
}

// Settle ends a run of Learn calls.
func (s *Series) Settle() { s.Model.settleBars() }

// Decide judges the series at now; pending is the count of the bucket in
// progress.
func (s *Series) Decide(now time.Time, pending float64) Decision {
	return s.Model.Decide(now, pending)
}

// Step folds a (possibly regionalised) decision into the incident state and
// tells the model at once whether an incident is open: an incident's
// evidence must not open another one.
func (s *Series) Step(d Decision, p Params) Transition {
	tr := s.Tracker.Step(d, p)
	s.Model.Hold(s.Tracker.Open() || s.Held)
	return tr
}

// Incident is the open (or just resolved) incident, or nil.
func (s *Series) Incident() *models.Incident { return s.Tracker.Incident }
