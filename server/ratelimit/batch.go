package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/outcry/outcry/models"
)

// Group admission: under a surge, concurrent admissions queue up while a
// round trip is in flight and then go to Redis together, as one call of the
// admission script. Each report still takes exactly one round trip, but
// Redis parses one command and enters Lua once per batch instead of once per
// report, and both sides make a fraction of the syscalls. When reports
// trickle in, a batch is one admission and nothing waits: a caller that
// finds a flusher slot free flushes at once.
//
// The flushers are the callers themselves: the caller that takes a free
// slot sends batches until its own admission is answered, then hands the
// slot to a caller still waiting in the queue (or frees it when the queue
// is empty). No goroutine is started per batch, and the round trip runs on
// a request goroutine whose stack has already grown. Only when every queued
// caller has gone (their contexts ended) does a goroutine flush for them.
type batcher struct {
	run         func(ctx context.Context, calls []*admitCall) // fills every call's result
	maxBatch    int
	maxFlushers int

	mu       sync.Mutex
	queue    []*admitCall
	flushing int
}

// The states of a queued call.
const (
	callWaiting = iota
	callGone    // its caller's context ended; it is still admitted with its batch
	callLeads   // its caller holds a flusher slot (took a free one, or was handed one)
)

type admitCall struct {
	a      models.Admission
	ld     leaseDecision // the Limiter's leases (zero: none)
	minute int64         // unixMinute(a.At), an argument of the script
	d      models.Admittance
	err    error
	state  atomic.Int32
	taken  bool          // in a batch (guarded by batcher.mu)
	done   chan struct{} // a result, or (callLeads) the slot
}

var callPool = sync.Pool{New: func() any { return &admitCall{done: make(chan struct{}, 1)} }}

var batchPool = sync.Pool{New: func() any { s := make([]*admitCall, 0, maxBatch); return &s }}

func newBatcher(run func(context.Context, []*admitCall), maxBatch, maxFlushers int) *batcher {
	return &batcher{run: run, maxBatch: maxBatch, maxFlushers: maxFlushers}
}

// do admits a with the next batch and waits for its result. A caller
// that flushes answers with its result even if ctx ends meanwhile; one
// whose ctx has ended already is not admitted.
func (b *batcher) do(ctx context.Context, a models.Admission, ld leaseDecision) (models.Admittance, error) {
	if err := ctx.Err(); err != nil {
		return models.Admittance{}, err
	}
	c := callPool.Get().(*admitCall)
	c.a, c.ld, c.d, c.err = a, ld, models.Admittance{}, nil
	c.state.Store(callWaiting)
	c.taken = false
	b.mu.Lock()
	b.queue = append(b.queue, c)
	lead := b.flushing < b.maxFlushers
	if lead {
		b.flushing++
		// It leads from now on, though still queued until a batch takes
		// it: handOff must not give it a second slot (one would be lost,
		// and its wake-up left in the pooled call for the next caller).
		c.state.Store(callLeads)
	}
	b.mu.Unlock()
	if lead {
		return b.lead(c)
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		if c.state.CompareAndSwap(callWaiting, callGone) {
			// The call stays with its batch (which still signals done,
			// into the buffered channel); it is simply not reused.
			return models.Admittance{}, ctx.Err()
		}
		<-c.done // handed a slot meanwhile: it must be used
	}
	if c.state.Load() == callLeads {
		return b.lead(c)
	}
	d, err := c.d, c.err
	callPool.Put(c)
	return d, err
}

// lead holds a flusher slot: it sends batches until own is answered, then
// hands the slot on.
func (b *batcher) lead(own *admitCall) (models.Admittance, error) {
	bp := batchPool.Get().(*[]*admitCall)
	batch := *bp
	answered := false
	for !answered {
		b.mu.Lock()
		if own.taken {
			// Another flusher's batch has it (own was handed the slot
			// while still queued): wait for that batch's answer.
			b.mu.Unlock()
			<-own.done
			break
		}
		// own is still queued, so the queue is not empty.
		batch = b.take(batch)
		b.mu.Unlock()

		// The batch serves many requests: one of them going away must not
		// fail the others, so it runs on its own context (the client's
		// timeouts bound it).
		b.run(context.Background(), batch)
		for _, c := range batch {
			if c == own {
				answered = true
				continue
			}
			c.done <- struct{}{}
		}
		clear(batch)
	}
	*bp = batch
	batchPool.Put(bp)
	b.handOff()
	d, err := own.d, own.err
	callPool.Put(own)
	return d, err
}

// handOff gives the caller's flusher slot to the first queued caller still
// waiting, or frees it when nobody is queued.
func (b *batcher) handOff() {
	b.mu.Lock()
	for _, c := range b.queue {
		if c.state.CompareAndSwap(callWaiting, callLeads) {
			b.mu.Unlock()
			c.done <- struct{}{}
			return
		}
	}
	if len(b.queue) == 0 {
		b.flushing--
		b.mu.Unlock()
		return
	}
	b.mu.Unlock()
	go b.flush() // everyone queued has gone: flush for them
}

// flush sends batches until the queue is empty, for callers that have all
// gone, then frees its slot.
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
		batch = b.take(batch)
		b.mu.Unlock()

		b.run(context.Background(), batch)
		for _, c := range batch {
			c.done <- struct{}{}
		}
		clear(batch)
	}
}

// take moves the next batch from the queue into batch; b.mu is held.
func (b *batcher) take(batch []*admitCall) []*admitCall {
	n := min(len(b.queue), b.maxBatch)
	batch = append(batch[:0], b.queue[:n]...)
	for _, c := range batch {
		c.taken = true
	}
	rest := copy(b.queue, b.queue[n:])
	clear(b.queue[rest:])
	b.queue = b.queue[:rest]
	return batch
}
