package handlers_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/outcry/outcry/handlers"
	"github.com/outcry/outcry/models"
)

// cachedPaths are the resources served from the render cache.
var cachedPaths = []string{
	"/", "/s/sora", "/s/sora/live", "/s/sora/chart.svg", "/embed/sora", "/embed/sora?lang=ko&theme=dark",
	"/api/v1/services", "/api/v1/services/sora", "/badge/sora.svg", "/badge/sora.json",
}

func decode(t *testing.T, enc string, body []byte) []byte {
	t.Helper()
	var r io.Reader
	switch enc {
	case "":
		return body
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	default:
		t.Fatalf("unexpected Content-Encoding %q", enc)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Every encoding of a cached resource is the same document, each has its
// own strong ETag, and If-None-Match with that ETag answers an empty 304.
func TestRenderedEncodingsAndRevalidation(t *testing.T) {
	_, r := pgServer(t)
	for _, path := range cachedPaths {
		t.Run(path, func(t *testing.T) {
			plain := pgGet(r, "GET", path)
			if plain.Code != http.StatusOK || plain.Header().Get("Content-Encoding") != "" {
				t.Fatalf("identity: %d, encoding %q", plain.Code, plain.Header().Get("Content-Encoding"))
			}
			if !strings.Contains(plain.Header().Get("Cache-Control"), "stale-while-revalidate=") {
				t.Errorf("Cache-Control %q has no stale-while-revalidate", plain.Header().Get("Cache-Control"))
			}
			if !strings.Contains(plain.Header().Get("Vary"), "Accept-Encoding") {
				t.Errorf("Vary %q lacks Accept-Encoding", plain.Header().Get("Vary"))
			}
			etags := map[string]bool{}
			for _, ae := range []string{"", "gzip, deflate", "gzip, deflate, br, zstd", "br;q=0, gzip"} {
				rec := pgGet(r, "GET", path, "Accept-Encoding", ae)
				enc := rec.Header().Get("Content-Encoding")
				if got := decode(t, enc, rec.Body.Bytes()); !bytes.Equal(got, plain.Body.Bytes()) {
					t.Errorf("Accept-Encoding %q: the %q body is not the identity document", ae, enc)
				}
				if ae == "br;q=0, gzip" && plain.Body.Len() >= 512 && enc != "gzip" {
					t.Errorf("br;q=0, gzip answered %q", enc)
				}
				if cl := rec.Header().Get("Content-Length"); cl != "" && cl != itoa(rec.Body.Len()) {
					t.Errorf("Content-Length %s for %d bytes", cl, rec.Body.Len())
				}
				etag := rec.Header().Get("ETag")
				if !strings.HasPrefix(etag, `"`) {
					t.Fatalf("ETag %q is not strong", etag)
				}
				etags[enc+" "+etag] = true
				again := pgGet(r, "GET", path, "Accept-Encoding", ae, "If-None-Match", etag)
				if again.Code != http.StatusNotModified || again.Body.Len() != 0 || again.Header().Get("ETag") != etag {
					t.Errorf("If-None-Match %s answered %d with %d bytes and ETag %s", etag, again.Code, again.Body.Len(), again.Header().Get("ETag"))
				}
				if other := pgGet(r, "GET", path, "Accept-Encoding", ae, "If-None-Match", `"other"`); other.Code != http.StatusOK {
					t.Errorf("a stale ETag answered %d", other.Code)
				}
			}
			seen := map[string]string{}
			for k := range etags {
				enc, tag, _ := strings.Cut(k, " ")
				if prev, ok := seen[tag]; ok && prev != enc {
					t.Errorf("encodings %q and %q share ETag %s", prev, enc, tag)
				}
				seen[tag] = enc
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// A new snapshot of a service changes everything shown of it at once, and
// between snapshots each resource is rendered once however often it is asked.
func TestRenderedOncePerSnapshot(t *testing.T) {
	w, r, reg := pgServerWithRegistry(t)
	paths := []string{"/s/chatgpt", "/embed/chatgpt", "/api/v1/services/chatgpt", "/badge/chatgpt.svg", "/badge/chatgpt.json", "/api/v1/services"}
	before := map[string]*bytesAndTag{}
	for _, p := range paths {
		for range 5 {
			rec := pgGet(r, "GET", p, "Accept-Encoding", "gzip")
			before[p] = &bytesAndTag{decode(t, rec.Header().Get("Content-Encoding"), rec.Body.Bytes()), rec.Header().Get("ETag")}
		}
	}
	if misses := counter(t, reg, "miss"); misses != float64(len(paths)) {
		t.Errorf("%d resources asked 5 times each were rendered %v times", len(paths), misses)
	}

	st, _ := w.Status("chatgpt")
	st.Level, st.Reports15m, st.Version = models.LevelOutage, 4321, st.Version+1
	st.Incident = &models.Incident{ID: 9, Level: models.LevelOutage, Scope: models.ScopeGlobal, StartedAt: pgNow}
	w.set(st)
	wants := map[string]string{
		"/s/chatgpt": "User reports indicate problems with ChatGPT", "/embed/chatgpt": "Outage",
		"/api/v1/services/chatgpt": `"status":"outage"`, "/badge/chatgpt.svg": ">outage</text>",
		"/badge/chatgpt.json": `"message":"outage"`, "/api/v1/services": `"reports_last_15m":4321`,
	}
	for _, p := range paths {
		rec := pgGet(r, "GET", p, "Accept-Encoding", "gzip", "If-None-Match", before[p].etag)
		body := decode(t, rec.Header().Get("Content-Encoding"), rec.Body.Bytes())
		if rec.Code != http.StatusOK || rec.Header().Get("ETag") == before[p].etag || bytes.Equal(body, before[p].body) {
			t.Errorf("%s after a new snapshot: %d, ETag %s (was %s)", p, rec.Code, rec.Header().Get("ETag"), before[p].etag)
		}
		if !strings.Contains(string(body), wants[p]) {
			t.Errorf("%s after a new snapshot lacks %q", p, wants[p])
		}
	}
}

type bytesAndTag struct {
	body []byte
	etag string
}

func counter(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "outcry_render_cache_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}

func pgServerWithRegistry(t *testing.T) (*pgWorld, http.Handler, *prometheus.Registry) {
	reg := prometheus.NewRegistry()
	w, r := pgServerWith(t, func(d *handlers.Deps) { d.RenderMetrics = handlers.NewRenderMetrics(reg) })
	return w, r, reg
}

// The embed and badge snippets on a service page name OUTCRY_PUBLIC_URL,
// whatever Host and X-Forwarded-Proto the request claims.
func TestSnippetsUsePublicURL(t *testing.T) {
	_, r := pgServerWith(t, func(d *handlers.Deps) { d.PublicURL = "https://status.example.org" })
	rec := pgGet(r, "GET", "/s/sora", "Host", "evil.example", "X-Forwarded-Proto", "https")
	body := rec.Body.String()
	if strings.Contains(body, "evil.example") {
		t.Error("the page repeats the request's Host")
	}
	for _, want := range []string{`src="https://status.example.org/widget.js"`, `https://status.example.org/embed/sora`, `(https://status.example.org/badge/sora.svg)`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}

type ctxKey struct{}

// Handlers pass the request's context, not the pooled *gin.Context, to the
// database: values and cancellation of the request reach the query.
func TestIncidentsGetTheRequestContext(t *testing.T) {
	w, r := pgServer(t)
	var got any
	w.onIncidents = func(ctx context.Context) { got = ctx.Value(ctxKey{}) }
	req, _ := http.NewRequestWithContext(context.WithValue(context.Background(), ctxKey{}, "mine"), "GET", "/api/v1/services/sora/incidents", nil)
	rec := newRecorder()
	r.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || got != "mine" {
		t.Errorf("answered %d; the store saw context value %v, want the request's", rec.Code, got)
	}
	got = nil
	req, _ = http.NewRequestWithContext(context.WithValue(context.Background(), ctxKey{}, "page"), "GET", "/s/sora", nil)
	r.ServeHTTP(newRecorder(), req)
	if got != "page" {
		t.Errorf("the page's incident list saw context value %v", got)
	}
}

func TestEncodingNegotiation(t *testing.T) {
	_, r := pgServer(t)
	cases := map[string]string{
		"": "", "identity": "", "gzip": "gzip", "GZIP": "gzip", "br": "br", "gzip;q=0.5, br;q=0.9": "br",
		"br;q=0": "", "br;q=0, gzip;q=0": "", "*": "br", "deflate": "", "zstd, gzip": "gzip",
	}
	for ae, want := range cases {
		rec := pgGet(r, "GET", "/s/sora", "Accept-Encoding", ae)
		if got := rec.Header().Get("Content-Encoding"); got != want {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", ae, got, want)
		}
	}
}

// BenchmarkReadPaths serves each cached read path through the whole engine
// from the render cache (as a browser asks: gzip, br), for profiles of the
// per-request cost; scripts/bench-read measures them over HTTP against the
// ceiling.
func BenchmarkReadPaths(b *testing.B) {
	for _, path := range []string{"/s/sora", "/embed/sora", "/api/v1/services/sora", "/badge/sora.svg", "/api/v1/services"} {
		b.Run(strings.ReplaceAll(path[1:], "/", "_"), func(b *testing.B) {
			_, r := pgServer(b)
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Accept-Encoding", "gzip, deflate, br")
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				w := &pgDiscard{h: http.Header{}}
				for pb.Next() {
					clear(w.h)
					r.ServeHTTP(w, req)
				}
			})
		})
	}
}

// Through a real net/http server every rendered answer, in every encoding,
// is framed by a Content-Length equal to its body (ours for bodies net/http
// does not buffer, net/http's below that), never chunked.
func TestRenderedFraming(t *testing.T) {
	_, r := pgServer(t)
	srv := httptest.NewServer(r)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	for _, path := range cachedPaths {
		for _, ae := range []string{"", "gzip", "br"} {
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			if ae != "" {
				req.Header.Set("Accept-Encoding", ae)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || len(resp.TransferEncoding) != 0 || resp.ContentLength != int64(len(body)) {
				t.Errorf("%s (%q): %d, Transfer-Encoding %v, Content-Length %d for %d bytes",
					path, ae, resp.StatusCode, resp.TransferEncoding, resp.ContentLength, len(body))
			}
		}
	}
}

// headerCount records how many header entries an answer had when it was
// written.
type headerCount struct {
	pgDiscard
	n int
}

func (h *headerCount) WriteHeader(int) { h.n = len(h.h) }

// The hot answers (the embed, the status JSON, badges) set at most 8 header
// entries, in every encoding and on a 304: net/http clones the map for
// each answer, and a 9th entry costs a map table in both (serveRendered).
func TestHotAnswersHeaderEntries(t *testing.T) {
	_, r := pgServer(t)
	for _, path := range []string{"/embed/sora", "/embed/sora?lang=ko&theme=dark", "/api/v1/services/sora", "/badge/sora.svg", "/badge/sora.json"} {
		for _, ae := range []string{"", "gzip", "br"} {
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Accept-Encoding", ae)
			w := &headerCount{pgDiscard: pgDiscard{h: http.Header{}}}
			r.ServeHTTP(w, req)
			if w.n > 8 {
				t.Errorf("%s (%q): %d header entries: %v", path, ae, w.n, w.h)
			}
			req.Header.Set("If-None-Match", w.h.Get("ETag"))
			w304 := &headerCount{pgDiscard: pgDiscard{h: http.Header{}}}
			r.ServeHTTP(w304, req)
			if w304.n > 8 {
				t.Errorf("%s (%q) 304: %d header entries", path, ae, w304.n)
			}
		}
	}
}
