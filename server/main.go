package server

import (
	"context"
	"fmt"
	"io"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/internal/gcfloor"
)

// Serve loads the configuration from getenv, serves until ctx ends and
// returns the process exit code: 2 for a bad configuration, 1 when the app
// cannot start or stops with an error.
func Serve(ctx context.Context, getenv func(string) string, stderr io.Writer) int {
	cfg, err := Load(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "outcry:", err)
		return 2
	}
	if getenv("GIN_MODE") == "" {
		gin.SetMode(gin.ReleaseMode)
	}
	// A process-wide setting, so here and not in New (tests run many apps
	// in one process).
	if cfg.HeapFloorMB > 0 && getenv("GOGC") == "" {
		floor := gcfloor.Start(uint64(cfg.HeapFloorMB) << 20)
		defer floor.Stop()
	}
	w := &lockedWriter{w: stderr} // application and access lines share one stream
	log := NewLogger(cfg, w)
	app, err := New(ctx, cfg, Options{Log: log, LogWriter: w})
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
