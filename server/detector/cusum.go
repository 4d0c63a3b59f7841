package detector

import (
	"math"
	"time"
)

// The sequential tests. Each completed bucket gives the log-likelihood
// ratio of its count under a rise of rho over the expectation against no
// rise, on the negative binomial the baseline learns. A CUSUM sums them,
// never below zero; a test fires when the sum reaches its threshold, the
// larger of the count model's (modelBar, from the budget) and the series'
// own (tail.bar, from the budget and the past runs of the test).

// nbLLR is the log-likelihood ratio of x reports under a rise of rho over
// mean mu against mean mu, both negative binomial with relative variance
// phi (variance mu + phi mu^2; phi = 0 is Poisson). Counts need not be
// integers.
func nbLLR(x, mu, phi, rho float64) float64 {
	if mu <= 0 {
		return 0
	}
	if phi < 1e-9 {
		return x*math.Log(rho) - (rho-1)*mu
	}
	r := 1 / phi
	return x*math.Log1p((rho-1)*r/(rho*mu+r)) - r*math.Log1p((rho-1)*mu/(mu+r))
}

// cusum is one rise test: the statistic, its current run (the buckets since
// it last left zero: when, reports, expected, the run's evidence
// (Model.runEvidence) after the last bucket and its highest), and the
// distribution of past runs' highest evidence (tail.go).
type cusum struct {
	s, e, peak float64
	from       int64 // unix start of the run, 0 = at rest
	x, mu      float64
	tail       tail
}

// step folds in one bucket [u, u+secs) with x reports, mu expected, and
// log-likelihood ratio l.
func (c *cusum) step(u, secs int64, x, mu, l float64) {
	if c.s == 0 {
		if l <= 0 {
			return
		}
		c.from, c.x, c.mu, c.peak = u, 0, 0, 0
	}
	c.s = math.Max(0, c.s+l)
	if c.s == 0 {
		c.end(u + secs)
		return
	}
	c.x += x
	c.mu += mu
}

// note records the run's evidence after a bucket (Model.runEvidence).
func (c *cusum) note(e float64) {
	c.e = e
	c.peak = math.Max(c.peak, e)
}

// end closes the current run at unix time u: its peak joins the tail, the
// statistic rests at zero.
func (c *cusum) end(u int64) {
	if c.from != 0 {
		c.tail.add(u, c.peak)
	}
	c.s, c.e, c.peak, c.from, c.x, c.mu = 0, 0, 0, 0, 0, 0
}

// since is the start of the run as a time (zero when at rest).
func (c *cusum) since() time.Time {
	if c.from == 0 {
		return time.Time{}
	}
	return time.Unix(c.from, 0).UTC()
}

// recovery is the mirror test: a CUSUM of the evidence for the counts as
// expected against a WarnRise rise, and since when it has been running.
type recovery struct {
	r    float64
	from int64
}

func (c *recovery) step(u int64, l float64) {
	if c.r == 0 {
		if l <= 0 {
			return
		}
		c.from = u
	}
	c.r = math.Max(0, c.r+l)
}
