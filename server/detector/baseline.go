package detector

import (
	"math"
	"time"

	"github.com/outcry/outcry/models"
)

// Profile geometry: 15-minute slots over a UTC week (slot 0 = Monday 00:00).
const (
	slotSecs     = 15 * 60
	slotsPerDay  = 96
	slotsPerWeek = 7 * slotsPerDay
	ringSize     = 64 // recent buckets kept for windows: an hour of minutes
	tailDaysMax  = 28 // the most days of daily maxima kept for the bar
	weekSecs     = 7 * 86400
	daySecs      = 86400
	mondayOffset = 3 * daySecs // 1970-01-01 was a Thursday
)

// Special bucket.shape values: learned before the model was ready (windows
// stop there), and an ingest gap (windows skip it).
const (
	shapeUnknown = -1
	shapeGap     = -2
)

// bucket is one observed bucket in the recent ring. start is unix seconds
// relative to Model.base; before seeing x the model expected lev*shape:
// shape is the profile's expectation at level 1, lev the level then.
type bucket struct {
	start         int32
	secs          int32
	x, shape, lev float32
}

// Model is the online baseline of one series (a service, or one region of
// it): a time-of-week profile, a robust level, the series' overdispersion and
// a short ring of recent buckets. It learns from completed buckets only, in
// time order, and never stores raw history. The zero value is not ready: use
// NewModel. A Model is not safe for concurrent use.
type Model struct {
	p Params

	week [slotsPerWeek]float32 // reports per minute by slot of week, as last learned
	day  [slotsPerDay]float32  // reports per minute by slot of day (all days)

	base  int64 // unix seconds of the Monday 00:00 UTC before the first bucket
	first int64 // unix seconds of the first bucket's start
	last  int64 // unix seconds of the last bucket's end
	seen  bool

	// level: recent actual / recent profile expectation (ratio of decayed sums).
	levNum, levDen float64
	lev            float64 // the level in use (0 = not learned yet, i.e. 1)
	hold           bool    // an incident is open: learn upwards only very slowly

	// deferred level learning (Params.Suspect*): the decayed sums kept
	// aside since defFrom (unix seconds, 0 = not deferring), when a window
	// was last suspect, and whether a deferral ran out (none until calm)
	defNum, defDen float64
	defFrom        int64
	suspectAt      int64
	spent          bool

	// overdispersion at bucket, 15-minute and hour scale, and what a
	// deferral (Params.Suspect*) keeps aside for each
	disp, dispDef [dispScales]dispSums
	bucketSecs    int32
	coldMax       float64 // the busiest ColdStartWindow of the first day, one window behind (noteColdRecord)
	barCut        float64 // what the bucket width takes off the significance bars (testsCut)

	// the clock hour of whole 15-minute slots being accumulated for the
	// hour-scale dispersion: reports, profile shape, and the level at the
	// start of the hour (the expectation a window starting there uses)
	hourX, hourShape, hourLev float64
	hourN                     int8

	// current 15-minute slot being accumulated (the same, per slot; accRaw
	// is accX before winsorising)
	accSlot                              int64
	accX, accRaw, accShape, accLev, accN float64

	// daily-cycle alignment (slots) and the evidence for its neighbours
	shift int16
	align alignFit

	// the series' own tail: the largest evidence (significance, before
	// any bar) seen on each of the last UTC days, and the bar it sets
	tailMax [tailDaysMax]float32
	tailDay int64   // UTC day number of the newest entry (0 = none yet)
	holdDay int64   // UTC day on which the open incident (Hold) began
	bar     float64 // Params.TailRank-th largest daily maximum of the previous Params.TailDays days

	ring [ringSize]bucket
	head int // next write position
	n    int // filled entries
}

// NewModel returns an empty model using p's learning parameters.
func NewModel(p Params) *Model {
	return &Model{p: p}
}

// Hold tells the model whether an incident is open on its series. While one
// is, upward learning is clipped hard (Params.HoldWinsor) so that an outage
// does not become the baseline; a step that lasts many hours is still
// absorbed eventually.
func (m *Model) Hold(open bool) {
	if open && !m.hold {
		m.holdDay = floorDiv(m.last, daySecs)
	}
	m.hold = open
}

// Ready reports whether the model has at least Params.MinHistory of history
// at time t; before that only the cold-start rule applies.
func (m *Model) Ready(t time.Time) bool {
	return m.seen && t.Unix()-m.first >= int64(m.p.MinHistory/time.Second)
}

