package store

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/server/store/storetest"
)

func openWith(t *testing.T, o Options) *Store {
	t.Helper()
	st, err := OpenWith(context.Background(), storetest.SQLite(t), slog.New(slog.DiscardHandler), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func synchronous(t *testing.T, st *Store) int {
	t.Helper()
	var n int
	if err := st.w.Raw("PRAGMA synchronous").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// SyncEvery 0 is SQLite's FULL (each commit fsynced before it returns);
// above 0 it is NORMAL with a syncer that puts every commit on disk within
// the interval.
func TestSyncEveryChoosesWhenCommitsReachTheDisk(t *testing.T) {
	full := openWith(t, Options{})
	if got := synchronous(t, full); got != 2 {
		t.Errorf("SyncEvery 0: synchronous = %d, want 2 (FULL)", got)
	}
	if full.wal != nil {
		t.Error("SyncEvery 0 started a syncer")
	}

	st := openWith(t, Options{SyncEvery: 20 * time.Millisecond})
	if got := synchronous(t, st); got != 1 {
		t.Errorf("SyncEvery 20ms: synchronous = %d, want 1 (NORMAL)", got)
	}
	if err := st.w.Exec("CREATE TABLE synced (x INTEGER)").Error; err != nil {
		t.Fatal(err)
	}
	// Idle: the syncs stop once quietTicks intervals passed without a commit.
	deadline := time.Now().Add(10 * time.Second)
	idle, _ := st.WALSyncs()
	for stable := time.Now(); time.Since(stable) < 300*time.Millisecond; time.Sleep(20 * time.Millisecond) {
		if n, _ := st.WALSyncs(); n != idle {
			idle, stable = n, time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatal("the syncer kept syncing with no commit for 10 s")
		}
	}
	if err := st.w.Exec("INSERT INTO synced VALUES (1)").Error; err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for n, _ := st.WALSyncs(); n == idle; n, _ = st.WALSyncs() {
		if time.Now().After(deadline) {
			t.Fatal("the log was not synced in 5 s after a commit (SyncEvery 20ms)")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, failed := st.WALSyncs(); failed != 0 {
		t.Errorf("%d failed syncs", failed)
	}
}

// The writer connection's commit hook counts write transactions, and only
// those: reads, on it or on the readers, do not count.
func TestCommitHookCountsTheWritersTransactions(t *testing.T) {
	st := openWith(t, Options{SyncEvery: time.Hour})
	if err := st.w.Exec("CREATE TABLE hooked (x INTEGER)").Error; err != nil {
		t.Fatal(err)
	}
	n0 := st.wal.commits.Load()
	if err := st.w.Exec("INSERT INTO hooked VALUES (1)").Error; err != nil {
		t.Fatal(err)
	}
	err := st.w.Transaction(func(tx *gormDB) error {
		if err := tx.Exec("INSERT INTO hooked VALUES (2)").Error; err != nil {
			return err
		}
		return tx.Exec("INSERT INTO hooked VALUES (3)").Error
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := st.w.Raw("SELECT count(*) FROM hooked").Scan(&n).Error; err != nil || n != 3 {
		t.Fatalf("rows %d, %v", n, err)
	}
	if err := st.r.Raw("SELECT count(*) FROM hooked").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	if got := st.wal.commits.Load() - n0; got != 2 {
		t.Fatalf("commit hook counted %d write transactions, want 2 (an INSERT, a transaction of two)", got)
	}
}

// The syncer syncs on every interval while the writer commits and for
// quietTicks intervals after the last commit began, then makes no system
// call until the next commit; after a failed sync it tries on every
// interval until one works.
func TestWALSyncerSyncsWhileTheWriterCommits(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	if err := os.WriteFile(db+"-wal", []byte("log"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := newWALSyncer(time.Hour, slog.New(slog.DiscardHandler))
	w.path = db + "-wal"
	defer func() { _ = w.f.Close() }()
	calls := 0
	var fail error
	w.sync = func(f *os.File) error {
		if fi, err := f.Stat(); err == nil && !fi.IsDir() {
			calls++
		}
		return fail
	}
	ticks := func(n int) int {
		before := calls
		for range n {
			w.tick()
		}
		return calls - before
	}
	ticks(quietTicks) // the start: as after a commit
	if n := ticks(50); n != 0 {
		t.Fatalf("%d syncs in 50 idle intervals, want 0", n)
	}
	w.committing()
	if n := ticks(1); n != 1 {
		t.Fatalf("%d syncs in the interval after a commit began, want 1", n)
	}
	w.committing()
	w.committing()
	if n := ticks(quietTicks + 20); n != quietTicks {
		t.Fatalf("%d syncs after the last commit, want %d (one an interval until quiet)", n, quietTicks)
	}

	fail = errors.New("input/output error")
	w.committing()
	if n := ticks(quietTicks + 5); n != quietTicks+5 {
		t.Fatalf("%d syncs in %d intervals with every sync failing, want one each", n, quietTicks+5)
	}
	fail = nil
	if n := ticks(1); n != 1 || w.err() != nil {
		t.Fatalf("%d syncs, err %v; want the one that works", n, w.err())
	}
	if n := ticks(20); n != 0 {
		t.Fatalf("%d syncs once quiet and synced, want 0", n)
	}
}

// A failed fsync fails /readyz (Ping) until a sync works again: the answers
// given meanwhile may not survive a power loss.
func TestFailedWALSyncFailsPingUntilOneWorks(t *testing.T) {
	st := openWith(t, Options{SyncEvery: time.Hour}) // syncs only when called (and at Close)
	ctx := context.Background()
	st.wal.syncNow()
	if n, _ := st.WALSyncs(); n != 1 {
		t.Fatalf("syncs = %d after one sync, want 1", n)
	}
	if err := st.Ping(ctx); err != nil {
		t.Fatalf("Ping after a sync that worked: %v", err)
	}

	st.wal.sync = func(*os.File) error { return errors.New("input/output error") }
	st.wal.syncNow()
	st.wal.syncNow()
	err := st.Ping(ctx)
	if err == nil || !strings.Contains(err.Error(), "input/output error") || !strings.Contains(err.Error(), "-wal") {
		t.Fatalf("Ping after a failed sync = %v, want the sync's error naming the log", err)
	}
	if n, failed := st.WALSyncs(); n != 1 || failed != 2 {
		t.Fatalf("syncs, failures = %d, %d, want 1, 2", n, failed)
	}

	st.wal.sync = (*os.File).Sync
	st.wal.syncNow()
	if err := st.Ping(ctx); err != nil {
		t.Fatalf("Ping after a sync worked again: %v", err)
	}
}

// The syncer waits for the log to exist, and follows it when SQLite
// replaces it (it removes the log when its last connection closes).
func TestWALSyncerFollowsTheLogFile(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	w := newWALSyncer(time.Hour, slog.New(slog.DiscardHandler))
	w.path = db + "-wal"
	var synced []os.FileInfo
	w.sync = func(f *os.File) error {
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			synced = append(synced, fi)
		}
		return nil
	}
	w.syncNow()
	if len(synced) != 0 || w.syncs.Load() != 0 || w.err() != nil {
		t.Fatalf("with no log: %d files synced, %d syncs, err %v; want nothing", len(synced), w.syncs.Load(), w.err())
	}
	if err := os.WriteFile(db+"-wal", []byte("a"), 0o600); err != nil {
		t.Fatal(err)
	}
	w.syncNow()
	w.syncNow()
	if err := os.Remove(db + "-wal"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db+"-wal", []byte("b"), 0o600); err != nil {
		t.Fatal(err)
	}
	w.syncNow()
	now, err := os.Stat(db + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if len(synced) != 3 || os.SameFile(synced[0], now) || !os.SameFile(synced[1], synced[0]) || !os.SameFile(synced[2], now) {
		t.Fatalf("synced %d files; want the first log twice, then the new one", len(synced))
	}
	if w.syncs.Load() != 3 || w.err() != nil {
		t.Fatalf("%d syncs, err %v; want 3, nil", w.syncs.Load(), w.err())
	}
	if err := os.Remove(db + "-wal"); err != nil {
		t.Fatal(err)
	}
	w.syncNow()
	if len(synced) != 3 || w.f != nil || w.err() != nil {
		t.Fatalf("after the log was removed: %d files synced, log open %v, err %v; want 3, closed, nil", len(synced), w.f != nil, w.err())
	}
}
