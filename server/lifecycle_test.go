package server_test

import (
	"context"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/testkit"
	"github.com/outcry/outcry/server"
	"github.com/outcry/outcry/server/servertest"
)

// goroutinesRunning reports whether any goroutine is in fn.
func goroutinesRunning(fn string) bool {
	buf := make([]byte, 1<<20)
	return strings.Contains(string(buf[:runtime.Stack(buf, true)]), fn)
}

// When New fails after starting the report writer (here: its address is
// taken), it stops the writer and closes the database: nothing is left
// running.
func TestFailedStartLeavesNothingRunning(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	env := servertest.Env(t)
	env["OUTCRY_ADDR"] = taken.Addr().String()
	delete(env, "OUTCRY_REDIS_URL")
	cfg, err := server.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	const writer = "store.(*Writer).loop"
	before := goroutinesRunning(writer) // other tests' apps may run in parallel
	app, err := server.New(context.Background(), cfg, server.Options{Log: slog.New(slog.DiscardHandler)})
	if err == nil {
		_ = app.Run(canceled())
		t.Fatal("New succeeded on a taken address")
	}
	if before {
		t.Skip("another test's writer is running; cannot tell ours apart")
	}
	testkit.Eventually(t, 5*time.Second, "the report writer to stop after New failed", func() bool { return !goroutinesRunning(writer) })
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
