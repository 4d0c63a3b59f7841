package detector

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
)

// regionSim feeds one global model and one model per region from per-region
// rates (the service's daily peak is peak reports a minute), evaluating with
// Regionalise after every minute.
func regionSim(t *testing.T, peak float64, spike func(region string, t time.Time) float64) (global, regional map[string]int) {
	t.Helper()
	p := DefaultParams()
	shares := map[string]float64{"US": 0.5, "DE": 0.3, "JP": 0.2}
	codes := []string{"US", "DE", "JP"}
	r := rand.New(rand.NewPCG(11, 12))
	gm := NewModel(p)
	gtr := NewTracker(1, models.ScopeGlobal)
	rm, rtr := map[string]*Model{}, map[string]*Tracker{}
	for _, c := range codes {
		rm[c], rtr[c] = NewModel(p), NewTracker(1, c)
	}
	global, regional = map[string]int{}, map[string]int{}
	now := t0
	feed := func(width time.Duration, live bool) {
		mid := now.Add(width / 2)
		total := 0.0
		for _, c := range codes {
			x := poisson(r, width.Minutes()*spike(c, mid)*shares[c]*peak*daily(mid, 10, 0))
			total += x
			rm[c].Hold(rtr[c].Open())
			rm[c].Observe(now, width, x)
		}
		gm.Hold(gtr.Open())
		gm.Observe(now, width, total)
		now = now.Add(width)
		if !live {
			return
		}
		g := gm.Decide(now, 0)
		regs := make([]Decision, 0, len(codes))
		for _, c := range codes {
			d := rm[c].Decide(now, 0)
			d.Scope = c
			regs = append(regs, d)
		}
		g, regs = Regionalise(g, regs, p)
		if gtr.Step(g, p) == EventOpened {
			global[models.ScopeGlobal]++
		}
		for i, c := range codes {
			if rtr[c].Step(regs[i], p) == EventOpened {
				regional[c]++
			}
		}
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

	g, r := regionSim(t, 20, func(region string, t time.Time) float64 {
		if region == "DE" && in(t) {
			return 6
		}
		return 1
	})
	if g[models.ScopeGlobal] != 0 || r["DE"] != 1 || r["US"]+r["JP"] != 0 {
		t.Errorf("spike in DE only: global %v, regional %v; want one DE incident", g, r)
	}

	g, r = regionSim(t, 20, func(region string, t time.Time) float64 {
		if in(t) {
			return 6
		}
		return 1
	})
	if g[models.ScopeGlobal] != 1 || len(r) != 0 {
		t.Errorf("spike everywhere: global %v, regional %v; want one global incident", g, r)
	}
}

// TestSmallRegionalRise is the public evaluation's one missed outage
// (svc_102_009#2) as the live runner sees it: a service at 2.2 reports a
// minute, one region (30 % of its users) at 3.5x for 42 minutes, so the
// global series rises only 1.75x. `outcry detect` gets the global series
// alone, where the rise is within that series' hour-to-hour noise; the live
// runner also keeps the region's own series, where it is a 3.5x rise, and
// opens a regional incident for it, not a global one.
func TestSmallRegionalRise(t *testing.T) {
	start := t0.Add(14*24*time.Hour + 14*time.Hour)
	g, r := regionSim(t, 2.2, func(region string, t time.Time) float64 {
		if region == "DE" && !t.Before(start) && t.Before(start.Add(42*time.Minute)) {
			return 3.5
		}
		return 1
	})
	if g[models.ScopeGlobal] != 0 || r["DE"] != 1 || r["US"]+r["JP"] != 0 {
		t.Errorf("3.5x in DE (30 %% of 2.2/min): global %v, regional %v; want one DE incident", g, r)
	}
}

// TestDaylightSavingShift: the whole daily cycle moves an hour earlier
// (and, in a second run, later); no incident may open.
func TestDaylightSavingShift(t *testing.T) {
	for _, shift := range []time.Duration{time.Hour, -time.Hour} {
		p := DefaultParams()
		s := newSim(p, 9)
		s.seed(14*24*time.Hour, usual(30))
		s.run(3*24*time.Hour, 1, func(t time.Time) float64 { return 30 * daily(t, 10, shift) })
		if n := s.count(EventOpened); n != 0 {
			t.Errorf("shift %s: %d incidents opened: %+v", shift, n, s.events)
		}
	}
}

// TestAlignmentFollowsAMovedCycle: on a busy series whose whole daily cycle
// moves an hour, the profile is re-aligned by that hour, in the right
// direction, within three days; on an unmoved cycle, busy or so quiet that
// an hour's shift is lost in the noise, it never moves.
func TestAlignmentFollowsAMovedCycle(t *testing.T) {
	for _, c := range []struct {
		peak  float64
		shift time.Duration
		days  int
		want  int16 // Model.shift afterwards, in 15-minute slots
	}{
		{300, time.Hour, 3, 4},
		{300, -time.Hour, 3, -4},
		{300, 0, 7, 0},
		{3, 0, 7, 0},
	} {
		s := newSim(DefaultParams(), 11)
		s.seed(14*24*time.Hour, usual(c.peak))
		var moved []int16
		for h := 0; h < 24*c.days; h++ {
			s.run(time.Hour, 1, func(t time.Time) float64 { return c.peak * daily(t, 10, c.shift) })
			if n := len(moved); n == 0 || moved[n-1] != s.m.shift {
				moved = append(moved, s.m.shift)
			}
		}
		want := []int16{0}
		if c.want != 0 {
			want = append(want, c.want)
		}
		if !slices.Equal(moved, want) {
			t.Errorf("peak %g/min, cycle moved %s: alignments %v, want %v", c.peak, c.shift, moved, want)
		}
		if n := s.count(EventOpened); n != 0 {
			t.Errorf("peak %g/min, cycle moved %s: %d incidents opened", c.peak, c.shift, n)
		}
	}
}
