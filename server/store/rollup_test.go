package store

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store/storetest"
)

// rollupKey is one rollup group.
type rollupKey struct {
	Service uint
	Bucket  int64
	Region  string
	Problem string
}

// rollupFixture is a store with three services and a clock 14 minutes into a
// bucket, so Rollup's window (since = now - 1h) is five buckets.
type rollupFixture struct {
	t    *testing.T
	st   *Store
	url  string
	svcs []models.Service
	now  time.Time
	from int64 // the oldest bucket of the window
	seq  int
}

func newRollupFixture(t *testing.T, d storetest.Dialect) *rollupFixture {
	t.Helper()
	url := d.URL(t)
	st, err := Open(context.Background(), url, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	f := &rollupFixture{t: t, st: st, url: url, now: models.BucketOf(time.Now()).Add(14 * time.Minute)}
	f.from = models.BucketOf(f.now.Add(-time.Hour)).Unix()
	for _, slug := range []string{"a", "b", "c"} {
		svc := models.Service{Slug: slug, Name: slug, Problems: []string{"login", "app"}}
		if err := st.w.Create(&svc).Error; err != nil {
			t.Fatal(err)
		}
		f.svcs = append(f.svcs, svc)
	}
	return f
}

// add stores n reports of service i at minute (unix seconds), committed now.
func (f *rollupFixture) add(i, n int, minute int64, counted bool, region, problem string) {
	f.t.Helper()
	rows := make([]models.Report, n)
	for j := range rows {
		f.seq++
		rows[j] = models.Report{ServiceID: f.svcs[i].ID, Problem: problem, Region: region, Counted: counted,
			ReporterHash: fmt.Sprintf("%032d", f.seq), Minute: minute, CreatedAt: time.Unix(minute, 0).UTC()}
	}
	if err := f.st.w.Create(&rows).Error; err != nil {
		f.t.Fatal(err)
	}
}

// rollup runs Rollup as the jobs loop does.
func (f *rollupFixture) rollup() {
	f.t.Helper()
	if err := f.st.Rollup(context.Background(), f.now.Add(-time.Hour)); err != nil {
		f.t.Fatal(err)
	}
}

// stored is the rollups of the window as stored.
func (f *rollupFixture) stored() map[rollupKey]int {
	f.t.Helper()
	var rows []models.Rollup
	if err := f.st.r.Where("bucket >= ?", f.from).Find(&rows).Error; err != nil {
		f.t.Fatal(err)
	}
	out := make(map[rollupKey]int)
	for _, r := range rows {
		out[rollupKey{r.ServiceID, r.Bucket, r.Region, r.Problem}] = r.Count
	}
	return out
}

// truth is what recomputing every bucket of the window from the raw reports
// gives, computed here on its own (a plain GROUP BY over every report).
func (f *rollupFixture) truth() map[rollupKey]int {
	f.t.Helper()
	var rows []models.Report
	if err := f.st.r.Where("minute >= ?", f.from).Find(&rows).Error; err != nil {
		f.t.Fatal(err)
	}
	live := make(map[uint]bool)
	var svcs []models.Service
	if err := f.st.r.Find(&svcs).Error; err != nil {
		f.t.Fatal(err)
	}
	for _, s := range svcs {
		live[s.ID] = true
	}
	out := make(map[rollupKey]int)
	for _, r := range rows {
		if r.Counted && live[r.ServiceID] {
			out[rollupKey{r.ServiceID, models.BucketOf(time.Unix(r.Minute, 0)).Unix(), r.Region, r.Problem}]++
		}
	}
	return out
}

// matches fails the test unless the stored rollups are the full
// recompute's.
func (f *rollupFixture) matches(what string) {
	f.t.Helper()
	got, want := f.stored(), f.truth()
	if !maps.Equal(got, want) {
		f.t.Fatalf("%s: rollups\n  %v\nwant (a full recompute)\n  %v", what, got, want)
	}
}

// readTwoServices stores counted reports of the first two services and
// recomputes the window's groups without writing them: what a Rollup has
// read when something happens before it writes.
func (f *rollupFixture) readTwoServices() []models.Rollup {
	f.t.Helper()
	f.add(0, 3, f.minute(1, 1), true, "US", "login")
	f.add(1, 2, f.minute(3, 1), true, "DE", "app")
	read, err := f.st.recompute(context.Background(), [][2]int64{{f.from, f.from + 5*bucketSecs}})
	if err != nil {
		f.t.Fatal(err)
	}
	return read
}

// minute is the start of minute m of the window's bucket b (0 the oldest).
func (f *rollupFixture) minute(b, m int) int64 { return f.from + int64(b)*bucketSecs + int64(m)*60 }

// TestRollupMatchesAFullRecompute: after every kind of change Rollup's
// rollups are exactly what recomputing every bucket of its window gives:
// reports in the open bucket, late reports landing in any closed bucket of
// the window (a batch committed long after its minute), uncounted reports,
// a service deleted; and a bucket whose reports did not change is not read
// again.
func TestRollupMatchesAFullRecompute(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			f := newRollupFixture(t, d)
			for b := range 5 {
				f.add(0, 3+b, f.minute(b, 2), true, "US", "login")
				f.add(1, 2, f.minute(b, 7), true, "DE", "app")
				f.add(2, 1, f.minute(b, 1), false, "US", "login")
			}
			f.add(0, 4, f.from-60, true, "US", "login") // before the window: never rolled up
			f.rollup()
			f.matches("first rollup")
			if n := len(f.stored()); n != 10 {
				t.Fatalf("%d groups; want 10", n)
			}

			// The open bucket grows.
			f.add(0, 5, f.minute(4, 14), true, "US", "login")
			f.add(2, 1, f.minute(4, 14), true, "FR", "app")
			f.rollup()
			f.matches("reports in the open bucket")

			// A late batch lands in the oldest bucket of the window, three
			// buckets before the previous one.
			f.add(1, 3, f.minute(0, 5), true, "DE", "app")
			f.add(2, 2, f.minute(0, 14), true, "JP", "login")
			f.rollup()
			f.matches("a late batch in the oldest bucket")

			// Unchanged buckets are not read again, and unchanged groups not
			// written again: stored counts changed behind Rollup's back stay
			// so until a report arrives in their group.
			zero := func(k rollupKey) {
				t.Helper()
				if err := f.st.w.Model(&models.Rollup{}).Where("service_id = ? AND bucket = ? AND region = ? AND problem = ?",
					k.Service, k.Bucket, k.Region, k.Problem).Update("count", 0).Error; err != nil {
					t.Fatal(err)
				}
			}
			closed := rollupKey{f.svcs[0].ID, f.minute(2, 0), "US", "login"}
			open := rollupKey{f.svcs[0].ID, f.minute(4, 0), "US", "login"}
			zero(closed)
			zero(open)
			f.add(2, 4, f.minute(1, 3), false, "US", "login") // uncounted: changes nothing
			f.add(1, 1, f.minute(4, 14), true, "DE", "app")   // another group of the open bucket
			f.rollup()
			if got := f.stored()[closed]; got != 0 {
				t.Fatalf("an unchanged bucket was recomputed (count %d)", got)
			}
			if got := f.stored()[open]; got != 0 {
				t.Fatalf("an unchanged group of the open bucket was written (count %d)", got)
			}
			f.add(0, 1, f.minute(2, 9), true, "US", "login")
			f.add(0, 1, f.minute(4, 14), true, "US", "login")
			f.rollup()
			f.matches("reports in the groups that were changed behind Rollup's back")

			// A service deleted: its rollups go with it and do not come back.
			if err := f.st.DeleteService(context.Background(), "b"); err != nil {
				t.Fatal(err)
			}
			f.add(0, 1, f.minute(3, 3), true, "US", "app")
			f.rollup()
			f.matches("service b deleted")
			for k := range f.stored() {
				if k.Service == f.svcs[1].ID {
					t.Fatalf("rollup %v of the deleted service", k)
				}
			}

			// A fresh Store (a restart, a new leader) knows no bucket: its
			// first Rollup recomputes them all.
			f.st.rollups.seen, f.st.rollups.counts = nil, nil
			if err := f.st.w.Model(&models.Rollup{}).Where("bucket >= ?", f.from).Update("count", 0).Error; err != nil {
				t.Fatal(err)
			}
			f.rollup()
			f.matches("after a restart")
		})
	}
}

