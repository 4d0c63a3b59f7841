package server_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/rss"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server"
	"github.com/outcry/outcry/server/servertest"
)

// wellFormed fails unless body is well-formed XML (every token, to the end).
func wellFormed(t *testing.T, name string, body []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v\n%s", name, err, body)
		}
	}
}

// fetchFeed gets a feed, checks its headers and XML, and parses it with a
// real feed parser.
func fetchFeed(t *testing.T, app *servertest.App, path, ctype string) (*gofeed.Feed, servertest.Response) {
	t.Helper()
	r := app.Do(t, "GET", path, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("%s: %d %s", path, r.Status, r.Body)
	}
	if got := r.Header.Get("Content-Type"); got != ctype+"; charset=utf-8" {
		t.Errorf("%s: Content-Type %q", path, got)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "public, max-age=60" || r.Header.Get("ETag") == "" {
		t.Errorf("%s: Cache-Control %q, ETag %q", path, cc, r.Header.Get("ETag"))
	}
	wellFormed(t, path, r.Body)
	f, err := gofeed.NewParser().ParseString(string(r.Body))
	if err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
	return f, r
}

// TestFeeds: Atom and RSS of incident transitions, for all services and per
// service, read by a real feed parser: one item per event, newest first,
// stable tag ids under OUTCRY_PUBLIC_URL's host, links to the incident on
// its page, 304 on a matching If-None-Match, the same ids and ETag after a
// restart, and a new incident (opened by a burst through HTTP) changes
// the ETag and comes first. Pages link the feeds in their head.
func TestFeeds(t *testing.T) {
	clock := servertest.NewClock(servertest.Now().Truncate(15 * time.Minute).Add(7*time.Minute + 30*time.Second))
	opts := func(o *server.Options) { o.RunnerInterval = 20 * time.Millisecond; o.Now = clock.Now }
	env := servertest.Env(t)
	env["OUTCRY_PUBLIC_URL"] = "https://status.example.org"
	app := servertest.StartEnv(t, env, opts)
	for _, s := range []string{"alpha", "bravo", "charlie"} {
		app.CreateService(t, s)
	}
	if err := app.Stop(); err != nil {
		t.Fatal(err)
	}
	t0 := clock.Now().Add(-8 * time.Hour)
	ids := plantIncidents(t, app.DBPath, []planted{
		{slug: "alpha", level: models.LevelOutage, start: t0, resolved: time.Hour},
		{slug: "bravo", scope: "KR", level: models.LevelWarning, start: t0.Add(2 * time.Hour), resolved: 30 * time.Minute},
		// Open, and begun minutes before the standing clock: the restored
		// incident cannot be resolved (and add an item) while the test reads.
		{slug: "alpha", level: models.LevelWarning, start: clock.Now().Add(-3 * time.Minute)},
	})
	app = servertest.StartEnv(t, env, opts)

	idRE := regexp.MustCompile(`^tag:status\.example\.org,2026:incident/(\d+)/event/evt_[0-9A-HJKMNP-TV-Z]{26}$`)
	atom, first := fetchFeed(t, app, "/feed.atom", "application/atom+xml")
	if atom.FeedType != "atom" || len(atom.Items) != 5 {
		t.Fatalf("the Atom feed: %s with %d items, want 5 (3 opened, 2 resolved)", atom.FeedType, len(atom.Items))
	}
	var guids []string
	for i, it := range atom.Items {
		m := idRE.FindStringSubmatch(it.GUID)
		if m == nil {
			t.Errorf("item %d id %q", i, it.GUID)
			continue
		}
		guids = append(guids, it.GUID)
		if !strings.HasPrefix(it.Link, "https://status.example.org/s/") || !strings.HasSuffix(it.Link, "#incident-"+m[1]) {
			t.Errorf("item %d links to %q", i, it.Link)
		}
		if i > 0 && it.UpdatedParsed.After(*atom.Items[i-1].UpdatedParsed) {
			t.Errorf("item %d (%s) is newer than the one before it", i, it.UpdatedParsed)
		}
	}
	if top := atom.Items[0]; !strings.HasPrefix(top.Title, "[Possible problems] Alpha: user reports 16× normal") ||
		!strings.Contains(top.Description, "40 reports where 2.5 were expected, over 5 minutes") || !strings.Contains(top.Description, "Login 75%") {
		t.Errorf("the newest item: %q %q", top.Title, top.Description)
	}
	if kr := atom.Items[1]; kr.Title != "[Resolved] Bravo in South Korea: reports are back to normal" {
		t.Errorf("the regional resolution: %q", kr.Title)
	}
	if len(guids) == 5 && (!strings.Contains(guids[0], "incident/"+utoa(ids[2])+"/") || !strings.Contains(guids[4], "incident/"+utoa(ids[0])+"/")) {
		t.Errorf("ids %v: the newest is not incident %d's opening or the oldest not incident %d's", guids, ids[2], ids[0])
	}
	t.Logf("an Atom entry:\n%s", atomEntry(string(first.Body)))

	rssFeed, rr := fetchFeed(t, app, "/feed.rss", "application/rss+xml")
	if rssFeed.FeedType != "rss" || len(rssFeed.Items) != 5 {
		t.Fatalf("the RSS feed: %s with %d items", rssFeed.FeedType, len(rssFeed.Items))
	}
	raw, err := (&rss.Parser{}).Parse(bytes.NewReader(rr.Body))
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range raw.Items {
		if it.GUID == nil || it.GUID.Value != guids[i] || it.GUID.IsPermalink != "false" || it.PubDate == "" {
			t.Errorf("RSS item %d: guid %+v pubDate %q, want %s, not a permalink", i, it.GUID, it.PubDate, guids[i])
		}
	}

	// Per service, the limit, and the errors.
	own, _ := fetchFeed(t, app, "/s/alpha/feed.atom", "application/atom+xml")
	if len(own.Items) != 3 || own.Title != "Outcry: incidents at Alpha" {
		t.Errorf("alpha's feed: %q with %d items, want 3", own.Title, len(own.Items))
	}
	for _, it := range own.Items {
		if !strings.Contains(it.Link, "/s/alpha#incident-") {
			t.Errorf("alpha's feed has %q", it.Link)
		}
	}
	if short, _ := fetchFeed(t, app, "/s/bravo/feed.rss?limit=1", "application/rss+xml"); len(short.Items) != 1 || short.Items[0].GUID != guids[1] {
		t.Errorf("bravo's feed, limit 1: %+v", short.Items)
	}
	for _, bad := range []string{"/feed.atom?limit=0", "/feed.rss?limit=201", "/s/alpha/feed.atom?limit=x"} {
		if r := app.Do(t, "GET", bad, nil); r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `"code":"invalid","message":"limit must be a whole number from 1 to 200"`) {
			t.Errorf("%s: %d %s", bad, r.Status, r.Body)
		}
	}
	if r := app.Do(t, "GET", "/s/nope/feed.rss", nil); r.Status != http.StatusNotFound || !strings.Contains(string(r.Body), `"error":{"code":"not_found"`) {
		t.Errorf("an unknown service's feed: %d %s", r.Status, r.Body)
	}

	// Revalidation: 304 while nothing changed, across ticks.
	etag := first.Header.Get("ETag")
	app.WaitTicks(t, 2)
	if r := app.Do(t, "GET", "/feed.atom", nil, "If-None-Match", etag); r.Status != http.StatusNotModified || len(r.Body) != 0 {
		t.Errorf("If-None-Match %s: %d", etag, r.Status)
	}

	// Autodiscovery in the pages' heads.
	home := string(app.Do(t, "GET", "/", nil).Body)
	page := string(app.Do(t, "GET", "/s/alpha", nil).Body)
	for _, want := range []string{`<link rel="alternate" type="application/atom+xml" title="Incidents at every service (Atom)" href="/feed.atom">`,
		`<link rel="alternate" type="application/rss+xml" title="Incidents at every service (RSS)" href="/feed.rss">`} {
		if !strings.Contains(home, want) {
			t.Errorf("the home page lacks %s", want)
		}
	}
	for _, want := range []string{`type="application/atom+xml" title="Incidents at Alpha (Atom)" href="/s/alpha/feed.atom"`, `href="/s/alpha/feed.rss"`} {
		if !strings.Contains(page, want) {
			t.Errorf("alpha's page lacks %s", want)
		}
	}

	// A restart: the same ids, the same body.
	if err := app.Stop(); err != nil {
		t.Fatal(err)
	}
	app = servertest.StartEnv(t, env, opts)
	again, r2 := fetchFeed(t, app, "/feed.atom", "application/atom+xml")
	for i, it := range again.Items {
		if i >= len(guids) || it.GUID != guids[i] {
			t.Errorf("after a restart item %d is %q", i, it.GUID)
		}
	}
	if r2.Header.Get("ETag") != etag {
		t.Errorf("after a restart the ETag is %s, was %s", r2.Header.Get("ETag"), etag)
	}

	// A new incident: charlie's users report a problem.
	burst(t, app, "charlie", 120, 0, "US")
	eventually(t, "charlie's incident to open", func() bool { return view(t, app, "charlie").Incident != nil })
	var fresh *gofeed.Feed
	eventually(t, "the feed to show it", func() bool {
		r := app.Do(t, "GET", "/feed.atom", nil, "If-None-Match", etag)
		if r.Status != http.StatusOK {
			return false
		}
		f, err := gofeed.NewParser().ParseString(string(r.Body))
		if err != nil {
			t.Fatal(err)
		}
		fresh = f
		return r.Header.Get("ETag") != etag
	})
	if len(fresh.Items) != 6 || !strings.HasPrefix(fresh.Items[0].Title, "[Outage] Charlie: user reports") || fresh.Items[1].GUID != guids[0] {
		t.Errorf("after charlie's incident: %d items, first %q", len(fresh.Items), fresh.Items[0].Title)
	}
}

func atomEntry(atom string) string {
	i, j := strings.Index(atom, "<entry>"), strings.Index(atom, "</entry>")
	if i < 0 || j < i {
		return atom
	}
	return atom[i : j+len("</entry>")]
}
