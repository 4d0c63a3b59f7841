package detector

import (
	"slices"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
)

// TestCorrelate: the grouping rule, case by case (docs/design.md,
// "Correlated outages").
func TestCorrelate(t *testing.T) {
	at := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	const w = models.CorrelationWindow
	type inc struct {
		id       uint64
		svc      uint
		scope    string
		start    time.Duration // after at
		group    uint64
		resolved bool
	}
	mk := func(i inc) *models.Incident {
		in := &models.Incident{ID: i.id, ServiceID: i.svc, Scope: models.ScopeGlobal, StartedAt: at.Add(i.start), Level: models.LevelOutage}
		if i.scope != "" {
			in.Scope = i.scope
		}
		if i.group != 0 {
			g := i.group
			in.CorrelationID = &g
		}
		if i.resolved {
			end := in.StartedAt.Add(time.Hour)
			in.ResolvedAt = &end
		}
		return in
	}
	for _, c := range []struct {
		name      string
		open      []inc
		new       inc
		wantGroup uint64
		wantAdopt []uint64
	}{
		{"alone", nil, inc{svc: 1}, 0, nil},
		{"another service at the same minute forms a group with the first's id",
			[]inc{{id: 4, svc: 2}}, inc{svc: 1, start: time.Minute}, 4, []uint64{4}},
		{"exactly at the window", []inc{{id: 4, svc: 2}}, inc{svc: 1, start: w}, 4, []uint64{4}},
		{"a second past the window", []inc{{id: 4, svc: 2}}, inc{svc: 1, start: w + time.Second}, 0, nil},
		{"started earlier than the open one (detected later)",
			[]inc{{id: 4, svc: 2, start: 5 * time.Minute}}, inc{svc: 1, start: -4 * time.Minute}, 4, []uint64{4}},
		{"a resolved incident does not attract", []inc{{id: 4, svc: 2, resolved: true}}, inc{svc: 1, start: time.Minute}, 0, nil},
		{"the service's own other incident does not group it with itself",
			[]inc{{id: 4, svc: 1, scope: "KR"}}, inc{svc: 1, start: time.Minute}, 0, nil},
		{"a regional incident of another service counts",
			[]inc{{id: 4, svc: 2, scope: "KR"}}, inc{svc: 1, start: 2 * time.Minute}, 4, []uint64{4}},
		{"three at once: the group is the lowest id",
			[]inc{{id: 9, svc: 3, start: 3 * time.Minute}, {id: 4, svc: 2, start: 6 * time.Minute}}, inc{svc: 1}, 4, []uint64{9, 4}},
		{"joins an existing group within the window of its start",
			[]inc{{id: 4, svc: 2, group: 4}, {id: 6, svc: 3, start: 4 * time.Minute, group: 4}}, inc{svc: 1, start: w}, 4, nil},
		{"the window counts from the group's start, not its latest member",
			[]inc{{id: 4, svc: 2, group: 4}, {id: 6, svc: 3, start: 8 * time.Minute, group: 4}}, inc{svc: 1, start: w + time.Minute}, 0, nil},
		{"the group's start is its earliest open incident",
			[]inc{{id: 4, svc: 2, group: 4, resolved: true}, {id: 6, svc: 3, start: 8 * time.Minute, group: 4}}, inc{svc: 1, start: w + time.Minute}, 4, nil},
		{"two separate groups: a new group apart from an old one",
			[]inc{{id: 4, svc: 2, group: 4}, {id: 6, svc: 3, start: 5 * time.Minute, group: 4}, {id: 8, svc: 5, start: 20 * time.Minute}},
			inc{svc: 1, start: 25 * time.Minute}, 8, []uint64{8}},
		{"two groups within reach: the older",
			[]inc{{id: 7, svc: 4, start: 9 * time.Minute, group: 7}, {id: 8, svc: 5, start: 9 * time.Minute, group: 7},
				{id: 4, svc: 2, group: 4}, {id: 6, svc: 3, group: 4}},
			inc{svc: 1, start: 5 * time.Minute}, 4, nil},
		{"joining, it brings the ungrouped near the group's start",
			[]inc{{id: 4, svc: 2, group: 4}, {id: 5, svc: 3, group: 4}, {id: 3, svc: 6, start: 7 * time.Minute}, {id: 2, svc: 7, start: 11 * time.Minute}},
			inc{svc: 1, start: 2 * time.Minute}, 4, []uint64{3}},
		{"a group of its own service only does not attract",
			[]inc{{id: 4, svc: 1, scope: "KR", group: 4}, {id: 5, svc: 2, group: 4, resolved: true}}, inc{svc: 1, start: time.Minute}, 0, nil},
		{"an unsaved incident (no id yet) is not adopted", []inc{{id: 0, svc: 2}}, inc{svc: 1}, 0, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var open []*models.Incident
			for _, o := range c.open {
				open = append(open, mk(o))
			}
			n := mk(c.new)
			open = append(open, n) // the runner's list includes it; Correlate skips it
			g, adopt := Correlate(n, open, w)
			var ids []uint64
			for _, a := range adopt {
				ids = append(ids, a.ID)
			}
			if g != c.wantGroup || !slices.Equal(ids, c.wantAdopt) {
				t.Errorf("group %d adopting %v, want %d adopting %v", g, ids, c.wantGroup, c.wantAdopt)
			}
		})
	}
}
