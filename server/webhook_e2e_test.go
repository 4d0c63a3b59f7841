package server_test

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/server"
	"github.com/outcry/outcry/server/servertest"
	"github.com/outcry/outcry/server/webhook/webhooktest"
)

// The whole app: subscribe a loopback receiver (OUTCRY_WEBHOOK_ALLOW_PRIVATE
// is on in servertest), send a test ping, receive it signed, see it in the
// delivery log; a literal private address is refused once that is off.
func TestWebhooksEndToEnd(t *testing.T) {
	rcv := webhooktest.NewReceiver(t)
	app := servertest.Start(t, nil)
	app.CreateService(t, "acme")

	r := app.Admin(t, "POST", "/api/v1/webhooks", map[string]any{"url": rcv.URL + "/hook", "services": []string{"acme"}})
	if r.Status != http.StatusCreated {
		t.Fatalf("subscribe: %d %s", r.Status, r.Body)
	}
	var created struct{ ID, Secret string }
	r.JSON(t, &created)
	if r = app.Admin(t, "POST", "/api/v1/webhooks", map[string]any{"url": rcv.URL, "services": []string{"nope"}}); r.Status != 422 {
		t.Errorf("unknown service: %d %s; want 422", r.Status, r.Body)
	}
	if r = app.Admin(t, "GET", "/api/v1/webhooks", nil); r.Status != 200 || strings.Contains(string(r.Body), created.Secret) {
		t.Errorf("list: %d %s", r.Status, r.Body)
	}
	if r = app.Do(t, "GET", "/api/v1/webhooks", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("list without the admin token: %d; want 401", r.Status)
	}

	ping := sendPing(t, app, created.ID)
	got := rcv.Wait(t, 1, 5*time.Second)[0]
	if err := webhooktest.Verify(created.Secret, got); err != nil || got.Header.Get("webhook-id") != ping {
		t.Errorf("ping %s: signature %v, id %q; want %s", got.Body, err, got.Header.Get("webhook-id"), ping)
	}
	waitDelivery(t, app, created.ID, func(d delivery) bool { return d.Status == "succeeded" })

	strict := servertest.Start(t, func(env map[string]string) { env["OUTCRY_WEBHOOK_ALLOW_PRIVATE"] = "false" })
	if r = strict.Admin(t, "POST", "/api/v1/webhooks", map[string]any{"url": "http://169.254.169.254/latest/meta-data/"}); r.Status != 422 {
		t.Errorf("metadata address without ALLOW_PRIVATE: %d %s; want 422", r.Status, r.Body)
	}
}

