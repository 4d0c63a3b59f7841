package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/models"
)

// A Statuspage-compatible read API, so tools that read Atlassian Statuspage
// (/api/v2/status.json and friends: CodexBar, Homepage widgets, bots,
// dashboards) read Outcry unchanged. Two kinds of page:
//
//   - the whole catalogue at /api/v2/…: each service is a component, each
//     incident an incident;
//   - one service at /s/{slug}/api/v2/…: point a Statuspage client at
//     https://OUTCRY_HOST/s/chatgpt and it reads that service alone.
//
// Everything is rendered from the status snapshot once per snapshot (the
// catalogue) or per version of the service, and served from the render
// cache; the only database reads are incidents.json (the latest 50
// incidents, once per snapshot or service version).
//
// Bounds: the catalogue page lists at most spMaxComponents components —
// the services with problems now (worst first, most reports first), then
// the busiest of the rest — and at most spMaxComponents unresolved
// incidents. Statuspage pages have at most a few hundred components, and
// clients expect a page they can fetch every minute; with 50,000 services
// the whole catalogue is the paginated /api/v1/services.

// RecentIncidentLister lists the latest incidents of every service, newest
// first (implemented by server/store).
type RecentIncidentLister interface {
	RecentIncidents(ctx context.Context, limit int) ([]models.Incident, error)
}

const (
	spMaxComponents   = 250 // components (and unresolved incidents) of the catalogue page
	spIncidents       = 50  // incidents.json: the latest 50, as Statuspage answers
	spCriticalOutages = 3   // the catalogue page is "critical" when this many services are in a major outage at once
	spPageID          = "outcry"
	spTimeZone        = "Etc/UTC"
	spRenderTimeout   = 5 * time.Second // bound on the database read of one rendering
)

// Statuspage's component statuses, incident statuses, impacts and indicators.
const (
	spOperational = "operational"
	spDegraded    = "degraded_performance"
	spPartial     = "partial_outage"
	spMajor       = "major_outage"
)

// spEndpoints are the paths below /api/v2/ that Outcry answers.
var spEndpoints = []string{
	"status", "summary", "components", "incidents", "incidents/unresolved",
	"scheduled-maintenances", "scheduled-maintenances/upcoming", "scheduled-maintenances/active",
}

// spCC: Statuspage clients poll about once a minute; a shared cache may keep
// an answer 30 s (as Cachet does) and serve it stale while it revalidates.
var spCC = []string{"public, max-age=30, stale-while-revalidate=60"}

// SPPage is Statuspage's page object.
type SPPage struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	TimeZone  string    `json:"time_zone"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SPStatus is the page's rolled-up status.
type SPStatus struct {
	Indicator   string `json:"indicator"` // none, minor, major, critical
	Description string `json:"description"`
}

// SPComponent is one service as a Statuspage component.
type SPComponent struct {
	ID                 string    `json:"id"`
	Name               string    `json:"name"`
	Status             string    `json:"status"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
	Position           int       `json:"position"`
	Description        string    `json:"description"`
	Showcase           bool      `json:"showcase"`
	StartDate          *string   `json:"start_date"`
	GroupID            *string   `json:"group_id"`
	PageID             string    `json:"page_id"`
	Group              bool      `json:"group"`
	OnlyShowIfDegraded bool      `json:"only_show_if_degraded"`
}

// SPAffected is a component an incident update changed.
type SPAffected struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	OldStatus string `json:"old_status"`
	NewStatus string `json:"new_status"`
}

// SPUpdate is one update of an incident.
type SPUpdate struct {
	ID                   string       `json:"id"`
	Status               string       `json:"status"`
	Body                 string       `json:"body"`
	IncidentID           string       `json:"incident_id"`
	CreatedAt            time.Time    `json:"created_at"`
	UpdatedAt            time.Time    `json:"updated_at"`
	DisplayAt            time.Time    `json:"display_at"`
	AffectedComponents   []SPAffected `json:"affected_components"`
	DeliverNotifications bool         `json:"deliver_notifications"`
	CustomTweet          *string      `json:"custom_tweet"`
	TweetID              *string      `json:"tweet_id"`
}

