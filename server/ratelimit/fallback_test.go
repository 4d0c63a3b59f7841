package ratelimit

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// logRecorder keeps the messages of every record logged.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.msgs = append(l.msgs, r.Level.String()+" "+r.Message)
	l.mu.Unlock()
	return nil
}

func (l *logRecorder) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.msgs)
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestFallbackWhenRedisDies kills the Redis process under a Limiter, checks
// that reports are still admitted (degraded, counted, logged once), that a
// dead Redis is dialled at most once per retry interval, and that the
// Limiter returns to Redis by itself when Redis is back on the same port.
func TestFallbackWhenRedisDies(t *testing.T) {
	srv := startRedisServer(t)
	var dials atomic.Int64
	dialer := func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	rdb := newTestClient(t, srv.addr, dialer)
	cfg := Config{Prefix: testPrefix(t, nil)} // a throwaway server
	local, err := NewLocal(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logRecorder{}
	fallbacks := prometheus.NewCounter(prometheus.CounterOpts{Name: "outcry_limiter_fallbacks_total"})
	const retry = 200 * time.Millisecond
	lim, err := New(rdb, local, cfg, Options{Logger: slog.New(logs), Fallbacks: fallbacks, RetryInterval: retry})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	minute := time.Unix(unixMinute(time.Now()), 0).Add(-time.Minute)
	admit := func(reporter string) models.Admittance {
		t.Helper()
		d, err := lim.Admit(ctx, models.Admission{ServiceID: 3, Reporter: reporter, Network: "n-" + reporter, Problem: "outage", Region: "US", At: minute})
		if err != nil {
			t.Fatalf("Admit(%s): %v", reporter, err)
		}
		if !d.Allowed || !d.Counted {
			t.Fatalf("Admit(%s) = %+v, want allowed and counted", reporter, d)
		}
		return d
	}

	if d := admit("before"); d.Degraded {
		t.Fatalf("healthy Redis: %+v", d)
	}
	if err := lim.Ping(ctx); err != nil || lim.Degraded() {
		t.Fatalf("healthy Redis: Ping %v, Degraded %v", err, lim.Degraded())
	}

	srv.stop()
	dialsBefore := dials.Load()
	start := time.Now()
	n := 0
	for time.Since(start) < 3*retry {
		if d := admit("during-" + itoa(n)); !d.Degraded {
			t.Fatalf("Redis dead, report %d: %+v", n, d)
		}
		n++
		time.Sleep(time.Millisecond)
	}
	if !lim.Degraded() || lim.Ping(ctx) == nil {
		t.Fatal("Redis dead but Limiter not degraded or Ping succeeds")
	}
	if got := counterValue(t, fallbacks); got != float64(n) {
		t.Fatalf("fallbacks counter %v, want %d", got, n)
	}
	if logs.count() != 1 {
		t.Fatalf("logged %q, want one transition", logs.msgs)
	}
	t.Logf("%d reports in %s while degraded; %d dials", n, time.Since(start).Round(time.Millisecond), dials.Load()-dialsBefore)
	// One probe per retry interval, plus the first failure (and Ping).
	if d := dials.Load() - dialsBefore; d > 6 {
		t.Fatalf("%d reports while degraded dialled Redis %d times", n, d)
	}
	mc, err := lim.Minutes(ctx, minute, minute.Add(time.Minute))
	if err != nil || len(mc) != 1 || mc[0].Services[3].Total != n {
		t.Fatalf("degraded Minutes = %+v, %v; want the %d reports counted in process", mc, err, n)
	}

	srv.restart()
	deadline := time.Now().Add(5 * time.Second)
	for lim.Degraded() {
		if time.Now().After(deadline) {
			t.Fatal("Limiter did not recover within 5s of Redis restarting")
		}
		admit("recovering-" + itoa(n))
		n++
		time.Sleep(20 * time.Millisecond)
	}
	if d := admit("after"); d.Degraded {
		t.Fatalf("recovered, but %+v", d)
	}
	if logs.count() != 2 {
		t.Fatalf("logged %q, want degraded then recovered", logs.msgs)
	}
	// The fresh Redis knows only "after" and later; the twin keeps what it
	// counted while degraded, and Minutes merges both.
	mc, err = lim.Minutes(ctx, minute, minute.Add(time.Minute))
	if err != nil || len(mc) != 1 || mc[0].Services[3].Total != n+1 {
		t.Fatalf("recovered Minutes = %+v, %v; want %d", mc, err, n+1)
	}
}

// TestFallbackNotOnCallerCancel: a caller giving up is not Redis failing.
func TestFallbackNotOnCallerCancel(t *testing.T) {
	rdb := testRedis(t)
	cfg := Config{Prefix: testPrefix(t, rdb)}
	local, _ := NewLocal(cfg, nil)
	fallbacks := prometheus.NewCounter(prometheus.CounterOpts{Name: "f"})
	lim, err := New(rdb, local, cfg, Options{Fallbacks: fallbacks})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := lim.Admit(ctx, models.Admission{Reporter: "r", Network: "n"}); err == nil {
		t.Fatal("Admit with a cancelled context succeeded")
	}
	if _, err := lim.Minutes(ctx, time.Now().Add(-time.Hour), time.Now()); err == nil {
		t.Fatal("Minutes with a cancelled context succeeded")
	}
	if lim.Degraded() || counterValue(t, fallbacks) != 0 {
		t.Fatal("caller cancellation counted as a Redis failure")
	}
}

// TestNewChecksLocalConfig: the twin must enforce the same limits.
func TestNewChecksLocalConfig(t *testing.T) {
	local, _ := NewLocal(Config{Dedupe: time.Minute}, nil)
	if _, err := New(newTestClient(t, "127.0.0.1:1", nil), local, Config{}, Options{}); err == nil {
		t.Fatal("New accepted a Local with another dedupe window")
	}
}
