package leader

import (
	"context"
	"log/slog"
	"time"

	"github.com/outcry/outcry/models"
)

// Statuses are where the leader publishes what the status snapshot shows,
// for followers to serve (implemented by server/store; the leader's side is
// fenced by its term).
type Statuses interface {
	PutStatuses(ctx context.Context, seq int64, changed []models.ServiceStatus, removed []uint) error
}

// StatusSource is a follower's side of Statuses.
type StatusSource interface {
	StatusesSince(ctx context.Context, seq int64) ([]models.ServiceStatus, int64, error)
}

// Snapshot is the in-memory status snapshot the read paths serve from
// (server/detector.Snapshot).
type Snapshot interface {
	All() []models.ServiceStatus
	Status(slug string) (models.ServiceStatus, bool)
	Publish(list []models.ServiceStatus)
	// Published is the sequence number of the current snapshot (one more
	// at each Publish).
	Published() (seq uint64, at time.Time)
}

// Every is how often statuses are published and followed: a follower's
// pages are at most about two of these behind the leader's.
const Every = time.Second

// PublishChunk is how many statuses one write of Publish carries, each in
// a transaction of its own with its own sequence number. A fenced write
// holds the lease row (FOR SHARE) until it commits, and the renewal waits
// for it: all 50,000 statuses of a start in one transaction held it for
// longer than the lease lives, and the leader stepped down, again and
// again, while it learned. It also bounds the memory of their JSON.
const PublishChunk = 1000

// Publish writes the statuses of snap that changed (by Version) to st every
// Every until ctx ends: the leader's side, PublishChunk at a time. Sequence
// numbers start at term<<32, so a later tenure's are always larger; a
// follower may see part of what changed in one round before the rest, as
// it would see them in two rounds. A round notes which services changed
// and reads each chunk's statuses from the snapshot as it writes them: the
// newest, and nothing of an older snapshot is kept while a round of 50,000
// takes its tens of seconds (holding the round's statuses kept their chart
// series alive beside the runner's newer ones: 190 MB at 50,000 services).
func Publish(ctx context.Context, term int64, snap Snapshot, st Statuses, log *slog.Logger) {
	seq := term << 32
	sent := map[uint]uint64{} // service → version stored
	var whole uint64          // the snapshot last stored whole: nothing to compare until the next
	t := time.NewTicker(Every)
	defer t.Stop()
	for ; ; waitRound(ctx, t) {
		if ctx.Err() != nil {
			return
		}
		// The runner publishes a snapshot per tick (15 s); comparing
		// 50,000 versions every second in between was a quarter of a
		// second of CPU per tick.
		cur, _ := snap.Published()
		if cur == whole {
			continue
		}
		all := snap.All()
		var changed []string // slugs
		live := make(map[uint]bool, len(all))
		for _, s := range all {
			live[s.Service.ID] = true
			if v, ok := sent[s.Service.ID]; !ok || v != s.Version {
				changed = append(changed, s.Service.Slug)
			}
		}
		all = nil
		var removed []uint
		for id := range sent {
			if !live[id] {
				removed = append(removed, id)
			}
		}
		part := make([]models.ServiceStatus, 0, min(len(changed), PublishChunk))
		for len(changed)+len(removed) > 0 {
			n := min(len(changed), PublishChunk)
			part = part[:0]
			for _, slug := range changed[:n] {
				// Gone or renamed since: the next round finds it.
				if s, ok := snap.Status(slug); ok {
					part = append(part, s)
				}
			}
			seq++
			if err := st.PutStatuses(ctx, seq, part, removed); err != nil {
				if ctx.Err() == nil {
					log.Warn("publishing statuses for followers failed; retrying", "err", err)
				}
				break // the rest at the next round
			}
			for _, s := range part {
				sent[s.Service.ID] = s.Version
			}
			for _, id := range removed {
				delete(sent, id)
			}
			changed, removed = changed[n:], nil
		}
		if len(changed)+len(removed) == 0 {
			whole = cur
		}
	}
}

// waitRound waits for the next round of Publish (or ctx's end).
func waitRound(ctx context.Context, t *time.Ticker) {
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Follow keeps snap at the statuses the leader published, reading what
// changed every Every until ctx ends: a follower's side. Services gone
// from the catalogue (known says) are left out. first, if set, gets the
// first read's error (nil once the snapshot is filled).
func Follow(ctx context.Context, src StatusSource, snap Snapshot, known func(slug string) bool, log *slog.Logger, first func(error)) {
	var seq int64
	cur := map[uint]models.ServiceStatus{}
	failing := false
	t := time.NewTicker(Every)
	defer t.Stop()
	for {
		got, next, err := src.StatusesSince(ctx, seq)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			failing = true
			log.Warn("reading the leader's statuses failed; serving the last ones until it works", "err", err)
		case err == nil:
			if failing {
				log.Info("reading the leader's statuses works again")
			}
			failing = false
			for _, s := range got {
				cur[s.Service.ID] = s
			}
			seq = next
			// Filtered, not forgotten: a service this replica's catalogue
			// has not loaded yet is shown once it has.
			list := make([]models.ServiceStatus, 0, len(cur))
			for _, s := range cur {
				if known(s.Service.Slug) {
					list = append(list, s)
				}
			}
			snap.Publish(list)
		}
		if first != nil {
			first(err)
			first = nil
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
