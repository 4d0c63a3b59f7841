package detector

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestNBLLR(t *testing.T) {
	poissonLLR := func(x, mu, rho float64) float64 { return x*math.Log(rho) - (rho-1)*mu }
	for _, c := range []struct{ x, mu, rho float64 }{{0, 5, 2}, {10, 5, 2}, {3, 0.05, 16}, {400, 100, 4}} {
		if got, want := nbLLR(c.x, c.mu, 0, c.rho), poissonLLR(c.x, c.mu, c.rho); math.Abs(got-want) > 1e-9 {
			t.Errorf("nbLLR(%g, %g, 0, %g) = %g, want the Poisson %g", c.x, c.mu, c.rho, got, want)
		}
		if got, want := nbLLR(c.x, c.mu, 1e-7, c.rho), poissonLLR(c.x, c.mu, c.rho); math.Abs(got-want) > 1e-3*math.Max(1, math.Abs(want)) {
			t.Errorf("nbLLR(%g, %g, 1e-7, %g) = %g, want close to the Poisson %g", c.x, c.mu, c.rho, got, want)
		}
	}
	// Overdispersion weakens the evidence of a high count, and the evidence
	// grows with the count.
	if nbLLR(30, 10, 0.1, 2) >= nbLLR(30, 10, 0, 2) {
		t.Error("overdispersion did not weaken the evidence")
	}
	if !(nbLLR(5, 10, 0.1, 2) < 0 && nbLLR(15, 10, 0.1, 2) < nbLLR(25, 10, 0.1, 2)) {
		t.Error("evidence is not increasing in the count")
	}
	// Under the null, e^LLR averages to 1 (a likelihood ratio): Poisson.
	r := rand.New(rand.NewPCG(1, 2))
	var sum float64
	const n = 200000
	for i := 0; i < n; i++ {
		sum += math.Exp(nbLLR(poisson(r, 3), 3, 0, 2))
	}
	if m := sum / n; math.Abs(m-1) > 0.05 {
		t.Errorf("E[exp(LLR)] under the null = %.3f, want 1", m)
	}
}

// TestModelBar: the threshold follows from the budget and the bucket width
// by Lorden's bound, so 1- and 5-minute buckets keep the same budget.
func TestModelBar(t *testing.T) {
	for _, c := range []struct {
		budget float64
		secs   int64
	}{{0.1, 60}, {0.1, 300}, {0.2, 60}, {0.1, 900}} {
		want := math.Log(float64(weekSecs/c.secs) * nTests / c.budget)
		if got := modelBar(c.budget, c.secs); math.Abs(got-want) > 1e-9 {
			t.Errorf("modelBar(%g, %d) = %.3f, want %.3f", c.budget, c.secs, got, want)
		}
	}
	if d := modelBar(0.1, 60) - modelBar(0.1, 300); math.Abs(d-math.Log(5)) > 1e-9 {
		t.Errorf("1-minute bar is %.3f above the 5-minute one, want ln 5", d)
	}
}

// TestTailBar: the series' own threshold from its runs' peaks. Runs drawn
// from the model's own exponential tail keep the model's threshold; a
// heavier tail raises it to where the budget says; a few huge runs (real
// outages) move it little; too few runs say nothing.
func TestTailBar(t *testing.T) {
	const budget = 0.1
	model := modelBar(budget, 60)
	week := int64(weekSecs)
	fill := func(seed uint64, perWeek, scale float64, outages int) *tail {
		r := rand.New(rand.NewPCG(seed, 1))
		tl := &tail{}
		start := int64(1_000_000_000)
		tl.decay(start)
		n := int(perWeek * 3)
		for i := 0; i < n; i++ {
			tl.add(start+int64(i)*3*week/int64(n), oddsBase+r.ExpFloat64()*scale)
		}
		for i := 0; i < outages; i++ {
			tl.add(start+3*week-int64(i+1)*3600, 500)
		}
		return tl
	}
	at := int64(1_000_000_000) + 3*week
	for _, seed := range seeds {
		if got := fill(seed, 60, 1, 0).bar(at, model, budget); got != model {
			t.Errorf("seed %d, model-like tail: bar %.1f, want the model's %.1f", seed, got, model)
		}
		heavy := fill(seed, 60, 4, 0).bar(at, model, budget)
		// 60 runs a week above oddsBase, exponential with scale 4: the rate
		// above y is 60 e^-(y-oddsBase)/4, which is budget/nTests at:
		want := oddsBase + 4*math.Log(60/(budget/nTests))
		if heavy < model || math.Abs(heavy-want) > 0.2*want {
			t.Errorf("seed %d, tail of scale 4: bar %.1f, want about %.1f", seed, heavy, want)
		}
		// An outage counts as one run however large: the largest run is
		// set aside, and each outage moves the quantiles by one rank.
		if got := fill(seed, 60, 4, 1).bar(at, model, budget); math.Abs(got-heavy) > 0.08*heavy {
			t.Errorf("seed %d, an outage in three weeks moved the bar from %.1f to %.1f", seed, heavy, got)
		}
		if got := fill(seed, 60, 4, 3).bar(at, model, budget); math.Abs(got-heavy) > 0.2*heavy {
			t.Errorf("seed %d, three outages in three weeks moved the bar from %.1f to %.1f", seed, heavy, got)
		}
		if got := fill(seed, 2, 4, 0).bar(at, model, budget); got != model {
			t.Errorf("seed %d, two runs a week: bar %.1f, want the model's %.1f", seed, got, model)
		}
	}
}
