package catalog_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/catalog"
	"github.com/outcry/outcry/server/store"
	"github.com/outcry/outcry/server/store/storetest"
)

// TestSeedDemo is what `go run .` does on a fresh database: the demo
// catalogue with DemoDays of history ending before the current bucket, on
// a real SQLite file. A database with services is left alone, and a second
// start seeds nothing again.
func TestSeedDemo(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 2, 18, 7, 0, 0, time.UTC)
	open := func(url string) (*store.Store, *catalog.Catalog) {
		st, err := store.Open(ctx, url, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		cat, err := catalog.New(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		return st, cat
	}
	history := func(st *store.Store) map[uint][]models.BucketTotal {
		rows, err := st.History(ctx, now.Add(-30*24*time.Hour), false)
		if err != nil {
			t.Fatal(err)
		}
		by := map[uint][]models.BucketTotal{}
		for _, r := range rows {
			by[r.ServiceID] = append(by[r.ServiceID], r)
		}
		return by
	}

	url := storetest.SQLite(t)
	st, cat := open(url)
	seeded, err := catalog.SeedDemo(ctx, cat, now)
	if err != nil || !seeded {
		t.Fatalf("SeedDemo on an empty database = %v, %v", seeded, err)
	}
	svcs := cat.Services()
	if len(svcs) != catalog.DemoServices() || len(svcs) == 0 {
		t.Fatalf("%d services, want the %d of the demo catalogue", len(svcs), catalog.DemoServices())
	}
	by := history(st)
	end := models.BucketOf(now)
	first := end.Add(-catalog.DemoDays * 24 * time.Hour)
	for _, s := range svcs {
		if !s.Demo {
			t.Errorf("%s is not marked Demo", s.Slug)
		}
		h := by[s.ID]
		// A busy-enough service reports in most buckets of its DemoDays.
		if len(h) < catalog.DemoDays*96/4 {
			t.Errorf("%s: %d buckets of history, want most of %d", s.Slug, len(h), catalog.DemoDays*96)
			continue
		}
		if b := time.Unix(h[0].Bucket, 0); b.Before(first) {
			t.Errorf("%s: history from %s, before %s", s.Slug, b, first)
		}
		if b := time.Unix(h[len(h)-1].Bucket, 0); !b.Before(end) {
			t.Errorf("%s: history up to %s, the bucket in progress (%s) included", s.Slug, b, end)
		}
	}
	total := func(by map[uint][]models.BucketTotal) (n int) {
		for _, h := range by {
			for _, r := range h {
				n += r.Count
			}
		}
		return n
	}
	before := total(by)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// The next start finds services and seeds nothing.
	st, cat = open(url)
	if seeded, err := catalog.SeedDemo(ctx, cat, now.Add(time.Hour)); err != nil || seeded {
		t.Fatalf("SeedDemo on a seeded database = %v, %v", seeded, err)
	}
	if n := total(history(st)); n != before {
		t.Fatalf("a second start changed the history: %d reports, then %d", before, n)
	}

	// A database with services of its own is left alone.
	st, cat = open(storetest.SQLite(t))
	if err := cat.Create(ctx, &models.Service{Slug: "acme", Name: "Acme", Problems: []string{"login"}}); err != nil {
		t.Fatal(err)
	}
	if seeded, err := catalog.SeedDemo(ctx, cat, now); err != nil || seeded {
		t.Fatalf("SeedDemo beside a service of the operator's = %v, %v", seeded, err)
	}
	if n := len(cat.Services()); n != 1 {
		t.Fatalf("%d services, want the operator's one", n)
	}
	if len(history(st)) != 0 {
		t.Fatal("history seeded beside a service of the operator's")
	}
}
