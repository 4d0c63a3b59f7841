package server_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outcry/outcry/server"
	"github.com/outcry/outcry/server/official"
	"github.com/outcry/outcry/server/official/officialtest"
	"github.com/outcry/outcry/server/servertest"
	"github.com/outcry/outcry/server/store/storetest"
	"github.com/outcry/outcry/server/webhook/webhooktest"
)

type officialJSON struct {
	Status           string     `json:"status"`
	Description      string     `json:"description"`
	UpdatedAt        *time.Time `json:"updated_at"`
	URL              string     `json:"url"`
	UnavailableSince *time.Time `json:"unavailable_since"`
}

type leadIncident struct {
	ID                     uint64     `json:"id"`
	StartedAt              time.Time  `json:"started_at"`
	OpenedAt               time.Time  `json:"opened_at"`
	OfficialAcknowledgedAt *time.Time `json:"official_acknowledged_at"`
	LeadSeconds            *int64     `json:"lead_seconds"`
}

type officialView struct {
	Status       string        `json:"status"`
	Incident     *leadIncident `json:"incident"`
	Official     *officialJSON `json:"official"`
	OfficialLead *struct {
		Days              int    `json:"days"`
		Incidents         int    `json:"incidents"`
		Acknowledged      int    `json:"acknowledged"`
		MedianLeadSeconds *int64 `json:"median_lead_seconds"`
	} `json:"official_lead"`
}

func officialOf(t *testing.T, app *servertest.App, slug string) officialView {
	t.Helper()
	var v officialView
	r := app.Do(t, "GET", "/api/v1/services/"+slug, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", slug, r.Status, r.Body)
	}
	r.JSON(t, &v)
	return v
}

func createWithOfficial(t *testing.T, app *servertest.App, slug, url string, components ...string) {
	t.Helper()
	body := map[string]any{"slug": slug, "name": strings.ToUpper(slug[:1]) + slug[1:], "problems": []string{"login", "app"}, "official_status_url": url}
	if len(components) > 0 {
		body["official_components"] = components
	}
	r := app.Admin(t, "POST", "/api/v1/services", body)
	if r.Status != http.StatusCreated || !strings.Contains(string(r.Body), `"official_status_url":"`+url+`"`) {
		t.Fatalf("creating %s: %d %s", slug, r.Status, r.Body)
	}
	eventually(t, slug+" in the status snapshot", func() bool { return app.Do(t, "GET", "/api/v1/services/"+slug, nil).Status == http.StatusOK })
}

