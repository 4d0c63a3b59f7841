package server_test

import (
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/outcry/outcry/internal/testkit"
	"github.com/outcry/outcry/server"
	"github.com/outcry/outcry/server/servertest"
)

func fastRunner(o *server.Options) { o.RunnerInterval = 50 * time.Millisecond }

func countRows(t *testing.T, path, q string) int {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// eventually polls f until it is true or 10 s pass.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	testkit.Eventually(t, 10*time.Second, what, f)
}

// TestEndToEnd starts the whole app on port 0 (with the real Redis when
// scripts/test provides one) and walks the API as a user would.
func TestEndToEnd(t *testing.T) {
	app := servertest.Start(t, nil, fastRunner)

	if r := app.Do(t, "GET", "/healthz", nil); r.Status != 200 {
		t.Fatalf("healthz %d", r.Status)
	}
	var ready struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	r := app.Do(t, "GET", "/readyz", nil)
	r.JSON(t, &ready)
	if r.Status != 200 || ready.Checks["database"] != "ok" {
		t.Fatalf("readyz %d %s", r.Status, r.Body)
	}
	if app.Config.RedisURL != "" && ready.Checks["redis"] != "ok" {
		t.Fatalf("readyz does not check Redis: %s", r.Body)
	}

	// Admin: create (201), again (409), without a token (401).
	app.CreateService(t, "chatgpt", "login", "app", "api")
	if r := app.Admin(t, "POST", "/api/v1/services", map[string]any{"slug": "chatgpt", "name": "Again", "problems": []string{"x"}}); r.Status != http.StatusConflict {
		t.Errorf("duplicate slug: %d %s", r.Status, r.Body)
	}
	if r := app.Do(t, "POST", "/api/v1/services", map[string]any{"slug": "nope", "name": "N", "problems": []string{"x"}}); r.Status != http.StatusUnauthorized {
		t.Errorf("no token: %d", r.Status)
	}
	if r := app.Do(t, "POST", "/api/v1/services", map[string]any{"slug": "nope", "name": "N", "problems": []string{"x"}}, "Authorization", "Bearer wrong-token-0123456789"); r.Status != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", r.Status)
	}
	if r := app.Admin(t, "POST", "/api/v1/services", map[string]any{"slug": "Bad Slug", "name": "N", "problems": []string{"x"}}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("bad slug: %d", r.Status)
	}

	// 20 people report; 15 about login.
	for i := 0; i < 20; i++ {
		p := "login"
		if i >= 15 {
			p = "app"
		}
		r := app.Report(t, "chatgpt", fmt.Sprintf("198.51.%d.%d", i, i+1), map[string]string{"problem": p, "region": "US"})
		if r.Status != http.StatusAccepted {
			t.Fatalf("report %d: %d %s", i, r.Status, r.Body)
		}
	}
	if n := countRows(t, app.DBPath, "SELECT COUNT(*) FROM reports WHERE counted = 1"); n != 20 {
		t.Fatalf("%d counted rows, want 20", n)
	}

	var detail struct {
		Status      string `json:"status"`
		Reports15m  int    `json:"reports_last_15m"`
		TopProblems []struct {
			Key     string  `json:"key"`
			Percent float64 `json:"percent"`
		} `json:"top_problems"`
		TopRegions []struct {
			Key string `json:"key"`
		} `json:"top_regions"`
		Incident any `json:"incident"`
	}
	eventually(t, "the snapshot to show 20 reports", func() bool {
		app.Do(t, "GET", "/api/v1/services/chatgpt", nil).JSON(t, &detail)
		return detail.Reports15m == 20
	})
	if detail.Status == "" || len(detail.TopProblems) != 2 || detail.TopProblems[0].Key != "login" || detail.TopProblems[0].Percent != 75 {
		t.Errorf("detail = %+v", detail)
	}
	if len(detail.TopRegions) != 1 || detail.TopRegions[0].Key != "US" {
		t.Errorf("regions = %+v", detail.TopRegions)
	}

	var list struct {
		Items []struct {
			Slug string `json:"slug"`
		} `json:"items"`
	}
	app.Do(t, "GET", "/api/v1/services", nil).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].Slug != "chatgpt" {
		t.Errorf("list = %+v", list)
	}

	var ts struct {
		BucketSeconds int `json:"bucket_seconds"`
		Items         []struct {
			Count int `json:"count"`
		} `json:"items"`
	}
	app.Do(t, "GET", "/api/v1/services/chatgpt/timeseries?hours=24", nil).JSON(t, &ts)
	if ts.BucketSeconds != 900 || len(ts.Items) != 96 || ts.Items[95].Count != 20 {
		t.Errorf("timeseries: %d buckets of %d s, last %+v", len(ts.Items), ts.BucketSeconds, ts.Items[len(ts.Items)-1])
	}
	if r := app.Do(t, "GET", "/api/v1/services/chatgpt/timeseries?hours=0", nil); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("hours=0: %d", r.Status)
	}

	m := string(app.Do(t, "GET", "/metrics", nil).Body)
	for _, want := range []string{"outcry_reports_accepted_total 20", "outcry_reports_counted_total 20", `outcry_http_request_duration_seconds_count{method="POST",route="/api/v1/services/:slug/reports",status="202"} 20`,
		"outcry_writer_batch_size_sum 20", "outcry_writer_commit_seconds_count "} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// Admin: change, delete.
	if r := app.Admin(t, "PATCH", "/api/v1/services/chatgpt", map[string]any{"name": "ChatGPT", "problems": []string{"login", "app", "api", "voice-mode"}}); r.Status != 200 {
		t.Errorf("patch: %d %s", r.Status, r.Body)
	}
	if r := app.Report(t, "chatgpt", "192.0.2.99", map[string]string{"problem": "voice-mode"}); r.Status != http.StatusAccepted {
		t.Errorf("new problem after patch: %d %s", r.Status, r.Body)
	}
	if r := app.Admin(t, "DELETE", "/api/v1/services/chatgpt", nil); r.Status != http.StatusNoContent {
		t.Errorf("delete: %d %s", r.Status, r.Body)
	}
	if r := app.Report(t, "chatgpt", "192.0.2.98", map[string]string{"problem": "login"}); r.Status != http.StatusNotFound {
		t.Errorf("report after delete: %d", r.Status)
	}
	if n := countRows(t, app.DBPath, "SELECT COUNT(*) FROM reports"); n != 0 {
		t.Errorf("%d reports left after delete", n)
	}
	if err := app.Stop(); err != nil {
		t.Fatal(err)
	}
}

