// replica is Outcry's server (server.New and Run, configured from OUTCRY_*
// like the real binary) with a clock the cluster test can move forward: an
// outage resolves only after 30 quiet minutes, which a test cannot wait for
// in real time. The clock is the wall clock plus the offset in nanoseconds
// written in the file named by REPLICA_CLOCK_FILE, re-read every 10 ms, so
// every replica jumps together. REPLICA_TICK is the detector's interval.
// Everything else, the lease above all, runs on real time.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/outcry/outcry/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	cfg, err := server.Load(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "replica:", err)
		os.Exit(2)
	}
	var offset atomic.Int64
	read := func() {
		if b, err := os.ReadFile(os.Getenv("REPLICA_CLOCK_FILE")); err == nil {
			if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
				offset.Store(n)
			}
		}
	}
	read()
	go func() {
		for range time.Tick(10 * time.Millisecond) {
			read()
		}
	}()
	tick, _ := time.ParseDuration(os.Getenv("REPLICA_TICK"))
	log := server.NewLogger(cfg, os.Stderr)
	app, err := server.New(ctx, cfg, server.Options{
		Log: log, RunnerInterval: tick,
		Now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) },
	})
	if err != nil {
		log.Error("cannot start", "err", err)
		os.Exit(1)
	}
	if err := app.Run(ctx); err != nil {
		log.Error("stopped with an error", "err", err)
		os.Exit(1)
	}
}