// A burst of reports opens an incident; the subscribed receiver gets one
// signed incident.opened whose payload describes it, and, once reports have
// been quiet for longer than the recovery span, one signed incident.resolved
// for the same incident.
func TestIncidentReachesWebhookEndToEnd(t *testing.T) {
	rcv := webhooktest.NewReceiver(t)
	clock := servertest.NewClock(servertest.Now())
	app := servertest.Start(t, nil, func(o *server.Options) { o.RunnerInterval = 20 * time.Millisecond; o.Now = clock.Now })
	app.CreateService(t, "chatgpt", "login", "app")
	r := app.Admin(t, "POST", "/api/v1/webhooks", map[string]any{"url": rcv.URL, "services": []string{"chatgpt"}})
	if r.Status != http.StatusCreated {
		t.Fatalf("subscribe: %d %s", r.Status, r.Body)
	}
	var created struct{ ID, Secret string }
	r.JSON(t, &created)

	type event struct {
		Version, Type, ID string
		Data              struct {
			Incident struct {
				ID         uint64
				Service    struct{ Slug string }
				Scope      string
				Level      string
				StatusURL  string  `json:"status_url"`
				ResolvedAt *string `json:"resolved_at"`
				Actual     float64
				Expected   float64
			}
		}
	}
	decode := func(req webhooktest.Request) event {
		t.Helper()
		if err := webhooktest.Verify(created.Secret, req); err != nil {
			t.Errorf("signature of %s: %v", req.Body, err)
		}
		var ev event
		if err := json.Unmarshal(req.Body, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.ID != req.Header.Get("webhook-id") {
			t.Errorf("event id %q, webhook-id header %q", ev.ID, req.Header.Get("webhook-id"))
		}
		return ev
	}

	burst(t, app, "chatgpt", 120, 0, "US")
	opened := decode(rcv.Wait(t, 1, 10*time.Second)[0])
	inc := opened.Data.Incident
	if opened.Version != "2026-11-01" || opened.Type != "incident.opened" || inc.Service.Slug != "chatgpt" || inc.Scope != "global" ||
		inc.Level != "outage" || inc.Actual < 100 || inc.ResolvedAt != nil || !strings.HasSuffix(inc.StatusURL, "/s/chatgpt") {
		t.Errorf("opened payload %+v", opened)
	}

	for i := 0; i < 8; i++ { // 48 quiet minutes: the recovery test holds for its span
		clock.Add(6 * time.Minute)
		app.WaitTicks(t, 2)
	}
	got := rcv.Wait(t, 2, 10*time.Second)
	resolved := decode(got[len(got)-1])
	if resolved.Type != "incident.resolved" || resolved.Data.Incident.ID != inc.ID || resolved.Data.Incident.ResolvedAt == nil || resolved.ID == opened.ID {
		t.Errorf("resolved payload %+v; want incident.resolved for %d", resolved, inc.ID)
	}
	// Two more ticks would have written any wrong extra event; once nothing
	// is pending and the app has stopped (waiting for attempts in flight),
	// the receiver has had everything it will get.
	app.WaitTicks(t, 2)
	eventually(t, "no pending delivery", func() bool {
		var log struct{ Items []delivery }
		app.Admin(t, "GET", "/api/v1/webhooks/"+created.ID+"/deliveries", nil).JSON(t, &log)
		for _, d := range log.Items {
			if d.Status == "pending" {
				return false
			}
		}
		return true
	})
	if err := app.Stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(rcv.Requests()); n != 2 {
		t.Errorf("the receiver got %d requests; want exactly opened and resolved", n)
	}
}

// A receiver that is down while the app restarts still gets the event, once,
// after the restart: the delivery waits in the database, not in memory.
func TestWebhookSurvivesRestartWhileReceiverIsDown(t *testing.T) {
	// Reserve a loopback port and leave it closed: the receiver is down.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	clock := servertest.NewClock(servertest.Now())
	opts := func(o *server.Options) { o.Now = clock.Now }
	env := servertest.Env(t)
	app := servertest.StartEnv(t, env, opts)
	app.CreateService(t, "acme")
	r := app.Admin(t, "POST", "/api/v1/webhooks", map[string]any{"url": "http://" + addr + "/hook", "services": []string{"acme"}})
	if r.Status != http.StatusCreated {
		t.Fatalf("subscribe: %d %s", r.Status, r.Body)
	}
	var created struct{ ID, Secret string }
	r.JSON(t, &created)
	ping := sendPing(t, app, created.ID)

	type delivery struct {
		Status   string `json:"status"`
		Attempts int    `json:"attempts"`
	}
	deliveries := func(app *servertest.App) []delivery {
		var log struct{ Items []delivery }
		app.Admin(t, "GET", "/api/v1/webhooks/"+created.ID+"/deliveries", nil).JSON(t, &log)
		return log.Items
	}
	eventually(t, "a failed first attempt", func() bool {
		d := deliveries(app)
		return len(d) == 1 && d[0].Status == "pending" && d[0].Attempts >= 1
	})
	if err := app.Stop(); err != nil {
		t.Fatal(err)
	}

	// The receiver comes up while the app is down; the app restarts on the
	// same database and, once the retry is due, delivers the same event.
	rl, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the reserved port %s was taken meanwhile: %v", addr, err)
	}
	rcv := webhooktest.NewReceiverOn(t, rl)
	app = servertest.StartEnv(t, env, opts)
	clock.Add(time.Minute) // past the first retry's backoff
	got := rcv.Wait(t, 1, 10*time.Second)
	if err := webhooktest.Verify(created.Secret, got[0]); err != nil || got[0].Header.Get("webhook-id") != ping {
		t.Errorf("after restart: signature %v, id %q; want %s", err, got[0].Header.Get("webhook-id"), ping)
	}
	eventually(t, "the delivery to succeed", func() bool {
		d := deliveries(app)
		return len(d) == 1 && d[0].Status == "succeeded"
	})
	if err := app.Stop(); err != nil { // waits for attempts in flight: nothing more can arrive
		t.Fatal(err)
	}
	if n := len(rcv.Requests()); n != 1 {
		t.Errorf("the receiver got %d requests; want the event exactly once", n)
	}
}

// sendPing asks for a test ping to subscription id and returns its event id.
func sendPing(t *testing.T, app *servertest.App, id string) string {
	t.Helper()
	r := app.Admin(t, "POST", "/api/v1/webhooks/"+id+"/test", nil)
	if r.Status != http.StatusAccepted {
		t.Fatalf("test: %d %s", r.Status, r.Body)
	}
	var ping struct {
		EventID string `json:"event_id"`
	}
	r.JSON(t, &ping)
	return ping.EventID
}
