package store_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store"
	"github.com/outcry/outcry/server/store/storetest"
)

func report(svc uint, i int, now time.Time) *models.Report {
	return &models.Report{
		ServiceID: svc, Problem: "login", Region: "KR", ReporterHash: "0123456789abcdef0123456789abcdef",
		Counted: i%2 == 0, Minute: now.Unix() / 60 * 60, CreatedAt: now, Note: "report " + strconv.Itoa(i),
	}
}

func TestWriterCommitsEveryAcknowledgedReport(t *testing.T) {
	eachDialect(t, testWriterCommitsEveryAcknowledgedReport)
}

func testWriterCommitsEveryAcknowledgedReport(t *testing.T, st *store.Store, dbURL string) {
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
	db := storetest.Raw(t, dbURL)
	seen := map[uint64]bool{}
	for p := range ids {
		id := p[0]
		if id == 0 || seen[id] {
			t.Fatalf("id %d zero or repeated", id)
		}
		seen[id] = true
		// The acknowledged id is the row that holds this very report.
		var note string
		if err := db.Raw("SELECT note FROM reports WHERE id = ?", id).Scan(&note).Error; err != nil || note != "report "+strconv.Itoa(int(p[1])) {
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
	eachDialect(t, func(t *testing.T, st *store.Store, _ string) { testRollupAndPrune(t, st) })
}

func testRollupAndPrune(t *testing.T, st *store.Store) {
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
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
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
	b.StopTimer()
	// The process's CPU time and context switches per report: what a
	// surge pays, whatever the machine's load does to the wall time.
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(ru1.Nvcsw+ru1.Nivcsw-ru0.Nvcsw-ru0.Nivcsw)/float64(b.N), "ctxsw/op")
}

// failures is a log handler that hands each "report batch failed" record
// to the test and waits for its go-ahead, so the test can change the
// database between the writer's attempts without guessing at timing.
type failures struct {
	seen chan string
	next chan struct{}
}

func (f *failures) Enabled(context.Context, slog.Level) bool { return true }
func (f *failures) WithAttrs([]slog.Attr) slog.Handler       { return f }
func (f *failures) WithGroup(string) slog.Handler            { return f }
func (f *failures) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "report batch failed" {
		var err string
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "err" {
				err = a.Value.String()
			}
			return true
		})
		f.seen <- err
		<-f.next
	}
	return nil
}

// The writer retries a failed batch: an insert that fails once (an injected
// trigger, as SQLITE_BUSY or a lost connection would) is committed by the
// retry and acknowledged; one that keeps failing is refused after three
// attempts and not stored.
func TestWriterRetriesAFailedBatch(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			dbURL := d.URL(t)
			f := &failures{seen: make(chan string), next: make(chan struct{})}
			st, err := store.Open(ctx, dbURL, slog.New(f))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			svc := service(t, st, "chatgpt")
			db := storetest.Raw(t, dbURL)
			fail, heal := []string{"CREATE TRIGGER fail_reports BEFORE INSERT ON reports BEGIN SELECT RAISE(ABORT, 'injected failure'); END"},
				[]string{"DROP TRIGGER fail_reports"}
			if d.Name == "postgres" {
				fail = []string{
					"CREATE FUNCTION fail_reports() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$",
					"CREATE TRIGGER fail_reports BEFORE INSERT ON reports FOR EACH STATEMENT EXECUTE FUNCTION fail_reports()",
				}
				heal = []string{"DROP TRIGGER fail_reports ON reports"}
			}
			exec := func(qs []string) {
				for _, q := range qs {
					if err := db.Exec(q).Error; err != nil {
						t.Fatal(err)
					}
				}
			}
			exec(fail)
			w := st.NewWriter(store.WriterOptions{})
			defer w.Close(ctx)
			now := time.Now().UTC()

			// Fails once, then the trigger is gone: the retry commits it.
			done := make(chan error, 1)
			r := report(svc.ID, 1, now)
			go func() { done <- w.Write(ctx, r) }()
			if msg := <-f.seen; !strings.Contains(msg, "injected failure") {
				t.Errorf("the failure logged %q", msg)
			}
			exec(heal)
			f.next <- struct{}{}
			if err := <-done; err != nil {
				t.Fatalf("the retried report: %v", err)
			}
			var note string
			if err := db.Raw("SELECT note FROM reports WHERE id = ?", r.ID).Scan(&note).Error; err != nil || note != r.Note {
				t.Errorf("the retried report's row: %q (%v)", note, err)
			}

			// Fails every time: refused after three attempts, nothing stored.
			exec(fail[len(fail)-1:])
			r = report(svc.ID, 2, now)
			go func() { done <- w.Write(ctx, r) }()
			for i := 0; i < 3; i++ {
				<-f.seen
				f.next <- struct{}{}
			}
			if err := <-done; models.ErrorCode(err) != models.CodeInternal || r.ID != 0 {
				t.Errorf("a report failing every attempt: %v, id %d; want an internal error and no id", err, r.ID)
			}
			var n int64
			db.Table("reports").Count(&n)
			if n != 1 {
				t.Errorf("%d reports stored; want only the retried one", n)
			}
		})
	}
}

