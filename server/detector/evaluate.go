package detector

import (
	"context"
	"sort"
	"time"

	"github.com/outcry/outcry/models"
)

// evaluate advances one service to now, judges it, steps its incident state
// machines and persists what changed. It reports whether a change that
// subscribers hear about was committed.
func (r *Runner) evaluate(ctx context.Context, tr *tracked, now time.Time) bool {
	id := tr.svc.ID
	if cs := tr.svc.ColdStartThreshold(); tr.global.Model.p.ColdStart != cs {
		tr.global.Model.p.ColdStart = cs
		for _, s := range tr.regions {
			s.Model.p.ColdStart = cs
		}
	}
	minute := now.Truncate(time.Minute).Unix()
	// Learn every minute that is complete.
	if oldest := minute - int64(recentSpan/time.Second); tr.observed < oldest {
		tr.observed = oldest // a long pause: the model treats the rest as a gap
	}
	for _, s := range tr.regions {
		s.Held = tr.global.Tracker.Open() // StepService
	}
	for ; tr.observed+60 <= now.Add(-grace).Unix(); tr.observed += 60 {
		c := r.counts(id, tr.observed)
		at := time.Unix(tr.observed, 0).UTC()
		tr.global.Advance(at, time.Minute, float64(c.Total))
		for code, s := range tr.regions {
			s.Advance(at, time.Minute, float64(c.Regions[code]))
		}
	}
	// The last 15 minutes, and regions bursting without a series yet.
	tr.last15 = r.last15(id, minute)
	for code, n := range tr.last15.Regions {
		if n >= regionBurst && tr.regions[code] == nil && code != models.UnknownRegion && len(tr.regions) < maxRegions {
			s := r.newSeries(tr.svc, code)
			s.Advance(time.Unix(tr.observed, 0).UTC().Add(-time.Minute), time.Minute, 0)
			tr.regions[code] = s
		}
	}
	// Judge: the global series, then each region, then the regional rule.
	pendingCounts := models.Counts{}
	for m := tr.observed; m <= minute; m += 60 {
		pendingCounts.Add(r.counts(id, m))
	}
	global := tr.global.Decide(now, float64(pendingCounts.Total))
	codes := make([]string, 0, len(tr.regions))
	for code := range tr.regions {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	decisions := make([]Decision, len(codes))
	regions := make([]*Series, len(codes))
	for i, code := range codes {
		regions[i] = tr.regions[code]
		decisions[i] = regions[i].Decide(now, float64(pendingCounts.Regions[code]))
		decisions[i].Scope = code
	}
	announced := false
	StepService(tr.global, global, regions, decisions, r.Params, func(i int, s *Series, d Decision) {
		scope := models.ScopeGlobal
		if i >= 0 {
			scope = codes[i]
		}
		if r.step(ctx, tr, scope, s, d, now) {
			announced = true
		}
	})
	return announced
}
