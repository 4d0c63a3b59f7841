package handlers

import (
	"time"

	"github.com/outcry/outcry/models"
)

// List is the shape of every list response.
type List[T any] struct {
	Items []T `json:"items"`
}

// ServicePage is one page of the catalogue.
type ServicePage struct {
	Items []ServiceSummary `json:"items"` // by slug
	Next  *string          `json:"next"`  // the next page's URL; null on the last page
	// The services with problems now (worst first, at most 20) and how many
	// there are; only on the first page (no cursor).
	Problems      *[]ServiceSummary `json:"problems,omitempty"`
	ProblemsTotal *int              `json:"problems_total,omitempty"`
}

// ServiceSummary is a service as lists show it.
type ServiceSummary struct {
	Slug       string       `json:"slug"`
	Name       string       `json:"name"`
	Problems   []string     `json:"problems"`
	Status     models.Level `json:"status"`
	Reports15m int          `json:"reports_last_15m"`
	Sparkline  []int        `json:"sparkline"` // counted reports per 15 minutes, last 24 h, oldest first
	URL        string       `json:"url"`
}

// ServiceDetail is one service's live status.
type ServiceDetail struct {
	ServiceSummary
	ColdStart   int            `json:"cold_start"`
	TopProblems []models.Share `json:"top_problems"`
	TopRegions  []models.Share `json:"top_regions"`
	Incident    *IncidentDTO   `json:"incident"`
	Regional    []IncidentDTO  `json:"regional_incidents"`
	UpdatedAt   time.Time      `json:"updated_at"`
	// The service's own status page beside the crowd's status, and how it
	// compared with the crowd over 90 days; both null without an official
	// source.
	Official     *OfficialDTO    `json:"official"`
	OfficialLead *LeadSummaryDTO `json:"official_lead"`
}

// OfficialDTO is what the service's official status page says, normalised.
type OfficialDTO struct {
	Status      models.OfficialLevel `json:"status"` // operational, degraded, partial_outage, major_outage, maintenance, unknown
	Description string               `json:"description"`
	UpdatedAt   *time.Time           `json:"updated_at"` // the page's own time for it
	URL         string               `json:"url"`
	// UnavailableSince is set while the page cannot be read (the status
	// above is the last one read).
	UnavailableSince *time.Time `json:"unavailable_since"`
}

// LeadSummaryDTO compares the official page with the crowd over the last
// Days days: Outcry's incidents, how many the official page acknowledged,
// and the median lead in seconds (positive: users reported first).
type LeadSummaryDTO struct {
	Days              int    `json:"days"`
	Incidents         int    `json:"incidents"`
	Acknowledged      int    `json:"acknowledged"`
	MedianLeadSeconds *int64 `json:"median_lead_seconds"`
}

// IncidentDTO is an incident with its evidence.
type IncidentDTO struct {
	ID           uint64         `json:"id"`
	Service      string         `json:"service"`
	Scope        string         `json:"scope"`
	Level        models.Level   `json:"level"`
	StartedAt    time.Time      `json:"started_at"`
	ResolvedAt   *time.Time     `json:"resolved_at"`
	PeakAt       time.Time      `json:"peak_at"`
	Peak         float64        `json:"peak"`
	WindowSecs   int            `json:"window_seconds"`
	Expected     float64        `json:"expected"`
	Actual       float64        `json:"actual"`
	Ratio        float64        `json:"ratio"`
	Significance float64        `json:"significance"`
	Rule         string         `json:"rule"`
	TopProblems  []models.Share `json:"top_problems"`
	TopRegions   []models.Share `json:"top_regions"`
	// When the detector opened the incident (started_at is the start of
	// the window that fired); when the official status page first
	// acknowledged the problem, and that minus opened_at in seconds
	// (positive: users reported first); null until it has.
	OpenedAt               time.Time  `json:"opened_at"`
	OfficialAcknowledgedAt *time.Time `json:"official_acknowledged_at"`
	LeadSeconds            *int64     `json:"lead_seconds"`
	// Correlation is the id of the group of incidents of several services
	// that began together (possibly one cause), or null.
	Correlation *uint64 `json:"correlation"`
}

// IncidentListItem is an incident in the list across services.
type IncidentListItem struct {
	IncidentDTO
	ServiceName string `json:"service_name"`
	URL         string `json:"url"` // the incident on its service's page
}

// IncidentPage is one page of incidents across services.
type IncidentPage struct {
	Items []IncidentListItem `json:"items"` // newest first
	Next  *string            `json:"next"`  // the next page's URL; null on the last page
}

// Timeseries is a service's chart data.
type Timeseries struct {
	Service       string          `json:"service"`
	BucketSeconds int             `json:"bucket_seconds"`
	Items         []models.Bucket `json:"items"`
}