// TestRollupStaleWriteDoesNotLowerCounts: a Rollup that read the reports
// before another Rollup read and wrote newer counts (an old leader that
// paused between its read and its write) does not put its older, smaller
// counts back; nothing would recompute those buckets again.
func TestRollupStaleWriteDoesNotLowerCounts(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			f := newRollupFixture(t, d)
			ctx := context.Background()
			stale := f.readTwoServices() // the old leader reads...
			// ...more reports arrive and the new leader rolls them up...
			f.add(0, 2, f.minute(1, 4), true, "US", "login")
			f.add(1, 1, f.minute(3, 9), true, "DE", "app")
			other, err := Open(ctx, f.url, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			if err := other.Rollup(ctx, f.now.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			f.matches("the new leader's rollup")
			// ...then the old leader writes what it read.
			if err := f.st.writeRollups(ctx, stale); err != nil {
				t.Fatal(err)
			}
			f.matches("after the old leader's late write")
			if err := other.Rollup(ctx, f.now.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			f.matches("the new leader's next rollup")
		})
	}
}

// TestRollupOfADeletedServiceIsNotWrittenBack: a Rollup that read a
// service's groups before the service was deleted (here, or on another
// replica) writes them after DeleteService removed its rollups; they go
// again at once instead of staying until Prune. The other services' are
// written as usual.
func TestRollupOfADeletedServiceIsNotWrittenBack(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			f := newRollupFixture(t, d)
			ctx := context.Background()
			read := f.readTwoServices()
			if err := f.st.DeleteService(ctx, f.svcs[0].Slug); err != nil {
				t.Fatal(err)
			}
			if err := f.st.writeRollups(ctx, read); err != nil {
				t.Fatal(err)
			}
			count := func(id uint) (n int64) {
				if err := f.st.w.Model(&models.Rollup{}).Where("service_id = ?", id).Count(&n).Error; err != nil {
					t.Fatal(err)
				}
				return n
			}
			if n := count(f.svcs[0].ID); n != 0 {
				t.Fatalf("%d rollups of the deleted service written back", n)
			}
			if n := count(f.svcs[1].ID); n != 1 {
				t.Fatalf("%d rollups of a live service, want 1", n)
			}
		})
	}
}

