package detector

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
)

func TestSignificance(t *testing.T) {
	cases := []struct {
		x, mu, phi float64
		lo, hi     float64
	}{
		{3, 0.5, 0, 0.5, 2},       // a quiet service: 3 reports where 0.5 are usual is not news
		{10, 10, 0, 0, 0},         // as expected
		{5, 10, 0, 0, 0},          // below expected
		{60, 20, 0, 10, 20},       // Poisson: 3x on 20 is overwhelming
		{60, 20, 0.5, 0.5, 3},     // ... but not with heavy overdispersion
		{1100, 1000, 0, 1, 3},     // a big service: +10% is mild
		{2000, 1000, 0.01, 8, 99}, // a big service does not need 10x
		{1, 0, 0, math.Inf(1), math.Inf(1)},
	}
	for _, c := range cases {
		got := Significance(c.x, c.mu, c.phi)
		if got < c.lo || got > c.hi {
			t.Errorf("Significance(%g, %g, %g) = %.2f, want in [%g, %g]", c.x, c.mu, c.phi, got, c.lo, c.hi)
		}
	}
}

// TestDetector covers the pure detector end to end on synthetic traffic:
// the model is seeded from two weeks of 15-minute rollups, then fed
// 1-minute buckets and evaluated like the live runner.
func TestDetector(t *testing.T) {
	p := DefaultParams()
	at := func(d time.Duration) time.Time { return t0.Add(14*24*time.Hour + d) }
	cases := []struct {
		name   string
		peak   float64
		rate   func(base func(time.Time) float64) func(time.Time) float64
		opens  int           // incidents expected to open
		within time.Duration // first open at most this long after at(spikeAt)
		level  models.Level  // the incident's level, if one opens
	}{
		{"flat traffic", 5, func(b func(time.Time) float64) func(time.Time) float64 { return b }, 0, 0, ""},
		{"quiet service, 3 reports at once", 0.1, func(b func(time.Time) float64) func(time.Time) float64 {
			return func(t time.Time) float64 {
				if t.Sub(at(14*time.Hour)) >= 0 && t.Sub(at(14*time.Hour)) < time.Minute {
					return 3
				}
				return b(t)
			}
		}, 0, 0, ""},
		{"one outlier minute (10x)", 20, func(b func(time.Time) float64) func(time.Time) float64 {
			return func(t time.Time) float64 {
				if d := t.Sub(at(14 * time.Hour)); d >= 0 && d < time.Minute {
					return 10 * b(t)
				}
				return b(t)
			}
		}, 0, 0, ""},
		{"sustained spike (10x at a 20/min peak)", 20, func(b func(time.Time) float64) func(time.Time) float64 {
			return func(t time.Time) float64 {
				if d := t.Sub(at(14 * time.Hour)); d >= 0 && d < time.Hour {
					return 10 * b(t)
				}
				return b(t)
			}
		}, 1, 2 * time.Minute, models.LevelOutage},
		{"slow ramp to 2x over 12 h", 20, func(b func(time.Time) float64) func(time.Time) float64 {
			return func(t time.Time) float64 {
				f := math.Min(1, math.Max(0, float64(t.Sub(at(0)))/float64(12*time.Hour)))
				return b(t) * (1 + f)
			}
		}, 0, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSim(p, 42)
			base := usual(c.peak)
			s.seed(14*24*time.Hour, base)
			s.run(36*time.Hour, 4, c.rate(base))
			if got := s.count(EventOpened); got != c.opens {
				t.Fatalf("%d incidents opened, want %d: %+v", got, c.opens, s.events)
			}
			if c.opens == 0 {
				return
			}
			first, _ := s.first(EventOpened)
			if d := first.Sub(at(14 * time.Hour)); d < 0 || d > c.within {
				t.Errorf("opened %s after the spike, want within %s", d, c.within)
			}
			if _, ok := s.first(EventResolved); !ok {
				t.Errorf("never resolved: %+v", s.events)
			}
			if lv := s.tr.Incident; lv != nil && lv.Level != c.level {
				t.Errorf("level %s, want %s", lv.Level, c.level)
			}
		})
	}
}

