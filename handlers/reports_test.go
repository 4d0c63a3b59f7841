package handlers_test

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/outcry/outcry/server"
	"github.com/outcry/outcry/server/servertest"
)

// rows counts rows of table in the app's database.
func rows(t *testing.T, app *servertest.App, table, where string, args ...any) int {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+app.DBPath+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := "SELECT COUNT(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func TestReportBadInputStoresNothing(t *testing.T) {
	app := servertest.Start(t, nil)
	app.CreateService(t, "chatgpt", "login", "app", "api")
	json := "application/json"
	cases := []struct {
		name, slug, ctype, body string
		status                  int
		code                    string
	}{
		{"malformed JSON", "chatgpt", json, `{"problem":`, 400, "malformed"},
		{"not an object", "chatgpt", json, `["login"]`, 400, "malformed"},
		{"empty body", "chatgpt", json, ``, 400, "malformed"},
		{"wrong field type", "chatgpt", json, `{"problem":7}`, 400, "malformed"},
		{"body over 4 KiB", "chatgpt", json, `{"problem":"login","note":"` + strings.Repeat("x", 5000) + `"}`, 413, "too_large"},
		{"unknown problem", "chatgpt", json, `{"problem":"voice"}`, 422, "invalid"},
		{"missing problem", "chatgpt", json, `{"region":"KR"}`, 422, "invalid"},
		{"bad region code", "chatgpt", json, `{"problem":"login","region":"XX"}`, 422, "invalid"},
		{"region not two letters", "chatgpt", json, `{"problem":"login","region":"KOR"}`, 422, "invalid"},
		{"note over 280 characters", "chatgpt", json, `{"problem":"login","note":"` + strings.Repeat("é", 281) + `"}`, 422, "invalid"},
		{"unknown service", "nosuch", json, `{"problem":"login"}`, 404, "not_found"},
		{"wrong content type", "chatgpt", "text/plain", `{"problem":"login"}`, 415, "unsupported_media_type"},
		{"no content type", "chatgpt", "", `{"problem":"login"}`, 415, "unsupported_media_type"},
		{"form encoded", "chatgpt", "application/x-www-form-urlencoded", `problem=login`, 415, "unsupported_media_type"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := []string{"X-Forwarded-For", "198.51.100." + string(rune('1'+i%9))}
			if tc.ctype != "" {
				h = append(h, "Content-Type", tc.ctype)
			}
			r := app.Do(t, "POST", "/api/v1/services/"+tc.slug+"/reports", tc.body, h...)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			var e errorBody
			r.JSON(t, &e)
			if e.Error.Code != tc.code || e.Error.Message == "" {
				t.Errorf("error = %+v, want code %s and a message", e.Error, tc.code)
			}
		})
	}
	if n := rows(t, app, "reports", ""); n != 0 {
		t.Errorf("%d reports stored from bad input, want 0", n)
	}
}

func TestReportAcceptedIsStoredAndDeduped(t *testing.T) {
	app := servertest.Start(t, nil)
	app.CreateService(t, "chatgpt", "login", "app", "api")
	var first, again struct {
		Accepted bool   `json:"accepted"`
		Counted  bool   `json:"counted"`
		ID       uint64 `json:"id"`
		Region   string `json:"region"`
		Problem  string `json:"problem"`
	}
	r := app.Report(t, "chatgpt", "203.0.113.9", map[string]string{"problem": "login", "region": "kr", "note": "  spinner  "})
	if r.Status != http.StatusAccepted {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	r.JSON(t, &first)
	if !first.Accepted || !first.Counted || first.ID == 0 || first.Region != "KR" {
		t.Fatalf("first report answered %+v", first)
	}
	for _, h := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
		if r.Header.Get(h) == "" {
			t.Errorf("missing %s header", h)
		}
	}
	r = app.Report(t, "chatgpt", "203.0.113.9", map[string]string{"problem": "app"})
	if r.Status != http.StatusAccepted {
		t.Fatalf("repeat: status %d: %s", r.Status, r.Body)
	}
	r.JSON(t, &again)
	if again.Counted {
		t.Error("a repeat within 15 minutes counted again")
	}
	if n := rows(t, app, "reports", "id = ? AND counted = 1 AND region = 'KR' AND problem = 'login' AND note = 'spinner'", first.ID); n != 1 {
		t.Errorf("first report not stored as answered (%d rows)", n)
	}
	if n := rows(t, app, "reports", "id = ? AND counted = 0 AND problem = 'app'", again.ID); n != 1 {
		t.Errorf("repeat not stored (%d rows)", n)
	}
	// Without a region in the body, the address decides, else ZZ.
	r = app.Report(t, "chatgpt", "10.1.2.3", map[string]string{"problem": "api"})
	var third struct {
		Region string `json:"region"`
	}
	r.JSON(t, &third)
	if third.Region != "ZZ" {
		t.Errorf("private address region = %q, want ZZ", third.Region)
	}
	// Raw addresses are never stored.
	if n := rows(t, app, "reports", "reporter_hash LIKE '%203.0.113%' OR reporter_hash LIKE '%10.1.2%' OR length(reporter_hash) != 32"); n != 0 {
		t.Errorf("%d rows hold something other than a 32-hex reporter hash", n)
	}
}

