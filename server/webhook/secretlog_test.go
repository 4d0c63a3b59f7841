package webhook

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/testkit"
	"github.com/outcry/outcry/models"
)

// syncBuffer is a bytes.Buffer safe for the workers' concurrent logging.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A webhook URL can be the secret (Slack's incoming webhooks are): a failed
// attempt logs the subscription's id, scheme and host, never the path or
// query, and the delivery log stores the error without the URL.
func TestFailedAttemptNeverShowsTheURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := ln.Addr().String()
	_ = ln.Close() // nobody listens there now: connection refused
	var logs syncBuffer
	s := newService(t, openDB(t), func(o *Options) {
		o.Log = slog.New(slog.NewJSONHandler(&logs, nil))
		o.Backoff = func(int) time.Duration { return time.Hour }
	})
	const secret = "T000/B000/SECRETTOKENxyz"
	hook := subscribe(t, s, models.Webhook{URL: "http://" + host + "/services/" + secret + "?token=QUERYSECRET"})
	run(t, s)
	ev := commit(t, s, models.EventIncidentOpened, "chatgpt")
	var d models.Delivery
	testkit.Eventually(t, 5*time.Second, "a failed attempt", func() bool {
		d, _ = delivery(t, s, ev.ID, hook.ID)
		return d.Attempts >= 1
	})
	out := logs.String()
	for _, leak := range []string{"SECRETTOKEN", "QUERYSECRET", "/services/"} {
		if strings.Contains(out, leak) || strings.Contains(d.LastError, leak) || strings.Contains(d.Log[0].Error, leak) {
			t.Errorf("%q leaked: log %s; stored %q / %q", leak, out, d.LastError, d.Log[0].Error)
		}
	}
	for _, want := range []string{`"webhook":"` + hook.ID + `"`, `"scheme":"http"`, `"host":"` + host + `"`, "connection refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s: %s", want, out)
		}
	}
	if !strings.Contains(d.LastError, "connection refused") {
		t.Errorf("stored error %q does not say what happened", d.LastError)
	}
}
