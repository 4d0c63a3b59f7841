package detector

import (
	"math"
	"time"
)

// Params are the detector's decision parameters, each a product setting.
// docs/detection.md has the table, and how each threshold follows from
// them; the same values serve the live runner and `outcry detect`. How the
// baseline learns (model.go, level.go, profile.go, dispersion.go) is model
// structure: constants there, not settings.
type Params struct {
	// Budget is the false alerts one series (a service, or one region of
	// it) may raise per week from traffic that is normal for it. The
	// sequential tests' thresholds follow from it (modelBar, tailBar), at
	// every bucket width.
	Budget float64

	// WarnRise and OutageRise are the smallest rises, as multiples of the
	// expected reports, that are worth a warning ("possible problems") and
	// an outage. Each has its own sequential test.
	WarnRise   float64
	OutageRise float64

	// MinReports is the smallest outage worth reporting: an incident opens
	// only when the last EvidenceSpan held at least this many reporters
	// more than expected. The counter layer caps what one network counts
	// for a service in that span, so one network alone cannot open one.
	MinReports float64

	// MinSpan is how long the rise must have been seen (whole buckets, the
	// bucket in progress by its elapsed time) before an incident opens.
	MinSpan time.Duration

	// RecoverySpan: an incident resolves when the recovery test says the
	// counts are back to normal and they have been, without a break, for
	// at least this long.
	RecoverySpan time.Duration

	// ReopenWithin: trouble again within this time of a resolution continues
	// the same incident instead of opening a new one.
	ReopenWithin time.Duration

	// NewLevelAfter: a rise that has held this long without opening an
	// incident is the series' new level (a launch), and during an incident
	// the baseline learns again after this long; either way no more than
	// WarnRise above the learned profile.
	NewLevelAfter time.Duration

	// Cold start: before a day of history, ColdStart distinct reporters
	// within ColdStartWindow open an outage (per service:
	// models.Service.ColdStartThreshold()), provided they are also at least
	// ColdStartRecord times the busiest earlier window of that length (0 =
	// no such condition). A brand-new service has no earlier window.
	ColdStart       int
	ColdStartWindow time.Duration
	ColdStartRecord float64

	// RegionalShare: a rise is regional when one region holds at least this
	// share of the service's excess and the rest of the world is not
	// elevated (Regionalise).
	RegionalShare float64
}

// DefaultParams are the defaults used live and by `outcry detect`.
func DefaultParams() Params {
	return Params{
		Budget:          0.1,
		WarnRise:        2,
		OutageRise:      4,
		MinReports:      6,
		MinSpan:         30 * time.Second,
		RecoverySpan:    15 * time.Minute,
		ReopenWithin:    2 * time.Hour,
		NewLevelAfter:   time.Hour,
		ColdStart:       100,
		ColdStartWindow: 5 * time.Minute,
		ColdStartRecord: 2,
		RegionalShare:   0.7,
	}
}

// EvidenceSpan is the span over which MinReports is counted: the counter
// layer's window, in which one reporter counts once and one network at most
// a few times.
const EvidenceSpan = 15 * time.Minute

// minHistory is how much history the baseline needs before its tests mean
// anything: one whole day of the daily profile. Before that only the
// cold-start rule applies.
const minHistory = 24 * time.Hour

// oddsBase is ln 20: evidence at odds of 20 to 1. A rise at these odds is
// suspect (level learning waits), counts at these odds for normal over a
// WarnRise rise are recovered, and the tails of the tests' excursions are
// fitted above it.
var oddsBase = math.Log(20)

// The rise tests: a warning at WarnRise, an outage at OutageRise and at its
// square. A CUSUM is quickest for the rise it is tuned to and slow for much
// larger ones (a quiet service whose reports jump forty-fold would wait for
// the OutageRise test to add up), so the outage test runs at two sizes.
const (
	testWarn = iota
	testOutage
	testSevere
	nTests
)

// rise is the rise test i looks for, as a multiple of the expectation.
func (p *Params) rise(i int) float64 {
	switch i {
	case testWarn:
		return p.WarnRise
	case testOutage:
		return p.OutageRise
	}
	return p.OutageRise * p.OutageRise
}

// modelBar is the threshold, in nats, at which a CUSUM of log-likelihood
// ratios on buckets of secs seconds keeps its false alarms within budget
// per week under the count model: by Lorden's bound the average run length
// between false alarms is at least e^h buckets, so h = ln(buckets per week /
// share of the budget), the nTests tests sharing the budget equally.
func modelBar(budget float64, secs int64) float64 {
	perWeek := float64(weekSecs) / float64(max(secs, 1))
	return math.Max(oddsBase, math.Log(perWeek*nTests/budget))
}
