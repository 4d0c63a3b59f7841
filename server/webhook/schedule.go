package webhook

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryWindow is how long a delivery is retried, counted from its first
// attempt; a subscription whose deliveries failed for this long is disabled.
const RetryWindow = 72 * time.Hour

// schedule is the wait after the n-th failed attempt (n ≥ 1), before jitter.
var schedule = []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour}

// maxInterval is the wait after every later failed attempt, and the cap on
// what a Retry-After header can ask for.
const maxInterval = 3 * time.Hour

// BaseBackoff is the production retry schedule without jitter: 5 s, 30 s,
// 2 min, 10 min, 30 min, 1 h, then every 3 h.
func BaseBackoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n <= len(schedule) {
		return schedule[n-1]
	}
	return maxInterval
}

// DefaultBackoff is BaseBackoff with ±10 % jitter, so subscriptions that
// failed together do not retry in lockstep.
func DefaultBackoff(n int) time.Duration {
	d := BaseBackoff(n)
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}

// retryAfter reads a Retry-After header (seconds or an HTTP date) relative
// to now, capped at maxInterval; 0 when absent or unreadable.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		d = time.Duration(min(max(secs, 0), int64(maxInterval/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxInterval)
}

// retryable says whether an HTTP status is worth another attempt: 408, 429,
// 5xx, and 3xx (redirects are not followed; the owner may fix the URL).
func retryable(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests ||
		status >= 500 || (status >= 300 && status < 400)
}