func TestReportRateLimited(t *testing.T) {
	app := servertest.Start(t, func(env map[string]string) { env["OUTCRY_REPORTER_LIMIT"] = "3/m" })
	app.CreateService(t, "chatgpt")
	body := map[string]string{"problem": "login"}
	for i := 0; i < 3; i++ {
		if r := app.Report(t, "chatgpt", "192.0.2.50", body); r.Status != http.StatusAccepted {
			t.Fatalf("report %d: %d %s", i, r.Status, r.Body)
		}
	}
	for i := 0; i < 2; i++ { // the second answer comes from the deny cache
		r := app.Report(t, "chatgpt", "192.0.2.50", body)
		if r.Status != http.StatusTooManyRequests {
			t.Fatalf("4th report: %d %s", r.Status, r.Body)
		}
		if r.Header.Get("Retry-After") == "" || r.Header.Get("RateLimit-Remaining") != "0" || r.Header.Get("RateLimit-Limit") != "3" {
			t.Errorf("429 headers: %v", r.Header)
		}
		var e errorBody
		r.JSON(t, &e)
		if e.Error.Code != "rate_limited" || !strings.HasPrefix(e.Error.Message, "too many reports from your address; try again in ") {
			t.Errorf("code %q, message %q; want rate_limited naming the address's limit", e.Error.Code, e.Error.Message)
		}
	}
	// Another address in another network is unaffected.
	if r := app.Report(t, "chatgpt", "198.51.100.7", body); r.Status != http.StatusAccepted {
		t.Fatalf("other reporter: %d %s", r.Status, r.Body)
	}
	if n := rows(t, app, "reports", ""); n != 4 {
		t.Errorf("%d rows, want 4 (every 202 and nothing else)", n)
	}
}

// When the network's limit refuses, the 429 says so (and names its limit in
// RateLimit-Limit), from the limiter and from the deny cache alike; other
// addresses of that network are refused too, nothing is stored for them.
func TestReportRateLimitedByNetwork(t *testing.T) {
	app := servertest.Start(t, func(env map[string]string) {
		env["OUTCRY_REPORTER_LIMIT"] = "10/m"
		env["OUTCRY_NETWORK_LIMIT"] = "2/m"
	})
	app.CreateService(t, "chatgpt")
	body := map[string]string{"problem": "login"}
	for i, addr := range []string{"192.0.2.71", "192.0.2.72"} {
		if r := app.Report(t, "chatgpt", addr, body); r.Status != http.StatusAccepted {
			t.Fatalf("report %d: %d %s", i, r.Status, r.Body)
		}
	}
	for _, addr := range []string{"192.0.2.73", "192.0.2.74", "192.0.2.71"} {
		r := app.Report(t, "chatgpt", addr, body)
		var e errorBody
		r.JSON(t, &e)
		if r.Status != http.StatusTooManyRequests || r.Header.Get("RateLimit-Limit") != "2" ||
			!strings.HasPrefix(e.Error.Message, "too many reports from your network; try again in ") {
			t.Errorf("%s: %d, RateLimit-Limit %q, %q; want 429 naming the network's limit of 2", addr, r.Status, r.Header.Get("RateLimit-Limit"), e.Error.Message)
		}
	}
	if n := rows(t, app, "reports", ""); n != 2 {
		t.Errorf("%d rows, want 2", n)
	}
}

