package official

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
)

func at(min int) time.Time {
	return time.Date(2026, 11, 2, 14, 0, 0, 0, time.UTC).Add(time.Duration(min) * time.Minute)
}
func ptr(t time.Time) *time.Time { return &t }

// The acknowledgement is the first published update, raised to the last
// poll that did not show it and lowered to the poll that first saw it.
func TestAcknowledgedAt(t *testing.T) {
	for _, tc := range []struct {
		name               string
		first, seen, after *time.Time
		want               time.Time
	}{
		{"published between polls", ptr(at(2)), ptr(at(3)), ptr(at(1)), at(2)},
		{"back-dated before the last poll that did not show it", ptr(at(-30)), ptr(at(3)), ptr(at(1)), at(1)},
		{"first poll ever: the published time", ptr(at(-30)), ptr(at(3)), nil, at(-30)},
		{"published after we saw it (clock skew)", ptr(at(5)), ptr(at(3)), ptr(at(1)), at(3)},
		{"no published time", nil, ptr(at(3)), ptr(at(1)), at(3)},
	} {
		o := models.OfficialIncident{FirstUpdateAt: tc.first, FirstSeenAt: *tc.seen, SeenAfter: tc.after}
		if got := o.AcknowledgedAt(); !got.Equal(tc.want) {
			t.Errorf("%s: %v; want %v", tc.name, got, tc.want)
		}
	}
}

// Matching: an official incident active within [start − 2 h, end + 4 h]
// (now while open); the earliest acknowledgement wins; nothing later than
// now.
func TestMatch(t *testing.T) {
	off := func(ack, resolved int) models.OfficialIncident {
		o := models.OfficialIncident{FirstUpdateAt: ptr(at(ack)), FirstSeenAt: at(ack)}
		if resolved != 0 {
			o.ResolvedAt = ptr(at(resolved))
		}
		return o
	}
	open := models.Incident{StartedAt: at(0), OpenedAt: ptr(at(5))}
	resolved := models.Incident{StartedAt: at(0), OpenedAt: ptr(at(5)), ResolvedAt: ptr(at(60))}
	for _, tc := range []struct {
		name string
		in   models.Incident
		offs []models.OfficialIncident
		now  time.Time
		want *time.Time
	}{
		{"after opening", open, []models.OfficialIncident{off(7, 0)}, at(10), ptr(at(7))},
		{"official first, still active", open, []models.OfficialIncident{off(-300, 0)}, at(10), ptr(at(-300))},
		{"resolved long before", open, []models.OfficialIncident{off(-300, -200)}, at(10), nil},
		{"resolved within the 2 h before", open, []models.OfficialIncident{off(-100, -60)}, at(10), ptr(at(-100))},
		{"earliest of two", open, []models.OfficialIncident{off(9, 0), off(7, 0)}, at(10), ptr(at(7))},
		{"in the future", open, []models.OfficialIncident{off(20, 0)}, at(10), nil},
		{"within 4 h after resolution", resolved, []models.OfficialIncident{off(200, 0)}, at(250), ptr(at(200))},
		{"later than 4 h after resolution", resolved, []models.OfficialIncident{off(301, 0)}, at(400), nil},
		{"none", open, nil, at(10), nil},
	} {
		got, ok := Match(tc.in, tc.offs, tc.now)
		switch {
		case tc.want == nil && ok:
			t.Errorf("%s: matched %v", tc.name, got)
		case tc.want != nil && (!ok || !got.Equal(*tc.want)):
			t.Errorf("%s: %v %v; want %v", tc.name, got, ok, *tc.want)
		}
	}
	in := models.Incident{StartedAt: at(0), OpenedAt: ptr(at(5)), OfficialAcknowledgedAt: ptr(at(7))}
	if l := in.LeadSeconds(); l == nil || *l != 120 {
		t.Errorf("lead %v; want 120", l)
	}
}

// The endpoint rule: a document URL as given; a page root tried as
// incident.io, Statuspage, then feeds, then itself.
func TestCandidates(t *testing.T) {
	for raw, want := range map[string][]string{
		"https://www.githubstatus.com/api/v2/summary.json":  {"https://www.githubstatus.com/api/v2/summary.json"},
		"https://status.aws.amazon.com/rss/all.rss":         {"https://status.aws.amazon.com/rss/all.rss"},
		"https://status.openai.com/proxy/status.openai.com": {"https://status.openai.com/proxy/status.openai.com"},
		"https://azure.status.microsoft/en-us/status/feed/": {"https://azure.status.microsoft/en-us/status/feed/"},
		"https://status.openai.com": {"https://status.openai.com/proxy/status.openai.com", "https://status.openai.com/api/v2/summary.json",
			"https://status.openai.com/feed.rss", "https://status.openai.com/history.rss", "https://status.openai.com/feed.atom", "https://status.openai.com"},
		"https://status.claude.com/": {"https://status.claude.com/proxy/status.claude.com", "https://status.claude.com/api/v2/summary.json",
			"https://status.claude.com/feed.rss", "https://status.claude.com/history.rss", "https://status.claude.com/feed.atom", "https://status.claude.com/"},
	} {
		if got := Candidates(raw); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", raw, got, want)
		}
	}
}

// Polls spread out: every wait is within ±10 % of the interval, and they
// differ.
func TestJitter(t *testing.T) {
	seen := map[time.Duration]bool{}
	for i := 0; i < 200; i++ {
		d := jittered(time.Minute)
		if d < 54*time.Second || d > 66*time.Second {
			t.Fatalf("%v outside 60 s ± 10 %%", d)
		}
		seen[d] = true
	}
	if len(seen) < 150 {
		t.Errorf("only %d distinct waits of 200", len(seen))
	}
}

// A failing source waits longer after each consecutive failure, up to
// MaxBackoff intervals, and never less than the Retry-After it asked for.
func TestNextPoll(t *testing.T) {
	for _, c := range []struct {
		fails int
		retry time.Duration
		want  time.Duration // ± Jitter
	}{
		{0, 0, time.Minute}, {1, 0, time.Minute}, {2, 0, 2 * time.Minute}, {3, 0, 4 * time.Minute},
		{4, 0, 5 * time.Minute}, {50, 0, 5 * time.Minute},
		{0, 3 * time.Minute, 3 * time.Minute}, {2, 30 * time.Second, 2 * time.Minute}, {1, 5 * time.Hour, time.Hour},
	} {
		for range 20 {
			d := nextPoll(time.Minute, c.fails, c.retry)
			lo, hi := time.Duration(float64(c.want)*(1-Jitter)), time.Duration(float64(c.want)*(1+Jitter))
			if c.retry >= c.want {
				lo = c.want // a Retry-After is honoured exactly, never shortened by jitter
			}
			if d < lo || d > hi {
				t.Fatalf("%d failures, Retry-After %v: waits %v, want %v ± 10 %%", c.fails, c.retry, d, c.want)
			}
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 2, 13, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"": 0, "120": 2 * time.Minute, " 5 ": 5 * time.Second, "0": 0, "-5": 0, "soon": 0, "1.5": 0, "99999999999": time.Hour,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
		now.Add(48 * time.Hour).Format(http.TimeFormat):   time.Hour,
	} {
		if got := retryAfter(h, now); got != want {
			t.Errorf("Retry-After %q: %v, want %v", h, got, want)
		}
	}
}
