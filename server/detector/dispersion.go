package detector

import "math"

// Overdispersion: report counts are burstier than Poisson and the baseline
// is never exact. The model tracks the relative excess variance
// ((x-mu)^2 - mu) / mu^2 at the bucket's scale and at 15-minute scale,
// pooled over time, and fits phi(w) = s2 + g/w through the two: s2 is the
// baseline's slow error, which does not average out, g/w the burstiness,
// which does.
const (
	dispersionTau   = 72 * 3600 // seconds of memory: several daily cycles
	dispersionClip  = 3         // residuals beyond this many sd are outliers, not noise
	minDispersion   = 0.01      // the baseline is never better than ±10 %
	priorDispersion = 0.1       // ±32 % until measured, and in the first week
	// dispersionPriorWeight is the weight of priorDispersion, in the units
	// of information learnDisp weighs residuals by (a busy bucket carries
	// about 1/(2 phi^2), one expecting 0.05 reports about 0.0001): it
	// dominates on quiet series, where counts say little about
	// overdispersion, and fades within hours on busy ones.
	dispersionPriorWeight = 25
)

// The scales at which overdispersion is measured.
const (
	dispBucket = iota
	dispQuarter
	dispScales
)

// dispSums are the decayed sums of one scale's overdispersion estimate:
// the excess of squared residuals over the mean, and the squared means,
// each weighted by the information the residual carries.
type dispSums struct{ excess, meanSq float64 }

// learnDisp teaches scale k (a span of secs seconds) one residual: x
// reports where mu were expected. The residual is clipped at dispersionClip
// sd, the sums are decayed over dispersionTau, and the residual's excess and
// squared mean are added, or kept aside while level learning is deferred: an
// excursion that may be an outage must not teach what noise looks like
// either.
func (m *Model) learnDisp(k int, secs int64, x, mu float64) {
	v := mu + m.dispersion(float64(secs)/60)*mu*mu
	lim := dispersionClip * math.Sqrt(v+1)
	r := math.Max(-lim, math.Min(lim, x-mu))
	// Each residual counts by the information it carries about phi:
	// w = mu^2 / Var(r^2), with Var(r^2) about v + 2v^2. A busy bucket
	// measures phi well; a bucket expecting 0.05 reports says almost
	// nothing, and unweighted a year of them would be noise.
	w := mu * mu / (v + 2*v*v)
	excess, meanSq := w*(r*r-mu), w*mu*mu
	dec := math.Exp(-float64(secs) / dispersionTau)
	d, def := &m.disp[k], &m.dispDef[k]
	d.excess, d.meanSq = dec*d.excess, dec*d.meanSq
	def.excess, def.meanSq = dec*def.excess, dec*def.meanSq
	if m.lv.defFrom != 0 {
		def.excess += excess
		def.meanSq += meanSq
		return
	}
	d.excess += excess
	d.meanSq += meanSq
}

// handDispersion adds what a deferral kept aside to the estimates (keep)
// or drops it, and empties the deferral's sums.
func (m *Model) handDispersion(keep bool) {
	if keep {
		for k := range m.disp {
			m.disp[k].excess += m.dispDef[k].excess
			m.disp[k].meanSq += m.dispDef[k].meanSq
		}
	}
	m.dispDef = [dispScales]dispSums{}
}

// dispersion is the relative variance of the model's error for a span of
// w minutes: phi(w) = s2 + g/w fitted to what was seen at bucket and
// 15-minute scale, floored at minDispersion. A part of a bucket (the one in
// progress) is burstier than a whole one, as the fit says.
func (m *Model) dispersion(w float64) float64 {
	est := func(k int) float64 {
		return math.Max(0, (m.disp[k].excess+priorDispersion*dispersionPriorWeight)/(m.disp[k].meanSq+dispersionPriorWeight))
	}
	q := est(dispQuarter)
	b, bm := q, float64(m.bucketSecs)/60
	if bm < 15 {
		b = est(dispBucket)
	}
	s2, g := q, 0.0
	if bm < 15 && b > q {
		g = (b - q) / (1/bm - 1.0/15)
		s2 = math.Max(0, q-g/15)
	}
	return math.Max(minDispersion, s2+g/math.Max(w, 1.0/60))
}

// judgedDispersion is the relative variance a span of w minutes is judged
// with at unix time u: the measured dispersion, plus the profile's own
// uncertainty there, and during the series' first week at least
// priorDispersion. Learning measures against dispersion(), not this.
//
// The profile's uncertainty: a slot's rate rests on the reports it has
// seen, about rate x 15 minutes x days of history (at most a week: the
// daily profile's memory), so its relative variance is about one over
// that. On a busy series it is nothing; on one with a report an hour and a
// day of history, an empty slot expected nearly nothing, and its first
// report would otherwise be a 100-fold rise.
//
// The first week: until a week has passed, the profile has not seen every
// day of the week: a first weekend is expected with the weekdays' daily
// shape, and how far weekends differ is as unmeasured as the noise was
// before the first residuals.
func (m *Model) judgedDispersion(w float64, u int64) float64 {
	days := math.Min(float64(u-m.first)/daySecs, 7)
	phi := m.dispersion(w) + 1/(1+m.shapeRate(u, m.shift)*slotSecs/60*days)
	if u-m.first < weekSecs {
		return math.Max(phi, priorDispersion)
	}
	return phi
}