// SPIncident is an Outcry incident as a Statuspage incident.
type SPIncident struct {
	ID              string        `json:"id"`
	Name            string        `json:"name"`
	Status          string        `json:"status"` // investigating or resolved
	CreatedAt       time.Time     `json:"created_at"`
	UpdatedAt       time.Time     `json:"updated_at"`
	MonitoringAt    *time.Time    `json:"monitoring_at"`
	ResolvedAt      *time.Time    `json:"resolved_at"`
	Impact          string        `json:"impact"` // minor, major, critical
	Shortlink       string        `json:"shortlink"`
	StartedAt       time.Time     `json:"started_at"`
	PageID          string        `json:"page_id"`
	IncidentUpdates []SPUpdate    `json:"incident_updates"`
	Components      []SPComponent `json:"components"`
}

// The bodies of the endpoints.
type (
	spStatusBody struct {
		Page   SPPage   `json:"page"`
		Status SPStatus `json:"status"`
	}
	spSummaryBody struct {
		Page                  SPPage        `json:"page"`
		Components            []SPComponent `json:"components"`
		Incidents             []SPIncident  `json:"incidents"`
		ScheduledMaintenances []struct{}    `json:"scheduled_maintenances"`
		Status                SPStatus      `json:"status"`
	}
	spComponentsBody struct {
		Page       SPPage        `json:"page"`
		Components []SPComponent `json:"components"`
	}
	spIncidentsBody struct {
		Page      SPPage       `json:"page"`
		Incidents []SPIncident `json:"incidents"`
	}
	spMaintenancesBody struct {
		Page                  SPPage     `json:"page"`
		ScheduledMaintenances []struct{} `json:"scheduled_maintenances"`
	}
)

// statuspageRoutes registers both pages' endpoints. Like the badges they
// are polled by machines everywhere: answered from the render cache, with
// recovery and CORS but without observe.
func (h *Handler) statuspageRoutes(r *gin.Engine) {
	g := r.Group("")
	g.Handlers = gin.HandlersChain{h.recovery(), cors}
	for _, ep := range spEndpoints {
		g.GET("/api/v2/"+ep+".json", func(c *gin.Context) { h.spCatalogue(c, ep) })
		g.GET("/s/:slug/api/v2/"+ep+".json", func(c *gin.Context) { h.spService(c, ep) })
	}
}

// spCatalogue answers an endpoint of the catalogue page.
func (h *Handler) spCatalogue(c *gin.Context, ep string) {
	seq, _ := h.Status.Published()
	key := renderKey{kind: kindStatuspage, variant: ep}
	if h.serveFresh(c, key, seq) {
		return
	}
	h.spRender(c, key, seq, func(ctx context.Context) (any, error) { return h.spCatalogueBody(ctx, ep) })
}

// spService answers an endpoint of one service's page.
func (h *Handler) spService(c *gin.Context, ep string) {
	st, ok := h.status(c)
	if !ok {
		return
	}
	key := renderKey{kind: kindStatuspage, slug: st.Service.Slug, variant: ep}
	inputs := pageInputs(st)
	if h.serveFresh(c, key, inputs) {
		return
	}
	h.spRender(c, key, inputs, func(ctx context.Context) (any, error) { return h.spServiceBody(ctx, ep, st) })
}

// spRender renders body() as JSON into the render cache and answers it.
func (h *Handler) spRender(c *gin.Context, key renderKey, inputs uint64, body func(context.Context) (any, error)) {
	spec := renderSpec{status: http.StatusOK, ctype: jsonUTF8, cc: spCC, vary: varyEnc}
	r, err := h.render.get(key, inputs, spec, func(buf *bytes.Buffer) error {
		// Concurrent requests wait for this one rendering: one client
		// going away must not fail it for the others.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), spRenderTimeout)
		defer cancel()
		v, err := body(ctx)
		if err != nil {
			return err
		}
		return json.NewEncoder(buf).Encode(v)
	})
	if err != nil {
		h.respondError(c, err)
		return
	}
	serveRendered(c, r, h.renderMetrics, kindStatuspage)
}