// takenOff waits until the writer has taken n reports into batches.
func takenOff(t *testing.T, w *store.Writer, n uint64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); store.Taken(w) < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the writer did not take the queued report")
		}
	}
}

// TestWriterWaitsForAnnouncedReports: a report announced (its admission
// under way) is committed in the same batch as the report the writer holds,
// not left a commit of its own after it. Without the wait the two reports
// are two commits of one row each.
func TestWriterWaitsForAnnouncedReports(t *testing.T) {
	u := storetest.SQLite(t)
	st := openURL(t, u)
	svc := service(t, st, "chatgpt")
	var mu sync.Mutex
	var sizes []int
	w := st.NewWriter(store.WriterOptions{OnBatch: func(n int, _ time.Duration) {
		mu.Lock()
		sizes = append(sizes, n)
		mu.Unlock()
	}})
	store.PinGather(w, time.Hour)
	now := time.Now().UTC()
	w.Announce()
	first := make(chan error, 1)
	go func() { first <- w.Write(context.Background(), report(svc.ID, 0, now)) }()
	takenOff(t, w, 1)
	second := report(svc.ID, 1, now)
	if err := w.WriteAnnounced(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if second.ID == 0 {
		t.Fatal("the announced report has no id")
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 1 || sizes[0] != 2 {
		t.Fatalf("batches %v, want one batch of both reports", sizes)
	}
	if n := reportRows(t, u); n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
}

// TestWriterWithdrawEndsTheWait: a withdrawn announcement releases the batch
// at once (the wait here is pinned at an hour), and an announcement never
// ended costs only the wait's bound.
func TestWriterWithdrawEndsTheWait(t *testing.T) {
	u := storetest.SQLite(t)
	st := openURL(t, u)
	svc := service(t, st, "chatgpt")
	w := st.NewWriter(store.WriterOptions{})
	store.PinGather(w, time.Hour)
	now := time.Now().UTC()
	w.Announce()
	done := make(chan error, 1)
	go func() { done <- w.Write(context.Background(), report(svc.ID, 0, now)) }()
	takenOff(t, w, 1)
	w.Withdraw()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the batch still waits after its announced report was withdrawn")
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	w = st.NewWriter(store.WriterOptions{})
	store.PinGather(w, 50*time.Millisecond)
	w.Announce() // never ended
	if err := w.Write(context.Background(), report(svc.ID, 1, now)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := reportRows(t, u); n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
}

func reportRows(t *testing.T, dbURL string) int64 {
	t.Helper()
	var n int64
	if err := storetest.Raw(t, dbURL).Raw("SELECT count(*) FROM reports").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}
