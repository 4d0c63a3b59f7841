package webhook

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
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
	s.judge(&r, answer{code: r.code, header: h}, nil, false)
	if r.outcome != "retry" || !r.next.Equal(at.Add(30*time.Second)) {
		t.Errorf("429 with Retry-After 30: %s at %s; want retry at +30s", r.outcome, r.next)
	}
}

// Each format's success answer succeeds and another 2xx fails for good;
// Discord's 429 waits for the body's retry_after when no header says.
func TestJudgeByFormat(t *testing.T) {
	s := New(nil, Options{Backoff: fastBackoff})
	at := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	hook, _ := url.Parse("https://discord.example/api/webhooks/1/x")
	waiting, _ := url.Parse("https://discord.example/api/webhooks/1/x?wait=true")
	for _, c := range []struct {
		name    string
		format  string
		code    int
		target  *url.URL
		header  http.Header
		body    string
		outcome models.AttemptOutcome
		next    time.Duration // after at, when retried
	}{
		{"json 200", models.FormatStandard, 200, hook, nil, "", models.OutcomeSucceeded, 0},
		{"json 202", models.FormatStandard, 202, hook, nil, "", models.OutcomeSucceeded, 0},
		{"slack 200", models.FormatSlack, 200, hook, nil, "", models.OutcomeSucceeded, 0},
		{"discord 204", models.FormatDiscord, 204, hook, nil, "", models.OutcomeSucceeded, 0},
		{"discord 200 without wait", models.FormatDiscord, 200, hook, nil, "", models.OutcomeFailed, 0},
		{"discord 200 with wait=true", models.FormatDiscord, 200, waiting, nil, `{"id":"1"}`, models.OutcomeSucceeded, 0},
		{"discord 429 body", models.FormatDiscord, 429, hook, nil, `{"message":"You are being rate limited.","retry_after":2.5,"global":false}`, models.OutcomeRetry, 2500 * time.Millisecond},
		{"discord 429 header wins", models.FormatDiscord, 429, hook, http.Header{"Retry-After": {"4"}}, `{"retry_after":2.5}`, models.OutcomeRetry, 4 * time.Second},
		{"discord 429 capped", models.FormatDiscord, 429, hook, nil, `{"retry_after":1e9}`, models.OutcomeRetry, maxInterval},
		{"discord 429 without a wait", models.FormatDiscord, 429, hook, nil, `not json`, models.OutcomeRetry, 10 * time.Millisecond},
		{"discord 500 body ignored", models.FormatDiscord, 500, hook, nil, `{"retry_after":60}`, models.OutcomeRetry, 10 * time.Millisecond},
		{"teams 202", models.FormatTeams, 202, hook, nil, "", models.OutcomeSucceeded, 0},
		{"teams 200", models.FormatTeams, 200, hook, nil, "", models.OutcomeSucceeded, 0},
		{"teams 204", models.FormatTeams, 204, hook, nil, "", models.OutcomeFailed, 0},
		{"ntfy 200", models.FormatNtfy, 200, hook, nil, "", models.OutcomeSucceeded, 0},
		{"ntfy 202", models.FormatNtfy, 202, hook, nil, "", models.OutcomeFailed, 0},
		{"ntfy 400", models.FormatNtfy, 400, hook, nil, "", models.OutcomeFailed, 0},
	} {
		r := result{n: 1, at: at, first: at, code: c.code}
		s.judge(&r, answer{code: c.code, header: c.header, body: []byte(c.body), f: formats[c.format], target: c.target}, nil, false)
		if r.outcome != c.outcome {
			t.Errorf("%s: %s (%s); want %s", c.name, r.outcome, r.errText, c.outcome)
		}
		if c.outcome == models.OutcomeRetry && !r.next.Equal(at.Add(c.next)) {
			t.Errorf("%s: next attempt at +%s; want +%s", c.name, r.next.Sub(at), c.next)
		}
		if c.outcome == models.OutcomeFailed && c.code < 300 && !strings.Contains(r.errText, "not retried") {
			t.Errorf("%s: error %q", c.name, r.errText)
		}
	}
}