// spCatalogueBody builds an endpoint of the catalogue page.
func (h *Handler) spCatalogueBody(ctx context.Context, ep string) (any, error) {
	all := h.Status.All()
	_, at := h.Status.Published()
	page := SPPage{
		ID: spPageID, Name: "Outcry (crowd-reported status)", URL: h.PublicURL + "/",
		TimeZone: spTimeZone, UpdatedAt: at.UTC(),
	}
	components := func() []SPComponent {
		out := make([]SPComponent, 0, min(len(all), spMaxComponents))
		for i := range min(len(all), spMaxComponents) {
			out = append(out, spComponentOf(all[i], i+1, spPageID))
		}
		return out
	}
	unresolved := func() []SPIncident {
		out := []SPIncident{}
		for i := 0; i < len(all) && all[i].Level.Rank() > 0 && len(out) < spMaxComponents; i++ {
			comp := spComponentOf(all[i], i+1, spPageID)
			for _, in := range openIncidents(all[i]) {
				out = append(out, h.spIncidentOf(all[i].Service, in, comp, spPageID))
			}
		}
		return out[:min(len(out), spMaxComponents)]
	}
	status := func() SPStatus {
		majors, problems := 0, 0
		for i := 0; i < len(all) && all[i].Level.Rank() > 0; i++ {
			problems++
			if componentStatus(all[i]) == spMajor {
				majors++
			}
		}
		switch {
		case majors >= spCriticalOutages:
			return spStatusOf("critical")
		case majors > 0:
			return spStatusOf("major")
		case problems > 0:
			return spStatusOf("minor")
		}
		return spStatusOf("none")
	}
	switch ep {
	case "status":
		return spStatusBody{Page: page, Status: status()}, nil
	case "summary":
		return spSummaryBody{Page: page, Components: components(), Incidents: unresolved(), ScheduledMaintenances: []struct{}{}, Status: status()}, nil
	case "components":
		return spComponentsBody{Page: page, Components: components()}, nil
	case "incidents/unresolved":
		return spIncidentsBody{Page: page, Incidents: unresolved()}, nil
	case "incidents":
		list, err := h.recentIncidents(ctx, all)
		return spIncidentsBody{Page: page, Incidents: list}, err
	}
	return spMaintenancesBody{Page: page, ScheduledMaintenances: []struct{}{}}, nil
}

// recentIncidents are the latest incidents of every service still in the
// catalogue, each with its service's component as it is now.
func (h *Handler) recentIncidents(ctx context.Context, all []models.ServiceStatus) ([]SPIncident, error) {
	out := []SPIncident{}
	if h.Recent == nil {
		return out, nil
	}
	list, err := h.Recent.RecentIncidents(ctx, spIncidents)
	if err != nil {
		return nil, err
	}
	want := make(map[uint]int, len(list)) // service ID → index in all (+1)
	for _, in := range list {
		want[in.ServiceID] = 0
	}
	for i := range all {
		if _, ok := want[all[i].Service.ID]; ok {
			want[all[i].Service.ID] = i + 1
		}
	}
	for _, in := range list {
		i := want[in.ServiceID]
		if i == 0 {
			continue // its service was removed
		}
		st := all[i-1]
		out = append(out, h.spIncidentOf(st.Service, in, spComponentOf(st, i, spPageID), spPageID))
	}
	return out, nil
}

