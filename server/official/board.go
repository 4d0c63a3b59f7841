package official

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/outcry/outcry/models"
)

// Board is what the read paths show of every service's official status,
// in memory: the leader's poller sets it after each poll, followers fill
// it from the database (Follow). Each entry has a version that changes
// whenever what it shows changes, or an incident of the service was
// acknowledged (pages mix it into their render keys).
//
// Readers take no lock: the map they read is never changed once published,
// and writers (a poll that changed something, a follower's read, an
// acknowledgement: seconds apart) publish a changed copy. The status JSON
// and the embed read it on every request, on every core.
type Board struct {
	cur atomic.Pointer[map[uint]models.OfficialStatus]
	mu  sync.Mutex         // writers
	at  map[uint]time.Time // the stored row's stamp, for followers (under mu)
	n   uint64             // the last version given (under mu)
}

// NewBoard is an empty board.
func NewBoard() *Board {
	b := &Board{at: map[uint]time.Time{}}
	b.cur.Store(&map[uint]models.OfficialStatus{})
	return b
}

// Official is a service's official status; false when it has none.
func (b *Board) Official(serviceID uint) (models.OfficialStatus, bool) {
	st, ok := (*b.cur.Load())[serviceID]
	return st, ok
}

// update publishes a copy of the board changed by f, if f changed it.
// The caller holds mu.
func (b *Board) update(f func(m map[uint]models.OfficialStatus) bool) {
	next := maps.Clone(*b.cur.Load())
	if f(next) {
		b.cur.Store(&next)
	}
}

// Set records a service's official status as of stamp; the version
// changes if it differs from what the board held.
func (b *Board) Set(serviceID uint, st models.OfficialStatus, stamp time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.update(func(m map[uint]models.OfficialStatus) bool { return b.set(m, serviceID, st, stamp) })
}

// set is Set on the draft m; it reports whether it changed m.
func (b *Board) set(m map[uint]models.OfficialStatus, serviceID uint, st models.OfficialStatus, stamp time.Time) bool {
	old, ok := m[serviceID]
	st.Version = old.Version
	if ok && old.Same(st) && b.at[serviceID].Equal(stamp) {
		return false
	}
	b.n++
	st.Version = b.n
	m[serviceID] = st
	b.at[serviceID] = stamp
	return true
}

// Bump changes a service's version (an incident was acknowledged).
func (b *Board) Bump(serviceID uint) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.update(func(m map[uint]models.OfficialStatus) bool {
		st, ok := m[serviceID]
		if !ok {
			return false
		}
		b.n++
		st.Version = b.n
		m[serviceID] = st
		return true
	})
}

// Forget drops services not in keep.
func (b *Board) Forget(keep func(uint) bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.update(func(m map[uint]models.OfficialStatus) bool {
		changed := false
		for id := range m {
			if !keep(id) {
				delete(m, id)
				delete(b.at, id)
				changed = true
			}
		}
		return changed
	})
}

// Sources is where a board reads the stored states (server/store).
type Sources interface {
	OfficialSourcesSince(ctx context.Context, t time.Time) ([]models.OfficialSource, error)
}

// Load reads the rows stamped at or after since into the board and
// returns the newest stamp seen (since itself if none).
func (b *Board) Load(ctx context.Context, src Sources, since time.Time) (time.Time, error) {
	rows, err := src.OfficialSourcesSince(ctx, since)
	if err != nil {
		return since, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.update(func(m map[uint]models.OfficialStatus) bool {
		changed := false
		for _, r := range rows {
			changed = b.set(m, r.ServiceID, models.OfficialStatusOf(r), r.UpdatedAt) || changed
			if r.UpdatedAt.After(since) {
				since = r.UpdatedAt
			}
		}
		return changed
	})
	return since, nil
}

// FollowEvery is how often a follower reads what changed.
const FollowEvery = 2 * time.Second

// Follow keeps the board at the stored states until ctx ends: a follower's
// side (the leader's poller sets its board itself). Rows stamped exactly at
// the last stamp are read again, so a row written in the same instant as
// another is not missed.
func (b *Board) Follow(ctx context.Context, src Sources, since time.Time, every time.Duration, log *slog.Logger) {
	if every <= 0 {
		every = FollowEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s, err := b.Load(ctx, src, since)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			failing = true
			log.Warn("reading official statuses failed; pages keep the last ones read", "err", err)
		case err == nil:
			if failing {
				log.Info("reading official statuses works again")
			}
			failing, since = false, s
		}
	}
}
