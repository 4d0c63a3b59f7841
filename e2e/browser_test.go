// Package e2e drives the public pages, the report button and the embeddable
// widget in a real headless Chromium.
package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	_ "github.com/mattn/go-sqlite3"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/outcry/outcry/internal/testkit"
	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/servertest"
)

// evilName is a service name that would run script if a page did not escape it.
const evilName = `<script>alert(1)</script><img src=x onerror=alert(2)>`

func TestBrowser(t *testing.T) {
	execPath := chromium(t)
	app := startSeeded(t)
	host := hostPage(t, app.URL)
	browser := newBrowser(t, execPath)

	t.Run("ServicePage", func(t *testing.T) {
		ctx := tab(t, browser)
		do(t, ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(app.URL+"/s/acme"), chromedp.WaitVisible(chromedp.ID("headline")))
		headline := run(t, ctx, chromedp.Text(chromedp.ID("headline")))
		if !strings.Contains(headline, "problems with Acme Cloud") {
			t.Errorf("headline %q", headline)
		}
		bars := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('svg.chart rect.bar').length`))
		width := run(t, ctx, chromedp.Evaluate[float64](`document.querySelector('svg.chart').getBoundingClientRect().width`))
		if bars < 90 || width < 600 {
			t.Errorf("the chart has %d bars and is %.0f px wide; want a bar per 15 minutes across the page", bars, width)
		}
		if inc := run(t, ctx, chromedp.Text(chromedp.CSS(".incidents"))); !strings.Contains(inc, "12.5 expected, 240 reported") {
			t.Errorf("incident list %q", inc)
		}
		if !run(t, ctx, chromedp.Evaluate[bool](`document.documentElement.classList.contains('js')`)) {
			t.Error("the page script did not run (blocked by the CSP?)")
		}
		do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("headline")))
		if w := run(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
			t.Errorf("the phone layout is %d px wide; it scrolls sideways", w)
		}
	})

	t.Run("ReportButton", func(t *testing.T) {
		ctx := tab(t, browser)
		before := countRows(t, app, "acme", "voice-mode")
		do(t, ctx,
			chromedp.Navigate(app.URL+"/s/acme"),
			chromedp.Click(chromedp.CSS(`input[name=problem][value="voice-mode"]`)),
			chromedp.Click(chromedp.CSS(`#report button[type=submit]`)),
		)
		msg := run(t, ctx, chromedp.Poll[string](`(t => t.startsWith('Thanks') && t)(document.getElementById('report-status').textContent)`,
			chromedp.WithPollingTimeout(10*time.Second)))
		if !strings.HasPrefix(msg, "Thanks — ") {
			t.Errorf("after reporting: %q", msg)
		}
		if n := countRows(t, app, "acme", "voice-mode") - before; n != 1 {
			t.Errorf("%d voice-mode reports stored, want 1", n)
		}
	})

	t.Run("WidgetOnAnotherOrigin", func(t *testing.T) {
		ctx := tab(t, browser)
		var statusFetches atomic.Int32
		if err := chromedp.Listen(ctx, func(ev any) {
			if e, ok := ev.(*network.EventRequestWillBeSent); ok && e.Request.Method == "GET" && strings.HasSuffix(e.Request.URL, "/api/v1/services/acme") {
				statusFetches.Add(1)
			}
		}); err != nil {
			t.Fatal(err)
		}
		before := countRows(t, app, "acme", "api")
		do(t, ctx, chromedp.EmulateViewport(900, 700), chromedp.Navigate(host.URL))
		state := run(t, ctx, chromedp.Poll[map[string]any](`(() => {
			const hosts = document.querySelectorAll('outcry-widget');
			if (hosts.length < 2) return false;
			const r = hosts[0].shadowRoot, id = hosts[1].shadowRoot;
			if (!r || !id || !r.querySelector('.r') || r.querySelector('.r').hidden) return false;
			if (id.querySelector('.w').classList.contains('unknown')) return false; // its own status not in yet
			return {name: r.querySelector('b').textContent, status: r.querySelector('.st').textContent,
				id: id.querySelector('.st').textContent, after: hosts[0].previousElementSibling.tagName,
				color: getComputedStyle(r.querySelector('.st')).color, hidden: getComputedStyle(r.querySelector('.w')).display};
		})()`, chromedp.WithPollingTimeout(10*time.Second)))
		want := map[string]any{"name": "Acme Cloud", "status": "No problems", "id": "Tidak ada masalah", "after": "SCRIPT", "color": "rgb(28, 32, 36)", "hidden": "block"}
		for k, v := range want {
			if state[k] != v {
				t.Errorf("widget %s = %v, want %v (the host page's CSS must not reach into it)", k, state[k], v)
			}
		}
		do(t, ctx,
			chromedp.Click(chromedp.JSPath(`document.querySelector('outcry-widget').shadowRoot.querySelector('.r')`)),
			chromedp.Evaluate[chromedp.Void](`document.querySelector('outcry-widget').shadowRoot.querySelector('select').value = 'api'`),
			chromedp.Click(chromedp.JSPath(`document.querySelector('outcry-widget').shadowRoot.querySelector('.s')`)),
		)
		msg := run(t, ctx, chromedp.Poll[string](`(t => t.startsWith('Thanks') && t)(document.querySelector('outcry-widget').shadowRoot.querySelector('p').textContent)`,
			chromedp.WithPollingTimeout(10*time.Second)))
		if !strings.HasPrefix(msg, "Thanks") {
			t.Errorf("widget after reporting: %q", msg)
		}
		if n := countRows(t, app, "acme", "api") - before; n != 1 {
			t.Errorf("%d api reports stored from the widget, want 1", n)
		}
		if n := statusFetches.Load(); n != 2 {
			t.Errorf("two widgets fetched the status %d times, want once each", n)
		}
		if text := run(t, ctx, chromedp.Text(chromedp.CSS(".st"), chromedp.FromNode(iframe(t, ctx)))); text != "No problems" {
			t.Errorf("the iframe widget says %q", text)
		}
		screenshot(t, ctx, "widget.png")
	})

	t.Run("NamesAreText", func(t *testing.T) {
		ctx := tab(t, browser)
		var dialogs atomic.Int32
		if err := chromedp.Listen(ctx, func(ev any) {
			if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
				dialogs.Add(1)
				go func() { _, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{}) }()
			}
		}); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/s/evil", "/", "/embed/evil"} {
			do(t, ctx, chromedp.Navigate(app.URL+path), chromedp.WaitReady(chromedp.CSS("body")))
			text := run(t, ctx, chromedp.Text(chromedp.CSS("body")))
			if !strings.Contains(text, evilName) {
				t.Errorf("%s does not show the name as text", path)
			}
			if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('body script, body img[src=x]').length`)); n != 0 {
				t.Errorf("%s has %d elements made from the name", path, n)
			}
		}
		if n := dialogs.Load(); n != 0 {
			t.Errorf("%d dialogs opened", n)
		}
	})

	// After the others, as it changes the service's status: the pictures in
	// docs/screenshots of a service many people are reporting.
	if os.Getenv("OUTCRY_SCREENSHOTS") == "1" {
		t.Run("Screenshots", func(t *testing.T) {
			busy(t, app)
			ctx := tab(t, browser)
			do(t, ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(app.URL+"/s/acme"), chromedp.WaitVisible(chromedp.ID("headline")))
			screenshot(t, ctx, "service-desktop.png")
			do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("headline")))
			screenshot(t, ctx, "service-phone.png")
		})
	}

	t.Run("DirectorySearch", func(t *testing.T) {
		ctx := tab(t, browser)
		do(t, ctx, chromedp.Navigate(app.URL+"/"), chromedp.SendKeys(chromedp.ID("q"), "acm"))
		shown := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#services li:not([hidden]) .name')].map(e => e.textContent)`))
		if len(shown) != 1 || shown[0] != "Acme Cloud" {
			t.Errorf("typing 'acm' shows %q", shown)
		}
	})
}

