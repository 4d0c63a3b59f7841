package ratelimit

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
)

// rssMiB is the process's resident set (VmRSS) after a full GC that
// returns free memory to the OS.
func rssMiB(b *testing.B) float64 {
	runtime.GC()
	debug.FreeOSMemory()
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	b.Skip("no VmRSS")
	return 0
}

// BenchmarkLocalMemory is the in-process limiter (no Redis) under 2 million
// distinct reporters in 500,000 networks within one dedupe window: the
// process's RSS grows by rss-MiB, and 16 minutes later (every marker and
// bucket lapsed, swept by the detector's next read) it is back down to
// after-MiB above where it started. Run with -benchtime 1x:
//
//	go test ./server/ratelimit -run XXX -bench LocalMemory -benchtime 1x
func BenchmarkLocalMemory(b *testing.B) {
	const reporters = 2_000_000
	clk := newFakeClock()
	l, err := NewLocal(Config{}, clk.Now)
	if err != nil {
		b.Fatal(err)
	}
	// The reporters' hashes, made before the baseline: they are the
	// handlers' strings, not the limiter's memory.
	ids := make([]string, reporters)
	nets := make([]string, reporters)
	for i := range ids {
		ids[i] = strconv.FormatUint(uint64(i)*0x9e3779b97f4a7c15, 16) + "0000000000000000"[:16]
		nets[i] = strconv.FormatUint(uint64(i/4)*0xbf58476d1ce4e5b9, 16) + "ffffffffffffffff"[:16]
	}
	base := rssMiB(b)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		for i := range reporters {
			if i%1000 == 0 {
				clk.Add(time.Millisecond)
			}
			_, _ = l.Admit(ctx, models.Admission{ServiceID: uint(i % 50), Reporter: ids[i], Network: nets[i], Problem: "login", Region: "US"})
		}
	}
	b.StopTimer()
	peak := rssMiB(b)
	clk.Add(16 * time.Minute)
	_, _ = l.Minutes(ctx, clk.Now().Add(-time.Hour), clk.Now())
	after := rssMiB(b)
	b.ReportMetric(peak-base, "rss-MiB")
	b.ReportMetric(after-base, "after-MiB")
	b.ReportMetric((peak-base)*1024*1024/reporters, "B/reporter")
	if n := l.EvictedLive(); n > 0 {
		b.Fatalf("%d live entries were evicted: the default MaxEntries is too small for %d reporters", n, reporters)
	}
	runtime.KeepAlive(ids)
	runtime.KeepAlive(nets)
	runtime.KeepAlive(l)
}
