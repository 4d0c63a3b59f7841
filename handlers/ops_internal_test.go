package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// syncBuf is a log sink safe for concurrent handlers.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Split(strings.TrimSpace(s.b.String()), "\n")
}

func opsEngine(t *testing.T, d Deps) (*Handler, *gin.Engine) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	h := New(d)
	r := gin.New()
	r.Use(h.observe(newRequestIDs()), h.recovery())
	r.HandleMethodNotAllowed = true
	r.NoMethod(h.noMethod)
	r.GET("/readyz", h.readyz)
	r.GET("/boom", func(*gin.Context) { panic("kaboom") })
	r.GET("/limited", func(c *gin.Context) { c.Status(http.StatusTooManyRequests) })
	return h, r
}

func serve(r http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

// Redis down is degraded, not down: the replica stays ready. Only a
// required dependency (the database) makes it 503. Raw driver errors are
// logged, never shown.
func TestReadyzDegradedIsReady(t *testing.T) {
	var logs syncBuf
	var dbErr, redisErr error
	_, r := opsEngine(t, Deps{
		Log: slog.New(slog.NewJSONHandler(&logs, nil)),
		Ready: []Checker{
			{Name: "database", Check: func(context.Context) error { return dbErr }},
			{Name: "redis", Check: func(context.Context) error { return redisErr }, Optional: true},
		},
	})
	read := func() (int, map[string]any) {
		rec := serve(r, "GET", "/readyz")
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(rec.Body.String(), "127.0.0.1") {
			t.Fatalf("a driver error reached an anonymous caller: %s", rec.Body.String())
		}
		return rec.Code, body
	}
	if code, body := read(); code != 200 || body["status"] != "ready" {
		t.Fatalf("healthy: %d %v", code, body)
	}
	redisErr = errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	for range 3 {
		code, body := read()
		if code != 200 || body["status"] != "ready" || body["checks"].(map[string]any)["redis"] != "degraded" {
			t.Fatalf("redis down: %d %v", code, body)
		}
	}
	dbErr = errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
	if code, body := read(); code != 503 || body["checks"].(map[string]any)["database"] != "fail" {
		t.Fatalf("database down: %d %v", code, body)
	}
	dbErr, redisErr = nil, nil
	if code, _ := read(); code != 200 {
		t.Fatalf("recovered: %d", code)
	}
	var failing, passing int
	for _, l := range logs.lines() {
		failing += strings.Count(l, "readiness check failing")
		passing += strings.Count(l, "readiness check passing again")
	}
	if failing != 2 || passing != 2 {
		t.Fatalf("want each outage logged once when it starts and once when it ends; got %d and %d:\n%s", failing, passing, strings.Join(logs.lines(), "\n"))
	}
}

// A client cannot grow /metrics by inventing HTTP methods.
func TestMetricsMethodLabelIsBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, r := opsEngine(t, Deps{Metrics: NewMetrics(reg), Log: slog.New(slog.DiscardHandler)})
	serve(r, "GET", "/readyz")
	for _, m := range []string{"BOGUS1", "BOGUS2", "BOGUS3", "BOGUS4", "BOGUS5"} {
		rec := serve(r, m, "/readyz")
		if rec.Code != http.StatusMethodNotAllowed || !strings.Contains(rec.Body.String(), `"code":"method_not_allowed"`) {
			t.Fatalf("%s: %d %s", m, rec.Code, rec.Body.String())
		}
	}
	methods := methodLabels(t, reg)
	if len(methods) != 2 || !methods["GET"] || !methods["OTHER"] {
		t.Fatalf("method labels %v; want GET and OTHER", methods)
	}
}

// methodLabels is every value of the "method" label in reg's metrics.
func methodLabels(t *testing.T, reg *prometheus.Registry) map[string]bool {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	methods := map[string]bool{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "method" {
					methods[l.GetValue()] = true
				}
			}
		}
	}
	return methods
}

