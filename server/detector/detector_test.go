package detector

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
)

// seeds are the random seeds every statistical test runs on.
var seeds = []uint64{1, 2, 3}

// day15 is 14:00 UTC on the fifteenth day, after two weeks of rollups.
var day15 = t0.Add(14*24*time.Hour + 14*time.Hour)

// TestDetector covers the pure detector end to end on synthetic traffic:
// the model is seeded from two weeks of 15-minute rollups, then fed
// 1-minute buckets from midnight of day 15 for 36 hours and evaluated like
// the live runner (four ticks a minute). Each case runs on three seeds.
func TestDetector(t *testing.T) {
	p := DefaultParams()
	in := func(t time.Time, from, d time.Duration) bool {
		return !t.Before(day15.Add(from)) && t.Before(day15.Add(from+d))
	}
	type rate = func(time.Time) float64
	cases := []struct {
		name   string
		peak   float64
		rate   func(base rate) rate
		opens  int           // incidents opened (or re-opened)
		within time.Duration // the first at most this long after day15
		level  models.Level  // the incident's highest level, if one opens
	}{
		{"flat traffic, 20/min at peak", 20, func(b rate) rate { return b }, 0, 0, ""},
		{"flat traffic, 0.2/min at peak", 0.2, func(b rate) rate { return b }, 0, 0, ""},
		{"one outlier: 5 extra reporters in one minute at 0.5/min", 0.5, func(b rate) rate {
			return func(t time.Time) float64 {
				if in(t, 0, time.Minute) {
					return b(t) + 5
				}
				return b(t)
			}
		}, 0, 0, ""},
		{"one outlier: a minute at 1.5x at 20/min", 20, func(b rate) rate {
			return func(t time.Time) float64 {
				if in(t, 0, time.Minute) {
					return 1.5 * b(t)
				}
				return b(t)
			}
		}, 0, 0, ""},
		{"sustained spike: 10x for an hour at 20/min", 20, func(b rate) rate {
			return func(t time.Time) float64 {
				if in(t, 0, time.Hour) {
					return 10 * b(t)
				}
				return b(t)
			}
		}, 1, 2 * time.Minute, models.LevelOutage},
		{"partial outage: 2.5x for 40 minutes at 5/min", 5, func(b rate) rate {
			return func(t time.Time) float64 {
				if in(t, 0, 40*time.Minute) {
					return 2.5 * b(t)
				}
				return b(t)
			}
		}, 1, 20 * time.Minute, models.LevelWarning},
		{"quiet service: 40 reports over 20 minutes at 0.05/min", 0.05, func(b rate) rate {
			return func(t time.Time) float64 {
				if in(t, 0, 20*time.Minute) {
					return 2
				}
				return b(t)
			}
		}, 1, 15 * time.Minute, models.LevelOutage},
	}
	for _, c := range cases {
		for _, seed := range seeds {
			t.Run(c.name, func(t *testing.T) {
				s := newSim(p, seed)
				base := usual(c.peak)
				s.seed(14*24*time.Hour, base)
				s.run(36*time.Hour, 4, c.rate(base))
				opened := s.count(TransitionOpened) + s.count(TransitionReopened)
				if opened != c.opens {
					t.Fatalf("seed %d: %d incidents opened, want %d: %+v", seed, opened, c.opens, s.events)
				}
				if c.opens == 0 {
					return
				}
				first, _ := s.first(TransitionOpened)
				if d := first.Sub(day15); d < 0 || d > c.within {
					t.Errorf("seed %d: opened %s after the rise began, want within %s", seed, d, c.within)
				}
				if _, ok := s.first(TransitionResolved); !ok {
					t.Errorf("seed %d: never resolved: %+v", seed, s.events)
				}
				if lv := s.highest(); lv != c.level {
					t.Errorf("seed %d: incident level %s, want %s", seed, lv, c.level)
				}
			})
		}
	}
}

