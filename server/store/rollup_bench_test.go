package store

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store/storetest"
)

// BenchmarkRollup is one minute of the jobs loop during an outage: 200,000
// raw reports in the 74 minutes Rollup looks at (now is 14 minutes into its
// bucket, so the window is four closed buckets and most of a fifth), 200,000
// more over the day before (rows Rollup should not read;
// OUTCRY_BENCH_OLDER_REPORTS sets how many), and each op adds a
// minute's 2,700 reports, then times one Rollup as the jobs loop calls it.
// Half the reports are one service's (the outage), the rest spread over
// 1,000; 80 % are counted. It reports the CPU of this process per op
// (cpu-ms/op) and, on PostgreSQL, of the server's backends (db-cpu-ms/op).
//
//	OUTCRY_TEST_POSTGRES_URL=… go test ./server/store -run '^$' -bench BenchmarkRollup -benchtime 5x
//
// OUTCRY_BENCH_EXPLAIN=1 (with -v) logs PostgreSQL's plans of Rollup's reads.
func BenchmarkRollup(b *testing.B) {
	for _, d := range storetest.Dialects() {
		b.Run(d.Name, func(b *testing.B) {
			ctx := context.Background()
			st, err := Open(ctx, d.URL(b), slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			svcs := make([]models.Service, 1000)
			for i := range svcs {
				svcs[i] = models.Service{Slug: "s" + strconv.Itoa(i), Name: "S", Problems: []string{"login", "app", "api", "web"}}
			}
			if err := st.w.CreateInBatches(svcs, 500).Error; err != nil {
				b.Fatal(err)
			}
			now := models.BucketOf(time.Now()).Add(14 * time.Minute)
			rng := rand.New(rand.NewPCG(1, 2))
			mk := func(n int, first, last time.Time) []models.Report {
				out := make([]models.Report, n)
				span := last.Sub(first).Seconds()
				for i := range out {
					at := first.Add(time.Duration(rng.Float64() * span * float64(time.Second)))
					svc := svcs[0].ID
					if rng.IntN(2) == 0 {
						svc = svcs[rng.IntN(len(svcs))].ID
					}
					out[i] = models.Report{
						ServiceID: svc, Problem: []string{"login", "app", "api", "web"}[rng.IntN(4)],
						Region:       []string{"US", "DE", "FR", "GB", "JP", "BR", "IN", "CA", "AU", "ZZ"}[rng.IntN(10)],
						ReporterHash: fmt.Sprintf("%032x", rng.Uint64()), Counted: rng.IntN(5) != 0,
						Minute: at.Unix() / 60 * 60, CreatedAt: at.UTC(),
					}
				}
				return out
			}
			from := models.BucketOf(now.Add(-time.Hour))
			older := 200_000
			if v := os.Getenv("OUTCRY_BENCH_OLDER_REPORTS"); v != "" {
				if older, err = strconv.Atoi(v); err != nil {
					b.Fatal(err)
				}
			}
			for _, part := range [][]models.Report{
				mk(older, from.Add(-24*time.Hour), from.Add(-time.Minute)),
				mk(200_000, from, now),
			} {
				if err := st.w.CreateInBatches(part, 1000).Error; err != nil {
					b.Fatal(err)
				}
			}
			if d.Name == "postgres" {
				if err := st.w.Exec("VACUUM ANALYZE reports").Error; err != nil {
					b.Fatal(err)
				}
			}
			if err := st.Rollup(ctx, now.Add(-time.Hour)); err != nil { // the previous minute's
				b.Fatal(err)
			}
			dbCPU := func() time.Duration { return 0 }
			if d.Name == "postgres" {
				dbCPU = postgresCPU(b, st)
				if os.Getenv("OUTCRY_BENCH_EXPLAIN") != "" {
					explainRollup(b, st, now)
				}
			}
			var cpu, db time.Duration
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				if err := st.w.CreateInBatches(mk(2700, now, now.Add(59*time.Second)), 1000).Error; err != nil {
					b.Fatal(err)
				}
				c0, d0 := processCPU(), dbCPU()
				b.StartTimer()
				if err := st.Rollup(ctx, now.Add(-time.Hour)); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				cpu += processCPU() - c0
				db += dbCPU() - d0
				b.StartTimer()
			}
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
			if d.Name == "postgres" {
				b.ReportMetric(float64(db.Microseconds())/1000/float64(b.N), "db-cpu-ms/op")
			}
		})
	}
}

// processCPU is the user and system CPU this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postgresCPU returns a reader of the CPU used by the test PostgreSQL's
// processes (the postmaster's children, from /proc; the server must run on
// this machine).
func postgresCPU(b *testing.B, st *Store) func() time.Duration {
	var dir string
	if err := st.r.Raw("SHOW data_directory").Scan(&dir).Error; err != nil {
		b.Fatal(err)
	}
	pidFile, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		b.Skipf("cannot read the server's pid (%v): no database CPU", err)
	}
	pid := strings.SplitN(string(pidFile), "\n", 2)[0]
	tick := 100.0 // USER_HZ
	// utime, stime (and for the postmaster cutime, cstime: the children
	// it has reaped, such as parallel workers) in clock ticks.
	ticks := func(pid string, fields int) float64 {
		stat, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return 0
		}
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
		var n float64
		for i := 11; i < 11+fields; i++ {
			v, _ := strconv.ParseFloat(f[i], 64)
			n += v
		}
		return n
	}
	return func() time.Duration {
		total := ticks(pid, 4)
		kids, _ := os.ReadFile("/proc/" + pid + "/task/" + pid + "/children")
		for _, k := range strings.Fields(string(kids)) {
			total += ticks(k, 2)
		}
		return time.Duration(total / tick * float64(time.Second))
	}
}

// explainRollup logs PostgreSQL's plans of Rollup's two reads, as run
// (EXPLAIN ANALYZE), on the benchmark's data.
func explainRollup(b *testing.B, st *Store, now time.Time) {
	from := models.BucketOf(now.Add(-time.Hour)).Unix()
	cur := models.BucketOf(now).Unix()
	for _, q := range []func(*gorm.DB) *gorm.DB{
		func(tx *gorm.DB) *gorm.DB { return st.printQuery(tx, from) },
		func(tx *gorm.DB) *gorm.DB { return st.recomputeQuery(tx, cur, cur+bucketSecs) },
	} {
		sql := st.r.ToSQL(func(tx *gorm.DB) *gorm.DB {
			var rows []map[string]any
			return q(tx).Scan(&rows)
		})
		var lines []string
		if err := st.r.Raw("EXPLAIN (ANALYZE, BUFFERS) " + sql).Scan(&lines).Error; err != nil {
			b.Fatal(err)
		}
		b.Logf("%s\n%s", sql, strings.Join(lines, "\n"))
	}
}
