package detector

import "math"

// The series' own threshold. A count model is never the whole truth: real
// series have surges no negative binomial predicts (news-driven chatter
// brings 10-50x bursts several times a week). So each rise test keeps the
// distribution of its past runs' highest evidence, decayed over tailTau,
// and its threshold is also the height that those runs exceed Budget/nTests
// times a week, extrapolated from the upper part of that distribution
// (peaks over threshold) with an exponential tail whose scale is measured:
// about the model's own (1) for a series the count model describes, larger
// for one it does not. The largest run is set aside as a real outage, and
// the fit stays well below the largest runs, so that the few real outages
// of three weeks do not raise it much.
const (
	tailTau     = 21 * daySecs // seconds of memory: the history the runner seeds
	tailBins    = 40           // peaks are kept by level oddsBase * tailGrowth^j
	tailGrowth  = 1.25         // ... up to about 22,000 nats
	tailOutages = 1.0          // the largest runs set aside as real outages: one in the memory
	tailMinRate = 1.0          // the fit's rarest quantile is exceeded at least once a week, or it is not made
	tailSpread  = 4.0          // it is a quarter of the median run's rate: many runs above it, few outages among them
)

// tail is a decayed histogram of run peaks above oddsBase.
type tail struct {
	hist  [tailBins]float32
	at    int64 // unix time the histogram was decayed to
	start int64 // unix time observation began
}

// decay brings the histogram to unix time u.
func (t *tail) decay(u int64) {
	if t.start == 0 {
		t.start, t.at = u, u
	}
	if u <= t.at {
		return
	}
	d := decayFactor(u - t.at)
	for i := range t.hist {
		t.hist[i] *= d
	}
	t.at = u
}

// decayFactor is the histogram's decay over dt seconds. The steps of a
// bucket (a minute live, 15 minutes from history) are computed once: the
// same expression of the same number, so the same factor.
func decayFactor(dt int64) float32 {
	switch dt {
	case 60:
		return decayMinute
	case 900:
		return decayBucket
	}
	return computeDecay(dt)
}

func computeDecay(dt int64) float32 { return float32(math.Exp(-float64(dt) / tailTau)) }

var decayMinute, decayBucket = computeDecay(60), computeDecay(900)

// add records a run whose highest evidence was peak, ending at unix time u.
func (t *tail) add(u int64, peak float64) {
	t.decay(u)
	if peak <= oddsBase {
		return
	}
	j := min(int(math.Log(peak/oddsBase)/math.Log(tailGrowth)), tailBins-1)
	t.hist[j]++
}

// quantile is the level that runs exceeded at rate r per week, over weeks
// of decayed observation, once the skip largest runs are set aside; it is
// interpolated within a bin, and 0 when too few runs are left.
func (t *tail) quantile(r, weeks, skip float64) float64 {
	above := -skip // runs in the bins above j, less those set aside
	for j := tailBins - 1; j >= 0; j-- {
		in := float64(t.hist[j])
		if (above+in)/weeks >= r {
			// within bin j, the runs set aside are its highest, then those
			// still needed to reach rate r lie above the level
			counted := math.Min(in, above+in)
			over := in - counted + r*weeks - math.Max(above, 0)
			return oddsBase * math.Pow(tailGrowth, float64(j)+1-over/in)
		}
		above += in
	}
	return 0
}

// bar is the threshold at unix time u at which past runs, less the largest
// (set aside as a real outage), are expected to exceed
// budget/nTests times a week; or model when that is higher or the tail says
// too little. The runs' peaks are fitted with an exponential tail, the count
// model's own shape, with a measured scale: between the median run (rate r1)
// and the one exceeded r3 = r1/tailSpread times a week (at least
// tailMinRate, or the fit is not made), sigma = (y3 - y1) / ln(r1/r3), and
// the threshold extrapolates from y3 to the budget b: y3 + sigma ln(r3/b).
// The quantiles stay well below the largest runs, so that the few real
// outages among them move the fit by a rank or two at most.
func (t *tail) bar(u int64, model, budget float64) float64 {
	t.decay(u)
	weeks := tailTau * (1 - math.Exp(-float64(u-t.start)/tailTau)) / weekSecs
	if weeks <= 0 {
		return model
	}
	var n float64
	for _, v := range t.hist {
		n += float64(v)
	}
	skip := math.Min(n, tailOutages)
	r1 := (n - skip) / weeks / 2
	r3 := r1 / tailSpread
	b := budget / nTests
	if r3 < tailMinRate || r3 <= b {
		return model
	}
	y1, y3 := t.quantile(r1, weeks, skip), t.quantile(r3, weeks, skip)
	if y3 <= y1 {
		return model
	}
	sigma := (y3 - y1) / math.Log(r1/r3)
	return math.Max(model, y3+sigma*math.Log(r3/b))
}
