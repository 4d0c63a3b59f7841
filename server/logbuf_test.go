package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// chunks records every write that reaches the log stream.
type chunks struct {
	mu  sync.Mutex
	all [][]byte
}

func (c *chunks) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.all = append(c.all, bytes.Clone(p))
	return len(p), nil
}

// Under load the access-log buffer fills many times; every write that
// leaves it is whole lines, so the application log written beside it never
// lands inside an access line, and every line parses.
func TestBufferedLogNeverSplitsALine(t *testing.T) {
	var sink chunks
	stream := &lockedWriter{w: &sink}
	buf := newBufferedLog(stream, time.Hour) // only fills and Close flush
	access := slog.New(slog.NewJSONHandler(buf, nil))
	app := slog.New(slog.NewJSONHandler(stream, nil))
	long := strings.Repeat("x", bufferedLogSize+100) // longer than the whole buffer
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				access.Info("http", "worker", w, "i", i, "route", "/api/v1/services/:slug/reports")
				if i%500 == 0 {
					app.Warn("redis reachable again", "worker", w)
				}
			}
		})
	}
	wg.Wait()
	access.Info("http", "huge", long)
	buf.Close()
	lines := 0
	for i, c := range sink.all {
		if len(c) == 0 || c[len(c)-1] != '\n' {
			t.Fatalf("write %d of %d ends mid-line (%d bytes)", i, len(sink.all), len(c))
		}
		for _, l := range bytes.Split(bytes.TrimSuffix(c, []byte("\n")), []byte("\n")) {
			if !json.Valid(l) {
				t.Fatalf("line is not JSON: %.120q", l)
			}
			lines++
		}
	}
	if want := 4*2000 + 4*4 + 1; lines != want {
		t.Fatalf("%d lines, want %d", lines, want)
	}
}
