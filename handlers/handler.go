// Package handlers is Outcry's HTTP surface: bind, validate, call, render.
// It depends on small interfaces declared here, implemented in server/….
package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/outcry/outcry/models"
)

// ReportWriter stores a report durably (returns after commit).
type ReportWriter interface {
	Write(ctx context.Context, r *models.Report) error
}

// AnnouncingWriter is a ReportWriter that gathers reports into group
// commits (store.Writer): a handler announces a report before admitting it,
// so a batch about to commit waits briefly for it instead of leaving it a
// commit of its own; WriteAnnounced or Withdraw then ends the announcement.
type AnnouncingWriter interface {
	ReportWriter
	Announce()
	Withdraw()
	WriteAnnounced(ctx context.Context, r *models.Report) error
}

// Limiter admits reports (limit + dedupe + count), answers cached denials
// without a round trip, and takes back a counted report that could not be
// stored (so a report is counted only once it is stored).
type Limiter interface {
	models.Admitter
	Denied(reporter, network string, now time.Time) (models.Admittance, bool)
	Undo(ctx context.Context, a models.Admission, d models.Admittance) error
}

// StatusReader is the in-memory status snapshot the read paths serve from.
type StatusReader interface {
	Status(slug string) (models.ServiceStatus, bool)
	All() []models.ServiceStatus // worst level first, then most reports, then slug
	// Published is the current snapshot's sequence number and time.
	Published() (seq uint64, at time.Time)
}

// Catalog is the set of services: lookups are in memory, changes go to the
// database and are visible to lookups as soon as they return.
type Catalog interface {
	Lookup(slug string) (models.Service, bool)
	Create(ctx context.Context, s *models.Service) error
	Update(ctx context.Context, s *models.Service) error
	Delete(ctx context.Context, slug string) error
}

// IncidentLister lists a service's incidents, newest first, incidents
// across services as a query selects, and the latest incident events (the
// feeds' items) of one service or (serviceID 0) of all, newest first.
type IncidentLister interface {
	Incidents(ctx context.Context, serviceID uint, limit int) ([]models.Incident, error)
	FindIncidents(ctx context.Context, q models.IncidentQuery) ([]models.ServiceIncident, error)
	IncidentEvents(ctx context.Context, serviceID uint, limit int) ([]models.Event, error)
}

// OfficialReader is every service's official status, in memory
// (server/official.Board).
type OfficialReader interface {
	Official(serviceID uint) (models.OfficialStatus, bool)
}

// LeadSummarizer compares a service's official page with the crowd over
// the incidents started since a time (server/store).
type LeadSummarizer interface {
	LeadSummary(ctx context.Context, serviceID uint, since time.Time) (models.LeadSummary, error)
}

// Checker is a dependency /readyz asks. A failing check makes the replica
// not ready (503) unless it is Optional: then it is reported as "degraded"
// and the replica stays in service (Redis: reports are still accepted, with
// in-process limits).
type Checker struct {
	Name     string
	Check    func(ctx context.Context) error
	Optional bool
}

// Deps is everything the handlers need, passed in by server.
type Deps struct {
	Writer         ReportWriter
	Limiter        Limiter
	Status         StatusReader
	Catalog        Catalog
	Incidents      IncidentLister
	Recent         RecentIncidentLister // the latest incidents of every service (the Statuspage-compatible incidents.json)
	Webhooks       WebhookAdmin         // nil: the webhook admin API is not mounted
	Official       OfficialReader       // nil: no official statuses shown
	Leads          LeadSummarizer       // nil: no lead-time summary
	Identifier     *Identifier
	Region         func(netip.Addr) string // country of an address, "" if unknown
	AdminToken     string
	Ready          []Checker
	Metrics        *Metrics
	RenderMetrics  *RenderMetrics // nil: NewRenderMetrics(nil), counted nowhere
	PublicURL      string         // OUTCRY_PUBLIC_URL: where people reach us, for the embed snippets
	MetricsHandler http.Handler   // serves /metrics
	OpenAPI        []byte         // the OpenAPI document as JSON, served at /openapi.json (nil: not served)
	Log            *slog.Logger
	// AccessLog receives one line per request (nil: none); AccessErrorsOnly
	// limits it to statuses of 400 and above.
	AccessLog        *slog.Logger
	AccessErrorsOnly bool
	// AccessJSON (optional): where AccessLog writes, when it writes slog's
	// JSON. The access lines are then appended by hand in the same shape
	// and written here (AccessLog still decides which levels are written).
	AccessJSON io.Writer
	Now        func() time.Time
}

// Handler serves every route; see Routes.
type Handler struct {
	Deps
	log           *slog.Logger
	limited       limitedLines // the access log's 429 throttle
	ready         readiness
	render        *renderCache
	catalog       catalogIndexer
	renderMetrics *RenderMetrics
	leads         leadCache
	announcer     AnnouncingWriter // Writer, when it gathers announced reports (nil otherwise)
}

// New builds the handler set.
func New(d Deps) *Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Region == nil {
		d.Region = func(netip.Addr) string { return "" }
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.RenderMetrics == nil {
		d.RenderMetrics = NewRenderMetrics(nil)
	}
	h := &Handler{Deps: d, log: d.Log, render: newRenderCache(d.RenderMetrics), renderMetrics: d.RenderMetrics}
	h.announcer, _ = d.Writer.(AnnouncingWriter)
	return h
}
