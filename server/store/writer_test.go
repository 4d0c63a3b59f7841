package store_test

import (
	"context"
	"database/sql"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store"
)

func report(svc uint, i int, now time.Time) *models.Report {
	return &models.Report{
		ServiceID: svc, Problem: "login", Region: "KR", ReporterHash: "0123456789abcdef0123456789abcdef",
		Counted: i%2 == 0, Minute: now.Unix() / 60 * 60, CreatedAt: now, Note: "report " + strconv.Itoa(i),
	}
}

func TestWriterCommitsEveryAcknowledgedReport(t *testing.T) {
	st, path := openAt(t)
	svc := service(t, st, "chatgpt")
	// MaxBatch 100 > the 64-row INSERT chunk: batches of a full chunk plus a remainder.
	w := st.NewWriter(store.WriterOptions{MaxBatch: 100})
	now := time.Now().UTC()
	var wg sync.WaitGroup
	ids := make(chan [2]uint64, 500) // id, index
	for i := 0; i < 500; i++ {
		wg.Go(func() {
			r := report(svc.ID, i, now)
			if err := w.Write(context.Background(), r); err != nil {
				t.Error(err)
				return
			}
			ids <- [2]uint64{r.ID, uint64(i)}
		})
	}
	wg.Wait()
	close(ids)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seen := map[uint64]bool{}
	for p := range ids {
		id := p[0]
		if id == 0 || seen[id] {
			t.Fatalf("id %d zero or repeated", id)
		}
		seen[id] = true
		// The acknowledged id is the row that holds this very report.
		var note string
		if err := db.QueryRow("SELECT note FROM reports WHERE id = ?", id).Scan(&note); err != nil || note != "report "+strconv.Itoa(int(p[1])) {
			t.Fatalf("row %d holds %q (%v); want report %d", id, note, err, p[1])
		}
	}
	if len(seen) != 500 {
		t.Fatalf("%d acknowledged, want 500", len(seen))
	}
	if err := st.Rollup(context.Background(), now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	hist, err := st.History(context.Background(), now.Add(-time.Hour), true)
	if err != nil {
		t.Fatal(err)
	}
	var total, kr int
	for _, h := range hist {
		if h.Region == "" {
			total += h.Count
		} else if h.Region == "KR" {
			kr += h.Count
		}
	}
	if total != 250 || kr != 250 {
		t.Errorf("rolled up total %d, KR %d; want 250 counted of 500", total, kr)
	}
	// After Close nothing more is taken, and it says so.
	if err := w.Write(context.Background(), report(svc.ID, 0, now)); models.ErrorCode(err) != models.CodeUnavailable {
		t.Errorf("write after close: %v, want unavailable", err)
	}
}

func TestRollupIsIdempotentAndPruneKeepsRollups(t *testing.T) {
	st := open(t)
	svc := service(t, st, "sora")
	ctx := context.Background()
	old := time.Now().UTC().Add(-40 * 24 * time.Hour)
	w := st.NewWriter(store.WriterOptions{})
	for i := 0; i < 6; i++ {
		if err := w.Write(ctx, report(svc.ID, i, old)); err != nil {
			t.Fatal(err)
		}
	}
	_ = w.Close(ctx)
	for i := 0; i < 2; i++ { // twice: the same answer
		if err := st.Rollup(ctx, old.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	reports, rollups, err := st.Prune(ctx, time.Now(), 30*24*time.Hour, 183*24*time.Hour)
	if err != nil || reports != 6 || rollups != 0 {
		t.Fatalf("prune removed %d reports, %d rollups (%v); want 6, 0", reports, rollups, err)
	}
	hist, _ := st.History(ctx, old.Add(-time.Hour), false)
	if len(hist) != 1 || hist[0].Count != 3 {
		t.Fatalf("history after prune = %+v, want one bucket of 3", hist)
	}
}

// BenchmarkWriter measures group commit with many concurrent writers (a
// surge): each Write returns only after its batch is committed (fsync'd).
func BenchmarkWriter(b *testing.B) {
	st := open(b)
	svc := service(b, st, "bench")
	w := st.NewWriter(store.WriterOptions{})
	defer w.Close(context.Background())
	now := time.Now().UTC()
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if err := w.Write(context.Background(), report(svc.ID, i, now)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
