package detector

import (
	"sort"
	"sync/atomic"
	"time"

	"github.com/outcry/outcry/models"
)

// Snapshot is the in-memory status of every service that pages, widgets,
// badges and the status API read. The runner replaces it whole on each tick;
// readers never lock and never touch the database.
type Snapshot struct {
	cur atomic.Pointer[snapshotData]
}

type snapshotData struct {
	seq    uint64    // 1 for the first published snapshot, then one more each time
	at     time.Time // when it was published
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

// Published is the sequence number of the current snapshot (0 before the
// first) and when it was published: readers that arrange the whole list
// (pages of the catalogue) do so once per sequence number.
func (s *Snapshot) Published() (seq uint64, at time.Time) {
	d := s.cur.Load()
	return d.seq, d.at
}

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
	prev := s.cur.Load()
	at := prev.at // the tick's time, which every status carries
	if len(list) > 0 {
		at = list[0].UpdatedAt
	}
	d := &snapshotData{seq: prev.seq + 1, at: at, bySlug: make(map[string]*models.ServiceStatus, len(list)), all: list}
	for i := range list {
		d.bySlug[list[i].Service.Slug] = &list[i]
	}
	s.cur.Store(d)
}
