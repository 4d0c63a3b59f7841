package detector

import (
	"time"

	"github.com/outcry/outcry/models"
)

// Series is one monitored series — a service, or one region of it — with
// its baseline model and incident state machine. The live runner and
// `outcry detect` drive it the same way: Advance with each completed
// bucket, then Judge.
type Series struct {
	Model   *Model
	Tracker *Tracker
}

// NewSeries returns an empty series for a service and scope.
func NewSeries(p Params, serviceID uint, scope string) *Series {
	return &Series{Model: NewModel(p), Tracker: NewTracker(serviceID, scope)}
}

// Advance learns one completed bucket. Learning is held back while an
// incident is open, so an outage does not become the new normal.
func (s *Series) Advance(t time.Time, width time.Duration, count float64) {
	s.Model.Hold(s.Tracker.Open())
	s.Model.Observe(t, width, count)
}

// Decide judges the series at now; pending is the count of the bucket in
// progress.
func (s *Series) Decide(now time.Time, pending float64) Decision {
	return s.Model.Decide(now, pending)
}

// Step folds a (possibly regionalised) decision into the incident state.
func (s *Series) Step(d Decision, p Params) Event { return s.Tracker.Step(d, p) }

// Incident is the open (or just resolved) incident, or nil.
func (s *Series) Incident() *models.Incident { return s.Tracker.Incident }
