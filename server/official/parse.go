package official

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/outcry/outcry/models"
)

// Kinds of source, as detected from the response.
const (
	KindStatuspage = "statuspage" // Atlassian Statuspage public API: /api/v2/summary.json (or status.json)
	KindIncidentIO = "incidentio" // incident.io's native page JSON: /proxy/<host>
	KindFeed       = "feed"       // an RSS or Atom feed
)

// ErrUnrecognised is a body in none of the formats (an HTML page, say).
var ErrUnrecognised = errors.New("not a Statuspage or incident.io summary, nor an RSS/Atom feed")

// Reading is what one body says, normalised.
type Reading struct {
	Kind        string
	Status      models.OfficialLevel
	Description string
	UpdatedAt   time.Time // the source's own time for it; zero if it gives none
	PageURL     string    // where people read the page; "" if the body does not say
	Incidents   []Incident
	// OnlyUnresolved: the body lists only unresolved incidents, so one that
	// is no longer listed has been resolved (summaries; feeds keep history).
	OnlyUnresolved bool
}

// Incident is an incident the page published.
type Incident struct {
	ExternalID    string
	Title         string
	Status        string               // the source's word
	Impact        models.OfficialLevel // normalised
	FirstUpdateAt *time.Time           // earliest published update; never the back-filled start of impact
	ResolvedAt    *time.Time
	URL           string
}

// Parse detects the body's format and reads it. components, when given,
// limit what counts to those components (names, without case; an
// incident.io group name stands for its members); a filter that matches no
// component of the page is ignored (the whole page counts) rather than
// reading "operational" forever.
func Parse(body []byte, components []string, now time.Time) (Reading, error) {
	b := bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))
	if len(b) == 0 {
		return Reading{}, ErrUnrecognised
	}
	if b[0] == '{' {
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(b, &probe); err != nil {
			return Reading{}, fmt.Errorf("malformed JSON: %w", err)
		}
		_, hasPage := probe["page"]
		_, hasStatus := probe["status"]
		_, hasSummary := probe["summary"]
		_, hasOngoing := probe["ongoing_incidents"]
		switch {
		case hasPage && hasStatus:
			return parseStatuspage(b, newFilter(components))
		case hasSummary || hasOngoing:
			return parseIncidentIO(b, probe, newFilter(components))
		}
		return Reading{}, ErrUnrecognised
	}
	if b[0] == '<' && looksLikeFeed(b) {
		return parseFeed(b, newFilter(components), now)
	}
	return Reading{}, ErrUnrecognised
}

func looksLikeFeed(b []byte) bool {
	head := b[:min(len(b), 2048)]
	return bytes.Contains(head, []byte("<rss")) || bytes.Contains(head, []byte("<feed")) || bytes.Contains(head, []byte("<rdf:RDF"))
}

// filter matches component names without case.
type filter map[string]bool

func newFilter(names []string) filter {
	if len(names) == 0 {
		return nil
	}
	f := filter{}
	for _, n := range names {
		f[strings.ToLower(strings.TrimSpace(n))] = true
	}
	return f
}

func (f filter) has(name string) bool { return f[strings.ToLower(strings.TrimSpace(name))] }

// --- Atlassian Statuspage --------------------------------------------------

type spTime struct{ time.Time }

func (t *spTime) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err != nil || s == nil || *s == "" {
		return nil // a missing or odd time is no time, not a failed poll
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000-07:00", "2006-01-02T15:04:05-07:00"} {
		if v, err := time.Parse(layout, *s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	return nil
}

func (t spTime) ptr() *time.Time {
	if t.IsZero() {
		return nil
	}
	v := t.Time
	return &v
}

type spComponent struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	Group  bool   `json:"group"`
}

type spSummary struct {
	Page struct {
		URL       string `json:"url"`
		UpdatedAt spTime `json:"updated_at"`
	} `json:"page"`
	Status struct {
		Indicator   string `json:"indicator"`
		Description string `json:"description"`
	} `json:"status"`
	Components []spComponent `json:"components"`
	Incidents  []struct {
		ID              string        `json:"id"`
		Name            string        `json:"name"`
		Status          string        `json:"status"`
		Impact          string        `json:"impact"`
		Shortlink       string        `json:"shortlink"`
		ResolvedAt      spTime        `json:"resolved_at"`
		Components      []spComponent `json:"components"`
		IncidentUpdates []struct {
			CreatedAt          spTime `json:"created_at"`
			AffectedComponents []struct {
				Name string `json:"name"`
			} `json:"affected_components"`
		} `json:"incident_updates"`
	} `json:"incidents"`
	ScheduledMaintenances []struct {
		Status     string        `json:"status"`
		Components []spComponent `json:"components"`
	} `json:"scheduled_maintenances"`
}