// Level is the current level factor: recent reports relative to the
// time-of-week profile (1 = as usual).
func (m *Model) Level() float64 {
	if m.lev == 0 {
		return 1
	}
	return m.lev
}

// weeks is the number of whole weeks of history at unix time u.
func (m *Model) weeks(u int64) int64 { return (u - m.first) / weekSecs }

// days is the number of whole days of history at unix time u.
func (m *Model) days(u int64) int64 { return (u - m.first) / daySecs }

// slotRate is the learned rate per minute of absolute slot s (unix/900),
// with the current alignment shift, blending the weekly and daily profiles.
func (m *Model) slotRate(s int64, shift int16, u int64) float64 {
	w := mod(s+mondayOffset/slotSecs+int64(shift), slotsPerWeek)
	d := float64(m.day[w%slotsPerDay])
	nw := m.weeks(u)
	if nw <= 0 {
		return d
	}
	wk := float64(m.week[w])
	k := float64(min(nw, 4))
	return (k*wk + d) / (k + 1)
}

// shapeRate is the profile rate per minute at unix time u, linearly
// interpolated between slot centres.
func (m *Model) shapeRate(u int64, shift int16) float64 {
	c := u - slotSecs/2
	s := floorDiv(c, slotSecs)
	f := float64(c-s*slotSecs) / slotSecs
	r := (1-f)*m.slotRate(s, shift, u) + f*m.slotRate(s+1, shift, u)
	return math.Max(r, m.p.RateFloor)
}

// expectShape is the profile's expected count for [u, u+secs), level 1.
func (m *Model) expectShape(u int64, secs int64, shift int16) float64 {
	return m.shapeRate(u+secs/2, shift) * float64(secs) / 60
}

// Expect is the expected count and its normal band for the span [t, t+d),
// as the model stands now. Before MinHistory it returns a zero band.
func (m *Model) Expect(t time.Time, d time.Duration) models.Band {
	if !m.Ready(t) || d <= 0 {
		return models.Band{}
	}
	secs := int64(d / time.Second)
	mu := m.Level() * m.expectShape(t.Unix(), secs, m.shift)
	phi := m.judgedDispersion(float64(secs)/60, t.Unix())
	sd := math.Sqrt(mu + phi*mu*mu)
	return models.Band{Expected: mu, Low: math.Max(0, mu-2*sd), High: mu + 2*sd}
}

// Observe learns one completed bucket [t, t+width) holding count reports
// (unique reporters). Buckets must come in time order; one that starts
// before the previous one ended is ignored. Widths may differ between calls
// (15-minute rollups to seed, then 1-minute counts live).
func (m *Model) Observe(t time.Time, width time.Duration, count float64) {
	u, secs := t.Unix(), int64(width/time.Second)
	if secs <= 0 || math.IsNaN(count) {
		return
	}
	count = math.Max(count, 0)
	if !m.seen {
		m.seen, m.first, m.last = true, u, u
		m.base = u - mod(u+mondayOffset, weekSecs)
		m.accSlot = floorDiv(u, slotSecs)
	}
	if u < m.last {
		return
	}
	m.last = u + secs
	if int32(secs) != m.bucketSecs {
		m.bucketSecs = int32(secs)
		m.barCut = testsCut(m.p.Windows, secs)
	}
	ready := m.days(u) >= 1
	lev := m.Level()
	shape := m.expectShape(u, secs, m.shift)
	mu := lev * shape
	if !ready {
		m.push(u, secs, count, shapeUnknown, lev)
		mu = 0
		if !m.hold {
			m.noteColdRecord(u + secs)
		}
	} else if count == 0 && mu > m.p.GapMean {
		// An ingest gap: a zero where zero is very unlikely. Keep it out
		// of windows and out of learning.
		m.push(u, secs, 0, shapeGap, lev)
		return
	} else {
		m.push(u, secs, count, shape, lev)
	}
	evidence, suspect := 0.0, false
	if ready {
		evidence, suspect = m.evidence(time.Unix(u+secs, 0))
		m.deferFrom(u, suspect)
	}

	// Winsorise before learning so that an outage moves nothing much.
	xc := count
	if ready {
		sd := math.Sqrt(mu)
		hi := mu*(1+m.p.Winsor) + 2*sd + 1
		if m.hold {
			hi = mu * (1 + m.p.HoldWinsor)
		}
		lo := mu/(1+m.p.Winsor) - 2*sd
		xc = math.Min(math.Max(count, lo), hi)

		if !m.hold {
			m.learnDisp(dispBucket, secs, count, mu)
		}

		dl := math.Exp(-float64(secs) / m.p.LevelTau.Seconds())
		m.levNum, m.levDen = dl*m.levNum, dl*m.levDen
		m.defNum, m.defDen = dl*m.defNum, dl*m.defDen
		if m.defFrom != 0 {
			m.defNum += xc
			m.defDen += shape
		} else {
			m.levNum += xc
			m.levDen += shape
		}
		m.deferUntil(u + secs)
		// The level follows the ratio of the decayed sums, but no faster
		// than LevelSlew: a sudden rise is what we look for, not a new level.
		target := (m.levNum + m.p.LevelPrior) / (m.levDen + m.p.LevelPrior)
		step := math.Exp(m.p.LevelSlew * float64(secs) / 3600)
		m.lev = math.Min(math.Max(target, lev/step), lev*step)
	}
	if !ready {
		lev = 0
	}
	m.learnProfile(u, secs, xc, count, shape, lev)
	if ready {
		m.noteTail(u+secs-1, evidence)
	}
}

