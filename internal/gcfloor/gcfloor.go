// Package gcfloor keeps the garbage collector's heap goal at or above a
// floor while the live heap is small, and leaves GOGC at 100 once it is not.
//
// With GOGC=100 the collector runs whenever the heap has grown by as much as
// was live after the last cycle, and each cycle marks the whole live heap.
// An Outcry serving a small catalogue keeps a few MB live (snapshot, render
// cache, templates) and allocates ~2.3 KB per request inside net/http, so
// it collected every ~2,500 requests and spent 2-3 µs of CPU per request in
// the collector: as much as the rest of its work beyond a bare Gin handler's
// (docs/benchmarks.md). Raising the goal to the floor makes cycles ~10×
// rarer for the same marking work each. A large catalogue's live heap is
// above the floor and sees no change, so the memory figures at scale stand;
// a small one trades up to the floor of memory (64 MiB by default) for it.
//
// After each cycle (a finalizer on a sentinel object, re-armed each time),
// GOGC is set so that the next goal is the floor: goal = live + (live +
// stacks + globals) × GOGC/100, the runtime's own formula. So the heap never
// grows past max(floor, what GOGC=100 allows) between two cycles. A
// GOMEMLIMIT still bounds it.
package gcfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// Default is the heap goal Outcry keeps at least.
const Default = 64 << 20

// runtimeMinHeap is the runtime's smallest heap goal at GOGC=100
// (defaultHeapMinimum); it scales with GOGC.
const runtimeMinHeap = 4 << 20

// Percent is the GOGC that makes the next heap goal floor, given the live
// heap and the GC roots (stacks, globals) after a cycle; at least 100. A
// tiny heap gets the GOGC whose minimum heap (4 MiB × GOGC/100) is the
// floor, so the goal is the floor there too, not above it.
func Percent(floor, live, roots uint64) int {
	scan := live + roots
	if floor <= live || scan == 0 {
		return 100
	}
	p := (floor - live) * 100 / scan
	if most := floor * 100 / runtimeMinHeap; p > most {
		p = most
	}
	if p < 100 {
		return 100
	}
	return int(p)
}

// Floor tunes GOGC after every GC cycle until Stop.
type Floor struct {
	floor   uint64
	stopped atomic.Bool
	mu      sync.Mutex
	percent int // what it last set
	samples []metrics.Sample
	before  int // GOGC before Start, restored by Stop
}

type sentinel struct{ _ *byte } // has a pointer: never a tiny allocation, so its finalizer runs

// Start keeps the heap goal at or above floor bytes.
func Start(floor uint64) *Floor {
	f := &Floor{floor: floor, samples: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"},
	}}
	f.before = debug.SetGCPercent(100)
	f.percent = 100
	f.tune()
	f.arm()
	return f
}

func (f *Floor) arm() {
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
		if f.stopped.Load() {
			return
		}
		f.tune()
		f.arm()
	})
}

// tune sets GOGC for the live heap the last cycle found.
func (f *Floor) tune() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped.Load() {
		return
	}
	metrics.Read(f.samples)
	var v [3]uint64
	for i, s := range f.samples {
		if s.Value.Kind() == metrics.KindUint64 {
			v[i] = s.Value.Uint64()
		}
	}
	if p := Percent(f.floor, v[0], v[1]+v[2]); p != f.percent {
		f.percent = p
		debug.SetGCPercent(p)
	}
}

// Percent is the GOGC it last set.
func (f *Floor) Percent() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.percent
}

// Stop stops tuning and puts GOGC back as it was before Start.
func (f *Floor) Stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped.Swap(true) {
		return
	}
	debug.SetGCPercent(f.before)
}