// spServiceBody builds an endpoint of one service's page.
func (h *Handler) spServiceBody(ctx context.Context, ep string, st models.ServiceStatus) (any, error) {
	pageID := st.Service.Slug
	page := SPPage{
		ID: pageID, Name: st.Service.Name + " (crowd-reported status by Outcry)", URL: h.PublicURL + "/s/" + st.Service.Slug,
		TimeZone: spTimeZone, UpdatedAt: st.UpdatedAt.UTC(),
	}
	comp := spComponentOf(st, 1, pageID)
	unresolved := []SPIncident{}
	for _, in := range openIncidents(st) {
		unresolved = append(unresolved, h.spIncidentOf(st.Service, in, comp, pageID))
	}
	status := spStatusOf(indicatorOf(comp.Status))
	switch ep {
	case "status":
		return spStatusBody{Page: page, Status: status}, nil
	case "summary":
		return spSummaryBody{Page: page, Components: []SPComponent{comp}, Incidents: unresolved, ScheduledMaintenances: []struct{}{}, Status: status}, nil
	case "components":
		return spComponentsBody{Page: page, Components: []SPComponent{comp}}, nil
	case "incidents/unresolved":
		return spIncidentsBody{Page: page, Incidents: unresolved}, nil
	case "incidents":
		out := []SPIncident{}
		if h.Incidents != nil && st.Service.ID != 0 {
			list, err := h.Incidents.Incidents(ctx, st.Service.ID, spIncidents)
			if err != nil {
				return nil, err
			}
			for _, in := range list {
				out = append(out, h.spIncidentOf(st.Service, in, comp, pageID))
			}
		}
		return spIncidentsBody{Page: page, Incidents: out}, nil
	}
	return spMaintenancesBody{Page: page, ScheduledMaintenances: []struct{}{}}, nil
}

// openIncidents are a service's open incidents, the widest first.
func openIncidents(st models.ServiceStatus) []models.Incident {
	if st.Incident == nil {
		return nil
	}
	return append([]models.Incident{*st.Incident}, st.Regional...)
}

// componentStatus maps the crowd status: ok → operational, possible
// problems → degraded_performance, an outage confined to a region →
// partial_outage, an outage → major_outage.
func componentStatus(st models.ServiceStatus) string {
	switch st.Level {
	case models.LevelOutage:
		return spMajor
	case models.LevelWarning:
		for _, in := range openIncidents(st) {
			if in.Level == models.LevelOutage {
				return spPartial
			}
		}
		return spDegraded
	}
	return spOperational
}

// incidentComponentStatus is what an incident alone makes of its component.
func incidentComponentStatus(in models.Incident) string {
	switch {
	case in.Level != models.LevelOutage:
		return spDegraded
	case in.Scope == models.ScopeGlobal:
		return spMajor
	}
	return spPartial
}

// impactOf: possible problems are minor, an outage in one region major, an
// outage critical.
func impactOf(in models.Incident) string {
	switch incidentComponentStatus(in) {
	case spMajor:
		return "critical"
	case spPartial:
		return "major"
	}
	return "minor"
}

// indicatorOf is a page's indicator for its worst component status, as
// Statuspage rolls it up.
func indicatorOf(status string) string {
	switch status {
	case spDegraded:
		return "minor"
	case spPartial:
		return "major"
	case spMajor:
		return "critical"
	}
	return "none"
}

// spStatusOf is the status with Statuspage's wording for the indicator,
// marked as crowd-reported.
func spStatusOf(indicator string) SPStatus {
	words := map[string]string{
		"none": "All Systems Operational", "minor": "Minor Service Outage",
		"major": "Partial System Outage", "critical": "Major System Outage",
	}[indicator]
	return SPStatus{Indicator: indicator, Description: words + " (crowd-reported)"}
}

// spComponentOf is a service as a component at position on page pageID.
func spComponentOf(st models.ServiceStatus, position int, pageID string) SPComponent {
	created := st.Service.CreatedAt.UTC()
	updated := st.UpdatedAt.UTC()
	if updated.IsZero() {
		updated = created
	}
	start := created.Format(time.DateOnly)
	return SPComponent{
		ID: st.Service.Slug, Name: st.Service.Name, Status: componentStatus(st),
		CreatedAt: created, UpdatedAt: updated, Position: position,
		Description: "What people report about " + st.Service.Name + " on Outcry (crowd-reported; not the provider's own status)",
		StartDate:   &start, PageID: pageID,
	}
}

