package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/server"
	"github.com/outcry/outcry/server/servertest"
)

// A Statuspage API v2 client, written from Statuspage's public API
// documentation (developer.statuspage.io, "Status API": status.json,
// summary.json, components.json, incidents.json, incidents/unresolved.json,
// scheduled-maintenances*.json), not from Outcry's code. Unknown fields are
// allowed, as a real client allows them; every field the documentation
// lists is a pointer, and need() fails when the answer left it out.

type spPage struct {
	ID        *string    `json:"id"`
	Name      *string    `json:"name"`
	URL       *string    `json:"url"`
	TimeZone  *string    `json:"time_zone"`
	UpdatedAt *time.Time `json:"updated_at"`
}

type spStatus struct {
	Indicator   *string `json:"indicator"`
	Description *string `json:"description"`
}

type spComponent struct {
	ID                 *string    `json:"id"`
	Name               *string    `json:"name"`
	Status             *string    `json:"status"`
	CreatedAt          *time.Time `json:"created_at"`
	UpdatedAt          *time.Time `json:"updated_at"`
	Position           *int       `json:"position"`
	Description        *string    `json:"description"` // may be null
	Showcase           *bool      `json:"showcase"`
	GroupID            *string    `json:"group_id"` // null when not in a group
	PageID             *string    `json:"page_id"`
	Group              *bool      `json:"group"`
	OnlyShowIfDegraded *bool      `json:"only_show_if_degraded"`
}

type spAffectedComponent struct {
	Code      *string `json:"code"`
	Name      *string `json:"name"`
	OldStatus *string `json:"old_status"`
	NewStatus *string `json:"new_status"`
}

type spIncidentUpdate struct {
	ID                 *string               `json:"id"`
	Status             *string               `json:"status"`
	Body               *string               `json:"body"`
	IncidentID         *string               `json:"incident_id"`
	CreatedAt          *time.Time            `json:"created_at"`
	UpdatedAt          *time.Time            `json:"updated_at"`
	DisplayAt          *time.Time            `json:"display_at"`
	AffectedComponents []spAffectedComponent `json:"affected_components"`
}

type spIncident struct {
	ID              *string            `json:"id"`
	Name            *string            `json:"name"`
	Status          *string            `json:"status"`
	CreatedAt       *time.Time         `json:"created_at"`
	UpdatedAt       *time.Time         `json:"updated_at"`
	MonitoringAt    *time.Time         `json:"monitoring_at"` // may be null
	ResolvedAt      *time.Time         `json:"resolved_at"`   // null while unresolved
	Impact          *string            `json:"impact"`
	Shortlink       *string            `json:"shortlink"`
	StartedAt       *time.Time         `json:"started_at"`
	PageID          *string            `json:"page_id"`
	IncidentUpdates []spIncidentUpdate `json:"incident_updates"`
	Components      []spComponent      `json:"components"`
}

type spStatusResp struct {
	Page   *spPage   `json:"page"`
	Status *spStatus `json:"status"`
}

type spSummaryResp struct {
	Page                  *spPage           `json:"page"`
	Components            *[]spComponent    `json:"components"`
	Incidents             *[]spIncident     `json:"incidents"`
	ScheduledMaintenances *[]map[string]any `json:"scheduled_maintenances"`
	Status                *spStatus         `json:"status"`
}

type spComponentsResp struct {
	Page       *spPage        `json:"page"`
	Components *[]spComponent `json:"components"`
}

type spIncidentsResp struct {
	Page      *spPage       `json:"page"`
	Incidents *[]spIncident `json:"incidents"`
}

type spMaintenancesResp struct {
	Page                  *spPage           `json:"page"`
	ScheduledMaintenances *[]map[string]any `json:"scheduled_maintenances"`
}

// need fails the test for each named field that is nil.
func need(t *testing.T, what string, fields map[string]any) {
	t.Helper()
	for name, v := range fields {
		switch p := v.(type) {
		case *string:
			if p == nil {
				t.Errorf("%s: %s is missing", what, name)
			}
		case *bool:
			if p == nil {
				t.Errorf("%s: %s is missing", what, name)
			}
		case *int:
			if p == nil {
				t.Errorf("%s: %s is missing", what, name)
			}
		case *time.Time:
			if p == nil {
				t.Errorf("%s: %s is missing", what, name)
			}
		default:
			t.Fatalf("need: %s.%s has type %T", what, name, v)
		}
	}
}

