package leader_test

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"time"
	"weak"

	"github.com/outcry/outcry/internal/testkit"
	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/detector"
	"github.com/outcry/outcry/server/leader"
	"github.com/outcry/outcry/server/store"
	"github.com/outcry/outcry/server/store/storetest"
)

func openStore(t *testing.T, dbURL string) *store.Store {
	st, err := store.Open(context.Background(), dbURL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, 10*time.Second, what, cond)
}

// duty records the tenures an elector's Lead ran and whether it follows.
type duty struct {
	mu        sync.Mutex
	terms     []int64
	leading   bool
	following bool
}

func (d *duty) lead(ctx context.Context, term int64) {
	d.mu.Lock()
	d.terms, d.leading = append(d.terms, term), true
	d.mu.Unlock()
	<-ctx.Done()
	d.mu.Lock()
	d.leading = false
	d.mu.Unlock()
}

func (d *duty) follow(ctx context.Context) {
	d.mu.Lock()
	d.following = true
	d.mu.Unlock()
	<-ctx.Done()
	d.mu.Lock()
	d.following = false
	d.mu.Unlock()
}

func (d *duty) state() (bool, bool, []int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.leading, d.following, append([]int64(nil), d.terms...)
}

// Two replicas: one leads and runs its duties, the other follows; when the
// leader resigns (SIGTERM), the other leads at its next try with the next
// term, and the first runs no leader duties any more.
func TestOneLeadsAndHandsOverOnResign(t *testing.T) {
	dbURL := storetest.Postgres(t)
	var da, db duty
	opts := func(st *store.Store, holder string, d *duty) leader.Options {
		return leader.Options{Lease: st, Holder: holder, TTL: 3 * time.Second, Renew: 100 * time.Millisecond,
			Log: slog.New(slog.DiscardHandler), Lead: d.lead, Follow: d.follow}
	}
	a := leader.New(opts(openStore(t, dbURL), "a", &da))
	b := leader.New(opts(openStore(t, dbURL), "b", &db))
	ctx := context.Background()
	if term, ok := a.Campaign(ctx); !ok || term != 1 {
		t.Fatalf("a: term %d leading %v", term, ok)
	}
	if _, ok := b.Campaign(ctx); ok {
		t.Fatal("b leads beside a")
	}
	waitFor(t, "a's duties and b following", func() bool {
		la, _, _ := da.state()
		_, fb, _ := db.state()
		return la && fb
	})
	bctx, stopB := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { b.Run(bctx); close(done) }()
	a.Resign()
	waitFor(t, "b to lead", func() bool { lb, _, _ := db.state(); return lb })
	if la, _, _ := da.state(); la {
		t.Error("a still runs leader duties after resigning")
	}
	if term, ok := b.Leading(); !ok || term != 2 {
		t.Errorf("b leads with term %d (%v); want 2", term, ok)
	}
	stopB()
	<-done
	if _, ok := b.Leading(); ok {
		t.Error("b still leads after Run ended")
	}
	if _, _, terms := db.state(); len(terms) != 1 || terms[0] != 2 {
		t.Errorf("b's tenures %v; want [2]", terms)
	}
}

// What the leader's snapshot shows reaches a follower's snapshot through
// the database; a service the follower's catalogue does not know is not
// shown.
func TestFollowerSnapshotFollowsTheLeader(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dbURL := storetest.Postgres(t)
	st := openStore(t, dbURL)
	var svcs []models.Service
	for _, slug := range []string{"chatgpt", "sora"} {
		s := models.Service{Slug: slug, Name: slug, Problems: []string{"login"}}
		if err := st.CreateService(ctx, &s); err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, s)
	}
	term, _, err := st.AcquireLease(ctx, "leader", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	mine := detector.NewSnapshot()
	mine.Publish([]models.ServiceStatus{{Service: svcs[0], Level: models.LevelOutage, Reports15m: 40, Version: 1}, {Service: svcs[1], Version: 1}})
	log := slog.New(slog.DiscardHandler)
	go leader.Publish(ctx, term, mine, st.Fenced(store.Fence{Holder: "leader", Term: term}), log)

	theirs := detector.NewSnapshot()
	known := map[string]bool{"chatgpt": true}
	var mu sync.Mutex
	first := make(chan error, 1)
	go leader.Follow(ctx, openStore(t, dbURL), theirs, func(s string) bool { mu.Lock(); defer mu.Unlock(); return known[s] }, log,
		func(err error) { first <- err })
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the outage on the follower", func() bool {
		s, ok := theirs.Status("chatgpt")
		return ok && s.Level == models.LevelOutage && s.Reports15m == 40
	})
	if _, ok := theirs.Status("sora"); ok {
		t.Error("the follower shows a service its catalogue does not know")
	}
	mu.Lock()
	known["sora"] = true
	mu.Unlock()
	mine.Publish([]models.ServiceStatus{{Service: svcs[0], Level: models.LevelOK, Version: 2}, {Service: svcs[1], Version: 1}})
	waitFor(t, "the change and the newly known service", func() bool {
		s, ok := theirs.Status("chatgpt")
		_, sora := theirs.Status("sora")
		return ok && s.Level == models.LevelOK && sora
	})
}

