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