func checkPage(t *testing.T, what string, p *spPage) {
	t.Helper()
	if p == nil {
		t.Fatalf("%s: no page", what)
	}
	need(t, what+" page", map[string]any{"id": p.ID, "name": p.Name, "url": p.URL, "time_zone": p.TimeZone, "updated_at": p.UpdatedAt})
	if p.Name != nil && !strings.Contains(*p.Name, "crowd-reported") {
		t.Errorf("%s: page name %q does not say crowd-reported", what, *p.Name)
	}
}

func checkStatus(t *testing.T, what string, s *spStatus) {
	t.Helper()
	if s == nil {
		t.Fatalf("%s: no status", what)
	}
	need(t, what+" status", map[string]any{"indicator": s.Indicator, "description": s.Description})
	if s.Indicator != nil && !oneOf(*s.Indicator, "none", "minor", "major", "critical") {
		t.Errorf("%s: indicator %q", what, *s.Indicator)
	}
	if s.Description != nil && !strings.Contains(*s.Description, "crowd-reported") {
		t.Errorf("%s: description %q does not say crowd-reported", what, *s.Description)
	}
}

func checkComponents(t *testing.T, what, pageID string, cs []spComponent) map[string]spComponent {
	t.Helper()
	out := map[string]spComponent{}
	for i, c := range cs {
		need(t, what+" component", map[string]any{
			"id": c.ID, "name": c.Name, "status": c.Status, "created_at": c.CreatedAt, "updated_at": c.UpdatedAt,
			"position": c.Position, "showcase": c.Showcase, "page_id": c.PageID, "group": c.Group, "only_show_if_degraded": c.OnlyShowIfDegraded,
		})
		if t.Failed() {
			return out
		}
		if !oneOf(*c.Status, "operational", "degraded_performance", "partial_outage", "major_outage") {
			t.Errorf("%s: component %s status %q", what, *c.ID, *c.Status)
		}
		if *c.PageID != pageID || *c.Position != i+1 || c.GroupID != nil || *c.Group || *c.OnlyShowIfDegraded {
			t.Errorf("%s: component %s: page_id %q (page %q), position %d (want %d), group_id %v, group %v, only_show_if_degraded %v",
				what, *c.ID, *c.PageID, pageID, *c.Position, i+1, c.GroupID, *c.Group, *c.OnlyShowIfDegraded)
		}
		out[*c.ID] = c
	}
	return out
}

func checkIncidents(t *testing.T, what, pageID string, list []spIncident) map[string]spIncident {
	t.Helper()
	out := map[string]spIncident{}
	for _, in := range list {
		need(t, what+" incident", map[string]any{
			"id": in.ID, "name": in.Name, "status": in.Status, "created_at": in.CreatedAt, "updated_at": in.UpdatedAt,
			"impact": in.Impact, "shortlink": in.Shortlink, "started_at": in.StartedAt, "page_id": in.PageID,
		})
		if t.Failed() {
			return out
		}
		if !oneOf(*in.Status, "investigating", "identified", "monitoring", "resolved", "postmortem") || !oneOf(*in.Impact, "none", "minor", "major", "critical") {
			t.Errorf("%s: incident %s status %q impact %q", what, *in.ID, *in.Status, *in.Impact)
		}
		if *in.PageID != pageID {
			t.Errorf("%s: incident %s page_id %q, want %q", what, *in.ID, *in.PageID, pageID)
		}
		if (*in.Status == "resolved") != (in.ResolvedAt != nil) {
			t.Errorf("%s: incident %s is %s with resolved_at %v", what, *in.ID, *in.Status, in.ResolvedAt)
		}
		if len(in.IncidentUpdates) == 0 {
			t.Errorf("%s: incident %s has no updates", what, *in.ID)
		}
		var prev *time.Time
		for _, u := range in.IncidentUpdates {
			need(t, what+" incident update", map[string]any{
				"id": u.ID, "status": u.Status, "body": u.Body, "incident_id": u.IncidentID,
				"created_at": u.CreatedAt, "updated_at": u.UpdatedAt, "display_at": u.DisplayAt,
			})
			if t.Failed() {
				return out
			}
			if *u.IncidentID != *in.ID || *u.Body == "" {
				t.Errorf("%s: update %s of incident %s: incident_id %q, body %q", what, *u.ID, *in.ID, *u.IncidentID, *u.Body)
			}
			if prev != nil && u.DisplayAt.After(*prev) {
				t.Errorf("%s: incident %s: updates are not newest first", what, *in.ID)
			}
			prev = u.DisplayAt
			for _, a := range u.AffectedComponents {
				need(t, what+" affected component", map[string]any{"code": a.Code, "name": a.Name, "old_status": a.OldStatus, "new_status": a.NewStatus})
			}
		}
		for _, c := range in.Components {
			need(t, what+" incident component", map[string]any{"id": c.ID, "name": c.Name, "status": c.Status, "page_id": c.PageID, "position": c.Position})
		}
		out[*in.ID] = in
	}
	return out
}