// A panic is logged with its stack and answered in the one error shape.
func TestRecoveryLogsTheStack(t *testing.T) {
	var logs syncBuf
	_, r := opsEngine(t, Deps{Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	rec := serve(r, "GET", "/boom")
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"internal error"`) || strings.Contains(rec.Body.String(), "kaboom") {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	if l := strings.Join(logs.lines(), "\n"); !strings.Contains(l, "kaboom") || !strings.Contains(l, "ops_internal_test.go") {
		t.Fatalf("the log has no stack: %s", l)
	}
}

// The 429 throttle writes at most one line per second even when requests
// finish out of order, and the last suppressed count of a flood is written
// once its second is over.
func TestLimitedLinesOutOfOrder(t *testing.T) {
	var l limitedLines
	t0 := time.Unix(1_800_000_000, 0)
	var lines int
	var suppressed int64
	for _, at := range []time.Duration{0, 900 * time.Millisecond, 1100 * time.Millisecond, 950 * time.Millisecond, 1200 * time.Millisecond, 999 * time.Millisecond} {
		if write, left := l.take(t0.Add(at)); write {
			lines++
			suppressed += left
		}
	}
	if lines != 2 {
		t.Fatalf("%d lines for two seconds of 429s", lines)
	}
	if n := l.pending(t0.Add(1500 * time.Millisecond)); n != 0 {
		t.Fatalf("pending %d while its second is not over", n)
	}
	suppressed += l.pending(t0.Add(2 * time.Second))
	if suppressed != 4 || l.pending(t0.Add(3*time.Second)) != 0 {
		t.Fatalf("suppressed %d in all; want 4, once", suppressed)
	}
}

func TestFlushAccessLogWritesTheLastCount(t *testing.T) {
	t.Run("slog", func(t *testing.T) { testFlushAccessLog(t, false) })
	t.Run("hand-made JSON", func(t *testing.T) { testFlushAccessLog(t, true) })
}

func testFlushAccessLog(t *testing.T, hand bool) {
	var logs syncBuf
	d := Deps{AccessLog: slog.New(slog.NewJSONHandler(&logs, nil)), Log: slog.New(slog.DiscardHandler)}
	if hand {
		d.AccessJSON = &logs
	}
	h, r := opsEngine(t, d)
	for range 50 {
		serve(r, "GET", "/limited")
	}
	h.FlushAccessLog(time.Now().Add(2 * time.Second))
	var total int64
	for _, line := range logs.lines() {
		var rec struct {
			RequestID  string `json:"request_id"`
			Status     int    `json:"status"`
			Suppressed int64  `json:"suppressed_429s"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Status != 429 {
			t.Fatalf("line %q", line)
		}
		total += rec.Suppressed
		if rec.RequestID != "" {
			total++ // the line's own request
		}
	}
	if total != 50 {
		t.Fatalf("the access log accounts for %d of 50 rate-limited requests:\n%s", total, strings.Join(logs.lines(), "\n"))
	}
}

// TestAccessJSONLinesAreSlogs: with AccessJSON the access lines are the
// ones the slog JSON handler writes (but for the time and the latency),
// and AccessLog's level still decides which are written.
func TestAccessJSONLinesAreSlogs(t *testing.T) {
	requests := func(r http.Handler) {
		for _, target := range []string{"/readyz", "/boom", "/limited", "/nowhere"} {
			req := httptest.NewRequest("GET", target, nil)
			req.Header.Set("X-Request-ID", "fixed-é<&>\\\x01\xff")
			r.ServeHTTP(httptest.NewRecorder(), req)
		}
		req := httptest.NewRequest("BREW", "/readyz", nil)
		req.Header.Set("X-Request-ID", "brew")
		r.ServeHTTP(httptest.NewRecorder(), req)
	}
	normal := func(lines []string) string {
		for i, l := range lines {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			l = strings.Replace(l, `"time":"`+m["time"].(string)+`"`, `"time":T`, 1)
			lat, _ := json.Marshal(m["latency_ms"])
			lines[i] = strings.Replace(l, `"latency_ms":`+string(lat)+`,`, `"latency_ms":L,`, 1)
		}
		return strings.Join(lines, "\n")
	}
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelError} {
		var viaSlog, hand, unused syncBuf
		_, r := opsEngine(t, Deps{AccessLog: slog.New(slog.NewJSONHandler(&viaSlog, &slog.HandlerOptions{Level: level})), Log: slog.New(slog.DiscardHandler)})
		requests(r)
		_, r = opsEngine(t, Deps{AccessLog: slog.New(slog.NewJSONHandler(&unused, &slog.HandlerOptions{Level: level})),
			AccessJSON: &hand, Log: slog.New(slog.DiscardHandler)})
		requests(r)
		want, got := normal(viaSlog.lines()), normal(hand.lines())
		if got != want || unused.b.Len() != 0 {
			t.Fatalf("level %s: hand-made lines\n%s\nslog's\n%s\n(%d bytes through slog)", level, got, want, unused.b.Len())
		}
		if n := len(hand.lines()); (level == slog.LevelInfo) != (n == 5) || (level == slog.LevelError) != (n == 1) {
			t.Fatalf("level %s: %d lines", level, n)
		}
	}
}

