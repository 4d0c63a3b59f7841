package server

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// lockedWriter serialises every write to the process's log stream, so the
// application log and the buffered access log never interleave inside a
// line.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// bufferedLog batches access-log lines into few writes: at tens of thousands
// of requests a second a write syscall per line would cost more than the
// request. It flushes every interval and on Close; an unclean crash can
// lose up to one interval of access lines (never application logs, which
// are written directly). Each Write is one whole line (slog handlers write
// a record at once), and a line is never split across two flushes: a line
// that does not fit flushes what is buffered first.
type bufferedLog struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

const bufferedLogSize = 64 << 10

func newBufferedLog(w io.Writer, interval time.Duration) *bufferedLog {
	b := &bufferedLog{w: bufio.NewWriterSize(w, bufferedLogSize), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				b.flush()
			case <-b.stop:
				b.flush()
				return
			}
		}
	}()
	return b
}

func (b *bufferedLog) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(p) > b.w.Available() && b.w.Buffered() > 0 {
		if err := b.w.Flush(); err != nil {
			return 0, err
		}
	}
	// A line longer than the whole buffer goes out in one write of its own
	// (bufio writes it straight through when the buffer is empty).
	return b.w.Write(p)
}

func (b *bufferedLog) flush() {
	b.mu.Lock()
	_ = b.w.Flush()
	b.mu.Unlock()
}

// Close flushes and stops the flusher.
func (b *bufferedLog) Close() {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	<-b.done
}
