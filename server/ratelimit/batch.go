package ratelimit

import (
	"context"
	"sync"

	"github.com/outcry/outcry/models"
)

// Group admission: under a surge, concurrent admissions queue up while a
// round trip is in flight and then go to Redis together, as one call of the
// admission script. Each report still takes exactly one round trip, but
// Redis parses one command and enters Lua once per batch instead of once per
// report, and both sides make a fraction of the syscalls. When reports
// trickle in, a batch is one admission and nothing waits: a flusher starts
// as soon as there is work and no flusher is free.
//
// Flushers are short-lived goroutines that exit when the queue is empty, so
// there is nothing to stop.
type batcher struct {
	run         func(ctx context.Context, calls []*admitCall) // fills every call's result
	maxBatch    int
	maxFlushers int

	mu       sync.Mutex
	queue    []*admitCall
	flushing int
}

type admitCall struct {
	a    models.Admission
	d    models.Admittance
	err  error
	done chan struct{}
}

var callPool = sync.Pool{New: func() any { return &admitCall{done: make(chan struct{}, 1)} }}

func newBatcher(run func(context.Context, []*admitCall), maxBatch, maxFlushers int) *batcher {
	return &batcher{run: run, maxBatch: maxBatch, maxFlushers: maxFlushers}
}

// do admits a with the next batch and waits for its result.
func (b *batcher) do(ctx context.Context, a models.Admission) (models.Admittance, error) {
	c := callPool.Get().(*admitCall)
	c.a, c.d, c.err = a, models.Admittance{}, nil
	b.mu.Lock()
	b.queue = append(b.queue, c)
	start := b.flushing < b.maxFlushers
	if start {
		b.flushing++
	}
	b.mu.Unlock()
	if start {
		go b.flush()
	}
	select {
	case <-c.done:
		d, err := c.d, c.err
		callPool.Put(c)
		return d, err
	case <-ctx.Done():
		// The call stays with its batch (which still signals done, into the
		// buffered channel); it is simply not reused.
		return models.Admittance{}, ctx.Err()
	}
}

// flush sends batches until the queue is empty.
func (b *batcher) flush() {
	batch := make([]*admitCall, 0, b.maxBatch)
	for {
		b.mu.Lock()
		n := min(len(b.queue), b.maxBatch)
		if n == 0 {
			b.flushing--
			b.mu.Unlock()
			return
		}
		batch = append(batch[:0], b.queue[:n]...)
		rest := copy(b.queue, b.queue[n:])
		clear(b.queue[rest:])
		b.queue = b.queue[:rest]
		b.mu.Unlock()

		// The batch serves many requests: one of them going away must not
		// fail the others, so it runs on its own context (the client's
		// timeouts bound it).
		b.run(context.Background(), batch)
		for _, c := range batch {
			c.done <- struct{}{}
		}
		clear(batch)
	}
}
