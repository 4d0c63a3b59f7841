package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/outcry/outcry/handlers"
	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/hashkey"
)

// pgWorld is an in-memory app for the page tests: a snapshot, a catalogue,
// an incident lister that counts its calls, and a writer that keeps reports.
type pgWorld struct {
	mu        sync.Mutex
	seq       uint64 // one more at every set, like a snapshot's Published
	statuses  map[string]models.ServiceStatus
	incidents []models.Incident
	lists     atomic.Int32
	reports   []models.Report
	deny      bool // the limiter refuses every report
	// onIncidents sees the context of every incident list read.
	onIncidents func(ctx context.Context)
}

func (w *pgWorld) Status(slug string) (models.ServiceStatus, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st, ok := w.statuses[slug]
	return st, ok
}

func (w *pgWorld) All() []models.ServiceStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []models.ServiceStatus
	for _, st := range w.statuses {
		out = append(out, st)
	}
	// As the snapshot orders them: worst first, then most reports, then slug.
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Level.Rank() != b.Level.Rank() {
			return a.Level.Rank() > b.Level.Rank()
		}
		if a.Reports15m != b.Reports15m {
			return a.Reports15m > b.Reports15m
		}
		return a.Service.Slug < b.Service.Slug
	})
	return out
}

func (w *pgWorld) Published() (uint64, time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seq, pgNow
}

func (w *pgWorld) Lookup(slug string) (models.Service, bool) {
	st, ok := w.Status(slug)
	return st.Service, ok
}
func (w *pgWorld) Create(context.Context, *models.Service) error { return nil }
func (w *pgWorld) Update(context.Context, *models.Service) error { return nil }
func (w *pgWorld) Delete(context.Context, string) error          { return nil }

func (w *pgWorld) Incidents(ctx context.Context, _ uint, _ int) ([]models.Incident, error) {
	w.lists.Add(1)
	if w.onIncidents != nil {
		w.onIncidents(ctx)
	}
	return w.incidents, nil
}

func (w *pgWorld) FindIncidents(context.Context, models.IncidentQuery) ([]models.ServiceIncident, error) {
	return nil, nil
}
func (w *pgWorld) IncidentEvents(context.Context, uint, int) ([]models.Event, error) {
	return nil, nil
}

func (w *pgWorld) Write(_ context.Context, r *models.Report) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	r.ID = uint64(len(w.reports) + 1)
	w.reports = append(w.reports, *r)
	return nil
}

func (w *pgWorld) Admit(context.Context, models.Admission) (models.Admittance, error) {
	if w.deny {
		return models.Admittance{Allowed: false, Limit: 5, Period: time.Minute, RetryAfter: 42 * time.Second}, nil
	}
	return models.Admittance{Allowed: true, Counted: true, Limit: 5, Period: time.Minute, Remaining: 4}, nil
}

func (w *pgWorld) Denied(string, string, time.Time) (models.Admittance, bool) {
	return models.Admittance{}, false
}

func (w *pgWorld) Undo(context.Context, models.Admission, models.Admittance) error { return nil }

func (w *pgWorld) set(st models.ServiceStatus) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.statuses[st.Service.Slug] = st
	w.seq++
}

var pgNow = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func pgStatus(id uint, slug, name string, level models.Level, reports int) models.ServiceStatus {
	st := models.ServiceStatus{
		Service: models.Service{ID: id, Slug: slug, Name: name, Problems: []string{"login", "voice-mode", "api"}},
		Level:   level, Reports15m: reports, UpdatedAt: pgNow, Version: uint64(id)*1000 + uint64(reports),
		TopProblems: []models.Share{{Key: "voice-mode", Count: 3, Percent: 75}, {Key: "api", Count: 1, Percent: 25}},
		TopRegions:  []models.Share{{Key: "KR", Count: 4, Percent: 100}},
	}
	for i := range 96 {
		b := models.Bucket{Start: pgNow.Add(time.Duration(i-95) * models.BucketSize), Count: i % 7}
		if i > 10 {
			b.Baseline = &models.Band{Expected: 3, Low: 1, High: 6}
		}
		st.Series = append(st.Series, b)
	}
	return st
}

func pgServer(t testing.TB) (*pgWorld, *gin.Engine) {
	t.Helper()
	return pgServerWith(t, nil)
}

