package detector

import (
	"math"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
)

// dayU is unix seconds at hour h of day n after t0.
func dayU(n int, h float64) int64 {
	return t0.Add(time.Duration(n)*24*time.Hour + time.Duration(h*float64(time.Hour))).Unix()
}

func TestBarIsRankOfPreviousDailyMaxima(t *testing.T) {
	p := DefaultParams()
	p.TailDays, p.TailRank = 5, 2
	m := NewModel(p)
	// daily maxima 9, 3, 7, 1, 5 on days 0..4 (two readings a day)
	for d, v := range []float64{9, 3, 7, 1, 5} {
		m.noteTail(dayU(d, 1), v/2)
		m.noteTail(dayU(d, 13), v)
	}
	check := func(when string, want float64) {
		t.Helper()
		if m.Bar() != want {
			t.Fatalf("%s: bar %g, want %g", when, m.Bar(), want)
		}
	}
	check("day 4 (days -1..3: 0 9 3 7 1)", 7)
	m.noteTail(dayU(5, 2), 0.5)
	check("day 5 (days 0..4: 9 3 7 1 5)", 7)
	m.noteTail(dayU(6, 2), 0.5)
	check("day 6 (days 1..5: 3 7 1 5 0.5)", 5)
	m.noteTail(dayU(20, 2), 0.5)
	check("day 20 after a silent fortnight", 0)

	// An incident spanning midnight counts once, on the day it began.
	m.last = dayU(21, 23)
	m.Hold(true)
	m.noteTail(dayU(21, 23.5), 40)
	m.noteTail(dayU(22, 1), 50)
	m.Hold(false)
	m.noteTail(dayU(22, 5), 2)
	if got := m.tailMax[mod(floorDiv(dayU(21, 0), daySecs), tailDaysMax)]; got != 50 {
		t.Fatalf("day 21 maximum %g, want 50 (the incident that began that day)", got)
	}
	if got := m.tailMax[mod(floorDiv(dayU(22, 0), daySecs), tailDaysMax)]; got != 2 {
		t.Fatalf("day 22 maximum %g, want 2 (the incident's evidence belongs to day 21)", got)
	}
}

// A series whose history is full of surges (news-driven chatter) needs more
// than its usual daily peak to alarm; a calm series is unaffected.
func TestBarFollowsTheSeriesOwnSurges(t *testing.T) {
	p := DefaultParams()
	surge := func(daily bool) *sim {
		s := newSim(p, 11)
		base := usual(5)
		s.seed(24*time.Hour, base)
		for d := 0; d < 9; d++ {
			h := time.Duration(9+d%6) * time.Hour // a different hour each day: not seasonal
			if daily || d == 8 {
				k := 8.0 // the usual surges, bigger than the last one
				if d == 8 {
					k = 4
				}
				s.run(h, 1, base)
				s.run(20*time.Minute, 1, func(t time.Time) float64 { return k * base(t) })
				s.run(24*time.Hour-h-20*time.Minute, 1, base)
			} else {
				s.run(24*time.Hour, 1, base)
			}
		}
		return s
	}
	calm, spiky := surge(false), surge(true)
	if calm.m.Bar() >= p.WarnSignificance {
		t.Fatalf("calm series: bar %.1f should stay below WarnSignificance %g", calm.m.Bar(), p.WarnSignificance)
	}
	if calm.count(EventOpened) != 1 {
		t.Fatalf("calm series: %d openings, want 1 (the one surge)", calm.count(EventOpened))
	}
	if spiky.m.Bar() < p.OutageSignificance {
		t.Fatalf("spiky series: bar %.1f, want at least the surges' evidence", spiky.m.Bar())
	}
	// The first surges open incidents; once they are this series' normal,
	// a smaller one no longer does (on the calm series it does).
	if n := spiky.count(EventOpened); n < p.TailRank {
		t.Fatalf("spiky series: %d openings, want the first %d surges at least", n, p.TailRank)
	}
	last, _ := spiky.first(EventOpened)
	for _, e := range spiky.events {
		if e.ev == EventOpened {
			last = e.at
		}
	}
	if last.After(t0.Add(9 * 24 * time.Hour)) {
		t.Fatalf("spiky series: the ninth, smaller surge still opened an incident at %s", last)
	}
	d := spiky.m.Decide(spiky.now, 0)
	if d.Bar != spiky.m.Bar() || d.Level != models.LevelOK {
		t.Fatalf("decision bar %g vs model %g, level %s", d.Bar, spiky.m.Bar(), d.Level)
	}
}

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
	if n := s.count(EventOpened); n != 0 {
		at, _ := s.first(EventOpened)
		t.Fatalf("%d incidents in the first week, the first on %s", n, at.Format("Mon 15:04"))
	}
	s.run(14*time.Hour, 1, rate)
	start := s.now
	s.run(20*time.Minute, 1, func(t time.Time) float64 { return 8 * rate(t) })
	if at, ok := s.first(EventOpened); !ok || at.Sub(start) > 5*time.Minute {
		t.Fatalf("8x outage on the first Sunday: opened=%v at +%s, want within 5m", ok, at.Sub(start))
	}
}
