package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/outcry/outcry/server/servertest"
)

// FuzzHTTPInput sends arbitrary report bodies and query strings through the
// whole app (its real engine, store and limiter): nothing answers 5xx, every
// refusal of an API call has the one error shape, and every 202 names the
// stored report.
func FuzzHTTPInput(f *testing.F) {
	app := servertest.Start(f, func(env map[string]string) { env["OUTCRY_LOG_LEVEL"] = "error" })
	app.CreateService(f, "chatgpt", "login", "app", "api")
	for _, seed := range []struct {
		route uint8
		query string
		body  string
	}{
		{0, "", `{"problem":"login","region":"KR"}`},
		{0, "", `{"problem":"login","region":"ı"}`},
		{0, "", `{"problem":"login","region":"ſ","note":"x"}`},
		{0, "", `{"problem":`},
		{1, "hours=24", ""},
		{1, "hours=-1", ""},
		{2, "limit=999999999999999999999", ""},
		{3, "cursor=%ff&limit=abc&q=%00", ""},
		{4, "lang=ko", ""},
		{5, "style=flat&label=" + strings.Repeat("x", 300), ""},
		{6, "v=1", ""},
		{7, "status=open&service=chatgpt&level=outage&since=2026-12-02T14:00:00Z&correlation=1&cursor=9&limit=2", ""},
		{7, "since=2026-13-40T99:00:00Z&cursor=18446744073709551616", ""},
		{8, "limit=200", ""},
		{9, "limit=-1", ""},
	} {
		f.Add(seed.route, seed.query, []byte(seed.body))
	}
	routes := []string{
		"/api/v1/services/chatgpt/reports", "/api/v1/services/chatgpt/timeseries", "/api/v1/services/chatgpt/incidents",
		"/api/v1/services", "/embed/chatgpt", "/badge/chatgpt.svg", "/s/chatgpt",
		"/api/v1/incidents", "/feed.atom", "/s/chatgpt/feed.rss",
	}
	h := app.Handler()
	var n atomic.Uint32
	f.Fuzz(func(t *testing.T, route uint8, query string, body []byte) {
		path := routes[int(route)%len(routes)]
		target := path
		if q, err := url.ParseQuery(query); err == nil && query != "" {
			target += "?" + q.Encode()
		} else if query != "" {
			target += "?" + url.PathEscape(query)
		}
		method := http.MethodGet
		if strings.HasSuffix(path, "/reports") {
			method = http.MethodPost
		}
		req, err := http.NewRequest(method, target, bytes.NewReader(body))
		if err != nil {
			return
		}
		k := n.Add(1)
		req.RemoteAddr = "127.0.0.1:40000"
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", (k>>16)%256, (k>>8)%256, k%256))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, target, body, rec.Code, rec.Body.String())
		}
		if !strings.HasPrefix(path, "/api/") {
			return
		}
		if rec.Code >= 400 {
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("%s %s %q: %d without the error shape: %s", method, target, body, rec.Code, rec.Body.String())
			}
		}
		if rec.Code == http.StatusAccepted {
			var r struct {
				ID uint64 `json:"id"`
			}
			if json.Unmarshal(rec.Body.Bytes(), &r) != nil || r.ID == 0 {
				t.Fatalf("202 without the stored report's id: %s", rec.Body.String())
			}
		}
	})
}
