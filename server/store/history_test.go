package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store"
)

// TestHistoryOf: per-region totals since a time, one service per call, in
// service then bucket then region order; only the services asked for; rows
// stored by InsertRollupsBulk, problems summed, older buckets left out; on
// both dialects (PostgreSQL reads it with a query of its own).
func TestHistoryOf(t *testing.T) {
	eachDialect(t, func(t *testing.T, st *store.Store, _ string) { testHistoryOf(t, st) })
}

func testHistoryOf(t *testing.T, st *store.Store) {
	ctx := context.Background()
	a, b, c := service(t, st, "a"), service(t, st, "b"), service(t, st, "c")
	now := models.BucketOf(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	old, b1, b2 := now.Add(-48*time.Hour).Unix(), now.Add(-time.Hour).Unix(), now.Add(-45*time.Minute).Unix()
	rows := []models.Rollup{
		{ServiceID: a.ID, Bucket: old, Region: "US", Problem: "login", Count: 50},
		{ServiceID: a.ID, Bucket: b1, Region: "US", Problem: "login", Count: 2},
		{ServiceID: a.ID, Bucket: b1, Region: "US", Problem: "api", Count: 3},
		{ServiceID: a.ID, Bucket: b1, Region: "KR", Problem: "api", Count: 1},
		{ServiceID: a.ID, Bucket: b2, Region: "ZZ", Problem: "login", Count: 4},
		{ServiceID: c.ID, Bucket: b2, Region: "DE", Problem: "login", Count: 7},
	}
	if err := st.InsertRollupsBulk(ctx, rows); err != nil {
		t.Fatal(err)
	}
	collect := func(ids []uint) map[uint][]models.BucketTotal {
		got := map[uint][]models.BucketTotal{}
		var order []uint
		err := st.HistoryOf(ctx, now.Add(-24*time.Hour), ids, func(id uint, rs []models.BucketTotal) error {
			order = append(order, id)
			got[id] = append([]models.BucketTotal(nil), rs...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(order); i++ {
			if order[i] <= order[i-1] {
				t.Errorf("services came in order %v", order)
			}
		}
		return got
	}
	want := map[uint][]models.BucketTotal{
		a.ID: {{ServiceID: a.ID, Bucket: b1, Region: "KR", Count: 1}, {ServiceID: a.ID, Bucket: b1, Region: "US", Count: 5}, {ServiceID: a.ID, Bucket: b2, Region: "ZZ", Count: 4}},
		c.ID: {{ServiceID: c.ID, Bucket: b2, Region: "DE", Count: 7}},
	}
	if got := collect(nil); !reflect.DeepEqual(got, want) {
		t.Errorf("every service: %v, want %v", got, want)
	}
	if got := collect([]uint{c.ID, b.ID}); !reflect.DeepEqual(got, map[uint][]models.BucketTotal{c.ID: want[c.ID]}) {
		t.Errorf("services b and c: %v", got)
	}
}