// A burst that lands in the first seconds of a minute is judged at once:
// the live runner may tick while the clock still reads hh:mm:00.x, and
// until its grace has passed it hands over the minute before as pending too.
func TestPendingBucketCountsFromItsFirstSecond(t *testing.T) {
	p := DefaultParams()
	m := NewModel(p)
	start := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 10; i++ {
		m.Observe(start.Add(time.Duration(i)*time.Minute), time.Minute, 0)
	}
	boundary := start.Add(10 * time.Minute)
	d := m.Decide(boundary.Add(100*time.Millisecond), 150)
	if d.Level != models.LevelOutage || !d.Cold || d.Actual != 150 {
		t.Fatalf("150 reporters 0.1 s into a minute: %+v; want a cold-start outage", d)
	}
	if d := m.Decide(boundary.Add(100*time.Millisecond), 0); d.Level != models.LevelOK || d.Actual != 0 {
		t.Fatalf("nothing pending: %+v; want ok", d)
	}
	// Within the runner's grace the minute before is not complete yet: the
	// pending span is that minute and 1.5 s of the next, and still counts.
	m = NewModel(p)
	for i := 0; i < 9; i++ {
		m.Observe(start.Add(time.Duration(i)*time.Minute), time.Minute, 0)
	}
	if d := m.Decide(boundary.Add(1500*time.Millisecond), 150); d.Level != models.LevelOutage || d.Actual != 150 {
		t.Fatalf("150 reporters pending over 61.5 s: %+v; want a cold-start outage", d)
	}
}

func TestColdStart(t *testing.T) {
	for _, c := range []struct {
		name      string
		threshold int
		perMinute float64
		opens     bool
		within    time.Duration
	}{
		{"100 reporters in one minute", 100, 100, true, time.Minute},
		{"slow trickle below the rule", 100, 19, false, 0},
		{"per-service threshold", 20, 10, true, 2 * time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := DefaultParams()
			p.ColdStart = c.threshold
			s := newSim(p, 1)
			s.run(10*time.Minute, 4, func(time.Time) float64 { return 0 })
			start := s.now
			s.run(5*time.Minute, 4, func(time.Time) float64 { return c.perMinute })
			first, ok := s.first(EventOpened)
			if ok != c.opens {
				t.Fatalf("opened=%v, want %v (%+v)", ok, c.opens, s.events)
			}
			if ok && first.Sub(start) > c.within {
				t.Errorf("opened %s after the burst began, want within %s", first.Sub(start), c.within)
			}
			if ok && !s.tr.Incident.Open() {
				t.Errorf("incident not open")
			}
		})
	}
}

// TestColdStartBusyService: a service that is busy from its first hour
// (25 reports a minute at its peak, 125 in five minutes) is not in outage at
// its first afternoon peak; the cold-start rule also wants twice the busiest
// five minutes seen before. A 10x outage that evening, still inside the
// first day, opens within three minutes (the five-minute window must reach
// twice the record of about 150, at 107 reports a minute) and its rule says
// what it beat. A service with no traffic yet has no record: the absolute
// rule alone opens within a minute (TestColdStart).
func TestColdStartBusyService(t *testing.T) {
	p := DefaultParams()
	s := newSim(p, 5)
	s.run(20*time.Hour, 4, usual(25))
	if n := s.count(EventOpened); n != 0 {
		at, _ := s.first(EventOpened)
		t.Fatalf("%d incidents on a busy service's normal first day, the first at %s", n, at.Format("15:04"))
	}
	start := s.now
	s.run(15*time.Minute, 4, func(t time.Time) float64 { return 10 * usual(25)(t) })
	first, ok := s.first(EventOpened)
	if !ok || first.Sub(start) > 3*time.Minute {
		t.Fatalf("10x outage in the first day: opened=%v at +%s, want within 3m", ok, first.Sub(start))
	}
	inc := s.tr.Incident
	t.Logf("rule: %s", inc.Rule)
	if inc.Level != models.LevelOutage || inc.Expected < 100 || !strings.Contains(inc.Rule, "2x the busiest") {
		t.Errorf("incident %+v: want an outage against the busiest earlier 5 minutes (over 100)", inc)
	}
}