// deferFrom notes whether the windows ending with the bucket starting at u
// are suspect and, if so, starts deferring level learning from that bucket
// on. While an incident is open nothing is deferred: Hold governs learning,
// and what was kept aside is the incident's start, so it is dropped.
func (m *Model) deferFrom(u int64, suspect bool) {
	if m.hold || m.p.SuspectHold <= 0 {
		m.defNum, m.defDen, m.defFrom, m.spent = 0, 0, 0, false
		m.dispDef = [dispScales]dispSums{}
		return
	}
	if suspect {
		m.suspectAt = u
		if m.defFrom == 0 && !m.spent {
			m.defFrom = u
		}
	}
}

// deferUntil hands the deferred learning over to the level at unix time u
// (the end of the bucket just learned) once no window has been suspect for
// Params.SuspectCalm, or the deferral has lasted Params.SuspectHold: a rise
// that lasts that long is a new level (a launch), not an incident building.
func (m *Model) deferUntil(u int64) {
	calm := u-m.suspectAt > int64(m.p.SuspectCalm/time.Second)
	if m.defFrom != 0 && (calm || u-m.defFrom >= int64(m.p.SuspectHold/time.Second)) {
		m.levNum += m.defNum
		m.levDen += m.defDen
		m.defNum, m.defDen, m.defFrom = 0, 0, 0
		for k := range m.disp {
			m.disp[k].excess += m.dispDef[k].excess
			m.disp[k].meanSq += m.dispDef[k].meanSq
		}
		m.dispDef = [dispScales]dispSums{}
		m.spent = !calm
	} else if m.spent && calm {
		m.spent = false
	}
}

// Bar is the series' own bar at the moment: the Params.TailRank-th largest
// of its daily maximum evidence over the previous Params.TailDays days
// (0 until it has that many days). A window must reach it, as well as
// WarnSignificance, to warn.
func (m *Model) Bar() float64 { return m.bar }

// noteTail records evidence e seen at unix time u in that UTC day's maximum
// and, when a new day begins, recomputes the bar from the previous days.
func (m *Model) noteTail(u int64, e float64) {
	d := floorDiv(u, daySecs)
	if d != m.tailDay {
		from := d - tailDaysMax + 1
		if m.tailDay != 0 {
			from = max(from, m.tailDay+1)
		}
		for dd := from; dd <= d; dd++ {
			m.tailMax[mod(dd, tailDaysMax)] = 0
		}
		m.tailDay = d
		m.bar = 0
		days, rank := min(m.p.TailDays, tailDaysMax-1), m.p.TailRank
		if rank > 0 && rank <= days {
			// rank-th largest of the previous days' maxima (at most 27 values)
			var top [tailDaysMax]float32
			n := 0
			for dd := d - int64(days); dd < d; dd++ {
				v := m.tailMax[mod(dd, tailDaysMax)]
				i := min(n, rank)
				for i > 0 && top[i-1] < v {
					if i < rank {
						top[i] = top[i-1]
					}
					i--
				}
				if i < rank {
					top[i] = v
				}
				n = min(n+1, rank)
			}
			m.bar = float64(top[rank-1])
		}
	}
	// One incident is one entry, however many midnights it spans: while
	// one is open its evidence counts on the day it began.
	if m.hold && m.holdDay > d-tailDaysMax && m.holdDay < d {
		d = m.holdDay
	}
	if e = math.Min(e, 999); float32(e) > m.tailMax[mod(d, tailDaysMax)] {
		m.tailMax[mod(d, tailDaysMax)] = float32(e)
	}
}

