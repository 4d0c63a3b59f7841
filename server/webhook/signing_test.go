package webhook

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/outcry/outcry/internal/testkit"
	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/webhook/webhooktest"
)

// The example published with the Standard Webhooks specification.
func TestSignSpecVector(t *testing.T) {
	h := http.Header{}
	err := sign(h, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`),
		[]string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Get("webhook-signature"), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("signature %q; want %q", got, want)
	}
	if h.Get("webhook-id") != "msg_p5jXN8AQM9LWM0D4loKWxJek" || h.Get("webhook-timestamp") != "1614265330" {
		t.Errorf("headers %v", h)
	}
}

// (g) After a rotation deliveries carry two signatures, each verifiable
// with its own secret, for 24 hours; then only the new one.
func TestRotationSignsWithBothSecretsFor24Hours(t *testing.T) {
	rcv := webhooktest.NewReceiver(t)
	clk := testkit.NewClock(time.Now().UTC())
	s := newService(t, openDB(t), func(o *Options) { o.Now = clk.Now })
	hook := subscribe(t, s, models.Webhook{URL: rcv.URL})
	oldSecret := hook.Secret
	rotated, err := s.RotateSecret(context.Background(), hook.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Secret == oldSecret || !strings.HasPrefix(rotated.Secret, models.SecretPrefix) {
		t.Fatalf("new secret %q", rotated.Secret)
	}
	run(t, s)

	verify := func(r webhooktest.Request, secret string) error {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		return wh.VerifyIgnoringTimestamp(r.Body, r.Header) // the clock is moved below
	}
	commit(t, s, models.EventIncidentOpened, "chatgpt")
	testkit.Eventually(t, 5*time.Second, "the first delivery", func() bool { return len(rcv.Requests()) == 1 })
	first := rcv.Requests()[0]
	if n := len(strings.Fields(first.Header.Get("webhook-signature"))); n != 2 {
		t.Fatalf("%d signatures during the rotation; want 2", n)
	}
	if verify(first, rotated.Secret) != nil || verify(first, oldSecret) != nil {
		t.Errorf("during the rotation both secrets must verify")
	}

	clk.Add(models.RotationOverlap + time.Minute)
	commit(t, s, models.EventIncidentResolved, "chatgpt")
	testkit.Eventually(t, 5*time.Second, "the second delivery", func() bool { return len(rcv.Requests()) == 2 })
	second := rcv.Requests()[1]
	if n := len(strings.Fields(second.Header.Get("webhook-signature"))); n != 1 {
		t.Errorf("%d signatures after the overlap; want 1", n)
	}
	if verify(second, rotated.Secret) != nil || verify(second, oldSecret) == nil {
		t.Errorf("after 24 h only the new secret verifies")
	}
}
