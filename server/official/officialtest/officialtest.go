// Package officialtest serves fake official status pages on 127.0.0.1 for
// tests: Atlassian Statuspage's /api/v2/summary.json, incident.io's native
// /proxy/<host> summary and an RSS feed, in the shapes their documentation
// and public pages show (recorded shapes, with the fields Outcry reads and
// the ones around them). A page's state is set by the test; the server
// answers conditional requests (ETag, Last-Modified → 304) and counts what
// it was asked. Test helper only; never imported by the binary.
package officialtest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Component is one component of a fake page.
type Component struct {
	ID     string
	Name   string
	Status string // Statuspage: operational, degraded_performance, partial_outage, major_outage, under_maintenance; incident.io: …, full_outage
}

// Incident is one unresolved incident of a fake page.
type Incident struct {
	ID         string
	Name       string
	Status     string // investigating, identified, monitoring (incident.io: fixing…)
	Impact     string // Statuspage: none, minor, major, critical; incident.io: degraded_performance, partial_outage, full_outage
	StartedAt  time.Time
	Updates    []time.Time // when each update was published (Statuspage incident_updates[].created_at)
	Components []string    // names of the components it affects
}

// Page is a fake official status page.
type Page struct {
	Srv *httptest.Server
	URL string // the page root, e.g. http://127.0.0.1:1234

	mu         sync.Mutex
	name       string
	indicator  string
	comps      []Component
	incidents  []Incident
	updatedAt  time.Time
	feedItems  []FeedItem
	delay      time.Duration
	status     int    // answer this status instead of the body (0: none)
	retryAfter string // the Retry-After header sent with status
	huge       int    // answer this many bytes of padding
	etags      bool   // send ETag and honour If-None-Match
	lastMod    bool   // send Last-Modified and honour If-Modified-Since
	hideSP     bool   // 404 on /api/v2/ (an incident.io page)
	hideIO     bool   // 404 on /proxy/ (a Statuspage page)
	hideFeed   bool   // 404 on the feeds
	requests   atomic.Int64
	conditonal atomic.Int64 // requests that carried If-None-Match or If-Modified-Since
	notMod     atomic.Int64 // 304s answered
	paths      sync.Map     // path → *atomic.Int64
}

// FeedItem is one item of the fake RSS feed.
type FeedItem struct {
	GUID      string
	Title     string
	Body      string
	Published time.Time
}

