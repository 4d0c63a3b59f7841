//go:build unix

package store

/*
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct sqlite3 sqlite3;
extern int sqlite3_exec(sqlite3*, const char*, int (*)(void*, int, char**, char**), void*, char**);

// committer is one thread that runs COMMIT on a connection when asked and
// writes its result code (4 bytes) to a pipe the Go side waits on.
typedef struct {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	sqlite3 *db; // the connection to commit, set with job
	int job;     // 0 idle, 1 commit db, 2 stop
	int fd;      // the pipe's write end
} outcry_committer;

static void *outcry_committer_run(void *arg) {
	outcry_committer *c = arg;
	// Signals are for the Go runtime's threads: this one takes none.
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		pthread_mutex_lock(&c->mu);
		while (c->job == 0) pthread_cond_wait(&c->cv, &c->mu);
		int job = c->job;
		sqlite3 *db = c->db;
		c->job = 0;
		pthread_mutex_unlock(&c->mu);
		if (job == 2) return NULL;
		int rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
		const char *p = (const char *)&rc;
		size_t left = sizeof rc;
		while (left > 0) {
			ssize_t n = write(c->fd, p, left);
			if (n < 0) {
				if (errno == EINTR) continue;
				break; // the Go side is gone: nothing to tell
			}
			p += n;
			left -= (size_t)n;
		}
	}
}

static outcry_committer *outcry_committer_start(int fd) {
	outcry_committer *c = calloc(1, sizeof *c);
	if (c == NULL) return NULL;
	c->fd = fd;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->thread, NULL, outcry_committer_run, c) != 0) {
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
		free(c);
		return NULL;
	}
	return c;
}

static void outcry_committer_ask(outcry_committer *c, void *db, int job) {
	pthread_mutex_lock(&c->mu);
	c->db = db;
	c->job = job;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void outcry_committer_stop(outcry_committer *c) {
	outcry_committer_ask(c, NULL, 2);
	pthread_join(c->thread, NULL);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"unsafe"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// threadCommitter runs the writer's COMMIT (and so its WAL fsync, ~1 ms with
// synchronous=FULL) on a C thread of its own, while the writer goroutine
// waits for the result on a pipe in Go's netpoller, like on a socket.
//
// Why: a cgo call that blocks for a millisecond holds its P. The runtime's
// sysmon takes the P back after 20 µs and hands it to another thread, and
// every such retake keeps sysmon waking every 20 µs instead of backing off;
// when the call returns, its thread finds no P and parks. Under a surge
// that is one retake per group commit, several context switches per report
// (docs/benchmarks.md). A goroutine waiting on a pipe holds no P and no
// thread: nothing to retake.
//
// The connection is used by one thread at a time: the writer goroutine
// hands it over and touches it again only after the result has come back.
type threadCommitter struct {
	c *C.outcry_committer
	r *os.File // the pipe's read end, in the netpoller
	w *os.File // its write end, written by the C thread
}

func newThreadCommitter() (*threadCommitter, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	// Fd puts w in blocking mode, which the C thread's write wants; w stays
	// referenced by tc so it is not closed under the thread.
	c := C.outcry_committer_start(C.int(w.Fd()))
	if c == nil {
		_ = r.Close()
		_ = w.Close()
		return nil, errors.New("store: could not start the commit thread")
	}
	return &threadCommitter{c: c, r: r, w: w}, nil
}

// commit runs COMMIT on the connection db (a *C.sqlite3) on the thread and
// waits for its result code.
func (tc *threadCommitter) commit(db unsafe.Pointer) (int, error) {
	C.outcry_committer_ask(tc.c, db, 1)
	var b [4]byte
	if _, err := io.ReadFull(tc.r, b[:]); err != nil {
		return 0, fmt.Errorf("store: waiting for the commit thread: %w", err)
	}
	return int(int32(binary.NativeEndian.Uint32(b[:]))), nil
}

func (tc *threadCommitter) close() {
	C.outcry_committer_stop(tc.c)
	_ = tc.r.Close()
	_ = tc.w.Close()
}

// sqliteHandle is the C connection inside a mattn/go-sqlite3 connection
// (an unexported field: nil if a future version renames it, and the writer
// then commits the ordinary way).
func sqliteHandle(sc *sqlite3.SQLiteConn) unsafe.Pointer {
	f := reflect.ValueOf(sc).Elem().FieldByName("db")
	if !f.IsValid() || f.Kind() != reflect.Pointer {
		return nil
	}
	return f.UnsafePointer()
}
