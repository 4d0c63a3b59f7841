package server_test

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/internal/testkit"
	"github.com/outcry/outcry/server"
	"github.com/outcry/outcry/server/servertest"
	"github.com/outcry/outcry/server/store"
	"github.com/outcry/outcry/server/store/storetest"
)

// TestFirstTickLongerThanTheLease: on PostgreSQL a leader's first detector
// tick may outlast the lease (50,000 services on a busy database: 11 s, the
// TTL is 10 s). The lease is renewed while New waits for that tick, so the
// start keeps its first tenure; it had lapsed, and the next renewal began a
// new tenure whose fresh runner learned every model again. The tick is held
// here by a lock on the rollups its chart reads.
func TestFirstTickLongerThanTheLease(t *testing.T) {
	gin.SetMode(gin.TestMode)
	ctx := context.Background()
	dbURL := storetest.Postgres(t)
	st, err := store.Open(ctx, dbURL, slog.New(slog.DiscardHandler)) // migrated before the lock
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	lock := storetest.Raw(t, dbURL).Begin()
	defer func() { _ = lock.Rollback() }()
	if err := lock.Exec("LOCK TABLE rollups IN ACCESS EXCLUSIVE MODE").Error; err != nil {
		t.Fatal(err)
	}
	env := servertest.Env(t)
	env["OUTCRY_DATABASE_URL"] = dbURL
	env["OUTCRY_LEADER_TTL"], env["OUTCRY_LEADER_RENEW"] = "1s", "250ms"
	cfg, err := server.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	type started struct {
		app *server.App
		err error
	}
	done := make(chan started, 1)
	go func() {
		app, err := server.New(runCtx, cfg, server.Options{Listener: ln, Log: slog.New(slog.DiscardHandler)})
		done <- started{app, err}
	}()
	// The lease is taken, then renewed past its first expiry, while the
	// first tick waits for the lock.
	var first time.Time
	testkit.Eventually(t, 10*time.Second, "the lease renewed past its first expiry while the first tick waits", func() bool {
		holder, _, expires, err := st.Lease(ctx)
		if err != nil || holder == "" {
			return false
		}
		if first.IsZero() {
			first = expires
		}
		return expires.Sub(first) > 2*time.Second
	})
	select {
	case s := <-done:
		t.Fatalf("New returned while its first tick was held (err %v)", s.err)
	default:
	}
	if err := lock.Rollback().Error; err != nil {
		t.Fatal(err)
	}
	s := <-done
	if s.err != nil {
		t.Fatal(s.err)
	}
	ran := make(chan error, 1)
	go func() { ran <- s.app.Run(runCtx) }()
	_, term, _, err := st.Lease(ctx)
	cancel()
	<-ran
	if err != nil || term != 1 {
		t.Fatalf("the lease's term is %d (err %v), want the first tenure's, 1", term, err)
	}
}
