package testkit

import (
	"sync"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	c := NewClock(start)
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); c.Add(time.Second); _ = c.Now() }()
	}
	wg.Wait()
	if got := c.Now(); !got.Equal(start.Add(10 * time.Second)) {
		t.Errorf("after ten 1 s steps: %s", got)
	}
	c.Set(start)
	if !c.Now().Equal(start) {
		t.Errorf("Set: %s", c.Now())
	}
}

// fakeTB records a Fatalf instead of ending the test.
type fakeTB struct {
	testing.TB
	failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = format
	panic(f)
}

func TestEventually(t *testing.T) {
	n := 0
	Eventually(t, time.Second, "three calls", func() bool { n++; return n == 3 })
	if n != 3 {
		t.Errorf("cond called %d times; want 3", n)
	}
	f := &fakeTB{TB: t}
	start := time.Now()
	func() {
		defer func() {
			if r := recover(); r != f {
				t.Fatalf("recovered %v", r)
			}
		}()
		Eventually(f, 50*time.Millisecond, "never", func() bool { return false })
	}()
	if f.failed == "" || time.Since(start) < 50*time.Millisecond {
		t.Errorf("a condition that never holds: failed %q after %s", f.failed, time.Since(start))
	}
}

func TestDaytime(t *testing.T) {
	day := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct{ in, want time.Duration }{
		{23*time.Hour + 55*time.Minute, 20*time.Hour + 55*time.Minute},
		{22 * time.Hour, 19 * time.Hour},
		{21*time.Hour + 59*time.Minute, 21*time.Hour + 59*time.Minute},
		{0, 2 * time.Hour},
		{59*time.Minute + 30*time.Second, 2*time.Hour + 59*time.Minute + 30*time.Second},
		{time.Hour, time.Hour},
		{12*time.Hour + 7*time.Minute, 12*time.Hour + 7*time.Minute},
	} {
		got := Daytime(day.Add(c.in))
		if want := day.Add(c.want); !got.Equal(want) {
			t.Errorf("Daytime(%s) = %s, want %s", day.Add(c.in), got, want)
		}
		// Twenty minutes on, still the same day: no test step crosses midnight.
		if got.Add(20*time.Minute).YearDay() != got.YearDay() {
			t.Errorf("Daytime(%s) = %s is within 20 minutes of midnight", day.Add(c.in), got)
		}
	}
}
