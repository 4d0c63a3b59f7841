package store

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/outcry/outcry/models"
)

// Writer stores reports by group commit: handlers hand a report to Write and
// wait; one goroutine takes whatever has queued up, inserts it in a single
// transaction, commits, and only then releases every waiting handler. One
// fsync serves a whole batch, so durability costs little under a surge.
type Writer struct {
	ins      inserter // owned by the writer goroutine
	log      *slog.Logger
	queue    chan *pending
	maxBatch int

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
}

// NewWriter starts the writer goroutine; Close stops it after a final flush.
func (s *Store) NewWriter(opts WriterOptions) *Writer {
	if opts.Queue <= 0 {
		opts.Queue = 8192
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 512
	}
	w := &Writer{
		ins: s.newInserter(), log: s.log, queue: make(chan *pending, opts.Queue), maxBatch: opts.MaxBatch,
		done: make(chan struct{}), onBatch: opts.OnBatch,
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
	p := pendingPool.Get().(*pending)
	p.r = r
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		pendingPool.Put(p)
		return ErrClosed
	}
	select {
	case w.queue <- p:
		w.mu.RUnlock()
	default:
		w.mu.RUnlock()
		pendingPool.Put(p)
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
	for first := range w.queue {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < w.maxBatch {
			select {
			case p, ok := <-w.queue:
				if !ok {
					break fill
				}
				batch = append(batch, p)
			default:
				break fill
			}
		}
		rows = rows[:0]
		for _, p := range batch {
			rows = append(rows, p.r)
		}
		start := time.Now()
		err := w.commit(rows)
		if w.onBatch != nil {
			w.onBatch(len(rows), time.Since(start))
		}
		for _, p := range batch {
			p.err <- err
		}
	}
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