// TestOutageSpeed is the live target: a service with 2.4 counted reports a
// minute gets 240 a minute (100x), judged every 15 seconds on the minute in
// progress. Warning within 30 s of the first report, outage within 90 s,
// wherever in the minute the outage begins.
func TestOutageSpeed(t *testing.T) {
	p := DefaultParams()
	for _, seed := range seeds {
		for _, offset := range []time.Duration{0, 7 * time.Second, 31 * time.Second, 52 * time.Second} {
			s := newSim(p, seed)
			base := func(time.Time) float64 { return 2.4 }
			s.seed(14*24*time.Hour, base)
			s.run(14*time.Hour, 1, base)
			start := s.now.Add(offset) // the first report of the outage
			rate := func(t time.Time) float64 { return 2.4 }
			var warnAt, outAt time.Time
			for m := 0; m < 5; m++ {
				minute := s.now
				// reports of this minute so far at each 15-second tick
				sofar := func(at time.Time) float64 {
					x := rate(at) * at.Sub(minute).Minutes()
					if at.After(start) {
						x += 240 * min(at.Sub(start), at.Sub(minute)).Minutes()
					}
					return math.Round(x)
				}
				for k := 1; k <= 4; k++ {
					at := minute.Add(time.Duration(k) * 15 * time.Second)
					var d Decision
					if k < 4 {
						d = s.s.Decide(at, sofar(at))
					} else {
						s.s.Advance(minute, time.Minute, sofar(at))
						d = s.s.Decide(at, 0)
					}
					s.step(d)
					if d.Level.Rank() >= models.LevelWarning.Rank() && warnAt.IsZero() {
						warnAt = at
					}
					if d.Level == models.LevelOutage && outAt.IsZero() {
						outAt = at
					}
				}
				s.now = minute.Add(time.Minute)
			}
			if warnAt.IsZero() || warnAt.Sub(start) > 30*time.Second {
				t.Errorf("seed %d, first report %s into the minute: warning at +%s, want within 30s", seed, offset, warnAt.Sub(start))
			}
			if outAt.IsZero() || outAt.Sub(start) > 90*time.Second {
				t.Errorf("seed %d, first report %s into the minute: outage at +%s, want within 90s", seed, offset, outAt.Sub(start))
			}
		}
	}
}

// TestMinReports: on a silent service, a few reporters (what one network
// may count in EvidenceSpan) never open an incident however often they
// come back; MinReports more than expected do.
func TestMinReports(t *testing.T) {
	p := DefaultParams()
	for _, seed := range seeds {
		s := newSim(p, seed)
		s.seed(14*24*time.Hour, func(time.Time) float64 { return 0 })
		few := p.MinReports - 1
		exact := func(d time.Duration, count func(i int) float64) {
			for i := 0; i < int(d/time.Minute); i++ {
				s.s.Advance(s.now, time.Minute, count(i))
				s.now = s.now.Add(time.Minute)
				s.step(s.s.Decide(s.now, 0))
			}
		}
		// few reporters at the start of every EvidenceSpan, for two hours
		exact(2*time.Hour, func(i int) float64 {
			if i%int(EvidenceSpan/time.Minute) == 0 {
				return few
			}
			return 0
		})
		if n := s.count(TransitionOpened); n != 0 {
			t.Fatalf("seed %d: %g reporters every %s on a silent service opened %d incidents", seed, few, EvidenceSpan, n)
		}
		exact(10*time.Minute, func(i int) float64 {
			if i < 2 {
				return p.MinReports/2 + 1
			}
			return 0
		})
		if _, ok := s.first(TransitionOpened); !ok {
			t.Fatalf("seed %d: %g reporters in two minutes on a silent service did not open an incident", seed, p.MinReports+2)
		}
	}
}

