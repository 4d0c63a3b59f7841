package ratelimit

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// levelRecorder keeps each record's level and message.
type levelRecorder struct{ logRecorder }

// TestRedisClientLogsAtDebug: go-redis's own lines (a failed dial for
// every pooled connection during an outage) go to slog at debug, not raw
// to stderr, so an outage is logged once, by the Limiter.
func TestRedisClientLogsAtDebug(t *testing.T) {
	rec := &levelRecorder{}
	RouteRedisLog(slog.New(rec))
	rdb, _, err := Dial("redis://127.0.0.1:"+itoa(freePort(t))+"/0", Timeouts{Dial: 100 * time.Millisecond, Read: 100 * time.Millisecond, Write: 100 * time.Millisecond, Pool: 100 * time.Millisecond, PoolSize: 4, MinIdle: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	for range 3 {
		_ = rdb.Ping(context.Background()).Err()
	}
	waitFor(t, "a go-redis line", func() bool { return rec.count() > 0 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, m := range rec.msgs {
		if !strings.HasPrefix(m, "DEBUG redis client: ") {
			t.Fatalf("go-redis logged %q, want debug records", m)
		}
	}
}