// pgServerWith is pgServer with its Deps changed by edit (may be nil).
func pgServerWith(t testing.TB, edit func(*handlers.Deps)) (*pgWorld, *gin.Engine) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	w := &pgWorld{statuses: map[string]models.ServiceStatus{}}
	w.set(pgStatus(1, "chatgpt", "ChatGPT", models.LevelOK, 2))
	out := pgStatus(2, "sora", "Sora", models.LevelOutage, 1234)
	out.Incident = &models.Incident{ID: 7, Level: models.LevelOutage, Scope: models.ScopeGlobal, StartedAt: time.Date(2026, 3, 2, 8, 4, 0, 0, time.UTC)}
	w.set(out)
	w.set(pgStatus(3, "evil", `<script>alert(1)</script>`, models.LevelWarning, 5))
	end := pgNow.Add(-20 * time.Hour)
	w.incidents = []models.Incident{{ID: 3, Level: models.LevelOutage, Scope: "KR", StartedAt: end.Add(-time.Hour), ResolvedAt: &end,
		PeakAt: end.Add(-30 * time.Minute), Peak: 420, Expected: 12.5, Actual: 420}}
	d := handlers.Deps{
		Writer: w, Limiter: w, Status: w, Catalog: w, Incidents: w,
		Identifier: handlers.NewIdentifier(hashkey.FromSecret([]byte("0123456789abcdef0123"))),
		Metrics:    handlers.NewMetrics(prometheus.NewRegistry()),
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return pgNow },
	}
	if edit != nil {
		edit(&d)
	}
	h := handlers.New(d)
	r := gin.New()
	h.Routes(r)
	return w, r
}

func pgGet(r http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
		}
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	return rec
}

func TestPublicPages(t *testing.T) {
	_, r := pgServer(t)
	page := pgGet(r, "GET", "/s/chatgpt")
	css := regexp.MustCompile(`/static/app\.[0-9a-f]+\.css`).FindString(page.Body.String())
	if css == "" {
		t.Fatalf("the service page links no versioned stylesheet:\n%s", page.Body)
	}
	const framed, denied = "frame-ancestors *", "frame-ancestors 'none'"
	cases := []struct {
		path   string
		status int
		ctype  string
		frame  string
		want   []string
	}{
		{"/", 200, "text/html", denied, []string{`lang="en"`, "ChatGPT", "Sora", "2 services have problems", `data-filter="services"`}},
		{"/?q=sor", 200, "text/html", denied, []string{"Sora"}},
		{"/s/chatgpt", 200, "text/html", denied, []string{"No current problems with ChatGPT", `<svg class="chart"`, "Voice mode", "South Korea", `value="voice-mode"`, "API", "Expected vs actual", "12.5 expected, 420 reported (33.6×)"}},
		{"/s/sora", 200, "text/html", denied, []string{"User reports indicate problems with Sora since", ">08:04 UTC</time>", "1,234"}},
		{"/s/evil", 200, "text/html", denied, []string{"User reports indicate possible problems with &lt;script&gt;alert(1)&lt;/script&gt;"}},
		{"/s/nope", 404, "text/html", denied, []string{"We don&#39;t know that service"}},
		{"/s/sora/live", 200, "text/html", denied, []string{`id="headline"`}},
		{"/s/sora/chart.svg", 200, "image/svg+xml", denied, []string{`<svg class="chart" xmlns="http://www.w3.org/2000/svg"`}},
		{"/embed/sora", 200, "text/html", framed, []string{"Outage", `href="/s/sora"`, `target="_blank"`}},
		{"/embed/sora?lang=ko", 200, "text/html", framed, []string{`lang="ko"`, "장애"}},
		{"/embed/nope", 404, "text/html", framed, nil},
		{"/widget.js", 200, "text/javascript", "", []string{"attachShadow"}},
		{css, 200, "text/css", denied, []string{"prefers-color-scheme"}},
		{"/static/app.css", 404, "", denied, nil},
		{"/badge/sora.svg", 200, "image/svg+xml", "", []string{">outage</text>", `fill="#e05d44"`}},
		{"/badge/nope.svg", 404, "image/svg+xml", "", []string{"unknown service", `fill="#9f9f9f"`}},
		{"/badge/nope.json", 404, "application/json", "", []string{`{"schemaVersion":1,"label":"status","message":"unknown service","color":"lightgrey"}`}},
		{"/badge/sora.png", 404, "image/svg+xml", "", []string{"unknown service"}},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			rec := pgGet(r, "GET", tc.path)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, tc.ctype) {
				t.Errorf("Content-Type %q, want %s…", ct, tc.ctype)
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
			csp := rec.Header().Get("Content-Security-Policy")
			if tc.frame != "" && !strings.Contains(csp, tc.frame) {
				t.Errorf("CSP %q lacks %q", csp, tc.frame)
			}
			if strings.Contains(csp, "unsafe-inline") {
				t.Errorf("CSP %q allows inline code", csp)
			}
			if xfo := rec.Header().Get("X-Frame-Options"); tc.frame != "" && (tc.frame == denied) != (xfo == "DENY") {
				t.Errorf("X-Frame-Options %q with frame policy %q", xfo, tc.frame)
			}
			if tc.frame != "" {
				// The embed says its referrer policy at the top of its head
				// (before anything it fetches); every other page in the header.
				rp := rec.Header().Get("Referrer-Policy")
				if m := metaReferrer.FindStringSubmatch(rec.Body.String()); tc.frame == framed && tc.status == http.StatusOK && m != nil {
					if rp != "" {
						t.Errorf("the embed says its referrer policy twice (header %q)", rp)
					}
					rp = m[1]
				}
				if rp != "strict-origin-when-cross-origin" {
					t.Errorf("referrer policy %q", rp)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(rec.Body.String(), w) {
					t.Errorf("body lacks %q", w)
				}
			}
			if strings.Contains(rec.Body.String(), "<script>alert") {
				t.Error("a service name is not escaped")
			}
		})
	}
}

