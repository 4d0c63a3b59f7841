package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store"
)

// TestCountedSince: the counted reports stored since a moment, with their
// reporter and network hashes, on both dialects; uncounted and older ones
// are left out.
func TestCountedSince(t *testing.T) {
	eachDialect(t, func(t *testing.T, st *store.Store, _ string) {
		ctx := context.Background()
		svc := service(t, st, "chatgpt")
		w := st.NewWriter(store.WriterOptions{})
		now := time.Now().UTC().Truncate(time.Second)
		put := func(reporter, network string, counted bool, at time.Time) {
			r := &models.Report{ServiceID: svc.ID, Problem: "login", Region: "KR", ReporterHash: reporter, NetworkHash: network,
				Counted: counted, Minute: at.Unix() / 60 * 60, CreatedAt: at}
			if err := w.Write(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		put("old", "n-old", true, now.Add(-20*time.Minute))
		put("edge", "n-edge", true, now.Add(-15*time.Minute-30*time.Second)) // same minute as since, but before it
		put("a", "n-a", true, now.Add(-10*time.Minute))
		put("b", "n-b", false, now.Add(-5*time.Minute))
		put("c", "n-c", true, now)
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		marks, err := st.CountedSince(ctx, now.Add(-15*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if len(marks) != 2 || marks[0].Reporter != "a" || marks[0].Network != "n-a" || marks[1].Reporter != "c" ||
			marks[0].ServiceID != svc.ID || !marks[1].At.Equal(now) {
			t.Fatalf("CountedSince = %+v; want a then c", marks)
		}
	})
}
