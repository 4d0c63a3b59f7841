package detector

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
)

// regionSim feeds one global model and one model per region from per-region
// rates (the service's daily peak is peak reports a minute) drawn with seed,
// evaluating with Regionalise after every minute.
func regionSim(t *testing.T, seed uint64, peak float64, spike func(region string, t time.Time) float64) (global, regional map[string]int) {
	t.Helper()
	p := DefaultParams()
	shares := map[string]float64{"US": 0.5, "DE": 0.3, "JP": 0.2}
	codes := []string{"US", "DE", "JP"}
	r := rand.New(rand.NewPCG(seed, 12))
	gs := NewSeries(p, 1, models.ScopeGlobal)
	rs := map[string]*Series{}
	for _, c := range codes {
		rs[c] = NewSeries(p, 1, c)
	}
	global, regional = map[string]int{}, map[string]int{}
	now := t0
	feed := func(width time.Duration, live bool) {
		mid := now.Add(width / 2)
		total := 0.0
		for _, c := range codes {
			x := poisson(r, width.Minutes()*spike(c, mid)*shares[c]*peak*daily(mid, 10, 0))
			total += x
			rs[c].Held = gs.Tracker.Open()
			rs[c].Advance(now, width, x)
		}
		gs.Advance(now, width, total)
		now = now.Add(width)
		if !live {
			return
		}
		g := gs.Decide(now, 0)
		regs := make([]Decision, 0, len(codes))
		for _, c := range codes {
			d := rs[c].Decide(now, 0)
			d.Scope = c
			regs = append(regs, d)
		}
		series := make([]*Series, 0, len(codes))
		for _, c := range codes {
			series = append(series, rs[c])
		}
		StepService(gs, g, series, regs, p, func(i int, s *Series, d Decision) {
			if s.Step(d, p) != TransitionOpened {
				return
			}
			if i < 0 {
				global[models.ScopeGlobal]++
			} else {
				regional[codes[i]]++
			}
		})
	}
	for now.Before(t0.Add(14 * 24 * time.Hour)) {
		feed(15*time.Minute, false)
	}
	for now.Before(t0.Add(15 * 24 * time.Hour)) {
		feed(time.Minute, true)
	}
	return global, regional
}

func TestRegionalSpike(t *testing.T) {
	start := t0.Add(14*24*time.Hour + 14*time.Hour)
	in := func(t time.Time) bool { return !t.Before(start) && t.Before(start.Add(time.Hour)) }

	for _, seed := range seeds {
		g, r := regionSim(t, seed, 20, func(region string, t time.Time) float64 {
			if region == "DE" && in(t) {
				return 6
			}
			return 1
		})
		if g[models.ScopeGlobal] != 0 || r["DE"] != 1 || r["US"]+r["JP"] != 0 {
			t.Errorf("seed %d, spike in DE only: global %v, regional %v; want one DE incident", seed, g, r)
		}

		g, r = regionSim(t, seed, 20, func(region string, t time.Time) float64 {
			if in(t) {
				return 6
			}
			return 1
		})
		if g[models.ScopeGlobal] != 1 || len(r) != 0 {
			t.Errorf("seed %d, spike everywhere: global %v, regional %v; want one global incident", seed, g, r)
		}
	}
}

// TestSmallRegionalRise is the public evaluation's one missed outage
// (svc_102_009#2) as the live runner sees it: a service at 2.2 reports a
// minute, one region (30 % of its users) at 3.5x for 42 minutes, so the
// global series rises only 1.75x. `outcry detect` gets the global series
// alone, where the rise is within that series' hour-to-hour noise; the live
// runner also keeps the region's own series, where it is a 3.5x rise, and
// can open a regional incident for it, not a global one.
//
// That is a matter of chance, not a certainty: over the 30 seeds here the
// region's incident opened in 19 (the test once ran seed 11 alone, one of
// them). The test holds the rate to at least half, and never an incident of
// a region that did not rise, nor more than a few global ones.
func TestSmallRegionalRise(t *testing.T) {
	start := t0.Add(14*24*time.Hour + 14*time.Hour)
	const runs = 30
	caught, global := 0, 0
	for seed := uint64(1); seed <= runs; seed++ {
		g, r := regionSim(t, seed, 2.2, func(region string, t time.Time) float64 {
			if region == "DE" && !t.Before(start) && t.Before(start.Add(42*time.Minute)) {
				return 3.5
			}
			return 1
		})
		if r["US"]+r["JP"] != 0 || r["DE"] > 1 {
			t.Errorf("seed %d, 3.5x in DE (30 %% of 2.2/min): regional %v; want at most one DE incident", seed, r)
		}
		caught += r["DE"]
		global += g[models.ScopeGlobal]
	}
	t.Logf("3.5x in DE: a DE incident in %d of %d seeds, a global one in %d", caught, runs, global)
	if caught < runs/2 || global > runs/10 {
		t.Errorf("3.5x in DE: a DE incident in %d of %d seeds (want at least half), a global one in %d (want at most %d)", caught, runs, global, runs/10)
	}
}
