package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/outcry/outcry/server/store"
)

// runMigrate copies a SQLite deployment into PostgreSQL: `outcry migrate
// --from outcry.db --to postgres://…`. Both databases are first brought to
// the newest schema. Re-running it is safe and resumes where it stopped.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the SQLite database to copy (a path or sqlite://path)")
	to := fs.String("to", "", "the PostgreSQL database to copy into (postgres://user:pass@host:port/db?sslmode=…)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "outcry migrate: unexpected argument %q\n", fs.Arg(0))
		return 2
	case *from == "" || *to == "":
		fmt.Fprintln(stderr, "outcry migrate: both --from and --to are required")
		return 2
	case store.IsPostgres(*from):
		fmt.Fprintln(stderr, "outcry migrate: --from must be a SQLite database")
		return 2
	case !store.IsPostgres(*to):
		fmt.Fprintln(stderr, "outcry migrate: --to must be a postgres:// URL")
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	src, err := store.Open(ctx, *from, log)
	if err != nil {
		fmt.Fprintln(stderr, "outcry migrate:", err)
		return 1
	}
	defer src.Close()
	dst, err := store.Open(ctx, *to, log)
	if err != nil {
		fmt.Fprintln(stderr, "outcry migrate:", err)
		return 1
	}
	defer dst.Close()
	start := time.Now()
	var last time.Time
	progress := func(table string, copied, total int64) {
		if copied < total && time.Since(last) < time.Second {
			return
		}
		last = time.Now()
		pct := 100.0
		if total > 0 {
			pct = 100 * float64(min(copied, total)) / float64(total)
		}
		fmt.Fprintf(stdout, "migrate: %-16s %10d of %10d rows (%5.1f%%)  %s\n", table, copied, total, pct, time.Since(start).Round(time.Second))
	}
	if err := store.CopyAll(ctx, src, dst, progress); err != nil {
		fmt.Fprintln(stderr, "outcry migrate:", err)
		return 1
	}
	fmt.Fprintf(stdout, "migrate: done in %s; point OUTCRY_DATABASE_URL at the PostgreSQL database\n", time.Since(start).Round(time.Second))
	return 0
}
