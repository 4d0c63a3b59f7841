package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/server"
	"github.com/outcry/outcry/server/servertest"
)

type serviceView struct {
	Status   string `json:"status"`
	Incident *struct {
		ID       uint64  `json:"id"`
		Scope    string  `json:"scope"`
		Level    string  `json:"level"`
		Expected float64 `json:"expected"`
		Actual   float64 `json:"actual"`
		Rule     string  `json:"rule"`
	} `json:"incident"`
}

// burst sends n reports from n distinct reporters in distinct networks.
func burst(t *testing.T, app *servertest.App, slug string, n, offset int, region string) {
	t.Helper()
	for i := 0; i < n; i++ {
		k := offset + i
		r := app.Report(t, slug, fmt.Sprintf("100.%d.%d.%d", 64+k/256%64, k%256, 1+k/16384%254), map[string]string{"problem": "login", "region": region})
		if r.Status != http.StatusAccepted {
			t.Fatalf("report %d: %d %s", i, r.Status, r.Body)
		}
	}
}

func view(t *testing.T, app *servertest.App, slug string) serviceView {
	t.Helper()
	var v serviceView
	app.Do(t, "GET", "/api/v1/services/"+slug, nil).JSON(t, &v)
	return v
}

// TestBurstOpensIncidentThatSurvivesRestartAndResolves: a burst of 120
// distinct reporters at a new service (the cold-start rule) opens an outage
// through the HTTP API; a restart neither re-opens nor forgets it; quiet
// resolves it, once.
func TestBurstOpensIncidentThatSurvivesRestartAndResolves(t *testing.T) {
	// The clock stands still while the burst arrives, at moments into a
	// 15-minute bucket that once went wrong: its first second, within the
	// runner's grace for the minute before, its first minute (when a new
	// service had no complete minute yet), a later minute's first seconds,
	// and the middle.
	for _, into := range []time.Duration{
		300 * time.Millisecond, 1500 * time.Millisecond, 30 * time.Second,
		time.Minute + 1500*time.Millisecond, 7*time.Minute + 30*time.Second,
	} {
		t.Run(into.String(), func(t *testing.T) {
			burstOpensIncident(t, servertest.Now().Truncate(15*time.Minute).Add(into))
		})
	}
}

func burstOpensIncident(t *testing.T, at time.Time) {
	clock := servertest.NewClock(at)
	opts := func(o *server.Options) { o.RunnerInterval = 20 * time.Millisecond; o.Now = clock.Now }
	env := servertest.Env(t)
	app := servertest.StartEnv(t, env, opts)
	app.CreateService(t, "chatgpt", "login", "app")

	burst(t, app, "chatgpt", 120, 0, "US")
	var v serviceView
	eventually(t, "an incident to open", func() bool { v = view(t, app, "chatgpt"); return v.Incident != nil })
	if v.Status != "outage" || v.Incident.Level != "outage" || v.Incident.Scope != "global" || v.Incident.Actual < 100 || !strings.Contains(v.Incident.Rule, "cold start") {
		t.Fatalf("after the burst: %+v %+v", v, *v.Incident)
	}
	id := v.Incident.ID
	if n := countRows(t, app.DBPath, "SELECT COUNT(*) FROM events WHERE type = 'incident.opened'"); n != 1 {
		t.Fatalf("%d incident.opened events, want 1", n)
	}
	if err := app.Stop(); err != nil {
		t.Fatal(err)
	}

	// Restart on the same database: the incident is still open, not opened again.
	app = servertest.StartEnv(t, env, opts)
	eventually(t, "the restored incident", func() bool { v = view(t, app, "chatgpt"); return v.Incident != nil })
	if v.Incident.ID != id {
		t.Fatalf("after restart the open incident is %d, want %d", v.Incident.ID, id)
	}
	app.WaitTicks(t, 3)
	if n := countRows(t, app.DBPath, "SELECT COUNT(*) FROM incidents"); n != 1 {
		t.Fatalf("%d incidents after restart, want 1", n)
	}
	if n := countRows(t, app.DBPath, "SELECT COUNT(*) FROM events WHERE type = 'incident.opened'"); n != 1 {
		t.Fatalf("%d incident.opened events after restart, want 1", n)
	}

	// Quiet for longer than the recovery span: resolved, once.
	for i := 0; i < 8; i++ {
		clock.Add(6 * time.Minute)
		app.WaitTicks(t, 2)
	}
	eventually(t, "the incident to resolve", func() bool { v = view(t, app, "chatgpt"); return v.Incident == nil })
	if v.Status != "ok" {
		t.Errorf("status after resolution %q", v.Status)
	}
	if n := countRows(t, app.DBPath, "SELECT COUNT(*) FROM incidents WHERE resolved_at IS NOT NULL"); n != 1 {
		t.Errorf("%d resolved incidents, want 1", n)
	}
	if n := countRows(t, app.DBPath, "SELECT COUNT(*) FROM events WHERE type = 'incident.resolved'"); n != 1 {
		t.Errorf("%d incident.resolved events, want 1", n)
	}
	var list struct {
		Items []struct {
			ID         uint64  `json:"id"`
			ResolvedAt *string `json:"resolved_at"`
		} `json:"items"`
	}
	app.Do(t, "GET", "/api/v1/services/chatgpt/incidents", nil).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != id || list.Items[0].ResolvedAt == nil {
		t.Errorf("incident list %+v", list)
	}
}

// An incident whose peak grew early is announced as updated once, ten
// minutes after subscribers last heard, even though the peak has held
// still since: growth is news when the rate limit allows, not only in the
// tick it happened.
func TestHeldPeakIsAnnouncedOnceAfterTheUpdateInterval(t *testing.T) {
	clock := servertest.NewClock(servertest.Now().Truncate(time.Minute).Add(20 * time.Second))
	app := servertest.Start(t, nil, func(o *server.Options) { o.RunnerInterval = 20 * time.Millisecond; o.Now = clock.Now })
	app.CreateService(t, "chatgpt", "login", "app")
	updated := func() int {
		return countRows(t, app.DBPath, "SELECT COUNT(*) FROM events WHERE type = 'incident.updated'")
	}

	burst(t, app, "chatgpt", 120, 0, "US")
	eventually(t, "an incident to open", func() bool { return view(t, app, "chatgpt").Incident != nil })
	clock.Add(time.Minute)
	burst(t, app, "chatgpt", 300, 1000, "US") // the peak grows well past 1.5x within a minute
	eventually(t, "the peak to grow", func() bool {
		inc := view(t, app, "chatgpt").Incident
		return inc != nil && inc.Actual >= 300
	})
	app.WaitTicks(t, 3)
	if n := updated(); n != 0 {
		t.Fatalf("%d incident.updated events within the first minutes; want none yet (rate limit)", n)
	}
	for i := 0; i < 10; i++ { // ten quiet minutes: the incident stays open, the peak holds
		clock.Add(time.Minute)
		app.WaitTicks(t, 2)
	}
	eventually(t, "incident.updated", func() bool { return updated() == 1 })
	app.WaitTicks(t, 5)
	if n := updated(); n != 1 {
		t.Errorf("%d incident.updated events; want exactly one", n)
	}
	if n := countRows(t, app.DBPath, "SELECT COUNT(*) FROM incidents WHERE resolved_at IS NULL"); n != 1 {
		t.Errorf("%d open incidents; want the one", n)
	}
}
