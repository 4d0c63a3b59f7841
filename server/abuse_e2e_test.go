package server_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/outcry/outcry/server"
	"github.com/outcry/outcry/server/servertest"
)

// abuseApp is the demo catalogue (two weeks of normal history per service)
// on a clock the test moves, with a fast runner.
func abuseApp(t *testing.T) (*servertest.App, *servertest.Clock) {
	// Mid-afternoon in Europe on a weekday: neither the quiet nor the busy
	// end of the demo's daily cycle.
	at := time.Now().UTC().Truncate(24 * time.Hour).Add(14*time.Hour + 7*time.Minute)
	for at.Weekday() == time.Saturday || at.Weekday() == time.Sunday {
		at = at.Add(-24 * time.Hour)
	}
	clock := servertest.NewClock(at)
	app := servertest.Start(t, func(env map[string]string) { env["OUTCRY_DEMO"] = "true" },
		func(o *server.Options) { o.RunnerInterval = 20 * time.Millisecond; o.Now = clock.Now })
	return app, clock
}

// tick moves the clock by d and waits until the runner has looked at the
// service at the new time.
func tick(t *testing.T, app *servertest.App, clock *servertest.Clock, slug string, d time.Duration) serviceView {
	t.Helper()
	clock.Add(d)
	want := clock.Now()
	var v struct {
		serviceView
		UpdatedAt time.Time `json:"updated_at"`
	}
	eventually(t, "a detector tick at "+want.Format(time.TimeOnly), func() bool {
		app.Do(t, "GET", "/api/v1/services/"+slug, nil).JSON(t, &v)
		return !v.UpdatedAt.Before(want)
	})
	return v.serviceView
}

// reportFrom sends one report from each address, spread evenly over four
// minutes (a sustained rise, not one burst); every one must be accepted
// (they stay under the per-address and per-network limits).
func reportFrom(t *testing.T, app *servertest.App, clock *servertest.Clock, slug string, addrs []string) {
	t.Helper()
	const minutes = 4
	for i, a := range addrs {
		if i > 0 && i%((len(addrs)+minutes-1)/minutes) == 0 {
			tick(t, app, clock, slug, time.Minute)
		}
		if r := app.Report(t, slug, a, map[string]string{"problem": "login"}); r.Status != http.StatusAccepted {
			t.Fatalf("report from %s: %d %s", a, r.Status, r.Body)
		}
	}
}

// quietFor ticks through twenty minutes after a flood and fails if an
// incident opens or the service leaves "ok".
func quietFor(t *testing.T, app *servertest.App, clock *servertest.Clock, slug, what string) {
	t.Helper()
	for i := 0; i < 20; i++ {
		if v := tick(t, app, clock, slug, time.Minute); v.Incident != nil || v.Status != "ok" {
			t.Fatalf("%s: %d min later the service is %q with incident %+v", what, i+1, v.Status, v.Incident)
		}
	}
}

// TestOneNetworkCannotFakeAnOutage: every address of one /24, then
// hundreds of addresses of one /48, report a service with normal history,
// each under the per-address and per-network rate limits. The service
// stays ok: a network counts like one reporter per 15 minutes. The same
// number of reporters spread over as many networks opens an incident.
func TestOneNetworkCannotFakeAnOutage(t *testing.T) {
	app, clock := abuseApp(t)
	const slug = "perplexity" // the quietest demo service: the easiest to fake
	if v := tick(t, app, clock, slug, time.Second); v.Status != "ok" || v.Incident != nil {
		t.Fatalf("before any report: %+v", v)
	}

	var v4 []string
	for i := 1; i <= 254; i++ {
		v4 = append(v4, fmt.Sprintf("203.0.113.%d", i))
	}
	reportFrom(t, app, clock, slug, v4)
	if n := countRows(t, app.DBPath, "SELECT COUNT(*) FROM reports WHERE counted = 1"); n != 1 {
		t.Fatalf("one /24 of 254 addresses stored %d counted reports in 4 minutes, want 1", n)
	}
	quietFor(t, app, clock, slug, "one /24")

	var v6 []string
	for i := 0; i < 290; i++ { // the network limit is 300 a minute
		v6 = append(v6, fmt.Sprintf("2001:db8:77:%x::%x", i, i+1))
	}
	reportFrom(t, app, clock, slug, v6)
	if n := countRows(t, app.DBPath, "SELECT COUNT(*) FROM reports"); n != 254+290 {
		t.Fatalf("%d reports stored, want every one of %d", n, 254+290)
	}
	quietFor(t, app, clock, slug, "one /48")

	var spread []string
	for i := 0; i < 254; i++ {
		spread = append(spread, fmt.Sprintf("198.18.%d.%d", i, 1+i%250))
	}
	reportFrom(t, app, clock, slug, spread)
	var v serviceView
	eventually(t, "an incident from reporters in 254 networks", func() bool {
		v = tick(t, app, clock, slug, time.Second)
		return v.Incident != nil && v.Incident.Scope == "global"
	})
	t.Logf("254 networks: %s, %s", v.Status, v.Incident.Rule)
}
