package handlers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/models"
)

// requestIDs makes short unique request ids: a random per-process prefix and
// a counter, so an id costs no syscall.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &requestIDs{prefix: hex.EncodeToString(b[:]) + "-"}
}

func (r *requestIDs) next() string {
	return r.prefix + strconv.FormatUint(r.n.Add(1), 36)
}

// requestID is the request's id, as observe put it in the response header
// (not in the context's Keys: that map is an allocation per request).
func requestID(c *gin.Context) string {
	if v := c.Writer.Header()["X-Request-Id"]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// limitedLines keeps a flood of 429s from becoming a flood of log lines: at
// most one access line per second is written for rate-limited requests,
// carrying how many were left out since the last one (every one of them is
// still counted in /metrics). A flood costs the log nothing and the
// process much less, and an operator still sees that it is happening.
type limitedLines struct {
	second     atomic.Int64
	suppressed atomic.Int64
}

// take reports whether a 429 at now gets its own line, and how many were
// left out before it. The second only moves forward: requests finish out of
// order, and one that started in an earlier second must not open it again.
func (l *limitedLines) take(now time.Time) (bool, int64) {
	sec := now.Unix()
	for {
		last := l.second.Load()
		if sec <= last {
			l.suppressed.Add(1)
			return false, 0
		}
		if l.second.CompareAndSwap(last, sec) {
			return true, l.suppressed.Swap(0)
		}
	}
}

// pending takes the count left out since the last line once its second is
// over, so the end of a flood is written too (FlushAccessLog).
func (l *limitedLines) pending(now time.Time) int64 {
	if now.Unix() <= l.second.Load() {
		return 0
	}
	return l.suppressed.Swap(0)
}

// FlushAccessLog writes how many rate-limited requests were left out of
// the access log since its last 429 line, if any. The app calls it every
// second and at shutdown, so a flood's last count is never lost.
func (h *Handler) FlushAccessLog(now time.Time) {
	if h.AccessLog == nil {
		return
	}
	if n := h.limited.pending(now); n > 0 {
		h.AccessLog.LogAttrs(context.Background(), slog.LevelInfo, "http",
			slog.Int("status", http.StatusTooManyRequests), slog.Int64("suppressed_429s", n))
	}
}

// methodLabel maps the client's method to a fixed set, so a client cannot
// grow /metrics (or the log's vocabulary) by inventing methods.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// observe gives each request an id (or keeps a sane X-Request-ID), records
// latency by route template, and writes the access log line.
func (h *Handler) observe(ids *requestIDs) gin.HandlerFunc {
	limited := &h.limited
	return func(c *gin.Context) {
		start := time.Now()
		id := c.GetHeader("X-Request-ID")
		if id == "" || len(id) > 64 || strings.ContainsAny(id, " \t\r\n\"") {
			id = ids.next()
		}
		c.Writer.Header()["X-Request-Id"] = []string{id}
		c.Next()
		took := time.Since(start)
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		status := c.Writer.Status()
		method, size := methodLabel(c.Request.Method), c.Writer.Size()
		if wasHead(c.Request) || size < 0 {
			// HEAD sent no body; -1 is gin's "nothing written" (a 304, a 204).
			if wasHead(c.Request) {
				method = http.MethodHead
			}
			size = 0
		}
		if h.Metrics != nil {
			h.Metrics.Latency.WithLabelValues(method, route, statusText(status)).Observe(took.Seconds())
		}
		if h.AccessLog == nil || (h.AccessErrorsOnly && status < 400) {
			return
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		if !h.AccessLog.Enabled(c, level) {
			return
		}
		latencyMS := float64(took.Microseconds()) / 1000
		var suppressed int64
		if status == http.StatusTooManyRequests {
			write, left := limited.take(start)
			if !write {
				return
			}
			suppressed = left
		}
		if h.AccessJSON != nil {
			bp := accessBufs.Get().(*[]byte)
			line := accessLine{time: time.Now(), level: level, requestID: id, method: method,
				route: route, status: status, latencyMS: latencyMS, bytes: size, suppressed: suppressed}
			*bp = appendAccessLine((*bp)[:0], &line)
			_, _ = h.AccessJSON.Write(*bp)
			accessBufs.Put(bp)
			return
		}
		attrs := [7]slog.Attr{
			slog.String("request_id", id), slog.String("method", method),
			slog.String("route", route), slog.Int("status", status),
			slog.Float64("latency_ms", latencyMS), slog.Int("bytes", size),
		}
		n := 6
		if suppressed > 0 {
			attrs[n], n = slog.Int64("suppressed_429s", suppressed), n+1
		}
		h.AccessLog.LogAttrs(c, level, "http", attrs[:n]...)
	}
}

var statusTexts = func() map[int]string {
	m := map[int]string{}
	for s := 100; s < 600; s++ {
		m[s] = strconv.Itoa(s)
	}
	return m
}()

func statusText(s int) string {
	if t, ok := statusTexts[s]; ok {
		return t
	}
	return strconv.Itoa(s)
}

// recovery turns a panic into the one error shape and logs it.
func (h *Handler) recovery() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if p := recover(); p != nil {
				h.log.Error("panic", "request_id", requestID(c), "route", c.FullPath(), "panic", p, "stack", string(debug.Stack()))
				h.respondError(c, models.Errorf(models.CodeInternal, "internal error"))
			}
		}()
		c.Next()
	}
}

// admin guards a route with the admin bearer token, compared in constant
// time (of equal-length digests, so the length leaks nothing either).
func (h *Handler) admin() gin.HandlerFunc {
	want := sha256.Sum256([]byte(h.AdminToken))
	return func(c *gin.Context) {
		auth := c.GetHeader("Authorization")
		token, ok := strings.CutPrefix(auth, "Bearer ")
		got := sha256.Sum256([]byte(strings.TrimSpace(token)))
		if !ok || h.AdminToken == "" || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			c.Header("WWW-Authenticate", `Bearer realm="outcry"`)
			h.respondError(c, models.Errorf(models.CodeUnauthorized, "a valid admin token is required (Authorization: Bearer …)"))
			return
		}
		c.Next()
	}
}

// The CORS header values, shared by every response (net/http only reads
// them): two allocations fewer per request.
var (
	corsOrigin = []string{"*"}
	corsExpose = []string{"Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, ETag"}
)

// cors lets any origin read public data and send reports, without cookies:
// the embeddable widget runs on other people's sites.
func cors(c *gin.Context) {
	h := c.Writer.Header()
	// Canonical keys, set directly: this runs on every report, a flood too.
	h["Access-Control-Allow-Origin"] = corsOrigin
	h["Access-Control-Expose-Headers"] = corsExpose
	if c.Request.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type")
		h.Set("Access-Control-Max-Age", "86400")
		c.AbortWithStatus(http.StatusNoContent)
		return
	}
	c.Next()
}
