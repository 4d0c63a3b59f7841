//go:build !unix

package store

import (
	"errors"
	"unsafe"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// threadCommitter exists on unix only; elsewhere the writer commits on its
// own goroutine.
type threadCommitter struct{}

func newThreadCommitter() (*threadCommitter, error) {
	return nil, errors.New("store: no commit thread on this platform")
}

func (*threadCommitter) commit(unsafe.Pointer) (int, error) {
	return 0, errors.New("store: no commit thread on this platform")
}

func (*threadCommitter) close() {}

func sqliteHandle(*sqlite3.SQLiteConn) unsafe.Pointer { return nil }