// An incident opened by a burst; two minutes later (on the app's clock)
// the fake Statuspage page turns to major outage with an incident whose
// first update is published then: lead_seconds = 120 on the incident API,
// the service JSON, the page, and the incident.updated webhook a real
// receiver gets.
func TestOfficialLeadTime(t *testing.T) {
	clock := servertest.NewClock(servertest.Now().Truncate(time.Minute).Add(20 * time.Second))
	page := officialtest.NewPage(t, "statuspage", "ChatGPT",
		officialtest.Component{ID: "c1", Name: "Conversations", Status: "operational"},
		officialtest.Component{ID: "c2", Name: "Login", Status: "operational"})
	rcv := webhooktest.NewReceiver(t)
	app := servertest.Start(t, nil, func(o *server.Options) {
		o.RunnerInterval, o.OfficialInterval, o.Now = 20*time.Millisecond, 20*time.Millisecond, clock.Now
	})
	createWithOfficial(t, app, "chatgpt", page.URL)
	if r := app.Admin(t, "POST", "/api/v1/webhooks", map[string]any{"url": rcv.URL + "/hook", "services": []string{"chatgpt"}}); r.Status != http.StatusCreated {
		t.Fatalf("subscribe: %d %s", r.Status, r.Body)
	}
	var v officialView
	eventually(t, "the official status", func() bool {
		v = officialOf(t, app, "chatgpt")
		return v.Official != nil && v.Official.Status == "operational"
	})
	if v.Official.Description != "All Systems Operational" || v.Official.URL != page.URL || v.Official.UpdatedAt == nil || v.Official.UnavailableSince != nil {
		t.Errorf("official %+v", *v.Official)
	}

	burst(t, app, "chatgpt", 120, 0, "US")
	eventually(t, "an incident to open", func() bool { v = officialOf(t, app, "chatgpt"); return v.Incident != nil })
	if v.Incident.LeadSeconds != nil || v.Incident.OfficialAcknowledgedAt != nil {
		t.Fatalf("acknowledged before the page said anything: %+v", *v.Incident)
	}
	opened := v.Incident.OpenedAt
	if !opened.Equal(clock.Now()) || !v.Incident.StartedAt.Before(opened) {
		t.Fatalf("opened_at %v, started_at %v; want the clock's %v, and the window's start before it", opened, v.Incident.StartedAt, clock.Now())
	}
	ack := opened.Add(2 * time.Minute)
	clock.Add(2 * time.Minute) // the page turns two minutes after the incident opened
	page.Set("critical", map[string]string{"Conversations": "major_outage"}, []officialtest.Incident{{
		ID: "inc1", Name: "Elevated errors on Conversations", Status: "investigating", Impact: "critical",
		StartedAt: opened.Add(-10 * time.Minute), // the back-filled start of impact: never the acknowledgement
		Updates:   []time.Time{ack}, Components: []string{"Conversations"},
	}}, ack)

	eventually(t, "the acknowledgement", func() bool {
		v = officialOf(t, app, "chatgpt")
		return v.Incident != nil && v.Incident.LeadSeconds != nil
	})
	if *v.Incident.LeadSeconds != 120 || !v.Incident.OfficialAcknowledgedAt.Equal(ack) {
		t.Errorf("service JSON incident: lead %d, ack %v; want 120, %v", *v.Incident.LeadSeconds, v.Incident.OfficialAcknowledgedAt, ack)
	}
	if v.Official.Status != "major_outage" || v.Official.Description != "Major System Outage" {
		t.Errorf("official %+v", *v.Official)
	}
	if l := v.OfficialLead; l == nil || l.Days != 90 || l.Incidents != 1 || l.Acknowledged != 1 || l.MedianLeadSeconds == nil || *l.MedianLeadSeconds != 120 {
		t.Errorf("official_lead %+v", l)
	}
	var list struct{ Items []leadIncident }
	app.Do(t, "GET", "/api/v1/services/chatgpt/incidents", nil).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].LeadSeconds == nil || *list.Items[0].LeadSeconds != 120 {
		t.Errorf("incident list %+v", list.Items)
	}
	body := string(app.Do(t, "GET", "/s/chatgpt", nil).Body)
	for _, want := range []string{"Users reported problems 2 minutes before the official status page", "Major outage", "Major System Outage",
		`href="` + page.URL + `"`, "1 incidents from user reports, 1 acknowledged by the official status page"} {
		if !strings.Contains(body, want) && !(strings.HasPrefix(want, "1 incidents") && strings.Contains(body, "1 incident from user reports, 1 acknowledged")) {
			t.Errorf("the page lacks %q", want)
		}
	}

	var badge struct{ Message string }
	app.Do(t, "GET", "/badge/chatgpt.json?official=1", nil).JSON(t, &badge)
	if badge.Message != "outage · official: major outage" {
		t.Errorf("official badge message %q", badge.Message)
	}
	if app.Do(t, "GET", "/badge/chatgpt.json", nil).JSON(t, &badge); badge.Message != "outage" {
		t.Errorf("plain badge message %q", badge.Message)
	}

	// The receiver: incident.opened, then one incident.updated with the lead.
	var updated map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for updated == nil {
		for _, req := range rcv.Requests() {
			var ev struct {
				Type string `json:"type"`
				Data struct {
					Incident map[string]any `json:"incident"`
				} `json:"data"`
			}
			if json.Unmarshal(req.Body, &ev) == nil && ev.Type == "incident.updated" && ev.Data.Incident["lead_seconds"] != nil {
				updated = ev.Data.Incident
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no incident.updated with lead_seconds among %d deliveries", len(rcv.Requests()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if updated["lead_seconds"] != float64(120) || updated["official_acknowledged_at"] != ack.UTC().Format(time.RFC3339Nano) {
		t.Errorf("webhook incident: lead %v, ack %v; want 120, %s", updated["lead_seconds"], updated["official_acknowledged_at"], ack.UTC().Format(time.RFC3339Nano))
	}
	// Later polls record nothing more: one acknowledgement, one event.
	n := page.Requests()
	eventually(t, "more polls", func() bool { return page.Requests() > n+5 })
	if c := countRows(t, app.DBPath, "SELECT COUNT(*) FROM events WHERE type = 'incident.updated'"); c != 1 {
		t.Errorf("%d incident.updated events; want 1", c)
	}
}

// Sources that time out, answer 500 or send 10 MB: their pages say the
// official status is unavailable since the first failure, /metrics counts
// them, reports are still accepted, and the other services (Statuspage,
// incident.io and RSS sources) are shown normally. A healed source
// recovers.
func TestFailingOfficialSourcesBreakNothing(t *testing.T) {
	slow := officialtest.NewPage(t, "statuspage", "Slow", officialtest.Component{ID: "s", Name: "API", Status: "operational"})
	broken := officialtest.NewPage(t, "statuspage", "Broken", officialtest.Component{ID: "b", Name: "API", Status: "operational"})
	huge := officialtest.NewPage(t, "statuspage", "Huge", officialtest.Component{ID: "h", Name: "API", Status: "operational"})
	sp := officialtest.NewPage(t, "statuspage", "Fine", officialtest.Component{ID: "f", Name: "API", Status: "degraded_performance"})
	io := officialtest.NewPage(t, "incidentio", "OpenAI",
		officialtest.Component{ID: "01A", Name: "Conversations", Status: "full_outage"},
		officialtest.Component{ID: "01B", Name: "Login", Status: "operational"})
	feed := officialtest.NewPage(t, "feed", "Cloud")
	now := time.Now().UTC()
	feed.SetFeed([]officialtest.FeedItem{{GUID: "i1", Title: "Increased latency in us-east-1", Body: "<p><strong>Investigating</strong> - We are looking into it.</p>", Published: now.Add(-10 * time.Minute)}})
	slow.Stall(time.Minute)
	broken.Fail(http.StatusInternalServerError)
	huge.Huge(10 << 20)

	logs := &syncBuffer{}
	app := servertest.Start(t, nil, func(o *server.Options) {
		o.RunnerInterval, o.OfficialInterval, o.OfficialTimeout = 20*time.Millisecond, 50*time.Millisecond, 2*time.Second
		o.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	for slug, p := range map[string]*officialtest.Page{"slow": slow, "broken": broken, "huge": huge, "fine": sp, "openai": io, "cloud": feed} {
		createWithOfficial(t, app, slug, p.URL)
	}
	for _, slug := range []string{"slow", "broken", "huge"} {
		var v officialView
		eventually(t, slug+" unavailable", func() bool {
			v = officialOf(t, app, slug)
			return v.Official != nil && v.Official.UnavailableSince != nil
		})
		if v.Official.Status != "unknown" || v.Status != "ok" {
			t.Errorf("%s: %+v", slug, *v.Official)
		}
		body := string(app.Do(t, "GET", "/s/"+slug, nil).Body)
		if !strings.Contains(body, "Official status unavailable since") {
			t.Errorf("%s: the page does not say the official status is unavailable", slug)
		}
		if r := app.Report(t, slug, "100.70.0.1", map[string]string{"problem": "login"}); r.Status != http.StatusAccepted {
			t.Errorf("%s: a report got %d %s", slug, r.Status, r.Body)
		}
	}
	for slug, want := range map[string]string{"fine": "degraded", "openai": "major_outage", "cloud": "degraded"} {
		var v officialView
		eventually(t, slug+" official status", func() bool {
			v = officialOf(t, app, slug)
			return v.Official != nil && v.Official.Status == want
		})
		if v.Official.UnavailableSince != nil {
			t.Errorf("%s: %+v", slug, *v.Official)
		}
	}
	if huge.Requests() == 0 || slow.Requests() == 0 {
		t.Fatal("the failing pages were never asked")
	}
	metrics := string(app.Do(t, "GET", "/metrics", nil).Body)
	if !regexp.MustCompile(`(?m)^outcry_official_sources_failing 3$`).MatchString(metrics) {
		t.Errorf("metrics: %s", grepLines(metrics, "outcry_official"))
	}
	if m := regexp.MustCompile(`(?m)^outcry_official_polls_total\{result="error"\} (\d+)$`).FindStringSubmatch(metrics); m == nil || m[1] == "0" {
		t.Errorf("no failed polls counted: %s", grepLines(metrics, "outcry_official"))
	}

	// Logged once per outage of the source, however many polls failed.
	n := broken.Requests()
	eventually(t, "more failed polls", func() bool { return broken.Requests() >= n+10 })
	if c := logs.count(`msg="official status source failing`, "service=broken"); c != 1 {
		t.Errorf("the failing source was logged %d times; want once", c)
	}

	// Healed: the page shows the status again and forgets the failure.
	broken.Fail(0)
	eventually(t, "recovery", func() bool {
		v := officialOf(t, app, "broken")
		return v.Official != nil && v.Official.UnavailableSince == nil && v.Official.Status == "operational"
	})
	if body := string(app.Do(t, "GET", "/s/broken", nil).Body); strings.Contains(body, "unavailable since") {
		t.Error("the healed source's page still says unavailable")
	}
	n = broken.Requests()
	eventually(t, "more polls", func() bool { return broken.Requests() >= n+5 })
	if c := logs.count(`msg="official status source recovered"`, "service=broken"); c != 1 {
		t.Errorf("the recovery was logged %d times; want once", c)
	}
}

// A source that answers 429 with Retry-After is not asked again before
// that time (polls are every 20 ms here), nor are its other paths; one that
// keeps failing is asked less and less often; both recover when healed.
func TestOfficialSourceBackoff(t *testing.T) {
	limited := officialtest.NewPage(t, "statuspage", "Limited", officialtest.Component{ID: "l", Name: "API", Status: "operational"})
	broken := officialtest.NewPage(t, "statuspage", "Broken", officialtest.Component{ID: "b", Name: "API", Status: "operational"})
	limited.FailRetryAfter(http.StatusTooManyRequests, "2")
	broken.Fail(http.StatusInternalServerError)
	app := servertest.Start(t, nil, func(o *server.Options) {
		o.RunnerInterval, o.OfficialInterval = 20*time.Millisecond, 20*time.Millisecond
	})
	createWithOfficial(t, app, "limited", limited.URL)
	createWithOfficial(t, app, "broken", broken.URL)
	eventually(t, "the first polls", func() bool { return limited.Requests() > 0 && broken.Requests() > 0 })
	first := time.Now()
	time.Sleep(1500 * time.Millisecond) // within the 2 s the page asked for: nothing may arrive
	if n := limited.Requests(); n != 1 {
		t.Errorf("the rate-limited page was asked %d times within its Retry-After; want once", n)
	}
	// Without backoff the broken page would be polled every 20 ms (75 polls
	// in 1.5 s, each trying its candidate paths); with it, after a few
	// doublings, every 100 ms at most.
	if n, paths := broken.Requests(), int64(len(official.Candidates(broken.URL))); n > paths*(1500/100+4) {
		t.Errorf("the failing page was asked %d times in 1.5 s", n)
	}
	eventually(t, "a poll after the Retry-After", func() bool { return limited.Requests() >= 2 })
	if waited := time.Since(first); waited < 1900*time.Millisecond {
		t.Errorf("asked again after %v; Retry-After was 2 s", waited)
	}
	limited.Fail(0)
	broken.Fail(0)
	for _, slug := range []string{"limited", "broken"} {
		eventually(t, slug+" recovered", func() bool {
			v := officialOf(t, app, slug)
			return v.Official != nil && v.Official.Status == "operational" && v.Official.UnavailableSince == nil
		})
	}
}

// A changed official_status_url is a new source: polled at once, not when
// the old URL's Retry-After (an hour here) or backoff would allow, and its
// "unavailable since" is its own, not the old URL's.
func TestChangedOfficialURLIsANewSource(t *testing.T) {
	old := officialtest.NewPage(t, "statuspage", "Old", officialtest.Component{ID: "o", Name: "API", Status: "operational"})
	fixed := officialtest.NewPage(t, "statuspage", "Fixed", officialtest.Component{ID: "f", Name: "API", Status: "operational"})
	old.FailRetryAfter(http.StatusServiceUnavailable, "3600")
	fixed.Fail(http.StatusInternalServerError)
	app := servertest.Start(t, nil, func(o *server.Options) {
		o.RunnerInterval, o.OfficialInterval = 20*time.Millisecond, 50*time.Millisecond
	})
	createWithOfficial(t, app, "moved", old.URL)
	var oldSince time.Time
	eventually(t, "the old URL failing", func() bool {
		v := officialOf(t, app, "moved")
		if v.Official == nil || v.Official.UnavailableSince == nil {
			return false
		}
		oldSince = *v.Official.UnavailableSince
		return true
	})
	if r := app.Admin(t, "PATCH", "/api/v1/services/moved", map[string]any{"official_status_url": fixed.URL}); r.Status != http.StatusOK {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	eventually(t, "the new URL polled and failing since after the change", func() bool {
		v := officialOf(t, app, "moved")
		return fixed.Requests() > 0 && v.Official != nil && v.Official.URL == fixed.URL &&
			v.Official.UnavailableSince != nil && v.Official.UnavailableSince.After(oldSince)
	})
	fixed.Fail(0)
	eventually(t, "the new URL read", func() bool {
		v := officialOf(t, app, "moved")
		return v.Official != nil && v.Official.Status == "operational" && v.Official.UnavailableSince == nil
	})
}

// A source that answers 304 to conditional requests is not parsed again:
// the fake page counts the requests that carried its ETag and the 304s it
// answered; the poller counts one parse and many not_modified. The page
// resolution tried /proxy/<host> once (404 on a Statuspage page) and then
// stayed on /api/v2/summary.json.
func TestOfficialConditionalRequests(t *testing.T) {
	page := officialtest.NewPage(t, "statuspage", "Acme", officialtest.Component{ID: "a", Name: "API", Status: "operational"})
	app := servertest.Start(t, nil, func(o *server.Options) {
		o.RunnerInterval, o.OfficialInterval = 20*time.Millisecond, 20*time.Millisecond
	})
	createWithOfficial(t, app, "acme", page.URL)
	eventually(t, "304s", func() bool { return page.NotModified() >= 5 })
	if page.Conditional() < page.NotModified() {
		t.Errorf("%d conditional requests, %d answered 304", page.Conditional(), page.NotModified())
	}
	metrics := string(app.Do(t, "GET", "/metrics", nil).Body)
	ok := regexp.MustCompile(`(?m)^outcry_official_polls_total\{result="ok"\} (\d+)$`).FindStringSubmatch(metrics)
	nm := regexp.MustCompile(`(?m)^outcry_official_polls_total\{result="not_modified"\} (\d+)$`).FindStringSubmatch(metrics)
	if ok == nil || ok[1] != "1" || nm == nil {
		t.Fatalf("want one parse and many not_modified: %s", grepLines(metrics, "outcry_official_polls"))
	}
	if n, _ := strconv.Atoi(nm[1]); n < 5 {
		t.Errorf("%d not_modified polls", n)
	}
	host := strings.TrimPrefix(page.URL, "http://")
	if h := page.Hits("/proxy/" + host); h != 1 {
		t.Errorf("/proxy/%s asked %d times; want once, while resolving", host, h)
	}
	if h := page.Hits("/api/v2/summary.json"); h < 6 {
		t.Errorf("/api/v2/summary.json asked %d times", h)
	}
	// A change is read at once: the ETag changes, the body is parsed.
	page.Set("minor", map[string]string{"API": "degraded_performance"}, nil, time.Now())
	eventually(t, "the change", func() bool {
		v := officialOf(t, app, "acme")
		return v.Official != nil && v.Official.Status == "degraded"
	})
}

// The iframe embed shows the official status as the script widget does,
// and a change of it changes the embed's bytes and ETag at once: the
// moment the status JSON shows the new status, the embed does too, and a
// revalidation with the old ETag gets the new document.
func TestEmbedFollowsOfficialStatus(t *testing.T) {
	page := officialtest.NewPage(t, "statuspage", "Acme", officialtest.Component{ID: "a", Name: "API", Status: "operational"})
	app := servertest.Start(t, nil, func(o *server.Options) {
		o.RunnerInterval, o.OfficialInterval = 20*time.Millisecond, 20*time.Millisecond
	})
	createWithOfficial(t, app, "acme", page.URL)
	var before servertest.Response
	eventually(t, "the official status in the embed", func() bool {
		before = app.Do(t, "GET", "/embed/acme", nil)
		return before.Status == http.StatusOK && strings.Contains(string(before.Body), "0 reports in 15 min · official: operational</small>")
	})
	etag := before.Header.Get("ETag")
	page.Set("major", map[string]string{"API": "major_outage"}, nil, time.Now())
	eventually(t, "the new official status in the status JSON", func() bool {
		v := officialOf(t, app, "acme")
		return v.Official != nil && v.Official.Status == "major_outage"
	})
	for _, ae := range []string{"", "gzip"} {
		r := app.Do(t, "GET", "/embed/acme", nil, "If-None-Match", etag, "Accept-Encoding", ae)
		if r.Status != http.StatusOK || strings.HasPrefix(r.Header.Get("ETag"), strings.TrimSuffix(etag, `"`)) { // "tag" or "tag-gz": the old document
			t.Fatalf("Accept-Encoding %q: the embed answered %d with ETag %s (before: %s) after the official status changed", ae, r.Status, r.Header.Get("ETag"), etag)
		}
		body := r.Body
		if ae == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(zr)
		}
		if !strings.Contains(string(body), "· official: major outage</small>") {
			t.Errorf("Accept-Encoding %q: the embed does not show the new official status:\n%s", ae, r.Body)
		}
	}
	// Unavailable, as the script widget says it.
	page.Fail(http.StatusInternalServerError)
	eventually(t, "the embed to say the page cannot be read", func() bool {
		return strings.Contains(string(app.Do(t, "GET", "/embed/acme", nil).Body), "· official: unavailable</small>")
	})
}

// The admin API validates official_status_url like webhook URLs and shows
// it; PATCH changes and removes it.
func TestOfficialStatusURLAdmin(t *testing.T) {
	app := servertest.Start(t, func(env map[string]string) { env["OUTCRY_OFFICIAL_ALLOW_PRIVATE"] = "false" })
	for _, bad := range []any{"ftp://status.example.com", "status.example.com", "http://127.0.0.1/", "http://169.254.169.254/latest", "https://user:pw@status.example.com", strings.Repeat("x", 3000), 42} {
		r := app.Admin(t, "POST", "/api/v1/services", map[string]any{"slug": "acme", "name": "Acme", "problems": []string{"login"}, "official_status_url": bad})
		if r.Status != http.StatusUnprocessableEntity && r.Status != http.StatusBadRequest {
			t.Errorf("%v: %d %s; want 422", bad, r.Status, r.Body)
		}
	}
	if r := app.Do(t, "GET", "/api/v1/services/acme", nil); r.Status != http.StatusNotFound {
		t.Fatalf("a refused service was stored: %d", r.Status)
	}
	r := app.Admin(t, "POST", "/api/v1/services", map[string]any{"slug": "acme", "name": "Acme", "problems": []string{"login"},
		"official_status_url": "https://status.example.com", "official_components": []string{"API", "Website"}})
	if r.Status != http.StatusCreated || !strings.Contains(string(r.Body), `"official_status_url":"https://status.example.com","official_components":["API","Website"]`) {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	if r = app.Admin(t, "PATCH", "/api/v1/services/acme", map[string]any{"official_components": []string{"API", "api"}}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("a repeated component: %d %s", r.Status, r.Body)
	}
	if r = app.Admin(t, "PATCH", "/api/v1/services/acme", map[string]any{"official_status_url": "https://www.githubstatus.com"}); r.Status != http.StatusOK ||
		!strings.Contains(string(r.Body), `"official_status_url":"https://www.githubstatus.com","official_components":["API","Website"]`) {
		t.Errorf("patch: %d %s", r.Status, r.Body)
	}
	if r = app.Admin(t, "PATCH", "/api/v1/services/acme", map[string]any{"official_status_url": ""}); r.Status != http.StatusOK ||
		!strings.Contains(string(r.Body), `"official_status_url":null,"official_components":[]`) {
		t.Errorf("removing: %d %s", r.Status, r.Body)
	}
	if c := countRows(t, app.DBPath, "SELECT COUNT(*) FROM services WHERE slug = 'acme' AND official_status_url = ''"); c != 1 {
		t.Errorf("the removal was not stored")
	}
}

// A service whose official source is removed stops showing it.
func TestOfficialSourceRemoved(t *testing.T) {
	page := officialtest.NewPage(t, "statuspage", "Acme", officialtest.Component{ID: "a", Name: "API", Status: "operational"})
	app := servertest.Start(t, nil, func(o *server.Options) {
		o.RunnerInterval, o.OfficialInterval = 20*time.Millisecond, 20*time.Millisecond
	})
	createWithOfficial(t, app, "acme", page.URL)
	eventually(t, "the official status", func() bool { v := officialOf(t, app, "acme"); return v.Official != nil })
	if r := app.Admin(t, "PATCH", "/api/v1/services/acme", map[string]any{"official_status_url": ""}); r.Status != http.StatusOK {
		t.Fatalf("removing: %d %s", r.Status, r.Body)
	}
	eventually(t, "the official status to go", func() bool {
		v := officialOf(t, app, "acme")
		return v.Official == nil && v.OfficialLead == nil
	})
	if strings.Contains(string(app.Do(t, "GET", "/s/acme", nil).Body), "Official status") {
		t.Error("the page still shows an official status")
	}
}

// syncBuffer is a log destination tests can read while the app writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// count is how many lines contain every one of subs.
func (s *syncBuffer) count(subs ...string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, l := range strings.Split(s.b.String(), "\n") {
		all := true
		for _, sub := range subs {
			all = all && strings.Contains(l, sub)
		}
		if all {
			n++
		}
	}
	return n
}

// within is eventually with a deadline of d; detail, if given, says what
// was last seen.
func within(t *testing.T, d time.Duration, what string, f func() bool, detail ...func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			more := ""
			for _, g := range detail {
				more += "; " + g()
			}
			t.Fatalf("timed out after %s waiting for %s%s", d, what, more)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A follower (a second replica on the same PostgreSQL) shows the official
// status the leader's poller stored, and its change, without polling.
func TestFollowerShowsOfficialStatus(t *testing.T) {
	page := officialtest.NewPage(t, "statuspage", "Acme", officialtest.Component{ID: "a", Name: "API", Status: "operational"})
	env := servertest.Env(t)
	env["OUTCRY_DATABASE_URL"] = storetest.Postgres(t)
	fast := func(o *server.Options) {
		o.RunnerInterval, o.OfficialInterval = 20*time.Millisecond, 20*time.Millisecond
	}
	leader := servertest.StartEnv(t, env, fast)
	follower := servertest.StartEnv(t, env, fast)
	if !strings.Contains(string(follower.Do(t, "GET", "/metrics", nil).Body), "\noutcry_leader 0\n") {
		t.Fatal("the second replica leads")
	}
	createWithOfficial(t, leader, "acme", page.URL)
	// A follower learns of a new service (catalogue every 2 s), its status
	// (every second) and its official status (every 2 s): give a loaded
	// machine time.
	var last string
	within(t, 30*time.Second, "the follower's official status", func() bool {
		r := follower.Do(t, "GET", "/api/v1/services/acme", nil)
		last = fmt.Sprintf("follower: %d %.400s; leader: %.400s; follower metrics: %s", r.Status, r.Body,
			leader.Do(t, "GET", "/api/v1/services/acme", nil).Body, grepLines(string(follower.Do(t, "GET", "/metrics", nil).Body), "outcry_leader"))
		if r.Status != http.StatusOK {
			return false
		}
		var v officialView
		r.JSON(t, &v)
		return v.Official != nil && v.Official.Status == "operational"
	}, func() string { return last })
	asked := page.Requests()
	page.Set("major", map[string]string{"API": "partial_outage"}, nil, time.Now())
	within(t, 30*time.Second, "the follower to see the change", func() bool {
		v := officialOf(t, follower, "acme")
		return v.Official != nil && v.Official.Status == "partial_outage"
	})
	if !strings.Contains(string(follower.Do(t, "GET", "/s/acme", nil).Body), "Partial outage") {
		t.Error("the follower's page does not show the official status")
	}
	if !regexp.MustCompile(`(?m)^outcry_official_polls_total\{result="ok"\} 0$`).MatchString(string(follower.Do(t, "GET", "/metrics", nil).Body)) {
		t.Error("the follower polled")
	}
	if page.Requests() <= asked {
		t.Error("the leader stopped polling")
	}
}