// metaReferrer is a referrer policy said in a document's head before any
// element that fetches.
var metaReferrer = regexp.MustCompile(`^<!doctype html>\s*<html[^>]*>\s*<head>\s*<meta charset="utf-8">\s*<meta name="referrer" content="([^"]+)">`)

func TestWidgetIsSharedWithEveryOrigin(t *testing.T) {
	_, r := pgServer(t)
	rec := pgGet(r, "GET", "/widget.js")
	if rec.Header().Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(rec.Header().Get("Cache-Control"), "max-age=300") {
		t.Errorf("widget.js headers %v", rec.Header())
	}
	if again := pgGet(r, "GET", "/widget.js", "If-None-Match", rec.Header().Get("ETag")); again.Code != http.StatusNotModified {
		t.Errorf("revalidating widget.js answered %d, want 304", again.Code)
	}
}

func TestBadgeETagAndJSON(t *testing.T) {
	w, r := pgServer(t)
	rec := pgGet(r, "GET", "/badge/chatgpt.svg")
	etag := rec.Header().Get("ETag")
	if rec.Code != 200 || etag == "" || !strings.HasPrefix(rec.Header().Get("Cache-Control"), "public, max-age=30") {
		t.Fatalf("badge: %d, headers %v", rec.Code, rec.Header())
	}
	if got := pgGet(r, "GET", "/badge/chatgpt.svg", "If-None-Match", etag); got.Code != http.StatusNotModified || got.Body.Len() != 0 {
		t.Errorf("If-None-Match %s answered %d with %d bytes, want an empty 304", etag, got.Code, got.Body.Len())
	}
	if got := pgGet(r, "GET", "/badge/chatgpt.svg", "If-None-Match", `"other"`); got.Code != http.StatusOK {
		t.Errorf("a stale ETag answered %d, want 200", got.Code)
	}

	st, _ := w.Status("chatgpt")
	st.Level, st.Version = models.LevelWarning, st.Version+1
	w.set(st)
	rec = pgGet(r, "GET", "/badge/chatgpt.svg", "If-None-Match", etag)
	if rec.Code != http.StatusOK || rec.Header().Get("ETag") == etag || !strings.Contains(rec.Body.String(), "possible problems") {
		t.Errorf("after a new snapshot: %d, ETag %s, body %s", rec.Code, rec.Header().Get("ETag"), rec.Body)
	}

	rec = pgGet(r, "GET", "/badge/sora.json")
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 {
		t.Fatalf("JSON badge %d: %v: %s", rec.Code, err, rec.Body)
	}
	want := map[string]any{"schemaVersion": 1.0, "label": "Sora", "message": "outage", "color": "red"}
	if len(got) != len(want) {
		t.Errorf("JSON badge %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("JSON badge %s = %v, want %v", k, got[k], v)
		}
	}
	if rec.Header().Get("ETag") == "" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Errorf("JSON badge headers %v", rec.Header())
	}
}

