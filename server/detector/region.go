package detector

import (
	"math"

	"github.com/outcry/outcry/models"
)

// Regionalise applies the regional rule to one evaluation of a service: the
// global decision (Scope models.ScopeGlobal) and one decision per region
// with enough traffic to have its own Model (Scope = the region code), all
// taken at the same moment with the same Params.
//
// A rise is regional when one elevated region holds at least
// Params.RegionalShare of the global excess over the last EvidenceSpan and
// the rest of the world (global minus that region, same span) is not
// elevated: it did not rise by WarnRise, or by MinReports reporters. Then
// the global decision is turned to ok (its Rule says why) and that region's
// decision carries the alert. When the rise is not confined, regional
// decisions are turned to ok so that one event opens one (global) incident.
// When the global series is ok, regional decisions pass through unchanged:
// a small region can have an incident of its own.
//
// It returns the global decision and the regional ones, in the same order,
// modified in place.
func Regionalise(global Decision, regions []Decision, p Params) (Decision, []Decision) {
	if global.Level.Rank() == 0 || len(regions) == 0 || global.Cold {
		return global, regions
	}
	gEx := global.Recent - global.RecentExpected
	best, bestEx := -1, math.Inf(-1)
	for i := range regions {
		r := &regions[i]
		if r.Level.Rank() == 0 {
			continue
		}
		if ex := r.Recent - r.RecentExpected; ex > bestEx {
			best, bestEx = i, ex
		}
	}
	confined := false
	if best >= 0 && gEx > 0 && bestEx >= p.RegionalShare*gEx {
		r := &regions[best]
		restX := math.Max(0, global.Recent-r.Recent)
		restMu := math.Max(0, global.RecentExpected-r.RecentExpected)
		confined = restX < p.WarnRise*restMu || restX-restMu < p.MinReports
	}
	if confined {
		global.Level, global.Regional = models.LevelOK, regions[best].Scope
		return global, regions
	}
	for i := range regions {
		regions[i].Level = models.LevelOK
	}
	return global, regions
}

// StepService steps one evaluation of a service: its global series with
// decision global, and its regional series with theirs (in the same
// order), calling step for each (i = -1 for the global series, else the
// region's index) with the decision it is to fold in. The live runner and
// the tests go through it alike.
//
// While the service's incident is open it covers its regions (one event,
// one incident): regional decisions open nothing, and the regional series
// are held (Series.Held), so that what their tests gather during it is
// dropped when it ends. Otherwise the regional rule applies (Regionalise),
// and a cold-start incident of the service is the only one.
func StepService(global *Series, g Decision, regions []*Series, rd []Decision, p Params, step func(i int, s *Series, d Decision)) {
	wasOpen := global.Tracker.Open()
	if wasOpen {
		for i := range rd {
			rd[i].Level = models.LevelOK
		}
	}
	g, rd = Regionalise(g, rd, p)
	if g.Cold && g.Level.Rank() > 0 {
		for i := range rd {
			rd[i].Level = models.LevelOK
		}
	}
	step(-1, global, g)
	open := global.Tracker.Open()
	for i, s := range regions {
		s.Held = open
		if wasOpen || open {
			rd[i].Level = models.LevelOK
		}
		step(i, s, rd[i])
	}
}
