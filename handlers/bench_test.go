package handlers_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/outcry/outcry/server/servertest"
)

// BenchmarkIngest drives POST /reports through the real engine, limiter
// (Redis when OUTCRY_TEST_REDIS_URL is set) and group-commit writer, each
// request from its own address, in parallel like a surge.
func BenchmarkIngest(b *testing.B) {
	app := servertest.Start(b, nil)
	app.CreateService(b, "bench", "login", "app", "website", "api")
	h := app.Handler()
	var n atomic.Uint64
	b.ReportAllocs()
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := n.Add(1)
			req := httptest.NewRequest("POST", "/api/v1/services/bench/reports", strings.NewReader(`{"problem":"login","region":"KR"}`))
			req.RemoteAddr = "127.0.0.1:1234"
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Forwarded-For", "10."+strconv.Itoa(int(k%256))+"."+strconv.Itoa(int(k/256%256))+"."+strconv.Itoa(int(k/65536%256)))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusAccepted {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkFlood is one address over its limit: the cached-denial path.
func BenchmarkFlood(b *testing.B) {
	app := servertest.Start(b, nil)
	app.CreateService(b, "bench", "login")
	h := app.Handler()
	b.ReportAllocs()
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", "/api/v1/services/bench/reports", strings.NewReader(`{"problem":"login"}`))
			req.RemoteAddr = "127.0.0.1:1234"
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Forwarded-For", "203.0.113.7")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
		}
	})
}
