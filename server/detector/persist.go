package detector

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/outcry/outcry/models"
)

// Announcing growth: incident.updated is sent when an incident escalates,
// or when its peak has grown by updateGrowth since subscribers last heard
// and at least updateEvery has passed. Quiet evidence updates are saved at
// most every quietSaveEvery.
const (
	updateGrowth   = 1.5
	updateEvery    = 10 * time.Minute
	quietSaveEvery = time.Minute
)

// step folds a decision into one series' incident state and persists the
// change (retrying next tick if the database fails). It reports whether an
// announced change was committed.
func (r *Runner) step(ctx context.Context, tr *tracked, scope string, s *Series, d Decision, now time.Time) bool {
	ev := s.Step(d, r.Params)
	inc := s.Incident()
	// Growth is announced once updateEvery has passed since subscribers last
	// heard, whether or not the peak moved in this very tick: a peak reached
	// early and held is still news ten minutes later.
	grown := (ev == TransitionUpdated || ev == TransitionNone) && inc != nil && inc.Open() && inc.ID != 0 &&
		inc.Peak >= updateGrowth*max(inc.NotifiedPeak, 1) && now.Sub(inc.NotifiedAt) >= updateEvery
	if ev != TransitionNone || grown {
		p := tr.unsaved[scope]
		p.inc = inc
		switch {
		case ev == TransitionOpened:
			p.events = append(p.events, models.EventIncidentOpened)
		case ev == TransitionEscalated, ev == TransitionReopened:
			p.events = append(p.events, models.EventIncidentUpdated)
		case ev == TransitionResolved:
			p.events = append(p.events, models.EventIncidentResolved)
		case grown && !slices.Contains(p.events, models.EventIncidentUpdated):
			p.events = append(p.events, models.EventIncidentUpdated)
		}
		tr.unsaved[scope] = p
	}
	p, ok := tr.unsaved[scope]
	if !ok {
		return false
	}
	if len(p.events) == 0 && now.Sub(tr.savedAt[scope]) < quietSaveEvery {
		return false
	}
	setTopShares(p.inc, tr, scope)
	state, _ := json.Marshal(s.Tracker.State)
	ch := models.IncidentChange{
		Service: tr.svc, Incident: p.inc, PublicURL: r.PublicURL, At: now,
		State: models.DetectorState{ServiceID: tr.svc.ID, Scope: scope, State: state},
	}
	if len(p.events) == 0 {
		p.events = []string{""}
	}
	announced := false
	for len(p.events) > 0 {
		ch.EventType, ch.Adopt = p.events[0], nil
		var adopt []*models.Incident
		if ch.EventType == models.EventIncidentOpened {
			adopt = r.correlate(p.inc)
			for _, o := range adopt {
				ch.Adopt = append(ch.Adopt, o.ID)
			}
		}
		if err := r.Incidents.ApplyIncident(ctx, ch); err != nil {
			r.Log.Warn("saving an incident change failed; retrying next tick", "service", tr.svc.Slug, "scope", scope, "event", ch.EventType, "err", err)
			tr.unsaved[scope] = p
			return announced
		}
		for _, o := range adopt { // committed: the group formed
			if o.CorrelationID == nil {
				g := *p.inc.CorrelationID
				o.CorrelationID = &g
			}
		}
		if ch.EventType != "" {
			announced = true
			r.Log.Info("incident "+eventWord(ch.EventType), "service", tr.svc.Slug, "scope", scope, "level", p.inc.Level,
				"expected", p.inc.Expected, "actual", p.inc.Actual, "rule", p.inc.Rule)
		}
		p.events = p.events[1:]
	}
	delete(tr.unsaved, scope)
	tr.savedAt[scope] = now
	return announced
}

func eventWord(t string) string {
	switch t {
	case models.EventIncidentOpened:
		return "opened"
	case models.EventIncidentResolved:
		return "resolved"
	}
	return "updated"
}

// setTopShares sets the incident's top problems and regions from the last
// 15 minutes (for a regional incident, the region's own share).
func setTopShares(inc *models.Incident, tr *tracked, scope string) {
	c := tr.last15
	if c.Total == 0 {
		return
	}
	inc.TopProblems = shares(c.Problems, c.Total, 5)
	if scope == models.ScopeGlobal {
		inc.TopRegions = shares(c.Regions, c.Total, 5)
		return
	}
	inc.TopRegions = shares(map[string]int{scope: c.Regions[scope]}, c.Total, 1)
}

// correlate sets the correlation group of an incident about to be saved as
// opened (Correlate over every open incident the runner tracks) and returns
// the incidents that join the group with it. It runs on every attempt to
// save the opening, so a retry after a failed save decides afresh.
func (r *Runner) correlate(inc *models.Incident) []*models.Incident {
	inc.CorrelationID = nil
	var open []*models.Incident
	for _, tr := range r.tracked {
		if in := tr.global.Incident(); in != nil && in.Open() {
			open = append(open, in)
		}
		for _, s := range tr.regions {
			if in := s.Incident(); in != nil && in.Open() {
				open = append(open, in)
			}
		}
	}
	g, adopt := Correlate(inc, open, models.CorrelationWindow)
	if g != 0 {
		inc.CorrelationID = &g
	}
	return adopt
}