// recordingStatuses is the fenced store, noting what each write carried.
type recordingStatuses struct {
	leader.Statuses
	mu    sync.Mutex
	sizes []int
	seqs  []int64
}

func (r *recordingStatuses) PutStatuses(ctx context.Context, seq int64, changed []models.ServiceStatus, removed []uint) error {
	r.mu.Lock()
	r.sizes, r.seqs = append(r.sizes, len(changed)), append(r.seqs, seq)
	r.mu.Unlock()
	return r.Statuses.PutStatuses(ctx, seq, changed, removed)
}

// publishingLeader is a PostgreSQL store with 2*PublishChunk+7 services and
// the leader lease held, for the publishing tests.
func publishingLeader(ctx context.Context, t *testing.T) (*store.Store, []models.Service, int64) {
	t.Helper()
	st := openStore(t, storetest.Postgres(t))
	list := make([]models.Service, 2*leader.PublishChunk+7)
	for i := range list {
		list[i] = models.Service{Slug: fmt.Sprintf("svc-%d", i), Name: "S", Problems: []string{"login"}}
	}
	if err := st.InsertServices(ctx, list); err != nil {
		t.Fatal(err)
	}
	svcs, err := st.Services(ctx)
	if err != nil {
		t.Fatal(err)
	}
	term, _, err := st.AcquireLease(ctx, "leader", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return st, svcs, term
}

// A start publishes every service's status at once: it goes in writes of at
// most PublishChunk (each a short transaction holding the lease row, so
// the lease can be renewed between them), with growing sequence numbers,
// and a follower reading from the beginning gets every status.
func TestPublishWritesInChunks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, svcs, term := publishingLeader(ctx, t)
	n := len(svcs)
	var err error
	statuses := make([]models.ServiceStatus, len(svcs))
	for i, s := range svcs {
		statuses[i] = models.ServiceStatus{Service: s, Level: models.LevelOK, Reports15m: i, Version: 1}
	}
	snap := detector.NewSnapshot()
	snap.Publish(statuses)
	rec := &recordingStatuses{Statuses: st.Fenced(store.Fence{Holder: "leader", Term: term})}
	go leader.Publish(ctx, term, snap, rec, slog.New(slog.DiscardHandler))
	var got []models.ServiceStatus
	waitFor(t, "every status published", func() bool {
		got, _, err = st.StatusesSince(ctx, 0)
		return err == nil && len(got) == n
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	total := 0
	for i, size := range rec.sizes {
		if size > leader.PublishChunk {
			t.Errorf("write %d carried %d statuses, more than %d", i, size, leader.PublishChunk)
		}
		if i > 0 && rec.seqs[i] <= rec.seqs[i-1] {
			t.Errorf("sequence numbers %v do not grow", rec.seqs)
		}
		total += size
	}
	if total != n {
		t.Errorf("%d statuses written in %v, want %d", total, rec.sizes, n)
	}
	want := map[uint]int{}
	for _, s := range statuses {
		want[s.Service.ID] = s.Reports15m
	}
	for _, s := range got {
		if r, ok := want[s.Service.ID]; !ok || s.Reports15m != r {
			t.Fatalf("service %d published with %d reports, want %d", s.Service.ID, s.Reports15m, r)
		}
		delete(want, s.Service.ID)
	}
}

// heldStatuses is the fenced store whose first write waits for release.
type heldStatuses struct {
	leader.Statuses
	first   chan struct{} // closed when the first write has begun
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	written map[uint64]int // statuses written, by version
}

func (h *heldStatuses) PutStatuses(ctx context.Context, seq int64, changed []models.ServiceStatus, removed []uint) error {
	wait := false
	h.once.Do(func() { close(h.first); wait = true })
	if wait {
		<-h.release
	}
	h.mu.Lock()
	for _, s := range changed {
		h.written[s.Version]++
	}
	h.mu.Unlock()
	return h.Statuses.PutStatuses(ctx, seq, changed, removed)
}

// A round of publishing that takes long (a start's 50,000 statuses) keeps
// nothing of the snapshot it began with: the chunks after the first carry
// the statuses of the snapshot as it is when they are written, and the
// older statuses (their chart series: 190 MB at 50,000 services) can be
// collected meanwhile.
func TestPublishKeepsNoOlderSnapshot(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, svcs, term := publishingLeader(ctx, t)
	n := len(svcs)
	var err error
	at := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	snapshot := func(version uint64) ([]models.ServiceStatus, map[uint]weak.Pointer[models.Bucket]) {
		out := make([]models.ServiceStatus, len(svcs))
		ptrs := map[uint]weak.Pointer[models.Bucket]{}
		for i, s := range svcs {
			series := []models.Bucket{{Start: at, Count: int(version)}, {Start: at.Add(15 * time.Minute), Count: i}}
			out[i] = models.ServiceStatus{Service: s, Level: models.LevelOK, Series: series, Version: version}
			ptrs[s.ID] = weak.Make(&series[0])
		}
		return out, ptrs
	}
	snap := detector.NewSnapshot()
	old, oldSeries := snapshot(1)
	snap.Publish(old)
	old = nil
	held := &heldStatuses{Statuses: st.Fenced(store.Fence{Holder: "leader", Term: term}), first: make(chan struct{}), release: make(chan struct{}), written: map[uint64]int{}}
	go leader.Publish(ctx, term, snap, held, slog.New(slog.DiscardHandler))
	<-held.first // the round has begun: its first chunk is being written
	newer, _ := snapshot(2)
	snap.Publish(newer)
	newer = nil
	runtime.GC()
	runtime.GC()
	kept := 0
	for _, p := range oldSeries {
		if p.Value() != nil {
			kept++
		}
	}
	close(held.release)
	t.Logf("older statuses still held while the first chunk was written: %d of %d", kept, n)
	if kept > leader.PublishChunk {
		t.Errorf("while the first chunk was written, %d statuses of the older snapshot were still held (more than the chunk of %d)", kept, leader.PublishChunk)
	}
	var got []models.ServiceStatus
	waitFor(t, "every status published", func() bool {
		got, _, err = st.StatusesSince(ctx, 0)
		return err == nil && len(got) == n
	})
	waitFor(t, "the newer snapshot published", func() bool {
		got, _, err = st.StatusesSince(ctx, 0)
		if err != nil {
			return false
		}
		for _, s := range got {
			if s.Version != 2 || len(s.Series) != 2 || s.Series[0].Count != 2 {
				return false
			}
		}
		return true
	})
	// The chunks after the first carried the newer statuses at once: only
	// the first chunk's services were written as they were before.
	held.mu.Lock()
	defer held.mu.Unlock()
	if held.written[1] > leader.PublishChunk || held.written[2] != n {
		t.Errorf("written %d statuses of the older snapshot and %d of the newer, want at most %d and %d", held.written[1], held.written[2], leader.PublishChunk, n)
	}
}

// writeLog is the fenced store, noting each write's statuses (service and
// version) in order.
type writeLog struct {
	leader.Statuses
	mu     sync.Mutex
	writes [][]models.ServiceStatus
}

func (w *writeLog) PutStatuses(ctx context.Context, seq int64, changed []models.ServiceStatus, removed []uint) error {
	if err := w.Statuses.PutStatuses(ctx, seq, changed, removed); err != nil {
		return err
	}
	w.mu.Lock()
	w.writes = append(w.writes, append([]models.ServiceStatus(nil), changed...))
	w.mu.Unlock()
	return nil
}

// count is how many statuses of version v have been written, and in how
// many writes.
func (w *writeLog) count(v uint64) (statuses, writes int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, part := range w.writes {
		n := 0
		for _, s := range part {
			if s.Version == v {
				n++
			}
		}
		statuses += n
		if n > 0 {
			writes++
		}
	}
	return statuses, writes
}

// A change of every chart at once (each chart's band after a warm start,
// every chart moving on at a bucket boundary) goes out at most Trickle
// statuses a round; a change of anything else (here a level) goes out in
// the round that sees it, before the charts still waiting, and the charts
// all arrive, none overwriting the newer status.
func TestPublishTricklesChartsAndNeverDelaysALevel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, svcs, term := publishingLeader(ctx, t)
	n := len(svcs)
	budget := leader.Trickle(n)
	if budget >= n/4 {
		t.Fatalf("Trickle(%d) = %d: too few services to test it", n, budget)
	}
	at := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	snapshot := func(version uint64, outage string) []models.ServiceStatus {
		out := make([]models.ServiceStatus, len(svcs))
		for i, s := range svcs {
			out[i] = models.ServiceStatus{Service: s, Level: models.LevelOK, HeadVersion: 1, Version: version,
				Series: []models.Bucket{{Start: at, Count: int(version)}}}
			if s.Slug == outage {
				out[i].Level, out[i].HeadVersion, out[i].Version = models.LevelOutage, 2, 3
			}
		}
		return out
	}
	snap := detector.NewSnapshot()
	snap.Publish(snapshot(1, ""))
	log := &writeLog{Statuses: st.Fenced(store.Fence{Holder: "leader", Term: term})}
	go leader.Publish(ctx, term, snap, log, slog.New(slog.DiscardHandler))
	waitFor(t, "every status published", func() bool { got, _ := log.count(1); return got == n })

	snap.Publish(snapshot(2, "")) // every chart changed, nothing else
	waitFor(t, "the first charts written", func() bool { got, _ := log.count(2); return got > 0 })
	// The last service in the queue (the snapshot's order: by slug) goes down.
	last := svcs[0].Slug
	for _, s := range svcs {
		last = max(last, s.Slug)
	}
	snap.Publish(snapshot(2, last))
	waitFor(t, "the outage written", func() bool { got, _ := log.count(3); return got == 1 })
	charts, _ := log.count(2)
	t.Logf("%d of %d charts written before the outage (Trickle %d a round)", charts, n, budget)
	if charts > 3*budget || n-charts < n/2 {
		t.Errorf("the outage was written after %d of the %d charts waiting (at most %d a round)", charts, n, budget)
	}
	// n/budget rounds of a second each.
	testkit.Eventually(t, 30*time.Second, "every chart written", func() bool { got, _ := log.count(2); return got == n-1 })
	log.mu.Lock()
	for i, part := range log.writes {
		charts := 0
		for _, s := range part {
			if s.Version == 2 {
				charts++
			}
		}
		if charts > budget {
			t.Errorf("write %d carried %d charts, more than %d", i, charts, budget)
		}
	}
	log.mu.Unlock()
	got, _, err := st.StatusesSince(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range got {
		want := uint64(2)
		if s.Service.Slug == last {
			want = 3
		}
		if s.Version != want || len(s.Series) != 1 || s.Series[0].Count != 2 {
			t.Fatalf("%s stored at version %d with chart %v, want version %d", s.Service.Slug, s.Version, s.Series, want)
		}
	}
}

// Trickle lets every chart of a catalogue out within five minutes, and
// never fewer than 250 a second (a catalogue of 250 services or fewer
// publishes every change in the round that sees it).
func TestTricklePace(t *testing.T) {
	for _, c := range []struct{ services, want int }{{0, 250}, {250, 250}, {50_000, 250}, {75_000, 250}, {75_001, 251}, {300_000, 1000}} {
		if got := leader.Trickle(c.services); got != c.want {
			t.Errorf("Trickle(%d) = %d, want %d", c.services, got, c.want)
		}
	}
}
