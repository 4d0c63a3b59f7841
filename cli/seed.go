package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/outcry/outcry/server/catalog"
	"github.com/outcry/outcry/server/store"
)

// runSeed is `outcry seed`: a load-test tool that fills a database with a
// synthetic catalogue and its history (catalog.Seed). It never runs on a
// request path and refuses a database that already has services.
func runSeed(ctx context.Context, args []string, now func() time.Time, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	services := fs.Int("services", 1000, "how many services")
	days := fs.Int("days", 30, "days of 15-minute rollups, ending now")
	db := fs.String("db", "", "the database to fill (a SQLite file path or a postgres:// URL; required)")
	busy := fs.Int("busy", 300, "how many services are busy (reports in most buckets)")
	seed := fs.Uint64("seed", 1, "the generator's seed (the same flags make the same data)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *db == "" || fs.NArg() > 0 || *services < 1 || *days < 1 || *busy < 0 {
		fmt.Fprintln(stderr, "outcry seed: want --db PATH-OR-URL, --services N >= 1, --days D >= 1 (and --busy B >= 0)")
		return 2
	}
	// No syncer: bulk mode turns SQLite's fsync off altogether (a seed that
	// fails is run again on a fresh file).
	st, err := store.OpenWith(ctx, *db, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), store.Options{})
	if err != nil {
		fmt.Fprintln(stderr, "outcry seed:", err)
		return 1
	}
	defer st.Close()
	if n, err := st.CountServices(ctx); err != nil {
		fmt.Fprintf(stderr, "outcry seed: cannot count the services in %s: %v\n", *db, err)
		return 1
	} else if n > 0 {
		fmt.Fprintf(stderr, "outcry seed: %s already has %d services; seed an empty database\n", *db, n)
		return 1
	}
	began := time.Now()
	spec := catalog.LoadSpec{Services: *services, Days: *days, Busy: *busy, End: now(), Seed: *seed}
	last := time.Now()
	stats, err := catalog.Seed(ctx, st, spec, func(s catalog.LoadStats) {
		if time.Since(last) >= 5*time.Second {
			last = time.Now()
			fmt.Fprintf(stdout, "seed: %d rollups so far (%s)\n", s.Rollups, time.Since(began).Round(time.Second))
		}
	})
	if err != nil {
		fmt.Fprintln(stderr, "outcry seed:", err)
		return 1
	}
	fmt.Fprintf(stdout, "seeded %s: %d services, %d days, %d reports in %d rollups, in %s\n",
		*db, stats.Services, *days, stats.Reports, stats.Rollups, time.Since(began).Round(time.Millisecond))
	return 0
}
