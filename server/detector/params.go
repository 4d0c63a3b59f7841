package detector

import "time"

// Params are the detector's knobs. DefaultParams documents each default and
// docs/detection.md explains why; the same values serve the live runner and
// `outcry detect`.
type Params struct {
	// Cold start: with less than MinHistory of history, ColdStart distinct
	// reporters within ColdStartWindow open an outage (per service:
	// models.Service.ColdStartThreshold()), provided they are also at least
	// ColdStartRecord times the busiest earlier window of that length (0 =
	// no such condition). A brand-new service has no earlier window, so the
	// absolute rule alone applies.
	ColdStart       int
	ColdStartWindow time.Duration
	ColdStartRecord float64
	MinHistory      time.Duration

	// Windows are the spans compared with the baseline, shortest first; each
	// covers at least two buckets and its largest bucket is left out of the
	// test, so one burst alone never fires.
	Windows []time.Duration

	// A window is at warning when its significance (-log10 p), ratio and
	// excess (actual - expected reports) all reach these; at outage when the
	// Outage* ones do too. The significance bars are those for 1-minute
	// buckets (the live runner's); coarser buckets make fewer tests a week
	// and use bars lowered to match (testsCut: 0.58 at 5 minutes).
	WarnSignificance   float64
	WarnRatio          float64
	WarnExcess         float64
	OutageSignificance float64
	OutageRatio        float64
	OutageExcess       float64

	// Duration and hysteresis: an incident opens after OpenEvals consecutive
	// evaluations at warning or worse spanning at least OpenAfter; it
	// resolves after every window has stayed below QuietSignificance (or
	// below half the warning excess or ratio) for ResolveAfter.
	OpenEvals         int
	OpenAfter         time.Duration
	QuietSignificance float64
	ResolveAfter      time.Duration

	// The series' own bar: a window warns only when its significance also
	// reaches the TailRank-th largest daily maximum of significance over
	// the previous TailDays days (0 = off). Surges that happen on TailRank
	// days out of TailDays are how this series behaves, not incidents.
	TailDays int
	TailRank int

	// Regional rule: a spike is regional when one region holds at least
	// RegionalShare of the global excess and the rest of the world is below
	// WarnSignificance.
	RegionalShare float64

	// Deferred learning: while the windows are not quiet (an excursion is
	// building) and no incident is open, buckets do not teach the level
	// yet. What they would have taught is kept aside and handed over once
	// the windows have been quiet for SuspectCalm, or SuspectHold after the
	// deferral began (a rise that lasts is a new level, such as a launch;
	// then nothing is deferred again until a calm), or dropped if an
	// incident opens. SuspectHold 0 turns this off.
	SuspectCalm time.Duration
	SuspectHold time.Duration

	// Learning.
	LevelTau        time.Duration // time constant of the level (recent / profile)
	LevelPrior      float64       // pseudo-reports pulling a thin level towards 1
	LevelSlew       float64       // the level moves at most by a factor e^LevelSlew per hour
	Winsor          float64       // learning clips a bucket to expected*(1+Winsor) + 2 sd + 1
	HoldWinsor      float64       // the same clip while an incident is open
	WeekAlpha       float64       // weight of a new week in a time-of-week slot (floor)
	DayAlpha        float64       // weight of a new day in a time-of-day slot (floor)
	DispersionTau   time.Duration // memory of the overdispersion estimate
	DispersionClip  float64       // residuals are clipped at this many sd before they count
	MinDispersion   float64       // floor of the relative variance of the expectation
	PriorDispersion float64       // relative variance assumed before any was measured
	RateFloor       float64       // reports per minute never expected below this
	GapMean         float64       // a zero bucket expected above this is an ingest gap
	ShiftTau        time.Duration // memory of the daily-cycle alignment check
	ShiftZ          float64       // a ±1 h alignment must fit better by this many standard errors
}

// DefaultParams are the defaults used live and by `outcry detect`.
func DefaultParams() Params {
	return Params{
		ColdStart:       100,
		ColdStartWindow: 5 * time.Minute,
		ColdStartRecord: 2,
		MinHistory:      24 * time.Hour,

		Windows: []time.Duration{2 * time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour},

		WarnSignificance:   5,
		WarnRatio:          1.5,
		WarnExcess:         6,
		OutageSignificance: 8,
		OutageRatio:        3,
		OutageExcess:       15,

		OpenEvals:         1,
		OpenAfter:         0,
		QuietSignificance: 2,
		ResolveAfter:      30 * time.Minute,

		TailDays: 21,
		TailRank: 5,

		RegionalShare: 0.7,

		SuspectCalm: 15 * time.Minute,
		SuspectHold: time.Hour,

		LevelTau:        4 * time.Hour,
		LevelPrior:      3,
		LevelSlew:       0.5,
		Winsor:          0.3,
		HoldWinsor:      0.1,
		WeekAlpha:       0.25,
		DayAlpha:        1.0 / 7,
		DispersionTau:   72 * time.Hour,
		DispersionClip:  3,
		MinDispersion:   0.01,
		PriorDispersion: 0.1,
		RateFloor:       1.0 / 1440,
		GapMean:         10,
		ShiftTau:        24 * time.Hour,
		ShiftZ:          4,
	}
}
