package server_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/outcry/outcry/server"
	"github.com/outcry/outcry/server/servertest"
	"github.com/outcry/outcry/server/webhook/webhooktest"
)

// The whole app: subscriptions in the discord, teams and ntfy formats made
// through the admin API; a burst of reports opens an incident; each
// loopback receiver gets its own body (valid against the receiver's
// documented format, linking the status page under OUTCRY_PUBLIC_URL), and
// the delivery log says succeeded. A Discord receiver that answers 429
// with retry_after 7.5 gets exactly one more attempt, 7.5 s later on the
// app's clock, and its 204 ends it.
func TestAlertFormatsEndToEnd(t *testing.T) {
	discord := webhooktest.NewReceiver(t, http.StatusNoContent)
	teams := webhooktest.NewReceiver(t, http.StatusAccepted)
	ntfy := webhooktest.NewReceiver(t, http.StatusOK)
	limited := webhooktest.NewScriptedReceiver(t,
		webhooktest.Answer{Status: http.StatusTooManyRequests, Header: http.Header{"Content-Type": {"application/json"}},
			Body: `{"message":"You are being rate limited.","retry_after":7.5,"global":false}`},
		webhooktest.Answer{Status: http.StatusNoContent})
	clock := servertest.NewClock(servertest.Now())
	app := servertest.Start(t, func(env map[string]string) { env["OUTCRY_PUBLIC_URL"] = "https://status.example.org" },
		func(o *server.Options) { o.RunnerInterval = 20 * time.Millisecond; o.Now = clock.Now })
	app.CreateService(t, "chatgpt", "login", "app")

	subscribe := func(url, format string) string {
		t.Helper()
		r := app.Admin(t, "POST", "/api/v1/webhooks", map[string]any{"url": url, "services": []string{"chatgpt"}, "format": format})
		var created struct{ ID, Format string }
		r.JSON(t, &created)
		if r.Status != http.StatusCreated || created.Format != format {
			t.Fatalf("subscribe %s: %d %s", format, r.Status, r.Body)
		}
		return created.ID
	}
	subs := []struct {
		id, format, schema, path string
		rcv                      *webhooktest.Receiver
	}{
		{subscribe(discord.URL+"/api/webhooks/1/tok", "discord"), "discord", "discord-execute-webhook.schema.json", "/api/webhooks/1/tok", discord},
		{subscribe(teams.URL+"/workflows/1/triggers/manual/paths/invoke?sig=x", "teams"), "teams", "teams-workflows-adaptive-card.schema.json", "/workflows/1/triggers/manual/paths/invoke?sig=x", teams},
		{subscribe(ntfy.URL+"/outcry-ops", "ntfy"), "ntfy", "ntfy-publish-json.schema.json", "/", ntfy},
	}
	limitedID := subscribe(limited.URL+"/api/webhooks/2/tok", "discord")

	burst(t, app, "chatgpt", 120, 0, "US")
	const statusURL = "https://status.example.org/s/chatgpt"
	for _, s := range subs {
		got := s.rcv.Wait(t, 1, 10*time.Second)[0]
		checkReceiverFormat(t, s.format, s.schema, got.Body)
		if got.Path != s.path || !bytes.Contains(got.Body, []byte(statusURL)) {
			t.Errorf("%s: POST %s with %s; want %s and a link to %s", s.format, got.Path, got.Body, s.path, statusURL)
		}
		waitDelivery(t, app, s.id, func(d delivery) bool { return d.Status == "succeeded" && d.Attempts == 1 })
	}
	if b := string(ntfy.Requests()[0].Body); !strings.Contains(b, `"topic":"outcry-ops"`) || !strings.Contains(b, `"priority":4`) {
		t.Errorf("ntfy body %s", b)
	}

	// The rate-limited receiver: one attempt, a retry 7.5 s later.
	var d delivery
	waitDelivery(t, app, limitedID, func(x delivery) bool { d = x; return x.Attempts == 1 && len(x.Log) == 1 })
	first := d.Log[0]
	if first.StatusCode != 429 || first.NextRetryAt == nil || !first.NextRetryAt.Equal(first.At.Add(7500*time.Millisecond)) {
		t.Fatalf("after the 429: %+v; want a retry 7.5 s later", first)
	}
	clock.Add(8 * time.Second)
	limited.Wait(t, 2, 10*time.Second)
	waitDelivery(t, app, limitedID, func(x delivery) bool { d = x; return x.Status == "succeeded" })
	if n := len(limited.Requests()); n != 2 || d.Attempts != 2 || d.Log[1].StatusCode != 204 || d.Log[1].At.Sub(first.At) < 7500*time.Millisecond {
		t.Errorf("%d requests, delivery %+v; want exactly one more attempt, at least 7.5 s later, answered 204", n, d)
	}
}

// delivery is a row of GET /api/v1/webhooks/{id}/deliveries.
type delivery struct {
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
	Log      []struct {
		At          time.Time  `json:"at"`
		StatusCode  int        `json:"status_code"`
		NextRetryAt *time.Time `json:"next_retry_at"`
	} `json:"attempt_log"`
}

// waitDelivery waits until the subscription's one delivery satisfies ok.
func waitDelivery(t *testing.T, app *servertest.App, id string, ok func(delivery) bool) {
	t.Helper()
	eventually(t, "the delivery log of "+id, func() bool {
		var log struct{ Items []delivery }
		app.Admin(t, "GET", "/api/v1/webhooks/"+id+"/deliveries", nil).JSON(t, &log)
		return len(log.Items) == 1 && ok(log.Items[0])
	})
}

// checkReceiverFormat validates a body against the receiver's schema in
// server/webhook/testdata/formats.
func checkReceiverFormat(t *testing.T, what, file string, body []byte) {
	t.Helper()
	s := webhooktest.ReceiverSchema(t, file)
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %s is not JSON", what, body)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("%s: the body does not match the receiver's format: %v\n%s", what, err, body)
	}
}
