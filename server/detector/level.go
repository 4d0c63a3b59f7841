package detector

import (
	"math"
	"time"
)

// The level: recent reports relative to the profile (growth, decline, a
// launch), the ratio of decayed sums of winsorised reports over the
// profile's expectation. It follows day-to-day swings within hours, never
// faster than levelSlew, and never more than Params.WarnRise above its
// lowest of the last day: a rise of that size is either an incident or,
// once it has held for NewLevelAfter, a new level (rebase); a climb beyond
// it within a day is left to the tests.
const (
	levelTau   = 4 * 3600 // seconds: follows the day, not an outage's first hour
	levelPrior = 3        // pseudo-reports pulling a thin level towards 1
	levelSlew  = 0.5      // per hour: at most x1.65 an hour
	winsor     = 0.3      // learning clips a bucket to expected*(1+winsor) + 2 sd + 1
)

// levelState is the level and its deferral. Once the warning test's
// evidence is suspect (odds of 20:1 for a rise) while no incident is open,
// what buckets would teach the level (and the dispersion) is kept aside in
// def*: handed over when the test has not been suspect for EvidenceSpan
// (calm), or after
// NewLevelAfter if the rise is no longer suspect; a rise still suspect then
// becomes the new level once it is steady (rebase).
type levelState struct {
	num, den       float64
	lev            float64 // 0 = not learned yet, i.e. 1
	defNum, defDen float64
	defFrom        int64 // unix seconds the deferral began, 0 = none
	suspectAt      int64 // unix seconds the warning test was last suspect
	heldNew        bool  // the open incident's rise was taken as a new level
	// the level at the start of each of the last 24 hours (by hour of
	// day), and the hour last recorded: the level never rises above
	// WarnRise times the lowest of them
	day     [24]float32
	dayHour int64
	spent   bool // a deferral became a new level: none again until calm
}

// Level is the current level factor: recent reports relative to the
// time-of-week profile (1 = as usual).
func (m *Model) Level() float64 {
	if m.lv.lev == 0 {
		return 1
	}
	return m.lv.lev
}

// learnLevel teaches the level one bucket starting at u: xc reports
// (winsorised) where the profile expected shape at level 1.
func (m *Model) learnLevel(u, secs int64, xc, shape float64) {
	l := &m.lv
	end := u + secs
	suspect := m.tests[testWarn].e >= oddsBase
	if suspect {
		l.suspectAt = end
	}
	calm := end-l.suspectAt >= int64(EvidenceSpan/time.Second)
	if !m.hold && suspect && l.defFrom == 0 && !l.spent {
		l.defFrom = u
	}
	dl := math.Exp(-float64(secs) / levelTau)
	l.num, l.den = dl*l.num, dl*l.den
	l.defNum, l.defDen = dl*l.defNum, dl*l.defDen
	if l.defFrom != 0 {
		l.defNum += xc
		l.defDen += shape
	} else {
		l.num += xc
		l.den += shape
	}
	switch {
	case l.defFrom != 0 && calm:
		// Calm again for a span: the excursion was noise; learn it as if
		// on time.
		m.handDeferral(true)
	case l.defFrom != 0 && end-l.defFrom >= int64(m.p.NewLevelAfter/time.Second) && !suspect:
		// The rise has faded into noise: learn it as if on time.
		m.handDeferral(true)
	case l.defFrom != 0 && end-l.defFrom >= int64(m.p.NewLevelAfter/time.Second) && m.steady(end):
		m.rebase(end)
		return
	case m.hold && !l.heldNew && end-m.holdFrom >= int64(m.p.NewLevelAfter/time.Second) && m.steady(end):
		// An incident whose rise has held steady for NewLevelAfter: if it
		// is a new level (at most levelCap), the recovery test sees so.
		l.heldNew = true
		m.rebase(end)
		return
	case l.defFrom == 0 && l.spent && calm:
		l.spent = false
	}
	lev := m.Level()
	target := (l.num + levelPrior) / (l.den + levelPrior)
	step := math.Exp(levelSlew * float64(secs) / 3600)
	l.lev = math.Min(math.Max(target, lev/step), math.Min(lev*step, m.levelCap(end)))
}

// levelCap is the highest the level may be at unix time u: WarnRise times
// its lowest over the last day. A launch (at most WarnRise) is learned, a
// climb that goes further within a day is left to the tests.
func (m *Model) levelCap(u int64) float64 {
	l := &m.lv
	h := floorDiv(u, 3600)
	if l.dayHour == 0 {
		l.dayHour = h - 24
	}
	for ; l.dayHour < h; l.dayHour++ {
		l.day[mod(l.dayHour+1, 24)] = float32(m.Level())
	}
	low := l.day[0]
	for _, v := range l.day {
		low = min(low, v)
	}
	return m.p.WarnRise * float64(low)
}

// handDeferral ends a deferral: what it kept aside is learned (keep) or
// dropped.
func (m *Model) handDeferral(keep bool) {
	l := &m.lv
	if keep {
		l.num += l.defNum
		l.den += l.defDen
	}
	l.defNum, l.defDen, l.defFrom = 0, 0, 0
	m.handDispersion(keep)
}

// dropDeferral drops what a deferral kept aside: an incident opened, and the
// excursion was its start.
func (m *Model) dropDeferral() {
	m.handDeferral(false)
	m.lv.spent = false
}

// steady reports whether the rise has stopped climbing at unix time end:
// the last EvidenceSpan holds no more reports than the span before it
// predicts at its own ratio to the profile, by two standard deviations of
// the model's noise. A launch step is steady once its ramp is over; an
// outage that began inside the deferral, or a rise that keeps climbing, is
// not, and is not taken as a new level.
func (m *Model) steady(end int64) bool {
	span := int64(EvidenceSpan / time.Second)
	x1, _, sh1 := m.recent(end - span)
	x, _, sh := m.recent(end - 2*span)
	x0, sh0 := x-x1, sh-sh1
	if sh0 <= 0 || sh1 <= 0 {
		return true
	}
	e := sh1 * x0 / sh0
	sd := math.Sqrt(e + m.dispersion(EvidenceSpan.Minutes())*e*e)
	return x1 <= e+2*sd
}

// rebase takes a rise that has held for NewLevelAfter without opening an
// incident as the series' new level (a launch): the level jumps to what the
// last EvidenceSpan showed (at most levelCap), and both rise tests restart
// against it. Until the warning test is back at rest, nothing is deferred
// again.
func (m *Model) rebase(end int64) {
	l := &m.lv
	m.handDeferral(true)
	x, _, shape := m.recent(end - int64(EvidenceSpan/time.Second))
	if shape > 0 {
		lev := math.Min(math.Max((x+levelPrior)/(shape+levelPrior), m.Level()), m.levelCap(end))
		l.num = lev*(l.den+levelPrior) - levelPrior
		l.lev = lev
	}
	l.spent = true
	m.endTests(end)
}
