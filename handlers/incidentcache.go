package handlers

import (
	"context"
	"sync"
	"time"

	"github.com/outcry/outcry/models"
)

// incidentTTL is how long a service's incident list is reused while its
// status snapshot stays the same.
const incidentTTL = 15 * time.Second

// pageIncidents is how many incidents a service page lists.
const pageIncidents = 8

// incidentCache keeps each service's latest incidents briefly, so a popular
// page costs at most one database read per service every incidentTTL.
// Entries past incidentTTL are never served again; they are dropped
// whenever the map has doubled since the last sweep, so services deleted,
// or no longer viewed, do not stay for the life of the process.
type incidentCache struct {
	mu      sync.Mutex
	m       map[uint]cachedIncidents
	sweepAt int // the size at which the next insert sweeps
}

// minIncidentSweep is the smallest sweepAt: a small cache is never swept.
const minIncidentSweep = 64

type cachedIncidents struct {
	version uint64
	at      time.Time
	list    []models.Incident
}

// get returns st's service's incidents, newest first.
func (ic *incidentCache) get(ctx context.Context, h *Handler, st models.ServiceStatus) ([]models.Incident, error) {
	if h.Incidents == nil || st.Service.ID == 0 {
		return nil, nil
	}
	now := h.Now()
	ic.mu.Lock()
	e, ok := ic.m[st.Service.ID]
	ic.mu.Unlock()
	if ok && e.version == st.Version && now.Sub(e.at) < incidentTTL {
		return e.list, nil
	}
	list, err := h.Incidents.Incidents(ctx, st.Service.ID, pageIncidents)
	if err != nil {
		return nil, err
	}
	ic.mu.Lock()
	if len(ic.m) >= max(ic.sweepAt, minIncidentSweep) {
		for id, e := range ic.m {
			if now.Sub(e.at) >= incidentTTL {
				delete(ic.m, id)
			}
		}
		ic.sweepAt = 2 * len(ic.m)
	}
	ic.m[st.Service.ID] = cachedIncidents{version: st.Version, at: now, list: list}
	ic.mu.Unlock()
	return list, nil
}
