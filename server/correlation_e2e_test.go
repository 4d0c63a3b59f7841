package server_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/outcry/outcry/server"
	"github.com/outcry/outcry/server/servertest"
	"github.com/outcry/outcry/server/webhook/webhooktest"
)

// TestCorrelatedIncidentsThroughTheDetector: bursts at three services
// open three incidents in three ticks; the second forms a group with the
// first (whose status then carries it too) and the third joins it. The
// group survives a restart, and a fourth service's incident, opened past
// the window, is in no group. The incident.opened webhooks a real receiver
// gets carry the group each incident was in when it opened.
func TestCorrelatedIncidentsThroughTheDetector(t *testing.T) {
	clock := servertest.NewClock(servertest.Now().Truncate(15 * time.Minute).Add(7 * time.Minute))
	opts := func(o *server.Options) { o.RunnerInterval = 20 * time.Millisecond; o.Now = clock.Now }
	env := servertest.Env(t)
	app := servertest.StartEnv(t, env, opts)
	slugs := []string{"alpha", "bravo", "charlie", "delta"}
	for _, s := range slugs {
		app.CreateService(t, s)
	}
	rcv := webhooktest.NewReceiver(t)
	if r := app.Admin(t, "POST", "/api/v1/webhooks", map[string]any{"url": rcv.URL + "/hook"}); r.Status != http.StatusCreated {
		t.Fatalf("subscribe: %d %s", r.Status, r.Body)
	}
	open := func(slug string, offset int) uint64 {
		t.Helper()
		burst(t, app, slug, 120, offset, "US")
		var v serviceView
		eventually(t, slug+"'s incident to open", func() bool { v = view(t, app, slug); return v.Incident != nil })
		return v.Incident.ID
	}
	corr := func(slug string) uint64 {
		t.Helper()
		var v struct {
			Incident *struct {
				Correlation *uint64 `json:"correlation"`
			} `json:"incident"`
		}
		app.Do(t, "GET", "/api/v1/services/"+slug, nil).JSON(t, &v)
		if v.Incident == nil {
			t.Fatalf("%s has no open incident", slug)
		}
		if v.Incident.Correlation == nil {
			return 0
		}
		return *v.Incident.Correlation
	}

	first := open("alpha", 0)
	if g := corr("alpha"); g != 0 {
		t.Fatalf("a lone incident is in group %d", g)
	}
	clock.Add(3 * time.Minute)
	open("bravo", 1000)
	clock.Add(3 * time.Minute)
	open("charlie", 2000)
	app.WaitTicks(t, 2)
	for _, s := range slugs[:3] {
		if g := corr(s); g != first {
			t.Errorf("%s is in group %d, want %d (the first incident's)", s, g, first)
		}
	}

	// What subscribers heard: alpha opened alone (null), bravo formed the
	// group with it and charlie joined it.
	opened := map[string]any{}
	eventually(t, "three incident.opened deliveries", func() bool {
		for _, req := range rcv.Requests() {
			var ev struct {
				Type string `json:"type"`
				Data struct {
					Incident struct {
						Service     struct{ Slug string } `json:"service"`
						Correlation any                   `json:"correlation"`
					} `json:"incident"`
				} `json:"data"`
			}
			if json.Unmarshal(req.Body, &ev) == nil && ev.Type == "incident.opened" {
				opened[ev.Data.Incident.Service.Slug] = ev.Data.Incident.Correlation
			}
		}
		return len(opened) == 3
	})
	if want := map[string]any{"alpha": nil, "bravo": float64(first), "charlie": float64(first)}; !reflect.DeepEqual(opened, want) {
		t.Errorf("incident.opened correlations %v, want %v", opened, want)
	}

	if err := app.Stop(); err != nil {
		t.Fatal(err)
	}
	app = servertest.StartEnv(t, env, opts)
	eventually(t, "the restored incidents", func() bool { return view(t, app, "charlie").Incident != nil })
	for _, s := range slugs[:3] {
		if g := corr(s); g != first {
			t.Errorf("after a restart %s is in group %d, want %d", s, g, first)
		}
	}
	var page incidentPage
	app.Do(t, "GET", "/api/v1/incidents?correlation="+utoa(first), nil).JSON(t, &page)
	if len(page.Items) != 3 {
		t.Errorf("the group lists %d incidents, want 3: %+v", len(page.Items), page.Items)
	}

	clock.Add(5 * time.Minute) // 11 minutes after the group's start
	open("delta", 3000)
	if g := corr("delta"); g != 0 {
		t.Errorf("an incident 11 minutes after the group's start is in group %d", g)
	}
}
