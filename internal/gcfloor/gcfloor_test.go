package gcfloor

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/testkit"
)

const mib = 1 << 20

func TestPercent(t *testing.T) {
	cases := []struct {
		floor, live, roots uint64
		want               int
	}{
		{64 * mib, 6 * mib, 1 * mib, 828}, // the demo catalogue: goal 6 + 7 × 8.28 = 64 MiB
		{64 * mib, 64 * mib, 1 * mib, 100},
		{64 * mib, 1200 * mib, 2 * mib, 100}, // 50,000 services: GOGC stays 100
		{64 * mib, 40 * mib, 0, 100},         // 60 would reach the floor: never below 100
		{64 * mib, 1024, 0, 1600},            // a tiny heap: the runtime's minimum heap (4 MiB × 16) is the floor
		{64 * mib, 0, 0, 100},                // nothing measured yet
	}
	for _, c := range cases {
		if got := Percent(c.floor, c.live, c.roots); got != c.want {
			t.Errorf("Percent(%d, %d, %d) = %d, want %d", c.floor, c.live, c.roots, got, c.want)
		}
	}
}

func read(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// A small heap gets a goal of about the floor after a cycle; a live heap
// above the floor gets GOGC 100 at the next cycle, and the floor again once
// it is freed; Stop puts GOGC back.
func TestFloorFollowsTheLiveHeap(t *testing.T) {
	const floor = 48 * mib
	before := read("/gc/gogc:percent")
	f := Start(floor)
	testkit.Eventually(t, 10*time.Second, "a heap goal of about the floor", func() bool {
		runtime.GC()
		g := read("/gc/heap/goal:bytes")
		return f.Percent() > 100 && g >= floor*9/10 && g <= floor*11/10
	})

	live := make([]*[64]byte, 2*floor/64) // 96 MiB of pointers and what they point to, all live
	for i := range live {
		live[i] = new([64]byte)
	}
	testkit.Eventually(t, 10*time.Second, "GOGC 100 with a live heap above the floor", func() bool {
		runtime.GC()
		return f.Percent() == 100 && read("/gc/gogc:percent") == 100
	})
	runtime.KeepAlive(live)
	live = nil
	testkit.Eventually(t, 10*time.Second, "the floor again once the heap is freed", func() bool {
		runtime.GC()
		return f.Percent() > 100 && read("/gc/gogc:percent") == uint64(f.Percent())
	})

	f.Stop()
	if got := read("/gc/gogc:percent"); got != before {
		t.Errorf("GOGC %d after Stop, want %d", got, before)
	}
	runtime.GC()
	runtime.GC()
	if got := read("/gc/gogc:percent"); got != before {
		t.Errorf("GOGC %d after Stop and two cycles, want %d: still tuning", got, before)
	}
}
