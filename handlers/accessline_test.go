package handlers

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"
)

// slogLine is the line slog's JSON handler writes for l.
func slogLine(t testing.TB, l *accessLine) []byte {
	t.Helper()
	var buf bytes.Buffer
	r := slog.NewRecord(l.time, l.level, "http", 0)
	r.AddAttrs(slog.String("request_id", l.requestID), slog.String("method", l.method), slog.String("route", l.route),
		slog.Int("status", l.status), slog.Float64("latency_ms", l.latencyMS), slog.Int("bytes", l.bytes))
	if l.suppressed != 0 {
		r.AddAttrs(slog.Int64("suppressed_429s", l.suppressed))
	}
	if err := slog.NewJSONHandler(&buf, nil).Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestAccessLineMatchesSlog(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	at := time.Date(2026, 12, 2, 13, 4, 5, 120000000, time.UTC)
	for _, l := range []accessLine{
		{time: at, level: slog.LevelInfo, requestID: "a1b2c3d4e5f6-1", method: "POST", route: "/api/v1/services/:slug/reports", status: 202, latencyMS: 1.234, bytes: 112},
		{time: at.In(berlin), level: slog.LevelError, requestID: "x", method: "GET", route: "unmatched", status: 500, latencyMS: 0, bytes: 0},
		{time: at.Add(7), level: slog.LevelInfo, requestID: "id", method: "POST", route: "/r", status: 429, latencyMS: 0.001, bytes: 90, suppressed: 12345},
		{time: at, level: slog.LevelInfo, requestID: "q\"b\\s<>&\x01\x7f\u2028\u2029é\xff", method: "OTHER", route: "/", status: 400, latencyMS: 123456.789, bytes: -1},
		{time: at, level: slog.LevelInfo, requestID: "", method: "GET", route: "/", status: 200, latencyMS: 1e21, bytes: 1},
		{time: at, level: slog.LevelInfo, requestID: "", method: "GET", route: "/", status: 200, latencyMS: 1e-7, bytes: 1},
		{time: at, level: slog.LevelInfo, requestID: "", method: "GET", route: "/", status: 200, latencyMS: 3600000, bytes: 1},
	} {
		got, want := appendAccessLine(nil, &l), slogLine(t, &l)
		if !bytes.Equal(got, want) {
			t.Errorf("appendAccessLine:\n got %s\nwant %s", got, want)
		}
	}
}

// FuzzAccessLine: whatever the request id (the one string a client
// chooses) and the numbers, the hand-made line is slog's.
func FuzzAccessLine(f *testing.F) {
	f.Add("a1b2c3d4e5f6-1", int64(1234), 202, 112, int64(0), int64(0))
	f.Add("q\"\\\x00\u2028\xff", int64(0), 500, 0, int64(3), int64(-5))
	f.Fuzz(func(t *testing.T, id string, micros int64, status, size int, suppressed, nanos int64) {
		l := accessLine{time: time.Unix(1_796_000_000, nanos%1e9).UTC(), level: slog.LevelInfo, requestID: id, method: "POST",
			route: "/api/v1/services/:slug/reports", status: status, latencyMS: float64(micros) / 1000, bytes: size, suppressed: suppressed}
		if status >= 500 {
			l.level = slog.LevelError
		}
		if got, want := appendAccessLine(nil, &l), slogLine(t, &l); !bytes.Equal(got, want) {
			t.Fatalf("appendAccessLine:\n got %s\nwant %s", got, want)
		}
	})
}

func BenchmarkAccessLine(b *testing.B) {
	l := accessLine{time: time.Now(), level: slog.LevelInfo, requestID: "a1b2c3d4e5f6-1", method: "POST", route: "/api/v1/services/:slug/reports", status: 202, latencyMS: 1.234, bytes: 112}
	b.Run("hand", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf = appendAccessLine(buf[:0], &l)
		}
	})
	b.Run("slog", func(b *testing.B) {
		lg := slog.New(slog.NewJSONHandler(discard{}, nil))
		for b.Loop() {
			lg.LogAttrs(context.Background(), slog.LevelInfo, "http", slog.String("request_id", l.requestID), slog.String("method", l.method),
				slog.String("route", l.route), slog.Int("status", l.status), slog.Float64("latency_ms", l.latencyMS), slog.Int("bytes", l.bytes))
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
