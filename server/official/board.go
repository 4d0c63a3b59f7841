package official

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/outcry/outcry/models"
)

// Board is what the read paths show of every service's official status,
// in memory: the leader's poller sets it after each poll, followers fill
// it from the database (Follow). Each entry has a version that changes
// whenever what it shows changes, or an incident of the service was
// acknowledged (pages mix it into their render keys).
type Board struct {
	mu sync.RWMutex
	m  map[uint]models.OfficialStatus
	at map[uint]time.Time // the stored row's stamp, for followers
	n  uint64
}

// NewBoard is an empty board.
func NewBoard() *Board {
	return &Board{m: map[uint]models.OfficialStatus{}, at: map[uint]time.Time{}}
}

// Official is a service's official status; false when it has none.
func (b *Board) Official(serviceID uint) (models.OfficialStatus, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	st, ok := b.m[serviceID]
	return st, ok
}

// Set records a service's official status as of stamp; the version
// changes if it differs from what the board held.
func (b *Board) Set(serviceID uint, st models.OfficialStatus, stamp time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old, ok := b.m[serviceID]
	st.Version = old.Version
	if ok && old.Same(st) && b.at[serviceID].Equal(stamp) {
		return
	}
	b.n++
	st.Version = b.n
	b.m[serviceID] = st
	b.at[serviceID] = stamp
}

// Bump changes a service's version (an incident was acknowledged).
func (b *Board) Bump(serviceID uint) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st, ok := b.m[serviceID]
	if !ok {
		return
	}
	b.n++
	st.Version = b.n
	b.m[serviceID] = st
}

// Forget drops services not in keep.
func (b *Board) Forget(keep func(uint) bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id := range b.m {
		if !keep(id) {
			delete(b.m, id)
			delete(b.at, id)
		}
	}
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
	for _, r := range rows {
		b.Set(r.ServiceID, models.OfficialStatusOf(r), r.UpdatedAt)
		if r.UpdatedAt.After(since) {
			since = r.UpdatedAt
		}
	}
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
