package server_test

import (
	"encoding/json"
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

	r = app.Admin(t, "POST", "/api/v1/webhooks/"+created.ID+"/test", nil)
	if r.Status != http.StatusAccepted {
		t.Fatalf("test: %d %s", r.Status, r.Body)
	}
	var ping struct {
		EventID string `json:"event_id"`
	}
	r.JSON(t, &ping)
	got := rcv.Wait(t, 1, 5*time.Second)[0]
	if err := webhooktest.Verify(created.Secret, got); err != nil || got.Header.Get("webhook-id") != ping.EventID {
		t.Errorf("ping %s: signature %v, id %q; want %s", got.Body, err, got.Header.Get("webhook-id"), ping.EventID)
	}
	deadline := time.Now().Add(5 * time.Second)
	var log struct {
		Items []struct {
			EventID string `json:"event_id"`
			Status  string `json:"status"`
		} `json:"items"`
	}
	for {
		app.Admin(t, "GET", "/api/v1/webhooks/"+created.ID+"/deliveries", nil).JSON(t, &log)
		if len(log.Items) == 1 && log.Items[0].Status == "succeeded" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery log %+v; want one succeeded delivery", log)
		}
		time.Sleep(10 * time.Millisecond)
	}

	strict := servertest.Start(t, func(env map[string]string) { env["OUTCRY_WEBHOOK_ALLOW_PRIVATE"] = "false" })
	if r = strict.Admin(t, "POST", "/api/v1/webhooks", map[string]any{"url": "http://169.254.169.254/latest/meta-data/"}); r.Status != 422 {
		t.Errorf("metadata address without ALLOW_PRIVATE: %d %s; want 422", r.Status, r.Body)
	}
}

// A burst of reports opens an incident; the subscribed receiver gets one
// signed incident.opened whose payload describes it.
func TestIncidentReachesWebhookEndToEnd(t *testing.T) {
	rcv := webhooktest.NewReceiver(t)
	app := servertest.Start(t, nil, func(o *server.Options) { o.RunnerInterval = 20 * time.Millisecond })
	app.CreateService(t, "chatgpt", "login", "app")
	r := app.Admin(t, "POST", "/api/v1/webhooks", map[string]any{"url": rcv.URL, "services": []string{"chatgpt"}, "events": []string{"incident.opened"}})
	if r.Status != http.StatusCreated {
		t.Fatalf("subscribe: %d %s", r.Status, r.Body)
	}
	var created struct{ Secret string }
	r.JSON(t, &created)

	burst(t, app, "chatgpt", 120, 0, "US")
	got := rcv.Wait(t, 1, 10*time.Second)[0]
	if err := webhooktest.Verify(created.Secret, got); err != nil {
		t.Errorf("signature: %v", err)
	}
	var ev struct {
		Version, Type, ID string
		Data              struct {
			Incident struct {
				Service   struct{ Slug string }
				Level     string
				StatusURL string `json:"status_url"`
				Actual    float64
			}
		}
	}
	if err := json.Unmarshal(got.Body, &ev); err != nil {
		t.Fatal(err)
	}
	inc := ev.Data.Incident
	if ev.Version != "2026-11-01" || ev.Type != "incident.opened" || ev.ID != got.Header.Get("webhook-id") ||
		inc.Service.Slug != "chatgpt" || inc.Level != "outage" || inc.Actual < 100 || !strings.HasSuffix(inc.StatusURL, "/s/chatgpt") {
		t.Errorf("payload %s", got.Body)
	}
}
