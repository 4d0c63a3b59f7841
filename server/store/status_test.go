package store_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store"
	"github.com/outcry/outcry/server/store/storetest"
)

// publishedStatus is a status as the runner publishes it: a day of
// buckets, the last few without a band, an open incident.
func publishedStatus(svc models.Service, seed int) models.ServiceStatus {
	end := time.Date(2026, 3, 4, 12, 15, 0, 0, time.UTC)
	st := models.ServiceStatus{Service: svc, Level: models.LevelWarning, Reports15m: 40 + seed,
		TopProblems: []models.Share{{Key: "login", Count: 30, Percent: 75}}, UpdatedAt: end.Add(7 * time.Minute), Version: uint64(1000 + seed)}
	for i := range 97 {
		b := models.Bucket{Start: end.Add(time.Duration(i-96) * models.BucketSize), Count: (i*7 + seed) % 50}
		if i < 94 {
			e := 3.0 + float64(i%24)/7 + float64(seed)/3
			b.Baseline = &models.Band{Expected: e, Low: e * 0.31, High: e*2.17 + 1e-9}
		}
		st.Series = append(st.Series, b)
	}
	st.Incident = &models.Incident{ID: 9, ServiceID: svc.ID, Scope: "US", Level: models.LevelWarning, Peak: 4.5, StartedAt: end.Add(-time.Hour), PeakAt: end.Add(-time.Hour), NotifiedAt: end.Add(-time.Hour)}
	return st
}

// The statuses a leader publishes read back exactly (chart series, bands
// and all) on both dialects, though the chart is stored packed, in less
// than a third of the bytes its JSON took; a status stored by an earlier
// build (the chart as JSON) reads as before; a later publish replaces a
// status and drops a removed service's (PostgreSQL: by COPY and upsert).
func TestPublishedStatusesReadBackExactly(t *testing.T) {
	eachDialect(t, func(t *testing.T, st *store.Store, dbURL string) {
		ctx := context.Background()
		a, b, c := service(t, st, "alpha"), service(t, st, "beta"), service(t, st, "gamma")
		want := []models.ServiceStatus{publishedStatus(a, 1), publishedStatus(b, 2)}
		want[1].Series = nil // a service without a chart yet
		if err := st.PutStatuses(ctx, 5, want, nil); err != nil {
			t.Fatal(err)
		}
		raw := storetest.Raw(t, dbURL)
		old := publishedStatus(c, 3)
		oldBody, err := json.Marshal(&old)
		if err != nil {
			t.Fatal(err)
		}
		if err := raw.Exec(`INSERT INTO service_statuses (service_id, seq, body) VALUES (?, ?, ?)`, c.ID, 6, oldBody).Error; err != nil {
			t.Fatal(err)
		}
		got, seq, err := st.StatusesSince(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if seq != 6 || len(got) != 3 {
			t.Fatalf("read %d statuses up to %d, want 3 up to 6", len(got), seq)
		}
		byID := map[uint]models.ServiceStatus{}
		for _, s := range got {
			byID[s.Service.ID] = s
		}
		// Times from the database come back in UTC without a monotonic
		// reading, as JSON gave them.
		norm := func(s models.ServiceStatus) models.ServiceStatus {
			s.Service.CreatedAt, s.Service.UpdatedAt = s.Service.CreatedAt.UTC().Round(0), s.Service.UpdatedAt.UTC().Round(0)
			return s
		}
		for _, w := range append(want, old) {
			if g := byID[w.Service.ID]; !reflect.DeepEqual(norm(g), norm(w)) {
				t.Errorf("service %s read back as\n%+v\nwant\n%+v", w.Service.Slug, norm(g), norm(w))
			}
		}
		var sizes []int
		if err := raw.Raw(`SELECT LENGTH(body) FROM service_statuses WHERE service_id = ?`, a.ID).Scan(&sizes).Error; err != nil {
			t.Fatal(err)
		}
		// A later publish replaces a status and drops a removed service's.
		again := publishedStatus(a, 4)
		if err := st.PutStatuses(ctx, 7, []models.ServiceStatus{again}, []uint{b.ID}); err != nil {
			t.Fatal(err)
		}
		got, seq, err = st.StatusesSince(ctx, 6)
		if err != nil || seq != 7 || len(got) != 1 || !reflect.DeepEqual(norm(got[0]), norm(again)) {
			t.Fatalf("after the second publish read %d statuses up to %d (%v), want alpha's new one at 7", len(got), seq, err)
		}
		var left int64
		if err := raw.Raw(`SELECT COUNT(*) FROM service_statuses`).Scan(&left).Error; err != nil || left != 2 {
			t.Fatalf("%d statuses stored after removing beta's (%v), want 2", left, err)
		}
		asJSON, _ := json.Marshal(&want[0])
		t.Logf("stored body %v bytes; as JSON %d", sizes, len(asJSON))
		if len(sizes) != 1 || sizes[0]*3 > len(asJSON) {
			t.Errorf("the stored body is %v bytes, its JSON %d: want under a third", sizes, len(asJSON))
		}
	})
}