func TestZeroBaseline(t *testing.T) {
	p := DefaultParams()
	s := newSim(p, 3)
	zero := func(time.Time) float64 { return 0 }
	s.seed(3*24*time.Hour, zero)
	burst := s.now
	s.run(time.Hour, 1, func(t time.Time) float64 {
		if t.Sub(burst) < time.Minute {
			return 3
		}
		return 0
	})
	if n := s.count(EventOpened); n != 0 {
		t.Fatalf("3 reports on a silent service opened %d incidents", n)
	}
	start := s.now
	s.run(10*time.Minute, 1, func(time.Time) float64 { return 8 })
	first, ok := s.first(EventOpened)
	if !ok || first.Sub(start) > 3*time.Minute {
		t.Fatalf("8 reporters a minute on a silent service: opened=%v after %s", ok, first.Sub(start))
	}
	d := s.m.Decide(s.now, 0)
	if d.Expected < 0 || math.IsNaN(d.Ratio) || d.Rule(p) == "" {
		t.Errorf("decision does not explain itself: %+v", d)
	}
}

// TestTestsCut: the bars fall with the number of distinct tests a week of
// buckets makes, and only for buckets coarser than a minute.
func TestTestsCut(t *testing.T) {
	w := DefaultParams().Windows
	cases := []struct {
		secs   int64
		lo, hi float64
	}{
		{30, 0, 0},
		{60, 0, 0},
		{300, 0.57, 0.58}, // spans 10, 15, 30, 60 min against 2, 5, 15, 30, 60
		{900, 1.21, 1.22}, // spans 30 and 60 min
	}
	for _, c := range cases {
		if got := testsCut(w, c.secs); got < c.lo || got > c.hi {
			t.Errorf("testsCut(%ds) = %.3f, want in [%g, %g]", c.secs, got, c.lo, c.hi)
		}
	}
}

// TestFiveMinuteBar: a quiet service judged on 5-minute buckets (0.03
// reports a minute) gets 11 reports in 15 minutes, then a few more over the
// next 40. No window reaches the 1-minute bar of 5, but at 5-minute buckets
// the week holds a quarter of the tests, and the lowered bar opens an
// incident whose rule shows it.
func TestFiveMinuteBar(t *testing.T) {
	p := DefaultParams()
	s := newSim(p, 11)
	tr := s.tr
	iv := 5 * time.Minute
	for ; s.now.Before(t0.Add(15 * 24 * time.Hour)); s.now = s.now.Add(iv) {
		s.m.Observe(s.now, iv, poisson(s.r, 5*0.03))
	}
	best := 0.0
	for _, x := range []float64{5, 5, 1, 0, 0, 0, 0, 1, 0, 4, 0, 2, 0} {
		s.m.Hold(tr.Open())
		s.m.Observe(s.now, iv, x)
		s.now = s.now.Add(iv)
		d := s.m.Decide(s.now, 0)
		best = math.Max(best, d.Significance)
		if ev := tr.Step(d, p); ev == EventOpened && !strings.Contains(tr.Incident.Rule, ">= 4.42") {
			t.Errorf("rule %q does not show the 5-minute bar", tr.Incident.Rule)
		}
	}
	if !tr.Open() {
		t.Fatalf("no incident at 5-minute buckets (best significance %.2f, bar cut %.2f)", best, s.m.barCut)
	}
	t.Logf("best significance %.2f, bar %.2f", best, p.WarnSignificance-s.m.barCut)
	if best >= p.WarnSignificance {
		t.Errorf("best significance %.2f reaches the 1-minute bar: the test no longer shows the cut", best)
	}
}
