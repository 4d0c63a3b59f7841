package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server"
	"github.com/outcry/outcry/server/servertest"
)

// TestCorrelatedBanner: with open incidents at three services that began
// within minutes of each other (one correlation group), the home page in
// a real Chromium shows one banner naming and linking them, since the
// group's start; when a fourth service's incident opens (a burst of
// reports through HTTP) and joins the group, the next snapshot's page says
// four. A service in no group is not in it.
func TestCorrelatedBanner(t *testing.T) {
	execPath := chromium(t)
	clock := servertest.NewClock(servertest.Now().Truncate(time.Minute).Add(40 * time.Second))
	opts := func(o *server.Options) { o.RunnerInterval = 20 * time.Millisecond; o.Now = clock.Now }
	env := servertest.Env(t)
	app := servertest.StartEnv(t, env, opts)
	names := map[string]string{"cdn-a": "Alpha Chat", "cdn-b": "Bravo Mail", "cdn-c": "Charlie Docs", "cdn-d": "Delta Drive", "lone": "Lone Game"}
	for _, slug := range []string{"cdn-a", "cdn-b", "cdn-c", "cdn-d", "lone"} {
		r := app.Admin(t, "POST", "/api/v1/services", map[string]any{"slug": slug, "name": names[slug], "problems": []string{"login", "app"}})
		if r.Status != http.StatusCreated {
			t.Fatalf("creating %s: %d %s", slug, r.Status, r.Body)
		}
	}
	if err := app.Stop(); err != nil {
		t.Fatal(err)
	}
	start := clock.Now().Add(-4 * time.Minute)
	plantOpen(t, app.DBPath, start, []string{"cdn-a", "cdn-b", "cdn-c"}, true)
	plantOpen(t, app.DBPath, start.Add(-3*time.Hour), []string{"lone"}, false)
	app = servertest.StartEnv(t, env, opts)
	browser := newBrowser(t, execPath)

	type banner struct {
		Count int      `json:"count"`
		Text  string   `json:"text"`
		Names []string `json:"names"`
		Hrefs []string `json:"hrefs"`
		Since string   `json:"since"`
	}
	// read loads the home page in a new tab until its banner names want
	// services (each load may find a newer snapshot), for up to 20 s.
	read := func(want int) banner {
		t.Helper()
		ctx := tab(t, browser)
		var b banner
		began, loads := time.Now(), 0
		deadline := began.Add(20 * time.Second)
		for {
			// A new URL each time: the page may be cached for its max-age.
			loads++
			do(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/?load=%d", app.URL, loads)), chromedp.WaitReady(chromedp.CSS("body")))
			b = run(t, ctx, chromedp.Evaluate[banner](`(() => {
				const all = document.querySelectorAll('.banner'), b = all[0];
				if (!b) return {count: 0};
				return {count: all.length, text: b.textContent.replace(/\s+/g, ' ').trim(),
					names: [...b.querySelectorAll('a')].map(a => a.textContent),
					hrefs: [...b.querySelectorAll('a')].map(a => a.getAttribute('href')),
					since: b.querySelector('time').getAttribute('datetime')};
			})()`))
			if b.Count == 1 && len(b.Names) == want || time.Now().After(deadline) {
				t.Logf("banner after %v (%d loads): %+v", time.Since(began).Round(time.Millisecond), loads, b)
				if want == 3 {
					screenshot(t, ctx, "banner.png")
				}
				return b
			}
			time.Sleep(100 * time.Millisecond) // the next snapshot, then load the page again
		}
	}

	b := read(3)
	if b.Count != 1 || !strings.HasPrefix(b.Text, "Problems at 3 services since ") || !strings.Contains(b.Text, "— possibly a common cause") {
		t.Fatalf("banner %+v", b)
	}
	if want := []string{"Alpha Chat", "Bravo Mail", "Charlie Docs"}; fmt.Sprint(b.Names) != fmt.Sprint(want) {
		t.Errorf("the banner names %q, want %q", b.Names, want)
	}
	if want := []string{"/s/cdn-a", "/s/cdn-b", "/s/cdn-c"}; fmt.Sprint(b.Hrefs) != fmt.Sprint(want) {
		t.Errorf("the banner links %q, want %q", b.Hrefs, want)
	}
	if b.Since != start.Format(time.RFC3339) {
		t.Errorf("the banner says since %s, want the group's start %s", b.Since, start.Format(time.RFC3339))
	}

	// A fourth service's users report a problem: its incident opens,
	// joins the group, and the next page counts it.
	sent := time.Now()
	for i := range 120 {
		addr := fmt.Sprintf("100.%d.%d.7", 64+i/200, i%200)
		if r := app.Report(t, "cdn-d", addr, map[string]string{"problem": "login", "region": "US"}); r.Status != http.StatusAccepted {
			t.Fatalf("report %d: %d %s", i, r.Status, r.Body)
		}
	}
	t.Logf("120 reports sent in %v", time.Since(sent).Round(time.Millisecond))
	b = read(4)
	if !strings.HasPrefix(b.Text, "Problems at 4 services since ") || !strings.Contains(fmt.Sprint(b.Names), "Delta Drive") || strings.Contains(b.Text, "Lone Game") {
		t.Errorf("after a fourth service's incident: %+v", b)
	}
}

// plantOpen writes open incidents for slugs, a minute apart from start, as
// the detector writes them (in one correlation group when grouped), into
// a stopped app's database.
func plantOpen(t *testing.T, dbPath string, start time.Time, slugs []string, grouped bool) {
	t.Helper()
	ctx := context.Background()
	st, bySlug := servertest.OpenStore(t, dbPath)
	defer st.Close()
	var first uint64
	for i, slug := range slugs {
		svc, ok := bySlug[slug]
		if !ok {
			t.Fatalf("no service %s", slug)
		}
		at := start.Add(time.Duration(i) * time.Minute)
		inc := &models.Incident{ServiceID: svc.ID, Scope: models.ScopeGlobal, Level: models.LevelOutage, StartedAt: at, PeakAt: at,
			Peak: 60, Window: 5 * time.Minute, Expected: 3, Actual: 60, Ratio: 20, Significance: 12, Rule: "planted"}
		ch := models.IncidentChange{Service: svc, Incident: inc, EventType: models.EventIncidentOpened, At: at,
			State: models.DetectorState{ServiceID: svc.ID, Scope: models.ScopeGlobal, State: []byte(`{}`)}}
		if grouped && i > 0 {
			g := first
			inc.CorrelationID, ch.Adopt = &g, []uint64{first}
		}
		if err := st.ApplyIncident(ctx, ch); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = inc.ID
		}
	}
}
