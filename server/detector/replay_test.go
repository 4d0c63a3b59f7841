package detector

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"
)

func TestParseInterval(t *testing.T) {
	for in, want := range map[string]time.Duration{"1m": time.Minute, "5m": 5 * time.Minute, "15": 15 * time.Minute, "90s": 90 * time.Second} {
		if got, err := ParseInterval(in); err != nil || got != want {
			t.Errorf("ParseInterval(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-5m", "1.5s", "2d", "48h", "five"} {
		if _, err := ParseInterval(in); err == nil {
			t.Errorf("ParseInterval(%q) accepted", in)
		}
	}
}

func TestReplayFormat(t *testing.T) {
	var in strings.Builder
	in.WriteString("timestamp,value\n")
	r := rand.New(rand.NewPCG(1, 2))
	start := t0
	n := 0
	for ts := start; ts.Before(start.Add(36 * time.Hour)); ts = ts.Add(5 * time.Minute) {
		v := poisson(r, 5*10*daily(ts, 10, 0))
		if ts.Sub(start) >= 30*time.Hour && ts.Sub(start) < 31*time.Hour {
			v *= 12
		}
		fmt.Fprintf(&in, "%s,%g\n", ts.Format("2006-01-02 15:04:05"), v)
		n++
	}
	fmt.Fprintf(&in, "%s,2.5\n", start.Add(40*time.Hour).Format("2006-01-02 15:04:05")) // a gap, a float
	n++
	var out bytes.Buffer
	if err := Replay(strings.NewReader(in.String()), &out, 5*time.Minute, DefaultParams()); err != nil {
		t.Fatal(err)
	}
	inLines := strings.Split(strings.TrimSpace(in.String()), "\n")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if lines[0] != "timestamp,value,anomaly_score,alert" || len(lines) != n+1 {
		t.Fatalf("header %q, %d rows; want %d", lines[0], len(lines)-1, n)
	}
	alerts := 0
	for i, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) != 4 || f[0]+","+f[1] != inLines[i+1] || f[2] != f[3] || (f[3] != "0" && f[3] != "1") {
			t.Fatalf("row %d: %q for input %q", i+1, l, inLines[i+1])
		}
		if f[3] == "1" {
			alerts++
			if !strings.HasPrefix(f[0], start.Add(30*time.Hour).Format("2006-01-02 15")) {
				t.Errorf("alert at %s, want within the spike hour", f[0])
			}
		}
	}
	if alerts != 1 {
		t.Errorf("%d alerts, want 1", alerts)
	}
}

func TestReplayBadInput(t *testing.T) {
	cases := map[string]string{
		"":             "line 1",
		"time,count\n": "line 1",
		"timestamp,value\n2025-03-03 00:00:00,1\nbad\n":                     "line 3",
		"timestamp,value\n2025-03-03 00:00:00,x\n":                          "line 2",
		"timestamp,value\n2025-03-03 00:00:00,-1\n":                         "line 2",
		"timestamp,value\n2025-03-03T00:00:00,1\n":                          "line 2",
		"timestamp,value\n2025-03-03 00:05:00,1\n2025-03-03 00:00:00,1\n":   "line 3",
		"timestamp,value\n2025-03-03 00:05:00,1\n2025-03-03 00:05:00,1\n":   "line 3",
		"timestamp,value\n2025-03-03 00:05:00,1\n\n2025-03-03 00:00:00,1\n": "line 4",
	}
	for in, want := range cases {
		err := Replay(strings.NewReader(in), &bytes.Buffer{}, time.Minute, DefaultParams())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Replay(%q) = %v, want an error naming %s", in, err, want)
		}
	}
}

// warmModel is a model seeded with two weeks of rollups and an hour of
// minutes, as a live service would be.
func warmModel(p Params) (*Model, time.Time) {
	s := newSim(p, 77)
	s.seed(14*24*time.Hour, usual(20))
	s.run(time.Hour, 1, usual(20))
	return s.m, s.now
}

// BenchmarkEvaluate is one service's work per 15-second tick: a Decide on
// the sliding windows (with the partial minute) and, every fourth tick, the
// Observe of a completed minute.
func BenchmarkEvaluate(b *testing.B) {
	p := DefaultParams()
	s := newSim(p, 77)
	s.seed(14*24*time.Hour, usual(20))
	s.run(time.Hour, 1, usual(20))
	now := s.now
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%4 == 0 {
			s.s.Advance(now, time.Minute, 18)
			now = now.Add(time.Minute)
		}
		s.s.Step(s.s.Decide(now.Add(time.Duration(i%4)*15*time.Second), 4), p)
	}
	b.ReportMetric(float64(unsafe.Sizeof(*s.m)), "model-bytes")
}

// BenchmarkMemoryPerService measures the heap held by 1,000 warm models.
func BenchmarkMemoryPerService(b *testing.B) {
	p := DefaultParams()
	m, _ := warmModel(p)
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		models := make([]*Model, 1000)
		for j := range models {
			c := *m
			models[j] = &c
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1000, "heap-bytes/service")
		runtime.KeepAlive(models)
	}
}
