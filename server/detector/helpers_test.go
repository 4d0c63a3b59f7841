package detector

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/outcry/outcry/models"
)

// t0 is a Monday midnight UTC; every test series starts there.
var t0 = time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)

// daily is a smooth daily cycle: 1 at 15:00 (+shift), 1/ratio at 03:00.
func daily(t time.Time, ratio float64, shift time.Duration) float64 {
	h := float64(t.Add(shift).Sub(t.Add(shift).Truncate(24*time.Hour))) / float64(time.Hour)
	c := math.Cos(2 * math.Pi * (h - 15) / 24) // 1 at 15:00, -1 at 03:00
	return math.Exp(math.Log(ratio) * (c - 1) / 2)
}

// poisson draws a Poisson count (normal approximation for large means).
func poisson(r *rand.Rand, mu float64) float64 {
	if mu <= 0 {
		return 0
	}
	if mu > 50 {
		return math.Max(0, math.Round(mu+math.Sqrt(mu)*r.NormFloat64()))
	}
	l, k, p := math.Exp(-mu), 0.0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// sim drives a series the way the live runner does.
type sim struct {
	p      Params
	s      *Series
	m      *Model
	tr     *Tracker
	r      *rand.Rand
	now    time.Time
	events []simEvent
}

type simEvent struct {
	at    time.Time
	ev    Transition
	level models.Level
}

func newSim(p Params, seed uint64) *sim {
	s := NewSeries(p, 1, models.ScopeGlobal)
	return &sim{p: p, s: s, m: s.Model, tr: s.Tracker, r: rand.New(rand.NewPCG(seed, 7)), now: t0}
}

// warm is a sim on seed that has learned two weeks of rollups and then d
// of minutes, all drawn from rate.
func warm(p Params, seed uint64, rate func(time.Time) float64, d time.Duration) *sim {
	s := newSim(p, seed)
	s.seed(14*24*time.Hour, rate)
	s.run(d, 1, rate)
	return s
}

// seed teaches d of 15-minute rollups drawn from rate (reports per
// minute), as the runner seeds a model: no decisions.
func (s *sim) seed(d time.Duration, rate func(time.Time) float64) {
	for end := s.now.Add(d); s.now.Before(end); s.now = s.now.Add(15 * time.Minute) {
		s.s.Advance(s.now, 15*time.Minute, poisson(s.r, 15*rate(s.now.Add(7*time.Minute+30*time.Second))))
	}
}

// run feeds d of 1-minute buckets, stepping the tracker after each bucket
// (and, with ticks > 1, also at sub-minute ticks on the partial minute).
func (s *sim) run(d time.Duration, ticks int, rate func(time.Time) float64) {
	s.feed(d, time.Minute, ticks, rate)
}

// feed feeds d of buckets of width w drawn from rate, stepping the tracker
// after each (and at ticks-1 moments inside each, on the partial count).
func (s *sim) feed(d, w time.Duration, ticks int, rate func(time.Time) float64) {
	for end := s.now.Add(d); s.now.Before(end); s.now = s.now.Add(w) {
		x := poisson(s.r, w.Minutes()*rate(s.now.Add(w/2)))
		for k := 1; k < ticks; k++ {
			at := s.now.Add(time.Duration(k) * w / time.Duration(ticks))
			s.step(s.s.Decide(at, math.Round(x*float64(k)/float64(ticks))))
		}
		s.s.Advance(s.now, w, x)
		s.step(s.s.Decide(s.now.Add(w), 0))
	}
}

func (s *sim) step(d Decision) {
	if ev := s.s.Step(d, s.p); ev != TransitionNone {
		s.events = append(s.events, simEvent{d.At, ev, d.Level})
	}
}

func (s *sim) count(ev Transition) int {
	n := 0
	for _, e := range s.events {
		if e.ev == ev {
			n++
		}
	}
	return n
}

// highest is the highest level any incident reached.
func (s *sim) highest() models.Level {
	lv := models.LevelOK
	for _, e := range s.events {
		if e.ev != TransitionNone && e.ev != TransitionResolved && e.level.Rank() > lv.Rank() {
			lv = e.level
		}
	}
	return lv
}

func (s *sim) first(ev Transition) (time.Time, bool) {
	for _, e := range s.events {
		if e.ev == ev {
			return e.at, true
		}
	}
	return time.Time{}, false
}

// usual is a service with a daily peak of peak reports per minute.
func usual(peak float64) func(time.Time) float64 {
	return func(t time.Time) float64 { return peak * daily(t, 10, 0) }
}

// laterWeekends is a daily peak of peak reports per minute whose cycle on
// Saturdays and Sundays runs late by later.
func laterWeekends(peak float64, later time.Duration) func(time.Time) float64 {
	return func(t time.Time) float64 {
		if t.Weekday() == time.Saturday || t.Weekday() == time.Sunday {
			return peak * daily(t, 10, -later)
		}
		return peak * daily(t, 10, 0)
	}
}
