package models

import "time"

// OfficialLevel is a service's status as its own status page states it,
// normalised from the page's format.
type OfficialLevel string

const (
	OfficialOperational   OfficialLevel = "operational"
	OfficialDegraded      OfficialLevel = "degraded"
	OfficialPartialOutage OfficialLevel = "partial_outage"
	OfficialMajorOutage   OfficialLevel = "major_outage"
	OfficialMaintenance   OfficialLevel = "maintenance"
	OfficialUnknown       OfficialLevel = "unknown"
)

// Rank orders official levels by how bad they are: unknown and operational
// 0, maintenance 1, degraded 2, partial outage 3, major outage 4.
func (l OfficialLevel) Rank() int {
	switch l {
	case OfficialMaintenance:
		return 1
	case OfficialDegraded:
		return 2
	case OfficialPartialOutage:
		return 3
	case OfficialMajorOutage:
		return 4
	}
	return 0
}

// Problem reports whether the level says something is wrong (maintenance
// is planned, so it does not).
func (l OfficialLevel) Problem() bool { return l.Rank() >= 2 }

// OfficialSource is one service's official status source: what the poller
// needs between polls (validators, the body's hash, health) and the
// normalised status it last read. One row per service with a source.
type OfficialSource struct {
	ServiceID    uint          `gorm:"primaryKey;autoIncrement:false"`
	URL          string        `gorm:"size:2048;not null"`                       // the configured URL this state belongs to
	Endpoint     string        `gorm:"size:2048;not null;default:''"`            // the URL actually polled (resolved from URL)
	Kind         string        `gorm:"size:16;not null;default:''"`              // statuspage, incidentio or feed
	ETag         string        `gorm:"column:etag;size:512;not null;default:''"` // validators of the last 200
	LastModified string        `gorm:"size:128;not null;default:''"`             //
	BodySHA256   string        `gorm:"size:64;not null;default:''"`              // of the last body parsed
	LastPollAt   *time.Time    // last attempt
	LastOKAt     *time.Time    // last successful poll (200 or 304)
	FailingSince *time.Time    // first failure of the current run of failures
	LastError    string        `gorm:"size:500;not null;default:''"`
	Status       OfficialLevel `gorm:"size:16;not null;default:'unknown'"`
	Description  string        `gorm:"size:500;not null;default:''"`
	// StatusAt is the source's own time for what it states (its last update),
	// or when the poller first saw the status if the source gives none.
	StatusAt *time.Time
	PageURL  string `gorm:"size:2048;not null;default:''"` // where people read the official page
	// UpdatedAt changes with every change a reader shows (followers read
	// the rows changed since their last read).
	UpdatedAt time.Time `gorm:"not null;index"`
}

// OfficialIncident is one incident (or one episode of non-operational
// status) the official page published, as the poller saw it.
type OfficialIncident struct {
	ID         uint64 `gorm:"primaryKey"`
	ServiceID  uint   `gorm:"not null;uniqueIndex:idx_official_incidents_ext,priority:1"`
	ExternalID string `gorm:"size:200;not null;uniqueIndex:idx_official_incidents_ext,priority:2"`
	Title      string `gorm:"size:500;not null;default:''"`
	Status     string `gorm:"size:32;not null;default:''"` // the source's word: investigating, identified, resolved…
	Impact     string `gorm:"size:32;not null;default:''"` // the normalised level of the incident
	// FirstUpdateAt is the earliest update the page published (never the
	// provider's back-filled start of impact); nil if it gave no time.
	FirstUpdateAt *time.Time
	FirstSeenAt   time.Time `gorm:"not null"` // when our poller first saw it
	// SeenAfter is the last successful poll before FirstSeenAt that did not
	// see it (nil on a source's first poll): it was not published before.
	SeenAfter  *time.Time
	ResolvedAt *time.Time
	URL        string `gorm:"size:2048;not null;default:''"`
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// AcknowledgedAt is when the official page acknowledged the incident: its
// first published update, but never earlier than the last poll that did
// not see it (a page can back-date an update) and never later than when we
// first saw it. Without a published time, when we first saw it.
func (o *OfficialIncident) AcknowledgedAt() time.Time {
	if o.FirstUpdateAt == nil || o.FirstUpdateAt.After(o.FirstSeenAt) {
		return o.FirstSeenAt
	}
	if o.SeenAfter != nil && o.FirstUpdateAt.Before(*o.SeenAfter) {
		return *o.SeenAfter
	}
	return *o.FirstUpdateAt
}

// OfficialStatus is what the read paths show of a service's official
// status: the normalised level, its description and time, a link, and
// since when the source has failed (nil while it answers).
type OfficialStatus struct {
	Status           OfficialLevel
	Description      string
	UpdatedAt        *time.Time
	URL              string
	UnavailableSince *time.Time
	// Source is the configured URL the status was read from: a service
	// whose official_status_url changed (or was removed) shows nothing
	// until its new source has been read.
	Source  string
	Version uint64 // changes whenever anything shown changes
}

// Same reports whether o and p show the same (times by value; versions
// aside).
func (o OfficialStatus) Same(p OfficialStatus) bool {
	return o.Status == p.Status && o.Description == p.Description && o.URL == p.URL && o.Source == p.Source &&
		sameTime(o.UpdatedAt, p.UpdatedAt) && sameTime(o.UnavailableSince, p.UnavailableSince)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// OfficialStatusOf is what a source's row shows.
func OfficialStatusOf(src OfficialSource) OfficialStatus {
	st := OfficialStatus{
		Status: src.Status, Description: src.Description, UpdatedAt: src.StatusAt, URL: src.PageURL,
		UnavailableSince: src.FailingSince, Source: src.URL,
	}
	if st.Status == "" {
		st.Status = OfficialUnknown
	}
	if st.URL == "" {
		st.URL = src.URL
	}
	return st
}

// LeadSummary is how a service's official page compared with the crowd
// over a span (the last 90 days): how many incidents Outcry opened, how many
// the official page acknowledged, and the median lead (seconds; positive:
// the crowd was ahead) over the acknowledged ones.
type LeadSummary struct {
	Days              int
	Incidents         int
	Acknowledged      int
	MedianLeadSeconds *int64
	// Acks are the acknowledgements of those incidents, by incident id
	// (the read paths add them to the open incident of the snapshot).
	Acks map[uint64]time.Time
}
