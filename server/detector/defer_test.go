package detector

import (
	"testing"
	"time"
)

// While an excursion builds and no incident is open, the level defers what
// it learns (Params.SuspectHold): a sustained moderate rise is judged
// against the level from before it, while a launch step that stays is
// absorbed once its first hour is over. Learned at once, the level absorbs
// twice as much of a moderate rise while it builds (and every window that
// starts later is judged against that).
func TestDeferredLevel(t *testing.T) {
	at := func(d time.Duration) time.Time { return t0.Add(14*24*time.Hour + d) }
	for _, c := range []struct {
		name     string
		peak     float64
		factor   float64
		lasts    time.Duration
		hold     time.Duration // Params.SuspectHold
		maxLevel float64       // Level() when the rise ends is at most this
		minRise  float64       // ... and at least this
		minLevel float64       // ... and at least this 6 h after it began
		opens    int           // incidents opened (-1: any, within the first hour)
		lateOpen bool          // whether one may open after the rise's first hour
	}{
		{"2.2x for 45 min on 2/min, deferred: caught", 2, 2.2, 45 * time.Minute, time.Hour, 1.15, 0, 0, 1, false},
		{"the same, learned at once: still caught, each window at the level of its start", 2, 2.2, 45 * time.Minute, 0, 2, 0, 0, 1, false},
		{"1.8x for 45 min, deferred: the level waits", 2, 1.8, 45 * time.Minute, time.Hour, 1.13, 0, 0, -1, false},
		{"the same, learned at once: the level absorbs it", 2, 1.8, 45 * time.Minute, 0, 2, 1.18, 0, -1, false},
		{"launch step 1.7x that stays: absorbed after its first hour", 2, 1.7, 30 * time.Hour, time.Hour, 2, 0, 1.4, -1, false},
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
			if got := s.m.Level() / before; got > c.maxLevel || got < c.minRise {
				t.Errorf("level rose x%.2f during the rise, want x%g to x%g", got, c.minRise, c.maxLevel)
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

// While level learning is deferred, the overdispersion is not learned from
// the excursion either: a rise that may be an outage must not make the
// noise look bigger. The first minutes of a rise, before it looks suspect,
// still count, so deferral keeps most of it out, not all.
func TestDeferredDispersion(t *testing.T) {
	grow := func(hold time.Duration) float64 {
		p := DefaultParams()
		p.SuspectHold = hold
		s := newSim(p, 5)
		base := usual(2)
		s.seed(14*24*time.Hour, base)
		s.run(13*time.Hour, 1, base)
		before := s.m.dispersion(15)
		start := s.now
		s.run(45*time.Minute, 1, func(t time.Time) float64 {
			if t.Sub(start) < 45*time.Minute {
				return 2.0 * base(t)
			}
			return base(t)
		})
		if n := s.count(EventOpened); n != 0 {
			t.Fatalf("SuspectHold %s: %d incidents opened; the rise must stay below one", hold, n)
		}
		return s.m.dispersion(15)/before - 1
	}
	deferred, learned := grow(time.Hour), grow(0)
	if learned < 0.3 {
		t.Fatalf("learned at once, the 15-minute dispersion grew only %+.0f%%; the test no longer tells the two apart", 100*learned)
	}
	if deferred > learned/2 {
		t.Errorf("deferred, the 15-minute dispersion grew %+.0f%% during the rise; learned at once %+.0f%%: want at most half", 100*deferred, 100*learned)
	}
}
