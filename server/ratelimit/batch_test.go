package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
)

// TestBatcherAnswersEveryCall: callers that flush for each other (the slot
// handed from caller to caller), some of them giving up, all get their own
// answer, every admission is run exactly once, and no slot is lost.
func TestBatcherAnswersEveryCall(t *testing.T) {
	var runs, inFlight, most atomic.Int64
	seen := make(map[uint]int)
	var seenMu sync.Mutex
	b := newBatcher(func(_ context.Context, calls []*admitCall) {
		if n := inFlight.Add(1); n > most.Load() {
			most.Store(n)
		}
		defer inFlight.Add(-1)
		runs.Add(1)
		time.Sleep(50 * time.Microsecond)
		seenMu.Lock()
		for _, c := range calls {
			seen[c.a.ServiceID]++
			c.d = models.Admittance{Allowed: true, Limit: int(c.a.ServiceID)}
		}
		seenMu.Unlock()
	}, 8, 2)
	const callers, each = 64, 200
	var wg sync.WaitGroup
	var gone atomic.Int64
	var answered sync.Map
	for g := range callers {
		wg.Go(func() {
			for i := range each {
				id := uint(g*each + i + 1)
				ctx, cancel := context.Background(), context.CancelFunc(func() {})
				if i%7 == 0 {
					ctx, cancel = context.WithTimeout(context.Background(), time.Duration(i%3)*20*time.Microsecond)
				}
				d, err := b.do(ctx, models.Admission{ServiceID: id}, leaseDecision{})
				cancel()
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("call %d: %v", id, err)
					}
					gone.Add(1)
					continue
				}
				answered.Store(id, true)
				if d.Limit != int(id) {
					t.Errorf("call %d got the answer of %d", id, d.Limit)
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("callers still waiting after 60 s")
	}
	// Calls whose callers have gone are still run once queued (by a
	// flusher for them), and then every slot is free again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.mu.Lock()
		idle := b.flushing == 0 && len(b.queue) == 0
		b.mu.Unlock()
		if idle {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the callers: flushing %d, queued %d", b.flushing, len(b.queue))
		}
		time.Sleep(time.Millisecond)
	}
	seenMu.Lock()
	defer seenMu.Unlock()
	for id, n := range seen {
		if n != 1 {
			t.Errorf("admission %d run %d times", id, n)
		}
	}
	answered.Range(func(id, _ any) bool {
		if seen[id.(uint)] != 1 {
			t.Errorf("admission %d answered but run %d times", id, seen[id.(uint)])
		}
		return true
	})
	if most.Load() > 2 {
		t.Errorf("%d batches in flight at once; at most 2", most.Load())
	}
	t.Logf("%d calls (%d gave up) in %d batches", callers*each, gone.Load(), runs.Load())
}

// TestBatcherLeaderIsNeverHandedASecondSlot: a caller that took a free
// flusher slot is still queued until its first batch takes it; a flusher
// finishing meanwhile must not hand it another slot (one slot would be lost
// for good, and a stale wake-up left in its pooled call). With batches of
// one and two slots the window is wide; every call must still be answered
// with its own result and both slots end free.
func TestBatcherLeaderIsNeverHandedASecondSlot(t *testing.T) {
	b := newBatcher(func(_ context.Context, calls []*admitCall) {
		for _, c := range calls {
			c.d = models.Admittance{Allowed: true, Limit: int(c.a.ServiceID)}
		}
	}, 1, 2)
	const callers, each = 8, 20000
	var wg sync.WaitGroup
	for g := range callers {
		wg.Go(func() {
			for i := range each {
				id := uint(g*each + i + 1)
				d, err := b.do(context.Background(), models.Admission{ServiceID: id}, leaseDecision{})
				if err != nil || d.Limit != int(id) {
					t.Errorf("call %d: answer %+v, %v", id, d, err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		b.mu.Lock()
		t.Fatalf("callers still waiting after 60 s: flushing %d, queued %d", b.flushing, len(b.queue))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.flushing != 0 || len(b.queue) != 0 {
		t.Errorf("after the callers: flushing %d, queued %d", b.flushing, len(b.queue))
	}
}
