package handlers

import (
	"context"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
)

// countingLister lists no incidents and counts the calls.
type countingLister struct{ calls int }

func (l *countingLister) Incidents(context.Context, uint, int) ([]models.Incident, error) {
	l.calls++
	return nil, nil
}

func (l *countingLister) FindIncidents(context.Context, models.IncidentQuery) ([]models.ServiceIncident, error) {
	return nil, nil
}

func (l *countingLister) IncidentEvents(context.Context, uint, int) ([]models.Event, error) {
	return nil, nil
}

// The incident cache forgets services nobody viewed within incidentTTL
// (deleted ones included) instead of keeping every service ever shown.
func TestIncidentCacheDropsStaleServices(t *testing.T) {
	now := time.Unix(1_900_000_000, 0)
	lister := &countingLister{}
	h := &Handler{Deps: Deps{Incidents: lister, Now: func() time.Time { return now }}}
	var ic incidentCache
	ic.m = map[uint]cachedIncidents{}
	view := func(id uint) {
		t.Helper()
		if _, err := ic.get(context.Background(), h, models.ServiceStatus{Service: models.Service{ID: id}, Version: 1}); err != nil {
			t.Fatal(err)
		}
	}
	for id := uint(1); id <= 1000; id++ { // a large catalogue, viewed once
		view(id)
	}
	view(1) // still cached
	if lister.calls != 1000 {
		t.Fatalf("%d lists for 1000 services and a repeat, want 1000", lister.calls)
	}
	now = now.Add(incidentTTL)
	for id := uint(2001); id <= 2000+2*minIncidentSweep; id++ { // later, other services
		view(id)
	}
	if n := len(ic.m); n > 2*minIncidentSweep {
		t.Fatalf("%d entries cached, want only the %d services viewed within the TTL", n, 2*minIncidentSweep)
	}
}
