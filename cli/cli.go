// Package cli is Outcry's command line: serving (the server package does the
// work) and the tools beside it. Each tool parses its flags and calls the
// packages that do the work; nothing here is on a request path.
package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/outcry/outcry/server"
)

// Main runs the command line: no arguments (or "serve") serves; "detect",
// "simulate" and "migrate" are tools. It returns the process exit code.
func Main(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "detect":
			return runDetect(args[1:], stdin, stdout, stderr)
		case "simulate":
			return runSimulate(ctx, args[1:], stdout, stderr)
		case "migrate":
			return runMigrate(ctx, args[1:], stdout, stderr)
		case "seed":
			return runSeed(ctx, args[1:], time.Now, stdout, stderr)
		case "serve":
			args = args[1:]
		case "-h", "--help", "help":
			fmt.Fprintln(stdout, usage)
			return 0
		default:
			fmt.Fprintf(stderr, "outcry: unknown command %q\n%s\n", args[0], usage)
			return 2
		}
	}
	if len(args) > 0 {
		fmt.Fprintf(stderr, "outcry: serve takes no arguments; configure it with OUTCRY_* variables\n")
		return 2
	}
	return server.Serve(ctx, getenv, stderr)
}

const usage = `usage:
  outcry                                    serve (see README for OUTCRY_* variables)
  outcry detect --interval 5m < in.csv      replay the detector: timestamp,value -> timestamp,value,anomaly_score,alert
  outcry simulate --service chatgpt --outage  send a burst of reports to a running instance
  outcry migrate --from outcry.db --to postgres://user:pass@host:5432/outcry
                                            copy a SQLite deployment into PostgreSQL (idempotent, resumable)
  outcry seed --services N --days D --db PATH   load tests: fill an empty database with N synthetic
                                            services and D days of 15-minute rollups`
