package models

import "time"

// Level is how bad things look for a service (or one region of it).
type Level string

const (
	LevelOK      Level = "ok"
	LevelWarning Level = "warning" // possible problems
	LevelOutage  Level = "outage"
)

// Rank orders levels: ok < warning < outage.
func (l Level) Rank() int {
	switch l {
	case LevelWarning:
		return 1
	case LevelOutage:
		return 2
	}
	return 0
}

// ScopeGlobal is the scope of an incident that is not confined to a region.
const ScopeGlobal = "global"

// Share is one problem's or region's part of recent reports.
type Share struct {
	Key     string  `json:"key"`
	Count   int     `json:"count"`
	Percent float64 `json:"percent"`
}

// Incident is a period in which reports for a service (or one region of it)
// stood significantly above what is normal for that time of day and week.
// The evidence is the window that fired (or the worst one since).
type Incident struct {
	ID         uint64     `gorm:"primaryKey;index:idx_incidents_service_id,priority:2"`
	ServiceID  uint       `gorm:"not null;index:idx_incidents_service_started,priority:1;index:idx_incidents_service_id,priority:1"`
	Scope      string     `gorm:"size:8;not null"` // ScopeGlobal or a region code
	Level      Level      `gorm:"size:8;not null"`
	StartedAt  time.Time  `gorm:"not null;index:idx_incidents_service_started,priority:2"`
	ResolvedAt *time.Time `gorm:"index"`
	PeakAt     time.Time  `gorm:"not null"`
	Peak       float64    `gorm:"not null"` // the highest actual count of a window
	// Evidence: expected and actual reports in the window, their ratio, the
	// significance (-log10 of the p-value) and the rule that fired.
	Window       time.Duration `gorm:"not null"`
	Expected     float64       `gorm:"not null"`
	Actual       float64       `gorm:"not null"`
	Ratio        float64       `gorm:"not null"`
	Significance float64       `gorm:"not null"`
	Rule         string        `gorm:"size:200;not null"`
	TopProblems  []Share       `gorm:"serializer:json"`
	TopRegions   []Share       `gorm:"serializer:json"`
	// What subscribers were last told: incident.updated is sent only when
	// the incident escalates or its peak grows materially, not every tick.
	NotifiedLevel Level     `gorm:"size:8;not null;default:''"`
	NotifiedPeak  float64   `gorm:"not null;default:0"`
	NotifiedAt    time.Time `gorm:"not null"`
	// OpenedAt is when the detector opened the incident (StartedAt is the
	// start of the window that fired, earlier); nil for incidents stored
	// before it was recorded. Lead times are measured from it.
	OpenedAt *time.Time
	// OfficialAcknowledgedAt is when the service's official status page
	// first acknowledged a matching problem (server/official); nil while it
	// has not. Written only by the official poller, never by the detector.
	OfficialAcknowledgedAt *time.Time
	// CorrelationID groups incidents of several services that began within
	// CorrelationWindow of each other (a common cause such as a cloud or
	// CDN outage): the ID of the group's first incident, set when the
	// group forms and never changed. Nil for an incident in no group.
	CorrelationID *uint64 `gorm:"index"`
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Opened is when the detector opened the incident (StartedAt for one
// stored before OpenedAt was recorded).
func (i *Incident) Opened() time.Time {
	if i.OpenedAt != nil {
		return *i.OpenedAt
	}
	return i.StartedAt
}

// LeadSeconds is how long before the official page Outcry saw the problem:
// acknowledgement minus when the detector opened the incident (positive:
// the crowd was ahead); nil while unacknowledged.
func (i *Incident) LeadSeconds() *int64 {
	if i.OfficialAcknowledgedAt == nil {
		return nil
	}
	s := int64(i.OfficialAcknowledgedAt.Sub(i.Opened()).Round(time.Second) / time.Second)
	return &s
}

// Open reports whether the incident has not been resolved.
func (i *Incident) Open() bool { return i.ResolvedAt == nil }

// DetectorState is the detector's small per-series state (opaque JSON of
// the incident state machine), saved with every incident change so a
// restart neither re-opens nor forgets.
type DetectorState struct {
	ServiceID uint   `gorm:"primaryKey;autoIncrement:false"`
	Scope     string `gorm:"primaryKey;size:8"`
	State     []byte `gorm:"not null"`
	UpdatedAt time.Time
}

// IncidentChange is one incident transition to persist atomically: the
// incident (inserted when its ID is 0), the detector state behind it, and
// the webhook event announcing it (EventType "" for a quiet update).
type IncidentChange struct {
	Service   Service
	Incident  *Incident
	State     DetectorState
	EventType string
	PublicURL string
	At        time.Time
	// Adopt are open incidents of other services that join the incident's
	// correlation group in the same transaction (the group forms now):
	// their CorrelationID is set to the incident's where it is still nil.
	Adopt []uint64
}

// IncidentQuery selects incidents across services (GET /api/v1/incidents),
// newest first (by ID: the order Outcry opened them).
type IncidentQuery struct {
	Open        *bool     // nil: any; true: not resolved; false: resolved
	ServiceID   uint      // 0: every service
	Level       Level     // "": any
	Since       time.Time // zero: any; else started at or after it
	Correlation uint64    // 0: any; else only that correlation group
	Before      uint64    // the cursor: only IDs below it (0: from the newest)
	Limit       int
}

// ServiceIncident is an incident with the service it belongs to, as lists
// across services show it.
type ServiceIncident struct {
	Incident
	ServiceSlug string
	ServiceName string
}