// learnProfile spreads a bucket over the 15-minute slots it covers and, when
// a slot is complete, updates the profiles. x is the count winsorised, raw
// as seen; shape is the profile's expectation for the bucket at level 1 and
// lev the level in use (0 before the model is ready).
func (m *Model) learnProfile(u, secs int64, x, raw, shape, lev float64) {
	for secs > 0 {
		s := floorDiv(u, slotSecs)
		part := min(secs, (s+1)*slotSecs-u)
		if s != m.accSlot {
			m.closeSlot()
			m.accSlot = s
		}
		f := float64(part) / float64(secs)
		if m.accN == 0 {
			m.accLev = lev
		}
		m.accX += x * f
		m.accRaw += raw * f
		m.accShape += shape * f
		m.accN += float64(part) / 60
		u += part
		secs -= part
		x -= x * f
		raw -= raw * f
		shape -= shape * f
	}
	if m.accN >= slotSecs/60-1e-9 {
		m.closeSlot()
		m.accSlot++
	}
}

// closeSlot folds the accumulated slot into the profiles, the 15-minute
// dispersion and the alignment check. The dispersion is measured against
// the slot's shape at the level of its start, as the windows expect, so
// that it includes the level's drift within the slot.
func (m *Model) closeSlot() {
	if m.accN <= 0 {
		return
	}
	s, x, raw, shape, mins := m.accSlot, m.accX, m.accRaw, m.accShape, m.accN
	mu := m.accLev * shape
	m.accX, m.accRaw, m.accShape, m.accN = 0, 0, 0, 0
	u, cover, rate := s*slotSecs, mins/15, x/mins
	nd, nw := m.days(u), m.weeks(u)
	if mu > 0 && cover > 0.99 && !m.hold {
		m.learnDisp(dispQuarter, slotSecs, x, mu)
		m.checkShift(s, x, u)
		m.hourSlot(s, x, shape, m.accLev)
	} else {
		m.hourN = 0
	}
	w := mod(s+mondayOffset/slotSecs+int64(m.shift), slotsPerWeek)
	ad := math.Max(1/float64(nd+1), m.p.DayAlpha) * cover
	m.day[w%slotsPerDay] += float32(ad * (rate - float64(m.day[w%slotsPerDay])))
	if nw == 0 {
		// First week: take the slot as seen, not winsorised, even while an
		// incident is open. Its expectation came from the daily profile,
		// which has seen other days of the week only: clipped to it, a
		// first weekend would teach the weekly profile a weekday's shape,
		// and an alarm that this misfit raised would keep it so. An
		// outage seen here fades as later weeks enter the slot, and the
		// daily profile and the level still learn it winsorised.
		m.week[w] = float32(raw / mins)
	} else {
		aw := math.Max(1/float64(nw+1), m.p.WeekAlpha) * cover
		m.week[w] += float32(aw * (rate - float64(m.week[w])))
	}
}

// hourSlot adds a whole, learned 15-minute slot to the clock hour being
// accumulated and, when the hour is complete, folds it into the hour-scale
// dispersion, against the hour's shape at the level of its start. An hour
// with a missing, partial or held slot does not count; lev is the level at
// the start of slot s.
func (m *Model) hourSlot(s int64, x, shape, lev float64) {
	if mod(s, 4) == 0 || m.hourN == 0 {
		m.hourX, m.hourShape, m.hourLev, m.hourN = 0, 0, lev, 0
		if mod(s, 4) != 0 {
			return
		}
	}
	m.hourX += x
	m.hourShape += shape
	m.hourN++
	if m.hourN < 4 {
		return
	}
	m.hourN = 0
	m.learnDisp(dispHour, 3600, m.hourX, m.hourLev*m.hourShape)
}

