package detector

import "math"

// The profile: reports per minute for each 15-minute slot of the week and
// of the day, learned as running means (then exponentially, WeekAlpha and
// DayAlpha), read with linear interpolation between slot centres and blended
// (weekly weight = weeks of history, at most 4; daily weight 1). The daily
// cycle's alignment follows a moved cycle (daylight saving) by whole hours.
const (
	weekAlpha = 0.25    // weight of a new week in a time-of-week slot (floor): about a month
	dayAlpha  = 1.0 / 7 // weight of a new day in a time-of-day slot (floor): about a week
	rateFloor = 1.0 / 1440
	shiftTau  = 24 * 3600 // seconds of memory of the alignment check: a day
	shiftZ    = 4         // a neighbouring alignment must fit better by this many standard errors
)

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
	return math.Max(r, rateFloor)
}

// expectShape is the profile's expected count for [u, u+secs), level 1.
func (m *Model) expectShape(u int64, secs int64, shift int16) float64 {
	return m.shapeRate(u+secs/2, shift) * float64(secs) / 60
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
// the slot's shape at the level of its start, so that it includes the
// level's drift within the slot.
func (m *Model) closeSlot() {
	if m.accN <= 0 {
		return
	}
	s, x, raw, shape, mins := m.accSlot, m.accX, m.accRaw, m.accShape, m.accN
	mu := m.accLev * shape
	if mu > 0 {
		// Each bucket was winsorised on its own, which at a minute's
		// few reports lets a slot learn twice its expectation; the slot
		// is clipped as a whole as well.
		x = math.Min(math.Max(x, mu/(1+winsor)-2*math.Sqrt(mu)), mu*(1+winsor)+2*math.Sqrt(mu)+1)
	}
	m.accX, m.accRaw, m.accShape, m.accN = 0, 0, 0, 0
	u, cover, rate := s*slotSecs, mins/15, x/mins
	nd, nw := m.days(u), m.weeks(u)
	if mu > 0 && cover > 0.99 && !m.hold {
		m.learnDisp(dispQuarter, slotSecs, x, mu)
		m.checkShift(s, x, u)
	}
	w := mod(s+mondayOffset/slotSecs+int64(m.shift), slotsPerWeek)
	ad := math.Max(1/float64(nd+1), dayAlpha) * cover
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
		aw := math.Max(1/float64(nw+1), weekAlpha) * cover
		m.week[w] += float32(aw * (rate - float64(m.week[w])))
	}
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
	f.add(math.Exp(-float64(slotSecs)/shiftTau), math.Sqrt(x), e)
	if f.n < alignMinSlots || f.ee[1] <= 0 {
		return
	}
	r0, c := f.residual(1), f.xe[1]/f.ee[1]
	best, bestZ := 1, float64(shiftZ)
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
