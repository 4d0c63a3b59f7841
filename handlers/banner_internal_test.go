package handlers

import (
	"fmt"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
)

// TestCorrelatedGroups: the banner's groups come from the open incidents
// of the snapshot: a group needs the least number of distinct services (a
// service with a global and a regional incident in it counts once), starts
// at its earliest incident, and groups are listed oldest first.
func TestCorrelatedGroups(t *testing.T) {
	at := time.Date(2026, 12, 2, 14, 2, 0, 0, time.UTC)
	g := func(id uint64) *uint64 { return &id }
	st := func(id uint, name string, in *models.Incident, regional ...models.Incident) *models.ServiceStatus {
		return &models.ServiceStatus{Service: models.Service{ID: id, Slug: fmt.Sprint("s", id), Name: name}, Level: models.LevelOutage, Incident: in, Regional: regional}
	}
	inc := func(start time.Duration, group *uint64) *models.Incident {
		return &models.Incident{StartedAt: at.Add(start), CorrelationID: group, Level: models.LevelOutage}
	}
	list := []*models.ServiceStatus{
		st(1, "Zed", inc(3*time.Minute, g(10)), *inc(0, g(10))), // global and regional in one group: once
		st(2, "Ann", inc(time.Minute, g(10))),
		st(3, "Bob", inc(2*time.Minute, g(20))),
		st(4, "Cat", inc(-time.Hour, g(30))),
		st(5, "Dan", inc(-time.Hour, g(30))),
		st(6, "Eve", inc(-time.Hour, nil)),
	}
	got := correlatedGroups(list, 2)
	if len(got) != 2 || got[0].ID != 30 || got[1].ID != 10 {
		t.Fatalf("groups %+v, want 30 then 10 (20 has one service)", got)
	}
	if s := got[1]; !s.Since.Equal(at) || len(s.Services) != 2 || s.Services[0].Name != "Ann" || s.Services[1].URL != "/s/s1" {
		t.Errorf("group 10: %+v", s)
	}
	if got := correlatedGroups(list, 3); len(got) != 0 {
		t.Errorf("with at least 3 services: %+v", got)
	}
}
