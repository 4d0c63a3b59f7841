package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store"
	"github.com/outcry/outcry/server/store/storetest"
)

// TestInsertRollupsBulk: on both dialects every row is stored as given, and
// a second batch that repeats some rows leaves those as they were and adds
// the rest (on PostgreSQL the COPY fails on the repeated key, and the batch
// goes by INSERT … ON CONFLICT DO NOTHING, so nothing of it is lost).
func TestInsertRollupsBulk(t *testing.T) {
	eachDialect(t, func(t *testing.T, st *store.Store, dbURL string) {
		ctx := context.Background()
		a, b := service(t, st, "a"), service(t, st, "b")
		now := models.BucketOf(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
		b1, b2 := now.Add(-time.Hour).Unix(), now.Add(-45*time.Minute).Unix()
		first := []models.Rollup{
			{ServiceID: a.ID, Bucket: b1, Region: "US", Problem: "login", Count: 2},
			{ServiceID: a.ID, Bucket: b1, Region: "US", Problem: "api", Count: 3, Demo: true},
			{ServiceID: b.ID, Bucket: b2, Region: "DE", Problem: "login", Count: 7},
		}
		if err := st.InsertRollupsBulk(ctx, first); err != nil {
			t.Fatal(err)
		}
		second := []models.Rollup{
			{ServiceID: a.ID, Bucket: b1, Region: "US", Problem: "login", Count: 99}, // there already
			{ServiceID: a.ID, Bucket: b2, Region: "KR", Problem: "login", Count: 4},
		}
		if err := st.InsertRollupsBulk(ctx, second); err != nil {
			t.Fatal(err)
		}
		var got []models.Rollup
		if err := storetest.Raw(t, dbURL).Order("service_id, bucket, region, problem").Find(&got).Error; err != nil {
			t.Fatal(err)
		}
		want := []models.Rollup{
			{ServiceID: a.ID, Bucket: b1, Region: "US", Problem: "api", Count: 3, Demo: true},
			{ServiceID: a.ID, Bucket: b1, Region: "US", Problem: "login", Count: 2},
			{ServiceID: a.ID, Bucket: b2, Region: "KR", Problem: "login", Count: 4},
			{ServiceID: b.ID, Bucket: b2, Region: "DE", Problem: "login", Count: 7},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("rollups %v, want %v", got, want)
		}
	})
}
