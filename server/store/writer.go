package store

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/outcry/outcry/models"
)

// Writer stores reports by group commit: handlers hand a report to Write and
// wait; one goroutine takes whatever has queued up, inserts it in a single
// transaction, commits, and only then releases every waiting handler. One
// fsync serves a whole batch, so durability costs little under a surge.
//
// A batch also waits, briefly, for reports announced but not yet queued
// (Announce: their admission is still under way), as PostgreSQL's
// commit_delay waits when commit_siblings transactions are active. Without
// that wait, after a commit releases a wave of handlers, the first report
// of the next wave to reach the writer is committed alone, and the rest of
// the wave waits for that lone fsync: half the commits of a busy writer
// held one report (measured in docs/benchmarks.md).
type Writer struct {
	ins      inserter // owned by the writer goroutine
	log      *slog.Logger
	queue    chan *pending
	maxBatch int

	coming  atomic.Int64  // reports announced and not yet queued or withdrawn
	taken   atomic.Uint64 // reports taken off the queue into batches (tests watch it)
	settled chan struct{} // a token whenever coming drops to zero
	gather  time.Duration // the writer goroutine's bound on that wait: its recent commit time
	minWait time.Duration // tests pin the bound (export_test.go)
	maxWait time.Duration

	mu     sync.RWMutex // guards closed against Write racing Close
	closed bool
	done   chan struct{}

	onBatch func(size int, took time.Duration) // optional metrics hook
}

type pending struct {
	r   *models.Report
	err chan error
}

var pendingPool = sync.Pool{New: func() any { return &pending{err: make(chan error, 1)} }}

// WriterOptions tunes the writer.
type WriterOptions struct {
	Queue    int                                // reports that may wait for a batch (default 8192)
	MaxBatch int                                // most reports in one transaction (default 512)
	OnBatch  func(size int, took time.Duration) // called after each commit
	// MaxGather bounds how long a batch waits for announced reports
	// (default 2ms; negative: never wait). The wait is also bounded by the
	// writer's recent commit time, so it never costs more than the lone
	// commit it saves.
	MaxGather time.Duration
}

// NewWriter starts the writer goroutine; Close stops it after a final flush.
func (s *Store) NewWriter(opts WriterOptions) *Writer {
	if opts.Queue <= 0 {
		opts.Queue = 8192
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 512
	}
	if opts.MaxGather == 0 {
		opts.MaxGather = 2 * time.Millisecond
	}
	w := &Writer{
		ins: s.newInserter(), log: s.log, queue: make(chan *pending, opts.Queue), maxBatch: opts.MaxBatch,
		done: make(chan struct{}), onBatch: opts.OnBatch, settled: make(chan struct{}, 1), maxWait: max(opts.MaxGather, 0),
	}
	go w.loop()
	return w
}

// ErrClosed is returned by Write after Close.
var ErrClosed = models.Errorf(models.CodeUnavailable, "shutting down; try again shortly")

// Write queues r and waits until it is committed (r.ID is then set). It fails
// with CodeUnavailable when the queue is full or the writer is closing, and
// with the commit's error otherwise. If ctx ends first the report may still
// be committed; the caller must not claim it was.
func (w *Writer) Write(ctx context.Context, r *models.Report) error {
	return w.write(ctx, r, false)
}

// Announce tells the writer that a report is on its way: the caller is
// admitting it and will then call WriteAnnounced, or Withdraw if it is not
// written after all. Exactly one of the two must follow each Announce; a
// missing one costs only latency (each batch then waits its bound).
func (w *Writer) Announce() { w.coming.Add(1) }

// Withdraw takes back an announcement whose report will not be written.
func (w *Writer) Withdraw() {
	if w.coming.Add(-1) == 0 {
		select {
		case w.settled <- struct{}{}:
		default:
		}
	}
}

// WriteAnnounced is Write for an announced report: the announcement is
// withdrawn once the report is queued (or refused).
func (w *Writer) WriteAnnounced(ctx context.Context, r *models.Report) error {
	return w.write(ctx, r, true)
}

