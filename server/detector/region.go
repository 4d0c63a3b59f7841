package detector

import (
	"math"
	"time"

	"github.com/outcry/outcry/models"
)

// Regionalise applies the regional rule to one evaluation of a service: the
// global decision (Scope models.ScopeGlobal) and one decision per region
// with enough traffic to have its own Model (Scope = the region code), all
// taken at the same moment with the same Params.
//
// A spike is regional when one region holds at least Params.RegionalShare
// of the global excess in the deciding window and the rest of the world
// (global minus that region, same window) is below WarnSignificance. Then
// the global decision is turned to ok (its Rule says why) and that region's
// decision carries the alert. When the spike is not confined, regional
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
	gi := statIndex(&global, global.Window)
	if gi < 0 {
		return global, regions
	}
	g := global.Stats[gi]
	gEx := g.Actual - g.Expected
	best, bestEx := -1, math.Inf(-1)
	for i := range regions {
		r := &regions[i]
		if r.Level.Rank() == 0 {
			continue
		}
		ri := statIndex(r, g.Window)
		if ri < 0 {
			continue
		}
		if ex := r.Stats[ri].Actual - r.Stats[ri].Expected; ex > bestEx {
			best, bestEx = i, ex
		}
	}
	confined := false
	if best >= 0 && gEx > 0 && bestEx >= p.RegionalShare*gEx {
		r := regions[best].Stats[statIndex(&regions[best], g.Window)]
		restX := math.Max(0, g.Actual-r.Actual)
		restMu := math.Max(1e-9, g.Expected-r.Expected)
		confined = Significance(restX, restMu, p.MinDispersion) < p.WarnSignificance
	}
	if confined {
		global.Level, global.Regional = models.LevelOK, regions[best].Scope
		return global, regions
	}
	for i := range regions {
		regions[i].Level, regions[i].Quiet = models.LevelOK, true
	}
	return global, regions
}

// statIndex is the index of the window stat covering w, or -1.
func statIndex(d *Decision, w time.Duration) int {
	for i := 0; i < d.NStats; i++ {
		if d.Stats[i].Window == w {
			return i
		}
	}
	return -1
}