// chromium finds the browser; without one the test skips, except in CI.
func chromium(t *testing.T) string {
	p, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not on PATH; scripts/test installs it")
		}
		t.Skip("chromium is not on PATH")
	}
	return p
}

// startSeeded starts an app with two services, 8 days of history and a
// past incident: it creates the services through the admin API, stops,
// writes the history, and starts again so the first detector tick sees it.
func startSeeded(t *testing.T) *servertest.App {
	env := servertest.Env(t)
	app := servertest.StartEnv(t, env)
	for _, s := range []map[string]any{
		{"slug": "acme", "name": "Acme Cloud", "problems": []string{"login", "voice-mode", "api", "website"}},
		{"slug": "evil", "name": evilName, "problems": []string{"login"}},
	} {
		if r := app.Admin(t, "POST", "/api/v1/services", s); r.Status != http.StatusCreated {
			t.Fatalf("creating %s: %d %s", s["slug"], r.Status, r.Body)
		}
	}
	if err := app.Stop(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, bySlug := servertest.OpenStore(t, app.DBPath)
	defer st.Close()
	acme := bySlug["acme"].ID
	end := models.BucketOf(time.Now().UTC())
	var rows []models.Rollup
	// Eight days: the detector has learned what is usual, so the chart
	// draws the normal range.
	for b := end.Add(-8 * 24 * time.Hour); b.Before(end); b = b.Add(models.BucketSize) {
		hours := end.Sub(b).Hours()
		n := 18 + 8*math.Sin(2*math.Pi*hours/24)
		if hours > 6 && hours < 7.5 {
			n += 220 * math.Exp(-math.Pow(hours-6.5, 2)*8) // the incident below
		}
		for i, p := range []string{"login", "voice-mode", "api"} {
			rows = append(rows, models.Rollup{ServiceID: acme, Bucket: b.Unix(), Region: []string{"US", "KR", "ID"}[i], Problem: p, Count: int(n)/(i+2) + 1})
		}
	}
	if err := st.InsertRollups(ctx, rows); err != nil {
		t.Fatal(err)
	}
	started, resolved := end.Add(-7*time.Hour), end.Add(-6*time.Hour)
	// Planted behind the store's back: only the detector writes incidents.
	raw, err := gorm.Open(sqlite.Open(app.DBPath+"?_busy_timeout=5000"), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if db, err := raw.DB(); err == nil {
		defer db.Close()
	}
	err = raw.Create(&models.Incident{
		ServiceID: acme, Scope: models.ScopeGlobal, Level: models.LevelOutage, StartedAt: started, ResolvedAt: &resolved,
		PeakAt: started.Add(30 * time.Minute), Peak: 240, Window: 15 * time.Minute, Expected: 12.5, Actual: 240,
		Ratio: 19.2, Significance: 30, Rule: "test", NotifiedAt: resolved,
	}).Error
	if err != nil {
		t.Fatal(err)
	}
	return servertest.StartEnv(t, env)
}

// busy sends reports from many addresses and waits for the detector's next
// tick to count them, so screenshots show a service people are reporting.
func busy(t *testing.T, app *servertest.App) {
	problems := []string{"login", "login", "voice-mode", "api", "login", "website"}
	regions := []string{"US", "KR", "US", "ID", "DE", "KR", "US", "BR"}
	for i := range 48 {
		addr := fmt.Sprintf("198.18.%d.%d", i, 10+i)
		body := map[string]string{"problem": problems[i%len(problems)], "region": regions[i%len(regions)]}
		if r := app.Report(t, "acme", addr, body); r.Status != http.StatusAccepted {
			t.Fatalf("report %d: %d %s", i, r.Status, r.Body)
		}
	}
	testkit.Eventually(t, 20*time.Second, "the reports to be counted", func() bool {
		var st struct {
			Reports int `json:"reports_last_15m"`
		}
		app.Do(t, "GET", "/api/v1/services/acme", nil).JSON(t, &st)
		return st.Reports > 0
	})
}

// countRows counts the stored reports of one problem of a service.
func countRows(t *testing.T, app *servertest.App, slug, problem string) int {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+app.DBPath+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	err = db.QueryRow(`SELECT COUNT(*) FROM reports JOIN services ON services.id = reports.service_id WHERE services.slug = ? AND reports.problem = ?`, slug, problem).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// hostPage serves a page on another loopback origin that embeds the widget
// twice and the iframe, with CSS that would break a widget not isolated in
// its Shadow DOM.
func hostPage(t *testing.T, appURL string) *httptest.Server {
	html := fmt.Sprintf(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A host page</title>
<style>
body { font: 17px/1.6 Georgia, serif; max-width: 720px; margin: 40px auto; color: #333; background: #fbfaf7; }
.w, .st, .d, b, small, svg, button, select { display: none !important; color: red !important; background: hotpink !important; }
</style></head><body>
<h1>Acme Cloud community</h1>
<p>Is Acme Cloud down for you too? Here is the live status from Outcry:</p>
<script async src="%[1]s/widget.js" data-service="acme" data-report="true" data-lang="en"></script>
<p>Dalam bahasa Indonesia, tema gelap:</p>
<script async src="%[1]s/widget.js" data-service="acme" data-lang="id" data-theme="dark"></script>
<p>For pages that cannot load scripts, the iframe:</p>
<iframe src="%[1]s/embed/acme" title="Acme Cloud status" width="360" height="64" style="border:0"></iframe>
</body></html>`, appURL)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(html))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// newBrowser starts one headless Chromium for every subtest; each gets a tab.
func newBrowser(t *testing.T, execPath string) context.Context {
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(execPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// tab opens a tab bounded to 30 seconds.
func tab(t *testing.T, browser context.Context) context.Context {
	ctx, cancel := context.WithTimeout(browser, 30*time.Second)
	ctx, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(func() { cancelTab(); cancel() })
	return ctx
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func iframe(t *testing.T, ctx context.Context) *chromedp.Node {
	t.Helper()
	nodes := run(t, ctx, chromedp.Nodes(chromedp.CSS("iframe")))
	if len(nodes) == 0 {
		t.Fatal("no iframe")
	}
	return nodes[0]
}

// screenshot saves the tab to docs/screenshots/name when OUTCRY_SCREENSHOTS=1.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv("OUTCRY_SCREENSHOTS") != "1" {
		return
	}
	png := run(t, ctx, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join("..", "docs", "screenshots", name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
