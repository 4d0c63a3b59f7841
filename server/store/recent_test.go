package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store"
)

// RecentIncidents lists the latest incidents of every service, newest
// first, at most limit.
func TestRecentIncidents(t *testing.T) {
	eachDialect(t, func(t *testing.T, st *store.Store, _ string) {
		ctx := context.Background()
		a, b := service(t, st, "alpha"), service(t, st, "beta")
		start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		for i, svc := range []models.Service{a, b, a} {
			ch := incidentChange(svc, start.Add(time.Duration(i)*time.Minute))
			if i == 2 {
				ch.Incident.Scope, ch.State.Scope = "KR", "KR" // a second open incident of alpha, in one region
			}
			if err := st.ApplyIncident(ctx, ch); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.RecentIncidents(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ServiceID != a.ID || got[0].Scope != "KR" || got[1].ServiceID != b.ID || !got[0].StartedAt.After(got[1].StartedAt) {
			t.Fatalf("the latest two: %+v", got)
		}
		all, err := st.RecentIncidents(ctx, 50)
		if err != nil || len(all) != 3 {
			t.Fatalf("all: %d, %v", len(all), err)
		}
	})
}
