package webhook

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/testkit"
	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/webhook/webhooktest"
)

func TestSlackBody(t *testing.T) {
	inc := testIncident()
	svc := testService("chatgpt")
	svc.Name = "Chat <GPT>"
	resolvedAt := inc.StartedAt.Add(45 * time.Minute)
	for _, c := range []struct {
		typ  string
		inc  models.Incident
		want []string
	}{
		{models.EventIncidentOpened, inc, []string{":red_circle: Outage at <https://outcry.example/s/chatgpt|Chat &lt;GPT&gt;> since 14:02 UTC", "340 reports vs 12 expected (28.3×)", "login 62%", "US 35%"}},
		{models.EventIncidentUpdated, inc, []string{"Update: outage"}},
		{models.EventIncidentResolved, func() models.Incident { i := inc; i.ResolvedAt = &resolvedAt; return i }(), []string{":white_check_mark: Resolved", "back to normal after 45m0s"}},
	} {
		ev, err := models.NewIncidentEvent(c.typ, svc, c.inc, "https://outcry.example", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		b, err := slackBody(&ev)
		if err != nil {
			t.Fatal(err)
		}
		var msg slackMessage
		if err := json.Unmarshal(b, &msg); err != nil || msg.Text == "" || len(msg.Blocks) == 0 {
			t.Fatalf("%s: %s (%v)", c.typ, b, err)
		}
		for _, w := range c.want {
			if !strings.Contains(string(b), w) && !strings.Contains(msg.Text, w) {
				t.Errorf("%s: %s lacks %q", c.typ, b, w)
			}
		}
	}
	ping, _ := models.NewPingEvent("wh_x", time.Now())
	if b, err := slackBody(&ping); err != nil || !strings.Contains(string(b), "test message") {
		t.Errorf("ping: %s %v", b, err)
	}
}

// A "slack" subscription gets the Slack body, signed like any other, and
// the test endpoint's ping reaches only the subscription it was sent for.
func TestSlackSubscriptionAndPing(t *testing.T) {
	slack, plain := webhooktest.NewReceiver(t), webhooktest.NewReceiver(t)
	s := newService(t, openDB(t), nil)
	sh := subscribe(t, s, models.Webhook{URL: slack.URL, Format: "slack"})
	subscribe(t, s, models.Webhook{URL: plain.URL})
	run(t, s)
	commit(t, s, models.EventIncidentOpened, "chatgpt")
	testkit.Eventually(t, 5*time.Second, "both deliveries", func() bool { return len(slack.Requests()) == 1 && len(plain.Requests()) == 1 })
	got := slack.Requests()[0]
	if !strings.HasPrefix(string(got.Body), `{"text":`) {
		t.Errorf("slack body %s", got.Body)
	}
	if err := webhooktest.Verify(sh.Secret, got); err != nil {
		t.Errorf("slack delivery signature: %v", err)
	}
	ping, err := s.SendTest(t.Context(), sh.ID)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, "the ping", func() bool { return len(slack.Requests()) == 2 })
	if id := slack.Requests()[1].Header.Get("webhook-id"); id != ping.ID {
		t.Errorf("ping id %q; want %q", id, ping.ID)
	}
	if len(plain.Requests()) != 1 {
		t.Errorf("the other subscription got the ping")
	}
}
