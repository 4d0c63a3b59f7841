package main

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"os"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

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

func main() {
	wh, err := standardwebhooks.NewWebhook(os.Getenv("OUTCRY_WEBHOOK_SECRET")) // whsec_…
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("POST /hooks/outcry", func(w http.ResponseWriter, r *http.Request) {
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
		if inc := ev.Data.Incident; inc != nil { // deduplicate on ev.ID: a retry repeats it
			log.Printf("%s %s: %s (%s)", ev.Type, inc.Service.Slug, inc.Level, inc.StatusURL)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = ":9000"
	}
	log.Fatal(http.ListenAndServe(addr, nil))
}