// TestSingleBucketSpike: at 5-minute buckets (`outcry detect --interval
// 5m`), one bucket at 12x is five minutes of evidence and opens an incident
// in that bucket; at 1.5x it does not.
func TestSingleBucketSpike(t *testing.T) {
	p := DefaultParams()
	for _, c := range []struct {
		factor float64
		opens  bool
	}{{12, true}, {1.5, false}} {
		for _, seed := range seeds {
			s := newSim(p, seed)
			base := usual(10)
			s.seed(14*24*time.Hour, base)
			s.feed(14*time.Hour, 5*time.Minute, 1, base)
			start := s.now
			s.feed(time.Hour, 5*time.Minute, 1, func(t time.Time) float64 {
				if t.Sub(start) < 5*time.Minute {
					return c.factor * base(t)
				}
				return base(t)
			})
			at, ok := s.first(TransitionOpened)
			if ok != c.opens || (ok && at.After(start.Add(5*time.Minute))) {
				t.Errorf("seed %d, one 5-minute bucket at %gx: opened=%v at %s, want %v at the bucket's end", seed, c.factor, ok, at.Sub(start), c.opens)
			}
		}
	}
}

// TestSlowRise: reports that climb over twelve hours to four times their
// usual level are not absorbed: the level follows at most WarnRise, and the
// warning test sees the rest before the climb ends. The same climb to 1.3x
// opens nothing.
func TestSlowRise(t *testing.T) {
	p := DefaultParams()
	for _, c := range []struct {
		to    float64
		opens bool
	}{{4, true}, {1.3, false}} {
		for _, seed := range seeds {
			base := usual(20)
			s := warm(p, seed, base, 8*time.Hour)
			start := s.now
			s.run(18*time.Hour, 1, func(t time.Time) float64 {
				f := math.Min(1, t.Sub(start).Hours()/12)
				return base(t) * math.Pow(c.to, f)
			})
			at, ok := s.first(TransitionOpened)
			if ok != c.opens || (ok && at.Sub(start) > 12*time.Hour) {
				t.Errorf("seed %d, 12-hour climb to %gx: opened=%v after %s, want %v within 12h", seed, c.to, ok, at.Sub(start), c.opens)
			}
		}
	}
}

// TestLaunchStep: a launch-day step (traffic ramps over 30 minutes to a
// new, steady level and stays) may alert in its first hour, never after
// it, and an incident it opened resolves within hours; the level learns
// the step.
func TestLaunchStep(t *testing.T) {
	p := DefaultParams()
	for _, c := range []struct {
		peak, factor float64
	}{{2, 1.5}, {2, 2}, {20, 1.7}, {20, 2}} {
		for _, seed := range seeds {
			s := newSim(p, seed)
			base := usual(c.peak)
			s.seed(14*24*time.Hour, base)
			s.run(10*time.Hour, 1, base)
			start := s.now
			s.run(48*time.Hour, 4, func(t time.Time) float64 {
				f := math.Min(1, t.Sub(start).Minutes()/30)
				return base(t) * (1 + f*(c.factor-1))
			})
			for _, e := range s.events {
				if (e.ev == TransitionOpened || e.ev == TransitionReopened) && e.at.Sub(start) > time.Hour {
					t.Errorf("peak %g, step %gx, seed %d: incident %s %s after the step began", c.peak, c.factor, seed, e.ev, e.at.Sub(start))
				}
			}
			if s.tr.Open() {
				t.Errorf("peak %g, step %gx, seed %d: an incident is still open two days later", c.peak, c.factor, seed)
			}
			if lv := s.m.Level(); lv < 1.2 {
				t.Errorf("peak %g, step %gx, seed %d: level %.2f two days later, want the step learned", c.peak, c.factor, seed, lv)
			}
		}
	}
}

