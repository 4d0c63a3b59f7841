package ratelimit

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/outcry/outcry/internal/testkit"
	"github.com/outcry/outcry/models"
)

// backend is what every implementation offers the server.
type backend interface {
	models.Admitter
	models.CounterReader
	Denied(reporter, network string, now time.Time) (models.Admittance, bool)
	Undo(ctx context.Context, a models.Admission, d models.Admittance) error
}

// harness is one implementation under test with its notion of time: the
// in-process twin runs on a fake clock, Redis on real time (GCRA uses Redis
// TIME), so cases keep the durations they wait for short.
type harness struct {
	backend
	now      func() time.Time
	advance  func(time.Duration)
	degraded bool // every Admittance must say Degraded
}

func newFakeClock() *testkit.Clock {
	return testkit.NewClock(time.Date(2030, 1, 2, 3, 4, 0, 0, time.UTC))
}

// implementations builds each implementation for a case's config.
func implementations(t *testing.T) map[string]func(t *testing.T, cfg Config) harness {
	rdb := testRedis(t)
	deadAddr := deadRedis(t)
	real := func(t *testing.T) (func() time.Time, func(time.Duration)) {
		return time.Now, time.Sleep
	}
	return map[string]func(t *testing.T, cfg Config) harness{
		"local": func(t *testing.T, cfg Config) harness {
			clk := newFakeClock()
			l, err := NewLocal(cfg, clk.Now)
			if err != nil {
				t.Fatal(err)
			}
			return harness{backend: l, now: clk.Now, advance: clk.Add}
		},
		"redis": func(t *testing.T, cfg Config) harness {
			cfg.Prefix = testPrefix(t, rdb)
			r, err := NewRedis(rdb, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			now, adv := real(t)
			return harness{backend: r, now: now, advance: adv}
		},
		"fallback/redis-up": func(t *testing.T, cfg Config) harness {
			cfg.Prefix = testPrefix(t, rdb)
			lim := newReplica(t, rdb, cfg)
			now, adv := real(t)
			return harness{backend: lim, now: now, advance: adv}
		},
		"fallback/redis-down": func(t *testing.T, cfg Config) harness {
			clk := newFakeClock()
			l, err := NewLocal(cfg, clk.Now)
			if err != nil {
				t.Fatal(err)
			}
			lim, err := New(newTestClient(t, deadAddr, nil), l, cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			return harness{backend: lim, now: clk.Now, advance: clk.Add, degraded: true}
		},
	}
}

func (h harness) admit(t *testing.T, reporter, network string, service uint, problem, region string, at time.Time) models.Admittance {
	t.Helper()
	if at.IsZero() {
		at = h.now()
	}
	d, err := h.Admit(context.Background(), models.Admission{
		ServiceID: service, Reporter: reporter, Network: network,
		Problem: problem, Region: region, At: at,
	})
	if err != nil {
		t.Fatalf("Admit(%s, %s): %v", reporter, network, err)
	}
	if d.Degraded != h.degraded {
		t.Fatalf("Admit(%s, %s): Degraded = %v, want %v", reporter, network, d.Degraded, h.degraded)
	}
	return d
}

// simple is a report of reporter r from network n on service 1.
func (h harness) simple(t *testing.T, r, n string) models.Admittance {
	t.Helper()
	return h.admit(t, r, n, 1, "outage", "US", time.Time{})
}

func (h harness) minutes(t *testing.T, from, to time.Time) []models.MinuteCounts {
	t.Helper()
	mc, err := h.Minutes(context.Background(), from, to)
	if err != nil {
		t.Fatalf("Minutes: %v", err)
	}
	return mc
}

func wantDecision(t *testing.T, what string, d models.Admittance, allowed bool, limit, remaining int) {
	t.Helper()
	if d.Allowed != allowed || d.Limit != limit || d.Remaining != remaining {
		t.Fatalf("%s: got allowed=%v limit=%d remaining=%d, want %v %d %d (%+v)",
			what, d.Allowed, d.Limit, d.Remaining, allowed, limit, remaining, d)
	}
	if allowed && d.RetryAfter != 0 {
		t.Fatalf("%s: allowed with RetryAfter %s", what, d.RetryAfter)
	}
	if !allowed && (d.RetryAfter <= 0 || d.ResetAfter < d.RetryAfter || d.Counted) {
		t.Fatalf("%s: denial with RetryAfter %s ResetAfter %s Counted %v", what, d.RetryAfter, d.ResetAfter, d.Counted)
	}
}

var wide = redis_rate.Limit{Rate: 1000, Period: time.Second, Burst: 1000}

// Limits here have emission intervals exact in binary floating point, where
// GCRA's and the token bucket's Remaining agree to the request (see
// conformance_test.go for redis_rate's rounding with other intervals).
var behaviourCases = []struct {
	name string
	cfg  Config
	run  func(t *testing.T, h harness)
}{
	{"reporter limit then deny", Config{Reporter: redis_rate.PerMinute(3), Network: wide}, func(t *testing.T, h harness) {
		for i, want := range []int{2, 1, 0} {
			d := h.simple(t, "r1", "n1")
			wantDecision(t, "report "+itoa(i), d, true, 3, want)
			if d.Period != time.Minute || d.ResetAfter <= 0 || d.ResetAfter > time.Minute {
				t.Fatalf("report %d: period %s reset %s", i, d.Period, d.ResetAfter)
			}
		}
		d := h.simple(t, "r1", "n1")
		wantDecision(t, "4th report", d, false, 3, 0)
		if d.RetryAfter > 20*time.Second || d.RetryAfter < 19*time.Second {
			t.Fatalf("RetryAfter %s, want about 20s (one emission interval)", d.RetryAfter)
		}
		wantDecision(t, "other reporter", h.simple(t, "r2", "n1"), true, 3, 2)
	}},
	{"denied report consumes neither limit", Config{Reporter: redis_rate.PerMinute(2), Network: redis_rate.PerMinute(3)}, func(t *testing.T, h harness) {
		wantDecision(t, "a1", h.simple(t, "a", "n"), true, 2, 1)
		wantDecision(t, "a2", h.simple(t, "a", "n"), true, 2, 0) // tie: reporter resets later
		wantDecision(t, "a3", h.simple(t, "a", "n"), false, 2, 0)
		// a3 took nothing from n: b gets the network's last request.
		wantDecision(t, "b1", h.simple(t, "b", "n"), true, 3, 0)
		wantDecision(t, "c1", h.simple(t, "c", "n"), false, 3, 0)
		// c1 took nothing from c: on another network c has its full burst.
		wantDecision(t, "c on n2", h.simple(t, "c", "n2"), true, 2, 1)
	}},
	{"network limit across reporters", Config{Reporter: redis_rate.PerMinute(5), Network: redis_rate.PerMinute(4)}, func(t *testing.T, h harness) {
		for i := range 4 {
			wantDecision(t, "reporter "+itoa(i), h.simple(t, "r"+itoa(i), "net"), true, 4, 3-i)
		}
		d := h.simple(t, "r9", "net")
		wantDecision(t, "5th reporter", d, false, 4, 0)
		if d.RetryAfter > 15*time.Second || d.RetryAfter < 14*time.Second {
			t.Fatalf("RetryAfter %s, want about 15s", d.RetryAfter)
		}
		// net2's 3 left are fewer than r9's 4: the network is the tighter limit.
		wantDecision(t, "other network", h.simple(t, "r9", "net2"), true, 4, 3)
	}},
	{"allowed again after RetryAfter", Config{Reporter: redis_rate.Limit{Rate: 16, Period: time.Second, Burst: 1}, Network: wide}, func(t *testing.T, h harness) {
		wantDecision(t, "first", h.simple(t, "r", "n"), true, 16, 0)
		d := h.simple(t, "r", "n")
		wantDecision(t, "second", d, false, 16, 0)
		if d.RetryAfter > time.Second/16 {
			t.Fatalf("RetryAfter %s > 62.5ms", d.RetryAfter)
		}
		h.advance(d.RetryAfter + 5*time.Millisecond)
		wantDecision(t, "after RetryAfter", h.simple(t, "r", "n"), true, 16, 0)
	}},
	{"deny cache answers until RetryAfter", Config{Reporter: redis_rate.PerMinute(1), Network: redis_rate.PerMinute(2)}, func(t *testing.T, h harness) {
		if _, ok := h.Denied("r", "n", h.now()); ok {
			t.Fatal("Denied before any denial")
		}
		h.simple(t, "r", "n")
		d := h.simple(t, "r", "n")
		wantDecision(t, "reporter denied", d, false, 1, 0)
		now := h.now()
		cd, ok := h.Denied("r", "other-net", now)
		if !ok || cd.Allowed || cd.Limit != 1 || cd.RetryAfter <= 0 || cd.RetryAfter > d.RetryAfter {
			t.Fatalf("Denied(r) = %+v, %v; Admit said %+v", cd, ok, d)
		}
		if _, ok := h.Denied("r", "n", now.Add(d.RetryAfter+time.Millisecond)); ok {
			t.Fatal("Denied after RetryAfter")
		}
		if _, ok := h.Denied("someone-else", "n", now); ok {
			t.Fatal("Denied for a reporter never denied")
		}
		h.simple(t, "s", "n") // the network's 2nd
		wantDecision(t, "network denied", h.simple(t, "u", "n"), false, 2, 0)
		if cd, ok := h.Denied("fresh", "n", h.now()); !ok || cd.Limit != 2 {
			t.Fatalf("Denied(network) = %+v, %v", cd, ok)
		}
	}},
	{"dedupe counts the first report per service", Config{NetworkEvidence: 64}, func(t *testing.T, h harness) {
		steps := []struct {
			r       string
			service uint
			counted bool
		}{{"a", 1, true}, {"a", 1, false}, {"a", 2, true}, {"b", 1, true}, {"a", 2, false}}
		for i, s := range steps {
			d := h.admit(t, s.r, "n", s.service, "outage", "US", time.Time{})
			if !d.Allowed || d.Counted != s.counted {
				t.Fatalf("step %d (%s on %d): allowed %v counted %v, want counted %v", i, s.r, s.service, d.Allowed, d.Counted, s.counted)
			}
		}
	}},
	{"dedupe window lapses", Config{Dedupe: 300 * time.Millisecond}, func(t *testing.T, h harness) {
		if d := h.simple(t, "a", "n"); !d.Counted {
			t.Fatal("first report not counted")
		}
		if d := h.simple(t, "a", "n"); d.Counted {
			t.Fatal("second report counted within the window")
		}
		h.advance(350 * time.Millisecond)
		if d := h.simple(t, "a", "n"); !d.Counted {
			t.Fatal("report after the window not counted")
		}
	}},
	{"denied reports are not counted", Config{Reporter: redis_rate.PerMinute(1)}, func(t *testing.T, h harness) {
		if d := h.admit(t, "a", "n", 1, "outage", "US", time.Time{}); !d.Counted {
			t.Fatal("first report not counted")
		}
		if d := h.admit(t, "a", "n", 2, "outage", "US", time.Time{}); d.Allowed || d.Counted {
			t.Fatalf("denied report: %+v", d)
		}
		base := time.Unix(unixMinute(h.now()), 0)
		mc := h.minutes(t, base.Add(-time.Minute), base.Add(time.Minute))
		total := 0
		for _, m := range mc {
			total += m.Services[1].Total + m.Services[2].Total
		}
		if total != 1 {
			t.Fatalf("counted %d reports, want 1: %+v", total, mc)
		}
	}},
	{"counters by problem and region", Config{NetworkEvidence: 64}, func(t *testing.T, h harness) {
		at := time.Unix(unixMinute(h.now()), 0).Add(-time.Minute)
		for _, r := range []struct{ rep, problem, region string }{
			{"a", "login", "US"}, {"b", "login", "DE"}, {"c", "outage", "US"}, {"a", "outage", "FR"}, // a: deduped
		} {
			h.admit(t, r.rep, "n", 7, r.problem, r.region, at)
		}
		h.admit(t, "a", "n", 8, "slow", "", at)
		mc := h.minutes(t, at, at.Add(time.Minute))
		if len(mc) != 1 || mc[0].Minute != at.Unix() {
			t.Fatalf("Minutes = %+v, want one minute at %d", mc, at.Unix())
		}
		want := map[uint]models.Counts{
			7: {Total: 3, Problems: map[string]int{"login": 2, "outage": 1}, Regions: map[string]int{"US": 2, "DE": 1}},
			8: {Total: 1, Problems: map[string]int{"slow": 1}},
		}
		if got := mc[0].Services; !equalCounts(got, want) {
			t.Fatalf("counts = %+v, want %+v", got, want)
		}
	}},
	{"Minutes range", Config{NetworkEvidence: 64}, func(t *testing.T, h harness) {
		base := time.Unix(unixMinute(h.now()), 0)
		for i, off := range []time.Duration{-3 * time.Minute, -2 * time.Minute, -2*time.Minute + 59*time.Second, -time.Minute} {
			h.admit(t, "r"+itoa(i), "n", 1, "outage", "US", base.Add(off))
		}
		got := func(from, to time.Time) []int64 {
			var ms []int64
			for _, m := range h.minutes(t, from, to) {
				ms = append(ms, (m.Minute-base.Unix())/60*100+int64(m.Services[1].Total))
			}
			return ms
		}
		for _, c := range []struct {
			name     string
			from, to time.Time
			want     []int64 // minute offset*100 + total
		}{
			{"all", base.Add(-time.Hour), base.Add(time.Hour), []int64{-299, -198, -99}},
			{"to is exclusive", base.Add(-3 * time.Minute), base.Add(-time.Minute), []int64{-299, -198}},
			{"from mid-minute includes its minute", base.Add(-2*time.Minute + 30*time.Second), base.Add(-time.Minute + time.Second), []int64{-198, -99}},
			{"empty", base, base.Add(time.Minute), nil},
			{"reversed", base, base.Add(-time.Hour), nil},
		} {
			if g := got(c.from, c.to); !slices.Equal(g, c.want) {
				t.Fatalf("%s: got %v, want %v", c.name, g, c.want)
			}
		}
	}},
	{"counters expire after CounterTTL", Config{CounterTTL: 300 * time.Millisecond, Dedupe: time.Millisecond}, func(t *testing.T, h harness) {
		base := time.Unix(unixMinute(h.now()), 0)
		h.admit(t, "a", "n", 1, "outage", "US", base.Add(-time.Minute))
		if mc := h.minutes(t, base.Add(-time.Minute), base); len(mc) != 1 {
			t.Fatalf("Minutes before expiry = %+v", mc)
		}
		h.advance(350 * time.Millisecond)
		if mc := h.minutes(t, base.Add(-time.Minute), base); len(mc) != 0 {
			t.Fatalf("Minutes after expiry = %+v", mc)
		}
	}},
	{"a network counts at most NetworkEvidence reporters per service", Config{NetworkEvidence: 2, Dedupe: 400 * time.Millisecond}, func(t *testing.T, h harness) {
		counted := func(r, n string, service uint) bool {
			t.Helper()
			d := h.admit(t, r, n, service, "outage", "US", time.Time{})
			if !d.Allowed {
				t.Fatalf("%s on %s: not allowed: %+v", r, n, d)
			}
			if d.Counted != (d.Slot > 0) {
				t.Fatalf("%s on %s: counted %v with slot %d", r, n, d.Counted, d.Slot)
			}
			return d.Counted
		}
		for i, want := range []bool{true, true, false, false} {
			if got := counted("r"+itoa(i), "n", 1); got != want {
				t.Fatalf("reporter %d of one network: counted %v, want %v", i, got, want)
			}
		}
		if !counted("r2", "n", 2) || !counted("r9", "n2", 1) {
			t.Fatal("another service or another network is not limited by the full network")
		}
		// r2 was refused by its network, not deduped: once the network's
		// slots lapse, r2 counts.
		h.advance(450 * time.Millisecond)
		if !counted("r2", "n", 1) {
			t.Fatal("a reporter refused only for its network's cap is not counted once a slot lapsed")
		}
		base := time.Unix(unixMinute(h.now()), 0)
		total := 0
		for _, m := range h.minutes(t, base.Add(-2*time.Minute), base.Add(time.Minute)) {
			total += m.Services[1].Total
		}
		if total != 4 {
			t.Fatalf("service 1 counted %d, want 4 (2 of n, 1 of n2, then r2)", total)
		}
	}},
	{"undo takes a counted report back", Config{}, func(t *testing.T, h harness) {
		at := time.Unix(unixMinute(h.now()), 0)
		a := models.Admission{ServiceID: 4, Reporter: "u", Network: "un", Problem: "login", Region: "DE", At: at}
		d, err := h.Admit(context.Background(), a)
		if err != nil || !d.Counted {
			t.Fatalf("first report: %+v %v", d, err)
		}
		if err := h.Undo(context.Background(), a, d); err != nil {
			t.Fatal(err)
		}
		for _, m := range h.minutes(t, at, at.Add(time.Minute)) {
			if c := m.Services[4]; c.Total != 0 || c.Problems["login"] != 0 || c.Regions["DE"] != 0 {
				t.Fatalf("after undo: %+v", c)
			}
		}
		// Its markers are gone too: the reporter's retry counts.
		if d, err := h.Admit(context.Background(), a); err != nil || !d.Counted {
			t.Fatalf("the retry of an undone report: %+v %v", d, err)
		}
	}},
	{"admission without reporter or network", Config{}, func(t *testing.T, h harness) {
		for _, a := range []models.Admission{{Reporter: "r"}, {Network: "n"}} {
			if _, err := h.Admit(context.Background(), a); models.ErrorCode(err) != models.CodeInvalid {
				t.Fatalf("Admit(%+v) error %v, want code invalid", a, err)
			}
		}
	}},
}

// TestBehaviour runs every case against every implementation.
func TestBehaviour(t *testing.T) {
	impls := implementations(t)
	for _, c := range behaviourCases {
		for name, mk := range impls {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				c.run(t, mk(t, c.cfg))
			})
		}
	}
}

func equalCounts(a, b map[uint]models.Counts) bool {
	return maps.EqualFunc(a, b, func(x, y models.Counts) bool {
		return x.Total == y.Total && maps.Equal(x.Problems, y.Problems) && maps.Equal(x.Regions, y.Regions)
	})
}

func itoa(i int) string { return strconv.Itoa(i) }