// TestRollupReadsOnlyItsWindow: on SQLite (no statistics) both of Rollup's
// reads go through the index on (minute, counted, id) with a range on
// minute, and the fingerprint reads that index alone. Without the hint the
// recompute went through idx_reports_service: every report kept, 30 days of
// them, every minute.
func TestRollupReadsOnlyItsWindow(t *testing.T) {
	f := newRollupFixture(t, storetest.Dialects()[0])
	f.add(0, 3, f.minute(1, 1), true, "US", "login")
	plan := func(q func(*gorm.DB) *gorm.DB) string {
		t.Helper()
		sql := f.st.r.ToSQL(func(tx *gorm.DB) *gorm.DB {
			var rows []map[string]any
			return q(tx).Scan(&rows)
		})
		rows, err := f.st.r.Raw("EXPLAIN QUERY PLAN " + sql).Rows()
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, detail)
		}
		return strings.Join(lines, "; ")
	}
	p := plan(func(tx *gorm.DB) *gorm.DB { return f.st.printQuery(tx, f.from) })
	if !strings.Contains(p, "SEARCH reports USING COVERING INDEX idx_reports_minute_counted (minute>?)") {
		t.Errorf("the fingerprint's plan: %s", p)
	}
	p = plan(func(tx *gorm.DB) *gorm.DB { return f.st.recomputeQuery(tx, f.from, f.from+bucketSecs) })
	if !strings.Contains(p, "SEARCH reports USING INDEX idx_reports_minute_counted (minute>? AND minute<?)") {
		t.Errorf("the recompute's plan: %s", p)
	}
}
