package store

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/outcry/outcry/models"
)

// Writer stores reports by group commit: handlers hand a report to Write and
// wait; one goroutine takes whatever has queued up, inserts it in a single
// transaction, commits, and only then releases every waiting handler. One
// fsync serves a whole batch, so durability costs little under a surge.
type Writer struct {
	st       *Store
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
		st: s, log: s.log, queue: make(chan *pending, opts.Queue), maxBatch: opts.MaxBatch,
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

// commit inserts rows in one transaction, retrying a failed batch once
// (SQLITE_BUSY from a concurrent admin write is the usual cause).
func (w *Writer) commit(rows []*models.Report) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = w.st.insertReports(rows)
		if err == nil {
			return nil
		}
		for _, r := range rows {
			r.ID = 0
		}
		w.log.Warn("report batch failed", "size", len(rows), "attempt", attempt+1, "err", err)
		time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
	}
	return translate(err, "report")
}

// Close stops accepting reports, commits everything already queued and
// returns when the last batch is committed or ctx ends.
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

// insertChunk is how many rows one INSERT statement carries (8 parameters
// each, far below SQLite's limit of 32,766).
const insertChunk = 64

// insertReportSQL is the multi-row insert of n reports.
func insertReportSQL(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO reports (service_id, problem, region, note, reporter_hash, counted, minute, created_at) VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?)")
	}
	return b.String()
}

// insertReports inserts rows in one transaction. On SQLite it sends them in
// multi-row INSERTs of up to insertChunk rows, each statement prepared once
// per size on the single writer connection: one cgo call and one statement
// step per chunk instead of per row. GORM's batch builder costs more than
// SQLite itself here. Other dialects take GORM's multi-row insert.
//
// IDs: the writer holds SQLite's only write lock for the whole transaction,
// and SQLite gives each row of a multi-row INSERT the next rowid in order,
// so a chunk's rows are last_insert_rowid()-n+1 … last_insert_rowid().
func (s *Store) insertReports(rows []*models.Report) error {
	// Background context on purpose: a batch serves many requests, and one
	// of them going away must not abort the others' commit.
	ctx := context.Background()
	if s.w.Dialector.Name() != "sqlite" {
		return s.w.WithContext(ctx).Transaction(func(tx *gormDB) error {
			return tx.CreateInBatches(rows, 100).Error
		})
	}
	db, err := s.w.DB()
	if err != nil {
		return err
	}
	// Prepare before BeginTx: the transaction holds the only connection.
	for _, n := range []int{min(len(rows), insertChunk), len(rows) % insertChunk} {
		if _, err := s.insertStmt(ctx, db, n); err != nil {
			return err
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	args := make([]any, 0, 8*insertChunk)
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), insertChunk)]
		rows = rows[len(chunk):]
		stmt := s.insertStmts[len(chunk)]
		args = args[:0]
		for _, r := range chunk {
			args = append(args, r.ServiceID, r.Problem, r.Region, r.Note, r.ReporterHash, r.Counted, r.Minute, r.CreatedAt)
		}
		res, err := tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
		if err != nil {
			_ = tx.Rollback()
			return err
		}
		last, err := res.LastInsertId()
		if err != nil {
			_ = tx.Rollback()
			return err
		}
		for i, r := range chunk {
			r.ID = uint64(last - int64(len(chunk)-1-i))
		}
	}
	return tx.Commit()
}

// insertStmt is the prepared insert of n rows (used only by the writer
// goroutine, so the cache needs no lock).
func (s *Store) insertStmt(ctx context.Context, db *sql.DB, n int) (*sql.Stmt, error) {
	if st, ok := s.insertStmts[n]; ok || n == 0 {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, insertReportSQL(n))
	if err != nil {
		return nil, err
	}
	if s.insertStmts == nil {
		s.insertStmts = make(map[int]*sql.Stmt)
	}
	s.insertStmts[n] = st
	return st, nil
}
