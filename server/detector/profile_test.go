package detector

import (
	"math"
	"slices"
	"testing"
	"time"
)

// The first week's time-of-week profile takes each slot as seen. Its
// expectation came from the daily profile, which has seen only other days of
// the week: a first weekend whose evening peak comes four hours later than
// the weekdays' must teach the weekly profile its own evening, not one
// clipped to a weekday's.
func TestFirstWeekendLearnedAsSeen(t *testing.T) {
	rate := laterWeekends(20, 4*time.Hour)
	s := newSim(DefaultParams(), 11)
	s.seed(7*24*time.Hour, rate)
	for _, h := range []int{20, 21, 22} {
		at := t0.Add(5*24*time.Hour + time.Duration(h)*time.Hour) // Saturday
		want := rate(at.Add(7*time.Minute + 30*time.Second))
		got := float64(s.m.week[5*slotsPerDay+h*4])
		if math.Abs(got/want-1) > 0.15 {
			t.Errorf("Saturday %02d:00: weekly profile %.1f reports/min, the first weekend had %.1f (weekday profile %.1f)",
				h, got, want, s.m.day[h*4])
		}
	}
}

// The first weekend of a series that began on a Tuesday is expected with the
// weekdays' daily shape, but its evening comes three hours later: at 23:00
// on Saturday there are about three times the reports a weekday has then.
// Until a week has passed the day-of-week effect is unmeasured, and the
// windows are judged with at least the prior dispersion: no incident. A
// real outage (8x for 20 minutes) on the first Sunday still opens one.
func TestFirstWeekendIsNotAnOutage(t *testing.T) {
	rate := laterWeekends(10, 3*time.Hour)
	s := newSim(DefaultParams(), 13)
	s.now = t0.Add(24 * time.Hour) // Tuesday
	s.run(5*24*time.Hour, 1, rate) // to Sunday 00:00
	if n := s.count(TransitionOpened); n != 0 {
		at, _ := s.first(TransitionOpened)
		t.Fatalf("%d incidents in the first week, the first on %s", n, at.Format("Mon 15:04"))
	}
	s.run(14*time.Hour, 1, rate)
	start := s.now
	s.run(20*time.Minute, 1, func(t time.Time) float64 { return 8 * rate(t) })
	if at, ok := s.first(TransitionOpened); !ok || at.Sub(start) > 5*time.Minute {
		t.Fatalf("8x outage on the first Sunday: opened=%v at +%s, want within 5m", ok, at.Sub(start))
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
		if n := s.count(TransitionOpened); n != 0 {
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
		if n := s.count(TransitionOpened); n != 0 {
			t.Errorf("peak %g/min, cycle moved %s: %d incidents opened", c.peak, c.shift, n)
		}
	}
}