// NewPage starts a fake page with the given operational components. Kind
// says which endpoints it has: "statuspage" (/api/v2/*, /history.rss),
// "incidentio" (/proxy/<host>, /feed.rss) or "feed" (/feed.rss only).
func NewPage(t testing.TB, kind, name string, comps ...Component) *Page {
	p := &Page{name: name, indicator: "none", comps: comps, etags: true, lastMod: true,
		updatedAt: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	switch kind {
	case "statuspage":
		p.hideIO = true
	case "incidentio":
		p.hideSP = true
	case "feed":
		p.hideSP, p.hideIO = true, true
	default:
		t.Fatalf("officialtest: unknown kind %q", kind)
	}
	p.Srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.Srv.URL
	t.Cleanup(p.Srv.Close)
	return p
}

// Set changes the page: its components' statuses (by name), its overall
// indicator (Statuspage: none, minor, major, critical), its unresolved
// incidents and its update time.
func (p *Page) Set(indicator string, status map[string]string, incidents []Incident, updatedAt time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.indicator = indicator
	for i := range p.comps {
		if s, ok := status[p.comps[i].Name]; ok {
			p.comps[i].Status = s
		}
	}
	p.incidents = incidents
	p.updatedAt = updatedAt.UTC()
}

// SetFeed replaces the feed's items.
func (p *Page) SetFeed(items []FeedItem) {
	p.mu.Lock()
	p.feedItems = items
	p.mu.Unlock()
}

// Fail makes the page answer status (500…) with no body; 0 heals it.
func (p *Page) Fail(status int) { p.FailRetryAfter(status, "") }

// FailRetryAfter is Fail with a Retry-After header (429, 503).
func (p *Page) FailRetryAfter(status int, retryAfter string) {
	p.mu.Lock()
	p.status, p.retryAfter = status, retryAfter
	p.mu.Unlock()
}

// Stall makes the page wait d before answering (a timeout); 0 heals it.
func (p *Page) Stall(d time.Duration) { p.mu.Lock(); p.delay = d; p.mu.Unlock() }

// Huge makes the page answer n bytes (a body over the size cap); 0 heals it.
func (p *Page) Huge(n int) { p.mu.Lock(); p.huge = n; p.mu.Unlock() }

// Requests is how many requests the page got; Conditional how many carried
// a validator; NotModified how many it answered 304.
func (p *Page) Requests() int64    { return p.requests.Load() }
func (p *Page) Conditional() int64 { return p.conditonal.Load() }
func (p *Page) NotModified() int64 { return p.notMod.Load() }

// Hits is how many requests asked for path.
func (p *Page) Hits(path string) int64 {
	if v, ok := p.paths.Load(path); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

func (p *Page) serve(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	v, _ := p.paths.LoadOrStore(r.URL.Path, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	p.mu.Lock()
	delay, status, huge, retry := p.delay, p.status, p.huge, p.retryAfter
	p.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if status != 0 {
		if retry != "" {
			w.Header().Set("Retry-After", retry)
		}
		w.WriteHeader(status)
		return
	}
	if huge > 0 {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"page":{"id":"x"},"status":{"indicator":"none","description":"`))
		chunk := []byte(strings.Repeat("x", 64<<10))
		for n := 0; n < huge; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		_, _ = w.Write([]byte(`"}}`))
		return
	}
	var body []byte
	ctype := "application/json; charset=utf-8"
	host := strings.TrimPrefix(p.URL, "http://")
	switch {
	case !p.hideSP && (r.URL.Path == "/api/v2/summary.json" || r.URL.Path == "/api/v2/status.json"):
		body = p.statuspageJSON()
	case !p.hideIO && r.URL.Path == "/proxy/"+host:
		body = p.incidentIOJSON()
	case !p.hideFeed && (r.URL.Path == "/feed.rss" || (!p.hideSP && r.URL.Path == "/history.rss")):
		body, ctype = p.rss(), "application/rss+xml; charset=utf-8"
	case r.URL.Path == "/":
		body, ctype = []byte("<!doctype html><title>"+p.name+" Status</title><p>A status page."), "text/html; charset=utf-8"
	default:
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256(body)
	etag := `W/"` + hex.EncodeToString(sum[:8]) + `"`
	p.mu.Lock()
	lm := p.updatedAt.Format(http.TimeFormat)
	etags, lastMod := p.etags, p.lastMod
	p.mu.Unlock()
	inm, ims := r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")
	if inm != "" || ims != "" {
		p.conditonal.Add(1)
	}
	if etags {
		w.Header().Set("ETag", etag)
	}
	if lastMod {
		w.Header().Set("Last-Modified", lm)
	}
	if (etags && inm == etag) || (!etags && lastMod && ims == lm) {
		p.notMod.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", ctype)
	_, _ = w.Write(body)
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// statuspageJSON is /api/v2/summary.json as Statuspage documents it
// (page, components, incidents with incident_updates, scheduled
// maintenances, status).
func (p *Page) statuspageJSON() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	type m = map[string]any
	var comps []m
	byName := map[string]m{}
	for i, c := range p.comps {
		cm := m{"id": c.ID, "name": c.Name, "status": c.Status, "created_at": "2017-01-31T20:05:05.370Z",
			"updated_at": ts(p.updatedAt), "position": i + 1, "description": nil, "showcase": false, "start_date": nil,
			"group_id": nil, "page_id": "pg00000001", "group": false, "only_show_if_degraded": false}
		comps = append(comps, cm)
		byName[c.Name] = cm
	}
	incs := []m{}
	for _, in := range p.incidents {
		var ups []m
		var affected []m
		var ic []m
		for _, n := range in.Components {
			if c, ok := byName[n]; ok {
				ic = append(ic, c)
				affected = append(affected, m{"code": c["id"], "name": n, "old_status": "operational", "new_status": c["status"]})
			}
		}
		// Newest first, as Statuspage lists them.
		for i := len(in.Updates) - 1; i >= 0; i-- {
			u := in.Updates[i]
			ups = append(ups, m{"id": fmt.Sprintf("%s-u%d", in.ID, i), "status": in.Status,
				"body": "We are investigating reports of degraded performance.", "incident_id": in.ID,
				"created_at": ts(u), "updated_at": ts(u), "display_at": ts(u), "affected_components": affected,
				"deliver_notifications": true, "custom_tweet": nil, "tweet_id": nil})
		}
		incs = append(incs, m{"id": in.ID, "name": in.Name, "status": in.Status, "created_at": ts(in.Updates[0]),
			"updated_at": ts(in.Updates[len(in.Updates)-1]), "monitoring_at": nil, "resolved_at": nil, "impact": in.Impact,
			"shortlink": "https://stspg.io/" + in.ID, "started_at": ts(in.StartedAt), "page_id": "pg00000001",
			"incident_updates": ups, "components": ic})
	}
	desc := map[string]string{"none": "All Systems Operational", "minor": "Minor Service Outage", "major": "Partial System Outage", "critical": "Major System Outage"}[p.indicator]
	b, _ := json.Marshal(m{
		"page":       m{"id": "pg00000001", "name": p.name, "url": p.URL, "time_zone": "Etc/UTC", "updated_at": ts(p.updatedAt)},
		"components": comps, "incidents": incs, "scheduled_maintenances": []m{},
		"status": m{"indicator": p.indicator, "description": desc},
	})
	return b
}

// incidentIOJSON is incident.io's /proxy/<host> summary: components,
// structure (groups), affected_components, ongoing_incidents,
// in-progress and scheduled maintenances, under "summary".
func (p *Page) incidentIOJSON() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	type m = map[string]any
	var comps, members, affected []m
	ids := map[string]string{}
	for _, c := range p.comps {
		ids[c.Name] = c.ID
		comps = append(comps, m{"id": c.ID, "name": c.Name, "description": "", "status_page_id": "01JSP0000000000000000000"})
		members = append(members, m{"component_id": c.ID, "name": c.Name, "hidden": false, "data_available_since": "2024-01-01T00:00:00Z"})
		if c.Status != "operational" {
			affected = append(affected, m{"component_id": c.ID, "status": c.Status})
		}
	}
	ongoing := []m{}
	for _, in := range p.incidents {
		var ac []m
		for _, n := range in.Components {
			ac = append(ac, m{"id": ids[n], "name": n, "status": in.Impact})
		}
		ongoing = append(ongoing, m{"id": in.ID, "name": in.Name, "status": in.Status, "published_at": ts(in.Updates[0]),
			"last_update_at": ts(in.Updates[len(in.Updates)-1]), "current_worst_impact": in.Impact, "affected_components": ac,
			"last_update_message": "We are investigating elevated error rates."})
	}
	b, _ := json.Marshal(m{"summary": m{
		"id": "01JSP0000000000000000000", "name": p.name, "subpath": "", "support_url": "", "public_url": p.URL,
		"components": comps, "affected_components": nonNilM(affected),
		"structure":         m{"id": "01JST0000000000000000000", "items": []m{{"group": m{"id": "01JGR0000000000000000000", "name": p.name, "hidden": false, "components": members}}}},
		"ongoing_incidents": ongoing, "in_progress_maintenances": []m{}, "scheduled_maintenances": []m{},
	}})
	return b
}

func nonNilM(s []map[string]any) []map[string]any {
	if s == nil {
		return []map[string]any{}
	}
	return s
}

// rss is a status feed in the shape of Statuspage's /history.rss.
func (p *Page) rss() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	var sb strings.Builder
	sb.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<rss version="2.0"><channel><title>` + p.name + ` Status - Incident History</title><link>` + p.URL + `</link><description>Statuspage</description><pubDate>` + p.updatedAt.Format(time.RFC1123Z) + `</pubDate>`)
	for _, it := range p.feedItems {
		fmt.Fprintf(&sb, `<item><title>%s</title><description>%s</description><pubDate>%s</pubDate><link>%s/incidents/%s</link><guid>%s/incidents/%s</guid></item>`,
			it.Title, xmlEscape(it.Body), it.Published.Format(time.RFC1123Z), p.URL, it.GUID, p.URL, it.GUID)
	}
	sb.WriteString(`</channel></rss>`)
	return []byte(sb.String())
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
