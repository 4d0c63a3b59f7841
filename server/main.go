package server

import (
	"context"
	"fmt"
	"io"

	"github.com/gin-gonic/gin"
)

// Main runs the command line: no arguments serves; "detect" and "simulate"
// are tools. It returns the process exit code.
func Main(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "detect":
			return runDetect(args[1:], stdin, stdout, stderr)
		case "simulate":
			return runSimulate(ctx, args[1:], stdout, stderr)
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
	cfg, err := Load(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "outcry:", err)
		return 2
	}
	if getenv("GIN_MODE") == "" {
		gin.SetMode(gin.ReleaseMode)
	}
	log := NewLogger(cfg, stderr)
	app, err := New(ctx, cfg, Options{Log: log, LogWriter: stderr})
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	if err := app.Run(ctx); err != nil {
		log.Error("stopped with an error", "err", err)
		return 1
	}
	return 0
}

const usage = `usage:
  outcry                                    serve (see README for OUTCRY_* variables)
  outcry detect --interval 5m < in.csv      replay the detector: timestamp,value -> timestamp,value,anomaly_score,alert
  outcry simulate --service chatgpt --outage  send a burst of reports to a running instance`