// A flood from one address is answered 429 every time, but the access log
// writes at most one line per second for it, saying how many it left out.
func TestFloodDoesNotFloodTheAccessLog(t *testing.T) {
	var buf lockedBuffer
	app := servertest.Start(t, func(env map[string]string) { env["OUTCRY_REPORTER_LIMIT"] = "1/m" }, func(o *server.Options) {
		o.Log = slog.New(slog.NewJSONHandler(&buf, nil))
	})
	app.CreateService(t, "chatgpt")
	body := map[string]string{"problem": "login"}
	if r := app.Report(t, "chatgpt", "192.0.2.60", body); r.Status != http.StatusAccepted {
		t.Fatalf("first report: %d %s", r.Status, r.Body)
	}
	const flood = 200
	start := time.Now()
	for i := 0; i < flood; i++ {
		if r := app.Report(t, "chatgpt", "192.0.2.60", body); r.Status != http.StatusTooManyRequests {
			t.Fatalf("flood %d: %d", i, r.Status)
		}
	}
	seconds := int(time.Since(start).Seconds()) + 1
	lines, accepted, left := 0, 0, 0
	for _, l := range strings.Split(buf.String(), "\n") {
		var e struct {
			Msg        string `json:"msg"`
			Status     int    `json:"status"`
			Suppressed int    `json:"suppressed_429s"`
		}
		if json.Unmarshal([]byte(l), &e) != nil || e.Msg != "http" {
			continue
		}
		switch e.Status {
		case http.StatusTooManyRequests:
			lines++
			left += e.Suppressed
		case http.StatusAccepted:
			accepted++
		}
	}
	if accepted != 1 || lines < 1 || lines > seconds+1 || lines+left > flood {
		t.Errorf("access log: %d lines for 202, %d for %d 429s in %d s (%d left out); want 1, and at most one 429 line a second", accepted, lines, flood, seconds, left)
	}
	if n := rows(t, app, "reports", ""); n != 1 {
		t.Errorf("%d rows, want 1", n)
	}
}

// lockedBuffer is a bytes.Buffer safe for the logger's and the test's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestSpoofedForwardedForIsIgnoredFromUntrustedPeers(t *testing.T) {
	app := servertest.Start(t, func(env map[string]string) {
		env["OUTCRY_TRUSTED_PROXIES"] = "none"
		env["OUTCRY_REPORTER_LIMIT"] = "2/m"
	})
	app.CreateService(t, "chatgpt")
	body := map[string]string{"problem": "login"}
	// Each request claims a new address, but the peer is not a trusted
	// proxy, so they are all one reporter and the third is limited.
	codes := []int{}
	for i := 0; i < 3; i++ {
		codes = append(codes, app.Report(t, "chatgpt", "203.0.113."+string(rune('1'+i)), body).Status)
	}
	if codes[2] != http.StatusTooManyRequests {
		t.Errorf("statuses %v: a spoofed X-Forwarded-For evaded the limit", codes)
	}
}

// TestReportBodyReading: a body cut short of its Content-Length is refused
// and stores nothing (over a real connection); a chunked body and a
// hand-made request whose body is longer than its Content-Length are read
// the general way, like any other.
func TestReportBodyReading(t *testing.T) {
	app := servertest.Start(t, nil)
	app.CreateService(t, "chatgpt", "login", "app", "api")

	conn, err := net.Dial("tcp", strings.TrimPrefix(app.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"problem":"login"}`
	fmt.Fprintf(conn, "POST /api/v1/services/chatgpt/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body)+10, body)
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a body cut short: status %d, want 400", resp.StatusCode)
	}
	if n := rows(t, app, "reports", ""); n != 0 {
		t.Fatalf("%d reports stored from a body cut short", n)
	}

	h := app.Handler()
	for i, mk := range []func() *http.Request{
		func() *http.Request { // chunked: no Content-Length
			r := httptest.NewRequest("POST", "/api/v1/services/chatgpt/reports", io.MultiReader(strings.NewReader(body)))
			r.ContentLength = -1
			return r
		},
		func() *http.Request { // longer than it says
			r := httptest.NewRequest("POST", "/api/v1/services/chatgpt/reports", strings.NewReader(body))
			r.ContentLength = 5
			return r
		},
	} {
		r := mk()
		r.RemoteAddr = "127.0.0.1:1234"
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Forwarded-For", "192.0.2."+strconv.Itoa(10+i))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusAccepted {
			t.Errorf("request %d: status %d: %s", i, w.Code, w.Body)
		}
	}
	if n := rows(t, app, "reports", "problem = 'login'"); n != 2 {
		t.Errorf("%d reports stored, want 2", n)
	}
}
