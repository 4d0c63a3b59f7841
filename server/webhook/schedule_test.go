package webhook

import (
	"net/http"
	"testing"
	"time"
)

func TestBaseBackoff(t *testing.T) {
	for _, c := range []struct {
		n    int
		want time.Duration
	}{
		{0, 5 * time.Second}, {1, 5 * time.Second}, {2, 30 * time.Second}, {3, 2 * time.Minute},
		{4, 10 * time.Minute}, {5, 30 * time.Minute}, {6, time.Hour}, {7, 3 * time.Hour}, {30, 3 * time.Hour},
	} {
		if got := BaseBackoff(c.n); got != c.want {
			t.Errorf("BaseBackoff(%d) = %s; want %s", c.n, got, c.want)
		}
	}
}

func TestDefaultBackoffJitter(t *testing.T) {
	for n := 1; n <= 8; n++ {
		base := BaseBackoff(n)
		for range 200 {
			if d := DefaultBackoff(n); d < base*9/10 || d > base*11/10 {
				t.Fatalf("DefaultBackoff(%d) = %s; want %s ±10%%", n, d, base)
			}
		}
	}
}

// The schedule reaches its three-day window in the expected number of
// attempts: 6 stepped waits, then every 3 h.
func TestScheduleSpansThreeDays(t *testing.T) {
	var elapsed time.Duration
	n := 1
	for ; elapsed+BaseBackoff(n) <= RetryWindow; n++ {
		elapsed += BaseBackoff(n)
	}
	if n != 30 {
		t.Errorf("%d attempts within %s; want 30", n, RetryWindow)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{"-5", 0},
		{"999999999", 3 * time.Hour}, // capped
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{now.Add(48 * time.Hour).Format(http.TimeFormat), 3 * time.Hour},
		{"soon", 0},
	} {
		h := http.Header{}
		if c.v != "" {
			h.Set("Retry-After", c.v)
		}
		if got := retryAfter(h, now); got != c.want {
			t.Errorf("Retry-After %q = %s; want %s", c.v, got, c.want)
		}
	}
}

func TestRetryable(t *testing.T) {
	for code, want := range map[int]bool{
		200: false, 301: true, 302: true, 400: false, 401: false, 404: false, 408: true, 410: false,
		422: false, 429: true, 500: true, 502: true, 503: true, 504: true,
	} {
		if got := retryable(code); got != want {
			t.Errorf("retryable(%d) = %v; want %v", code, got, want)
		}
	}
}

// A Retry-After longer than the backoff is honoured.
func TestJudgeHonoursRetryAfter(t *testing.T) {
	s := New(nil, Options{Backoff: fastBackoff})
	at := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	r := result{n: 1, at: at, first: at, code: http.StatusTooManyRequests}
	h := http.Header{"Retry-After": {"30"}}
	s.judge(&r, h, nil, false)
	if r.outcome != "retry" || !r.next.Equal(at.Add(30*time.Second)) {
		t.Errorf("429 with Retry-After 30: %s at %s; want retry at +30s", r.outcome, r.next)
	}
}