// spIncidentOf is an incident of svc as a Statuspage incident. Its updates
// come from the incident's own record: "investigating" when it opened, with
// the evidence, and "resolved" when it resolved. Outcry never says
// "identified" or "monitoring": the crowd does not know a cause, and
// recovery is decided on evidence, not by someone watching a fix.
func (h *Handler) spIncidentOf(svc models.Service, in models.Incident, comp SPComponent, pageID string) SPIncident {
	id := strconv.FormatUint(in.ID, 10)
	name := "Users report problems with " + svc.Name
	if in.Scope != models.ScopeGlobal {
		name = "Users in " + in.Scope + " report problems with " + svc.Name
	}
	hit := incidentComponentStatus(in)
	affected := func(old, new string) []SPAffected {
		return []SPAffected{{Code: comp.ID, Name: comp.Name, OldStatus: old, NewStatus: new}}
	}
	started := in.StartedAt.UTC()
	updated := in.UpdatedAt.UTC()
	if updated.Before(started) {
		updated = started
	}
	out := SPIncident{
		ID: id, Name: name, Status: "investigating", CreatedAt: started, UpdatedAt: updated,
		Impact: impactOf(in), Shortlink: h.PublicURL + "/s/" + svc.Slug, StartedAt: started, PageID: pageID,
		Components: []SPComponent{comp},
	}
	opened := SPUpdate{
		ID: id + "-opened", Status: "investigating", Body: evidenceText(svc, in), IncidentID: id,
		CreatedAt: started, UpdatedAt: updated, DisplayAt: started,
		AffectedComponents: affected(spOperational, hit), DeliverNotifications: true,
	}
	if in.ResolvedAt != nil {
		end := in.ResolvedAt.UTC()
		out.Status, out.ResolvedAt = "resolved", &end
		resolved := SPUpdate{
			ID: id + "-resolved", Status: "resolved", IncidentID: id,
			Body:      "Reports of problems with " + svc.Name + " are back to their usual level.",
			CreatedAt: end, UpdatedAt: end, DisplayAt: end,
			AffectedComponents: affected(hit, spOperational), DeliverNotifications: true,
		}
		out.IncidentUpdates = []SPUpdate{resolved, opened} // newest first
		return out
	}
	out.IncidentUpdates = []SPUpdate{opened}
	return out
}

// evidenceText says what the crowd reported, in words.
func evidenceText(svc models.Service, in models.Incident) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Crowd reports, not %s's own status: %s reports of problems in %s", svc.Name, spCount(in.Actual), spWindow(in.Window))
	if in.Scope != models.ScopeGlobal {
		fmt.Fprintf(&b, " from %s", in.Scope)
	}
	if in.Expected > 0 {
		fmt.Fprintf(&b, ", where about %s are usual at this time of the week (%.1f×)", spCount(in.Expected), in.Ratio)
	}
	b.WriteString(".")
	if len(in.TopProblems) > 0 {
		b.WriteString(" Most reported: " + sharesText(in.TopProblems) + ".")
	}
	if len(in.TopRegions) > 0 && in.Scope == models.ScopeGlobal {
		b.WriteString(" Most from: " + sharesText(in.TopRegions) + ".")
	}
	return b.String()
}

func spCount(v float64) string {
	if v < 10 {
		return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
	}
	return thousands(int(math.Round(v)))
}

func spWindow(d time.Duration) string {
	if d <= 0 {
		d = models.BucketSize
	}
	if d%time.Hour == 0 {
		return plural(int(d/time.Hour), "1 hour", strconv.Itoa(int(d/time.Hour))+" hours")
	}
	m := int(d.Round(time.Minute) / time.Minute)
	return plural(m, "1 minute", strconv.Itoa(m)+" minutes")
}

func sharesText(s []models.Share) string {
	parts := make([]string, 0, 3)
	for _, sh := range s[:min(len(s), 3)] {
		parts = append(parts, fmt.Sprintf("%s (%.0f%%)", sh.Key, sh.Percent))
	}
	return strings.Join(parts, ", ")
}
