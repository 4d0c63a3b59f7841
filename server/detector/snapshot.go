package detector

import (
	"sort"
	"sync/atomic"

	"github.com/outcry/outcry/models"
)

// Snapshot is the in-memory status of every service that pages, widgets,
// badges and the status API read. The runner replaces it whole on each tick;
// readers never lock and never touch the database.
type Snapshot struct {
	cur atomic.Pointer[snapshotData]
}

type snapshotData struct {
	bySlug map[string]*models.ServiceStatus
	all    []models.ServiceStatus // sorted: worst level first, then most reports, then slug
}

// NewSnapshot returns an empty snapshot.
func NewSnapshot() *Snapshot {
	s := &Snapshot{}
	s.cur.Store(&snapshotData{bySlug: map[string]*models.ServiceStatus{}})
	return s
}

// Status returns one service's status.
func (s *Snapshot) Status(slug string) (models.ServiceStatus, bool) {
	st, ok := s.cur.Load().bySlug[slug]
	if !ok {
		return models.ServiceStatus{}, false
	}
	return *st, true
}

// All returns every service's status, those with problems first.
func (s *Snapshot) All() []models.ServiceStatus { return s.cur.Load().all }

// Publish replaces the snapshot with list.
func (s *Snapshot) Publish(list []models.ServiceStatus) {
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.Level.Rank() != b.Level.Rank() {
			return a.Level.Rank() > b.Level.Rank()
		}
		if a.Reports15m != b.Reports15m {
			return a.Reports15m > b.Reports15m
		}
		return a.Service.Slug < b.Service.Slug
	})
	d := &snapshotData{bySlug: make(map[string]*models.ServiceStatus, len(list)), all: list}
	for i := range list {
		d.bySlug[list[i].Service.Slug] = &list[i]
	}
	s.cur.Store(d)
}