// TestRecovery: a 20-minute outage, then normal traffic with a brief
// flap: one incident, resolved once, after the outage ended and the
// recovery test held for RecoverySpan; a second outage within
// ReopenWithin continues it, one later opens a new one.
func TestRecovery(t *testing.T) {
	p := DefaultParams()
	for _, seed := range seeds {
		base := usual(20)
		s := warm(p, seed, base, 12*time.Hour)
		start := s.now
		s.run(8*time.Hour, 4, func(t time.Time) float64 {
			d := t.Sub(start)
			switch {
			case d < 20*time.Minute:
				return 8 * base(t)
			case d >= 25*time.Minute && d < 27*time.Minute: // flaps back briefly
				return 4 * base(t)
			case d >= 90*time.Minute && d < 100*time.Minute: // trouble again within ReopenWithin
				return 8 * base(t)
			case d >= 6*time.Hour && d < 6*time.Hour+10*time.Minute: // and much later
				return 8 * base(t)
			}
			return base(t)
		})
		o, re, r := s.count(TransitionOpened), s.count(TransitionReopened), s.count(TransitionResolved)
		if o != 2 || re != 1 || r != 3 {
			t.Fatalf("seed %d: opened %d, reopened %d, resolved %d; want 2, 1, 3: %+v", seed, o, re, r, s.events)
		}
		res, _ := s.first(TransitionResolved)
		if d := res.Sub(start); d < 27*time.Minute+p.RecoverySpan || d > 90*time.Minute {
			t.Errorf("seed %d: first resolved %s after the start; want after the flap and the recovery span, before the second outage", seed, d)
		}
		if s.tr.Open() {
			t.Errorf("seed %d: incident still open", seed)
		}
	}
}

// TestFlappingOutage: bursts separated by short normal spells are one
// incident (re-opened, never opened twice).
func TestFlappingOutage(t *testing.T) {
	p := DefaultParams()
	for _, seed := range seeds {
		base := usual(10)
		s := warm(p, seed, base, 12*time.Hour)
		start := s.now
		s.run(6*time.Hour, 1, func(t time.Time) float64 {
			d := t.Sub(start)
			if d < 2*time.Hour && d%(30*time.Minute) < 6*time.Minute {
				return 15 * base(t)
			}
			return base(t)
		})
		if o := s.count(TransitionOpened); o != 1 || s.tr.Open() {
			t.Fatalf("seed %d: opened %d, open at the end %v; want one incident, resolved: %+v", seed, o, s.tr.Open(), s.events)
		}
	}
}

// TestSlowMisfitIsOneError: an hour at 1.6x on a busy series is one error
// of the baseline shared by every minute of it, not sixty independent
// pieces of evidence: no incident. The same hour at 3x opens one.
func TestSlowMisfitIsOneError(t *testing.T) {
	p := DefaultParams()
	for _, c := range []struct {
		factor float64
		opens  bool
	}{{1.6, false}, {3, true}} {
		for _, seed := range seeds {
			base := usual(3)
			s := warm(p, seed, base, 13*time.Hour)
			start := s.now
			s.run(3*time.Hour, 1, func(t time.Time) float64 {
				if t.Sub(start) < time.Hour {
					return c.factor * base(t)
				}
				return base(t)
			})
			if _, ok := s.first(TransitionOpened); ok != c.opens {
				t.Errorf("seed %d, an hour at %gx: opened=%v, want %v", seed, c.factor, ok, c.opens)
			}
		}
	}
}

// TestRuleExplains: an incident's rule says what was tested, against what
// threshold, with what evidence.
func TestRuleExplains(t *testing.T) {
	p := DefaultParams()
	s := newSim(p, 1)
	base := usual(20)
	s.seed(14*24*time.Hour, base)
	s.run(14*time.Hour, 1, base)
	s.run(5*time.Minute, 1, func(t time.Time) float64 { return 10 * base(t) })
	inc := s.tr.Incident
	if inc == nil {
		t.Fatal("no incident")
	}
	for _, want := range []string{"since 14:0", "expected", "evidence of a 16x rise", ">=", "reporters in 15m0s >= 6", "outage"} {
		if !strings.Contains(inc.Rule, want) {
			t.Errorf("rule %q does not say %q", inc.Rule, want)
		}
	}
	if inc.Significance <= 0 || inc.Window <= 0 || inc.Expected <= 0 || inc.Actual <= inc.Expected {
		t.Errorf("incident evidence %+v", inc)
	}
}
