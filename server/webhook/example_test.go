package webhook_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// outcryEvent is the part of the payload this receiver reads
// (docs/webhooks.md has the whole contract).
type outcryEvent struct {
	Version string `json:"version"`
	Type    string `json:"type"`
	ID      string `json:"id"`
	Data    struct {
		Incident *struct {
			Service   struct{ Slug, Name string } `json:"service"`
			Level     string                      `json:"level"`
			StatusURL string                      `json:"status_url"`
		} `json:"incident"`
	} `json:"data"`
}

// receiver verifies the signature before it trusts a byte of the body, and
// answers 2xx quickly (do slow work after answering).
func receiver(secret string, handle func(outcryEvent)) http.HandlerFunc {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		panic(err)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		// Checks webhook-signature over "webhook-id.webhook-timestamp.body"
		// and refuses timestamps more than 5 minutes away (replays).
		if err := wh.Verify(body, r.Header); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var ev outcryEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		handle(ev) // deduplicate on ev.ID (= webhook-id): a retry repeats it
		w.WriteHeader(http.StatusNoContent)
	}
}

// Example_receiver shows a receiver verifying Outcry's signature with the
// Standard Webhooks library (docs/webhooks.md).
func Example_receiver() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // from POST /api/v1/webhooks
	srv := httptest.NewServer(receiver(secret, func(ev outcryEvent) {
		inc := ev.Data.Incident
		fmt.Println(ev.Type, inc.Service.Slug, inc.Level, inc.StatusURL)
	}))
	defer srv.Close()

	// What Outcry sends (normally over the network, signed by the dispatcher).
	body := `{"version":"2026-11-01","type":"incident.opened","id":"evt_01JB0000000000000000000000",` +
		`"data":{"incident":{"service":{"slug":"chatgpt","name":"ChatGPT"},"level":"outage","status_url":"https://outcry.example/s/chatgpt"}}}`
	id, now := "evt_01JB0000000000000000000000", time.Now()
	wh, _ := standardwebhooks.NewWebhook(secret)
	sig, _ := wh.Sign(id, now, []byte(body))
	for _, signature := range []string{sig, "v1,Zm9yZ2VkIHNpZ25hdHVyZQ=="} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("webhook-signature", signature)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	// Output:
	// incident.opened chatgpt outage https://outcry.example/s/chatgpt
	// 204
	// 401
}