// ServiceInput is what the admin API takes to create or change a service.
type ServiceInput struct {
	Slug      string   `json:"slug"`
	Name      string   `json:"name"`
	Problems  []string `json:"problems"`
	ColdStart *int     `json:"cold_start"`
	// The service's own status page (Statuspage, incident.io, or an
	// RSS/Atom feed) and, optionally, the components of it that count; ""
	// (or []) on PATCH removes them.
	OfficialStatusURL  *string   `json:"official_status_url"`
	OfficialComponents *[]string `json:"official_components"`
}

// ServiceAdminDTO is a service as the admin API answers it.
type ServiceAdminDTO struct {
	ID        uint     `json:"id"`
	Slug      string   `json:"slug"`
	Name      string   `json:"name"`
	Problems  []string `json:"problems"`
	ColdStart int      `json:"cold_start"`
	Demo      bool     `json:"demo"`
	// OfficialStatusURL is null when the service has no official source.
	OfficialStatusURL  *string   `json:"official_status_url"`
	OfficialComponents []string  `json:"official_components"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func summaryOf(st models.ServiceStatus) ServiceSummary {
	spark := make([]int, len(st.Series))
	for i, b := range st.Series {
		spark[i] = b.Count
	}
	level := st.Level
	if level == "" {
		level = models.LevelOK
	}
	return ServiceSummary{
		Slug: st.Service.Slug, Name: st.Service.Name, Problems: nonNil(st.Service.Problems),
		Status: level, Reports15m: st.Reports15m, Sparkline: spark, URL: "/s/" + st.Service.Slug,
	}
}

func detailOf(st models.ServiceStatus) ServiceDetail {
	d := ServiceDetail{
		ServiceSummary: summaryOf(st), ColdStart: st.Service.ColdStartThreshold(),
		TopProblems: nonNil(st.TopProblems), TopRegions: nonNil(st.TopRegions),
		Regional: []IncidentDTO{}, UpdatedAt: st.UpdatedAt,
	}
	if st.Incident != nil {
		dto := incidentOf(st.Service.Slug, *st.Incident)
		d.Incident = &dto
	}
	for _, in := range st.Regional {
		d.Regional = append(d.Regional, incidentOf(st.Service.Slug, in))
	}
	return d
}

func incidentOf(slug string, in models.Incident) IncidentDTO {
	return IncidentDTO{
		ID: in.ID, Service: slug, Scope: in.Scope, Level: in.Level,
		StartedAt: in.StartedAt, ResolvedAt: in.ResolvedAt, PeakAt: in.PeakAt, Peak: in.Peak,
		WindowSecs: int(in.Window.Seconds()), Expected: in.Expected, Actual: in.Actual,
		Ratio: in.Ratio, Significance: in.Significance, Rule: in.Rule,
		TopProblems: nonNil(in.TopProblems), TopRegions: nonNil(in.TopRegions),
		OpenedAt: in.Opened(), OfficialAcknowledgedAt: in.OfficialAcknowledgedAt, LeadSeconds: in.LeadSeconds(),
		Correlation: in.CorrelationID,
	}
}

func officialOf(o models.OfficialStatus) *OfficialDTO {
	return &OfficialDTO{Status: o.Status, Description: o.Description, UpdatedAt: o.UpdatedAt, URL: o.URL, UnavailableSince: o.UnavailableSince}
}

func leadOf(l models.LeadSummary) *LeadSummaryDTO {
	return &LeadSummaryDTO{Days: l.Days, Incidents: l.Incidents, Acknowledged: l.Acknowledged, MedianLeadSeconds: l.MedianLeadSeconds}
}

// withAcks is the status with the official acknowledgements of its open
// incidents (the snapshot's copies come from the detector, which does not
// write them).
func withAcks(st models.ServiceStatus, acks map[uint64]time.Time) models.ServiceStatus {
	if len(acks) == 0 {
		return st
	}
	ack := func(in *models.Incident) {
		if t, ok := acks[in.ID]; ok && in.OfficialAcknowledgedAt == nil {
			in.OfficialAcknowledgedAt = &t
		}
	}
	if st.Incident != nil {
		c := *st.Incident
		ack(&c)
		st.Incident = &c
	}
	if len(st.Regional) > 0 {
		r := make([]models.Incident, len(st.Regional))
		copy(r, st.Regional)
		for i := range r {
			ack(&r[i])
		}
		st.Regional = r
	}
	return st
}

func adminOf(s models.Service) ServiceAdminDTO {
	return ServiceAdminDTO{
		ID: s.ID, Slug: s.Slug, Name: s.Name, Problems: nonNil(s.Problems), ColdStart: s.ColdStart,
		Demo: s.Demo, OfficialStatusURL: strOrNil(s.OfficialStatusURL), OfficialComponents: nonNil(s.OfficialComponents),
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
}

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
