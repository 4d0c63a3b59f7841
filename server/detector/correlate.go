package detector

import (
	"time"

	"github.com/outcry/outcry/models"
)

// Correlate is the rule that groups the incidents of several services that
// began together, behind which there is often one cause (a cloud region, a
// CDN, an identity provider). It runs once, when an incident opens, over
// the incidents open at that moment (inc itself excluded); window is
// models.CorrelationWindow. Only open incidents of other services count:
// a resolved incident attracts nothing, and a service's own incidents do
// not group it with itself. Regional incidents count like global ones (a
// provider failing in one region shows as regional incidents).
//
//  1. Join: inc joins the oldest group (lowest id) that has an open
//     incident of another service and whose start, the earliest start of
//     its open incidents, is within window of inc's start (inclusive).
//     Open incidents of other services in no group that also started
//     within window of that start join it with inc.
//  2. Form: otherwise, the open incidents of other services in no group
//     that started within window of inc's start form a new group with it.
//     Its id is the lowest of their ids: the incident of the group that
//     opened first (ids rise as incidents are opened), which exists, so
//     the id never has to change.
//  3. Otherwise inc is in no group.
//
// An id, once given, is kept: a group neither merges with another nor
// splits, and an incident re-opened within ReopenWithin keeps its group. It
// returns the group (0: none) and the incidents to adopt (those in no group
// that join it now, inc excluded).
func Correlate(inc *models.Incident, open []*models.Incident, window time.Duration) (group uint64, adopt []*models.Incident) {
	near := func(a, b time.Time) bool {
		d := a.Sub(b)
		return d <= window && d >= -window
	}
	// The groups' starts, and whether another service is in each.
	type groupInfo struct {
		start time.Time
		other bool
	}
	groups := map[uint64]*groupInfo{}
	for _, o := range open {
		if o == inc || !o.Open() || o.CorrelationID == nil {
			continue
		}
		g := groups[*o.CorrelationID]
		if g == nil {
			g = &groupInfo{start: o.StartedAt}
			groups[*o.CorrelationID] = g
		}
		if o.StartedAt.Before(g.start) {
			g.start = o.StartedAt
		}
		if o.ServiceID != inc.ServiceID {
			g.other = true
		}
	}
	var anchor time.Time
	for id, g := range groups {
		if g.other && near(inc.StartedAt, g.start) && (group == 0 || id < group) {
			group, anchor = id, g.start
		}
	}
	forming := group == 0
	if forming {
		anchor = inc.StartedAt
	}
	for _, o := range open {
		if o == inc || !o.Open() || o.CorrelationID != nil || o.ServiceID == inc.ServiceID || o.ID == 0 {
			continue
		}
		if near(o.StartedAt, anchor) {
			adopt = append(adopt, o)
			if forming && (group == 0 || o.ID < group) {
				group = o.ID
			}
		}
	}
	return group, adopt
}