// statuspageComponent maps a Statuspage component status.
func statuspageComponent(s string) models.OfficialLevel {
	switch s {
	case "operational":
		return models.OfficialOperational
	case "degraded_performance":
		return models.OfficialDegraded
	case "partial_outage":
		return models.OfficialPartialOutage
	case "major_outage":
		return models.OfficialMajorOutage
	case "under_maintenance":
		return models.OfficialMaintenance
	}
	return models.OfficialUnknown
}

// statuspageIndicator maps the page's overall indicator.
func statuspageIndicator(s string) models.OfficialLevel {
	switch s {
	case "none":
		return models.OfficialOperational
	case "minor":
		return models.OfficialDegraded
	case "major":
		return models.OfficialPartialOutage
	case "critical":
		return models.OfficialMajorOutage
	case "maintenance":
		return models.OfficialMaintenance
	}
	return models.OfficialUnknown
}

// statuspageImpact maps an incident's impact (an incident with impact
// "none" is still a published problem: degraded).
func statuspageImpact(s string) models.OfficialLevel {
	switch s {
	case "critical":
		return models.OfficialMajorOutage
	case "major":
		return models.OfficialPartialOutage
	}
	return models.OfficialDegraded
}

func parseStatuspage(b []byte, f filter) (Reading, error) {
	var s spSummary
	if err := json.Unmarshal(b, &s); err != nil {
		return Reading{}, fmt.Errorf("malformed Statuspage JSON: %w", err)
	}
	r := Reading{Kind: KindStatuspage, UpdatedAt: s.Page.UpdatedAt.Time, PageURL: s.Page.URL, OnlyUnresolved: true}
	matched := 0
	if f != nil {
		for _, c := range s.Components {
			if f.has(c.Name) {
				matched++
			}
		}
	}
	if f != nil && matched > 0 {
		r.Status = models.OfficialOperational
		var bad []string
		for _, c := range s.Components {
			if !f.has(c.Name) {
				continue
			}
			l := statuspageComponent(c.Status)
			if l.Rank() > r.Status.Rank() {
				r.Status = l
			}
			if l != models.OfficialOperational {
				bad = append(bad, c.Name)
			}
		}
		r.Description = describe(r.Status, bad)
	} else {
		r.Status = statuspageIndicator(s.Status.Indicator)
		var bad []string
		for _, c := range s.Components {
			l := statuspageComponent(c.Status)
			if c.Group || l == models.OfficialOperational || l == models.OfficialUnknown {
				continue
			}
			bad = append(bad, c.Name)
			if l.Rank() > r.Status.Rank() {
				r.Status = l // the indicator is a blend; a component in major outage is a major outage
			}
		}
		r.Description = s.Status.Description
		if r.Description == "" {
			r.Description = describe(r.Status, bad)
		}
	}
	for _, in := range s.Incidents {
		if f != nil && matched > 0 && !incidentTouches(f, in.Components, in.IncidentUpdates) {
			continue
		}
		oi := Incident{ExternalID: in.ID, Title: in.Name, Status: in.Status, Impact: statuspageImpact(in.Impact),
			ResolvedAt: in.ResolvedAt.ptr(), URL: in.Shortlink}
		if oi.URL == "" && s.Page.URL != "" && in.ID != "" {
			oi.URL = strings.TrimRight(s.Page.URL, "/") + "/incidents/" + in.ID
		}
		for _, u := range in.IncidentUpdates {
			if !u.CreatedAt.IsZero() && (oi.FirstUpdateAt == nil || u.CreatedAt.Before(*oi.FirstUpdateAt)) {
				oi.FirstUpdateAt = u.CreatedAt.ptr()
			}
		}
		if oi.ExternalID != "" {
			r.Incidents = append(r.Incidents, oi)
		}
	}
	return r, nil
}

func incidentTouches(f filter, comps []spComponent, updates []struct {
	CreatedAt          spTime `json:"created_at"`
	AffectedComponents []struct {
		Name string `json:"name"`
	} `json:"affected_components"`
}) bool {
	named := len(comps) > 0
	for _, c := range comps {
		if f.has(c.Name) {
			return true
		}
	}
	for _, u := range updates {
		for _, c := range u.AffectedComponents {
			named = true
			if f.has(c.Name) {
				return true
			}
		}
	}
	return !named // an incident that names no component concerns the whole page
}

// describe says a level in words, with the components behind it.
func describe(l models.OfficialLevel, names []string) string {
	words := map[models.OfficialLevel]string{
		models.OfficialOperational: "All systems operational", models.OfficialDegraded: "Degraded performance",
		models.OfficialPartialOutage: "Partial outage", models.OfficialMajorOutage: "Major outage",
		models.OfficialMaintenance: "Under maintenance", models.OfficialUnknown: "Status unknown",
	}
	d := words[l]
	if len(names) > 0 && l != models.OfficialOperational {
		sort.Strings(names)
		if len(names) > 4 {
			names = append(names[:4], fmt.Sprintf("%d more", len(names)-4))
		}
		d += ": " + strings.Join(names, ", ")
	}
	return d
}

