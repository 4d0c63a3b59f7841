package detector

import (
	"testing"
	"time"
)

// While an excursion builds and no incident is open, the level defers what
// it learns (Params.SuspectHold): a sustained moderate rise is judged
// against the level from before it, while a launch step that stays is
// absorbed once its first hour is over.
func TestDeferredLevel(t *testing.T) {
	at := func(d time.Duration) time.Time { return t0.Add(14*24*time.Hour + d) }
	for _, c := range []struct {
		name     string
		peak     float64
		factor   float64
		lasts    time.Duration
		hold     time.Duration // Params.SuspectHold
		maxLevel float64       // Level() when the rise ends is at most this
		minLevel float64       // ... and at least this 6 h after it began
		opens    int           // incidents opened (-1: any, within the first hour)
		lateOpen bool          // whether one may open after the rise's first hour
	}{
		{"2.2x for 45 min on 2/min, deferred: caught", 2, 2.2, 45 * time.Minute, time.Hour, 1.15, 0, 1, false},
		{"the same, learned at once: absorbed and missed", 2, 2.2, 45 * time.Minute, 0, 2, 0, 0, false},
		{"launch step 1.7x that stays: absorbed after its first hour", 2, 1.7, 30 * time.Hour, time.Hour, 2, 1.4, -1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := DefaultParams()
			p.SuspectHold = c.hold
			s := newSim(p, 3)
			base := usual(c.peak)
			s.seed(14*24*time.Hour, base)
			start := at(13 * time.Hour)
			rate := func(t time.Time) float64 {
				if d := t.Sub(start); d >= 0 && d < c.lasts {
					return c.factor * base(t)
				}
				return base(t)
			}
			s.run(start.Sub(s.now), 1, rate)
			before := s.m.Level()
			s.run(min(c.lasts, 45*time.Minute), 1, rate)
			if got := s.m.Level() / before; got > c.maxLevel {
				t.Errorf("level rose x%.2f during the rise, want at most x%g", got, c.maxLevel)
			}
			s.run(6*time.Hour-min(c.lasts, 45*time.Minute), 1, rate)
			if got := s.m.Level() / before; got < c.minLevel {
				t.Errorf("level x%.2f 6 h after the step, want at least x%g", got, c.minLevel)
			}
			if got := s.count(EventOpened); c.opens >= 0 && got != c.opens {
				t.Errorf("%d incidents opened, want %d: %+v", got, c.opens, s.events)
			}
			for _, e := range s.events {
				if e.ev == EventOpened && e.at.Sub(start) > time.Hour && !c.lateOpen {
					t.Errorf("incident opened %s after the rise began", e.at.Sub(start))
				}
			}
		})
	}
}
