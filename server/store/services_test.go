package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store"
	"github.com/outcry/outcry/server/store/storetest"
)

// incidentChange is an opened incident of svc with its detector state.
func incidentChange(svc models.Service, at time.Time) models.IncidentChange {
	return models.IncidentChange{
		Service: svc, EventType: models.EventIncidentOpened, At: at, PublicURL: "https://outcry.example",
		Incident: &models.Incident{ServiceID: svc.ID, Scope: models.ScopeGlobal, Level: models.LevelOutage, StartedAt: at, PeakAt: at,
			Peak: 40, Window: 5 * time.Minute, Expected: 2, Actual: 40, Ratio: 20, Significance: 9, Rule: "test rule"},
		State: models.DetectorState{ServiceID: svc.ID, Scope: models.ScopeGlobal, State: []byte(`{}`)},
	}
}

// DeleteService takes the service's reports, rollups, incidents and
// detector states with it (and nothing of another service's), and a
// detector write racing it cannot bring any of them back.
func TestDeleteServiceCascades(t *testing.T) {
	eachDialect(t, func(t *testing.T, st *store.Store, dbURL string) {
		ctx := context.Background()
		gone, kept := service(t, st, "gone"), service(t, st, "kept")
		now := time.Now().UTC()
		w := st.NewWriter(store.WriterOptions{})
		// More reports than one delete slice holds would take too long here;
		// 300 of each still exercise the slicing query.
		for i := 0; i < 300; i++ {
			for _, svc := range []models.Service{gone, kept} {
				if err := w.Write(ctx, report(svc.ID, i, now.Add(-time.Duration(i)*time.Minute))); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if err := st.Rollup(ctx, now.Add(-6*time.Hour)); err != nil {
			t.Fatal(err)
		}
		for _, svc := range []models.Service{gone, kept} {
			if err := st.ApplyIncident(ctx, incidentChange(svc, now)); err != nil {
				t.Fatal(err)
			}
		}
		db := storetest.Raw(t, dbURL)
		count := func(table string, id uint) int64 {
			var n int64
			if err := db.Table(table).Where("service_id = ?", id).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		tables := []string{"reports", "rollups", "incidents", "detector_states"}
		for _, tb := range tables {
			if count(tb, gone.ID) == 0 {
				t.Fatalf("%s has no rows of the service before the delete", tb)
			}
		}
		if err := st.DeleteService(ctx, "gone"); err != nil {
			t.Fatal(err)
		}
		// The detector's next write for it is refused, not an upsert.
		if err := st.ApplyIncident(ctx, incidentChange(gone, now.Add(time.Minute))); models.ErrorCode(err) != models.CodeNotFound {
			t.Errorf("ApplyIncident after the delete: %v; want not_found", err)
		}
		// A late report of a batch in flight does not roll up again.
		w = st.NewWriter(store.WriterOptions{})
		if err := w.Write(ctx, report(gone.ID, 0, now)); err != nil {
			t.Fatal(err)
		}
		_ = w.Close(ctx)
		if err := st.Rollup(ctx, now.Add(-6*time.Hour)); err != nil {
			t.Fatal(err)
		}
		for _, tb := range tables[1:] {
			if n := count(tb, gone.ID); n != 0 {
				t.Errorf("%s keeps %d rows of the deleted service", tb, n)
			}
			if count(tb, kept.ID) == 0 {
				t.Errorf("%s lost the other service's rows", tb)
			}
		}
		if n := count("reports", gone.ID); n != 1 {
			t.Errorf("%d reports of the deleted service; want only the late one", n)
		}
		if n := count("reports", kept.ID); n != 300 {
			t.Errorf("the other service has %d reports; want 300", n)
		}
		var events int64
		db.Table("events").Where("service_id = ?", gone.ID).Count(&events)
		if events != 1 {
			t.Errorf("%d events of the deleted service; want its one announced opening (the outbox keeps what was sent)", events)
		}
		if err := st.DeleteService(ctx, "gone"); models.ErrorCode(err) != models.CodeNotFound {
			t.Errorf("deleting it again: %v; want not_found", err)
		}
	})
}

// Setting creates a value on first use, returns the stored one afterwards
// (also after a restart), and concurrent first uses agree.
func TestSettingIsCreatedOnceAndShared(t *testing.T) {
	eachDialect(t, func(t *testing.T, st *store.Store, dbURL string) {
		ctx := context.Background()
		var wg sync.WaitGroup
		got := make([]string, 8)
		for i := range got {
			wg.Go(func() {
				v, err := st.Setting(ctx, "reporter_hash_secret", func() string { return "candidate-" + string(rune('a'+i)) })
				if err != nil {
					t.Error(err)
				}
				got[i] = v
			})
		}
		wg.Wait()
		for _, v := range got {
			if v != got[0] || v == "" {
				t.Fatalf("concurrent first uses got %q; want one value", got)
			}
		}
		_ = st.Close()
		again := openURL(t, dbURL)
		v, err := again.Setting(ctx, "reporter_hash_secret", func() string { return "another" })
		if err != nil || v != got[0] {
			t.Errorf("after reopening: %q (%v); want %q", v, err, got[0])
		}
		other, err := again.Setting(ctx, "other", func() string { return "x" })
		if err != nil || other != "x" {
			t.Errorf("a second key: %q (%v)", other, err)
		}
	})
}
