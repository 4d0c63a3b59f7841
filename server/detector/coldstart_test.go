package detector

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
)

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
			first, ok := s.first(TransitionOpened)
			if ok != c.opens {
				t.Fatalf("opened=%v, want %v (%+v)", ok, c.opens, s.events)
			}
			if ok && first.Sub(start) > c.within {
				t.Errorf("opened %s after the burst began, want within %s", first.Sub(start), c.within)
			}
			if ok && !s.tr.Incident.Open() {
				t.Errorf("incident not open")
			}
			// The evidence starts with the burst, not a window before
			// it: the service had no reports until then.
			if ok && (s.tr.Incident.StartedAt.Before(start) || s.tr.Incident.StartedAt.After(first)) {
				t.Errorf("incident started at %s; the burst began at %s and opened it at %s",
					s.tr.Incident.StartedAt.Format("15:04:05"), start.Format("15:04:05"), first.Format("15:04:05"))
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
	if n := s.count(TransitionOpened); n != 0 {
		at, _ := s.first(TransitionOpened)
		t.Fatalf("%d incidents on a busy service's normal first day, the first at %s", n, at.Format("15:04"))
	}
	start := s.now
	s.run(15*time.Minute, 4, func(t time.Time) float64 { return 10 * usual(25)(t) })
	first, ok := s.first(TransitionOpened)
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
	if n := s.count(TransitionOpened); n != 0 {
		t.Fatalf("3 reports on a silent service opened %d incidents", n)
	}
	start := s.now
	s.run(10*time.Minute, 1, func(time.Time) float64 { return 8 })
	first, ok := s.first(TransitionOpened)
	if !ok || first.Sub(start) > 3*time.Minute {
		t.Fatalf("8 reporters a minute on a silent service: opened=%v after %s", ok, first.Sub(start))
	}
	d := s.m.Decide(s.now, 0)
	if d.Expected < 0 || math.IsNaN(d.Ratio) || d.Rule(p) == "" {
		t.Errorf("decision does not explain itself: %+v", d)
	}
}