// TestShutdownLosesNoAcknowledgedReport stops the app while reports pour in:
// every 202 must be a row.
func TestShutdownLosesNoAcknowledgedReport(t *testing.T) {
	app := servertest.Start(t, nil)
	app.CreateService(t, "chatgpt", "login")
	var accepted atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	client := &http.Client{Timeout: 5 * time.Second}
	for w := 0; w < 16; w++ {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("POST", app.URL+"/api/v1/services/chatgpt/reports", strings.NewReader(`{"problem":"login"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.1", w, i%256))
				resp, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				if resp.StatusCode == http.StatusAccepted {
					accepted.Add(1)
				}
				resp.Body.Close()
			}
		})
	}
	eventually(t, "some reports", func() bool { return accepted.Load() > 200 })
	if err := app.Stop(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	rows := countRows(t, app.DBPath, "SELECT COUNT(*) FROM reports")
	if int64(rows) < accepted.Load() {
		t.Fatalf("%d reports answered 202 but only %d rows", accepted.Load(), rows)
	}
	t.Logf("%d accepted, %d rows", accepted.Load(), rows)
}

// A service created since the detector's last tick is answered everywhere
// at once, as having no problems yet: the widget's JSON, its chart data and
// incidents, the Statuspage API, the page, the embed and the badge (the
// JSON answered 404 until the next tick).
func TestNewServiceAnswersBeforeTheNextTick(t *testing.T) {
	app := servertest.Start(t, nil, func(o *server.Options) { o.RunnerInterval = time.Hour })
	app.CreateService(t, "fresh")
	for _, c := range []struct{ path, want string }{
		{"/api/v1/services/fresh", `"slug":"fresh"`},
		{"/api/v1/services/fresh/timeseries", `"service":"fresh"`},
		{"/api/v1/services/fresh/incidents", `"items":[]`},
		{"/s/fresh/api/v2/status.json", `"indicator":"none"`},
		{"/s/fresh", "No current problems with"},
		{"/embed/fresh", "fresh"},
		{"/badge/fresh.svg", "<svg"},
	} {
		r := app.Do(t, "GET", c.path, nil)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), c.want) {
			t.Errorf("%s: %d %.300s; want 200 with %s", c.path, r.Status, r.Body, c.want)
		}
	}
	var st struct {
		Status string `json:"status"`
	}
	if app.Do(t, "GET", "/api/v1/services/fresh", nil).JSON(t, &st); st.Status != "ok" {
		t.Errorf("a new service's status is %q, want ok", st.Status)
	}
}

// HEAD is answered as GET without a body (uptime monitors, curl -I): the
// same status, ETag and Content-Length as the GET, for rendered answers
// small and large, pages, badges, errors and probes; a path that only
// takes POST answers 405. On the wire no body follows: the next answer on
// the same connection starts right after the head's blank line.
func TestHeadAnswersAsGet(t *testing.T) {
	app := servertest.Start(t, nil, fastRunner)
	app.CreateService(t, "acme")
	app.WaitTicks(t, 1)
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/api/v1/services/acme", 200}, {"/api/v1/services", 200}, {"/s/acme", 200}, {"/", 200}, {"/badge/acme.svg", 200},
		{"/embed/acme", 200}, {"/healthz", 200}, {"/api/v1/services/nope", 404}, {"/api/v1/services/acme/reports", 405},
	} {
		// GET, HEAD, GET: the HEAD must match a GET of the same snapshot. A
		// runner tick between them may change the answer (a slow machine);
		// then the triple is taken again.
		var get, head servertest.Response
		for try := 0; try < 5; try++ {
			get = app.Do(t, "GET", c.path, nil, "Accept-Encoding", "identity")
			head = app.Do(t, "HEAD", c.path, nil, "Accept-Encoding", "identity")
			again := app.Do(t, "GET", c.path, nil, "Accept-Encoding", "identity")
			if again.Status == get.Status && again.Header.Get("ETag") == get.Header.Get("ETag") && len(again.Body) == len(get.Body) {
				break
			}
		}
		if get.Status != c.status || head.Status != c.status {
			t.Errorf("%s: GET %d, HEAD %d; want %d", c.path, get.Status, head.Status, c.status)
			continue
		}
		if len(head.Body) != 0 || head.Header.Get("ETag") != get.Header.Get("ETag") || head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
			t.Errorf("%s: HEAD body %d B, ETag %q, type %q; GET ETag %q, type %q", c.path, len(head.Body),
				head.Header.Get("ETag"), head.Header.Get("Content-Type"), get.Header.Get("ETag"), get.Header.Get("Content-Type"))
		}
		if cl := head.Header.Get("Content-Length"); c.status == 200 && cl != strconv.Itoa(len(get.Body)) {
			t.Errorf("%s: HEAD Content-Length %q, GET body %d B", c.path, cl, len(get.Body))
		}
	}

	conn, err := net.Dial("tcp", strings.TrimPrefix(app.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "HEAD /s/acme HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	head, rest, ok := strings.Cut(string(raw), "\r\n\r\n")
	if !ok || !strings.HasPrefix(head, "HTTP/1.1 200") || !strings.HasPrefix(rest, "HTTP/1.1 200") {
		t.Errorf("HEAD then GET on one connection:\n%.600s", raw)
	}
}
