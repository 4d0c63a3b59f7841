package store

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultSyncEvery is how often, at most, a SQLite commit waits in the
// operating system before it is on disk (Options.SyncEvery).
const DefaultSyncEvery = 100 * time.Millisecond

// Options tune how the database is opened.
type Options struct {
	// SyncEvery is SQLite's durability. 0: every commit is fsynced before
	// it returns (synchronous=FULL), so a 202 survives a power loss.
	// Above 0: a commit returns once SQLite has written it to the
	// operating system (synchronous=NORMAL; in WAL mode that survives a
	// crash or kill of the process, and the database never corrupts), and
	// a syncer fsyncs the write-ahead log every SyncEvery while commits
	// happen, so a power loss or a crash of the machine loses about the
	// last SyncEvery of commits at most. Ignored for PostgreSQL.
	SyncEvery time.Duration
}

// walSyncer fsyncs a SQLite database's write-ahead log every interval while
// the writer commits, and sleeps without a ticker while it does not: with
// synchronous=NORMAL, SQLite itself syncs the log only at checkpoints. The
// writer connection's commit hook (committing) counts write transactions;
// the hook runs as a commit begins, a moment before its pages reach the
// log, so the syncer keeps syncing for quietTicks intervals after the count
// last moved. An idle store makes no system call and no wake-up:
// a Go process that makes a system call after idling wakes the runtime's
// sysmon into fast polling, which cost ~5 ms of CPU a second with a sync
// every 100 ms.
type walSyncer struct {
	every time.Duration
	log   *slog.Logger
	sync  func(*os.File) error // (*os.File).Sync; a test's failure

	commits  atomic.Uint64 // write transactions of the writer connection
	sleeping atomic.Bool   // the syncer waits on wake, not on its ticker
	wake     chan struct{} // one slot: a commit began while it slept
	syncs    atomic.Uint64
	failures atomic.Uint64
	lastErr  atomic.Pointer[error] // nil after a sync that worked

	stop chan struct{}
	done chan struct{}
	once sync.Once

	// The syncer goroutine's own (a test's, when it is not started).
	path  string   // the -wal file
	f     *os.File // the log, opened once it exists
	last  uint64   // commits at the last change seen
	quiet int      // intervals since
}

// quietTicks intervals after the last commit began the log is synced once
// more each interval: a commit's pages are written within microseconds of
// its hook, and one of 1,000 pages or more (4 MB) is synced by the
// checkpoint SQLite runs right after it.
const quietTicks = 10

func newWALSyncer(every time.Duration, log *slog.Logger) *walSyncer {
	return &walSyncer{
		every: every, log: log,
		sync: (*os.File).Sync,
		stop: make(chan struct{}), done: make(chan struct{}), wake: make(chan struct{}, 1),
	}
}

// committing is the writer connection's commit hook.
func (w *walSyncer) committing() {
	w.commits.Add(1)
	if w.sleeping.Load() {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

func (w *walSyncer) start(dbPath string) {
	w.path = dbPath + "-wal"
	go w.run()
}

func (w *walSyncer) run() {
	defer close(w.done)
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			w.finish()
			return
		case <-t.C:
			if w.tick() {
				continue
			}
		}
		// Quiet and synced: no ticks until the next commit begins.
		t.Stop()
		w.sleeping.Store(true)
		if w.commits.Load() == w.last { // else a commit began meanwhile
			select {
			case <-w.stop:
				w.finish()
				return
			case <-w.wake:
			}
		}
		w.sleeping.Store(false)
		t.Reset(w.every)
	}
}

// finish syncs a last time and closes the log.
func (w *walSyncer) finish() {
	w.syncNow()
	if w.f != nil {
		_ = w.f.Close()
	}
}

// tick syncs while the writer commits, for quietTicks intervals after, and
// until a failed sync works again; false when it has nothing more to do
// until the next commit.
func (w *walSyncer) tick() bool {
	if c := w.commits.Load(); c != w.last {
		w.last, w.quiet = c, 0
	} else if w.quiet < quietTicks {
		w.quiet++
	}
	if w.quiet < quietTicks || w.err() != nil {
		w.syncNow()
		return true
	}
	return false
}

// close syncs once more and stops; before the database closes (SQLite
// removes the log when its last connection closes).
func (w *walSyncer) close() {
	w.once.Do(func() { close(w.stop) })
	<-w.done
}

// syncNow fsyncs the log, opening it first if it is new or was replaced
// (SQLite deletes it when its last connection closes and makes a new one
// on the next open).
func (w *walSyncer) syncNow() {
	if err := w.open(); err != nil {
		w.failed(err)
		return
	}
	if w.f == nil {
		return // no log yet: nothing was committed
	}
	if err := w.sync(w.f); err != nil {
		w.failed(err)
		return
	}
	w.syncs.Add(1)
	if w.lastErr.Swap(nil) != nil {
		w.log.Info("the SQLite write-ahead log is synced to disk again", "file", w.path)
	}
}

func (w *walSyncer) open() error {
	fi, err := os.Stat(w.path)
	if errors.Is(err, fs.ErrNotExist) {
		if w.f != nil { // removed: a new one is made on the next open
			_ = w.f.Close()
			w.f = nil
		}
		return nil
	}
	if err != nil {
		return err
	}
	if w.f != nil {
		if cur, err := w.f.Stat(); err == nil && os.SameFile(cur, fi) {
			return nil
		}
		_ = w.f.Close()
		w.f = nil
	}
	f, err := os.Open(w.path)
	if err != nil {
		return err
	}
	// A new log's name must be on disk too, or a power loss can lose the
	// whole file.
	if dir, err := os.Open(filepath.Dir(w.path)); err == nil {
		err = w.sync(dir)
		_ = dir.Close()
		if err != nil {
			_ = f.Close()
			return err
		}
	}
	w.f = f
	return nil
}

func (w *walSyncer) failed(err error) {
	w.failures.Add(1)
	err = fmt.Errorf("store: sync %s: %w", w.path, err)
	if w.lastErr.Swap(&err) == nil {
		w.log.Error("the SQLite write-ahead log could not be synced to disk: reports answered 202 since the last sync may be lost if the machine loses power", "err", err)
	}
}

// err is the last sync's failure, or nil.
func (w *walSyncer) err() error {
	if p := w.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}
