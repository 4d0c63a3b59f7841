package handlers

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/outcry/outcry/models"
)

// LeadDays is the span of the lead-time summary.
const LeadDays = 90

// officialView is a service's official status and its lead-time summary,
// as the read paths show them.
type officialView struct {
	Status  *models.OfficialStatus // nil: the service has no official source
	Lead    *models.LeadSummary    // nil: none, or it could not be read
	version uint64
}

// officialInputs mixes the official status's version into a service's
// render inputs, so a new official status (or an acknowledgement) renders
// the page, the status JSON and the widget's data again.
func (h *Handler) officialInputs(st models.ServiceStatus, inputs uint64) uint64 {
	if o, ok := h.officialOf(st); ok {
		return mix(inputs, o.Version+1)
	}
	return inputs
}

// officialOf is the board's entry for st's service, when it was read from
// the URL the service names now. The board takes no lock to read.
func (h *Handler) officialOf(st models.ServiceStatus) (models.OfficialStatus, bool) {
	if h.Official == nil {
		return models.OfficialStatus{}, false
	}
	o, ok := h.Official.Official(st.Service.ID)
	if !ok || o.Source != st.Service.OfficialStatusURL {
		return models.OfficialStatus{}, false
	}
	return o, true
}

// officialSuffix is what the widgets add to their count: " · official:
// major outage", or " · official: unavailable" while the page cannot be
// read (static/assets/widget.js says the same from the status JSON).
func officialSuffix(o models.OfficialStatus) string {
	if o.UnavailableSince != nil {
		return " · official: unavailable"
	}
	return " · official: " + strings.ReplaceAll(string(o.Status), "_", " ")
}

// official is what the read paths show of st's service's official status:
// the board's entry and, when there is one, the 90-day summary (read at
// most once per version of the service and of its official status, and
// every leadTTL).
func (h *Handler) official(ctx context.Context, st models.ServiceStatus) officialView {
	if h.Official == nil {
		return officialView{}
	}
	o, ok := h.Official.Official(st.Service.ID)
	if !ok || o.Source != st.Service.OfficialStatusURL {
		return officialView{} // none, or read from a URL the service no longer names
	}
	v := officialView{Status: &o, version: o.Version}
	if h.Leads == nil {
		return v
	}
	l, err := h.leads.get(ctx, h, st, o.Version)
	if err != nil {
		h.log.Warn("reading the official lead-time summary", "service", st.Service.Slug, "err", err)
		return v
	}
	v.Lead = &l
	return v
}

// leadTTL is how long a service's lead-time summary is reused while its
// versions stay the same.
const leadTTL = 15 * time.Second

// leadCache keeps each service's lead-time summary briefly, so a popular
// page costs at most one database read per service every leadTTL.
type leadCache struct {
	mu sync.Mutex
	m  map[uint]cachedLead
}

type cachedLead struct {
	version, official uint64
	at                time.Time
	sum               models.LeadSummary
}

func (lc *leadCache) get(ctx context.Context, h *Handler, st models.ServiceStatus, official uint64) (models.LeadSummary, error) {
	now := h.Now()
	lc.mu.Lock()
	e, ok := lc.m[st.Service.ID]
	lc.mu.Unlock()
	if ok && e.version == st.Version && e.official == official && now.Sub(e.at) < leadTTL {
		return e.sum, nil
	}
	sum, err := h.Leads.LeadSummary(ctx, st.Service.ID, now.Add(-LeadDays*24*time.Hour))
	if err != nil {
		return sum, err
	}
	sum.Days = LeadDays
	lc.mu.Lock()
	if lc.m == nil {
		lc.m = map[uint]cachedLead{}
	}
	lc.m[st.Service.ID] = cachedLead{version: st.Version, official: official, at: now, sum: sum}
	lc.mu.Unlock()
	return sum, nil
}
