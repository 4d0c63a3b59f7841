package store_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store"
)

// TestFindIncidents: the list across services, newest first, with each
// filter and the cursor, on both dialects; a forming correlation group
// adopts the open incidents it names in the incident's transaction.
func TestFindIncidents(t *testing.T) {
	eachDialect(t, func(t *testing.T, st *store.Store, _ string) {
		ctx := context.Background()
		a, b, c := service(t, st, "alpha"), service(t, st, "bravo"), service(t, st, "charlie")
		t0 := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
		open := func(svc models.Service, scope string, level models.Level, at time.Time, adopt ...uint64) *models.Incident {
			t.Helper()
			ch := incidentChange(svc, at)
			ch.Incident.Scope, ch.Incident.Level = scope, level
			ch.State.Scope = scope
			if len(adopt) > 0 {
				g := adopt[0]
				ch.Incident.CorrelationID, ch.Adopt = &g, adopt
			}
			if err := st.ApplyIncident(ctx, ch); err != nil {
				t.Fatal(err)
			}
			return ch.Incident
		}
		i1 := open(a, models.ScopeGlobal, models.LevelOutage, t0)
		i2 := open(b, models.ScopeGlobal, models.LevelWarning, t0.Add(2*time.Minute), i1.ID)
		i3 := open(c, "KR", models.LevelWarning, t0.Add(3*time.Hour))
		// i1 resolves (a quiet update: no event).
		res := t0.Add(time.Hour)
		i1.ResolvedAt = &res
		if err := st.ApplyIncident(ctx, models.IncidentChange{Service: a, Incident: i1, At: res,
			State: models.DetectorState{ServiceID: a.ID, Scope: models.ScopeGlobal, State: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}

		ids := func(q models.IncidentQuery) []uint64 {
			t.Helper()
			if q.Limit == 0 {
				q.Limit = 50
			}
			list, err := st.FindIncidents(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			out := []uint64{}
			for _, in := range list {
				out = append(out, in.ID)
				if in.ServiceSlug == "" || in.ServiceName == "" {
					t.Errorf("incident %d without its service: %+v", in.ID, in)
				}
			}
			return out
		}
		yes, no := true, false
		for name, c := range map[string]struct {
			q    models.IncidentQuery
			want []uint64
		}{
			"all, newest first": {models.IncidentQuery{}, []uint64{i3.ID, i2.ID, i1.ID}},
			"open":              {models.IncidentQuery{Open: &yes}, []uint64{i3.ID, i2.ID}},
			"resolved":          {models.IncidentQuery{Open: &no}, []uint64{i1.ID}},
			"service":           {models.IncidentQuery{ServiceID: b.ID}, []uint64{i2.ID}},
			"level":             {models.IncidentQuery{Level: models.LevelWarning}, []uint64{i3.ID, i2.ID}},
			"since":             {models.IncidentQuery{Since: t0.Add(2 * time.Minute)}, []uint64{i3.ID, i2.ID}},
			"since, exclusive":  {models.IncidentQuery{Since: t0.Add(2*time.Minute + time.Millisecond)}, []uint64{i3.ID}},
			"correlation":       {models.IncidentQuery{Correlation: i1.ID}, []uint64{i2.ID, i1.ID}},
			"cursor":            {models.IncidentQuery{Before: i3.ID, Limit: 1}, []uint64{i2.ID}},
			"cursor at the end": {models.IncidentQuery{Before: i1.ID}, []uint64{}},
		} {
			if got := ids(c.q); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", name, got, c.want)
			}
		}

		// The feeds' events: every announced transition (the three
		// openings; i1's resolution was quiet), newest first, all or one
		// service's.
		for _, c := range []struct {
			svc  uint
			want []uint64
		}{{0, []uint64{i3.ID, i2.ID, i1.ID}}, {b.ID, []uint64{i2.ID}}, {a.ID, []uint64{i1.ID}}} {
			evs, err := st.IncidentEvents(ctx, c.svc, 10)
			if err != nil {
				t.Fatal(err)
			}
			got := []uint64{}
			for _, ev := range evs {
				got = append(got, ev.IncidentID)
				if ev.Type != models.EventIncidentOpened || len(ev.Payload) == 0 {
					t.Errorf("event %+v", ev)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("events of service %d: incidents %v, want %v", c.svc, got, c.want)
			}
		}
		if evs, err := st.IncidentEvents(ctx, 0, 2); err != nil || len(evs) != 2 {
			t.Errorf("two events: %d, %v", len(evs), err)
		}

		// The adopted incident kept its group through a later save of a
		// copy that did not know it, and the stored rows say so.
		list, err := st.FindIncidents(ctx, models.IncidentQuery{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range list {
			want := in.ID == i1.ID || in.ID == i2.ID
			if got := in.CorrelationID != nil && *in.CorrelationID == i1.ID; got != want {
				t.Errorf("incident %d (%s) correlation %v", in.ID, in.ServiceSlug, in.CorrelationID)
			}
			if in.ID == i3.ID && (in.Scope != "KR" || in.ServiceSlug != "charlie" || in.ServiceName != "charlie") {
				t.Errorf("incident 3: %+v", in)
			}
		}

		// Webhook payloads carry the stored group, even when the copy the
		// event is written from does not know it (i1 was adopted by i2's
		// opening): i1's announced resolution says group i1, i2's opening
		// too, i3's opening none.
		if i1.CorrelationID != nil {
			t.Fatal("the test needs a copy of i1 that does not know its group")
		}
		if err := st.ApplyIncident(ctx, models.IncidentChange{Service: a, Incident: i1, At: res.Add(time.Minute), EventType: models.EventIncidentResolved,
			State: models.DetectorState{ServiceID: a.ID, Scope: models.ScopeGlobal, State: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
		evs, err := st.IncidentEvents(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]any{}
		for _, ev := range evs {
			env, err := ev.Envelope()
			if err != nil {
				t.Fatal(err)
			}
			var g any
			if c := env.Data.Incident.Correlation; c != nil {
				g = *c
			}
			got[ev.ServiceSlug+" "+ev.Type] = g
		}
		want := map[string]any{"alpha incident.resolved": i1.ID, "alpha incident.opened": nil, "bravo incident.opened": i1.ID, "charlie incident.opened": nil}
		if !maps.Equal(got, want) {
			t.Errorf("payload correlations %v, want %v", got, want)
		}
	})
}