// A HEAD answered as GET (HeadAsGet) is logged and measured as HEAD, with
// 0 bytes (none were sent), by both access-log writers; a GET stays GET.
func TestHeadIsLoggedAsHead(t *testing.T) {
	for _, hand := range []bool{false, true} {
		var logs syncBuf
		reg := prometheus.NewRegistry()
		d := Deps{AccessLog: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: NewMetrics(reg), Log: slog.New(slog.DiscardHandler)}
		if hand {
			d.AccessJSON = &logs
		}
		_, r := opsEngine(t, d)
		srv := HeadAsGet(r)
		if rec := serve(srv, "HEAD", "/readyz"); rec.Code != http.StatusOK {
			t.Fatalf("HEAD /readyz: %d", rec.Code)
		}
		if rec := serve(srv, "GET", "/readyz"); rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			t.Fatalf("GET /readyz: %d, %d bytes", rec.Code, rec.Body.Len())
		}
		lines := logs.lines()
		if len(lines) != 2 {
			t.Fatalf("hand=%v: %d lines:\n%s", hand, len(lines), strings.Join(lines, "\n"))
		}
		for i, want := range []string{"HEAD", "GET"} {
			var rec struct {
				Method string `json:"method"`
				Bytes  int    `json:"bytes"`
			}
			if err := json.Unmarshal([]byte(lines[i]), &rec); err != nil {
				t.Fatal(err)
			}
			if rec.Method != want || (want == "HEAD") != (rec.Bytes == 0) {
				t.Errorf("hand=%v: line %d says %s with %d bytes; want %s", hand, i, rec.Method, rec.Bytes, want)
			}
		}
		methods := methodLabels(t, reg)
		if len(methods) != 2 || !methods["HEAD"] || !methods["GET"] {
			t.Errorf("hand=%v: latency methods %v; want HEAD and GET", hand, methods)
		}
	}
}

// An answer without a body (a 304, a 204) is logged with 0 bytes by both
// access-log writers, not with gin's "nothing written yet" -1.
func TestBodylessAnswerIsLoggedWithZeroBytes(t *testing.T) {
	for _, hand := range []bool{false, true} {
		var logs syncBuf
		d := Deps{AccessLog: slog.New(slog.NewJSONHandler(&logs, nil)), Log: slog.New(slog.DiscardHandler)}
		if hand {
			d.AccessJSON = &logs
		}
		_, r := opsEngine(t, d)
		r.GET("/unchanged", func(c *gin.Context) { c.Status(http.StatusNotModified) })
		if rec := serve(r, "GET", "/unchanged"); rec.Code != http.StatusNotModified {
			t.Fatalf("GET /unchanged: %d", rec.Code)
		}
		lines := logs.lines()
		if len(lines) != 1 {
			t.Fatalf("hand=%v: %d lines:\n%s", hand, len(lines), strings.Join(lines, "\n"))
		}
		var rec struct {
			Status int `json:"status"`
			Bytes  int `json:"bytes"`
		}
		if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Status != http.StatusNotModified || rec.Bytes != 0 {
			t.Errorf("hand=%v: logged status %d with %d bytes; want 304 with 0: %s", hand, rec.Status, rec.Bytes, lines[0])
		}
	}
}