func TestIncidentListIsCached(t *testing.T) {
	w, r := pgServer(t)
	for range 3 {
		if rec := pgGet(r, "GET", "/s/chatgpt"); rec.Code != 200 {
			t.Fatal(rec.Code)
		}
	}
	if n := w.lists.Load(); n != 1 {
		t.Errorf("three page views listed incidents %d times, want 1", n)
	}
	st, _ := w.Status("chatgpt")
	st.Version++
	w.set(st)
	pgGet(r, "GET", "/s/chatgpt/live")
	if n := w.lists.Load(); n != 2 {
		t.Errorf("a new snapshot did not refresh the incident list (%d lists)", n)
	}
}

func TestPageRevalidates(t *testing.T) {
	_, r := pgServer(t)
	rec := pgGet(r, "GET", "/s/sora/live")
	if got := pgGet(r, "GET", "/s/sora/live", "If-None-Match", rec.Header().Get("ETag")); got.Code != http.StatusNotModified {
		t.Errorf("an unchanged live part answered %d, want 304", got.Code)
	}
}

func TestReportFormWithoutJavaScript(t *testing.T) {
	w, r := pgServer(t)
	post := func(form url.Values) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/s/sora/report", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		return rec
	}
	rec := post(url.Values{"problem": {"voice-mode"}, "note": {"  no sound  "}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/s/sora?thanks=1#report" {
		t.Fatalf("form POST answered %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	if len(w.reports) != 1 || w.reports[0].Problem != "voice-mode" || w.reports[0].Note != "no sound" || w.reports[0].ServiceID != 2 {
		t.Fatalf("stored %+v", w.reports)
	}
	if page := pgGet(r, "GET", "/s/sora?thanks=1"); !strings.Contains(page.Body.String(), "Thanks — 1,234 people reported problems in the last 15 minutes.") {
		t.Error("the page after a report says no thanks")
	}

	rec = post(url.Values{"problem": {"teleport"}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "Your report could not be sent") {
		t.Errorf("an unknown problem answered %d", rec.Code)
	}
	w.deny = true
	rec = post(url.Values{"problem": {"login"}})
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "42" || !strings.Contains(rec.Body.String(), "try again in 42 seconds") {
		t.Errorf("a limited report answered %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if len(w.reports) != 1 {
		t.Errorf("%d reports stored, want 1", len(w.reports))
	}
	if rec := post(url.Values{"problem": {"login"}}); rec.Header().Get("X-Frame-Options") != "DENY" {
		t.Error("the form answer has no frame policy")
	}
}

// BenchmarkBadge serves /badge/{slug}.svg through the whole engine from the
// badge cache.
func BenchmarkBadge(b *testing.B) {
	_, r := pgServer(b)
	pgBench(b, r)
}

// BenchmarkBadgeCeiling is the bare Gin handler the badge is measured
// against (../shared/bench/ceiling): a constant SVG, no middleware.
func BenchmarkBadgeCeiling(b *testing.B) {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	svg := []byte(strings.Repeat("x", 200))
	r.GET("/badge/:file", func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=30")
		c.Data(http.StatusOK, "image/svg+xml", svg)
	})
	pgBench(b, r)
}

func pgBench(b *testing.B, r http.Handler) {
	req := httptest.NewRequest("GET", "/badge/sora.svg", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &pgDiscard{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			r.ServeHTTP(w, req)
		}
	})
}

type pgDiscard struct{ h http.Header }

func (d *pgDiscard) Header() http.Header         { return d.h }
func (d *pgDiscard) Write(p []byte) (int, error) { return len(p), nil }
func (d *pgDiscard) WriteHeader(int)             {}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

// The chart's legend names the normal range only when the chart has one: a
// service the detector has not learned yet (under a day of history) says
// so instead of a key to a band that is not drawn.
func TestChartLegendWhileLearning(t *testing.T) {
	w, r := pgServer(t)
	fresh := pgStatus(9, "fresh", "Fresh App", models.LevelOK, 2)
	for i := range fresh.Series {
		fresh.Series[i].Baseline = nil
	}
	w.set(fresh)
	for slug, c := range map[string]struct{ want, not string }{
		"fresh":   {"Outcry is still learning what is usual for Fresh App", "Normal range for this time"},
		"chatgpt": {"Normal range for this time", "still learning"},
	} {
		body := pgGet(r, "GET", "/s/"+slug).Body.String()
		if !strings.Contains(body, c.want) || strings.Contains(body, c.not) {
			t.Errorf("%s: the legend should say %q and not %q", slug, c.want, c.not)
		}
	}
}