func (w *Writer) write(ctx context.Context, r *models.Report, announced bool) error {
	p := pendingPool.Get().(*pending)
	p.r = r
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		pendingPool.Put(p)
		if announced {
			w.Withdraw()
		}
		return ErrClosed
	}
	select {
	case w.queue <- p:
		w.mu.RUnlock()
		if announced {
			w.Withdraw()
		}
	default:
		w.mu.RUnlock()
		pendingPool.Put(p)
		if announced {
			w.Withdraw()
		}
		return models.Errorf(models.CodeUnavailable, "too many reports at once; try again shortly")
	}
	select {
	case err := <-p.err:
		p.r = nil
		pendingPool.Put(p)
		return err
	case <-ctx.Done():
		// p is still owned by the writer; it will send into the buffered
		// channel and the pending is simply not reused.
		return models.Wrap(models.CodeUnavailable, ctx.Err(), "the report could not be confirmed in time")
	}
}

func (w *Writer) loop() {
	defer close(w.done)
	defer w.ins.close()
	batch := make([]*pending, 0, w.maxBatch)
	rows := make([]*models.Report, 0, w.maxBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for first := range w.queue {
		batch = w.fill(append(batch[:0], first))
		w.taken.Add(uint64(len(batch)))
		if w.coming.Load() > 0 && len(batch) < w.maxBatch && max(w.gather, w.minWait) > 0 {
			n := len(batch)
			batch = w.await(batch, timer)
			w.taken.Add(uint64(len(batch) - n))
		}
		rows = rows[:0]
		for _, p := range batch {
			rows = append(rows, p.r)
		}
		start := time.Now()
		err := w.commit(rows)
		took := time.Since(start)
		// The wait's bound follows the commit time (a moving average of
		// the last few), capped by maxWait.
		w.gather = max(w.minWait, min(w.maxWait, (3*w.gather+took)/4))
		if w.onBatch != nil {
			w.onBatch(len(rows), took)
		}
		for _, p := range batch {
			p.err <- err
		}
	}
}

// fill adds to batch whatever is queued, without waiting.
func (w *Writer) fill(batch []*pending) []*pending {
	for len(batch) < w.maxBatch {
		select {
		case p, ok := <-w.queue:
			if !ok {
				return batch
			}
			batch = append(batch, p)
		default:
			return batch
		}
	}
	return batch
}

// await waits, at most w.gather, until no announced report is still on its
// way (or the batch is full), then takes what was queued meanwhile.
func (w *Writer) await(batch []*pending, timer *time.Timer) []*pending {
	select { // a token from an earlier batch says nothing about this one
	case <-w.settled:
	default:
	}
	timer.Reset(max(w.gather, w.minWait))
	defer timer.Stop()
	for w.coming.Load() > 0 && len(batch) < w.maxBatch {
		select {
		case <-w.settled:
			batch = w.fill(batch)
		case <-timer.C:
			return w.fill(batch)
		}
	}
	return w.fill(batch)
}

// commitAttempts is how often a batch is tried before its reports fail.
const commitAttempts = 3

// commit inserts rows in one transaction, retrying a failed batch twice
// (SQLITE_BUSY from a concurrent admin write, or a PostgreSQL connection
// lost and re-dialled, are the usual causes).
func (w *Writer) commit(rows []*models.Report) error {
	var err error
	for attempt := 0; attempt < commitAttempts; attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 50 * time.Millisecond)
		}
		// Background context on purpose: a batch serves many requests, and
		// one of them going away must not abort the others' commit.
		err = w.ins.insert(context.Background(), rows)
		if err == nil {
			return nil
		}
		for _, r := range rows {
			r.ID = 0
		}
		w.log.Warn("report batch failed", "size", len(rows), "attempt", attempt+1, "err", err)
	}
	return translate(err, "report")
}

// Close stops accepting reports, commits everything already queued and
// returns when the last batch is committed or ctx ends. Close the store
// only after a Close that returned nil (or Done): a batch still being
// committed needs the database.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return errors.New("store: writer did not flush before the deadline")
	}
}

// Done is closed when the writer goroutine has committed its last batch
// and released its statements.
func (w *Writer) Done() <-chan struct{} { return w.done }

// inserter inserts one batch of reports in one transaction and sets their
// IDs; each dialect has its own fastest way.
type inserter interface {
	insert(ctx context.Context, rows []*models.Report) error
	close()
}

func (s *Store) newInserter() inserter {
	if s.dialect == Postgres {
		return &pgInserter{st: s}
	}
	return &sqliteInserter{st: s}
}