// checkShift weighs the evidence that the daily cycle has moved by an hour
// (a daylight-saving change, a moved routine) and re-aligns the profile
// when it is strong. Each alignment (current, -1 h, +1 h) is fitted to the
// recent slots in square-root space with its own scale, so the level, which
// follows a misalignment locally, does not hide it: the residual of the
// best-scaled fit is compared, and a neighbour wins only when its residual
// is lower by Params.ShiftZ standard errors. The error of the residual
// difference is that of the count noise (variance of a square-root count,
// measured from the residual itself, at least the Poisson 1/4) acting on
// the difference between the two alignments' profiles. On a noisy series
// the alignments differ by less than the noise, so nothing moves.
func (m *Model) checkShift(s int64, x float64, u int64) {
	if m.weeks(u) < 1 {
		return
	}
	var e [3]float64
	for i, d := range alignCandidates {
		e[i] = math.Sqrt(m.slotRate(s, m.shift+d, u) * slotSecs / 60)
	}
	f := &m.align
	f.add(math.Exp(-float64(slotSecs)/m.p.ShiftTau.Seconds()), math.Sqrt(x), e)
	if f.n < alignMinSlots || f.ee[1] <= 0 {
		return
	}
	r0, c := f.residual(1), f.xe[1]/f.ee[1]
	best, bestZ := 1, m.p.ShiftZ
	for j, i := range alignNeighbours {
		if f.ee[i] <= 0 {
			continue
		}
		ri := f.residual(i)
		noise := math.Max(0.25, math.Min(r0, ri)/f.n)
		sd := 2 * math.Sqrt(noise*c*c*f.dd[j])
		if z := (r0 - ri) / math.Max(sd, 1e-9); z > bestZ {
			best, bestZ = i, z
		}
	}
	if best != 1 {
		m.shift += alignCandidates[best]
		m.align = alignFit{}
	}
}

// alignCandidates are the alignments checkShift compares, in slots:
// an hour earlier, as now, an hour later.
var alignCandidates = [3]int16{-4, 0, 4}

// alignNeighbours are the indices in alignCandidates of the two neighbours
// of the current alignment (index 1), in the order alignFit.dd keeps them.
var alignNeighbours = [2]int{0, 2}

// alignMinSlots is how many slots (of decayed weight) the alignment check
// needs before it judges: six hours.
const alignMinSlots = 24

// alignFit holds decayed sums, over slots, of the square-root count x and
// each candidate's square-root expectation e_i: n, Σx², Σx·e_i, Σe_i² and,
// for the two neighbours, Σ(e_i - e_current)².
type alignFit struct {
	n, xx  float64
	xe, ee [3]float64
	dd     [2]float64
}

func (f *alignFit) add(dec, x float64, e [3]float64) {
	f.n = dec*f.n + 1
	f.xx = dec*f.xx + x*x
	for i := range e {
		f.xe[i] = dec*f.xe[i] + x*e[i]
		f.ee[i] = dec*f.ee[i] + e[i]*e[i]
	}
	for j, i := range alignNeighbours {
		d := e[i] - e[1]
		f.dd[j] = dec*f.dd[j] + d*d
	}
}

// residual is the sum of squares left when candidate i, scaled as well as
// it can be, explains the square-root counts.
func (f *alignFit) residual(i int) float64 {
	return f.xx - f.xe[i]*f.xe[i]/f.ee[i]
}

// noteColdRecord keeps the busiest ColdStartWindow seen during the first
// day, for the cold-start rule: the window that ended one window before end
// (buckets starting in [end-2W, end-W)), so that a burst judged now is never
// compared with itself. A bucket at least W wide (the 15-minute rollups a
// series is seeded with) counts pro rata as one window.
func (m *Model) noteColdRecord(end int64) {
	w := int64(m.p.ColdStartWindow / time.Second)
	var sum float64
	for i := 0; i < m.n; i++ {
		b := m.ring[mod(int64(m.head-1-i), ringSize)]
		bs := int64(b.start) + m.base
		if bs >= end-w {
			continue
		}
		if int64(b.secs) >= w {
			if sum == 0 {
				sum = float64(b.x) * float64(w) / float64(b.secs)
			}
			break
		}
		if bs < end-2*w {
			break
		}
		sum += float64(b.x)
	}
	m.coldMax = math.Max(m.coldMax, sum)
}

