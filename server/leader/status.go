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

// Trickle is how many statuses whose chart alone changed Publish writes in
// a round (a second) when it has more waiting: at least trickleFloor, more
// in a catalogue so large that its charts would not all go out in
// trickleSpan (services/trickleSpan a second). A chart changes alone for
// every service at once twice: at each bucket boundary (every 15 minutes
// each chart moves on) and when the models of a start have learned (each
// chart gets its band); written at once, those 50,000 statuses were ~1.5 s
// of the leader's CPU (and 4 s of PostgreSQL's) in the tick after, which
// then took more than its 1 s. At 250 a second that is ~8 ms of CPU a
// second; a follower shows a new chart at most services/250 seconds late
// (50,000: 200 s, within the bucket the chart moved on to; 250 or fewer:
// at once, as before). Every other change (a level, a count, an incident,
// the service itself) is written in the round that sees it, before any of
// these.
func Trickle(services int) int {
	return max(trickleFloor, (services+int(trickleSpan/Every)-1)/int(trickleSpan/Every))
}

const (
	trickleFloor = 250
	trickleSpan  = 5 * time.Minute
)

// Publish writes the statuses of snap that changed (by Version) to st every
// Every until ctx ends: the leader's side, PublishChunk at a time. Sequence
// numbers start at term<<32, so a later tenure's are always larger; a
// follower may see part of what changed in one round before the rest, as
// it would see them in two rounds. A status whose head changed (HeadVersion:
// anything shown but the chart), or that this tenure has not written yet,
// is written in the round that sees it; one whose chart alone changed waits
// in a queue, oldest first, and each round writes the next Trickle of them
// after the others (still the newest status: a later head change writes it
// at once). A round notes which services changed and reads each chunk's
// statuses from the snapshot as it writes them: the newest, and nothing of
// an older snapshot is kept while a round of 50,000 takes its tens of
// seconds (holding the round's statuses kept their chart series alive
// beside the runner's newer ones: 190 MB at 50,000 services).
func Publish(ctx context.Context, term int64, snap Snapshot, st Statuses, log *slog.Logger) {
	p := &publisher{seq: term << 32, snap: snap, st: st, log: log, sent: map[uint]sentStatus{}, queued: map[uint]bool{}}
	t := time.NewTicker(Every)
	defer t.Stop()
	for ; ; waitRound(ctx, t) {
		if ctx.Err() != nil {
			return
		}
		p.round(ctx)
	}
}

// publisher is Publish's state between rounds.
type publisher struct {
	seq  int64
	snap Snapshot
	st   Statuses
	log  *slog.Logger
	sent map[uint]sentStatus // what is stored, by service
	// compared is the snapshot whose changes were last noted: the runner
	// publishes one a tick (15 s), and comparing 50,000 versions every
	// second in between was a quarter of a second of CPU per tick.
	compared uint64
	services int            // in that snapshot
	later    []queuedStatus // changes of the chart alone not yet written, oldest first
	queued   map[uint]bool  // services in later
}

type sentStatus struct{ version, head uint64 }

type queuedStatus struct {
	id   uint
	slug string
}

// round is one round of Publish: the changes of a new snapshot that are not
// the chart's alone, then the next Trickle of those that are.
func (p *publisher) round(ctx context.Context) {
	if cur, _ := p.snap.Published(); cur != p.compared {
		now, removed := p.compare()
		if !p.write(ctx, now, removed) {
			return // compared again at the next round
		}
		p.compared = cur
	}
	if len(p.later) == 0 {
		return
	}
	budget, took := Trickle(p.services), 0
	var slugs []string
	for _, q := range p.later {
		if len(slugs) == budget {
			break
		}
		took++
		if s, ok := p.snap.Status(q.slug); ok && s.Service.ID == q.id && p.sent[q.id].version != s.Version {
			slugs = append(slugs, q.slug)
		} // else gone or renamed (the next comparison finds it), or written already
	}
	if !p.write(ctx, slugs, nil) {
		return // all of them again at the next round
	}
	for _, q := range p.later[:took] {
		delete(p.queued, q.id)
	}
	p.later = p.later[took:]
	if len(p.later) == 0 {
		p.later = nil
	}
}

// compare notes what changed in the current snapshot since it was stored:
// the slugs to write now, the services removed; the changes of the chart
// alone join later.
func (p *publisher) compare() (now []string, removed []uint) {
	all := p.snap.All()
	p.services = len(all)
	live := make(map[uint]bool, len(all))
	for i := range all {
		s := &all[i]
		live[s.Service.ID] = true
		was, ok := p.sent[s.Service.ID]
		switch {
		case ok && was.version == s.Version:
		case !ok || was.head != s.HeadVersion:
			now = append(now, s.Service.Slug)
		case !p.queued[s.Service.ID]:
			p.queued[s.Service.ID] = true
			p.later = append(p.later, queuedStatus{s.Service.ID, s.Service.Slug})
		}
	}
	for id := range p.sent {
		if !live[id] {
			removed = append(removed, id)
		}
	}
	return now, removed
}

// write writes the statuses of slugs (read from the snapshot now) and
// removes removed, PublishChunk at a time, and reports whether all went.
func (p *publisher) write(ctx context.Context, slugs []string, removed []uint) bool {
	part := make([]models.ServiceStatus, 0, min(len(slugs), PublishChunk))
	for len(slugs)+len(removed) > 0 {
		n := min(len(slugs), PublishChunk)
		part = part[:0]
		for _, slug := range slugs[:n] {
			// Gone or renamed since: the next comparison finds it.
			if s, ok := p.snap.Status(slug); ok {
				part = append(part, s)
			}
		}
		p.seq++
		if err := p.st.PutStatuses(ctx, p.seq, part, removed); err != nil {
			if ctx.Err() == nil {
				p.log.Warn("publishing statuses for followers failed; retrying", "err", err)
			}
			return false // the rest at the next round
		}
		for _, s := range part {
			p.sent[s.Service.ID] = sentStatus{s.Version, s.HeadVersion}
		}
		for _, id := range removed {
			delete(p.sent, id)
		}
		slugs, removed = slugs[n:], nil
	}
	return true
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