// --- incident.io ------------------------------------------------------------

type ioSummary struct {
	Name       string `json:"name"`
	PublicURL  string `json:"public_url"`
	Components []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"components"`
	AffectedComponents []struct {
		ComponentID string `json:"component_id"`
		Status      string `json:"status"`
	} `json:"affected_components"`
	OngoingIncidents []struct {
		ID                 string `json:"id"`
		Name               string `json:"name"`
		Status             string `json:"status"`
		PublishedAt        spTime `json:"published_at"`
		CurrentWorstImpact string `json:"current_worst_impact"`
		AffectedComponents []struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Status string `json:"status"`
		} `json:"affected_components"`
	} `json:"ongoing_incidents"`
	InProgressMaintenances []json.RawMessage `json:"in_progress_maintenances"`
	Structure              struct {
		Items []struct {
			Group *struct {
				Name       string `json:"name"`
				Components []struct {
					ComponentID string `json:"component_id"`
					Name        string `json:"name"`
				} `json:"components"`
			} `json:"group"`
			Component *struct {
				ComponentID string `json:"component_id"`
				Name        string `json:"name"`
			} `json:"component"`
		} `json:"items"`
	} `json:"structure"`
}

// incidentIOStatus maps an incident.io component status or impact.
func incidentIOStatus(s string) models.OfficialLevel {
	switch s {
	case "operational":
		return models.OfficialOperational
	case "degraded_performance":
		return models.OfficialDegraded
	case "partial_outage":
		return models.OfficialPartialOutage
	case "full_outage", "major_outage":
		return models.OfficialMajorOutage
	case "under_maintenance":
		return models.OfficialMaintenance
	}
	return models.OfficialUnknown
}

func parseIncidentIO(b []byte, probe map[string]json.RawMessage, f filter) (Reading, error) {
	var s ioSummary
	src := b
	if raw, ok := probe["summary"]; ok {
		src = raw
	}
	if err := json.Unmarshal(src, &s); err != nil {
		return Reading{}, fmt.Errorf("malformed incident.io JSON: %w", err)
	}
	r := Reading{Kind: KindIncidentIO, PageURL: s.PublicURL, OnlyUnresolved: true, Status: models.OfficialOperational}
	names := map[string]string{} // component id → name
	for _, c := range s.Components {
		names[c.ID] = c.Name
	}
	// Which component ids count: the filter's names, a group's name
	// standing for its members.
	var want map[string]bool
	if f != nil {
		want = map[string]bool{}
		for _, it := range s.Structure.Items {
			if it.Group != nil {
				for _, c := range it.Group.Components {
					if names[c.ComponentID] == "" {
						names[c.ComponentID] = c.Name
					}
					if f.has(it.Group.Name) || f.has(c.Name) {
						want[c.ComponentID] = true
					}
				}
			}
			if it.Component != nil {
				if names[it.Component.ComponentID] == "" {
					names[it.Component.ComponentID] = it.Component.Name
				}
				if f.has(it.Component.Name) {
					want[it.Component.ComponentID] = true
				}
			}
		}
		for id, n := range names {
			if f.has(n) {
				want[id] = true
			}
		}
		if len(want) == 0 {
			want = nil // the filter names nothing on this page: the whole page counts
		}
	}
	var bad []string
	for _, a := range s.AffectedComponents {
		if want != nil && !want[a.ComponentID] {
			continue
		}
		l := incidentIOStatus(a.Status)
		if l == models.OfficialOperational || l == models.OfficialUnknown {
			continue
		}
		if l.Rank() > r.Status.Rank() {
			r.Status = l
		}
		if n := names[a.ComponentID]; n != "" {
			bad = append(bad, n)
		}
	}
	for _, in := range s.OngoingIncidents {
		if want != nil && len(in.AffectedComponents) > 0 {
			hit := false
			for _, c := range in.AffectedComponents {
				hit = hit || want[c.ID]
			}
			if !hit {
				continue
			}
		}
		impact := incidentIOStatus(in.CurrentWorstImpact)
		if impact == models.OfficialUnknown || impact == models.OfficialOperational {
			impact = models.OfficialDegraded
		}
		if impact.Rank() > r.Status.Rank() {
			r.Status = impact
		}
		if in.PublishedAt.After(r.UpdatedAt) {
			r.UpdatedAt = in.PublishedAt.Time
		}
		oi := Incident{ExternalID: in.ID, Title: in.Name, Status: in.Status, Impact: impact, FirstUpdateAt: in.PublishedAt.ptr()}
		if s.PublicURL != "" && in.ID != "" {
			oi.URL = strings.TrimRight(s.PublicURL, "/") + "/incidents/" + in.ID
		}
		if oi.ExternalID != "" {
			r.Incidents = append(r.Incidents, oi)
		}
	}
	if r.Status == models.OfficialOperational && len(s.InProgressMaintenances) > 0 {
		r.Status = models.OfficialMaintenance
	}
	r.Description = describe(r.Status, dedupe(bad))
	if r.Status != models.OfficialOperational && len(bad) == 0 && len(r.Incidents) > 0 {
		r.Description = describe(r.Status, nil) + ": " + r.Incidents[0].Title
	}
	return r, nil
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// --- RSS and Atom -------------------------------------------------------------

// feedWindow is how far back feed items are read as incidents: a feed
// keeps its history, and only recent items can match an Outcry incident.
const feedWindow = 7 * 24 * time.Hour

// feedRecent is how recent an unresolved item must be to make the status
// degraded: a feed says nothing about status, so an item that has not said
// "resolved" within a day is taken as an ongoing problem.
const feedRecent = 24 * time.Hour

var (
	tagRe      = regexp.MustCompile(`<[^>]*>`)
	resolvedRe = regexp.MustCompile(`(?i)\b(resolved|completed|restored|back to normal)\b`)
	maintRe    = regexp.MustCompile(`(?i)\b(maintenance|scheduled)\b`)
)

// parseFeed reads an RSS or Atom feed: each item of the last feedWindow is an incident,
// published at the item's publication (else update) time. Whether it is
// resolved comes from its words: Statuspage's history feed and most
// providers start the latest update with "Resolved"; an item whose newest
// text (title, then the first paragraph of its body) says resolved,
// completed or restored is resolved at its update time.
func parseFeed(b []byte, f filter, now time.Time) (Reading, error) {
	feed, err := gofeed.NewParser().Parse(bytes.NewReader(b))
	if err != nil {
		return Reading{}, fmt.Errorf("malformed feed: %w", err)
	}
	r := Reading{Kind: KindFeed, PageURL: feed.Link, Status: models.OfficialOperational}
	var newest time.Time
	if feed.UpdatedParsed != nil {
		newest = feed.UpdatedParsed.UTC()
	}
	var latestOpen *Incident
	var latestOpenAt time.Time
	for _, it := range feed.Items {
		pub := it.PublishedParsed
		if pub == nil {
			pub = it.UpdatedParsed
		}
		if pub == nil {
			continue
		}
		upd := pub
		if it.UpdatedParsed != nil {
			upd = it.UpdatedParsed
		}
		if upd.After(newest) {
			newest = upd.UTC()
		}
		if f != nil && !itemMentions(f, it) || upd.Before(now.Add(-feedWindow)) {
			continue
		}
		text := strings.TrimSpace(html.UnescapeString(tagRe.ReplaceAllString(it.Description+" "+it.Content, " ")))
		lead := it.Title + " " + firstWords(text, 160)
		id := it.GUID
		if id == "" {
			id = it.Link
		}
		if id == "" {
			id = it.Title + "@" + pub.UTC().Format(time.RFC3339)
		}
		first := pub.UTC()
		oi := Incident{ExternalID: truncate(id, 200), Title: truncate(strings.TrimSpace(it.Title), 500), URL: it.Link, FirstUpdateAt: &first, Impact: models.OfficialDegraded}
		switch {
		case resolvedRe.MatchString(lead):
			at := upd.UTC()
			oi.ResolvedAt, oi.Status = &at, "resolved"
		case maintRe.MatchString(lead):
			oi.Impact, oi.Status = models.OfficialMaintenance, "maintenance"
		default:
			oi.Status = "open"
		}
		r.Incidents = append(r.Incidents, oi)
		if oi.ResolvedAt == nil && upd.After(latestOpenAt) && !upd.Before(now.Add(-feedRecent)) {
			c := oi
			latestOpen, latestOpenAt = &c, upd.UTC()
		}
	}
	r.UpdatedAt = newest
	if latestOpen != nil {
		r.Status = latestOpen.Impact
		r.Description = describe(r.Status, nil) + ": " + latestOpen.Title
	} else {
		r.Description = "No open incidents in the feed"
	}
	return r, nil
}

func itemMentions(f filter, it *gofeed.Item) bool {
	hay := strings.ToLower(it.Title + " " + it.Description + " " + strings.Join(it.Categories, " "))
	for name := range f {
		if strings.Contains(hay, name) {
			return true
		}
	}
	return false
}

func firstWords(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n]
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
