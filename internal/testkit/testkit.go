// Package testkit is what tests across Outcry share to handle time: a
// settable clock, and Eventually, which waits for a condition with a
// deadline instead of sleeping and hoping. It imports only the standard
// library, so any package's tests can use it (servertest imports server,
// which ratelimit's or webhook's tests cannot), and the binary never does.
package testkit

import (
	"sync"
	"testing"
	"time"
)

// Clock is a settable clock for code that takes a Now func: pass
// Clock.Now, then move it with Add or Set. Safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Daytime is t, or t moved by whole hours so that it lies between 01:00
// and 22:00 UTC: a test whose clock starts at the wall time and moves on
// by minutes never crosses midnight, when the reporter-hash key changes
// (a reporter is counted once more then, by design) and the day's buckets
// start afresh. Whole hours keep a start aligned to its minute or
// quarter-hour. CI once ran at 23:5x and a 10-minute step lost the
// dedupe a test expected.
func Daytime(t time.Time) time.Time {
	switch h := t.UTC().Hour(); {
	case h >= 22:
		return t.Add(-3 * time.Hour)
	case h < 1:
		return t.Add(2 * time.Hour)
	}
	return t
}

// Eventually checks cond until it holds, and fails the test (Fatal) when
// it still does not after d; what says what was awaited. It checks at
// once, then after 5 ms, the pause doubling up to 50 ms: quick to notice
// what happens soon, light on a shared machine for what takes seconds
// (conditions that run redis-cli or query three replicas). cond runs on
// the test's goroutine and may act (send a probe) as well as look.
func Eventually(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	pause := 5 * time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(pause)
		pause = min(2*pause, 50*time.Millisecond)
	}
}