func oneOf(s string, set ...string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}

// spView is everything a Statuspage client reads from one page.
type spView struct {
	status       spStatusResp
	summary      spSummaryResp
	components   map[string]spComponent
	order        []string // component ids in the order given
	incidents    map[string]spIncident
	newest       []string // incident ids in the order given
	unresolved   map[string]spIncident
	etagSummary  string
	pageID       string
	maintenances int
}

// readPage reads every endpoint of the page at base ("" or "/s/slug") as a
// Statuspage client would, checking what its documentation promises.
func readPage(t *testing.T, app *servertest.App, base string) spView {
	t.Helper()
	get := func(path string, v any) http.Header {
		t.Helper()
		r := app.Do(t, "GET", base+"/api/v2/"+path, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s/api/v2/%s: %d %s", base, path, r.Status, r.Body)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
		if r.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(r.Header.Get("Cache-Control"), "max-age=30") {
			t.Errorf("%s: CORS %q, Cache-Control %q", path, r.Header.Get("Access-Control-Allow-Origin"), r.Header.Get("Cache-Control"))
		}
		if err := json.Unmarshal(r.Body, v); err != nil {
			t.Fatalf("%s: %v: %s", path, err, r.Body)
		}
		return r.Header
	}
	var v spView
	get("status.json", &v.status)
	checkPage(t, "status.json", v.status.Page)
	checkStatus(t, "status.json", v.status.Status)
	v.pageID = *v.status.Page.ID

	v.etagSummary = get("summary.json", &v.summary).Get("Etag")
	checkPage(t, "summary.json", v.summary.Page)
	checkStatus(t, "summary.json", v.summary.Status)
	if v.summary.Components == nil || v.summary.Incidents == nil || v.summary.ScheduledMaintenances == nil {
		t.Fatalf("summary.json lacks components, incidents or scheduled_maintenances")
	}
	checkComponents(t, "summary.json", v.pageID, *v.summary.Components)
	checkIncidents(t, "summary.json", v.pageID, *v.summary.Incidents)

	var comps spComponentsResp
	get("components.json", &comps)
	checkPage(t, "components.json", comps.Page)
	if comps.Components == nil {
		t.Fatal("components.json: no components")
	}
	v.components = checkComponents(t, "components.json", v.pageID, *comps.Components)
	for _, c := range *comps.Components {
		v.order = append(v.order, *c.ID)
	}

	var inc spIncidentsResp
	get("incidents.json", &inc)
	checkPage(t, "incidents.json", inc.Page)
	if inc.Incidents == nil {
		t.Fatal("incidents.json: no incidents")
	}
	v.incidents = checkIncidents(t, "incidents.json", v.pageID, *inc.Incidents)
	for _, in := range *inc.Incidents {
		v.newest = append(v.newest, *in.ID)
	}

	var unres spIncidentsResp
	get("incidents/unresolved.json", &unres)
	checkPage(t, "incidents/unresolved.json", unres.Page)
	if unres.Incidents == nil {
		t.Fatal("incidents/unresolved.json: no incidents")
	}
	v.unresolved = checkIncidents(t, "incidents/unresolved.json", v.pageID, *unres.Incidents)
	for id, in := range v.unresolved {
		if *in.Status == "resolved" {
			t.Errorf("unresolved.json lists resolved incident %s", id)
		}
	}

	for _, p := range []string{"scheduled-maintenances.json", "scheduled-maintenances/upcoming.json", "scheduled-maintenances/active.json"} {
		var m spMaintenancesResp
		get(p, &m)
		checkPage(t, p, m.Page)
		if m.ScheduledMaintenances == nil {
			t.Fatalf("%s: no scheduled_maintenances", p)
		}
		v.maintenances += len(*m.ScheduledMaintenances)
	}
	return v
}

// TestStatuspageClientReadsOutcry: a Statuspage client reads the catalogue
// page and one service's page before, during and after an incident.
func TestStatuspageClientReadsOutcry(t *testing.T) {
	clock := servertest.NewClock(servertest.Now().Truncate(15 * time.Minute).Add(7 * time.Minute))
	app := servertest.Start(t, nil, func(o *server.Options) { o.RunnerInterval = 20 * time.Millisecond; o.Now = clock.Now })
	for slug, name := range map[string]string{"chatgpt": "ChatGPT", "claude": "Claude"} {
		if r := app.Admin(t, "POST", "/api/v1/services", map[string]any{"slug": slug, "name": name, "problems": []string{"login", "app"}}); r.Status != http.StatusCreated {
			t.Fatalf("creating %s: %d %s", slug, r.Status, r.Body)
		}
	}
	app.WaitTicks(t, 2)

	// Before: nothing wrong anywhere.
	all := readPage(t, app, "")
	if *all.status.Status.Indicator != "none" || len(all.components) != 2 || len(all.unresolved) != 0 || len(all.incidents) != 0 || all.maintenances != 0 {
		t.Fatalf("before: indicator %s, %d components, %d unresolved, %d incidents, %d maintenances",
			*all.status.Status.Indicator, len(all.components), len(all.unresolved), len(all.incidents), all.maintenances)
	}
	for id, c := range all.components {
		if *c.Status != "operational" {
			t.Errorf("before: component %s is %s", id, *c.Status)
		}
	}
	one := readPage(t, app, "/s/chatgpt")
	if *one.status.Status.Indicator != "none" || len(one.components) != 1 || *one.components["chatgpt"].Name != "ChatGPT" || one.pageID == all.pageID {
		t.Fatalf("before, ChatGPT's page: indicator %s, components %v, page %q", *one.status.Status.Indicator, one.order, one.pageID)
	}
	if r := app.Do(t, "GET", "/api/v2/summary.json", nil, "If-None-Match", all.etagSummary); r.Status != http.StatusNotModified {
		t.Errorf("summary.json revalidated with its ETag: %d, want 304", r.Status)
	}
	if r := app.Do(t, "GET", "/s/nope/api/v2/status.json", nil); r.Status != http.StatusNotFound || !strings.Contains(string(r.Body), `"not_found"`) {
		t.Errorf("an unknown service's page: %d %s", r.Status, r.Body)
	}

	// During: a burst of reporters opens an outage of ChatGPT.
	burst(t, app, "chatgpt", 120, 0, "US")
	eventually(t, "the incident on the Statuspage API", func() bool {
		var u spIncidentsResp
		app.Do(t, "GET", "/api/v2/incidents/unresolved.json", nil).JSON(t, &u)
		return u.Incidents != nil && len(*u.Incidents) == 1
	})
	all = readPage(t, app, "")
	if *all.status.Status.Indicator != "major" {
		t.Errorf("during: catalogue indicator %s, want major (one service in an outage)", *all.status.Status.Indicator)
	}
	if all.order[0] != "chatgpt" || *all.components["chatgpt"].Status != "major_outage" || *all.components["claude"].Status != "operational" {
		t.Errorf("during: components %v: chatgpt %s, claude %s", all.order, *all.components["chatgpt"].Status, *all.components["claude"].Status)
	}
	if len(all.unresolved) != 1 || len(all.incidents) != 1 || len(*all.summary.Incidents) != 1 {
		t.Fatalf("during: %d unresolved, %d incidents, %d in the summary; want 1 each", len(all.unresolved), len(all.incidents), len(*all.summary.Incidents))
	}
	var in spIncident
	for _, in = range all.unresolved {
	}
	if *in.Name != "Users report problems with ChatGPT" || *in.Status != "investigating" || *in.Impact != "critical" ||
		!strings.HasSuffix(*in.Shortlink, "/s/chatgpt") || in.ResolvedAt != nil || len(in.Components) != 1 || *in.Components[0].ID != "chatgpt" {
		t.Errorf("during: incident %+v", in)
	}
	u := in.IncidentUpdates[0]
	if *u.Status != "investigating" || !strings.Contains(*u.Body, "reports of problems") || !strings.Contains(*u.Body, "login") ||
		len(u.AffectedComponents) != 1 || *u.AffectedComponents[0].Code != "chatgpt" || *u.AffectedComponents[0].NewStatus != "major_outage" {
		t.Errorf("during: update %q %q %+v", *u.Status, *u.Body, u.AffectedComponents)
	}
	if _, ok := all.incidents[*in.ID]; !ok {
		t.Errorf("during: incidents.json lacks unresolved incident %s", *in.ID)
	}
	var api struct {
		Incident struct {
			ID uint64 `json:"id"`
		} `json:"incident"`
	}
	app.Do(t, "GET", "/api/v1/services/chatgpt", nil).JSON(t, &api)
	if *in.ID != strings.TrimSpace(jsonNumber(api.Incident.ID)) {
		t.Errorf("during: Statuspage incident id %s, Outcry incident id %d", *in.ID, api.Incident.ID)
	}
	one = readPage(t, app, "/s/chatgpt")
	if *one.status.Status.Indicator != "critical" || *one.components["chatgpt"].Status != "major_outage" || len(one.unresolved) != 1 || len(one.incidents) != 1 {
		t.Errorf("during, ChatGPT's page: indicator %s, component %s, %d unresolved, %d incidents",
			*one.status.Status.Indicator, *one.components["chatgpt"].Status, len(one.unresolved), len(one.incidents))
	}
	if other := readPage(t, app, "/s/claude"); *other.status.Status.Indicator != "none" || len(other.incidents) != 0 {
		t.Errorf("during, Claude's page: indicator %s, %d incidents", *other.status.Status.Indicator, len(other.incidents))
	}

	// After: quiet for longer than the recovery span resolves it.
	for i := 0; i < 8; i++ {
		clock.Add(6 * time.Minute)
		app.WaitTicks(t, 2)
	}
	eventually(t, "the incident to resolve on the Statuspage API", func() bool {
		var u spIncidentsResp
		app.Do(t, "GET", "/api/v2/incidents/unresolved.json", nil).JSON(t, &u)
		return u.Incidents != nil && len(*u.Incidents) == 0
	})
	all = readPage(t, app, "")
	done, ok := all.incidents[*in.ID]
	if *all.status.Status.Indicator != "none" || !ok || *done.Status != "resolved" || done.ResolvedAt == nil || len(done.IncidentUpdates) != 2 ||
		*done.IncidentUpdates[0].Status != "resolved" || *done.IncidentUpdates[1].Status != "investigating" ||
		*done.IncidentUpdates[0].AffectedComponents[0].NewStatus != "operational" {
		t.Errorf("after: indicator %s, incident %+v", *all.status.Status.Indicator, done)
	}
	if one = readPage(t, app, "/s/chatgpt"); len(one.incidents) != 1 || *one.components["chatgpt"].Status != "operational" {
		t.Errorf("after, ChatGPT's page: %d incidents, component %s", len(one.incidents), *one.components["chatgpt"].Status)
	}
}

func jsonNumber(n uint64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
