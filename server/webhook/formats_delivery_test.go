package webhook

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/testkit"
	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/webhook/webhooktest"
)

// Discord, Teams and ntfy subscriptions get their own bodies through the
// dispatcher, signed like every delivery; ntfy's goes to the server's root
// with the topic inside; each receiver's own success answer succeeds.
func TestFormatsDeliverThroughTheDispatcher(t *testing.T) {
	discord := webhooktest.NewReceiver(t, http.StatusNoContent)
	teams := webhooktest.NewReceiver(t, http.StatusAccepted)
	ntfy := webhooktest.NewReceiver(t, http.StatusOK)
	s := newService(t, openDB(t), nil)
	hooks := []struct {
		hook   models.Webhook
		rcv    *webhooktest.Receiver
		schema string
		path   string
	}{
		{subscribe(t, s, models.Webhook{URL: discord.URL + "/api/webhooks/1/tok", Format: models.FormatDiscord}), discord, "discord-execute-webhook.schema.json", "/api/webhooks/1/tok"},
		{subscribe(t, s, models.Webhook{URL: teams.URL + "/workflows/x/triggers/manual/paths/invoke?sig=s", Format: models.FormatTeams}), teams, "teams-workflows-adaptive-card.schema.json", "/workflows/x/triggers/manual/paths/invoke?sig=s"},
		{subscribe(t, s, models.Webhook{URL: ntfy.URL + "/outcry-alerts?auth=dGs", Format: models.FormatNtfy}), ntfy, "ntfy-publish-json.schema.json", "/?auth=dGs"},
	}
	run(t, s)
	ev := commit(t, s, models.EventIncidentOpened, "chatgpt")
	for _, h := range hooks {
		got := h.rcv.Wait(t, 1, 5*time.Second)[0]
		validate(t, receiverSchema(t, h.schema), h.hook.Format, got.Body)
		if got.Path != h.path || got.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: POST %s (%s); want %s", h.hook.Format, got.Path, got.Header.Get("Content-Type"), h.path)
		}
		if err := webhooktest.Verify(h.hook.Secret, got); err != nil || got.Header.Get("webhook-id") != ev.ID {
			t.Errorf("%s: signature %v, webhook-id %q", h.hook.Format, err, got.Header.Get("webhook-id"))
		}
		testkit.Eventually(t, 5*time.Second, h.hook.Format+" succeeded", func() bool {
			d, _ := delivery(t, s, ev.ID, h.hook.ID)
			return d.Status == models.DeliverySucceeded && d.Attempts == 1
		})
	}
	if body := string(ntfy.Requests()[0].Body); !strings.Contains(body, `"topic":"outcry-alerts"`) || !strings.Contains(body, `"click":"https://outcry.example/s/chatgpt"`) {
		t.Errorf("ntfy body %s", body)
	}
}

// A Discord webhook that answers 429 with retry_after (and no Retry-After
// header) gets exactly one more attempt, no sooner than it asked; then its
// 204 ends the delivery.
func TestDiscordRateLimitWaitsRetryAfter(t *testing.T) {
	rcv := webhooktest.NewScriptedReceiver(t,
		webhooktest.Answer{Status: http.StatusTooManyRequests, Header: http.Header{"Content-Type": {"application/json"}},
			Body: `{"message":"You are being rate limited.","retry_after":7.5,"global":false}`},
		webhooktest.Answer{Status: http.StatusNoContent})
	clk := testkit.NewClock(time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC))
	s := newService(t, openDB(t), func(o *Options) { o.Now = clk.Now }) // backoff 10 ms: the wait is the receiver's
	hook := subscribe(t, s, models.Webhook{URL: rcv.URL + "/api/webhooks/1/tok", Format: models.FormatDiscord})
	run(t, s)
	ev := commit(t, s, models.EventIncidentOpened, "chatgpt")
	var d models.Delivery
	testkit.Eventually(t, 5*time.Second, "the first attempt recorded", func() bool {
		d, _ = delivery(t, s, ev.ID, hook.ID)
		return d.Attempts == 1
	})
	first := d.Log[0]
	if first.StatusCode != 429 || first.Outcome != models.OutcomeRetry || first.NextRetryAt == nil ||
		!first.NextRetryAt.Equal(first.At.Add(7500*time.Millisecond)) {
		t.Fatalf("first attempt %+v; want a retry 7.5 s later", first)
	}
	clk.Add(7 * time.Second) // not yet due
	s.Notify()
	clk.Add(600 * time.Millisecond)
	s.Notify()
	rcv.Wait(t, 2, 5*time.Second)
	testkit.Eventually(t, 5*time.Second, "the delivery to succeed", func() bool {
		d, _ = delivery(t, s, ev.ID, hook.ID)
		return d.Status == models.DeliverySucceeded
	})
	if n := len(rcv.Requests()); n != 2 || d.Attempts != 2 || d.Log[1].At.Sub(first.At) < 7500*time.Millisecond {
		t.Errorf("%d requests, %d attempts, second %s after the first; want 2, 2, ≥ 7.5 s", n, d.Attempts, d.Log[1].At.Sub(first.At))
	}
}

// A 2xx that is not the format's success answer (a Discord URL answering
// 200 OK without ?wait=true: not Discord) fails at once, saying why.
func TestUnexpectedSuccessAnswerFails(t *testing.T) {
	rcv := webhooktest.NewReceiver(t, http.StatusOK)
	s := newService(t, openDB(t), nil)
	hook := subscribe(t, s, models.Webhook{URL: rcv.URL, Format: models.FormatDiscord})
	run(t, s)
	ev := commit(t, s, models.EventIncidentOpened, "chatgpt")
	var d models.Delivery
	testkit.Eventually(t, 5*time.Second, "the delivery to fail", func() bool {
		d, _ = delivery(t, s, ev.ID, hook.ID)
		return d.Status == models.DeliveryFailed
	})
	if d.Attempts != 1 || !strings.Contains(d.LastError, "answers 204 No Content") || len(rcv.Requests()) != 1 {
		t.Errorf("%d attempts, error %q, %d requests; want 1 attempt saying what Discord answers", d.Attempts, d.LastError, len(rcv.Requests()))
	}
}