// push appends a bucket to the recent ring.
func (m *Model) push(u, secs int64, x, shape, lev float64) {
	m.ring[m.head] = bucket{start: int32(u - m.base), secs: int32(secs), x: float32(x), shape: float32(shape), lev: float32(lev)}
	m.head = (m.head + 1) % ringSize
	m.n = min(m.n+1, ringSize)
}

// The scales at which overdispersion is measured.
const (
	dispBucket = iota
	dispQuarter
	dispHour
	dispScales
)

// dispSums are the decayed sums of one scale's overdispersion estimate:
// the excess of squared residuals over the mean, and the squared means.
type dispSums struct{ excess, meanSq float64 }

// learnDisp teaches scale k (a span of secs seconds) one residual: x
// reports where mu were expected. The residual is clipped at
// Params.DispersionClip sd, the sums are decayed over Params.DispersionTau,
// and the residual's excess and squared mean are added, or kept aside while
// level learning is deferred: an excursion that may be an outage must not
// teach what noise looks like either.
func (m *Model) learnDisp(k int, secs int64, x, mu float64) {
	lim := m.p.DispersionClip * math.Sqrt(mu+m.dispersion(float64(secs)/60)*mu*mu+1)
	r := math.Max(-lim, math.Min(lim, x-mu))
	excess, meanSq := r*r-mu, mu*mu
	dec := math.Exp(-float64(secs) / m.p.DispersionTau.Seconds())
	d, def := &m.disp[k], &m.dispDef[k]
	d.excess, d.meanSq = dec*d.excess, dec*d.meanSq
	def.excess, def.meanSq = dec*def.excess, dec*def.meanSq
	if m.defFrom != 0 {
		def.excess += excess
		def.meanSq += meanSq
		return
	}
	d.excess += excess
	d.meanSq += meanSq
}

// dispersionPriorWeight is the weight (in squared expected counts) of
// Params.PriorDispersion in the dispersion estimates: it dominates on quiet
// series, where counts say little about overdispersion, and fades on busy ones.
const dispersionPriorWeight = 25

// dispersion is the relative variance of the model's error for a window of
// w minutes: phi(w) = s2 + g/w, fitted up to 15 minutes to what was seen at
// bucket and 15-minute scale, and beyond to what was seen at 15-minute and
// hour scale, floored at Params.MinDispersion.
func (m *Model) dispersion(w float64) float64 {
	floor, prior, w0 := m.p.MinDispersion, m.p.PriorDispersion, float64(dispersionPriorWeight)
	est := func(k int) float64 { return math.Max(0, (m.disp[k].excess+prior*w0)/(m.disp[k].meanSq+w0)) }
	q := est(dispQuarter)
	if w > 15 {
		// The error an hour sees was measured: part of the 15-minute
		// error (profile noise per slot, short swings) averages out.
		h := est(dispHour)
		phi := h + (q-h)*(1/w-1.0/60)/(1.0/15-1.0/60)
		return math.Max(floor, math.Min(phi, math.Max(q, h)))
	}
	b := q
	bm := float64(m.bucketSecs) / 60
	if bm < 15 {
		b = est(dispBucket)
	}
	s2, g := q, 0.0
	if bm < 15 && b > q {
		g = (b - q) / (1/bm - 1.0/15)
		s2 = math.Max(0, q-g/15)
	}
	return math.Max(floor, s2+g/math.Max(w, bm))
}

// judgedDispersion is the relative variance an expectation for a window of
// w minutes is judged with at unix time u: the measured dispersion, and
// during the series' first week at least Params.PriorDispersion. Until a
// week has passed, the profile has not seen every day of the week: a first
// weekend is expected with the weekdays' daily shape, and how far weekends
// differ (often a third less traffic, and later) is as unmeasured as the
// noise was before the first residuals. What was measured on the first
// days cannot speak for it. Learning measures against dispersion(), not
// this.
func (m *Model) judgedDispersion(w float64, u int64) float64 {
	return m.firstWeekFloor(m.dispersion(w), u)
}

// firstWeekFloor is phi raised to Params.PriorDispersion while unix time u
// is in the series' first week (judgedDispersion).
func (m *Model) firstWeekFloor(phi float64, u int64) float64 {
	if u-m.first < weekSecs {
		return math.Max(phi, m.p.PriorDispersion)
	}
	return phi
}

func mod(a, b int64) int64 {
	r := a % b
	if r < 0 {
		r += b
	}
	return r
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
